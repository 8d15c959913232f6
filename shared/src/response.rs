//! The HTTP responses both dialects build (JSON with the headers every answer carries, a
//! 503 with `Retry-After`, an empty 204), and [`ApiResponse`], a response read back into
//! plain parts for tests and tools. Each dialect's `wire` module builds its bodies.

use base64::Engine;
use lambda_http::Body;
use serde_json::Value;

/// The response type every endpoint produces; lambda_http shapes it for the event's source.
pub type Response = http::Response<Body>;

/// A JSON response with the headers every answer carries.
pub fn json(status: u16, content_type: &str, body: String) -> Response {
    with_headers(status, &[("content-type", content_type)], Body::Text(body))
}

/// Seconds a client is asked to wait (`Retry-After`) after a 503.
pub const RETRY_AFTER_SECS: u32 = 1;

/// A 503 with `Retry-After`, for a store that stayed unavailable through its retries.
pub fn unavailable(content_type: &str, body: String) -> Response {
    with_headers(
        503,
        &[("content-type", content_type), ("retry-after", &RETRY_AFTER_SECS.to_string())],
        Body::Text(body),
    )
}

/// A response without a body (204).
pub fn empty(status: u16) -> Response {
    with_headers(status, &[], Body::Empty)
}

fn with_headers(status: u16, headers: &[(&str, &str)], body: Body) -> Response {
    let mut builder = http::Response::builder().status(status);
    for (k, v) in headers {
        builder = builder.header(*k, *v);
    }
    // Session data is per-user and sensitive: never cache it anywhere.
    builder = builder.header("cache-control", "no-store");
    builder.body(body).unwrap_or_else(|_| {
        let mut r = http::Response::new(Body::Empty);
        *r.status_mut() = http::StatusCode::INTERNAL_SERVER_ERROR;
        r
    })
}

/// A response read back into plain parts: what tests and tools compare.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl ApiResponse {
    /// The parts of an `http::Response`.
    pub fn from_http(resp: Response) -> Self {
        let (parts, body) = resp.into_parts();
        let headers = parts
            .headers
            .iter()
            .filter_map(|(k, v)| Some((k.as_str().to_string(), v.to_str().ok()?.to_string())))
            .collect();
        ApiResponse { status: parts.status.as_u16(), headers, body: String::from_utf8_lossy(&body).into_owned() }
    }

    /// The parts of a response as a Lambda function returns it to API Gateway (payload 1.0
    /// or 2.0), an ALB or a Function URL: `statusCode`, `headers` and/or
    /// `multiValueHeaders`, `body` (base64 when `isBase64Encoded`).
    pub fn from_lambda(v: &Value) -> Self {
        let status = v["statusCode"].as_u64().unwrap_or(0) as u16;
        let mut headers: Vec<(String, String)> = Vec::new();
        if let Some(h) = v["headers"].as_object() {
            headers.extend(h.iter().filter_map(|(k, v)| Some((k.to_lowercase(), v.as_str()?.to_string()))));
        }
        if let Some(h) = v["multiValueHeaders"].as_object() {
            for (k, vals) in h {
                let k = k.to_lowercase();
                if headers.iter().any(|(n, _)| *n == k) {
                    continue;
                }
                for val in vals.as_array().into_iter().flatten().filter_map(Value::as_str) {
                    headers.push((k.clone(), val.to_string()));
                }
            }
        }
        let raw = v["body"].as_str().unwrap_or("");
        let body = if v["isBase64Encoded"].as_bool() == Some(true) {
            let bytes = base64::engine::general_purpose::STANDARD.decode(raw).unwrap_or_default();
            String::from_utf8_lossy(&bytes).into_owned()
        } else {
            raw.to_string()
        };
        ApiResponse { status, headers, body }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// The body parsed as JSON (`Null` when empty or not JSON).
    pub fn json_body(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }
}
