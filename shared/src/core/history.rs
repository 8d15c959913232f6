//! Why and by whom a session ended: every end writes an [`Ending`] in the same transaction
//! that removes the session, kept `HISTORY_DAYS` (docs/history.md).

use serde::{Deserialize, Serialize};

use crate::core::clock::Millis;
use crate::core::model::Session;

/// Every way a session ends. The codes are part of the wire (history records, events).
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EndReason {
    /// POST /api/v1/logout: the caller's own session.
    #[serde(rename = "logout")]
    Logout,
    /// POST /api/v1/sessions/logout.me.
    #[serde(rename = "logout.me")]
    LogoutMe,
    /// POST /api/v1/sessions/logout: an administrator ended it.
    #[serde(rename = "admin.logout")]
    AdminLogout,
    /// POST /api/v1/users.logoutOtherClients.
    #[serde(rename = "logoutOtherClients")]
    LogoutOtherClients,
    /// POST /api/v1/users.removeOtherTokens.
    #[serde(rename = "removeOtherTokens")]
    RemoveOtherTokens,
    /// POST /api/v1/users.logout.
    #[serde(rename = "users.logout")]
    UsersLogout,
    /// MonoCloud: DELETE /api/users/{user_id}/sessions/{session_id}.
    #[serde(rename = "revoke")]
    Revoke,
    /// MonoCloud: DELETE /api/users/{user_id}/sessions.
    #[serde(rename = "revoke_all")]
    RevokeAll,
    /// A newer login went past MAX_SESSIONS_PER_USER.
    #[serde(rename = "session_cap")]
    SessionCap,
    /// The user was deactivated.
    #[serde(rename = "deactivated")]
    Deactivated,
    /// Unused for longer than IDLE_TIMEOUT_MINUTES.
    #[serde(rename = "idle")]
    Idle,
    /// Its token's lifetime ran out and DynamoDB's TTL removed it.
    #[serde(rename = "expired")]
    Expired,
    /// A login whose answer failed after its session was written: its token was never shown.
    #[serde(rename = "login_unanswered")]
    LoginUnanswered,
}

impl EndReason {
    pub const ALL: [EndReason; 13] = [
        EndReason::Logout,
        EndReason::LogoutMe,
        EndReason::AdminLogout,
        EndReason::LogoutOtherClients,
        EndReason::RemoveOtherTokens,
        EndReason::UsersLogout,
        EndReason::Revoke,
        EndReason::RevokeAll,
        EndReason::SessionCap,
        EndReason::Deactivated,
        EndReason::Idle,
        EndReason::Expired,
        EndReason::LoginUnanswered,
    ];

    /// The reason's wire code.
    pub fn code(self) -> &'static str {
        CODES[self as usize]
    }

    pub fn from_code(code: &str) -> Option<EndReason> {
        EndReason::ALL.into_iter().find(|r| r.code() == code)
    }
}

/// The codes in declaration order (a unit test holds them equal to serde's names).
const CODES: [&str; 13] = [
    "logout",
    "logout.me",
    "admin.logout",
    "logoutOtherClients",
    "removeOtherTokens",
    "users.logout",
    "revoke",
    "revoke_all",
    "session_cap",
    "deactivated",
    "idle",
    "expired",
    "login_unanswered",
];

/// Who ended a session: a user (its owner or an administrator), a back-end service's API
/// key, or the system itself (idle timeout, expiry, the session cap's own bookkeeping).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(tag = "type", content = "id", rename_all = "snake_case")]
pub enum Actor {
    User(String),
    ApiKey(String),
    System,
}

impl Actor {
    /// The id Rocket.Chat shows as `logoutBy`: a user id or an API key id; none for the system.
    pub fn id(&self) -> Option<&str> {
        match self {
            Actor::User(id) | Actor::ApiKey(id) => Some(id),
            Actor::System => None,
        }
    }
}

/// Why, by whom and when a session ends.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ending {
    pub reason: EndReason,
    pub actor: Actor,
    pub at: Millis,
}

impl Ending {
    pub fn new(reason: EndReason, actor: Actor, at: Millis) -> Self {
        Ending { reason, actor, at }
    }

    /// Ended by the user `user_id`.
    pub fn by_user(reason: EndReason, user_id: &str, at: Millis) -> Self {
        Ending::new(reason, Actor::User(user_id.into()), at)
    }

    /// Ended by the system (idle, expiry, cleanup).
    pub fn by_system(reason: EndReason, at: Millis) -> Self {
        Ending::new(reason, Actor::System, at)
    }
}

/// A session that has ended, as its history record keeps it. `session` is `None` while
/// the record holds only the end (an administrator's end by id writes the details from
/// the table's stream a moment later).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EndedSession {
    pub session_id: String,
    pub user_id: String,
    pub ending: Ending,
    pub session: Option<Session>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_serde_names_and_round_trip() {
        for reason in EndReason::ALL {
            assert_eq!(serde_json::to_value(reason).unwrap(), serde_json::Value::String(reason.code().into()));
            assert_eq!(EndReason::from_code(reason.code()), Some(reason));
        }
        assert_eq!(EndReason::from_code("nope"), None);
    }

    #[test]
    fn actors_serialize_with_type_and_id() {
        assert_eq!(
            serde_json::to_value(Actor::ApiKey("k1".into())).unwrap(),
            serde_json::json!({"type": "api_key", "id": "k1"})
        );
        assert_eq!(serde_json::to_value(Actor::System).unwrap(), serde_json::json!({"type": "system"}));
        assert_eq!(Actor::User("u".into()).id(), Some("u"));
        assert_eq!(Actor::System.id(), None);
    }
}
