//! Requests as the handlers see them: an `http::Request` built by lambda_http from any
//! event source it knows (API Gateway HTTP API and REST API, ALB, Lambda Function URLs),
//! read through [`RequestView`].
//!
//! lambda_http builds an `http::Uri` from the event with `.expect()`, so a raw query string
//! with characters a URI rejects (curl sends `?sort={"loginAt":1}` unencoded), an invalid
//! `Host` or undecodable base64 would panic before any handler runs. [`sanitize_event`]
//! rewrites those parts of the raw event first, so such a request is answered exactly like
//! its encoded form.

use lambda_http::RequestExt;
use lambda_http::request::RequestContext;
use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};
use serde_json::Value;

use crate::core::geo::GeoDb;
use crate::core::model::Geo;

/// The request every handler takes: the `http::Request` lambda_http built, and the work a
/// handler started beside its own that must end before the answer (an activity write, which
/// so adds no sequential round trip: [`ApiRequest::defer`], [`ApiRequest::settle`]). Its
/// Debug output names the headers but shows no header value or body, which carry tokens,
/// passwords, 2FA codes and API keys.
pub struct ApiRequest {
    req: lambda_http::Request,
    deferred: std::sync::Mutex<Vec<tokio::task::JoinHandle<()>>>,
}

/// Headers whose values are secrets; marked sensitive so `http` never prints them either.
const SECRET_HEADERS: [&str; 5] = ["x-auth-token", "x-2fa-code", "x-api-key", "authorization", "cookie"];

impl ApiRequest {
    pub fn new(mut req: lambda_http::Request) -> Self {
        for name in SECRET_HEADERS {
            if let http::header::Entry::Occupied(mut e) = req.headers_mut().entry(name) {
                e.iter_mut().for_each(|v| v.set_sensitive(true));
            }
        }
        ApiRequest { req, deferred: Default::default() }
    }

    pub fn into_inner(self) -> lambda_http::Request {
        self.req
    }

    /// Runs `work` beside the handler's own; [`ApiRequest::settle`] waits for it. Work that
    /// fails must say so itself: nothing it returns reaches the answer.
    pub fn defer(&self, work: impl std::future::Future<Output = ()> + Send + 'static) {
        let task = tokio::spawn(work);
        self.deferred.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).push(task);
    }

    /// Waits for every deferred task (Lambda freezes the environment once it answers).
    pub async fn settle(&self) {
        let tasks = std::mem::take(&mut *self.deferred.lock().unwrap_or_else(|poisoned| poisoned.into_inner()));
        for task in tasks {
            if task.await.is_err() {
                tracing::warn!("a deferred task of the request panicked");
            }
        }
    }

    /// Where the client is: CloudFront's viewer headers when the deployment sits behind
    /// CloudFront (`trust_cloudfront`; anywhere else a client can send them itself), else the
    /// process's IP-geolocation database on the source address; empty when neither knows.
    pub fn location(&self, trust_cloudfront: bool) -> Geo {
        let viewer = if trust_cloudfront { cloudfront_location(self) } else { Geo::default() };
        if viewer != Geo::default() {
            return viewer;
        }
        GeoDb::global().map(|db| db.locate(&self.client_ip(trust_cloudfront))).unwrap_or_default()
    }

    /// The client's address: behind CloudFront (`trust_cloudfront`), the viewer's from
    /// `CloudFront-Viewer-Address` (the source address is then CloudFront's edge, shared by
    /// everyone it serves); otherwise, or when the header does not parse, the source address.
    /// Failed-login limits, remembered 2FA, sessions' addresses and locations all read this.
    pub fn client_ip(&self, trust_cloudfront: bool) -> String {
        let viewer = trust_cloudfront.then(|| self.header("cloudfront-viewer-address").and_then(viewer_ip)).flatten();
        viewer.unwrap_or_else(|| self.source_ip())
    }
}

/// The address of a `CloudFront-Viewer-Address` value, `<ip>:<port>` (an IPv6 address
/// unbracketed, as CloudFront writes it, or bracketed), canonical; `None` if it does not parse.
fn viewer_ip(value: &str) -> Option<String> {
    let (addr, port) = value.trim().rsplit_once(':')?;
    port.parse::<u16>().ok()?;
    let addr = addr.strip_prefix('[').and_then(|a| a.strip_suffix(']')).unwrap_or(addr);
    addr.parse::<std::net::IpAddr>().ok().map(|ip| ip.to_string())
}

/// The location headers CloudFront adds when configured to forward viewer location.
fn cloudfront_location(req: &ApiRequest) -> Geo {
    let h =
        |name: &str| req.header(name).map(str::trim).filter(|v| !v.is_empty() && v.len() <= 128).map(str::to_string);
    Geo {
        country: h("cloudfront-viewer-country-name").or_else(|| h("cloudfront-viewer-country")),
        region: h("cloudfront-viewer-country-region-name").or_else(|| h("cloudfront-viewer-country-region")),
        city: h("cloudfront-viewer-city"),
        latitude: h("cloudfront-viewer-latitude"),
        longitude: h("cloudfront-viewer-longitude"),
    }
}

impl From<lambda_http::Request> for ApiRequest {
    fn from(req: lambda_http::Request) -> Self {
        ApiRequest::new(req)
    }
}

impl std::ops::Deref for ApiRequest {
    type Target = lambda_http::Request;
    fn deref(&self) -> &Self::Target {
        &self.req
    }
}

impl std::fmt::Debug for ApiRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.req.headers().keys().map(|k| k.as_str()).collect();
        f.debug_struct("ApiRequest")
            .field("method", self.req.method())
            .field("path", &self.route_path())
            .field("headers", &names)
            .field("body_bytes", &self.body_bytes().len())
            .finish_non_exhaustive()
    }
}

/// Read access to the parts of a request the handlers use.
pub trait RequestView {
    /// A header's value, if present and valid text.
    fn header(&self, name: &str) -> Option<&str>;
    /// The `User-Agent` header, or empty.
    fn user_agent(&self) -> &str;
    /// Query parameters decoded, in the order sent, repeated keys kept (so they can be refused).
    fn query_pairs(&self) -> Vec<(String, String)>;
    /// The body's bytes (base64 already decoded).
    fn body_bytes(&self) -> &[u8];
    /// A path parameter (`{user_id}` …), decoded.
    fn path_param(&self, name: &str) -> Option<String>;
    /// The path as the client sent it (without an API Gateway stage prefix).
    fn route_path(&self) -> String;
    /// The client address: from the request context, or the address an ALB appended.
    fn source_ip(&self) -> String;
    /// API Gateway's request id, else the Lambda invocation's, if any.
    fn request_id(&self) -> Option<String>;
}

impl RequestView for lambda_http::Request {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers().get(name).and_then(|v| v.to_str().ok())
    }

    fn user_agent(&self) -> &str {
        self.header("user-agent").unwrap_or("")
    }

    fn query_pairs(&self) -> Vec<(String, String)> {
        parse_query(self.uri().query().unwrap_or(""))
    }

    fn body_bytes(&self) -> &[u8] {
        self.body().as_ref()
    }

    fn path_param(&self, name: &str) -> Option<String> {
        self.path_parameters_ref().and_then(|p| p.first(name)).map(str::to_string)
    }

    fn route_path(&self) -> String {
        let raw = self.raw_http_path();
        if raw.is_empty() { self.uri().path().to_string() } else { raw.to_string() }
    }

    fn source_ip(&self) -> String {
        let from_context = match self.request_context_ref() {
            Some(RequestContext::ApiGatewayV2(c)) => c.http.source_ip.clone(),
            Some(RequestContext::ApiGatewayV1(c)) => c.identity.source_ip.clone(),
            _ => None,
        };
        // An ALB appends the address it saw to X-Forwarded-For; earlier entries are the client's claim.
        from_context
            .or_else(|| {
                let xff = self.header("x-forwarded-for")?;
                xff.rsplit(',').next().map(|s| s.trim().to_string())
            })
            .unwrap_or_default()
    }

    fn request_id(&self) -> Option<String> {
        let from_context = match self.request_context_ref() {
            Some(RequestContext::ApiGatewayV2(c)) => c.request_id.clone(),
            Some(RequestContext::ApiGatewayV1(c)) => c.request_id.clone(),
            _ => None,
        };
        from_context
            .filter(|id| !id.is_empty())
            .or_else(|| self.lambda_context_ref().map(|c| c.request_id.clone()).filter(|id| !id.is_empty()))
    }
}

/// Decodes `a=1&b=%7B%7D` into ordered pairs (`+` is a space, as in forms).
pub fn parse_query(raw: &str) -> Vec<(String, String)> {
    form_urlencoded::parse(raw.as_bytes()).map(|(k, v)| (k.into_owned(), v.into_owned())).collect()
}

/// Bytes escaped in a query: everything RFC 3986 does not allow there (`%` is handled apart).
const QUERY_ESCAPES: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'<')
    .add(b'>')
    .add(b'`')
    .add(b'{')
    .add(b'}')
    .add(b'|')
    .add(b'\\')
    .add(b'^')
    .add(b'[')
    .add(b']')
    .add(b'%');
/// Bytes escaped in a path: as in a query, and `?` too.
const PATH_ESCAPES: &AsciiSet = &QUERY_ESCAPES.add(b'?');

/// Percent-encodes what a URI does not allow, keeping `%XX` escapes that are already there.
fn escape_uri_part(raw: &str, set: &'static AsciiSet) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(i) = rest.find('%') {
        out.extend(utf8_percent_encode(&rest[..i], set));
        let after = &rest.as_bytes()[i + 1..];
        if after.len() >= 2 && after[0].is_ascii_hexdigit() && after[1].is_ascii_hexdigit() {
            out.push_str(&rest[i..i + 3]);
            rest = &rest[i + 3..];
        } else {
            out.push_str("%25");
            rest = &rest[i + 1..];
        }
    }
    out.extend(utf8_percent_encode(rest, set));
    out
}

/// A request target (`/path?query`) with what a URI does not allow percent-encoded, as
/// API Gateway accepts it from curl; for servers whose HTTP parser is stricter.
pub fn escape_request_target(target: &str) -> String {
    match target.split_once('?') {
        Some((path, query)) => {
            format!("{}?{}", escape_uri_part(path, PATH_ESCAPES), escape_uri_part(query, QUERY_ESCAPES))
        }
        None => escape_uri_part(target, PATH_ESCAPES),
    }
}

/// A `Host` lambda_http can put in a URL: a name or address with an optional port.
fn valid_host(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= 255
        && host.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._:[]".contains(&b))
        && host.parse::<http::uri::Authority>().is_ok()
        // lambda_http builds its URL with the url crate and unwraps it (":" passes the above).
        && url::Url::parse(&format!("https://{host}/")).is_ok_and(|u| u.host().is_some())
}

/// An `X-Forwarded-Proto` lambda_http can use as a URL scheme.
fn valid_proto(proto: &str) -> bool {
    proto.eq_ignore_ascii_case("http") || proto.eq_ignore_ascii_case("https")
}

/// Rewrites the parts of a raw Lambda event that would make lambda_http panic, without
/// changing what they mean: URI characters in the query and path are percent-encoded (they
/// decode to the same text), an invalid `Host` or `X-Forwarded-Proto` is dropped, undecodable base64 is kept as text.
pub fn sanitize_event(event: &mut Value) {
    let Some(obj) = event.as_object_mut() else { return };
    if let Some(Value::String(q)) = obj.get_mut("rawQueryString") {
        *q = escape_uri_part(q, QUERY_ESCAPES);
    }
    for key in ["rawPath", "path"] {
        if let Some(Value::String(p)) = obj.get_mut(key) {
            *p = escape_uri_part(p, PATH_ESCAPES);
        }
    }
    for key in ["headers", "multiValueHeaders"] {
        if let Some(Value::Object(h)) = obj.get_mut(key) {
            h.retain(|name, value| {
                let valid: fn(&str) -> bool = if name.eq_ignore_ascii_case("host") {
                    valid_host
                } else if name.eq_ignore_ascii_case("x-forwarded-proto") {
                    valid_proto
                } else {
                    return true;
                };
                match value {
                    Value::String(s) => valid(s),
                    Value::Array(a) => a.iter().all(|v| v.as_str().is_some_and(valid)),
                    _ => false,
                }
            });
        }
    }
    if let Some(Value::Object(ctx)) = obj.get_mut("requestContext")
        && let Some(Value::String(d)) = ctx.get("domainName")
        && !valid_host(d)
    {
        ctx.remove("domainName");
    }
    if obj.get("isBase64Encoded").and_then(Value::as_bool) == Some(true) {
        use base64::Engine;
        let decodes = match obj.get("body") {
            Some(Value::String(b)) => base64::engine::general_purpose::STANDARD.decode(b).is_ok(),
            _ => true,
        };
        if !decodes {
            obj.insert("isBase64Encoded".into(), Value::Bool(false));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_cloudfront_viewer_addresses_of_both_families() {
        assert_eq!(viewer_ip("198.51.100.10:46532").as_deref(), Some("198.51.100.10"));
        assert_eq!(viewer_ip("2001:db8::1:46532").as_deref(), Some("2001:db8::1"));
        assert_eq!(viewer_ip("[2001:db8::1]:443").as_deref(), Some("2001:db8::1"));
        assert_eq!(viewer_ip("2001:0db8:0000:0000:0000:0000:0000:0001:80").as_deref(), Some("2001:db8::1"));
        for bad in ["", "198.51.100.10", "198.51.100.10:port", "not-an-ip:80", "1.2.3.4:70000", "[::1]"] {
            assert_eq!(viewer_ip(bad), None, "{bad:?}");
        }
    }

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

    #[test]
    fn escaping_keeps_the_decoded_meaning() {
        for raw in ["sort={\"loginAt\":1}&filter=a b", "a=%7B%22&b=100%&c=%zz", "x=é|^`<>[]", "plain=1&b=c+d"] {
            let escaped = escape_uri_part(raw, QUERY_ESCAPES);
            assert_eq!(parse_query(&escaped), parse_query(raw), "{raw} -> {escaped}");
            assert!(format!("/p?{escaped}").parse::<http::Uri>().is_ok(), "{escaped}");
        }
        assert_eq!(escape_uri_part("/api/users/a b/sessions", PATH_ESCAPES), "/api/users/a%20b/sessions");
    }

    #[test]
    fn hosts() {
        assert!(valid_host("localhost:9000"));
        assert!(valid_host("abc.execute-api.eu-west-1.amazonaws.com"));
        assert!(!valid_host("bad host"));
        assert!(!valid_host("a/b"));
        assert!(!valid_host(""));
        // Found by the event-conversion property: an Authority, but no URL host.
        assert!(!valid_host(":"));
        assert!(valid_host("[::1]:9000"));
    }

    #[test]
    fn a_scheme_lambda_http_cannot_use_is_dropped() {
        let mut v = serde_json::json!({"headers": {"X-Forwarded-Proto": "a b", "host": ":"}});
        sanitize_event(&mut v);
        assert_eq!(v["headers"], serde_json::json!({}));
        let mut v = serde_json::json!({"headers": {"x-forwarded-proto": "HTTPS"}});
        sanitize_event(&mut v);
        assert_eq!(v["headers"]["x-forwarded-proto"], "HTTPS");
    }

    #[test]
    fn sanitizes_an_event() {
        let mut v = serde_json::json!({
            "rawQueryString": "sort={\"loginAt\":1}",
            "rawPath": "/a b",
            "headers": {"Host": "bad host", "x": "1"},
            "requestContext": {"domainName": "x y"},
            "body": "not base64!", "isBase64Encoded": true
        });
        sanitize_event(&mut v);
        assert_eq!(v["rawQueryString"], "sort=%7B%22loginAt%22:1%7D");
        assert_eq!(v["rawPath"], "/a%20b");
        assert_eq!(v["headers"], serde_json::json!({"x": "1"}));
        assert!(v["requestContext"].get("domainName").is_none());
        assert_eq!(v["isBase64Encoded"], false);
    }
}
