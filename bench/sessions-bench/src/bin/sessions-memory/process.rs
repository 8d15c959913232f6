//! One function binary as a real Lambda process against the local Runtime API, in its own
//! cgroup: each of its events sent `calls` times, the table reset before each call where it
//! is the demo table, and one CFS period of rest between calls, so every call starts with a
//! full quota as at a container that was waiting for it. The first call of each event is left
//! out of the durations (the process connects to DynamoDB on its first); every call counts
//! for the peak memory.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::Client;
use serde_json::Value;
use sessions_bench::cpu_share::CFS_PERIOD_US;
use sessions_bench::figures::Timing;
use sessions_bench::stats::{median, quantile};
use sessions_cli::runtime_api::{FunctionProcess, Outcome, RuntimeApi};

use crate::Error;
use crate::cgroup::{Group, vm_hwm_kb};
use crate::fixture::DemoTable;

/// How function processes are started.
pub struct Launch {
    pub bin_dir: PathBuf,
    pub wrapper: PathBuf,
    pub calls: usize,
}

/// What one process did.
pub struct Run {
    /// Per event: its name, the status of its last answer, its durations.
    pub events: Vec<(String, u16, Timing)>,
    pub peak_rss_kb: u64,
    pub cgroup_peak_kb: u64,
    /// Process start to its first poll, ms.
    pub init_ms: f64,
}

/// The table a process runs against: its environment, and the demo table to reset, if so.
pub struct Target<'a> {
    pub env: Vec<(String, String)>,
    pub reset: Option<(&'a DemoTable, &'a Client)>,
}

/// An answer's HTTP status; 200 for the authorizer's and the stream consumer's answers,
/// which have none, and 0 for an error the function posted.
fn status(outcome: &Outcome) -> u16 {
    match outcome {
        Outcome::Response(v) => v.get("statusCode").and_then(Value::as_u64).map_or(200, |s| s as u16),
        Outcome::Error(_) => 0,
    }
}

impl Launch {
    /// Runs `function` with `events` at `memory_mb`'s CPU share (`None`: no quota).
    pub async fn run(
        &self,
        function: &str,
        events: &[(String, Value)],
        memory_mb: Option<u32>,
        target: &Target<'_>,
    ) -> Result<Run, Error> {
        let group = Group::create(function, memory_mb)?;
        let api = RuntimeApi::start(function).await?;
        let mut env = target.env.clone();
        env.push(("CGROUP_DIRS".into(), group.dirs_variable()));
        env.push(("FUNCTION_BINARY".into(), self.bin_dir.join(function).display().to_string()));
        if let Some(mb) = memory_mb {
            env.push(("AWS_LAMBDA_FUNCTION_MEMORY_SIZE".into(), mb.to_string()));
        }
        let process = FunctionProcess::spawn(&self.wrapper, function, &api, &env)?;
        let mut timings = Vec::new();
        let mut failure = None;
        for (name, event) in events {
            match self.event(&api, &group, event, memory_mb, target).await {
                Ok((code, timing)) => timings.push((name.clone(), code, timing)),
                Err(e) => {
                    failure = Some(format!("{function} {name}: {e}"));
                    break;
                }
            }
        }
        let init_ms = api.first_poll().map_or(0.0, |p| p.duration_since(process.started).as_secs_f64() * 1000.0);
        let peak_rss_kb = group.pid().and_then(vm_hwm_kb).unwrap_or(0);
        let cgroup_peak_kb = group.max_usage_kb();
        let logs = process.stop().await;
        group.remove();
        if let Some(failure) = failure {
            return Err(format!("{failure}; its logs:\n{logs}").into());
        }
        Ok(Run { events: timings, peak_rss_kb, cgroup_peak_kb, init_ms })
    }

    /// Sends one event `calls` times; the status of the last answer and the warm calls' timing.
    async fn event(
        &self,
        api: &RuntimeApi,
        group: &Group,
        event: &Value,
        memory_mb: Option<u32>,
        target: &Target<'_>,
    ) -> Result<(u16, Timing), Error> {
        let (mut walls, mut cpus, mut code, mut first_ms) = (Vec::new(), Vec::new(), 0, 0.0);
        let throttled_before = group.throttled();
        for call in 0..self.calls.max(2) {
            if let Some((table, client)) = target.reset {
                table.reset(client).await?;
            }
            tokio::time::sleep(Duration::from_micros(CFS_PERIOD_US)).await;
            let (cpu_before, started) = (group.cpu_ns(), Instant::now());
            let outcome = api.invoke(event, Duration::from_secs(60)).await?;
            let wall = started.elapsed().as_secs_f64() * 1000.0;
            let cpu = group.cpu_ns().saturating_sub(cpu_before) as f64 / 1e6;
            code = status(&outcome);
            if call == 0 {
                first_ms = wall;
            } else {
                walls.push(wall);
                cpus.push(cpu);
            }
        }
        let timing = Timing {
            memory_mb,
            calls: walls.len(),
            first_ms,
            p50_ms: median(&walls),
            p95_ms: quantile(&walls, 0.95),
            cpu_ms: median(&cpus),
            throttled: group.throttled().saturating_sub(throttled_before),
        };
        Ok((code, timing))
    }
}

/// The environment every function process gets: the DynamoDB endpoint and credentials, the
/// table, and the measuring settings (see main.rs); `geo_db` where the template gives one.
pub fn environment(table: &str, geo_db: Option<&Path>) -> Vec<(String, String)> {
    let pass = ["AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION"];
    let mut vars: Vec<(String, String)> =
        pass.iter().filter_map(|k| std::env::var(k).ok().map(|v| (k.to_string(), v))).collect();
    vars.extend(
        [
            ("SESSIONS_TABLE", table),
            ("RUST_LOG", "warn"),
            ("TRUST_CLOUDFRONT_GEO", "false"),
            ("ACTIVITY_INTERVAL_SECONDS", crate::ACTIVITY_INTERVAL_SECONDS),
            ("TWO_FACTOR_REMEMBER_MINUTES", crate::TWO_FACTOR_REMEMBER_MINUTES),
        ]
        .map(|(k, v)| (k.to_string(), v.to_string())),
    );
    if let Some(dir) = geo_db {
        vars.push(("GEO_DB_DIR".into(), dir.display().to_string()));
    }
    vars
}
