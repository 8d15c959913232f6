//! MonoCloud's shapes: the session of seeds/003 (epoch seconds, last_metadata), the
//! `X-Pagination` header, and RFC 7807 problem+json errors.

use serde::Serialize;
use serde_json::json;

use super::{Response, empty, json as json_response, unavailable};
use crate::handlers::monocloud::{McError, McPage, McReply};
use crate::model::Session;

const JSON: &str = "application/json";
const PROBLEM: &str = "application/problem+json";

#[derive(Serialize)]
struct Metadata<'a> {
    ip_address: Option<&'a str>,
    user_agent: Option<&'a str>,
    country: Option<&'a str>,
    region: Option<&'a str>,
    city: Option<&'a str>,
    latitude: Option<&'a str>,
    longitude: Option<&'a str>,
}

/// A session as MonoCloud shows it; unknown metadata is null. No token or its hash.
#[derive(Serialize)]
pub struct McSessionView<'a> {
    session_id: &'a str,
    client_ids: &'a [String],
    initiated_at: i64,
    expires_at: i64,
    last_updated: i64,
    last_metadata: Metadata<'a>,
}

fn non_empty(s: &str) -> Option<&str> {
    (!s.is_empty()).then_some(s)
}

impl<'a> McSessionView<'a> {
    pub fn new(s: &'a Session) -> Self {
        McSessionView {
            session_id: &s.session_id,
            client_ids: &s.client_ids,
            initiated_at: s.login_at.div_euclid(1000),
            expires_at: s.expires_at,
            last_updated: s.last_activity_at.div_euclid(1000),
            last_metadata: Metadata {
                ip_address: non_empty(&s.ip),
                user_agent: non_empty(&s.user_agent),
                country: s.geo.country.as_deref(),
                region: s.geo.region.as_deref(),
                city: s.geo.city.as_deref(),
                latitude: s.geo.latitude.as_deref(),
                longitude: s.geo.longitude.as_deref(),
            },
        }
    }
}

/// `X-Pagination` for a page.
pub fn pagination(p: &McPage) -> String {
    json!({
        "total_count": p.total,
        "page_size": p.size,
        "current_page": p.page,
        "has_next": p.page.saturating_mul(p.size) < p.total,
        "has_previous": p.page > 1
    })
    .to_string()
}

/// The problem+json body of an error.
pub fn problem(e: &McError, trace_id: &str) -> (u16, serde_json::Value) {
    let (status, title, detail) = match e {
        McError::Unauthorized => (401, "Unauthorized", "A valid X-API-KEY header is required.".to_string()),
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

/// Turns a handler's result into the HTTP response.
pub fn respond(result: Result<McReply, McError>, trace_id: &str) -> Response {
    match result {
        Ok(McReply::Page(p)) => {
            let rows: Vec<McSessionView> = p.sessions.iter().map(McSessionView::new).collect();
            let mut r = json_response(200, JSON, serde_json::to_string(&rows).unwrap_or_else(|_| "[]".into()));
            if let Ok(v) = http::HeaderValue::try_from(pagination(&p)) {
                r.headers_mut().insert("x-pagination", v);
            }
            r
        }
        Ok(McReply::Session(s)) => {
            json_response(200, JSON, serde_json::to_string(&McSessionView::new(&s)).unwrap_or_default())
        }
        Ok(McReply::Revoked) => empty(204),
        Ok(McReply::RevokedCount(n)) => json_response(200, JSON, json!({ "count": n }).to_string()),
        Err(e) => {
            match &e {
                McError::Internal(detail) => tracing::error!(%detail, %trace_id, "request failed"),
                McError::Unavailable(detail) => tracing::warn!(%detail, %trace_id, "store unavailable"),
                _ => {}
            }
            let (status, body) = problem(&e, trace_id);
            if status == 503 {
                return unavailable(PROBLEM, body.to_string());
            }
            json_response(status, PROBLEM, body.to_string())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pagination_at_both_ends() {
        let page = |page, total| McPage { sessions: vec![], total, page, size: 2 };
        let h: serde_json::Value = serde_json::from_str(&pagination(&page(1, 5))).unwrap();
        assert_eq!(
            h,
            json!({"total_count": 5, "page_size": 2, "current_page": 1, "has_next": true, "has_previous": false})
        );
        let h: serde_json::Value = serde_json::from_str(&pagination(&page(3, 5))).unwrap();
        assert_eq!((h["has_next"].clone(), h["has_previous"].clone()), (json!(false), json!(true)));
        let h: serde_json::Value = serde_json::from_str(&pagination(&page(2, 4))).unwrap();
        assert_eq!(h["has_next"], json!(false));
    }

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
