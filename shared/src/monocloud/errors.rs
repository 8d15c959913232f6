//! Why a MonoCloud-dialect request failed, and its RFC 7807 problem+json body.

use std::collections::BTreeMap;

use serde_json::json;

use crate::core::scopes::Scope;
use crate::store::StoreError;

/// Why a MonoCloud-dialect request failed; rendered as RFC 7807 problem+json.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum McError {
    #[error("unauthorized")]
    Unauthorized,
    /// The key is valid but lacks the route's scope (core::scopes).
    #[error("forbidden: the key lacks {}", .0.name())]
    Forbidden(Scope),
    #[error("not found: {0}")]
    NotFound(&'static str),
    /// A query that cannot be parsed.
    #[error("bad request: {0}")]
    BadRequest(String),
    /// Values out of range or unknown, by parameter.
    #[error("validation failed")]
    Validation(BTreeMap<String, Vec<String>>),
    /// DynamoDB throttled, conflicting or timing out after bounded retries: 503, Retry-After.
    #[error("unavailable: {0}")]
    Unavailable(String),
    #[error("internal: {0}")]
    Internal(String),
}

impl From<StoreError> for McError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Unavailable(_) => McError::Unavailable(e.to_string()),
            _ => McError::Internal(e.to_string()),
        }
    }
}

/// The problem+json body of an error.
pub fn problem(e: &McError, trace_id: &str) -> (u16, serde_json::Value) {
    let (status, title, detail) = match e {
        McError::Unauthorized => (401, "Unauthorized", "A valid X-API-KEY header is required.".to_string()),
        McError::Forbidden(scope) => {
            (403, "Forbidden", format!("The API key does not have the scope '{}' this route needs.", scope.name()))
        }
        McError::NotFound(what) => (404, "Not Found", what.to_string()),
        McError::BadRequest(d) => (400, "Bad Request", d.clone()),
        McError::Validation(_) => (422, "One or more validation errors occurred.", "See errors.".to_string()),
        McError::Unavailable(_) => {
            (503, "Service Unavailable", "The service is temporarily unavailable, try again.".to_string())
        }
        McError::Internal(_) => (500, "Internal Server Error", "An unexpected error occurred.".to_string()),
    };
    let mut body = json!({
        "type": format!("https://httpstatuses.io/{status}"),
        "title": title,
        "status": status,
        "detail": detail,
        "traceId": trace_id,
    });
    if let McError::Validation(errors) = e {
        body["type"] = json!("https://httpstatuses.io/422#validation-error");
        body["errors"] = json!(errors);
    }
    (status, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_problem_names_the_parameter() {
        let mut errors = std::collections::BTreeMap::new();
        errors.insert("size".to_string(), vec!["The field size must be between 1 and 100.".to_string()]);
        let (status, body) = problem(&McError::Validation(errors), "t1");
        assert_eq!(status, 422);
        assert_eq!(body["type"], "https://httpstatuses.io/422#validation-error");
        assert_eq!(body["errors"]["size"][0], "The field size must be between 1 and 100.");
        assert_eq!(body["traceId"], "t1");
    }
}
