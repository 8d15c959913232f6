//! What each endpoint does, as typed results; [`crate::dialects`] turns them into wire shapes.

pub mod admin;
pub mod login;
pub mod monocloud;
pub mod sessions;

use crate::auth::AuthError;
use crate::model::Session;
use crate::query::QueryError;
use crate::store::StoreError;

/// Why a Rocket.Chat-dialect request failed, in DESIGN.md's check order.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("not logged in")]
    Unauthorized,
    #[error("permission denied")]
    Forbidden,
    #[error("invalid params: {0}")]
    InvalidParams(String),
    #[error("invalid sort {0:?}")]
    InvalidSort(String),
    #[error("invalid sort keys")]
    InvalidSortKeys,
    #[error("session not found")]
    SessionNotFound,
    /// A second factor is needed; `code_generated` when an email code was just sent.
    #[error("2FA code required")]
    TotpRequired { method: &'static str, code_generated: bool, available: Vec<&'static str> },
    #[error("2FA code invalid")]
    TotpInvalid { method: &'static str },
    #[error("too many wrong 2FA codes")]
    TotpMaxAttempts { method: &'static str },
    /// Wrong password, unknown or inactive user: one answer for all (no user enumeration).
    #[error("login failed")]
    LoginFailed,
    #[error("internal: {0}")]
    Internal(String),
}

impl From<AuthError> for ApiError {
    fn from(e: AuthError) -> Self {
        match e {
            AuthError::Unauthorized => ApiError::Unauthorized,
            AuthError::Store(e) => e.into(),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        ApiError::Internal(e.to_string())
    }
}

impl From<QueryError> for ApiError {
    fn from(e: QueryError) -> Self {
        match e {
            QueryError::InvalidParams(m) => ApiError::InvalidParams(m),
            QueryError::InvalidSort(raw) => ApiError::InvalidSort(raw),
            QueryError::InvalidSortKeys => ApiError::InvalidSortKeys,
        }
    }
}

/// One page of a session list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionPage {
    pub sessions: Vec<Session>,
    /// The caller's own session, for the `current` flag (own lists only).
    pub current_session: Option<String>,
    /// Whether rows carry `_user` (administrator lists).
    pub show_user: bool,
    pub total: usize,
    pub count: usize,
    pub offset: usize,
}

/// One session, as info and info.admin return it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionInfo {
    pub session: Session,
    pub show_user: bool,
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
}
