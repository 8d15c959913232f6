//! The events the stream consumer publishes, and their detail in schema version 1
//! (docs/events.md; JSON Schemas in docs/events/, one per detail type).

use serde::Serialize;
use serde_json::Value;

use crate::core::audit::LogEntry;
use crate::core::clock::iso_millis;
use crate::core::history::{Actor, EndedSession};
use crate::core::model::{Device, Geo, Session};
use crate::core::travel::Risk;

/// The detail schema's version; a change that could break a consumer raises it.
pub const SCHEMA_VERSION: &str = "1";

/// The event kinds, as EventBridge `detail-type`s.
pub const SESSION_CREATED: &str = "Session Created";
pub const SESSION_ENDED: &str = "Session Ended";
pub const SESSION_FLAGGED: &str = "Session Flagged";
pub const LOGIN_FAILED: &str = "Login Failed";
pub const LOGIN_BLOCKED: &str = "Login Blocked";

/// One event to publish: its detail type and detail.
#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    pub detail_type: &'static str,
    pub detail: Value,
}

/// A session as every event shows it: never its token or anything secret.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SessionDetail<'a> {
    session_id: &'a str,
    user_id: &'a str,
    username: &'a str,
    device: &'a Device,
    ip: &'a str,
    user_agent: &'a str,
    location: &'a Geo,
    login_at: String,
    expires_at: String,
}

impl<'a> SessionDetail<'a> {
    fn of(s: &'a Session) -> Self {
        SessionDetail {
            session_id: &s.session_id,
            user_id: &s.user_id,
            username: &s.user.username,
            device: &s.device,
            ip: &s.ip,
            user_agent: &s.user_agent,
            location: &s.geo,
            login_at: iso_millis(s.login_at),
            expires_at: iso_millis(s.expires_at.saturating_mul(1000)),
        }
    }
}

/// The fields every detail starts with: the schema version, an id a consumer can drop
/// duplicates by (the stream record's id: the same change always has the same one), and
/// when the change happened.
fn envelope(id: &str, at: String) -> serde_json::Map<String, Value> {
    let mut map = serde_json::Map::new();
    map.insert("version".into(), SCHEMA_VERSION.into());
    map.insert("id".into(), id.into());
    map.insert("time".into(), at.into());
    map
}

/// `Session Created`: a login made a session.
pub fn session_created(record_id: &str, session: &Session) -> Event {
    let mut detail = envelope(record_id, iso_millis(session.login_at));
    detail.insert("session".into(), serde_json::to_value(SessionDetail::of(session)).unwrap_or(Value::Null));
    Event { detail_type: SESSION_CREATED, detail: Value::Object(detail) }
}

/// `Session Ended`: why (reason), by whom (actor) and when; the session as it was, when
/// its history record holds it.
pub fn session_ended(record_id: &str, ended: &EndedSession) -> Event {
    let mut detail = envelope(record_id, iso_millis(ended.ending.at));
    detail.insert("sessionId".into(), ended.session_id.clone().into());
    detail.insert("userId".into(), ended.user_id.clone().into());
    detail.insert("reason".into(), ended.ending.reason.code().into());
    detail.insert("actor".into(), actor(&ended.ending.actor));
    if let Some(session) = &ended.session {
        detail.insert("session".into(), serde_json::to_value(SessionDetail::of(session)).unwrap_or(Value::Null));
    }
    Event { detail_type: SESSION_ENDED, detail: Value::Object(detail) }
}

/// `Session Flagged`: a new session's risk (core::travel), with the session.
pub fn session_flagged(record_id: &str, session: &Session, risk: &Risk) -> Event {
    let mut detail = envelope(&format!("{record_id}:flagged"), iso_millis(session.login_at));
    detail.insert("risk".into(), serde_json::to_value(risk).unwrap_or(Value::Null));
    detail.insert("session".into(), serde_json::to_value(SessionDetail::of(session)).unwrap_or(Value::Null));
    Event { detail_type: SESSION_FLAGGED, detail: Value::Object(detail) }
}

/// `Login Failed` (a wrong password or second-factor code, an unknown user) or `Login
/// Blocked` (too many failures for the name or from the address), from the refusal's audit
/// entry: who it was as far as the request says, from where, and why.
pub fn refused(record_id: &str, entry: &LogEntry) -> Event {
    let blocked = entry.category == "blocks";
    let mut detail = envelope(record_id, iso_millis(entry.time_stamp.saturating_mul(1000)));
    let target = entry.targets.first();
    let user_id = target.filter(|t| t.kind == "user").and_then(|t| t.id.clone());
    detail.insert("userId".into(), user_id.into());
    detail.insert("login".into(), target.and_then(|t| t.identifier.clone()).into());
    detail.insert("reason".into(), entry.details["reason"].clone());
    detail.insert("ip".into(), entry.request.remote_ip.as_ref().map(|ip| ip["ip"].clone()).unwrap_or(Value::Null));
    detail.insert("userAgent".into(), entry.request.user_agent.clone().into());
    detail.insert("location".into(), entry.request.location.clone().unwrap_or(Value::Null));
    detail.insert("auditLogId".into(), entry.id.clone().into());
    Event { detail_type: if blocked { LOGIN_BLOCKED } else { LOGIN_FAILED }, detail: Value::Object(detail) }
}

fn actor(actor: &Actor) -> Value {
    serde_json::to_value(actor).unwrap_or(Value::Null)
}
