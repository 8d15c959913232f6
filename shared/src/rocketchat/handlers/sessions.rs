//! The caller's own sessions: list, info and logout.me.

use serde_json::Value;

use super::{ApiError, SessionEnded, SessionInfo, SessionPage};
use crate::core::clock::Millis;
use crate::core::config::Config;
use crate::core::history::{EndReason, Ending};
use crate::core::order::Scope;
use crate::request::{ApiRequest, RequestView};
use crate::rocketchat::auth::AuthStore;
use crate::rocketchat::auth::{authenticate, record_activity};
use crate::rocketchat::query::{parse_list_query, select};
use crate::store::{SessionEnder, UserSessionReader};

/// Longest session id worth looking up; ours are 17 characters.
pub(crate) const MAX_SESSION_ID_LEN: usize = 64;
/// Largest request body read; a `{"sessionId":…}` body is far smaller.
const MAX_BODY_BYTES: usize = 16 * 1024;

/// GET /api/v1/sessions/list: the caller's live sessions, filtered, sorted and paged.
pub async fn list<S: AuthStore + UserSessionReader>(
    store: &S,
    config: &Config,
    req: &ApiRequest,
    now: Millis,
) -> Result<SessionPage, ApiError> {
    let caller = authenticate(store, req, now).await?;
    let query = parse_list_query(&req.query_pairs(), config)?;
    record_activity(store, req, &caller);
    let sessions = store.user_sessions(&caller.user_id).await?;
    let (rows, total) = select(&sessions, &query, Scope::Own, now);
    Ok(SessionPage {
        sessions: rows.into_iter().cloned().collect(),
        current_session: Some(caller.session_id),
        show_user: false,
        show_activity: true,
        total,
        count: query.count,
        offset: query.offset,
    })
}

/// GET /api/v1/sessions/info: one live session of the caller.
pub async fn info<S: AuthStore + UserSessionReader>(
    store: &S,
    req: &ApiRequest,
    now: Millis,
) -> Result<SessionInfo, ApiError> {
    let caller = authenticate(store, req, now).await?;
    let session_id = session_id_from_query(&req.query_pairs())?;
    if session_id.len() > MAX_SESSION_ID_LEN {
        return Err(ApiError::SessionNotFound);
    }
    record_activity(store, req, &caller);
    let session = store
        .user_session(&caller.user_id, &session_id)
        .await?
        .filter(|s| s.is_live(now))
        .ok_or(ApiError::SessionNotFound)?;
    Ok(SessionInfo { session, show_user: false, ended: None })
}

/// POST /api/v1/sessions/logout.me: ends one of the caller's sessions (its token stops working).
pub async fn logout_me<S: AuthStore + SessionEnder>(
    store: &S,
    req: &ApiRequest,
    now: Millis,
) -> Result<SessionEnded, ApiError> {
    let caller = authenticate(store, req, now).await?;
    let session_id = session_id_from_body(req.body_bytes())?;
    if session_id.len() > MAX_SESSION_ID_LEN {
        return Err(ApiError::SessionNotFound);
    }
    // Ending its own session, the call has no activity left to record.
    if session_id != caller.session_id {
        record_activity(store, req, &caller);
    }
    if !store
        .end_session(&caller.user_id, &session_id, &Ending::by_user(EndReason::LogoutMe, &caller.user_id, now))
        .await?
    {
        return Err(ApiError::SessionNotFound);
    }
    Ok(SessionEnded { session_id })
}

fn missing_session_id() -> ApiError {
    ApiError::InvalidParams("must have required property 'sessionId'".into())
}

/// `?sessionId=…` and nothing else, as Rocket.Chat's schema (additionalProperties: false).
pub fn session_id_from_query(query: &[(String, String)]) -> Result<String, ApiError> {
    if query.iter().any(|(k, _)| k != "sessionId") {
        return Err(ApiError::InvalidParams("must NOT have additional properties".into()));
    }
    match query {
        [] => Err(missing_session_id()),
        [(_, v)] => Ok(v.clone()),
        _ => Err(ApiError::InvalidParams("/sessionId must be string".into())),
    }
}

/// A JSON body `{"sessionId": "…"}` and nothing else.
pub fn session_id_from_body(body: &[u8]) -> Result<String, ApiError> {
    if body.len() > MAX_BODY_BYTES {
        return Err(ApiError::InvalidParams(format!("request body must NOT be larger than {MAX_BODY_BYTES} bytes")));
    }
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(missing_session_id());
    }
    let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(body) else {
        return Err(ApiError::InvalidParams("request body must be a JSON object".into()));
    };
    if map.keys().any(|k| k != "sessionId") {
        return Err(ApiError::InvalidParams("must NOT have additional properties".into()));
    }
    match map.get("sessionId") {
        None => Err(missing_session_id()),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(_) => Err(ApiError::InvalidParams("/sessionId must be string".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(e: ApiError) -> String {
        match e {
            ApiError::InvalidParams(m) => m,
            other => panic!("expected invalid params, got {other:?}"),
        }
    }

    #[test]
    fn session_id_query() {
        let q = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
            pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
        };
        assert_eq!(session_id_from_query(&q(&[("sessionId", "abc")])).unwrap(), "abc");
        assert_eq!(msg(session_id_from_query(&q(&[])).unwrap_err()), "must have required property 'sessionId'");
        assert_eq!(
            msg(session_id_from_query(&q(&[("sessionId", "a"), ("x", "1")])).unwrap_err()),
            "must NOT have additional properties"
        );
        assert_eq!(
            msg(session_id_from_query(&q(&[("sessionId", "a"), ("sessionId", "b")])).unwrap_err()),
            "/sessionId must be string"
        );
    }

    #[test]
    fn session_id_body() {
        assert_eq!(session_id_from_body(br#"{"sessionId":"abc"}"#).unwrap(), "abc");
        assert_eq!(msg(session_id_from_body(b"").unwrap_err()), "must have required property 'sessionId'");
        assert_eq!(msg(session_id_from_body(b"{}").unwrap_err()), "must have required property 'sessionId'");
        assert_eq!(msg(session_id_from_body(b"{").unwrap_err()), "request body must be a JSON object");
        assert_eq!(msg(session_id_from_body(b"[1]").unwrap_err()), "request body must be a JSON object");
        assert_eq!(msg(session_id_from_body(br#"{"sessionId":1}"#).unwrap_err()), "/sessionId must be string");
        assert_eq!(
            msg(session_id_from_body(br#"{"sessionId":"a","b":1}"#).unwrap_err()),
            "must NOT have additional properties"
        );
        let big = format!(r#"{{"sessionId":"{}"}}"#, "a".repeat(MAX_BODY_BYTES));
        assert!(msg(session_id_from_body(big.as_bytes()).unwrap_err()).contains("larger than"));
    }
}
