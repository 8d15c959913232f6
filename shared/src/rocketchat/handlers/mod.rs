//! What each Rocket.Chat endpoint does, as typed results; [`super::wire`] turns them into
//! wire shapes.

pub mod account;
pub mod admin;
pub mod login;
pub mod preferences;
pub mod sessions;
pub mod users;

pub use super::errors::ApiError;
use crate::core::history::{EndedSession, Ending};
use crate::core::model::{Session, User};

/// One page of a session list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionPage {
    pub sessions: Vec<Session>,
    /// The caller's own session, for the `current` flag (own lists only).
    pub current_session: Option<String>,
    /// Whether rows carry `_user` (administrator lists).
    pub show_user: bool,
    /// Whether rows carry `lastActivityAt`: own lists do; list.all's rows come from the
    /// packed row of the order indexes, which leaves activity out (docs/storage.md).
    pub show_activity: bool,
    pub total: usize,
    pub count: usize,
    pub offset: usize,
}

/// One session, as info and info.admin return it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionInfo {
    pub session: Session,
    pub show_user: bool,
    /// Set when info.admin answers an ended session from its history record
    /// (`logoutAt`, `logoutBy`).
    pub ended: Option<Ending>,
}

/// What info.admin found: a live session, or an ended one's history record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AdminInfo {
    Session(SessionInfo),
    /// An ended session whose record does not hold its details yet (an end by id, before
    /// the table's stream added them): ids and the end only.
    EndedOnly(EndedSession),
}

/// A session that was just ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionEnded {
    pub session_id: String,
}

/// Every successful Rocket.Chat-dialect result.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reply {
    Page(SessionPage),
    Info(Box<SessionInfo>),
    Ended(SessionEnded),
    LoggedIn(Box<login::LoggedIn>),
    LoggedOut,
    /// users.logoutOtherClients: the caller's token and its expiry.
    OtherClientsLoggedOut(account::OtherClientsLoggedOut),
    /// A bare `{"success": true}` (users.removeOtherTokens).
    Success,
    /// users.logout: whose sessions ended.
    UserLoggedOut(String),
    /// /me: the caller's account.
    Me(Box<User>),
    /// users.setPreferences: the user and its saved preferences.
    PreferencesSaved(Box<preferences::SavedPreferences>),
    /// users.getPreferences.
    Preferences(crate::core::preferences::Preferences),
    /// info.admin of an ended session whose record holds no details yet.
    EndedOnly(Box<EndedSession>),
    /// users.setActiveStatus: the user's id and status.
    ActiveStatus(users::ActiveStatus),
}

impl From<AdminInfo> for Reply {
    fn from(info: AdminInfo) -> Self {
        match info {
            AdminInfo::Session(i) => Reply::Info(Box::new(i)),
            AdminInfo::EndedOnly(e) => Reply::EndedOnly(Box::new(e)),
        }
    }
}
