//! The console's answer: the page with its policy and caching headers, or a 304 to a reload
//! that already holds this version.

use lambda_http::Body;

use super::Page;
use crate::request::{ApiRequest, RequestView};
use crate::response::Response;

/// The page for `req`: 200 with the document, or 304 when `If-None-Match` names its ETag.
/// `no-cache`: a browser keeps it but asks again each time, so a deploy shows at once.
pub fn respond_to(req: &ApiRequest, page: &Page) -> Response {
    let fresh = req.header("if-none-match").is_some_and(|tags| tags.split(',').any(|t| t.trim() == page.etag));
    let (status, body) = if fresh { (304, Body::Empty) } else { (200, Body::Text(page.html.clone())) };
    let builder = http::Response::builder()
        .status(status)
        .header("content-type", "text/html; charset=utf-8")
        .header("cache-control", "no-cache")
        .header("etag", &page.etag)
        .header("content-security-policy", &page.csp)
        .header("x-content-type-options", "nosniff")
        .header("referrer-policy", "no-referrer")
        .header("strict-transport-security", "max-age=31536000")
        .header("permissions-policy", "camera=(), microphone=(), geolocation=()");
    builder.body(body).unwrap_or_else(|_| {
        let mut r = http::Response::new(Body::Empty);
        *r.status_mut() = http::StatusCode::INTERNAL_SERVER_ERROR;
        r
    })
}
