//! The audit log in MonoCloud's `Log` shape (docs/audit-log.md): sign-ins that succeeded or
//! failed, blocks, and session ends with their reason and actor (administrators' changes:
//! core::admin_log). Entries are built here;
//! store::audit keeps them, the MonoCloud dialect lists them (`GET /api/logs`).

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::core::history::{Actor, EndReason, EndedSession};
use crate::core::model::{Geo, Session};

/// One audit log entry, stored and shown as MonoCloud's `Log`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct LogEntry {
    pub id: String,
    /// Epoch seconds.
    pub time_stamp: i64,
    pub category: String,
    pub name: String,
    pub description: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub code: String,
    pub message: Option<String>,
    pub system: Value,
    pub request: LogRequest,
    pub source: Option<String>,
    pub actor: LogParty,
    pub targets: Vec<LogParty>,
    pub client: Option<Value>,
    pub details: Value,
}

/// Where the request came from.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
pub struct LogRequest {
    pub trace_id: Option<String>,
    pub user_agent: Option<String>,
    pub remote_ip: Option<Value>,
    pub location: Option<Value>,
}

/// An actor or a target: its type, id, display name and identifier (a username).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
pub struct LogParty {
    #[serde(rename = "type")]
    pub kind: String,
    pub id: Option<String>,
    pub name: Option<String>,
    pub identifier: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub session_id: Option<String>,
}

/// The target type of an API key.
pub const API_KEY: &str = "api_key";

/// The audit codes this API writes (MonoCloud's event codes).
pub const SIGN_IN_SUCCEEDED: &str = "user_sign_in_succeeded";
pub const SIGN_IN_FAILED: &str = "user_sign_in_failed";
pub const SIGN_OUT_SUCCEEDED: &str = "user_sign_out_succeeded";
pub const ACCOUNT_BLOCKED: &str = "user_account_blocked";
pub const IP_BLOCKED: &str = "identifier_ip_blocked";
pub const SESSION_REVOKED: &str = "user_session_revoked";
pub const SESSIONS_REVOKED_ALL: &str = "user_sessions_revoked_all";
pub const USER_CREATED: &str = "user_created";
pub const USER_DELETED: &str = "user_deleted";
pub const ACCOUNT_UNBLOCKED: &str = "user_account_unblocked";
pub const IP_UNBLOCKED: &str = "user_account_ip_unblocked";
pub const ALL_IP_BLOCKS_REMOVED: &str = "user_account_all_ip_blocks_removed";
pub const ADDED_TO_GROUP: &str = "user_added_to_group";
pub const REMOVED_FROM_GROUP: &str = "user_removed_from_group";
/// Not among MonoCloud's codes, which have none for a second factor.
pub const TWO_FACTOR_ENABLED: &str = "user_two_factor_enabled";
pub const TWO_FACTOR_DISABLED: &str = "user_two_factor_disabled";
pub const API_KEY_CREATED: &str = "api_resource_secret_created";
pub const API_KEY_UPDATED: &str = "api_resource_updated";

/// What a refused sign-in was refused for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Unknown user, wrong password or an inactive account: one answer for all.
    Password,
    /// A wrong or missing second-factor code.
    SecondFactor,
    /// Too many failures for the login name.
    BlockedUser,
    /// Too many failures from the address.
    BlockedIp,
}

/// Who a refused sign-in was, as far as the request says.
#[derive(Clone, Debug, Default)]
pub struct Attempt {
    /// The user, when the login name matched one.
    pub user_id: Option<String>,
    pub username: Option<String>,
    /// The login name as typed (a username or an email address); never kept.
    pub login: String,
    pub ip: String,
    pub user_agent: String,
    pub geo: Geo,
    pub request_id: Option<String>,
}

fn request(ip: &str, user_agent: &str, geo: &Geo, trace_id: Option<String>) -> LogRequest {
    let version = if ip.contains(':') { "IPv6" } else { "IPv4" };
    LogRequest {
        trace_id,
        user_agent: (!user_agent.is_empty()).then(|| user_agent.to_string()),
        remote_ip: (!ip.is_empty()).then(|| json!({"ip": ip, "version": version})),
        location: Some(json!({
            "country": geo.country, "region": geo.region, "city": geo.city,
            "latitude": geo.latitude, "longitude": geo.longitude,
        })),
    }
}

pub(crate) fn system() -> Value {
    json!({"activity_id": null, "process_id": std::process::id(), "local_ip": {"ip": "", "version": ""}})
}

pub(crate) fn user_party(id: &str, name: Option<&str>, username: &str, session_id: Option<&str>) -> LogParty {
    LogParty {
        kind: "user".into(),
        id: Some(id.into()),
        name: name.map(str::to_string),
        identifier: Some(username.into()),
        session_id: session_id.map(str::to_string),
    }
}

fn session_party(session_id: &str) -> LogParty {
    LogParty { kind: "user_session".into(), id: Some(session_id.into()), ..LogParty::default() }
}

pub(crate) fn actor_party(actor: &Actor) -> LogParty {
    match actor {
        Actor::User(id) => LogParty { kind: "user".into(), id: Some(id.clone()), ..LogParty::default() },
        Actor::ApiKey(id) => LogParty { kind: "api_key".into(), id: Some(id.clone()), ..LogParty::default() },
        Actor::System => LogParty { kind: "system".into(), ..LogParty::default() },
    }
}

/// A sign-in that made `session`.
pub fn signed_in(id: String, session: &Session) -> LogEntry {
    let user = user_party(&session.user_id, session.user.name.as_deref(), &session.user.username, None);
    LogEntry {
        id,
        time_stamp: session.login_at.div_euclid(1000),
        category: "authentication".into(),
        name: "User Sign In Succeeded".into(),
        description: format!("{} signed in", session.user.username),
        kind: "success".into(),
        code: SIGN_IN_SUCCEEDED.into(),
        message: None,
        system: system(),
        request: request(&session.ip, &session.user_agent, &session.geo, None),
        source: Some("/api/v1/login".into()),
        actor: LogParty { session_id: Some(session.session_id.clone()), ..user.clone() },
        targets: vec![user, session_party(&session.session_id)],
        client: session.client_ids.first().map(|c| json!({"id": c, "name": null})),
        details: json!({"device": session.device}),
    }
}

/// A session that ended: signed out by its owner, or revoked (reason and actor in `details`).
pub fn ended(id: String, ended: &EndedSession) -> LogEntry {
    let (code, name, kind) = match ended.ending.reason {
        EndReason::Logout | EndReason::LogoutMe => (SIGN_OUT_SUCCEEDED, "User Sign Out Succeeded", "success"),
        EndReason::RevokeAll | EndReason::UsersLogout => {
            (SESSIONS_REVOKED_ALL, "User Sessions Revoked All", "information")
        }
        _ => (SESSION_REVOKED, "User Session Revoked", "information"),
    };
    let session = ended.session.as_ref();
    let username = session.map(|s| s.user.username.as_str()).unwrap_or_default();
    let target = user_party(&ended.user_id, session.and_then(|s| s.user.name.as_deref()), username, None);
    let req = session.map(|s| request(&s.ip, &s.user_agent, &s.geo, None)).unwrap_or_default();
    LogEntry {
        id,
        time_stamp: ended.ending.at.div_euclid(1000),
        category: "user_sessions".into(),
        name: name.into(),
        description: format!("session {} ended: {}", ended.session_id, ended.ending.reason.code()),
        kind: kind.into(),
        code: code.into(),
        message: None,
        system: system(),
        request: req,
        source: None,
        actor: actor_party(&ended.ending.actor),
        targets: vec![target, session_party(&ended.session_id)],
        client: None,
        details: json!({"reason": ended.ending.reason.code(), "session_id": ended.session_id}),
    }
}

/// A refused sign-in: a failure, or a block.
pub fn refused(id: String, at_ms: i64, attempt: &Attempt, refusal: Refusal) -> LogEntry {
    let (code, category, name, reason) = match refusal {
        Refusal::Password => (SIGN_IN_FAILED, "authentication", "User Sign In Failed", "invalid-credentials"),
        Refusal::SecondFactor => (SIGN_IN_FAILED, "authentication", "User Sign In Failed", "second-factor"),
        Refusal::BlockedUser => (ACCOUNT_BLOCKED, "blocks", "User Account Blocked", "too-many-failures-for-user"),
        Refusal::BlockedIp => (IP_BLOCKED, "blocks", "Identifier IP Blocked", "too-many-failures-from-ip"),
    };
    // A name that matched no user is not kept, not even hashed: people type passwords into
    // the name field, and an unsalted hash of a weak one is a dictionary lookup away.
    let target = match (&attempt.user_id, &attempt.username) {
        (Some(id), Some(username)) => user_party(id, None, username, None),
        _ => LogParty { kind: "user_identifier".into(), ..LogParty::default() },
    };
    LogEntry {
        id,
        time_stamp: at_ms.div_euclid(1000),
        category: category.into(),
        name: name.into(),
        description: format!("sign-in refused: {reason}"),
        kind: "failure".into(),
        code: code.into(),
        message: None,
        system: system(),
        request: request(&attempt.ip, &attempt.user_agent, &attempt.geo, attempt.request_id.clone()),
        source: Some("/api/v1/login".into()),
        actor: LogParty { kind: "unknown".into(), ..LogParty::default() },
        targets: vec![target],
        client: None,
        details: json!({"reason": reason}),
    }
}

impl LogEntry {
    /// The user the entry is about (its first `user` target), if any.
    pub fn user_id(&self) -> Option<&str> {
        self.targets.iter().find(|t| t.kind == "user").and_then(|t| t.id.as_deref())
    }

    /// What the entry is about, for storage: its user, else its API key.
    pub fn subject_id(&self) -> Option<&str> {
        self.user_id().or_else(|| self.targets.iter().find(|t| t.kind == API_KEY).and_then(|t| t.id.as_deref()))
    }
}
