//! Cold-start benchmark (run by `scripts/bench-cold-start`): every function binary, and a
//! hello-world lambda_http binary built with the same profile, started again and again
//! against a local Lambda Runtime API on a seeded DynamoDB Local table. For each it reports
//! the median time from process start to the first `next` poll (init: configuration,
//! DynamoDB client) and to the first answer to its events/ file, plus the bootstrap sizes
//! that `sam build` produced. Writes a markdown table.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use indicatif::ProgressBar;
use serde_json::Value;
use sessions_api::store::DynamoStore;
use sessions_api::{App, Endpoint};
use sessions_api::{Config, core::clock::now_ms};
use sessions_cli::runtime_api::{FunctionProcess, RuntimeApi};
use sessions_cli::table::{TableDefinition, create_table};

#[derive(Parser)]
struct Args {
    /// Folder with the host build of the function binaries and hello-lambda.
    #[arg(long, default_value = "target/release")]
    bin_dir: PathBuf,
    /// Starts per function (the median is reported).
    #[arg(long, default_value_t = 20)]
    starts: usize,
    /// `sam build` output, for the arm64 bootstrap sizes.
    #[arg(long, default_value = ".aws-sam/build")]
    sam_build: PathBuf,
    /// The arm64 hello-lambda bootstrap (cargo lambda build --release --arm64 -p hello-lambda).
    #[arg(long, default_value = "target/lambda/hello-lambda/bootstrap")]
    hello_bootstrap: PathBuf,
    /// Where the markdown table goes (scripts/bench-cold-start puts it into
    /// docs/cold-start.md, below the page's hand-written text).
    #[arg(long, default_value = "target/cold-start.md")]
    out: PathBuf,
}

struct Row {
    name: String,
    size: Option<u64>,
    init_ms: f64,
    answer_ms: f64,
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// `sessions-list` → `SessionsListFunction`, the template's resource name.
fn resource(function: &str) -> String {
    let camel: String = function
        .split('-')
        .map(|w| {
            let mut c = w.chars();
            c.next().map(|f| f.to_ascii_uppercase().to_string() + c.as_str()).unwrap_or_default()
        })
        .collect();
    format!("{camel}Function")
}

fn size(path: &Path) -> Option<u64> {
    std::fs::metadata(path).ok().map(|m| m.len())
}

async fn measure(binary: &Path, name: &str, event: &Value, env: &[(String, String)], starts: usize) -> Row {
    let (mut init, mut answer) = (Vec::new(), Vec::new());
    for _ in 0..starts {
        let api = RuntimeApi::start(name).await.expect("runtime api");
        let process = FunctionProcess::spawn(binary, name, &api, env).expect("spawn");
        let deadline = Instant::now() + Duration::from_secs(30);
        while api.first_poll().is_none() && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_micros(200)).await;
        }
        let polled = api.first_poll().unwrap_or_else(|| panic!("{name} never polled: {}", process.logs()));
        api.invoke(event, Duration::from_secs(30)).await.unwrap_or_else(|e| panic!("{name}: {e}"));
        let answered = Instant::now();
        init.push(polled.duration_since(process.started).as_secs_f64() * 1000.0);
        answer.push(answered.duration_since(process.started).as_secs_f64() * 1000.0);
        process.stop().await;
    }
    Row { name: name.to_string(), size: None, init_ms: median(init), answer_ms: median(answer) }
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let root = std::env::current_dir().expect("cwd");
    std::env::var("AWS_ENDPOINT_URL")
        .expect("AWS_ENDPOINT_URL must point at DynamoDB Local (scripts/bench-cold-start)");
    let client = DynamoStore::client_from_env().await;
    let table = format!("coldstart-{}", sessions_api::core::ids::new_id());
    let def = TableDefinition::from_template(&root.join("template.yaml")).expect("template");
    create_table(&client, &table, &def).await.expect("table");
    let config = Config { table_name: table.clone(), bcrypt_cost: 4, ..Config::default() };
    let app = Arc::new(App::new(config.clone(), DynamoStore::new(client, &table)));
    sessions_cli::demo::seed(&app.store, &config, now_ms(), &ProgressBar::hidden()).await.expect("seed");

    let pass = ["AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION"];
    let mut env: Vec<(String, String)> =
        pass.iter().filter_map(|k| std::env::var(k).ok().map(|v| (k.to_string(), v))).collect();
    env.push(("SESSIONS_TABLE".into(), table.clone()));
    env.push(("RUST_LOG".into(), "warn".into()));

    let read = |name: &str| -> Value {
        serde_json::from_str(&std::fs::read_to_string(root.join("events").join(format!("{name}.json"))).expect("event"))
            .expect("event json")
    };
    let mut rows = Vec::new();
    let bar = ProgressBar::new((Endpoint::ALL.len() + 1) as u64);
    let hello =
        measure(&args.bin_dir.join("hello-lambda"), "hello-lambda", &read("sessions-list"), &env, args.starts).await;
    rows.push(Row { size: size(&args.hello_bootstrap), ..hello });
    bar.inc(1);
    for endpoint in Endpoint::ALL {
        let f = endpoint.function();
        let row = measure(&args.bin_dir.join(f), f, &read(f), &env, args.starts).await;
        rows.push(Row { size: size(&args.sam_build.join(resource(f)).join("bootstrap")), ..row });
        bar.inc(1);
    }
    bar.finish_and_clear();

    let mut md = String::from(
        "| function | arm64 bootstrap (MB) | init: start → first poll (ms, median) | start → first answer (ms, median) |\n|---|---:|---:|---:|\n",
    );
    for r in &rows {
        let mb = r.size.map(|s| format!("{:.2}", s as f64 / 1_000_000.0)).unwrap_or_else(|| "–".into());
        md.push_str(&format!("| {} | {mb} | {:.1} | {:.1} |\n", r.name, r.init_ms, r.answer_ms));
    }
    md.push_str(&format!(
        "\n{} starts per function on this machine ({} cores), host build of `{}`; sizes from `{}`.\n",
        args.starts,
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        args.bin_dir.display(),
        args.sam_build.display()
    ));
    print!("{md}");
    if let Some(dir) = args.out.parent() {
        std::fs::create_dir_all(dir).expect("docs dir");
    }
    std::fs::write(&args.out, md).expect("write table");
}
