//! How Rocket.Chat's ajv reads a JSON body (`coerceTypes`, first error only), shared by the
//! bodies checked against its schemas (preferences_body, active_status_body).

use serde_json::{Map, Value};

use super::errors::ApiError;

pub fn invalid(message: &str) -> ApiError {
    ApiError::InvalidParams(message.into())
}

/// The body as an object: an empty body is `{}`; anything else that is not one is
/// ajv's "must be object".
pub fn object(body: &[u8]) -> Result<Map<String, Value>, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match serde_json::from_slice(body) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(invalid("must be object")),
    }
}

/// A boolean as `coerceTypes` reads one: true/false, "true"/"false", 1/0 (null is each
/// caller's own rule).
pub fn boolean(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::String(s) if s == "true" => Some(true),
        Value::String(s) if s == "false" => Some(false),
        Value::Number(n) if n.as_i64() == Some(1) => Some(true),
        Value::Number(n) if n.as_i64() == Some(0) => Some(false),
        _ => None,
    }
}
