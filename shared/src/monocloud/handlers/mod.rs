//! What each MonoCloud endpoint does, as typed results; [`super::wire`] turns them into
//! wire shapes.

pub mod blocks;
pub mod logs;
pub mod sessions;
pub mod users;

use crate::core::audit::LogEntry;
use crate::core::model::Session;

/// One page of a user's sessions with what `X-Pagination` reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct McPage {
    pub sessions: Vec<Session>,
    pub total: usize,
    pub page: usize,
    pub size: usize,
}

/// One page of audit log entries with what `X-Pagination` reports.
#[derive(Clone, Debug, PartialEq)]
pub struct LogPage {
    pub entries: Vec<LogEntry>,
    pub total: usize,
    pub page: usize,
    pub size: usize,
}

/// Every successful MonoCloud-dialect result.
#[derive(Clone, Debug, PartialEq)]
pub enum McReply {
    Page(McPage),
    Session(Box<Session>),
    /// 204, no body.
    Revoked,
    RevokedCount(usize),
    Logs(Box<LogPage>),
    /// disable, enable, the user, unblock, unblock an address: the user, in MonoCloud's
    /// `User` shape.
    User(Box<users::UserChanged>),
    /// A page of a user's blocked addresses.
    BlockedIps(Box<blocks::IpPage>),
}
