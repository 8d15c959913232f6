//! The events the stream consumer publishes, and their detail in schema version 1
//! (docs/events.md; JSON Schemas in docs/events/, one per detail type).

use serde::Serialize;
use serde_json::Value;

use crate::core::clock::iso_millis;
use crate::core::history::{Actor, EndedSession};
use crate::core::model::{Device, Geo, Session};

/// The detail schema's version; a change that could break a consumer raises it.
pub const SCHEMA_VERSION: &str = "1";

/// The event kinds, as EventBridge `detail-type`s.
pub const SESSION_CREATED: &str = "Session Created";
pub const SESSION_ENDED: &str = "Session Ended";

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

fn actor(actor: &Actor) -> Value {
    serde_json::to_value(actor).unwrap_or(Value::Null)
}
