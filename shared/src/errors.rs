//! The Rocket.Chat-dialect error every handler returns. It sits below [`crate::two_factor`]
//! and [`crate::handlers`], so both use it without importing each other.

use crate::auth::AuthError;
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
    /// Too many failed logins for this username, or from this address; no password was checked.
    #[error("login blocked: {0:?}")]
    LoginBlocked(Blocked),
    /// users.logout named a user that does not exist.
    #[error("invalid user id")]
    InvalidUserId,
    /// DynamoDB throttled, conflicting or timing out after bounded retries: 503, Retry-After.
    #[error("unavailable: {0}")]
    Unavailable(String),
    #[error("internal: {0}")]
    Internal(String),
}

/// What a failed-login limit blocked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Blocked {
    User,
    Ip,
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
        match e {
            StoreError::Unavailable(_) => ApiError::Unavailable(e.to_string()),
            _ => ApiError::Internal(e.to_string()),
        }
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
