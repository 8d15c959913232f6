//! The cost table's rows: every route, plus list.all's deep and filtered pages, the
//! authorizer and an activity record, each priced from measured figures. Request units and
//! sequential round trips come from the benchmark's row where it measures the call (at its
//! largest table), otherwise from sessions-memory's metered call of the events/ file; the
//! function's own time at its CPU share always from sessions-memory.

use sessions_api::Endpoint;
use sessions_bench::figures::{BenchRun, MemoryRun};
use sessions_bench::pricing::{Breakdown, CallFigures, DYNAMODB_ROUND_TRIP_MS, Prices, billed_ms, own_ms, per_million};
use sessions_bench::template_sizes::MemorySizes;

/// The benchmark's rows of an activity record: the same list with the record due, and not.
const ACTIVITY_DUE: &str = "list, the session's activity due (a record: 2 conditional updates)";
const ACTIVITY_INSIDE: &str = "list, inside the activity interval (no write)";

/// One row's key, function, event and benchmark row.
struct Shape {
    key: String,
    function: &'static str,
    event: &'static str,
    bench: Option<&'static str>,
}

/// A priced row of the cost table.
pub struct Priced {
    pub key: String,
    /// Where its request units and its duration come from.
    pub source: String,
    pub figures: CallFigures,
    pub sequential: f64,
    pub own_ms: f64,
    pub million: Breakdown,
}

fn shapes() -> Vec<Shape> {
    let bench_row = |function: &str| match function {
        "sessions-list" => Some("list (a user with 100 sessions)"),
        "sessions-list-all" => Some("list.all sort loginAt -1, offset 0"),
        "sessions-info-admin" => Some("info.admin"),
        "user-sessions-list" => Some("MonoCloud list (a user with 100 sessions)"),
        "login" => Some("login"),
        "logout" => Some("logout"),
        _ => None,
    };
    let mut shapes: Vec<Shape> = Endpoint::ALL
        .iter()
        .map(|e| Shape {
            key: e.function().into(),
            function: e.function(),
            event: e.function(),
            bench: bench_row(e.function()),
        })
        .collect();
    let list_all = |key: &str, event, bench| Shape { key: key.into(), function: "sessions-list-all", event, bench };
    // The benchmark's deep pages move with the table's size; sessions-memory's is at offset 1 000.
    shapes.push(list_all("sessions-list-all, offset 1000", "sessions-list-all-offset-1000", None));
    shapes.push(list_all(
        "sessions-list-all, filter",
        "sessions-list-all-filter",
        Some("list.all filter \"firefox\", offset 0"),
    ));
    shapes.push(Shape { key: "authorizer".into(), function: "authorizer", event: "authorizer", bench: None });
    shapes
}

/// Every row of the cost table, priced; the reason when a figure is missing or stale.
pub fn priced(
    bench: &BenchRun,
    memory: &MemoryRun,
    sizes: &MemorySizes,
    prices: &Prices,
) -> Result<Vec<Priced>, String> {
    let mut rows = Vec::new();
    for shape in shapes() {
        let (measured, event) = memory
            .event(shape.function, shape.event)
            .ok_or_else(|| format!("docs/memory.json has no {} event of {}", shape.event, shape.function))?;
        let mb = sizes.size_of(shape.function);
        if measured.memory_mb != mb {
            return Err(format!(
                "{} was measured at {} MB, template.yaml now gives it {mb} MB: rerun scripts/bench-memory",
                shape.function, measured.memory_mb
            ));
        }
        let row = shape.bench.and_then(|name| bench.largest(name));
        let table = if measured.sessions == 0 { "demo data".into() } else { format!("{} sessions", measured.sessions) };
        let (read_units, write_units, sequential, source) = match row {
            Some(r) => {
                let source = format!("units: benchmark, {} sessions; time: events/{}, {table}", r.size, shape.event);
                (r.read_units, r.write_units, r.sequential, source)
            }
            None => {
                let m = &event.metered;
                (m.read_units, m.write_units, m.sequential, format!("events/{}, {table}", shape.event))
            }
        };
        let own = own_ms(event.at_size.p50_ms, event.full.p50_ms, event.full.cpu_ms);
        let billed = billed_ms(own, sequential, DYNAMODB_ROUND_TRIP_MS);
        let http_api = shape.function != "authorizer";
        let figures = CallFigures { read_units, write_units, lambda: Some((mb, billed)), http_api };
        rows.push(Priced {
            key: shape.key,
            source,
            figures,
            sequential,
            own_ms: own,
            million: per_million(&figures, prices),
        });
    }
    rows.push(activity(bench, prices)?);
    Ok(rows)
}

/// An activity record: the benchmark's due list less the same list inside the interval.
fn activity(bench: &BenchRun, prices: &Prices) -> Result<Priced, String> {
    let (due, inside) =
        bench.largest(ACTIVITY_DUE).zip(bench.largest(ACTIVITY_INSIDE)).ok_or("no activity rows in rows.json")?;
    let figures = CallFigures {
        read_units: (due.read_units - inside.read_units).max(0.0),
        write_units: due.write_units - inside.write_units,
        lambda: None,
        http_api: false,
    };
    Ok(Priced {
        key: "activity record".into(),
        source: format!("benchmark, {} sessions (due − inside)", due.size),
        figures,
        sequential: 0.0,
        own_ms: 0.0,
        million: per_million(&figures, prices),
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use sessions_bench::figures::{BenchRow, EventFigures, Measured, Timing};
    use sessions_bench::pricing::US_EAST_1;

    use super::*;

    /// Every shape's event measured alike: 100 ms at its share, 80 ms at full CPU of which 60
    /// ms CPU, at `mb`; login's request units and round trips from the benchmark.
    fn runs(mb: u32) -> (BenchRun, MemoryRun, MemorySizes) {
        let event = |name: &str| EventFigures {
            event: name.into(),
            status: 200,
            full: Timing { p50_ms: 80.0, cpu_ms: 60.0, ..Default::default() },
            at_size: Timing { p50_ms: 100.0, ..Default::default() },
            ..Default::default()
        };
        let measured = shapes()
            .iter()
            .map(|s| Measured {
                function: s.function.into(),
                memory_mb: mb,
                events: vec![event(s.event)],
                ..Default::default()
            })
            .collect();
        let row = |name: &str, read_units, write_units, sequential| BenchRow {
            size: 1000,
            name: name.into(),
            read_units,
            write_units,
            sequential,
            ..Default::default()
        };
        let bench = BenchRun {
            rows: vec![
                row("login", 5.0, 22.0, 3.0),
                row(ACTIVITY_DUE, 26.0, 2.0, 3.0),
                row(ACTIVITY_INSIDE, 26.0, 0.0, 2.0),
            ],
            ..Default::default()
        };
        let sizes =
            MemorySizes { global: 1024, by_function: BTreeMap::new(), overridden: Vec::new(), with_geo_db: Vec::new() };
        (bench, MemoryRun { measured, ..Default::default() }, sizes)
    }

    #[test]
    fn a_million_logins_from_the_runs_by_hand() {
        let (bench, memory, sizes) = runs(1024);
        let rows = priced(&bench, &memory, &sizes, &US_EAST_1).unwrap();
        let login = rows.iter().find(|r| r.key == "login").unwrap();
        // Own time: 100 ms less the 20 ms it waited at full CPU (80 − 60) = 80 ms; billed 80 + 3 × 5.
        assert_eq!(login.own_ms, 80.0);
        assert_eq!(login.figures.lambda, Some((1024, 95.0)));
        // 0.625 + 13.75 + 0.20 + 1 GB × 0.095 s × 1e6 × 0.0000133334 (1.266673) + 1.00.
        assert!((login.million.total() - 16.841673).abs() < 1e-9, "{}", login.million.total());
        assert_eq!(login.source, "units: benchmark, 1000 sessions; time: events/login, demo data");
        let record = rows.iter().find(|r| r.key == "activity record").unwrap();
        assert_eq!((record.figures.write_units, record.figures.lambda), (2.0, None));
        let authorizer = rows.iter().find(|r| r.key == "authorizer").unwrap();
        assert!(!authorizer.figures.http_api);
    }

    #[test]
    fn a_size_changed_since_the_measurement_is_refused() {
        let (bench, memory, sizes) = runs(256);
        let err = priced(&bench, &memory, &sizes, &US_EAST_1).err().unwrap();
        assert!(err.contains("rerun scripts/bench-memory"), "{err}");
    }
}
