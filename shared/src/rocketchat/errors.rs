//! The Rocket.Chat-dialect error every handler returns, and its wire body. It sits below
//! [`super::two_factor`] and [`super::handlers`], so both use it without importing each other.

use serde_json::json;

use super::auth::AuthError;
use super::query::QueryError;
use crate::store::StoreError;

/// Why a Rocket.Chat-dialect request failed, in docs/rocketchat.md's check order.
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
    /// users.setActiveStatus named a user that does not exist.
    #[error("user not found")]
    UserNotFound,
    /// users.getPreferences of a user who never saved any (Rocket.Chat's answer).
    #[error("preferences not set up")]
    PreferencesNotSet,
    /// users.setPreferences for another user.
    #[error("editing another user")]
    EditingNotAllowed,
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
            // A login whose account was deactivated while it ran: as for any inactive account.
            StoreError::Inactive => ApiError::LoginFailed,
            StoreError::LoginBlocked => ApiError::LoginBlocked(Blocked::User),
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

/// The status and body of an error, exactly as the seeds (docs/seeds/) and docs/rocketchat.md give them.
pub fn error_body(e: &ApiError) -> (u16, serde_json::Value) {
    match e {
        ApiError::Unauthorized => (401, json!({"status": "error", "message": "You must be logged in to do this."})),
        ApiError::Forbidden => (
            403,
            json!({"success": false, "error": "User does not have the permissions required for this action [error-unauthorized]"}),
        ),
        ApiError::InvalidParams(m) => {
            (400, json!({"success": false, "error": format!("{m} [invalid-params]"), "errorType": "invalid-params"}))
        }
        ApiError::InvalidSort(raw) => (
            400,
            json!({
                "success": false,
                "error": format!("Invalid sort parameter provided: \"{raw}\" [error-invalid-sort]"),
                "errorType": "error-invalid-sort"
            }),
        ),
        ApiError::InvalidSortKeys => (400, json!({"success": false, "error": "error-invalid-sort-keys"})),
        ApiError::SessionNotFound => (404, json!({"success": false, "error": "Session not found"})),
        ApiError::UserNotFound => (400, json!({"success": false, "error": "User not found"})),
        ApiError::TotpRequired { .. } | ApiError::TotpInvalid { .. } | ApiError::TotpMaxAttempts { .. } => {
            (400, two_factor_body(e))
        }
        ApiError::LoginFailed => (401, json!({"status": "error", "error": "Unauthorized", "message": "Unauthorized"})),
        // Rocket.Chat's codes and messages (restrictLoginAttempts, Accounts.validateLoginAttempt).
        ApiError::LoginBlocked(by) => {
            let (error, message) = match by {
                Blocked::User => ("error-login-blocked-for-user", "Login has been temporarily blocked For User"),
                Blocked::Ip => ("error-login-blocked-for-ip", "Login has been temporarily blocked For IP"),
            };
            (401, json!({"status": "error", "error": error, "message": message}))
        }
        ApiError::InvalidUserId => (
            400,
            json!({"success": false, "error": "Invalid user id [error-invalid-user-id]", "errorType": "error-invalid-user-id"}),
        ),
        ApiError::PreferencesNotSet => (
            400,
            json!({"success": false, "error": "FAILED TO RETRIEVE USER PREFERENCES BECAUSE THEY HAVEN'T BEEN SET UP BY THE USER YET"}),
        ),
        ApiError::EditingNotAllowed => (
            400,
            json!({"success": false, "error": "Editing user is not allowed [error-action-not-allowed]", "errorType": "error-action-not-allowed"}),
        ),
        ApiError::Unavailable(_) => (
            503,
            json!({"success": false, "error": "Service temporarily unavailable, try again [error-service-unavailable]"}),
        ),
        ApiError::Internal(_) => (500, json!({"success": false, "error": "Internal server error"})),
    }
}

/// The body of a 2FA error: Rocket.Chat's `totp-*` error types with their `details`.
fn two_factor_body(e: &ApiError) -> serde_json::Value {
    match e {
        ApiError::TotpRequired { method, code_generated, available } => json!({
            "success": false,
            "error": "TOTP Required [totp-required]",
            "errorType": "totp-required",
            "details": {"method": method, "codeGenerated": code_generated, "availableMethods": available}
        }),
        ApiError::TotpInvalid { method } => json!({
            "success": false,
            "error": "TOTP Invalid [totp-invalid]",
            "errorType": "totp-invalid",
            "details": {"method": method, "codeGenerated": false}
        }),
        // Rocket.Chat's own wording, misspelling included, so clients matching it still do.
        ApiError::TotpMaxAttempts { method } => json!({
            "success": false,
            "error": "TOTP Maximun Attempts Reached [totp-max-attempts]",
            "errorType": "totp-max-attempts",
            "details": {"method": method}
        }),
        _ => json!({"success": false, "error": "Internal server error"}),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_bodies() {
        let (s, b) = error_body(&ApiError::InvalidSort("x".into()));
        assert_eq!(s, 400);
        assert_eq!(b["error"], "Invalid sort parameter provided: \"x\" [error-invalid-sort]");
        let (s, b) = error_body(&ApiError::InvalidParams("must have required property 'sessionId'".into()));
        assert_eq!(s, 400);
        assert_eq!(
            b,
            json!({"success": false, "error": "must have required property 'sessionId' [invalid-params]", "errorType": "invalid-params"})
        );
        let (s, b) = error_body(&ApiError::LoginBlocked(Blocked::User));
        assert_eq!(s, 401);
        assert_eq!(
            b,
            json!({"status": "error", "error": "error-login-blocked-for-user", "message": "Login has been temporarily blocked For User"})
        );
        let (_, b) = error_body(&ApiError::LoginBlocked(Blocked::Ip));
        assert_eq!(b["message"], "Login has been temporarily blocked For IP");
    }
}
