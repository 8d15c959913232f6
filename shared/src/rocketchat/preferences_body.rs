//! The body of `POST /api/v1/users.setPreferences`, checked as Rocket.Chat's schema does
//! (ajv with type coercion, first error only): `{"data": {...}, "userId"?: string}`, `data`
//! holding only the preferences this API knows, with their types.

use serde_json::Value;

use super::ajv::{boolean, invalid, object};
use super::errors::ApiError;
use crate::store::PreferenceChange;

/// The keys `data` may hold.
const KNOWN: [&str; 1] = ["receiveLoginDetectionEmail"];

/// `(userId, what to change)` of a setPreferences body: only the keys `data` holds.
pub fn parse_set_preferences(body: &[u8]) -> Result<(Option<String>, PreferenceChange), ApiError> {
    let root = object(body)?;
    let Some(data) = root.get("data") else { return Err(invalid("must have required property 'data'")) };
    if root.keys().any(|k| k != "data" && k != "userId") {
        return Err(invalid("must NOT have additional properties"));
    }
    let user_id = match root.get("userId") {
        None | Some(Value::Null) => None,
        Some(Value::String(id)) => Some(id.clone()),
        Some(_) => return Err(invalid("must be string")),
    };
    let Value::Object(data) = data else { return Err(invalid("must be object")) };
    if data.keys().any(|k| !KNOWN.contains(&k.as_str())) {
        return Err(invalid("must NOT have additional properties"));
    }
    let receive = match data.get("receiveLoginDetectionEmail") {
        None => None,
        Some(Value::Null) => Some(None),
        Some(v) => Some(Some(boolean(v).ok_or_else(|| invalid("must be boolean"))?)),
    };
    Ok((user_id, PreferenceChange { receive_login_detection_email: receive }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(body: &str) -> String {
        match parse_set_preferences(body.as_bytes()) {
            Err(ApiError::InvalidParams(m)) => m,
            other => panic!("{body}: {other:?}"),
        }
    }

    #[test]
    fn reads_rocket_chats_body_with_its_coercions() {
        for (body, want) in [
            (r#"{"data":{"receiveLoginDetectionEmail":false}}"#, Some(Some(false))),
            (r#"{"data":{"receiveLoginDetectionEmail":"true"}}"#, Some(Some(true))),
            (r#"{"data":{"receiveLoginDetectionEmail":0}}"#, Some(Some(false))),
            (r#"{"data":{"receiveLoginDetectionEmail":null}}"#, Some(None)),
            (r#"{"data":{},"userId":"u1"}"#, None),
        ] {
            let (_, p) = parse_set_preferences(body.as_bytes()).unwrap();
            assert_eq!(p.receive_login_detection_email, want, "{body}");
        }
        assert_eq!(parse_set_preferences(br#"{"data":{},"userId":"u1"}"#).unwrap().0.as_deref(), Some("u1"));
    }

    #[test]
    fn refuses_what_rocket_chat_refuses_with_its_messages() {
        assert_eq!(message(""), "must have required property 'data'");
        assert_eq!(message("{}"), "must have required property 'data'");
        assert_eq!(message("[1]"), "must be object");
        assert_eq!(message("not json"), "must be object");
        assert_eq!(message(r#"{"data":{"language":"en"}}"#), "must NOT have additional properties");
        assert_eq!(message(r#"{"data":{},"extra":1}"#), "must NOT have additional properties");
        assert_eq!(message(r#"{"data":{"receiveLoginDetectionEmail":"no"}}"#), "must be boolean");
        assert_eq!(message(r#"{"data":"x"}"#), "must be object");
        assert_eq!(message(r#"{"data":{},"userId":5}"#), "must be string");
    }
}
