//! MonoCloud's shapes: the session of docs/seeds/003 (epoch seconds, last_metadata), the
//! `X-Pagination` header, and the response of every result (errors: [`super::errors`]).

use serde::Serialize;
use serde_json::json;

use super::errors::{McError, problem};
use super::handlers::blocks::IpAccess;
use super::handlers::users::UserChanged;
use super::handlers::{McPage, McReply};
use crate::core::clock::Millis;
use crate::core::ids::new_id;
use crate::core::model::Session;
use crate::core::travel::Risk;
use crate::request::{ApiRequest, RequestView};
use crate::response::{Response, empty, json as json_response, unavailable};

const JSON: &str = "application/json";
pub(crate) const PROBLEM: &str = "application/problem+json";

#[derive(Serialize)]
struct Metadata<'a> {
    ip_address: Option<&'a str>,
    user_agent: Option<&'a str>,
    country: Option<&'a str>,
    region: Option<&'a str>,
    city: Option<&'a str>,
    latitude: Option<&'a str>,
    longitude: Option<&'a str>,
    /// Why the session is suspect (impossible travel), when it was flagged.
    #[serde(skip_serializing_if = "Option::is_none")]
    risk: Option<&'a Risk>,
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
    /// The session, its `last_metadata` from its newest recorded use (its login's until one is
    /// recorded).
    pub fn new(s: &'a Session) -> Self {
        let (ip, user_agent, geo) = match &s.last_use {
            Some(last) => (&last.ip, &last.user_agent, &last.geo),
            None => (&s.ip, &s.user_agent, &s.geo),
        };
        McSessionView {
            session_id: &s.session_id,
            client_ids: &s.client_ids,
            initiated_at: s.login_at.div_euclid(1000),
            expires_at: s.expires_at,
            last_updated: s.last_activity_at.div_euclid(1000),
            last_metadata: Metadata {
                ip_address: non_empty(ip),
                user_agent: non_empty(user_agent),
                country: geo.country.as_deref(),
                region: geo.region.as_deref(),
                city: geo.city.as_deref(),
                latitude: geo.latitude.as_deref(),
                longitude: geo.longitude.as_deref(),
                risk: s.risk.as_ref(),
            },
        }
    }
}

/// `X-Pagination` for a page.
pub fn pagination(p: &McPage) -> String {
    pagination_of(p.total, p.page, p.size)
}

/// `X-Pagination` for page `page` of `size` rows out of `total`.
fn pagination_of(total: usize, page: usize, size: usize) -> String {
    json!({
        "total_count": total,
        "page_size": size,
        "current_page": page,
        "has_next": page.saturating_mul(size) < total,
        "has_previous": page > 1
    })
    .to_string()
}

/// A JSON array body with its `X-Pagination` header.
fn paged(rows: String, header: String) -> Response {
    let mut r = json_response(200, JSON, rows);
    if let Ok(v) = http::HeaderValue::try_from(header) {
        r.headers_mut().insert("x-pagination", v);
    }
    r
}

/// [`respond`] with the request's id as the problem's `traceId` (a new id where the event
/// carries none), as the route table calls every dialect.
pub fn respond_to(req: &ApiRequest, result: Result<McReply, McError>) -> Response {
    let trace_id = req.request_id().unwrap_or_else(new_id);
    respond(result, &trace_id)
}

/// Turns a handler's result into the HTTP response.
pub fn respond(result: Result<McReply, McError>, trace_id: &str) -> Response {
    match result {
        Ok(McReply::Page(p)) => {
            let rows: Vec<McSessionView> = p.sessions.iter().map(McSessionView::new).collect();
            paged(serde_json::to_string(&rows).unwrap_or_else(|_| "[]".into()), pagination(&p))
        }
        Ok(McReply::Logs(p)) => paged(
            serde_json::to_string(&p.entries).unwrap_or_else(|_| "[]".into()),
            pagination_of(p.total, p.page, p.size),
        ),
        Ok(McReply::Session(s)) => {
            json_response(200, JSON, serde_json::to_string(&McSessionView::new(&s)).unwrap_or_default())
        }
        Ok(McReply::Revoked) => empty(204),
        Ok(McReply::RevokedCount(n)) => json_response(200, JSON, json!({ "count": n }).to_string()),
        Ok(McReply::User(u)) => json_response(200, JSON, user_body(&u).to_string()),
        Ok(McReply::BlockedIps(p)) => {
            let rows: Vec<serde_json::Value> = p.rows.iter().map(ip_access_body).collect();
            paged(serde_json::Value::Array(rows).to_string(), pagination_of(p.total, p.page, p.size))
        }
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

/// MonoCloud's `User` of an account (users-api.ts's model): what this API keeps, and the
/// empty or zero value of everything it does not (docs/monocloud.md#the-user). Ids of emails
/// and the username are derived from their text, so they stay the same between calls.
fn user_body(changed: &UserChanged) -> serde_json::Value {
    let user = &changed.user;
    let derived = |kind: &str, text: &str| crate::core::ids::sha256_hex(&format!("{kind}:{text}"))[..24].to_string();
    let emails: Vec<serde_json::Value> = user
        .emails
        .iter()
        .enumerate()
        .map(|(i, email)| {
            json!({"id": derived("email", email), "primary": i == 0, "verified": false, "source": null,
                   "verification_source": null, "email": email})
        })
        .collect();
    json!({
        "user_id": user.user_id,
        "disabled": !user.active,
        "connections": [], "claims": {}, "public_data": {}, "private_data": {},
        "emails": emails,
        "phone_numbers": [], "passkeys": [],
        "force_password_reset": false,
        "external_providers": [],
        "creation_time": 0,
        "last_updated": changed.at.div_euclid(1000),
        "username": {"id": derived("username", &user.username), "username": user.username, "source": null},
        "has_password": user.password_bcrypt.is_some(),
        "password_updated_at": null,
        "block_until": changed.block.blocked_until.map(epoch_secs_up),
        "failure_count": changed.block.failures, "sign_in_attempts_count": 0,
        "last_sign_in_attempt": null, "last_sign_in_attempt_ip": null,
        "sign_in_success_count": 0, "last_sign_in_success": null, "last_sign_in_success_ip": null,
        "last_activity": null, "last_known_city": null, "last_known_country": null, "last_known_region": null,
    })
}

/// MonoCloud's `UserIpAccessDetails` of an address (users-api.ts's model).
fn ip_access_body(row: &IpAccess) -> serde_json::Value {
    json!({
        "failure_count": row.block.failures,
        "block_until": row.block.blocked_until.map(epoch_secs_up),
        "sign_in_attempts_count": row.attempts.attempts,
        "ip": row.attempts.ip,
        "last_sign_in_attempt": row.attempts.last_attempt,
    })
}

/// Epoch seconds of a time in milliseconds, rounded up: a block shown to end at a second has
/// ended by then.
fn epoch_secs_up(ms: Millis) -> i64 {
    ms.div_euclid(1000) + i64::from(ms.rem_euclid(1000) > 0)
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
}
