//! The benchmark's page: one table row per measured call, medians and p95, beside the
//! baseline where there is one, and the activity figure.

use std::fmt::Write as _;

use crate::{ACTIVITY_DUE, ACTIVITY_INSIDE, Args, Row, Sample, median_of, quantile};

/// Write units one activity record costs (the due row's over the other's), and per active
/// session-hour at the default interval of 300 s (12 records).
fn activity_summary(rows: &[Row]) -> Option<String> {
    let median =
        |name: &str, f: fn(&Sample) -> f64| rows.iter().find(|r| r.name == name).map(|r| median_of(&r.samples, f));
    let record = median(ACTIVITY_DUE, |x| x.write_units)? - median(ACTIVITY_INSIDE, |x| x.write_units)?;
    let (due, inside) =
        (median(ACTIVITY_DUE, |x| x.sequential as f64)?, median(ACTIVITY_INSIDE, |x| x.sequential as f64)?);
    Some(format!(
        "Activity: one record takes {record:.1} write units (the token's and the session's conditional updates; \
         no index entry is rewritten), so an active session costs {:.0} write units per hour at the default \
         interval of 300 s (12 records). Sequential round trips of the list: {due:.0} with its record due, \
         {inside:.0} inside the interval.\n",
        record * 12.0
    ))
}

pub fn report(rows: &[Row], args: &Args) -> String {
    let mut md = String::from("# Benchmark: cost per call against the number of sessions\n\n");
    let _ = writeln!(
        md,
        "`scripts/bench` (sessions-bench) on this machine ({} cores), DynamoDB Local in memory. Medians of {} calls \
         per route ({} for each read-everything path: the baseline and the filtered list.all); p95 latency too. \
         *items* is what DynamoDB read (ScannedCount, or items returned by a get), *requests* the DynamoDB calls, \
         *seq.* how many of them were sequential on the critical path, RCU/WCU the consumed capacity DynamoDB \
         reported, KB the bytes of its answers. The baseline reads every session item whole (a Scan of the table \
         for session items; its items are the sessions it read), sorts and slices in memory. The rows at 100 \
         sessions compare the write units of a login and a logout with the order indexes projecting the packed \
         list row (the template) against projecting ALL (before), for three user-agent lengths, and a user's list \
         with its session's activity due against the same list inside the activity interval.\n",
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        args.calls,
        args.full_read_calls,
    );
    md.push_str("| sessions | call | items | requests | seq. | RCU | WCU | KB | p50 ms | p95 ms | baseline items | baseline KB | baseline p50 ms | items ratio | KB ratio |\n");
    md.push_str("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for r in rows {
        let s = &r.samples;
        let items = median_of(s, |x| x.items as f64);
        let bytes = median_of(s, |x| x.bytes as f64);
        let (b_items, b_kb, b_p50, ratio, kb_ratio) = match &r.baseline {
            Some(b) => {
                let bi = median_of(b, |x| x.items as f64);
                let bb = median_of(b, |x| x.bytes as f64);
                (
                    format!("{bi:.0}"),
                    format!("{:.1}", bb / 1024.0),
                    format!("{:.1}", median_of(b, |x| x.latency_ms)),
                    format!("{:.0}×", bi / items.max(1.0)),
                    format!("{:.1}×", bb / bytes.max(1.0)),
                )
            }
            None => Default::default(),
        };
        let _ = writeln!(
            md,
            "| {} | {} | {items:.0} | {:.0} | {:.0} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} | {b_items} | {b_kb} | {b_p50} | {ratio} | {kb_ratio} |",
            r.size,
            r.name,
            median_of(s, |x| x.requests as f64),
            median_of(s, |x| x.sequential as f64),
            median_of(s, |x| x.read_units),
            median_of(s, |x| x.write_units),
            median_of(s, |x| x.bytes as f64) / 1024.0,
            median_of(s, |x| x.latency_ms),
            quantile(s.iter().map(|x| x.latency_ms).collect(), 0.95),
        );
    }
    if let Some(activity) = activity_summary(rows) {
        md.push('\n');
        md.push_str(&activity);
    }
    md.push_str("\n![items read and latency against sessions](benchmark.svg)\n");
    md
}
