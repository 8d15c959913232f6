//! The parts of an HTTP request the handlers read, taken once from the API Gateway
//! (HTTP API, payload 2.0) event.
//!
//! The event is read directly rather than through an `http::Request`: a raw query
//! string that is not a valid URI (an unencoded `"` or space) must give a clear 400
//! from our parser, not fail in a conversion before any handler runs.

use std::collections::HashMap;

use aws_lambda_events::apigw::ApiGatewayV2httpRequest;
use base64::Engine;
use http::HeaderMap;

/// A request as the handlers see it.
#[derive(Clone, Debug, Default)]
pub struct ApiRequest {
    pub method: String,
    pub path: String,
    pub headers: HeaderMap,
    /// Query parameters decoded, in the order sent, repeated keys kept (so they can be refused).
    pub query: Vec<(String, String)>,
    /// Path parameters API Gateway matched (`{user_id}` …).
    pub path_params: HashMap<String, String>,
    pub body: Vec<u8>,
    /// Client address from the request context.
    pub source_ip: String,
    /// API Gateway's request id (MonoCloud errors echo it as traceId).
    pub request_id: String,
}

impl ApiRequest {
    /// Reads an API Gateway HTTP API event, as Lambda delivers it and as events/ hold it.
    pub fn from_event(ev: ApiGatewayV2httpRequest) -> Self {
        let query = match ev.raw_query_string.as_deref() {
            Some(raw) if !raw.is_empty() => parse_query(raw),
            // Hand-written events may carry only the already-decoded map.
            _ => ev
                .query_string_parameters
                .iter()
                .flat_map(|(k, _)| {
                    let values = ev.query_string_parameters.all(k).unwrap_or_default();
                    values.into_iter().map(move |v| (k.to_string(), v.to_string()))
                })
                .collect(),
        };
        let body = match ev.body {
            None => Vec::new(),
            // Undecodable base64 is kept as is, so the body parser rejects it with a clear error.
            Some(b) if ev.is_base64_encoded => {
                base64::engine::general_purpose::STANDARD.decode(b.as_bytes()).unwrap_or_else(|_| b.into_bytes())
            }
            Some(b) => b.into_bytes(),
        };
        let request_id = ev.request_context.request_id.clone().unwrap_or_default();
        let http = ev.request_context.http;
        ApiRequest {
            method: http.method.as_str().to_string(),
            path: ev.raw_path.or(http.path).unwrap_or_default(),
            headers: ev.headers,
            query,
            path_params: ev.path_parameters,
            body,
            source_ip: http.source_ip.unwrap_or_default(),
            request_id,
        }
    }

    /// A header's value, if present and valid text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The `User-Agent` header, or empty.
    pub fn user_agent(&self) -> &str {
        self.header("user-agent").unwrap_or("")
    }
}

/// Decodes `a=1&b=%7B%7D` into ordered pairs (`+` is a space, as in forms).
pub fn parse_query(raw: &str) -> Vec<(String, String)> {
    form_urlencoded::parse(raw.as_bytes()).map(|(k, v)| (k.into_owned(), v.into_owned())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_and_keeps_repeats() {
        assert_eq!(
            parse_query("sort=%7B%22loginAt%22%3A1%7D&count=2&count=3&filter=a+b"),
            vec![
                ("sort".into(), "{\"loginAt\":1}".into()),
                ("count".into(), "2".into()),
                ("count".into(), "3".into()),
                ("filter".into(), "a b".into()),
            ]
        );
    }

    fn event(v: serde_json::Value) -> ApiRequest {
        ApiRequest::from_event(serde_json::from_value(v).unwrap())
    }

    #[test]
    fn reads_an_http_api_event_with_an_unencoded_query() {
        let r = event(serde_json::json!({
            "version": "2.0", "routeKey": "GET /p", "rawPath": "/p",
            "rawQueryString": "sort={\"loginAt\":1}&filter=a b",
            "headers": {"x-user-id": "u"},
            "requestContext": {"http": {"method": "GET", "path": "/p", "sourceIp": "10.0.0.1"}},
            "isBase64Encoded": false
        }));
        assert_eq!(r.query[0], ("sort".into(), "{\"loginAt\":1}".into()));
        assert_eq!(r.query[1], ("filter".into(), "a b".into()));
        assert_eq!((r.method.as_str(), r.path.as_str(), r.source_ip.as_str()), ("GET", "/p", "10.0.0.1"));
        assert_eq!(r.header("X-User-Id"), Some("u"));
    }

    #[test]
    fn decodes_base64_bodies_and_reads_the_map_when_raw_is_absent() {
        let r = event(serde_json::json!({
            "rawPath": "/p", "queryStringParameters": {"count": "2"},
            "requestContext": {"http": {"method": "POST"}},
            "body": "eyJhIjoxfQ==", "isBase64Encoded": true
        }));
        assert_eq!(r.body, br#"{"a":1}"#);
        assert_eq!(r.query, vec![("count".to_string(), "2".to_string())]);
    }
}
