//! The body of `POST /api/v1/users.setActiveStatus`, checked as Rocket.Chat's schema does
//! (ajv with type coercion, first error only): `{"userId": string, "activeStatus": boolean,
//! "confirmRelinquish"?: boolean}`, nothing else.

use serde_json::Value;

use super::ajv::{boolean, invalid, object};
use super::errors::ApiError;

/// `(userId, activeStatus)` of a setActiveStatus body. `confirmRelinquish` is read and
/// unused: this API keeps no rooms a user could own.
pub fn parse_set_active_status(body: &[u8]) -> Result<(String, bool), ApiError> {
    let root = object(body)?;
    for required in ["userId", "activeStatus"] {
        if !root.contains_key(required) {
            return Err(invalid(&format!("must have required property '{required}'")));
        }
    }
    if root.keys().any(|k| !["userId", "activeStatus", "confirmRelinquish"].contains(&k.as_str())) {
        return Err(invalid("must NOT have additional properties"));
    }
    let user_id = string(&root["userId"]).ok_or_else(|| invalid("must be string"))?;
    let active = nullable_boolean(&root["activeStatus"]).ok_or_else(|| invalid("must be boolean"))?;
    if let Some(confirm) = root.get("confirmRelinquish") {
        nullable_boolean(confirm).ok_or_else(|| invalid("must be boolean"))?;
    }
    Ok((user_id, active))
}

/// A string as ajv's `coerceTypes` reads one: a string, a number or boolean as its text, null as "".
fn string(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Null => Some(String::new()),
        _ => None,
    }
}

/// [`boolean`], and null as false (ajv's coercion of null to a boolean).
fn nullable_boolean(v: &Value) -> Option<bool> {
    if v.is_null() { Some(false) } else { boolean(v) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(body: &str) -> String {
        match parse_set_active_status(body.as_bytes()) {
            Err(ApiError::InvalidParams(m)) => m,
            other => panic!("{body}: {other:?}"),
        }
    }

    #[test]
    fn reads_rocket_chats_body_with_its_coercions() {
        for (body, want) in [
            (r#"{"userId":"u1","activeStatus":false}"#, ("u1", false)),
            (r#"{"userId":"u1","activeStatus":true,"confirmRelinquish":true}"#, ("u1", true)),
            (r#"{"userId":"u1","activeStatus":"true"}"#, ("u1", true)),
            (r#"{"userId":"u1","activeStatus":0}"#, ("u1", false)),
            (r#"{"userId":7,"activeStatus":null}"#, ("7", false)),
        ] {
            let (id, active) = parse_set_active_status(body.as_bytes()).unwrap();
            assert_eq!((id.as_str(), active), want, "{body}");
        }
    }

    #[test]
    fn refuses_what_rocket_chat_refuses_with_its_messages() {
        assert_eq!(message(""), "must have required property 'userId'");
        assert_eq!(message(r#"{"activeStatus":true}"#), "must have required property 'userId'");
        assert_eq!(message(r#"{"userId":"u1"}"#), "must have required property 'activeStatus'");
        assert_eq!(message("[1]"), "must be object");
        assert_eq!(message("not json"), "must be object");
        assert_eq!(message(r#"{"userId":"u1","activeStatus":true,"x":1}"#), "must NOT have additional properties");
        assert_eq!(message(r#"{"userId":{},"activeStatus":true}"#), "must be string");
        assert_eq!(message(r#"{"userId":"u1","activeStatus":"no"}"#), "must be boolean");
        assert_eq!(message(r#"{"userId":"u1","activeStatus":true,"confirmRelinquish":"maybe"}"#), "must be boolean");
    }
}
