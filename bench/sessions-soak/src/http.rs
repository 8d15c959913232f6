//! The soak's HTTP client: one call in, its status, JSON body and timing out. hyper and
//! hyper-util's client are already in the workspace (under the AWS SDK), so no new crate.
//! The local server answers one request per connection, so every call opens its own.

use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;

/// A call that has no answer after this long counts as unanswered.
const TIMEOUT: Duration = Duration::from_secs(30);

/// One request: method, path with query, headers and an optional JSON body. Its Debug
/// output names the headers but never shows a value (tokens, codes, the API key).
pub struct Call {
    method: http::Method,
    path: String,
    headers: Vec<(&'static str, String)>,
    body: Option<Value>,
}

impl std::fmt::Debug for Call {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.headers.iter().map(|(n, _)| *n).collect();
        f.debug_struct("Call").field("method", &self.method).field("path", &self.path).field("headers", &names).finish()
    }
}

impl Call {
    pub fn get(path: impl Into<String>) -> Call {
        Call { method: http::Method::GET, path: path.into(), headers: Vec::new(), body: None }
    }

    pub fn post(path: impl Into<String>, body: Value) -> Call {
        Call { method: http::Method::POST, path: path.into(), headers: Vec::new(), body: Some(body) }
    }

    /// A POST without a body (logout).
    pub fn post_empty(path: impl Into<String>) -> Call {
        Call { method: http::Method::POST, path: path.into(), headers: Vec::new(), body: None }
    }

    pub fn delete(path: impl Into<String>) -> Call {
        Call { method: http::Method::DELETE, path: path.into(), headers: Vec::new(), body: None }
    }

    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> Call {
        self.headers.push((name, value.into()));
        self
    }

    pub fn headers(mut self, headers: Vec<(&'static str, String)>) -> Call {
        self.headers.extend(headers);
        self
    }
}

/// What came back: status (0 when nothing did: refused, reset or timed out), the body as
/// JSON (null when empty or not JSON), when the call was sent and answered, in ms since
/// the soak's start. Its Debug output leaves the body out (a login's carries a token).
pub struct Answer {
    pub status: u16,
    pub body: Value,
    pub sent: f64,
    pub answered: f64,
}

impl std::fmt::Debug for Answer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Answer").field("status", &self.status).field("ms", &self.ms()).finish_non_exhaustive()
    }
}

impl Answer {
    pub fn ms(&self) -> f64 {
        self.answered - self.sent
    }

    /// The answer as the report counts it: the status, and for an error its code
    /// (`errorType`, `error`, a problem's `title`, or `message`), e.g. `400 totp-invalid`.
    pub fn label(&self) -> String {
        if self.status == 0 {
            return "no answer".into();
        }
        if self.status < 300 {
            return self.status.to_string();
        }
        let b = &self.body;
        let code = [&b["errorType"], &b["error"], &b["title"], &b["message"]].into_iter().find_map(Value::as_str);
        match code {
            Some(c) => format!("{} {}", self.status, c.chars().take(60).collect::<String>()),
            None => self.status.to_string(),
        }
    }

    /// Whether this is Rocket.Chat's `totp-required` (a 2FA route without a trusted token).
    pub fn totp_required(&self) -> bool {
        self.status == 400 && self.body["errorType"] == "totp-required"
    }
}

/// A client for one base address (`http://127.0.0.1:<port>`), timing from `epoch`.
#[derive(Clone)]
pub struct Http {
    client: Client<HttpConnector, Full<Bytes>>,
    base: String,
    epoch: Instant,
}

impl Http {
    pub fn new(base: &str, epoch: Instant) -> Http {
        let client = Client::builder(TokioExecutor::new()).pool_max_idle_per_host(0).build_http();
        Http { client, base: base.trim_end_matches('/').to_string(), epoch }
    }

    /// Milliseconds since the soak's start.
    pub fn now(&self) -> f64 {
        self.epoch.elapsed().as_secs_f64() * 1000.0
    }

    /// Sends `call` and waits for the whole answer (at most [`TIMEOUT`]).
    pub async fn send(&self, call: Call) -> Answer {
        let sent = self.now();
        let (status, body) = match tokio::time::timeout(TIMEOUT, self.exchange(call)).await {
            Ok(Some(answer)) => answer,
            Ok(None) | Err(_) => (0, Value::Null),
        };
        Answer { status, body, sent, answered: self.now() }
    }

    async fn exchange(&self, call: Call) -> Option<(u16, Value)> {
        let mut req = http::Request::builder().method(call.method).uri(format!("{}{}", self.base, call.path));
        for (name, value) in call.headers {
            req = req.header(name, value);
        }
        let body = match call.body {
            Some(json) => {
                req = req.header("content-type", "application/json");
                Full::new(Bytes::from(json.to_string()))
            }
            None => Full::new(Bytes::new()),
        };
        let resp = self.client.request(req.body(body).ok()?).await.ok()?;
        let status = resp.status().as_u16();
        let bytes = resp.into_body().collect().await.ok()?.to_bytes();
        Some((status, serde_json::from_slice(&bytes).unwrap_or(Value::Null)))
    }
}
