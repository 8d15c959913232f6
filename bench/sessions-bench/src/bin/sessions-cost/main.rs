//! sessions-cost (run by `scripts/cost`, and by `scripts/bench` at its end): docs/cost.md's
//! tables and docs/cost.svg from measured figures only: the request units and round trips of
//! a sessions-bench run (`rows.json`), each function's own time at its CPU share and its
//! metered events from sessions-memory (`docs/memory.json`), the memory sizes in
//! template.yaml, the published prices (`pricing`) and the stated usage profile (`profile`).

mod plot;
mod report;
mod routes;

use std::path::{Path, PathBuf};

use clap::Parser;
use serde::de::DeserializeOwned;
use sessions_bench::figures::{BenchRun, MemoryRun};
use sessions_bench::pricing::{Breakdown, HTTP_API_FIRST_TIER, US_EAST_1, storage_month};
use sessions_bench::profile::{PROFILE, SESSIONS_PER_USER, USERS, http_requests, month};
use sessions_bench::template_sizes::MemorySizes;

type Error = Box<dyn std::error::Error>;

#[derive(Parser)]
struct Args {
    /// A sessions-bench run's rows.json.
    #[arg(long, default_value = "target/benchmark/rows.json")]
    rows: PathBuf,
    /// A sessions-memory run's memory.json.
    #[arg(long, default_value = "docs/memory.json")]
    memory: PathBuf,
    #[arg(long, default_value = "template.yaml")]
    template: PathBuf,
    /// Where cost.md and cost.svg go (scripts/cost puts them into docs/).
    #[arg(long, default_value = "target/cost")]
    out: PathBuf,
}

fn read<T: DeserializeOwned>(path: &Path) -> Result<T, Error> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?)
}

fn main() -> Result<(), Error> {
    let args = Args::parse();
    let bench: BenchRun = read(&args.rows)?;
    let memory: MemoryRun = read(&args.memory)?;
    let sizes = MemorySizes::read(&args.template)?;
    let prices = US_EAST_1;
    let rows = routes::priced(&bench, &memory, &sizes, &prices)?;
    let bytes = memory.bytes_per_session.ok_or("docs/memory.json has no bytes per session")?;
    let storage = storage_month(bytes * SESSIONS_PER_USER, &prices);
    let million = |route: &str| rows.iter().find(|r| r.key == route).map(|r| r.million);
    let is_http = |route: &str| rows.iter().any(|r| r.key == route && r.figures.http_api);
    let most = USERS.iter().copied().fold(0.0, f64::max);
    if http_requests(most, &PROFILE, is_http) > HTTP_API_FIRST_TIER {
        return Err("the profile passes HTTP API's first price tier: price the next tier too".into());
    }
    if let Some(missing) = PROFILE.iter().find(|l| million(l.route).is_none()) {
        return Err(format!("the cost table has no {}", missing.route).into());
    }
    let months = report::months(|users| month(users, &PROFILE, million, &storage));
    let users = USERS[1];
    let mut lines: Vec<(String, Breakdown)> = PROFILE
        .iter()
        .filter_map(|l| million(l.route).map(|b| (l.route.to_string(), b.times(l.per_user * users / 1e6))))
        .collect();
    lines.push(("stored sessions".into(), storage.times(users)));
    std::fs::create_dir_all(&args.out)?;
    let md = report::markdown(&bench, &memory, &prices, &rows, &months, bytes);
    std::fs::write(args.out.join("cost.md"), &md)?;
    plot::write(&args.out.join("cost.svg"), &months, &lines, users)?;
    print!("{md}");
    Ok(())
}
