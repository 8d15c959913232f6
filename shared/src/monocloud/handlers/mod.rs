//! What each MonoCloud endpoint does, as typed results; [`super::wire`] turns them into
//! wire shapes.

pub mod sessions;

use crate::core::model::Session;

/// One page of a user's sessions with what `X-Pagination` reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct McPage {
    pub sessions: Vec<Session>,
    pub total: usize,
    pub page: usize,
    pub size: usize,
}

/// Every successful MonoCloud-dialect result.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum McReply {
    Page(McPage),
    Session(Box<Session>),
    /// 204, no body.
    Revoked,
    RevokedCount(usize),
}
