//! The soak's report in Markdown: per route calls, answers by class and p50/p99, the
//! throughput, every answer by kind, and the invariants. scripts/soak puts it into
//! docs/soak.md below the page's hand-written text.

use std::fmt::Write as _;

use sessions_api::Config;

use crate::checks::Verdict;
use crate::limits::{Limits, minutes};
use crate::record::{Recorder, Route, quantile};

/// What the report says about the run itself.
pub struct RunInfo {
    pub command: String,
    pub commit: String,
    pub started: String,
    pub clients: usize,
    pub minutes: f64,
    /// Where the CPU went during the run ([`crate::cpu`]), where the system tells.
    pub cpu: Option<String>,
}

pub fn render(run: &RunInfo, rec: &Recorder, config: &Config, limits: &Limits, verdicts: &[Verdict]) -> String {
    let mut md = String::new();
    let secs = rec.span_secs().max(0.001);
    let calls: u64 = rec.routes.values().map(|s| s.calls()).sum();
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let _ = writeln!(md, "# Soak: {} clients for {}\n", run.clients, minutes(run.minutes * 60_000.0));
    let _ = writeln!(
        md,
        "`{}` at {}, started {}: the release `local-api` on this machine ({cores} cores, shared with \
         DynamoDB Local in memory and the soak itself). {calls} calls in {secs:.0} s: **{:.1} requests/s**.\n",
        run.command,
        run.commit,
        run.started,
        calls as f64 / secs
    );
    if let Some(cpu) = &run.cpu {
        let _ = writeln!(md, "{cpu}\n");
    }
    let _ = writeln!(md, "{}\n", settings(config, limits));
    routes_table(&mut md, rec, secs);
    tokens_line(&mut md, rec);
    answers_table(&mut md, rec);
    let _ = writeln!(md, "## Invariants\n\n| result | invariant | what the check saw |\n|---|---|---|");
    for v in verdicts {
        let _ = writeln!(md, "| {} | {} | {} |", if v.pass { "PASS" } else { "**FAIL**" }, v.name, v.detail);
    }
    md
}

fn settings(config: &Config, limits: &Limits) -> String {
    format!(
        "The server's settings for the soak: `MAX_SESSIONS_PER_USER={}`, `LOGIN_FAILURES_PER_USER={}` and \
         `LOGIN_FAILURES_PER_IP={}` (blocking for {} per account and {} per address), \
         `TWO_FACTOR_MAX_FAILURES={}` per {}, \
         `ACTIVITY_INTERVAL_SECONDS={}`, `BCRYPT_COST={}`, `TRUST_CLOUDFRONT_GEO={}`.",
        limits.max_sessions,
        limits.per_user,
        limits.per_ip,
        minutes(limits.user_block_ms),
        minutes(limits.ip_block_ms),
        limits.codes,
        minutes(limits.code_window_ms),
        config.activity_interval_ms / 1000,
        config.bcrypt_cost,
        config.trust_cloudfront_geo,
    )
}

fn routes_table(md: &mut String, rec: &Recorder, secs: f64) {
    let _ = writeln!(md, "| route | calls | per s | 2xx | 4xx | 5xx | p50 ms | p99 ms |");
    let _ = writeln!(md, "|---|---:|---:|---:|---:|---:|---:|---:|");
    let mut all_ms = Vec::new();
    let mut totals = [0u64; 4];
    for route in Route::ALL {
        let Some(s) = rec.routes.get(&route) else { continue };
        let c = s.classes;
        let _ = writeln!(
            md,
            "| {} | {} | {:.1} | {} | {} | {} | {:.1} | {:.1} |",
            route.name(),
            s.calls(),
            s.calls() as f64 / secs,
            c[0],
            c[1],
            c[2] + c[3],
            quantile(&s.ms, 0.5),
            quantile(&s.ms, 0.99)
        );
        all_ms.extend_from_slice(&s.ms);
        for (t, x) in totals.iter_mut().zip(c) {
            *t += x;
        }
    }
    let calls: u64 = totals.iter().sum();
    let _ = writeln!(
        md,
        "| **all** | {calls} | {:.1} | {} | {} | {} | {:.1} | {:.1} |\n",
        calls as f64 / secs,
        totals[0],
        totals[1],
        totals[2] + totals[3],
        quantile(&all_ms, 0.5),
        quantile(&all_ms, 0.99)
    );
    let _ = writeln!(md, "5xx includes calls with no answer (none expected). Latency is the whole HTTP exchange.\n");
}

fn tokens_line(md: &mut String, rec: &Recorder) {
    let issued = rec.issued.len();
    let ended = rec.issued.iter().filter(|t| t.ended.is_some()).count();
    let found = rec.issued.iter().filter(|t| t.found_ended).count();
    let _ = writeln!(
        md,
        "Tokens: {issued} issued (logins, and one per administrator), {ended} ended by the soak's logouts and \
         revokes, {found} found ended on use (by the per-user cap: the history check below compares them \
         with the table's `session_cap` records).\n"
    );
}

fn answers_table(md: &mut String, rec: &Recorder) {
    let _ = writeln!(md, "## Answers\n\n| route | answer | calls | |\n|---|---|---:|---|");
    for route in Route::ALL {
        let Some(s) = rec.routes.get(&route) else { continue };
        for (label, n) in &s.answers {
            let mark = if route.expected(label) { "" } else { "**not expected**" };
            let _ = writeln!(md, "| {} | {} | {n} | {mark} |", route.name(), label);
        }
    }
    let odd = crate::checks::unexpected(rec);
    if odd.is_empty() {
        let _ = writeln!(md, "\nEvery answer is one the contract allows on its route.\n");
    } else {
        let n: u64 = odd.iter().map(|(_, _, n)| n).sum();
        let _ = writeln!(md, "\n{n} answers the contract does not allow on their route (marked above).\n");
    }
}
