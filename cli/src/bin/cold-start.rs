//! Cold-start benchmark (run by `scripts/bench-cold-start`): every function of the template
//! (each route's, the stream consumer and the authorizer) and a hello-world lambda_http binary
//! built with the same profile, each started again and again against a local Lambda Runtime
//! API, every start on its own new DynamoDB Local table holding the demo data (so a call that
//! ends a session ends a live one each time, and every answer is checked to be the right one).
//! Starts go in rounds, each binary once a round, so load that comes and goes on the machine
//! falls on all alike. Per binary: the medians from process start to the first `next` poll
//! (init) and to the first answer to its events/ file; beside them, measured in the same run,
//! one GetItem's round trip to the same DynamoDB Local and a bcrypt check (login's first answer
//! holds one, and so do those whose 2FA is the password), and the bootstrap sizes `sam build`
//! produced. Writes a markdown table.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue, PutRequest, WriteRequest};
use clap::Parser;
use indicatif::ProgressBar;
use serde_json::{Value, json};
use sessions_api::core::clock::now_ms;
use sessions_api::routes::OTHER_FUNCTIONS;
use sessions_api::store::{DynamoStore, keys};
use sessions_api::{App, Config, Endpoint};
use sessions_cli::demo::{DEMO_PASSWORD, TEST_USER_ID, seed};
use sessions_cli::runtime_api::{FunctionProcess, Outcome, RuntimeApi};
use sessions_cli::table::{TableDefinition, create_table};

#[derive(Parser)]
struct Args {
    /// Folder with the host build of the function binaries and hello-lambda.
    #[arg(long, default_value = "target/release")]
    bin_dir: PathBuf,
    /// Starts per function (the median is reported).
    #[arg(long, default_value_t = 20)]
    starts: usize,
    /// GetItem calls timed for one DynamoDB round trip (the median is reported).
    #[arg(long, default_value_t = 50)]
    round_trips: usize,
    /// `sam build` output, for the arm64 bootstrap sizes.
    #[arg(long, default_value = ".aws-sam/build")]
    sam_build: PathBuf,
    /// The arm64 hello-lambda bootstrap (cargo lambda build --release --arm64 -p hello-lambda).
    #[arg(long, default_value = "target/lambda/hello-lambda/bootstrap")]
    hello_bootstrap: PathBuf,
    /// The geolocation database, for the functions whose template resource sets GEO_DB_DIR
    /// (scripts/bench-cold-start passes the local copy); without it none opens one.
    #[arg(long, env = "GEO_DB_DIR")]
    geo_db_dir: Option<PathBuf>,
    /// Where the markdown table goes (scripts/bench-cold-start puts it into
    /// docs/cold-start.md, below the page's hand-written text).
    #[arg(long, default_value = "target/cold-start.md")]
    out: PathBuf,
}

/// One binary to start: what it is called, its event, its variables beyond the common ones.
struct Subject {
    name: String,
    binary: PathBuf,
    event: Value,
    env: Vec<(String, String)>,
    size: Option<u64>,
    /// Whether its first answer checks a password with bcrypt (login; 2FA by password).
    bcrypt: bool,
    init: Vec<f64>,
    answer: Vec<f64>,
    /// The same call again in the same process, on the demo data restored: its own work.
    warm: Vec<f64>,
}

/// What the table's text compares the functions with, measured in the same run.
struct Yardsticks {
    round_trip_ms: f64,
    round_trip_calls: usize,
    first_call_ms: Option<f64>,
    bcrypt_seeded_ms: f64,
    bcrypt_default_ms: f64,
}

/// The bench's DynamoDB Local: its client, the template's table, the seeding configuration and
/// the items of the demo data as last seeded.
struct Tables {
    client: Client,
    def: TableDefinition,
    config: Config,
    items: Vec<HashMap<String, AttributeValue>>,
}

impl Tables {
    async fn create(&self) -> String {
        let table = format!("coldstart-{}", sessions_api::core::ids::new_id());
        create_table(&self.client, &table, &self.def).await.expect("table");
        table
    }

    async fn remove(&self, table: &str) {
        let _ = self.client.delete_table().table_name(table).send().await;
    }

    /// Seeds the demo data afresh (its times are relative to now) and keeps its items for
    /// [`Tables::copy`].
    async fn seed(&mut self) {
        let table = self.create().await;
        let config = Config { table_name: table.clone(), ..self.config.clone() };
        let app = App::new(config.clone(), DynamoStore::new(self.client.clone(), &table));
        seed(&app.store, &config, now_ms(), &ProgressBar::hidden()).await.expect("seed");
        let scan = self.client.scan().table_name(&table).into_paginator().items().send();
        self.items = scan.try_collect().await.expect("scan the seeded table");
        self.remove(&table).await;
    }

    /// A new table holding the demo data as last seeded: its items written in batches. Seeding
    /// every table (its writes are transactions) slows DynamoDB Local down over hundreds of
    /// tables until one call takes hundreds of milliseconds; a copy keeps it fast.
    async fn copy(&self) -> String {
        let table = self.create().await;
        self.restore(&table).await;
        table
    }

    /// Writes the demo data's items into `table` again (what a first call changed is as seeded
    /// again; what it added stays), so a second call meets the data the first met.
    async fn restore(&self, table: &str) {
        for chunk in self.items.chunks(25) {
            let mut pending: Vec<WriteRequest> = chunk
                .iter()
                .map(|item| {
                    let put = PutRequest::builder().set_item(Some(item.clone())).build().expect("a put request");
                    WriteRequest::builder().put_request(put).build()
                })
                .collect();
            while !pending.is_empty() {
                let written =
                    self.client.batch_write_item().request_items(table, pending).send().await.expect("BatchWriteItem");
                pending = written.unprocessed_items.and_then(|mut left| left.remove(table)).unwrap_or_default();
            }
        }
    }

    /// `calls` GetItems of one user's profile on `table` (one connection, kept warm), in ms.
    async fn round_trips(&self, table: &str, calls: usize) -> Vec<f64> {
        get_profile(&self.client, table).await;
        let mut times = Vec::new();
        for _ in 0..calls.max(1) {
            let started = Instant::now();
            get_profile(&self.client, table).await;
            times.push(ms(started.elapsed()));
        }
        times
    }

    /// One GetItem as a function's first call makes it, in ms: from a new client with the
    /// functions' configuration, so it builds the connector (parsing the compiled-in roots)
    /// and opens a new connection. `None` without Lambda's variables.
    async fn first_call(&self, table: &str) -> Option<f64> {
        let client = DynamoStore::client_for(&sessions_api::store::lambda_sdk_config().ok()?);
        let started = Instant::now();
        get_profile(&client, table).await;
        Some(ms(started.elapsed()))
    }
}

/// One user's profile from `table`.
async fn get_profile(client: &Client, table: &str) {
    let found = client
        .get_item()
        .table_name(table)
        .key(keys::PK, AttributeValue::S(keys::user(TEST_USER_ID)))
        .key(keys::SK, AttributeValue::S(keys::PROFILE.into()))
        .send()
        .await
        .expect("GetItem");
    found.item.expect("the demo user");
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// The template resource that builds `binary` (its `Metadata.BuildProperties.Binary`): its
/// name and its properties.
fn template_resource<'a>(template: &'a serde_yaml_ng::Value, binary: &str) -> (String, &'a serde_yaml_ng::Value) {
    let resources = template["Resources"].as_mapping().expect("template Resources");
    let (name, resource) = resources
        .iter()
        .find(|(_, r)| r["Metadata"]["BuildProperties"]["Binary"].as_str() == Some(binary))
        .unwrap_or_else(|| panic!("no template resource builds {binary}"));
    (name.as_str().expect("resource name").to_string(), &resource["Properties"])
}

fn size(path: &Path) -> Option<u64> {
    std::fs::metadata(path).ok().map(|m| m.len())
}

/// Whether `outcome` is the answer `name`'s events/ file expects, as
/// tests/integration/lambda_processes.rs checks it: a 2xx, the authorizer's allow, the
/// stream's batch without a failure.
fn is_right(name: &str, outcome: &Outcome) -> bool {
    let Outcome::Response(v) = outcome else { return false };
    match name {
        "authorizer" => v["isAuthorized"] == json!(true),
        "session-stream" => v["batchItemFailures"] == json!([]),
        _ => v["statusCode"].as_u64().is_some_and(|s| (200..300).contains(&s)),
    }
}

/// Starts `s` once with `env` on `table`: ms from process start to its first poll and to its
/// answer, which must be the right one; then, the demo data restored, the same call again
/// (ms from queueing it to its answer, also checked).
async fn start_once(s: &Subject, env: &[(String, String)], tables: &Tables, table: &str) -> (f64, f64, f64) {
    let api = RuntimeApi::start(&s.name).await.expect("runtime api");
    let process = FunctionProcess::spawn(&s.binary, &s.name, &api, env).expect("spawn");
    // Queued before the process starts: its first poll gets the event at once, as on Lambda.
    let outcome = api.invoke(&s.event, Duration::from_secs(30)).await;
    let answered = Instant::now();
    let outcome = outcome.unwrap_or_else(|e| panic!("{}: {e}; logs:\n{}", s.name, process.logs()));
    assert!(is_right(&s.name, &outcome), "{}: wrong answer {outcome:?}; logs:\n{}", s.name, process.logs());
    let polled = api.first_poll().expect("a poll came before the answer");
    let (init, answer) = (ms(polled.duration_since(process.started)), ms(answered.duration_since(process.started)));
    tables.restore(table).await;
    let queued = Instant::now();
    let again = api.invoke(&s.event, Duration::from_secs(30)).await;
    let warm = ms(queued.elapsed());
    let again = again.unwrap_or_else(|e| panic!("{} (again): {e}; logs:\n{}", s.name, process.logs()));
    assert!(is_right(&s.name, &again), "{} (again): wrong answer {again:?}; logs:\n{}", s.name, process.logs());
    process.stop().await;
    (init, answer, warm)
}

/// Every binary to start: hello-lambda first, then each function of the template. The
/// functions get what template.yaml gives them that bears on init: the SES mailer (its client
/// is built at init) and, where their resource sets GEO_DB_DIR, the geolocation database. The
/// stream consumer keeps the log publisher and the outbox: nothing local answers EventBridge
/// or SES calls, which its event makes.
fn subjects(args: &Args, root: &Path) -> Vec<Subject> {
    let template = std::fs::read_to_string(root.join("template.yaml")).expect("template.yaml");
    let template: serde_yaml_ng::Value = serde_yaml_ng::from_str(&template).expect("template yaml");
    let event = |name: &str| -> Value {
        let path = root.join("events").join(format!("{name}.json"));
        serde_json::from_str(&std::fs::read_to_string(&path).expect("event")).expect("event json")
    };
    let subject = |name: &str, event: Value, env: Vec<(String, String)>, size: Option<u64>| Subject {
        name: name.into(),
        binary: args.bin_dir.join(name),
        bcrypt: name == "login" || event["headers"]["x-2fa-method"] == json!("password"),
        event,
        env,
        size,
        init: Vec::new(),
        answer: Vec::new(),
        warm: Vec::new(),
    };
    let mut all = vec![subject("hello-lambda", event("sessions-list"), Vec::new(), size(&args.hello_bootstrap))];
    let functions = Endpoint::ALL.iter().map(|e| e.function()).chain(OTHER_FUNCTIONS);
    for name in functions {
        let (resource, properties) = template_resource(&template, name);
        let vars = &properties["Environment"]["Variables"];
        let mut env = Vec::new();
        if name != "session-stream" {
            env.push(("MAILER".into(), "ses".into()));
            env.push(("MAIL_FROM".into(), "no-reply@example.com".into()));
        }
        if let (Some(dir), false) = (&args.geo_db_dir, vars["GEO_DB_DIR"].is_null()) {
            env.push(("GEO_DB_DIR".into(), dir.display().to_string()));
        }
        let bootstrap = size(&args.sam_build.join(&resource).join("bootstrap"));
        all.push(subject(name, event(name), env, bootstrap));
    }
    all
}

/// The start-up variables every binary gets: DynamoDB Local's endpoint and credentials.
fn common_env() -> Vec<(String, String)> {
    let pass = ["AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION"];
    let mut env: Vec<(String, String)> =
        pass.iter().filter_map(|k| std::env::var(k).ok().map(|v| (k.to_string(), v))).collect();
    env.push(("RUST_LOG".into(), "warn".into()));
    env
}

/// `starts` rounds. Each seeds the demo data afresh, starts every subject once on its own
/// copy of it, and times a share of the `round_trips` GetItems and one first call, so both are
/// measured across the run as the starts are; returns those times.
async fn run_rounds(
    subjects: &mut [Subject],
    tables: &mut Tables,
    starts: usize,
    round_trips: usize,
) -> (Vec<f64>, Vec<f64>) {
    let common = common_env();
    let bar = ProgressBar::new((starts * subjects.len()) as u64);
    let (mut trips, mut firsts) = (Vec::new(), Vec::new());
    for _ in 0..starts {
        tables.seed().await;
        for s in subjects.iter_mut() {
            let table = tables.copy().await;
            let mut env = common.clone();
            env.push(("SESSIONS_TABLE".into(), table.clone()));
            env.extend(s.env.iter().cloned());
            let (init, answer, warm) = start_once(s, &env, tables, &table).await;
            s.init.push(init);
            s.answer.push(answer);
            s.warm.push(warm);
            tables.remove(&table).await;
            bar.inc(1);
        }
        let table = tables.copy().await;
        firsts.extend(tables.first_call(&table).await);
        trips.extend(tables.round_trips(&table, round_trips.div_ceil(starts.max(1))).await);
        tables.remove(&table).await;
    }
    bar.finish_and_clear();
    (trips, firsts)
}

/// The median time of one bcrypt check of the demo password hashed at `cost`.
fn bcrypt_ms(cost: u32) -> f64 {
    let hash = bcrypt::hash(DEMO_PASSWORD, cost).expect("bcrypt hash");
    median(
        (0..5)
            .map(|_| {
                let started = Instant::now();
                assert!(bcrypt::verify(DEMO_PASSWORD, &hash).expect("bcrypt verify"));
                ms(started.elapsed())
            })
            .collect(),
    )
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let root = std::env::current_dir().expect("cwd");
    std::env::var("AWS_ENDPOINT_URL")
        .expect("AWS_ENDPOINT_URL must point at DynamoDB Local (scripts/bench-cold-start)");
    let mut tables = Tables {
        client: DynamoStore::client_from_env().await,
        // Without the stream and TTL, which no start reads: DynamoDB Local keeps working for
        // them after a table is gone, and over hundreds of tables every call slows down.
        def: TableDefinition {
            stream_specification: None,
            time_to_live_specification: None,
            ..TableDefinition::from_template(&root.join("template.yaml")).expect("template")
        },
        config: Config { bcrypt_cost: 4, ..Config::default() },
        items: Vec::new(),
    };
    let mut subjects = subjects(&args, &root);
    let (trips, firsts) = run_rounds(&mut subjects, &mut tables, args.starts, args.round_trips).await;
    let yardsticks = Yardsticks {
        round_trip_calls: trips.len(),
        round_trip_ms: median(trips),
        first_call_ms: (!firsts.is_empty()).then(|| median(firsts)),
        bcrypt_seeded_ms: bcrypt_ms(tables.config.bcrypt_cost),
        bcrypt_default_ms: bcrypt_ms(Config::default().bcrypt_cost),
    };
    let md = markdown(&args, &subjects, &yardsticks, tables.config.bcrypt_cost);
    print!("{md}");
    if let Some(dir) = args.out.parent() {
        std::fs::create_dir_all(dir).expect("docs dir");
    }
    std::fs::write(&args.out, md).expect("write table");
}

/// The table, hello-lambda's row first, and the text that reads it.
fn markdown(args: &Args, subjects: &[Subject], y: &Yardsticks, seeded_cost: u32) -> String {
    let cold = |s: &Subject| {
        let (init, answer, warm) = (median(s.init.clone()), median(s.answer.clone()), median(s.warm.clone()));
        (init, answer, warm, answer - init - warm)
    };
    let (hello_init, _, _, hello_extra) = cold(&subjects[0]);
    let mut md = String::from(
        "| function | arm64 bootstrap (MB) | init: start → first poll (ms) | init ÷ hello-lambda's \
         | start → first answer (ms) | the same call warm (ms) | first call's extra: answer − init − warm (ms) \
         | extra beyond hello-lambda's, in GetItems |\n|---|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    let (mut over_init, mut over_call) = (Vec::new(), Vec::new());
    for s in subjects {
        let (init, answer, warm, extra) = cold(s);
        let mb = s.size.map(|b| format!("{:.2}", b as f64 / 1_000_000.0)).unwrap_or_else(|| "–".into());
        let (ratio, trips) = (init / hello_init, (extra - hello_extra) / y.round_trip_ms);
        if ratio > 1.5 {
            over_init.push(format!("{} ({ratio:.2}×)", s.name));
        }
        if trips > 1.0 {
            over_call.push(format!("{} ({trips:.1})", s.name));
        }
        let name = if s.bcrypt { format!("{} (one bcrypt check)", s.name) } else { s.name.clone() };
        md.push_str(&format!(
            "| {name} | {mb} | {init:.2} | {ratio:.2} | {answer:.1} | {warm:.1} | {extra:.2} | {trips:.1} |\n"
        ));
    }
    let within = |over: Vec<String>| {
        if over.is_empty() { "every function".to_string() } else { format!("all but {}", over.join(", ")) }
    };
    md.push_str(&text(args, y, seeded_cost, &within(over_init), &within(over_call)));
    md
}

/// What the table is measured against, and how.
fn text(args: &Args, y: &Yardsticks, seeded_cost: u32, within: &str, within_call: &str) -> String {
    let geo = if args.geo_db_dir.is_some() {
        "the functions whose template resource sets `GEO_DB_DIR` open the geolocation database"
    } else {
        "no geolocation database (no function opened one)"
    };
    let first = match y.first_call_ms {
        Some(ms) => format!(
            "The same GetItem from a new client configured as the functions are (it builds the connector, \
             parsing the compiled-in roots, and opens a connection) took **{ms:.2} ms**, median of one a round"
        ),
        None => "(not measured: no Lambda variables)".to_string(),
    };
    format!(
        "\nMedians. *Init* runs from process start to the first poll of the Runtime API. The *first \
         answer* adds the first call: its own DynamoDB calls and bcrypt check, plus what a first call \
         costs once (the HTTPS connector, the first connection). *The same call warm* is that call \
         again in the same process, the demo data restored first, from queueing it to its answer: the \
         call's own work. So *answer − init − warm* is what being cold adds to the first call; \
         hello-lambda's (no DynamoDB) is the floor, and the last column is a function's beyond that \
         floor in units of one DynamoDB round trip: a GetItem of one user's profile on a kept-alive \
         connection to the same DynamoDB Local, timed a few times each round, median of {}: **{:.2} ms**. \
         {first}. A \"bcrypt check\" (login, and 2FA by password) is of the demo hash at cost \
         {seeded_cost}: {:.1} ms here; a hash at the default `BCRYPT_COST` {} takes {:.1} ms on this \
         machine.\n\nInit at most 1.5× hello-lambda's: {within}.\n\nFirst call's extra at most one \
         DynamoDB round trip beyond hello-lambda's: {within_call}.\n\
         \n{} starts per function, in rounds, each on its own new table with the demo data, on this \
         machine ({} cores); host build of `{}`; sizes from `{}`; {geo}.\n",
        y.round_trip_calls,
        y.round_trip_ms,
        y.bcrypt_seeded_ms,
        Config::default().bcrypt_cost,
        y.bcrypt_default_ms,
        args.starts,
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        args.bin_dir.display(),
        args.sam_build.display(),
    )
}
