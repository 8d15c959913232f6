//! The limits the local server runs with, and the check that none was exceeded.
//!
//! The check is deliberately tolerant of how a limit counts (fixed windows, or a block
//! that lasts from the last failure): it only assumes that a counter holds at most `max`
//! checked failures, and that once full it lets no failure through until `block` has passed,
//! so counters holding failures start at least `block` apart. Over a span `s` a key can then
//! collect at most `max × (⌈s / block⌉ + 1)` checked failures. The soak sends wrong passwords
//! only for accounts nobody logs in to and from addresses that never log in, and wrong codes
//! only for administrators never given a right one, so no success clears a counter early.
//! It also shows the most failures seen within any one `block`, for comparison with `max`.

use std::collections::BTreeMap;

use sessions_api::Config;

use crate::checks::Verdict;
use crate::record::{Counted, Failure};

/// The limits the check holds the failures to.
#[derive(Clone, Debug)]
pub struct Limits {
    pub max_sessions: usize,
    pub per_user: u32,
    pub per_ip: u32,
    pub user_block_ms: f64,
    pub ip_block_ms: f64,
    pub codes: u32,
    pub code_window_ms: f64,
}

impl Limits {
    /// As the local server reads them: the soak runs with the same environment.
    pub fn from(config: &Config) -> Limits {
        let (user, ip) = (config.login_limit_user(), config.login_limit_ip());
        Limits {
            max_sessions: config.max_sessions_per_user,
            per_user: user.max,
            per_ip: ip.max,
            user_block_ms: user.block_ms as f64,
            ip_block_ms: ip.block_ms as f64,
            codes: config.two_factor_max_failures,
            code_window_ms: config.two_factor_failure_window_ms as f64,
        }
    }
}

/// (4b–d) Per account, per address and per 2FA user: the checked failures against the bound.
pub fn limit_checks(failures: &[Failure], limits: &Limits) -> Vec<Verdict> {
    let mut by_key: BTreeMap<&Counted, Vec<&Failure>> = BTreeMap::new();
    for f in failures {
        by_key.entry(&f.who).or_default().push(f);
    }
    let kinds = [
        ("wrong passwords per account", "LOGIN_FAILURES_PER_USER", limits.per_user, limits.user_block_ms),
        ("wrong passwords per address", "LOGIN_FAILURES_PER_IP", limits.per_ip, limits.ip_block_ms),
        ("wrong 2FA codes per user", "TWO_FACTOR_MAX_FAILURES", limits.codes, limits.code_window_ms),
    ];
    kinds
        .iter()
        .enumerate()
        .map(|(kind, (what, variable, max, block))| {
            let keys: Vec<&Vec<&Failure>> = by_key.iter().filter(|(k, _)| kind_of(k) == kind).map(|(_, v)| v).collect();
            verdict(what, variable, *max, *block, &keys)
        })
        .collect()
}

fn kind_of(who: &Counted) -> usize {
    match who {
        Counted::Account(_) => 0,
        Counted::Address(_) => 1,
        Counted::SecondFactor(_) => 2,
    }
}

fn verdict(what: &str, variable: &str, max: u32, block_ms: f64, keys: &[&Vec<&Failure>]) -> Verdict {
    let name = format!("{what} within {variable} ({max} per {})", minutes(block_ms));
    if max == 0 {
        return Verdict::new(name, true, "limit off (0): nothing to check");
    }
    let (mut over, mut most, mut peak, mut total) = (0, 0usize, 0usize, 0usize);
    for failures in keys {
        let first = failures.iter().map(|f| f.sent).fold(f64::INFINITY, f64::min);
        let last = failures.iter().map(|f| f.answered).fold(0.0, f64::max);
        let bound = max as usize * (((last - first) / block_ms).ceil() as usize + 1);
        over += usize::from(failures.len() > bound);
        most = most.max(failures.len());
        peak = peak.max(peak_within(failures, block_ms));
        total += failures.len();
    }
    let detail = format!(
        "{total} checked failures over {} keys, at most {most} for one (bound max × (⌈span / block⌉ + 1)), \
         at most {peak} within one block; {over} keys over the bound",
        keys.len()
    );
    Verdict::new(name, over == 0, detail)
}

/// The most failures answered within any one `block_ms`.
fn peak_within(failures: &[&Failure], block_ms: f64) -> usize {
    let mut times: Vec<f64> = failures.iter().map(|f| f.answered).collect();
    times.sort_by(f64::total_cmp);
    let mut start = 0;
    let mut peak = 0;
    for end in 0..times.len() {
        while times[end] - times[start] >= block_ms {
            start += 1;
        }
        peak = peak.max(end - start + 1);
    }
    peak
}

/// `ms` in minutes, as text ("1 minute", "5 minutes").
pub fn minutes(ms: f64) -> String {
    let m = ms / 60_000.0;
    if m == 1.0 { "1 minute".into() } else { format!("{m} minutes") }
}
