//! `rows.json` beside benchmark.md: every row's medians, machine-readable, with the command
//! that measured them, for sessions-cost (docs/cost.md reads its figures from a run).

use std::path::Path;

use sessions_api::core::clock::{iso_millis, now_ms};
use sessions_bench::figures::{BenchRow, BenchRun};

use crate::{Row, Sample, median_of, quantile};

/// Writes the rows measured so far to `path`.
pub fn write(path: &Path, rows: &[Row]) -> std::io::Result<()> {
    let run = BenchRun {
        command: std::env::args().collect::<Vec<_>>().join(" "),
        finished: iso_millis(now_ms()),
        cores: std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        rows: rows.iter().map(row).collect(),
    };
    std::fs::write(path, serde_json::to_string_pretty(&run)?)
}

fn row(r: &Row) -> BenchRow {
    let m = |f: fn(&Sample) -> f64| median_of(&r.samples, f);
    BenchRow {
        size: r.size,
        name: r.name.clone(),
        calls: r.samples.len(),
        items: m(|s| s.items as f64),
        requests: m(|s| s.requests as f64),
        sequential: m(|s| s.sequential as f64),
        read_units: m(|s| s.read_units),
        write_units: m(|s| s.write_units),
        kb: m(|s| s.bytes as f64) / 1024.0,
        p50_ms: m(|s| s.latency_ms),
        p95_ms: quantile(r.samples.iter().map(|s| s.latency_ms).collect(), 0.95),
    }
}
