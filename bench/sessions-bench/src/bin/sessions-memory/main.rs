//! sessions-memory (run by `scripts/bench-memory`): every function's release binary as a real
//! Lambda process against the local Runtime API (`sessions_cli::runtime_api`), each in its
//! own cgroup, sent each of its events/ files again and again: its peak memory (VmHWM and the
//! memory cgroup's peak), its durations at full CPU and under the CPU share Lambda gives its
//! `MemorySize` in template.yaml (a CFS quota), its CPU time per call, and each event's
//! DynamoDB use metered in-process. Then the CPU-share table: login at 128, 256, 512 and
//! 1 024 MB, the lists at 128 and 256 MB. Writes memory.md and memory.json (docs/memory.md,
//! read by sessions-cost for docs/cost.md).

mod cgroup;
mod events;
mod fixture;
mod metered;
mod process;
mod report;

use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Parser;
use serde_json::Value;
use sessions_api::Config;
use sessions_api::core::clock::{iso_millis, now_ms};
use sessions_api::store::DynamoStore;
use sessions_bench::cpu_share::TABLE_SIZES_MB;
use sessions_bench::figures::{EventFigures, Measured, MemoryRun, ShareRow};
use sessions_bench::template_sizes::MemorySizes;
use sessions_cli::table::TableDefinition;

use crate::fixture::{DemoTable, Tables};
use crate::process::{Launch, Target, environment};

pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// Every measured call is inside its session's activity interval (the longest allowed, one
/// day): an activity record is priced on its own in docs/cost.md, from the benchmark.
pub const ACTIVITY_INTERVAL_SECONDS: &str = "86400";
/// The administrator's step-up stays remembered for the whole run, as in the benchmark.
pub const TWO_FACTOR_REMEMBER_MINUTES: &str = "1440";

/// The functions whose reads grow with the table, measured on the list tables.
const LIST_FUNCTIONS: [&str; 3] = ["sessions-list", "sessions-list-all", "user-sessions-list"];

/// The CPU-share table: each function's own event at these sizes (and at full CPU).
const SHARE_RUNS: [(&str, &[u32]); 3] =
    [("login", &TABLE_SIZES_MB), ("sessions-list", &[128, 256]), ("sessions-list-all", &[128, 256])];

#[derive(Parser)]
struct Args {
    /// Folder with the release build of the function binaries.
    #[arg(long, default_value = "target/release")]
    bin_dir: PathBuf,
    /// Sessions seeded beside the demo data for the list functions, one table each.
    #[arg(long, value_delimiter = ',', default_value = "1000,10000")]
    sessions: Vec<usize>,
    /// Calls per event and process (the first is left out of the durations).
    #[arg(long, default_value_t = 20)]
    calls: usize,
    /// Only these functions (all by default); the CPU-share table only with its functions.
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
    /// Where memory.md and memory.json go (scripts/bench-memory puts them into docs/).
    #[arg(long, default_value = "target/memory")]
    out: PathBuf,
}

/// Everything a measurement needs.
struct Bench {
    args: Args,
    root: PathBuf,
    tables: Tables,
    sizes: MemorySizes,
    launch: Launch,
    demo: DemoTable,
    /// (sessions, table) of each list table.
    lists: Vec<(usize, String)>,
    geo_db: Option<PathBuf>,
}

impl Bench {
    /// Where `function` runs: the demo table (reset before each call), or every list table.
    fn targets(&self, function: &str) -> Vec<(usize, Target<'_>)> {
        let geo = self.sizes.with_geo_db.iter().any(|f| f == function).then_some(self.geo_db.as_deref()).flatten();
        if LIST_FUNCTIONS.contains(&function) {
            let list = |(n, table): &(usize, String)| (*n, Target { env: environment(table, geo), reset: None });
            return self.lists.iter().map(list).collect();
        }
        let reset = Some((&self.demo, &self.tables.client));
        vec![(0, Target { env: environment(&self.demo.name, geo), reset })]
    }

    fn table_of(&self, sessions: usize) -> &str {
        self.lists.iter().find(|l| l.0 == sessions).map_or(self.demo.name.as_str(), |l| l.1.as_str())
    }

    /// `function` at full CPU and at its size's share, on each of its tables.
    async fn function(&self, function: &str) -> Result<Vec<Measured>, Error> {
        let events = events::of(&self.root, function)?;
        if self.sizes.of(function).is_none() {
            eprintln!("sessions-memory: {function} is not in template.yaml; measured at the global size");
        }
        let size = self.sizes.size_of(function);
        let mut measured = Vec::new();
        for (sessions, target) in self.targets(function) {
            let full = self.launch.run(function, &events, None, &target).await?;
            let at = self.launch.run(function, &events, Some(size), &target).await?;
            let mut figures = Vec::new();
            for ((name, event), ((_, status, full_t), (_, _, at_t))) in
                events.iter().zip(full.events.iter().zip(&at.events))
            {
                if let Some((table, client)) = target.reset {
                    table.reset(client).await?;
                }
                let table = self.table_of(sessions);
                let (_, metered) =
                    metered::call(&self.tables.client, &self.tables.config, table, function, event).await?;
                if *status >= 300 || *status == 0 {
                    eprintln!("sessions-memory: {function} {name} answered {status}");
                }
                figures.push(EventFigures {
                    event: name.clone(),
                    status: *status,
                    full: *full_t,
                    at_size: *at_t,
                    metered,
                });
            }
            measured.push(Measured {
                function: function.to_string(),
                sessions,
                memory_mb: size,
                peak_rss_kb: full.peak_rss_kb.max(at.peak_rss_kb),
                cgroup_peak_kb: full.cgroup_peak_kb.max(at.cgroup_peak_kb),
                init_full_ms: full.init_ms,
                init_at_size_ms: at.init_ms,
                events: figures,
            });
        }
        Ok(measured)
    }

    /// The CPU-share table's rows of `function`: full CPU, then each size.
    async fn shares(&self, function: &str, sizes: &[u32]) -> Result<Vec<ShareRow>, Error> {
        let events = events::of(&self.root, function)?.into_iter().take(1).collect::<Vec<_>>();
        let (sessions, target) = self.targets(function).pop().ok_or("no table")?;
        let mut rows = Vec::new();
        for mb in std::iter::once(None).chain(sizes.iter().copied().map(Some)) {
            let run = self.launch.run(function, &events, mb, &target).await?;
            let (event, _, timing) = run.events.into_iter().next().ok_or("no event")?;
            rows.push(ShareRow { function: function.to_string(), event, sessions, timing });
        }
        Ok(rows)
    }
}

/// The DynamoDB client of DynamoDB Local, with the benchmark's patient timeouts.
async fn client() -> Result<aws_sdk_dynamodb::Client, Error> {
    let endpoint = sessions_cli::demo::local_endpoint(|k| std::env::var(k).ok())?;
    let sdk = DynamoStore::client_from_env().await;
    let timeouts = aws_sdk_dynamodb::config::timeout::TimeoutConfig::builder()
        .operation_attempt_timeout(Duration::from_secs(30))
        .operation_timeout(Duration::from_secs(60))
        .build();
    let conf = sdk.config().to_builder().timeout_config(timeouts).endpoint_url(endpoint).build();
    Ok(aws_sdk_dynamodb::Client::from_conf(conf))
}

/// Seeds the tables and prepares the launcher.
async fn setup(args: Args) -> Result<(Bench, Option<f64>), Error> {
    let root = std::env::current_dir()?;
    cgroup::check()?;
    let template = root.join("template.yaml");
    let def = TableDefinition::from_template(&template)?;
    // No stream: DynamoDB Local records it synchronously on every write (see sessions-bench).
    let def = TableDefinition { stream_specification: None, ..def };
    let geo_db = std::env::var_os("GEO_DB_DIR").map(PathBuf::from);
    let config = Config {
        activity_interval_ms: ACTIVITY_INTERVAL_SECONDS.parse::<i64>()? * 1000,
        two_factor_remember_secs: TWO_FACTOR_REMEMBER_MINUTES.parse::<i64>()? * 60,
        geo_db_dir: geo_db.as_ref().map(|d| d.display().to_string()),
        ..Config::default()
    };
    let step_up: Value = serde_json::from_str(&std::fs::read_to_string(root.join("events/sessions-info-admin.json"))?)?;
    let tables = Tables { client: client().await?, def, config, step_up };
    let demo = tables.demo().await?;
    let (mut lists, mut per_session) = (Vec::new(), None);
    for &n in &args.sessions {
        eprintln!("sessions-memory: seeding {n} sessions");
        let (table, bytes) = tables.list(n).await?;
        lists.push((n, table));
        per_session = bytes.or(per_session);
    }
    let launch = Launch { bin_dir: args.bin_dir.clone(), wrapper: cgroup::wrapper(&args.out)?, calls: args.calls };
    let sizes = MemorySizes::read(&template)?;
    Ok((Bench { args, root, tables, sizes, launch, demo, lists, geo_db }, per_session))
}

fn load_average() -> String {
    let avg = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    avg.split_whitespace().take(3).collect::<Vec<_>>().join(" ")
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let (bench, bytes_per_session) = setup(Args::parse()).await?;
    let wanted = |f: &str| bench.args.only.is_empty() || bench.args.only.iter().any(|o| o == f);
    let mut run = MemoryRun {
        command: std::env::args().collect::<Vec<_>>().join(" "),
        cores: std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        calls: bench.args.calls,
        bytes_per_session,
        ..MemoryRun::default()
    };
    for function in events::functions().into_iter().filter(|f| wanted(f)) {
        eprintln!("sessions-memory: {function}");
        run.measured.extend(bench.function(function).await?);
    }
    for (function, sizes) in SHARE_RUNS.into_iter().filter(|(f, _)| wanted(f)) {
        eprintln!("sessions-memory: {function} under the CPU share of {sizes:?} MB");
        run.cpu_share.extend(bench.shares(function, sizes).await?);
    }
    run.finished = iso_millis(now_ms());
    run.load_average = load_average();
    cgroup::remove_parents();
    write(&bench.args.out, &run)
}

fn write(out: &Path, run: &MemoryRun) -> Result<(), Error> {
    std::fs::create_dir_all(out)?;
    std::fs::write(out.join("memory.json"), serde_json::to_string_pretty(run)? + "\n")?;
    let md = report::markdown(run);
    std::fs::write(out.join("memory.md"), &md)?;
    print!("{md}");
    Ok(())
}
