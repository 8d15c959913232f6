//! sessions-bench (run by `scripts/bench`): seeds 1 000, 10 000 and 100 000 sessions over
//! realistic users and devices into the local DynamoDB (batch writes), then calls each route
//! through its function's entry point (`runner::invoke`) and reports per call: items DynamoDB
//! read, requests made, how many were sequential on the critical path, read and write units
//! consumed, bytes read, and the handler's latency (median and p95). Beside ours, in the same
//! run, a naive baseline that reads every session, sorts and slices in memory (Rocket.Chat's
//! approach), with the ratio. Writes docs/benchmark.md and docs/benchmark.svg.

mod export;
mod list_all;
mod plot;
mod report;
mod seed;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::AttributeValue;
use clap::Parser;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::{Value, json};
use sessions_api::Endpoint::{self, *};
use sessions_api::store::metering::{Call, Meter, sequential_round_trips};
use sessions_api::store::{ActivityPolicy, DynamoStore};
use sessions_api::{App, Config, runner};
use sessions_cli::table::{TableDefinition, create_table};

#[derive(Parser)]
struct Args {
    /// Session counts to seed, one table each.
    #[arg(long, value_delimiter = ',', default_value = "1000,10000,100000")]
    sizes: Vec<usize>,
    /// Calls per measured route (median and p95 of these).
    #[arg(long, default_value_t = 30)]
    calls: usize,
    /// Calls of each read-everything path (the baseline, and our filtered list.all).
    #[arg(long, default_value_t = 5)]
    full_read_calls: usize,
    /// Largest size at which the read-everything paths (the baseline, the filtered list.all)
    /// and every sort order are measured; above it list.all's default order (start, middle,
    /// last page), info.admin, login and logout only.
    #[arg(long, default_value_t = 100_000)]
    full_reads_up_to: usize,
    /// Where benchmark.md and benchmark.svg go (scripts/bench puts them into docs/, below
    /// the page's hand-written text).
    #[arg(long, default_value = "target/bench")]
    out: PathBuf,
}

/// One measured call's numbers.
#[derive(Clone, Debug)]
struct Sample {
    items: u64,
    requests: usize,
    sequential: usize,
    read_units: f64,
    write_units: f64,
    bytes: u64,
    latency_ms: f64,
}

impl Sample {
    fn of(calls: &[Call], latency: Duration) -> Sample {
        Sample {
            items: calls.iter().map(|c| c.items_read).sum(),
            requests: calls.len(),
            sequential: sequential_round_trips(calls),
            read_units: calls.iter().map(|c| c.read_units).sum(),
            write_units: calls.iter().map(|c| c.write_units).sum(),
            bytes: calls.iter().map(|c| c.bytes).sum(),
            latency_ms: latency.as_secs_f64() * 1000.0,
        }
    }
}

/// A route's samples at one size.
#[derive(Clone, Debug)]
struct Row {
    size: usize,
    name: String,
    samples: Vec<Sample>,
    /// The baseline's samples for the same answer, where there is one.
    baseline: Option<Vec<Sample>>,
}

fn quantile(mut v: Vec<f64>, q: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    v[((v.len() - 1) as f64 * q).round() as usize]
}

fn median_of(samples: &[Sample], f: impl Fn(&Sample) -> f64) -> f64 {
    quantile(samples.iter().map(f).collect(), 0.5)
}

/// The function's own events/ file, with this call's query, headers and body.
fn event(endpoint: Endpoint, path: &str, query: &str, headers: &[(&str, &str)], body: Option<&Value>) -> Value {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let file = root.join("events").join(format!("{}.json", endpoint.function()));
    let mut e: Value = serde_json::from_str(&std::fs::read_to_string(file).expect("events/ file")).expect("JSON");
    e["rawPath"] = json!(path);
    e["requestContext"]["http"]["path"] = json!(path);
    e["rawQueryString"] = json!(query);
    let mut h = json!({"accept": "application/json", "host": "bench.local", "user-agent": "sessions-bench/1.0"});
    for (k, v) in headers {
        h[*k] = json!(v);
    }
    e["headers"] = h;
    e["requestContext"]["http"]["userAgent"] = json!("sessions-bench/1.0");
    e["requestContext"]["http"]["sourceIp"] = json!("198.51.100.7");
    if let Some(params) = endpoint.match_path(path) {
        e["pathParameters"] = json!(params);
    }
    match body {
        Some(b) => {
            e["body"] = json!(b.to_string());
            e["headers"]["content-type"] = json!("application/json");
        }
        None => e["body"] = Value::Null,
    }
    e["isBase64Encoded"] = json!(false);
    e
}

struct Bench {
    app: Arc<App>,
    meter: Meter,
}

impl Bench {
    /// Calls `endpoint` once; the response body and the call's numbers.
    async fn call(&self, endpoint: Endpoint, event: Value) -> (u16, Value, Sample) {
        self.meter.take();
        let started = Instant::now();
        let out = runner::invoke(self.app.clone(), endpoint, event, lambda_runtime::Context::default())
            .await
            .expect("the function answers");
        let latency = started.elapsed();
        let sample = Sample::of(&self.meter.take(), latency);
        let status = out["statusCode"].as_u64().unwrap_or(0) as u16;
        let body = out["body"].as_str().and_then(|b| serde_json::from_str(b).ok()).unwrap_or(Value::Null);
        (status, body, sample)
    }

    /// Calls `endpoint` `n` times; the samples, and the first answer that was not a success
    /// (its status and error) if any: what a call read and took before it was refused counts too.
    async fn repeat_any(
        &self,
        n: usize,
        endpoint: Endpoint,
        event: impl Fn(usize) -> Value,
    ) -> (Vec<Sample>, Option<String>) {
        let (mut samples, mut refused) = (Vec::with_capacity(n), None);
        for i in 0..n {
            let (status, body, sample) = self.call(endpoint, event(i)).await;
            if status >= 300 && refused.is_none() {
                refused = Some(format!("{status} {}", body["error"].as_str().unwrap_or_default()));
            }
            samples.push(sample);
        }
        (samples, refused)
    }

    async fn repeat(&self, n: usize, endpoint: Endpoint, event: impl Fn(usize) -> Value) -> Vec<Sample> {
        let mut samples = Vec::with_capacity(n);
        for i in 0..n {
            let (status, body, sample) = self.call(endpoint, event(i)).await;
            assert!(status < 300, "{}: {status} {body}", endpoint.function());
            samples.push(sample);
        }
        samples
    }

    /// The baseline: every session item read whole (a Scan of the table for session items),
    /// then sorted and sliced in memory, as an aggregation over every session does. Its
    /// items are the sessions it read (the Scan's ScannedCount also counts tokens and users).
    async fn baseline(&self, sort: (&str, i32), offset: usize, count: usize, filter: Option<&regex::Regex>) -> Sample {
        self.meter.take();
        let started = Instant::now();
        let store = &self.app.store;
        let mut rows: Vec<(String, String)> = Vec::new();
        let mut start = None;
        let now_s = sessions_api::core::clock::now_ms() / 1000;
        let mut sessions_read = 0u64;
        loop {
            let out = store
                .client()
                .scan()
                .table_name(store.table())
                .filter_expression("begins_with(SK, :s)")
                .expression_attribute_values(":s", AttributeValue::S("SESSION#".into()))
                .set_exclusive_start_key(start)
                .send()
                .await
                .expect("baseline read");
            sessions_read += out.items.as_ref().map_or(0, |i| i.len() as u64);
            for item in out.items.unwrap_or_default() {
                let text = |path: &[&str]| -> String {
                    let mut v = item.get(path[0]);
                    for p in &path[1..] {
                        v = v.and_then(|x| x.as_m().ok()).and_then(|m| m.get(*p));
                    }
                    v.and_then(|x| x.as_s().ok()).cloned().unwrap_or_default()
                };
                let expires = item.get("expiresAt").and_then(|v| v.as_n().ok()).and_then(|n| n.parse::<i64>().ok());
                if expires.is_some_and(|e| e <= now_s) {
                    continue;
                }
                let key = match sort.0 {
                    "loginAt" => text(&["loginAt"]),
                    "device.name" => text(&["device", "name"]),
                    "device.os.name" => text(&["device", "os", "name"]),
                    "device.os.version" => text(&["device", "os", "version"]),
                    "_user.name" => text(&["_user", "name"]),
                    _ => text(&["_user", "username"]),
                };
                if let Some(re) = filter {
                    let fields = [text(&["device", "name"]), text(&["_user", "username"]), text(&["ip"])];
                    if !fields.iter().any(|f| re.is_match(f)) {
                        continue;
                    }
                }
                rows.push((key, text(&["sessionId"])));
            }
            match out.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => break,
            }
        }
        rows.sort();
        if sort.1 < 0 {
            rows.reverse();
        }
        let page: Vec<_> = rows.into_iter().skip(offset).take(count).collect();
        std::hint::black_box(page);
        Sample { items: sessions_read, ..Sample::of(&self.meter.take(), started.elapsed()) }
    }
}

/// template.yaml's table without its stream. On AWS the stream costs a request nothing (it is
/// read asynchronously, after the write); DynamoDB Local records it synchronously on every write
/// (login p50 at 1 000 sessions: 14.7 ms without it, 22-31 ms with), which would be counted
/// against the routes. The stream's consumer is measured by its own tests, not here.
fn bench_table() -> TableDefinition {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../template.yaml");
    let def = TableDefinition::from_template(&path).expect("template table");
    TableDefinition { stream_specification: None, ..def }
}

const SORT_KEYS: [&str; 6] =
    ["loginAt", "device.name", "device.os.name", "device.os.version", "_user.name", "_user.username"];

async fn run_size(args: &Args, base: &aws_sdk_dynamodb::Client, size: usize, rows: &mut Vec<Row>) {
    let meter = Meter::new();
    let table = format!("bench-{size}-{}", sessions_api::core::ids::new_id());
    let def = bench_table();
    create_table(base, &table, &def).await.expect("create table");
    // One step-up serves the whole size: at 100 000 sessions the calls take longer than the
    // default 30 minutes of remembered 2FA (24 hours is the longest the config allows).
    let config =
        Config { table_name: table.clone(), bcrypt_cost: 4, two_factor_remember_secs: 24 * 3600, ..Config::default() };
    let app = Arc::new(App::new(config, DynamoStore::new(meter.client(base), &table)));
    let seeding = Instant::now();
    let fixture = seed::seed(&app, size).await;
    eprintln!("sessions-bench: {size} sessions seeded in {:.0} s", seeding.elapsed().as_secs_f64());
    let bench = Bench { app: app.clone(), meter };
    // The progress of the calls after list.all's pages (list, info.admin, MonoCloud, login, logout).
    let total = args.calls * 5;
    let bar = ProgressBar::new(total as u64)
        .with_style(ProgressStyle::with_template("{msg} {wide_bar} {pos}/{len} {eta}").expect("style"));
    bar.set_message(format!("{size} sessions: calls"));
    let mut push = |name: String, samples: Vec<Sample>, baseline: Option<Vec<Sample>>| {
        rows.push(Row { size, name, samples, baseline });
    };
    let user = [("x-user-id", fixture.user_id.as_str()), ("x-auth-token", fixture.user_token.as_str())];
    let admin = [("x-user-id", fixture.admin_id.as_str()), ("x-auth-token", fixture.admin_token.as_str())];
    // Step-up once; the rest of the admin calls come from the same token, agent and address.
    let code = sessions_api::core::ids::sha256_hex(seed::PASSWORD);
    let mut step_up = admin.to_vec();
    step_up.extend([("x-2fa-method", "password"), ("x-2fa-code", code.as_str())]);
    let (status, body, _) = bench
        .call(SessionsListAll, event(SessionsListAll, "/api/v1/sessions/list.all", "count=1", &step_up, None))
        .await;
    assert_eq!(status, 200, "{body}");

    let samples =
        bench.repeat(args.calls, SessionsList, |_| event(SessionsList, "/api/v1/sessions/list", "", &user, None)).await;
    bar.inc(args.calls as u64);
    push("list (a user with 100 sessions)".into(), samples, None);

    bar.set_message(format!("{size} sessions: list.all pages"));
    let mut pages = Vec::new();
    list_all::pages(&bench, args, size, &admin, &mut pages).await;
    for row in pages {
        push(row.name, row.samples, row.baseline);
    }
    if size <= args.full_reads_up_to {
        let (name, samples, baseline) = filtered(&bench, args, &admin).await;
        push(name, samples, Some(baseline));
    }
    bar.set_message(format!("{size} sessions: info.admin, MonoCloud, login"));

    let info_query = format!("sessionId={}", fixture.some_session_id);
    let samples = bench
        .repeat(args.calls, SessionsInfoAdmin, |_| {
            event(SessionsInfoAdmin, "/api/v1/sessions/info.admin", &info_query, &admin, None)
        })
        .await;
    bar.inc(args.calls as u64);
    push("info.admin".into(), samples, None);

    let mc_path = format!("/api/users/{}/sessions", fixture.user_id);
    let key = [("x-api-key", fixture.api_key.as_str())];
    let samples =
        bench.repeat(args.calls, UserSessionsList, |_| event(UserSessionsList, &mc_path, "", &key, None)).await;
    bar.inc(args.calls as u64);
    push("MonoCloud list (a user with 100 sessions)".into(), samples, None);

    let mut tokens = Vec::new();
    let mut samples = Vec::new();
    for _ in 0..args.calls {
        let body = json!({"user": seed::LOGIN_USER, "password": seed::PASSWORD});
        let (status, out, sample) = bench.call(Login, event(Login, "/api/v1/login", "", &[], Some(&body))).await;
        assert_eq!(status, 200, "{out}");
        tokens.push((
            out["data"]["userId"].as_str().unwrap().to_string(),
            out["data"]["authToken"].as_str().unwrap().to_string(),
        ));
        samples.push(sample);
    }
    bar.inc(args.calls as u64);
    push("login".into(), samples, None);
    let mut samples = Vec::new();
    for (id, token) in &tokens {
        let headers = [("x-user-id", id.as_str()), ("x-auth-token", token.as_str())];
        let (status, out, sample) = bench.call(Logout, event(Logout, "/api/v1/logout", "", &headers, None)).await;
        assert_eq!(status, 200, "{out}");
        samples.push(sample);
    }
    bar.inc(args.calls as u64);
    push("logout".into(), samples, None);
    bar.finish_and_clear();
    let _ = base.delete_table().table_name(&table).send().await;
}

/// The filtered list.all ("firefox") beside the baseline reading everything for it.
async fn filtered(bench: &Bench, args: &Args, admin: &[(&str, &str)]) -> (String, Vec<Sample>, Vec<Sample>) {
    let filter_query = format!("filter={}&count=50", percent("firefox"));
    let mut samples = Vec::new();
    let mut over_budget = false;
    for _ in 0..args.full_read_calls {
        let e = event(SessionsListAll, "/api/v1/sessions/list.all", &filter_query, admin, None);
        let (status, body, sample) = bench.call(SessionsListAll, e).await;
        // Past LIST_SCAN_BUDGET_MS or LIST_SCAN_MAX_ROWS the answer is a 400 asking for a
        // narrower filter: reported as such, not hidden.
        assert!(status == 200 || status == 400, "{status} {body}");
        over_budget |= status == 400;
        samples.push(sample);
    }
    let re = regex::RegexBuilder::new("firefox").case_insensitive(true).build().expect("regex");
    let mut b = Vec::new();
    for _ in 0..args.full_read_calls {
        b.push(bench.baseline(("loginAt", -1), 0, 50, Some(&re)).await);
    }
    let answer = if over_budget { " (some answered 400: over the scan budget)" } else { "" };
    (format!("list.all filter \"firefox\", offset 0{answer}"), samples, b)
}

/// Write units of a login and a logout with the order indexes projecting the packed row (the
/// template) against projecting ALL (before), for short, typical and 1 KB user agents: an
/// index entry costs one unit per KB it holds, so only items past 1 KB differ.
async fn write_costs(args: &Args, base: &aws_sdk_dynamodb::Client, rows: &mut Vec<Row>) {
    let long_agent = format!("{} {}", seed::USER_AGENTS[7], "Extension/1.0 ".repeat(62));
    let agents = [
        ("a 19-byte user agent", "sessions-bench/1.0".to_string()),
        ("the Rocket.Chat desktop user agent", seed::USER_AGENTS[7].to_string()),
        ("a 1 KB user agent", long_agent.chars().take(1024).collect()),
    ];
    for (variant, all) in
        [("order indexes project the packed row", false), ("order indexes project ALL (before)", true)]
    {
        let meter = Meter::new();
        let table = format!("bench-writes-{}", sessions_api::core::ids::new_id());
        let mut def = bench_table();
        if all {
            for index in def.global_secondary_indexes.iter_mut().filter(|i| i.index_name != "BySessionId") {
                index.projection.projection_type = "ALL".into();
                index.projection.non_key_attributes.clear();
            }
        }
        create_table(base, &table, &def).await.expect("create table");
        let config = Config { table_name: table.clone(), bcrypt_cost: 4, ..Config::default() };
        let app = Arc::new(App::new(config, DynamoStore::new(meter.client(base), &table)));
        seed::seed(&app, 100).await;
        let bench = Bench { app, meter };
        for (agent_name, agent) in &agents {
            let with_agent = |mut e: Value| {
                e["headers"]["user-agent"] = json!(agent);
                e["requestContext"]["http"]["userAgent"] = json!(agent);
                e
            };
            let (mut logins, mut logouts, mut tokens) = (Vec::new(), Vec::new(), Vec::new());
            for _ in 0..args.full_read_calls {
                let body = json!({"user": seed::LOGIN_USER, "password": seed::PASSWORD});
                let e = with_agent(event(Login, "/api/v1/login", "", &[], Some(&body)));
                let (status, out, sample) = bench.call(Login, e).await;
                assert_eq!(status, 200, "{out}");
                tokens.push((
                    out["data"]["userId"].as_str().unwrap().to_string(),
                    out["data"]["authToken"].as_str().unwrap().to_string(),
                ));
                logins.push(sample);
            }
            for (id, token) in &tokens {
                let headers = [("x-user-id", id.as_str()), ("x-auth-token", token.as_str())];
                let (status, out, sample) =
                    bench.call(Logout, with_agent(event(Logout, "/api/v1/logout", "", &headers, None))).await;
                assert_eq!(status, 200, "{out}");
                logouts.push(sample);
            }
            rows.push(Row {
                size: 100,
                name: format!("login, {agent_name}, {variant}"),
                samples: logins,
                baseline: None,
            });
            rows.push(Row {
                size: 100,
                name: format!("logout, {agent_name}, {variant}"),
                samples: logouts,
                baseline: None,
            });
        }
        let _ = base.delete_table().table_name(&table).send().await;
    }
}

/// Activity at 100 sessions: the same list call with its session's activity due every call
/// (an interval of 1 ms) and inside the interval (the default 300 s), for the write units a
/// record costs and the sequential round trips with and without it.
async fn activity_costs(args: &Args, base: &aws_sdk_dynamodb::Client, rows: &mut Vec<Row>) {
    let meter = Meter::new();
    let table = format!("bench-activity-{}", sessions_api::core::ids::new_id());
    let def = bench_table();
    create_table(base, &table, &def).await.expect("create table");
    let config = Config { table_name: table.clone(), bcrypt_cost: 4, ..Config::default() };
    let app = Arc::new(App::new(config.clone(), DynamoStore::new(meter.client(base), &table)));
    let fixture = seed::seed(&app, 100).await;
    let user = [("x-user-id", fixture.user_id.as_str()), ("x-auth-token", fixture.user_token.as_str())];
    let list = || event(SessionsList, "/api/v1/sessions/list", "", &user, None);
    let every_call = ActivityPolicy { interval_ms: 1, ..ActivityPolicy::of(&config) };
    let due_store = app.store.clone().with_activity(every_call);
    let due = Bench { app: Arc::new(App { store: due_store, ..(*app).clone() }), meter: meter.clone() };
    let mut samples = Vec::with_capacity(args.calls);
    for _ in 0..args.calls {
        tokio::time::sleep(Duration::from_millis(2)).await;
        let (status, body, sample) = due.call(SessionsList, list()).await;
        assert_eq!(status, 200, "{body}");
        samples.push(sample);
    }
    rows.push(Row { size: 100, name: ACTIVITY_DUE.into(), samples, baseline: None });
    let inside = Bench { app, meter };
    let samples = inside.repeat(args.calls, SessionsList, |_| list()).await;
    rows.push(Row { size: 100, name: ACTIVITY_INSIDE.into(), samples, baseline: None });
    let _ = base.delete_table().table_name(&table).send().await;
}

/// The activity rows' names, which the report reads back for the per-hour figure.
pub(crate) const ACTIVITY_DUE: &str = "list, the session's activity due (a record: 2 conditional updates)";
pub(crate) const ACTIVITY_INSIDE: &str = "list, inside the activity interval (no write)";

/// A query value, percent-encoded as a client sends it.
fn percent(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let endpoint =
        sessions_cli::demo::local_endpoint(|k| std::env::var(k).ok()).unwrap_or_else(|e| panic!("sessions-bench: {e}"));
    let sdk = DynamoStore::client_from_env().await;
    // DynamoDB Local on a shared machine can take seconds where DynamoDB takes milliseconds.
    let timeouts = aws_sdk_dynamodb::config::timeout::TimeoutConfig::builder()
        .operation_attempt_timeout(Duration::from_secs(30))
        .operation_timeout(Duration::from_secs(60))
        .build();
    // Sent exactly where the check looked, not wherever the provider chain resolves.
    let conf = sdk.config().to_builder().timeout_config(timeouts).endpoint_url(endpoint).build();
    let base = aws_sdk_dynamodb::Client::from_conf(conf);
    let mut rows = Vec::new();
    std::fs::create_dir_all(&args.out).expect("docs folder");
    write_costs(&args, &base, &mut rows).await;
    activity_costs(&args, &base, &mut rows).await;
    for &size in &args.sizes {
        run_size(&args, &base, size, &mut rows).await;
        // Written after every size, so a long run that is stopped keeps what it measured.
        let md = report::report(&rows, &args);
        std::fs::write(args.out.join("benchmark.md"), &md).expect("write benchmark.md");
        plot::write(&args.out.join("benchmark.svg"), &plot::series(&rows)).expect("write benchmark.svg");
        export::write(&args.out.join("rows.json"), &rows).expect("write rows.json");
        eprintln!("sessions-bench: {size} sessions measured; {} written", args.out.join("benchmark.md").display());
    }
    print!("{}", report::report(&rows, &args));
}
