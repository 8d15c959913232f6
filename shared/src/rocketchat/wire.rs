//! Rocket.Chat's REST shapes: `success` bodies and the session object, and the response of
//! every result (error bodies: [`super::errors`]).

use serde::Serialize;
use serde_json::json;

use super::errors::{ApiError, error_body};
use super::handlers::{Reply, SessionInfo, SessionPage};
use crate::core::clock::iso_millis;
use crate::core::history::{EndedSession, Ending};
use crate::core::model::{Device, Geo, Session, User, UserRef};
use crate::core::travel::Risk;
use crate::request::ApiRequest;
use crate::response::{Response, json as json_response, unavailable};

const JSON: &str = "application/json";

/// The session object of docs/seeds/000–002. No token, hash or secret can reach it.
#[derive(Serialize, Debug)]
#[serde(rename_all = "camelCase")]
pub struct SessionView<'a> {
    pub session_id: &'a str,
    pub user_id: &'a str,
    pub device: &'a Device,
    pub host: &'a str,
    pub ip: &'a str,
    pub login_at: String,
    /// The newest recorded use (own lists, info and info.admin).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_activity_at: Option<String>,
    #[serde(rename = "_user", skip_serializing_if = "Option::is_none")]
    pub user: Option<&'a UserRef>,
    #[serde(rename = "_id")]
    pub id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current: Option<bool>,
    /// Where the login came from (its address located: country, region, city, coordinates),
    /// when it was located. Not on list.all's rows, which come from the order indexes' packed
    /// rows (store::session_row).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<&'a Geo>,
    /// Why the session is suspect (impossible travel), when it was flagged.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub risk: Option<&'a Risk>,
}

impl<'a> SessionView<'a> {
    pub fn new(s: &'a Session, show_user: bool, show_activity: bool, current: Option<bool>) -> Self {
        SessionView {
            session_id: &s.session_id,
            user_id: &s.user_id,
            device: &s.device,
            host: &s.host,
            ip: &s.ip,
            login_at: iso_millis(s.login_at),
            last_activity_at: show_activity.then(|| iso_millis(s.last_activity_at)),
            user: show_user.then_some(&s.user),
            id: &s.session_id,
            current,
            location: (s.geo != Geo::default()).then_some(&s.geo),
            risk: s.risk.as_ref(),
        }
    }
}

#[derive(Serialize)]
struct ListBody<'a> {
    sessions: Vec<SessionView<'a>>,
    total: usize,
    count: usize,
    offset: usize,
    success: bool,
}

#[derive(Serialize)]
struct InfoBody<'a> {
    #[serde(flatten)]
    session: SessionView<'a>,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    ended: Option<EndView<'a>>,
    success: bool,
}

/// How an ended session shows its end, as Rocket.Chat's session documents do: `logoutAt`,
/// and `logoutBy` (the user or API key that ended it; absent when the system did).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct EndView<'a> {
    logout_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    logout_by: Option<&'a str>,
}

impl<'a> EndView<'a> {
    fn new(ending: &'a Ending) -> Self {
        EndView { logout_at: iso_millis(ending.at), logout_by: ending.actor.id() }
    }
}

/// info.admin of an ended session whose record holds no details yet: its ids and its end.
fn ended_only_body(e: &EndedSession) -> String {
    let mut body = json!({"_id": e.session_id, "sessionId": e.session_id, "userId": e.user_id, "success": true});
    if let Ok(serde_json::Value::Object(end)) = serde_json::to_value(EndView::new(&e.ending)) {
        body.as_object_mut().into_iter().for_each(|b| b.extend(end.clone()));
    }
    body.to_string()
}

fn page_body(p: &SessionPage) -> String {
    let sessions = p
        .sessions
        .iter()
        .map(|s| {
            let current = p.current_session.as_ref().map(|c| *c == s.session_id);
            SessionView::new(s, p.show_user, p.show_activity, current)
        })
        .collect();
    to_json(&ListBody { sessions, total: p.total, count: p.count, offset: p.offset, success: true })
}

fn info_body(i: &SessionInfo) -> String {
    let ended = i.ended.as_ref().map(EndView::new);
    to_json(&InfoBody { session: SessionView::new(&i.session, i.show_user, true, None), ended, success: true })
}

fn to_json<T: Serialize>(v: &T) -> String {
    // Serialising these plain structs cannot fail; fall back to an error body rather than panic.
    serde_json::to_string(v).unwrap_or_else(|_| r#"{"success":false,"error":"Internal server error"}"#.into())
}

/// `/api/v1/me`: the account in Rocket.Chat's shape. Presence, time zone and preferences are
/// not kept here: the caller is `online` (it just called), at UTC, with no preferences set;
/// no address is verified. No password, hash or second-factor secret can reach it.
fn me_body(user: &User) -> serde_json::Value {
    let emails: Vec<serde_json::Value> =
        user.emails.iter().map(|address| json!({"address": address, "verified": false})).collect();
    let mut body = json!({
        "_id": user.user_id,
        "username": user.username,
        "emails": emails,
        "status": "online",
        "statusConnection": "online",
        "utcOffset": 0,
        "active": user.active,
        "roles": user.roles,
        "settings": {"preferences": {}},
        "success": true
    });
    if let Some(name) = &user.name {
        body["name"] = json!(name);
    }
    body
}

/// [`respond`], as the route table calls every dialect (Rocket.Chat's answers carry no
/// request id).
pub fn respond_to(_req: &ApiRequest, result: Result<Reply, ApiError>) -> Response {
    respond(result)
}

/// Turns a handler's result into the HTTP response.
pub fn respond(result: Result<Reply, ApiError>) -> Response {
    match result {
        Ok(Reply::Page(p)) => json_response(200, JSON, page_body(&p)),
        Ok(Reply::Info(i)) => json_response(200, JSON, info_body(&i)),
        Ok(Reply::EndedOnly(e)) => json_response(200, JSON, ended_only_body(&e)),
        Ok(Reply::PreferencesSaved(p)) => json_response(
            200,
            JSON,
            json!({"user": {"_id": p.user_id, "settings": {"preferences": p.preferences}}, "success": true})
                .to_string(),
        ),
        Ok(Reply::Preferences(p)) => json_response(200, JSON, json!({"preferences": p, "success": true}).to_string()),
        Ok(Reply::LoggedIn(l)) => {
            let mut me = json!({"_id": l.user.user_id, "username": l.user.username});
            if let Some(name) = &l.user.name {
                me["name"] = json!(name);
            }
            let body = json!({"status": "success", "data": {"userId": l.user.user_id, "authToken": l.token, "me": me}});
            json_response(200, JSON, body.to_string())
        }
        Ok(Reply::LoggedOut) => json_response(
            200,
            JSON,
            json!({"status": "success", "data": {"message": "You've been logged out!"}}).to_string(),
        ),
        Ok(Reply::OtherClientsLoggedOut(o)) => {
            let expires = iso_millis(o.token_expires_at.saturating_mul(1000));
            json_response(200, JSON, json!({"token": o.token, "tokenExpires": expires, "success": true}).to_string())
        }
        Ok(Reply::Success) => json_response(200, JSON, json!({"success": true}).to_string()),
        Ok(Reply::ActiveStatus(s)) => json_response(
            200,
            JSON,
            json!({"user": {"_id": s.user_id, "active": s.active}, "success": true}).to_string(),
        ),
        Ok(Reply::UserLoggedOut(id)) => json_response(
            200,
            JSON,
            json!({"message": format!("User {id} has been logged out!"), "success": true}).to_string(),
        ),
        Ok(Reply::Me(user)) => json_response(200, JSON, me_body(&user).to_string()),
        Ok(Reply::Ended(e)) => {
            json_response(200, JSON, json!({"sessionId": e.session_id, "success": true}).to_string())
        }
        Err(e) => {
            match &e {
                ApiError::Internal(detail) => tracing::error!(%detail, "request failed"),
                ApiError::Unavailable(detail) => tracing::warn!(%detail, "store unavailable"),
                _ => {}
            }
            let (status, body) = error_body(&e);
            if status == 503 {
                return unavailable(JSON, body.to_string());
            }
            json_response(status, JSON, body.to_string())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::model::{Geo, Os};

    fn seed_session() -> Session {
        Session {
            session_id: "QoYYFw2t9oKks2niG".into(),
            user_id: "rbAXPnMktTFbNpwtJ".into(),
            device: Device {
                kind: "browser".into(),
                name: "Chrome".into(),
                long_version: "113.0.0.0".into(),
                os: Os { name: "Windows".into(), version: "10".into() },
                version: "113.0.0".into(),
            },
            host: "localhost:3000".into(),
            ip: "172.20.0.2".into(),
            user_agent: "Mozilla/5.0".into(),
            login_at: 1_684_859_625_202,
            last_activity_at: 1_684_859_625_202,
            last_use: None,
            risk: None,
            expires_at: 4_000_000_000,
            client_ids: vec!["c1".into()],
            geo: Geo::default(),
            user: UserRef { username: "test.test".into(), name: Some("test test".into()) },
        }
    }

    #[test]
    fn list_body_matches_seed_001_shape() {
        let page = SessionPage {
            sessions: vec![seed_session()],
            current_session: Some("other".into()),
            show_user: false,
            show_activity: true,
            total: 1,
            count: 50,
            offset: 0,
        };
        let body: serde_json::Value = serde_json::from_str(&page_body(&page)).unwrap();
        assert_eq!(
            body,
            json!({"sessions": [{
                "sessionId": "QoYYFw2t9oKks2niG", "userId": "rbAXPnMktTFbNpwtJ",
                "device": {"type": "browser", "name": "Chrome", "longVersion": "113.0.0.0",
                           "os": {"name": "Windows", "version": "10"}, "version": "113.0.0"},
                "host": "localhost:3000", "ip": "172.20.0.2", "loginAt": "2023-05-23T16:33:45.202Z",
                "lastActivityAt": "2023-05-23T16:33:45.202Z", "_id": "QoYYFw2t9oKks2niG", "current": false
            }], "total": 1, "count": 50, "offset": 0, "success": true})
        );
    }

    #[test]
    fn info_body_with_user_and_without_name() {
        let mut s = seed_session();
        s.user.name = None;
        let body: serde_json::Value =
            serde_json::from_str(&info_body(&SessionInfo { session: s, show_user: true, ended: None })).unwrap();
        assert_eq!(body["_user"], json!({"username": "test.test"}));
        assert_eq!(body["success"], json!(true));
        assert!(body.get("current").is_none());
        let text = body.to_string();
        for secret in ["userAgent", "token", "expiresAt", "clientIds"] {
            assert!(!text.contains(secret), "{secret} leaked: {text}");
        }
    }

    #[test]
    fn responses_are_json_and_not_cached() {
        let r = crate::response::ApiResponse::from_http(respond(Err(ApiError::Unauthorized)));
        assert_eq!(r.status, 401);
        assert_eq!(r.header("Content-Type"), Some("application/json"));
        assert_eq!(r.header("cache-control"), Some("no-store"));
    }
}
