//! memory.md: the peak-memory table, every event's figures and the CPU-share table, from one
//! sessions-memory run (scripts/bench-memory puts it below docs/memory.md's marker line).

use std::fmt::Write as _;

use sessions_bench::cpu_share::{cfs_quota_us, gb_seconds, rule_size, share};
use sessions_bench::figures::{Measured, MemoryRun, ShareRow, Timing};
use sessions_bench::pricing::US_EAST_1;

fn mb(kb: u64) -> f64 {
    kb as f64 / 1024.0
}

fn table(sessions: usize) -> String {
    if sessions == 0 { "demo".into() } else { format!("demo + {sessions} sessions") }
}

/// The whole page part.
pub fn markdown(run: &MemoryRun) -> String {
    let mut md = String::from("# Measured: memory and CPU per function\n\n");
    let _ = writeln!(
        md,
        "`{}` on this machine ({} cores; load average {} when it ended, {}), host build of the release binaries \
         (x86_64: Lambda runs the arm64 build). {} calls per event and process; durations are of the warm calls \
         (the first is left out), medians and p95, at full CPU (no quota) and at the CPU share of the function's \
         `MemorySize` (CFS quota), with one 100 ms CFS period of rest before each call. The demo table is put back \
         as seeded before every call.\n",
        run.command, run.cores, run.load_average, run.finished, run.calls
    );
    peaks(&mut md, &run.measured);
    growth(&mut md, &run.measured);
    every_event(&mut md, &run.measured);
    shares(&mut md, &run.cpu_share);
    if let Some(bytes) = run.bytes_per_session {
        let _ = writeln!(
            md,
            "\nStorage: each loaded session added {bytes:.0} bytes to the table and its indexes (DynamoDB Local's \
             DescribeTable, items and index entries; the bulk users' own items included).",
        );
    }
    md
}

fn peaks(md: &mut String, measured: &[Measured]) {
    md.push_str("## Peak memory\n\n");
    md.push_str("*The rule's size*: the smallest of 128, 256, 512, 1 024 and 1 769 MB that holds four times the peak resident set and whose CPU quota for one 100 ms period is at least twice the CPU time of a call of the function's own event at full CPU (`cpu_share::rule_size`); \"CPU-bound\" where none does.\n\n");
    md.push_str("| function | table | MemorySize | peak RSS (VmHWM) | memory cgroup peak | RSS / MemorySize | CPU per call | the rule's size |\n");
    md.push_str("|---|---|---:|---:|---:|---:|---:|---:|\n");
    for m in measured {
        let cpu_ms = m.events.first().map_or(0.0, |e| e.full.cpu_ms);
        let rule = rule_size(m.peak_rss_kb, cpu_ms).map_or("CPU-bound".into(), |mb| format!("{mb} MB"));
        let _ = writeln!(
            md,
            "| {} | {} | {} MB | {:.1} MB | {:.1} MB | {:.0} % | {cpu_ms:.2} ms | {rule} |",
            m.function,
            table(m.sessions),
            m.memory_mb,
            mb(m.peak_rss_kb),
            mb(m.cgroup_peak_kb),
            mb(m.peak_rss_kb) / f64::from(m.memory_mb) * 100.0,
        );
    }
    md.push_str("\n## Durations at full CPU → at the CPU share of its MemorySize\n\n");
    md.push_str("The function's own event (its first events/ file). *init* is process start to the first poll of the Runtime API; *first call* its first answer, which opens the DynamoDB connection (plain HTTP to DynamoDB Local: no TLS handshake, unlike AWS).\n\n");
    md.push_str("| function | table | MemorySize | init | first call | p50 | p95 | CPU per call |\n");
    md.push_str("|---|---|---:|---:|---:|---:|---:|---:|\n");
    for m in measured {
        let Some(e) = m.events.first() else { continue };
        let (f, a) = (&e.full, &e.at_size);
        let _ = writeln!(
            md,
            "| {} | {} | {} MB | {:.1} → {:.1} ms | {:.1} → {:.1} ms | {:.1} → {:.1} ms | {:.1} → {:.1} ms | {:.2} → {:.2} ms |",
            m.function,
            table(m.sessions),
            m.memory_mb,
            m.init_full_ms,
            m.init_at_size_ms,
            f.first_ms,
            a.first_ms,
            f.p50_ms,
            a.p50_ms,
            f.p95_ms,
            a.p95_ms,
            f.cpu_ms,
            a.cpu_ms,
        );
    }
}

/// Sessions the growth table projects each event's CPU to.
const PROJECTED_SESSIONS: usize = 100_000;

/// How each list function's peak and each of its events' CPU grow with the table, between
/// its two largest tables, and the CPU the same slope gives at [`PROJECTED_SESSIONS`].
fn growth(md: &mut String, measured: &[Measured]) {
    let mut rows = String::new();
    for big in measured.iter().filter(|m| m.sessions > 0) {
        let smaller =
            measured.iter().filter(|o| o.function == big.function && o.sessions > 0 && o.sessions < big.sessions);
        let Some(small) = smaller.max_by_key(|o| o.sessions) else { continue };
        let thousands = (big.sessions - small.sessions) as f64 / 1000.0;
        for e in &big.events {
            let Some(before) = small.events.iter().find(|o| o.event == e.event) else { continue };
            let slope = (e.full.cpu_ms - before.full.cpu_ms) / thousands;
            let projected = e.full.cpu_ms + slope * PROJECTED_SESSIONS.saturating_sub(big.sessions) as f64 / 1000.0;
            let _ = writeln!(
                rows,
                "| {} | {} | {} → {} | {:.1} → {:.1} MB | {:.2} → {:.2} ms | {slope:+.2} ms | {:.0} ms | {:.0} ms at {} MB |",
                big.function,
                e.event,
                small.sessions,
                big.sessions,
                mb(small.peak_rss_kb),
                mb(big.peak_rss_kb),
                before.full.cpu_ms,
                e.full.cpu_ms,
                projected.max(0.0),
                projected.max(0.0) / share(big.memory_mb).min(1.0),
                big.memory_mb,
            );
        }
    }
    if rows.is_empty() {
        return;
    }
    md.push_str("\n## Growth with the table\n\nThe list functions between their two largest tables: the function's peak, each event's CPU per call at full CPU, its slope per 1 000 sessions, the CPU the same slope gives at 100 000 sessions, and that CPU stretched by the share of the function's MemorySize (CPU only: DynamoDB comes on top).\n\n");
    md.push_str("| function | event | sessions | peak RSS | CPU per call | per 1 000 sessions | CPU at 100 000 | at its share |\n");
    md.push_str("|---|---|---:|---:|---:|---:|---:|---:|\n");
    md.push_str(&rows);
}

fn every_event(md: &mut String, measured: &[Measured]) {
    md.push_str("\n## Every event\n\n");
    md.push_str("DynamoDB use metered in-process through the function's entry point, once per event (the demo table reset first).\n\n");
    md.push_str("| function | event | table | status | p50 full CPU | p50 at its share | p95 at its share | CPU per call | throttled periods | RCU | WCU | requests | seq. |\n");
    md.push_str("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for m in measured {
        for e in &m.events {
            let t = &e.at_size;
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | {:.1} ms | {:.1} ms | {:.1} ms | {:.2} ms | {} | {:.1} | {:.1} | {:.0} | {:.0} |",
                m.function,
                e.event,
                table(m.sessions),
                e.status,
                e.full.p50_ms,
                t.p50_ms,
                t.p95_ms,
                t.cpu_ms,
                t.throttled,
                e.metered.read_units,
                e.metered.write_units,
                e.metered.requests,
                e.metered.sequential,
            );
        }
    }
}

fn size_cells(t: &Timing) -> (String, String, String) {
    match t.memory_mb {
        Some(mb) => (format!("{mb} MB"), format!("{:.1} %", share(mb) * 100.0), cfs_quota_us(mb).to_string()),
        None => ("full CPU".into(), "2 cores".into(), "–".into()),
    }
}

fn shares(md: &mut String, rows: &[ShareRow]) {
    md.push_str("\n## CPU share (emulated)\n\n");
    md.push_str("Each function's own event, the process under `cpu.cfs_period_us` 100 000 and `cpu.cfs_quota_us` = MemorySize / 1 769 × 100 000. *GB-s* is MemorySize × the p50 duration; *$ per million* prices only those GB-seconds (arm64).\n\n");
    md.push_str("| function | table | size | CPU share | cfs_quota_us | p50 | p95 | CPU per call | throttled periods | GB-s per call | $ per million (GB-s) |\n");
    md.push_str("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for r in rows {
        let t = &r.timing;
        let (size, cpu, quota) = size_cells(t);
        let gb_s = t.memory_mb.map(|mb| gb_seconds(mb, t.p50_ms));
        let _ = writeln!(
            md,
            "| {} | {} | {size} | {cpu} | {quota} | {:.1} ms | {:.1} ms | {:.2} ms | {} | {} | {} |",
            r.function,
            table(r.sessions),
            t.p50_ms,
            t.p95_ms,
            t.cpu_ms,
            t.throttled,
            gb_s.map_or("–".into(), |g| format!("{g:.5}")),
            gb_s.map_or("–".into(), |g| format!("{:.2}", g * 1e6 * US_EAST_1.lambda_gb_second)),
        );
    }
}
