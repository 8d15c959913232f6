//! Every live session a filter or a multi-key sort needs, read within a budget: each
//! shard of the loginAt index cut into ranges by login time, and every range of every
//! shard read at once, so the pages one range needs are the only sequential reads.

use std::sync::atomic::AtomicUsize;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Instant;

use super::error::StoreError;
use super::session_index::{AllSessionsReader, KeyRange, Scan, ScanBudget, ShardRead};
use super::{DynamoStore, keys};
use crate::core::clock::{Millis, iso_millis, parse_iso};
use crate::core::model::Session;
use crate::core::order::SortKey;

/// Sessions a full read aims to fetch per range Query by default. A Query page ends at
/// 1 MB (about 900 of our index entries in DynamoDB Local), so a range of about 600 fits
/// one page with room for an uneven spread of login times.
pub(super) const FILTER_RANGE_ROWS: usize = 600;

/// Most ranges one shard's span is cut into, which bounds the Queries in flight at once
/// (32 per shard). With 8 shards and 600 rows a range, tables past about 150 000 sessions
/// get bigger ranges, which take more than one page.
const MAX_FILTER_SEGMENTS: usize = 32;

/// Limit of one range Query of a full read; in practice DynamoDB's 1 MB ends a page first.
pub(super) const FILTER_PAGE: usize = 2500;

/// Sessions assumed when the counter cannot be read: 8 ranges per shard.
fn fallback_sessions(shards: usize, range_rows: usize) -> usize {
    8 * shards * range_rows
}

/// Ranges each shard's span is cut into so that each holds about `range_rows` of the
/// `sessions` spread over `shards` (from 1 to MAX_FILTER_SEGMENTS).
fn filter_segments(sessions: usize, shards: usize, range_rows: usize) -> usize {
    sessions.div_ceil(shards.max(1)).div_ceil(range_rows.max(1)).clamp(1, MAX_FILTER_SEGMENTS)
}

/// A range of sort keys as (from, to), ends included; `None` is open.
type Segment = (Option<String>, Option<String>);

/// Cuts the span of ByLoginAt keys `first..=last` (keys::by_login_at) into up to `parts`
/// ranges, evenly by login time, that together hold every key exactly once: each cut is a
/// bare time in the keys' own fixed-width form, which no key equals (each has a `#` after
/// it), so a key lies strictly between two cuts. Keys whose time does not parse make one
/// range of everything.
fn segments(first: &str, last: &str, parts: usize) -> Vec<Segment> {
    let time = |key: &str| key.split('#').next().and_then(parse_iso);
    let (Some(lo), Some(hi)) = (time(first), time(last)) else {
        return vec![(None, None)];
    };
    let mut cuts: Vec<String> = (1..parts as i64)
        .map(|j| lo + (hi - lo) * j / parts as i64)
        .filter(|&t| t > lo && t <= hi)
        .map(iso_millis)
        .collect();
    cuts.dedup();
    if cuts.is_empty() {
        return vec![(None, None)];
    }
    let mut ranges = vec![(None, Some(cuts[0].clone()))];
    ranges.extend(cuts.windows(2).map(|w| (Some(w[0].clone()), Some(w[1].clone()))));
    ranges.push((cuts.last().cloned(), None));
    ranges
}

/// The Query range of a segment.
fn key_range((lo, hi): &Segment) -> KeyRange<'_> {
    match (lo.as_deref(), hi.as_deref()) {
        (None, None) => KeyRange::All,
        (None, Some(hi)) => KeyRange::AtMost(hi),
        (Some(lo), None) => KeyRange::AtLeast(lo),
        (Some(lo), Some(hi)) => KeyRange::Between(lo, hi),
    }
}

/// The packed rows alone, from the loginAt index: a full read needs no merge order, and
/// that index's keys begin with the login time, which spreads them evenly.
fn filter_index() -> (&'static str, &'static str) {
    keys::order_index(SortKey::LoginAt)
}

impl DynamoStore {
    /// Every live session `keep` accepts, within `budget` (see [`AllSessionsReader`]).
    pub(super) async fn full_read(
        &self,
        now: Millis,
        budget: ScanBudget,
        keep: impl Fn(&Session) -> bool + Send + Sync,
    ) -> Result<Scan, StoreError> {
        let ranges = self.filter_ranges().await?;
        // The row budget is shared by every range.
        let matched = AtomicUsize::new(0);
        let reads = ranges
            .iter()
            .map(|(shard, segment)| self.read_range(*shard, key_range(segment), now, budget, &keep, &matched));
        let mut all = Vec::new();
        for rows in futures_util::future::try_join_all(reads).await? {
            let Some(rows) = rows else {
                return Ok(Scan::OverBudget);
            };
            all.extend(rows);
        }
        Ok(Scan::Complete(all))
    }

    /// One round for each shard's first and last key and the session counter; then each
    /// shard's span cut into ranges of about filter_range_rows sessions.
    async fn filter_ranges(&self) -> Result<Vec<(u32, Segment)>, StoreError> {
        let spans = futures_util::future::try_join_all(
            (0..self.order_shards).map(|shard| self.key_span(filter_index(), shard)),
        );
        let (spans, counted) = tokio::join!(spans, self.active_session_count());
        let shards = self.order_shards as usize;
        // The count only sizes the ranges: without it the read is cut as if for a mid-sized
        // table, and the answer is the same.
        let sessions = counted.unwrap_or_else(|e| {
            tracing::warn!(error = %e, "session counter unread; a full read cuts 8 ranges per shard");
            fallback_sessions(shards, self.filter_range_rows)
        });
        let parts = filter_segments(sessions, shards, self.filter_range_rows);
        let mut ranges = Vec::new();
        for (shard, span) in (0..self.order_shards).zip(spans?) {
            if let Some((first, last)) = span {
                ranges.extend(segments(&first, &last, parts).into_iter().map(|r| (shard, r)));
            }
        }
        Ok(ranges)
    }

    /// Every page of one range of one shard: the live rows `keep` accepts, or `None` once
    /// the budget (shared through `matched`) or the time is up.
    async fn read_range(
        &self,
        shard: u32,
        range: KeyRange<'_>,
        now: Millis,
        budget: ScanBudget,
        keep: &(impl Fn(&Session) -> bool + Send + Sync),
        matched: &AtomicUsize,
    ) -> Result<Option<Vec<Session>>, StoreError> {
        let mut rows = Vec::new();
        let mut start = None;
        loop {
            // Another range may have run the budget out, or the time may be up: stop
            // before the next page.
            if matched.load(Relaxed) > budget.max_rows || Instant::now() >= budget.deadline {
                return Ok(None);
            }
            let read = ShardRead { limit: FILTER_PAGE, start, range };
            let batch = self.index_page(filter_index(), false, shard, false, now, read).await?;
            for (_, session) in batch.rows {
                if session.is_live(now) && keep(&session) {
                    if matched.fetch_add(1, Relaxed) >= budget.max_rows {
                        return Ok(None);
                    }
                    rows.push(session);
                }
            }
            match batch.next {
                Some(k) => start = Some(k),
                None => return Ok(Some(rows)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{MAX_FILTER_SEGMENTS, fallback_sessions, filter_segments, segments};

    #[test]
    fn segments_hold_every_key_exactly_once() {
        let keys: Vec<String> = (0..500)
            .map(|i| {
                crate::store::keys::by_login_at(1_764_000_000_000 + i * 7_919_333 % 86_400_000, &format!("{i:05}"))
            })
            .collect();
        let (first, last) = (keys.iter().min().unwrap(), keys.iter().max().unwrap());
        let ranges = segments(first, last, 8);
        assert_eq!(ranges.len(), 8);
        for key in &keys {
            let holding = ranges
                .iter()
                .filter(|(lo, hi)| {
                    lo.as_deref().is_none_or(|lo| key.as_str() >= lo)
                        && hi.as_deref().is_none_or(|hi| key.as_str() <= hi)
                })
                .count();
            assert_eq!(holding, 1, "{key}");
        }
        // Evenly by time: no range holds more than twice its share here.
        for (lo, hi) in &ranges {
            let n = keys
                .iter()
                .filter(|k| {
                    lo.as_deref().is_none_or(|lo| k.as_str() >= lo) && hi.as_deref().is_none_or(|hi| k.as_str() <= hi)
                })
                .count();
            assert!(n <= 2 * 500 / 8, "{lo:?}..{hi:?}: {n}");
        }
        let same = crate::store::keys::by_login_at(1_764_000_000_000, "a");
        assert_eq!(segments(&same, &same.replace("#a", "#b"), 8), vec![(None, None)], "one time: one range");
        assert_eq!(segments("x#a", &same, 8), vec![(None, None)]);
    }

    #[test]
    fn a_full_read_cuts_each_shard_into_ranges_of_about_the_rows_asked() {
        assert_eq!(filter_segments(0, 8, 600), 1);
        assert_eq!(filter_segments(1_000, 8, 600), 1);
        assert_eq!(filter_segments(10_000, 8, 600), 3);
        assert_eq!(filter_segments(100_000, 8, 600), 21);
        assert_eq!(filter_segments(150_000, 8, 600), 32);
        assert_eq!(filter_segments(10_000_000, 8, 600), MAX_FILTER_SEGMENTS, "capped");
        assert_eq!(filter_segments(100, 1, 10), 10);
        assert_eq!(filter_segments(100, 0, 0), MAX_FILTER_SEGMENTS, "no zero division");
        assert_eq!(filter_segments(fallback_sessions(8, 600), 8, 600), 8, "an unread counter: 8 ranges");
    }
}
