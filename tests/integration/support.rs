//! Test harness: a fresh table per test on the DynamoDB that `AWS_ENDPOINT_URL` points
//! at (DynamoDB Local, started by scripts/test), requests built as API Gateway events.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use aws_lambda_events::apigw::ApiGatewayV2httpRequest;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::{Value, json};
use sessions_api::Config;
use sessions_api::core::clock::{Millis, now_ms};
use sessions_api::core::ids::new_id;
use sessions_api::core::model::{Device, Os};
use sessions_api::request::{ApiRequest, RequestView};
use sessions_api::response::ApiResponse;
use sessions_api::runner;
use sessions_api::store::faults::Faults;
use sessions_api::store::{DynamoStore, UserStore};
use sessions_api::{App, Endpoint};
use sessions_cli::admin::{IssuedLogin, LoginSpec, issue_login};
use sessions_cli::demo;
use sessions_cli::progress::ProgressBar;
use sessions_cli::table::{TableDefinition, create_table};

pub use sessions_cli::demo::{ADMIN_ID, DEMO_ADMIN_TOTP_SECRET, DEMO_PASSWORD, TEST_USER_ID, demo_token};

/// testroxie: an admin without 2FA, so its step-up method is the password.
pub const ROXIE_ID: &str = "2tTEqR7ZNMJ4HGGNa";
pub const ROXIE_SESSION: &str = "o94SveQp6fyPsoiNC";
pub const ADMIN_SESSION: &str = "hM6bYJqLoXZ3rDe4C";

/// The demo admin's TOTP code at `now_ms`.
pub fn admin_totp(now_ms: Millis) -> String {
    sessions_api::core::totp::code_at(DEMO_ADMIN_TOTP_SECRET, now_ms / 1000).unwrap()
}

/// The password-method code: SHA-256 hex of the password.
pub fn password_code(password: &str) -> String {
    sessions_api::core::ids::sha256_hex(password)
}

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs an event through `endpoint` as its Lambda function does: the raw event JSON,
/// lambda_http's conversion, the handler, and the response Lambda would return, read back.
pub async fn invoke(app: &App, endpoint: Endpoint, event: impl serde::Serialize) -> ApiResponse {
    let event = serde_json::to_value(event).expect("event serializes");
    let out = runner::invoke(Arc::new(app.clone()), endpoint, event, lambda_runtime::Context::default())
        .await
        .expect("the function answers");
    ApiResponse::from_lambda(&out)
}

/// The `http::Request` lambda_http builds from an event, for calling a handler directly.
pub fn http_request(event: &ApiGatewayV2httpRequest) -> ApiRequest {
    ApiRequest::new(lambda_http::request::from_str(&serde_json::to_string(event).unwrap()).expect("an HTTP event"))
}

/// A test's own table, seeded with the demo data unless asked not to be.
pub struct TestEnv {
    pub app: App,
    pub seeded_at: Millis,
}

async fn client() -> Client {
    assert!(
        std::env::var("AWS_ENDPOINT_URL").is_ok(),
        "integration tests need a DynamoDB endpoint in AWS_ENDPOINT_URL: run them with scripts/test"
    );
    relaxed(DynamoStore::client_from_env().await)
}

/// The functions' client with longer timeouts: DynamoDB Local, on a machine shared with
/// parallel tests and builds, can take seconds where DynamoDB takes milliseconds. The
/// retry policy is the functions' own.
fn relaxed(client: Client) -> Client {
    let timeouts = aws_sdk_dynamodb::config::timeout::TimeoutConfig::builder()
        .operation_attempt_timeout(std::time::Duration::from_secs(15))
        .operation_timeout(std::time::Duration::from_secs(30))
        .build();
    Client::from_conf(client.config().to_builder().timeout_config(timeouts).build())
}

impl TestEnv {
    /// A new table with the demo users and sessions.
    pub async fn seeded() -> TestEnv {
        let env = TestEnv::empty().await;
        demo::seed(&env.app.store, &env.app.config, env.seeded_at, &ProgressBar::hidden())
            .await
            .expect("seed demo data");
        env
    }

    /// A new table with the demo data, its order indexes spread over `shards` partitions.
    pub async fn seeded_with_order_shards(shards: u32) -> TestEnv {
        let mut env = TestEnv::empty().await;
        env.app.config.order_shards = shards;
        env.app.store = env.app.store.clone().with_order_shards(shards);
        demo::seed(&env.app.store, &env.app.config, env.seeded_at, &ProgressBar::hidden())
            .await
            .expect("seed demo data");
        env
    }

    /// An app whose table does not exist, so every store call fails (the 500 paths).
    pub async fn without_table() -> TestEnv {
        let client = client().await;
        let table = format!("missing-{}", new_id());
        let config = test_config(&table);
        TestEnv { app: App::new(config, DynamoStore::new(client, table)), seeded_at: now_ms() }
    }

    /// A table with the demo data whose DynamoDB client sends through `faults` (switch
    /// them on after this returns). Its SDK retry quota is its own, so draining it with
    /// failures leaves other tests' retries alone.
    pub async fn seeded_with_faults(faults: &Faults) -> TestEnv {
        client().await; // checks AWS_ENDPOINT_URL
        let sdk = aws_config::from_env().http_client(faults.default_http_client()).load().await;
        let partition = aws_sdk_dynamodb::config::retry::RetryPartition::new("fault-injection-tests");
        let config = DynamoStore::client_for(&sdk).config().to_builder().retry_partition(partition).build();
        let env = TestEnv::empty_with(relaxed(Client::from_conf(config))).await;
        demo::seed(&env.app.store, &env.app.config, env.seeded_at, &ProgressBar::hidden())
            .await
            .expect("seed demo data");
        // Tests count what the code under test sends, not the seeding.
        faults.reset_counts();
        env
    }

    /// A new, empty table created from template.yaml.
    pub async fn empty() -> TestEnv {
        TestEnv::empty_with(client().await).await
    }

    /// A new table with the demo data and the template's stream, which tests read through
    /// the Streams API ([`TestEnv::stream_tail`]). Other tables have none: DynamoDB Local
    /// keeps every stream record, and most tests never read them.
    pub async fn seeded_with_stream() -> TestEnv {
        let env = TestEnv::empty_with_stream(client().await, true).await;
        demo::seed(&env.app.store, &env.app.config, env.seeded_at, &ProgressBar::hidden())
            .await
            .expect("seed demo data");
        env
    }

    async fn empty_with(client: Client) -> TestEnv {
        TestEnv::empty_with_stream(client, false).await
    }

    async fn empty_with_stream(client: Client, stream: bool) -> TestEnv {
        let table = format!("test-{}", new_id());
        let mut def = TableDefinition::from_template(&repo_root().join("template.yaml")).expect("template table");
        if !stream {
            def.stream_specification = None;
        }
        create_table(&client, &table, &def).await.expect("create table");
        let config = test_config(&table);
        TestEnv { app: App::new(config, DynamoStore::new(client, table)), seeded_at: now_ms() }
    }

    pub async fn send(&self, endpoint: Endpoint, req: Req) -> ApiResponse {
        invoke(&self.app, endpoint, req.event(endpoint)).await
    }

    /// Runs an events/ file through the function it is named after (`<function>[-case].json`),
    /// checking that the event's own method and path route there too.
    pub async fn send_event(&self, file: &Path) -> (Endpoint, ApiResponse) {
        let text = std::fs::read_to_string(file).expect("read event");
        let stem = file.file_stem().unwrap().to_string_lossy().into_owned();
        let endpoint = *Endpoint::ALL
            .iter()
            .filter(|e| stem == e.function() || stem.starts_with(&format!("{}-", e.function())))
            .max_by_key(|e| e.function().len())
            .unwrap_or_else(|| panic!("{stem}: named after no function"));
        let req = lambda_http::request::from_str(&text).expect("an HTTP event lambda_http reads");
        let routed = Endpoint::route(req.method().as_str(), &req.route_path()).map(|r| r.0);
        assert_eq!(routed, Ok(endpoint), "{stem}: its method and path route elsewhere");
        let event: Value = serde_json::from_str(&text).expect("event is JSON");
        (endpoint, invoke(&self.app, endpoint, event).await)
    }

    /// Logs `user_id` in again with a new random token, on the given device.
    pub async fn login(&self, user_id: &str, device_name: &str, os: &str, login_at: Millis) -> IssuedLogin {
        let user = self.app.store.user(user_id).await.unwrap().expect("user exists");
        let spec = LoginSpec {
            device: Device {
                kind: "browser".into(),
                name: device_name.into(),
                long_version: "1.0.0".into(),
                os: Os { name: os.into(), version: "1".into() },
                version: "1.0".into(),
            },
            ip: "10.1.2.3".into(),
            host: "localhost:3000".into(),
            user_agent: "test".into(),
            login_at: Some(login_at),
            ..Default::default()
        };
        issue_login(&self.app.store, &self.app.config, &user, spec).await.expect("login")
    }

    /// One item by its keys, read consistently.
    pub async fn item(&self, pk: &str, sk: &str) -> Option<std::collections::HashMap<String, AttributeValue>> {
        let store = &self.app.store;
        let get = store.client().get_item().table_name(store.table()).consistent_read(true);
        let get = get.key("PK", AttributeValue::S(pk.into())).key("SK", AttributeValue::S(sk.into()));
        get.send().await.expect("get item").item
    }

    /// Deletes one item by its keys, as hand edits of the table would.
    pub async fn delete_item(&self, pk: &str, sk: &str) {
        let store = &self.app.store;
        let delete = store.client().delete_item().table_name(store.table());
        let delete = delete.key("PK", AttributeValue::S(pk.into())).key("SK", AttributeValue::S(sk.into()));
        delete.send().await.expect("delete item");
    }

    /// Every item in the table, by a consistent Scan that follows every page.
    pub async fn items(&self) -> Vec<std::collections::HashMap<String, AttributeValue>> {
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let out = self
                .app
                .store
                .client()
                .scan()
                .table_name(self.app.store.table())
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .send()
                .await
                .expect("scan");
            items.extend(out.items.unwrap_or_default());
            match out.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => break,
            }
        }
        items
    }

    /// Every item in the table, in a stable order (to show a request changed nothing).
    pub async fn snapshot(&self) -> Vec<String> {
        let mut items: Vec<String> = self.items().await.iter().map(canonical_map).collect();
        items.sort();
        items
    }
}

/// An item as text with every map's keys sorted, so equal items print equally.
fn canonical_map(m: &std::collections::HashMap<String, AttributeValue>) -> String {
    let mut pairs: Vec<String> = m.iter().map(|(k, v)| format!("{k}={}", canonical(v))).collect();
    pairs.sort();
    format!("{{{}}}", pairs.join(","))
}

fn canonical(v: &AttributeValue) -> String {
    match v {
        AttributeValue::M(m) => canonical_map(m),
        AttributeValue::L(l) => format!("[{}]", l.iter().map(canonical).collect::<Vec<_>>().join(",")),
        other => format!("{other:?}"),
    }
}

/// Credentials of a demo session: its user and fixed token.
pub fn demo_auth(user_id: &str, session_id: &str) -> (String, String) {
    (user_id.to_string(), demo_token(session_id))
}

/// A request to build into a payload-2.0 event.
#[derive(Default, Clone)]
pub struct Req {
    headers: Vec<(String, String)>,
    raw_query: String,
    body: Option<String>,
    source_ip: Option<String>,
    method: Option<String>,
}

impl Req {
    pub fn new() -> Req {
        Req::default()
    }

    pub fn auth(self, (user_id, token): &(String, String)) -> Req {
        self.header("X-User-Id", user_id).header("X-Auth-Token", token)
    }

    pub fn header(mut self, name: &str, value: &str) -> Req {
        self.headers.push((name.to_lowercase(), value.to_string()));
        self
    }

    /// The raw query string, as a client sent it.
    pub fn query(mut self, raw: &str) -> Req {
        self.raw_query = raw.to_string();
        self
    }

    /// One parameter, percent-encoded.
    pub fn param(mut self, name: &str, value: &str) -> Req {
        if !self.raw_query.is_empty() {
            self.raw_query.push('&');
        }
        self.raw_query.push_str(&format!("{}={}", encode(name), encode(value)));
        self
    }

    /// The client address API Gateway reports.
    pub fn ip(mut self, ip: &str) -> Req {
        self.source_ip = Some(ip.to_string());
        self
    }

    /// Another method than the endpoint's primary one.
    pub fn method(mut self, method: &str) -> Req {
        self.method = Some(method.to_string());
        self
    }

    /// A 2FA code (`X-2fa-Code`).
    pub fn code(self, code: &str) -> Req {
        self.header("x-2fa-code", code)
    }

    pub fn body(mut self, body: &str) -> Req {
        self.body = Some(body.to_string());
        self
    }

    pub fn json(self, v: Value) -> Req {
        self.header("content-type", "application/json").body(&v.to_string())
    }

    pub fn event(&self, endpoint: Endpoint) -> ApiGatewayV2httpRequest {
        let headers: serde_json::Map<String, Value> =
            self.headers.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect();
        let method = self.method.clone().unwrap_or_else(|| endpoint.method().to_string());
        let route = format!("{method} {}", endpoint.path());
        serde_json::from_value(json!({
            "version": "2.0",
            "routeKey": route,
            "rawPath": endpoint.path(),
            "rawQueryString": self.raw_query,
            "headers": headers,
            "requestContext": {
                "http": {"method": method, "path": endpoint.path(), "protocol": "HTTP/1.1",
                         "sourceIp": self.source_ip.clone().unwrap_or_else(|| "198.51.100.7".into()),
                         "userAgent": self.headers.iter().find(|(k, _)| k == "user-agent").map(|(_, v)| v.clone()).unwrap_or_default()},
                "requestId": "test", "routeKey": route, "stage": "$default", "timeEpoch": 0
            },
            "body": self.body,
            "isBase64Encoded": false
        }))
        .expect("valid event")
    }
}

/// Percent-encodes everything but unreserved characters.
pub fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The user id and token of a successful login's answer.
#[track_caller]
pub fn credentials(resp: &ApiResponse) -> (String, String) {
    assert_eq!(resp.status, 200, "{}", resp.body);
    let data = &resp.json_body()["data"];
    (data["userId"].as_str().unwrap().to_string(), data["authToken"].as_str().unwrap().to_string())
}

/// A list budget no test reaches: a minute and a million rows.
pub fn budget() -> sessions_api::store::ScanBudget {
    sessions_api::store::ScanBudget {
        max_rows: 1_000_000,
        deadline: std::time::Instant::now() + std::time::Duration::from_secs(60),
    }
}

/// A MonoCloud call: `endpoint` on `path` (its parameters filled in), with a query, a JSON body
/// and an `X-API-KEY`.
pub async fn mc_call(
    env: &TestEnv,
    endpoint: sessions_api::Endpoint,
    path: &str,
    query: &str,
    body: Option<&str>,
    key: Option<&str>,
) -> ApiResponse {
    let mut req = Req::new().query(query);
    if let Some(k) = key {
        req = req.header("X-API-KEY", k);
    }
    if let Some(b) = body {
        req = req.header("content-type", "application/json").body(b);
    }
    let mut event = req.event(endpoint);
    event.raw_path = Some(path.to_string());
    event.path_parameters = endpoint.match_path(path).expect("path matches the route");
    invoke(&env.app, endpoint, event).await
}

/// A MonoCloud problem+json answer of `status`, its `traceId` set to "t" for comparing.
#[track_caller]
pub fn problem(resp: &ApiResponse, status: u16) -> Value {
    assert_eq!((resp.status, resp.header("content-type")), (status, Some("application/problem+json")), "{}", resp.body);
    let mut body = resp.json_body();
    body["traceId"] = json!("t");
    body
}

/// Asserts status and exact JSON body.
#[track_caller]
pub fn assert_reply(resp: &ApiResponse, status: u16, body: Value) {
    assert_eq!(resp.status, status, "body: {}", resp.body);
    assert_eq!(resp.json_body(), body);
    assert_eq!(resp.header("content-type"), Some("application/json"));
}

pub fn unauthorized() -> Value {
    json!({"status": "error", "message": "You must be logged in to do this."})
}

pub fn invalid_params(message: &str) -> Value {
    json!({"success": false, "error": format!("{message} [invalid-params]"), "errorType": "invalid-params"})
}

pub fn not_found() -> Value {
    json!({"success": false, "error": "Session not found"})
}

/// Session ids of a list response, in order.
pub fn ids(resp: &ApiResponse) -> Vec<String> {
    resp.json_body()["sessions"]
        .as_array()
        .unwrap_or_else(|| panic!("no sessions in {}", resp.body))
        .iter()
        .map(|s| s["sessionId"].as_str().unwrap().to_string())
        .collect()
}

/// The value a list row sorts by for a Rocket.Chat sort key; "" when the row lacks it
/// (own lists carry no `_user`).
pub fn sort_field<'a>(row: &'a Value, key: &str) -> &'a str {
    let v = match key {
        "loginAt" => &row["loginAt"],
        "device.name" => &row["device"]["name"],
        "device.os.name" => &row["device"]["os"]["name"],
        "device.os.version" => &row["device"]["os"]["version"],
        "_user.name" => &row["_user"]["name"],
        "_user.username" => &row["_user"]["username"],
        other => panic!("unexpected sort key {other}"),
    };
    v.as_str().unwrap_or("")
}

/// Session ids of `rows` as `{key: dir}` orders them: by the key, ties on sessionId, both
/// in the key's direction (the API's documented global order).
pub fn expected_order(rows: &[Value], key: &str, dir: i32) -> Vec<String> {
    let mut sorted: Vec<&Value> = rows.iter().collect();
    sorted.sort_by(|a, b| {
        let o = sort_field(a, key)
            .cmp(sort_field(b, key))
            .then_with(|| a["sessionId"].as_str().unwrap().cmp(b["sessionId"].as_str().unwrap()));
        if dir == -1 { o.reverse() } else { o }
    });
    sorted.iter().map(|r| r["sessionId"].as_str().unwrap().to_string()).collect()
}

/// events/<function>[-case].json, by the function each is named after.
pub fn events_of(function: &str) -> Vec<std::path::PathBuf> {
    let mut files: Vec<std::path::PathBuf> = std::fs::read_dir(repo_root().join("events"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let stem = p.file_stem().unwrap().to_string_lossy().into_owned();
            let owner = Endpoint::ALL
                .iter()
                .map(|e| e.function())
                .chain(sessions_api::routes::OTHER_FUNCTIONS)
                .filter(|f| stem == *f || stem.starts_with(&format!("{f}-")))
                .max_by_key(|f| f.len());
            owner == Some(function)
        })
        .collect();
    files.sort();
    files
}

/// The 6-digit code of the newest message in the local outbox (email 2FA).
pub async fn latest_email_code(env: &TestEnv) -> String {
    use sessions_api::store::OutboxStore;
    let mail = env.app.store.outbox(1).await.unwrap();
    let body = &mail.first().expect("a message in the outbox").body;
    body.split_whitespace().find(|w| w.len() == 7 && w.ends_with('.')).unwrap().trim_end_matches('.').to_string()
}

/// The configuration of a test's app: its table, a cheap bcrypt cost, and the geolocation
/// database scripts/test installs (`GEO_DB_DIR`), the same file as the local run's.
pub fn test_config(table: &str) -> Config {
    Config {
        table_name: table.to_string(),
        bcrypt_cost: 4,
        geo_db_dir: std::env::var("GEO_DB_DIR").ok(),
        ..Config::default()
    }
}

/// Runs every future on its own task of a multi-threaded runtime, all at once.
pub async fn in_parallel<T: Send + 'static>(
    futures: Vec<impl std::future::Future<Output = T> + Send + 'static>,
) -> Vec<T> {
    let handles: Vec<_> = futures.into_iter().map(tokio::spawn).collect();
    let mut out = Vec::with_capacity(handles.len());
    for h in handles {
        out.push(h.await.expect("request task"));
    }
    out
}

impl TestEnv {
    /// Turns on an idle timeout of 30 minutes (activity interval as configured, 5 minutes by
    /// default); the policy it replaced, for [`TestEnv::set_activity`].
    pub fn set_idle_timeout(&mut self) -> sessions_api::store::ActivityPolicy {
        use sessions_api::store::ActivityRecorder;
        let before = self.app.store.activity_policy();
        self.set_activity(sessions_api::store::ActivityPolicy { idle_timeout_ms: Some(30 * 60_000), ..before });
        before
    }

    pub fn set_activity(&mut self, policy: sessions_api::store::ActivityPolicy) {
        self.app.store = self.app.store.clone().with_activity(policy);
    }

    /// A login of test.test whose newest activity record is 36 minutes old: idle under
    /// [`TestEnv::set_idle_timeout`] (past the timeout plus one interval).
    pub async fn idle_login(&self) -> IssuedLogin {
        self.login(TEST_USER_ID, "Chrome", "Windows", now_ms() - 36 * 60_000).await
    }
}

impl TestEnv {
    /// A reader of this table's stream from its beginning, through the DynamoDB Streams API
    /// DynamoDB Local serves (sessions_api::stream::local).
    pub async fn stream_tail(&self) -> sessions_api::stream::local::StreamTail {
        let sdk = sessions_api::store::sdk_config().await;
        sessions_api::stream::local::StreamTail::new(&sdk, self.app.store.clone())
    }

    /// Feeds every stream record since `tail` last read to the consumer, as Lambda would;
    /// each batch's outcome. No batch may report a failure.
    pub async fn run_stream(
        &self,
        tail: &mut sessions_api::stream::local::StreamTail,
        publisher: &sessions_api::stream::publisher::Publisher,
    ) -> Vec<sessions_api::stream::Outcome> {
        let mut outcomes = Vec::new();
        for batch in tail.next_batches().await.expect("stream read") {
            let (response, outcome) = sessions_api::stream::on_stream(&self.app, publisher, &batch).await;
            assert!(response.batch_item_failures.is_empty(), "{outcome:?}");
            outcomes.push(outcome);
        }
        outcomes
    }
}
