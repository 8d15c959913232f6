//! The measured figures the binaries hand each other as JSON: sessions-bench's rows
//! (`target/benchmark/rows.json` from `scripts/bench`) and sessions-memory's runs
//! (`docs/memory.json`), both read by sessions-cost. Every value comes from a run.

use serde::{Deserialize, Serialize};

/// One sessions-bench run: per measured call, the medians over its calls.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct BenchRun {
    /// The command line that ran it.
    pub command: String,
    /// When it ended (ISO 8601).
    pub finished: String,
    pub cores: usize,
    pub rows: Vec<BenchRow>,
}

/// One call shape at one table size (sessions-bench's table row).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct BenchRow {
    pub size: usize,
    pub name: String,
    pub calls: usize,
    pub items: f64,
    pub requests: f64,
    pub sequential: f64,
    pub read_units: f64,
    pub write_units: f64,
    pub kb: f64,
    pub p50_ms: f64,
    pub p95_ms: f64,
}

impl BenchRun {
    /// The row named `name` (or starting with it) at the largest size measured.
    pub fn largest(&self, name: &str) -> Option<&BenchRow> {
        let matches = |r: &&BenchRow| r.name == name || r.name.starts_with(&format!("{name} ("));
        self.rows.iter().filter(matches).max_by_key(|r| r.size)
    }
}

/// One sessions-memory run.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct MemoryRun {
    pub command: String,
    pub finished: String,
    pub cores: usize,
    /// The 1-, 5- and 15-minute load averages when it ended (other work on the machine).
    pub load_average: String,
    /// Calls per event and process (the first one's duration is left out: it connects).
    pub calls: usize,
    /// Table bytes per session (items and index entries, DynamoDB Local's DescribeTable).
    pub bytes_per_session: Option<f64>,
    pub measured: Vec<Measured>,
    pub cpu_share: Vec<ShareRow>,
}

/// One function's processes against one table.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Measured {
    pub function: String,
    /// Sessions seeded beside the demo data (0: the demo data alone).
    pub sessions: usize,
    /// Its `MemorySize` in template.yaml when measured.
    pub memory_mb: u32,
    /// The highest VmHWM of its processes (peak resident set), KB.
    pub peak_rss_kb: u64,
    /// The highest `memory.max_usage_in_bytes` of their cgroups, KB.
    pub cgroup_peak_kb: u64,
    /// Process start to its first poll of the Runtime API (init: configuration, clients), ms,
    /// at full CPU and at the function's CPU share.
    pub init_full_ms: f64,
    pub init_at_size_ms: f64,
    pub events: Vec<EventFigures>,
}

/// One event's figures: at full CPU, at the function's CPU share, and metered in-process.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct EventFigures {
    /// The events/ file's name without `.json`, or a variant of it.
    pub event: String,
    pub status: u16,
    pub full: Timing,
    pub at_size: Timing,
    pub metered: Metered,
}

/// Durations of the warm calls of one process.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize)]
pub struct Timing {
    /// The emulated memory size (`None`: no quota, both cores).
    pub memory_mb: Option<u32>,
    pub calls: usize,
    /// The first call's duration (left out of the others: the process connects on it).
    pub first_ms: f64,
    pub p50_ms: f64,
    pub p95_ms: f64,
    /// The process's CPU time per call, median (cpuacct.usage), ms.
    pub cpu_ms: f64,
    /// CFS periods in which the quota stopped it (cpu.stat nr_throttled), all calls.
    pub throttled: u64,
}

/// One call's DynamoDB use, metered in-process through the function's entry point.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize)]
pub struct Metered {
    pub read_units: f64,
    pub write_units: f64,
    pub requests: f64,
    pub sequential: f64,
}

/// A row of the CPU-share table.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct ShareRow {
    pub function: String,
    pub event: String,
    pub sessions: usize,
    pub timing: Timing,
}

impl MemoryRun {
    /// The figures of `event` of `function`, from its largest table.
    pub fn event(&self, function: &str, event: &str) -> Option<(&Measured, &EventFigures)> {
        self.measured
            .iter()
            .filter(|m| m.function == function)
            .filter_map(|m| m.events.iter().find(|e| e.event == event).map(|e| (m, e)))
            .max_by_key(|(m, _)| m.sessions)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_found_by_name_at_the_largest_size() {
        let row = |size, name: &str| BenchRow { size, name: name.into(), ..Default::default() };
        let run = BenchRun {
            rows: vec![row(1000, "login"), row(10000, "login"), row(100, "login, a 1 KB user agent"), row(10000, "x")],
            ..Default::default()
        };
        assert_eq!(run.largest("login").map(|r| r.size), Some(10000));
        let over = BenchRun { rows: vec![row(1000, "list.all filter (some answered 400)")], ..Default::default() };
        assert!(over.largest("list.all filter").is_some());
        assert!(run.largest("logout").is_none());
    }

    #[test]
    fn an_event_comes_from_the_largest_table() {
        let measured = |sessions, p50_ms| Measured {
            function: "sessions-list".into(),
            sessions,
            events: vec![EventFigures {
                event: "sessions-list".into(),
                full: Timing { p50_ms, ..Default::default() },
                ..Default::default()
            }],
            ..Default::default()
        };
        let run = MemoryRun { measured: vec![measured(0, 1.0), measured(10000, 3.0)], ..Default::default() };
        assert_eq!(run.event("sessions-list", "sessions-list").map(|(_, e)| e.full.p50_ms), Some(3.0));
        assert!(run.event("sessions-list", "login").is_none());
    }
}
