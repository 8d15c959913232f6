//! list.all's unfiltered pages at each size: every sort order at offsets 0 and 1 000 (the
//! baseline beside the default order), and the default order both ways at the middle and on
//! the last page, which the nearer end reads (store::session_pages). Above
//! `--full-reads-up-to` only the default order, and no baseline: reading everything is what
//! such a size is too large for.

use serde_json::json;
use sessions_api::Endpoint::SessionsListAll;

use crate::{Args, Bench, Row, SORT_KEYS, event, percent};

/// The offsets measured at `size` with `count` a page: 0, 1 000, the middle, the last page.
pub fn offsets(size: usize, count: usize) -> Vec<(usize, String)> {
    let last = size.saturating_sub(count);
    let mut at = vec![(0, "offset 0".to_string()), (1000, "offset 1000".to_string())];
    at.push((size / 2, format!("offset {} (the middle)", size / 2)));
    at.push((last, format!("offset {last} (the last page)")));
    at.retain(|(offset, _)| *offset < size.max(1));
    at.dedup_by_key(|(offset, _)| *offset);
    at
}

/// The rows of every measured page at `size`, pushed as they are measured.
pub async fn pages(bench: &Bench, args: &Args, size: usize, admin: &[(&str, &str)], rows: &mut Vec<Row>) {
    let lean = size > args.full_reads_up_to;
    for (offset, label) in offsets(size, 50) {
        // Every order near the start; the default order's two directions beyond it.
        let keys: &[&str] = if offset <= 1000 && !lean { &SORT_KEYS } else { &SORT_KEYS[..1] };
        for key in keys {
            for dir in [1, -1] {
                let sort = json!({ *key: dir }).to_string();
                let query = format!("sort={}&offset={offset}&count=50", percent(&sort));
                // A page deeper than the read budget (LIST_SCAN_BUDGET_MS) is refused with a 503:
                // its row says so, with what the refused calls read.
                let (samples, refused) = bench
                    .repeat_any(args.calls, SessionsListAll, |_| {
                        event(SessionsListAll, "/api/v1/sessions/list.all", &query, admin, None)
                    })
                    .await;
                let refused = refused.map(|r| format!(", answered {r}")).unwrap_or_default();
                let baseline = if *key == "loginAt" && dir == -1 && offset <= 1000 && !lean {
                    let mut b = Vec::new();
                    for _ in 0..args.full_read_calls {
                        b.push(bench.baseline((key, dir), offset, 50, None).await);
                    }
                    Some(b)
                } else {
                    None
                };
                rows.push(Row {
                    size,
                    name: format!("list.all sort {key} {dir:+}, {label}{refused}"),
                    samples,
                    baseline,
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::offsets;

    #[test]
    fn the_start_the_middle_and_the_last_page() {
        let at: Vec<usize> = offsets(100_000, 50).into_iter().map(|(o, _)| o).collect();
        assert_eq!(at, [0, 1000, 50_000, 99_950]);
        let at: Vec<usize> = offsets(1000, 50).into_iter().map(|(o, _)| o).collect();
        assert_eq!(at, [0, 500, 950], "1 000 is past the last session");
    }
}
