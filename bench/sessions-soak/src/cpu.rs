//! Where the machine's CPU went during the run, from Linux's /proc: the share of every core's
//! time each watched process used (the local server, DynamoDB Local, the soak itself), what
//! everything else used, and what stayed idle. On 2 cores this says what limited the
//! throughput, and whether other work on the machine took a part. Elsewhere it reports nothing.

/// The processes to watch, by name.
pub struct Watch {
    procs: Vec<(String, u32)>,
}

/// CPU times at one moment, in clock ticks: the machine's total and idle, and each process's.
pub struct Sample {
    total: u64,
    idle: u64,
    procs: Vec<u64>,
}

impl Watch {
    /// `name=pid,name=pid` (scripts/soak passes the local server and DynamoDB Local), and the
    /// soak itself.
    pub fn parse(arg: &str) -> Watch {
        let mut procs: Vec<(String, u32)> = arg
            .split(',')
            .filter_map(|pair| pair.split_once('='))
            .filter_map(|(name, pid)| Some((name.trim().to_string(), pid.trim().parse().ok()?)))
            .collect();
        procs.push(("the soak".into(), std::process::id()));
        Watch { procs }
    }

    pub fn sample(&self) -> Option<Sample> {
        let stat = std::fs::read_to_string("/proc/stat").ok()?;
        let ticks: Vec<u64> =
            stat.lines().next()?.split_whitespace().skip(1).take(8).filter_map(|t| t.parse().ok()).collect();
        if ticks.len() < 8 {
            return None;
        }
        let procs = self.procs.iter().map(|(_, pid)| process_ticks(*pid).unwrap_or(0)).collect();
        Some(Sample { total: ticks.iter().sum(), idle: ticks[3] + ticks[4], procs })
    }

    /// One sentence: each process's share of all cores between `a` and `b`, the rest, idle.
    pub fn shares(&self, a: &Sample, b: &Sample, cores: usize) -> Option<String> {
        let total = b.total.checked_sub(a.total).filter(|&t| t > 0)? as f64;
        let pct = |ticks: u64| 100.0 * ticks as f64 / total;
        let mut parts = Vec::new();
        let mut ours = 0;
        for (i, (name, _)) in self.procs.iter().enumerate() {
            let used = b.procs[i].saturating_sub(a.procs[i]);
            ours += used;
            parts.push(format!("{name} {:.0} %", pct(used)));
        }
        let idle = b.idle.saturating_sub(a.idle);
        let busy = (b.total - a.total).saturating_sub(idle);
        parts.push(format!("everything else {:.0} %", pct(busy.saturating_sub(ours))));
        parts.push(format!("idle {:.0} %", pct(idle)));
        Some(format!("CPU during the run, as shares of all {cores} cores' time: {}.", parts.join(", ")))
    }
}

/// A process's user and system time (fields 14 and 15 of /proc/<pid>/stat, after the
/// parenthesised name, which may hold spaces).
fn process_ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    Some(fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?)
}
