//! Every user's sessions through the order indexes, for administrators. Each index is
//! spread over shards (`SESSIONS#<shard>`), so no partition takes every session write, and
//! projects the packed list row (store::session_row). A page in any one sort order is a
//! lazy k-way merge of the shards that reads about offset + count items; filters and
//! multi-key sorts read every live session's packed row, within a budget.

use std::collections::VecDeque;
use std::future::Future;
use std::sync::atomic::AtomicUsize;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Instant;

use super::attributes::{Item, from_item, number_value, string_value};
use super::error::{StoreError, store_error};
use super::sessions::SessionItem;
use super::{DynamoStore, keys, session_row};
use crate::core::clock::Millis;
use crate::core::model::Session;
use crate::core::order::{Direction, SortKey};

/// Largest Limit of one order-index Query of a page (a full read's is FILTER_PAGE).
const MAX_PAGE: usize = 1000;

/// How much a full read may take before it gives up rather than run out of memory or time.
#[derive(Clone, Copy, Debug)]
pub struct ScanBudget {
    /// Most matching sessions held in memory.
    pub max_rows: usize,
    /// When reading must have finished.
    pub deadline: Instant,
}

/// The outcome of a bounded full read.
#[derive(Debug)]
pub enum Scan {
    /// Every live session `keep` accepted.
    Complete(Vec<Session>),
    /// The budget ran out first.
    OverBudget,
}

/// Every user's sessions, for administrators.
pub trait AllSessionsReader {
    /// Live sessions in `key` order from its index, merged over the index's shards: skips
    /// `offset` live rows, returns up to `count` with the fields a list row shows, reading
    /// about offset + count items plus a few per shard (and the expired rows in the way).
    fn sessions_page(
        &self,
        key: SortKey,
        direction: Direction,
        offset: usize,
        count: usize,
        now: Millis,
    ) -> impl Future<Output = Result<Vec<Session>, StoreError>> + Send;
    /// Every live session `keep` accepts, holding only the fields list rows, filters and
    /// sorts read (no user agent, geo or client ids), within `budget`.
    fn matching_sessions(
        &self,
        now: Millis,
        budget: ScanBudget,
        keep: impl Fn(&Session) -> bool + Send + Sync,
    ) -> impl Future<Output = Result<Scan, StoreError>> + Send;
    /// Active sessions as counted at write time.
    fn active_session_count(&self) -> impl Future<Output = Result<usize, StoreError>> + Send;
    /// Any user's session by id.
    fn session_by_id(&self, session_id: &str) -> impl Future<Output = Result<Option<Session>, StoreError>> + Send;
}

/// One Query page of one order-index shard, as (sort key, row) pairs.
struct IndexPage {
    rows: Vec<(String, Session)>,
    /// Items DynamoDB evaluated, expired ones included.
    scanned: usize,
    next: Option<Item>,
}

/// A span of an index's sort key, ends included.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum KeyRange<'a> {
    All,
    AtMost(&'a str),
    AtLeast(&'a str),
    Between(&'a str, &'a str),
}

/// One Query of one shard: at most `limit` items, after `start`, within `range`; a read
/// that reaches the range's end ends as if the shard held no more.
struct ShardRead<'a> {
    limit: usize,
    start: Option<Item>,
    range: KeyRange<'a>,
}

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
    let time = |key: &str| key.split('#').next().and_then(crate::core::clock::parse_iso);
    let (Some(lo), Some(hi)) = (time(first), time(last)) else {
        return vec![(None, None)];
    };
    let mut cuts: Vec<String> = (1..parts as i64)
        .map(|j| lo + (hi - lo) * j / parts as i64)
        .filter(|&t| t > lo && t <= hi)
        .map(crate::core::clock::iso_millis)
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

/// Items a shard's Query asks for: its even share of the rows still needed, plus about two
/// standard deviations of a binomial share (a shard holds more than that in about 3 in 100
/// pages, and is then read once more).
fn shard_limit(wanted: usize, shards: usize) -> usize {
    if shards == 1 {
        return wanted;
    }
    let share = wanted.div_ceil(shards);
    share + (share as f64).sqrt().ceil() as usize
}

impl DynamoStore {
    /// One page of live rows from one shard of an order index, read from the packed row
    /// the index projects; expired rows are filtered out by DynamoDB (they still count
    /// toward `limit` and `scanned`). `sort_key` names the index's sort-key attribute;
    /// `with_keys` reads it with each row (a merge needs it), else rows come with "".
    async fn index_page(
        &self,
        (index, sort_key): (&str, &str),
        with_keys: bool,
        shard: u32,
        forward: bool,
        now: Millis,
        read: ShardRead<'_>,
    ) -> Result<IndexPage, StoreError> {
        let (key_condition, bounds) = match read.range {
            KeyRange::All => ("GSI2PK = :p", [None, None]),
            KeyRange::AtMost(a) => ("GSI2PK = :p AND #k <= :a", [Some(a), None]),
            KeyRange::AtLeast(a) => ("GSI2PK = :p AND #k >= :a", [Some(a), None]),
            KeyRange::Between(a, b) => ("GSI2PK = :p AND #k BETWEEN :a AND :b", [Some(a), Some(b)]),
        };
        let names_key = with_keys || read.range != KeyRange::All;
        let mut query = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(index)
            .key_condition_expression(key_condition)
            .filter_expression("expiresAt > :now")
            .projection_expression(if with_keys { "#r, #k" } else { "#r" })
            .set_expression_attribute_names(Some(
                [("#r".to_string(), keys::ROW.to_string())]
                    .into_iter()
                    .chain(names_key.then(|| ("#k".to_string(), sort_key.to_string())))
                    .collect(),
            ))
            .expression_attribute_values(":p", string_value(keys::order_shard(shard)))
            .expression_attribute_values(":now", number_value(now.div_euclid(1000)))
            .scan_index_forward(forward)
            .limit(read.limit.max(1) as i32)
            .set_exclusive_start_key(read.start);
        for (name, bound) in [":a", ":b"].into_iter().zip(bounds) {
            if let Some(bound) = bound {
                query = query.expression_attribute_values(name, string_value(bound));
            }
        }
        let out = query.send().await.map_err(store_error)?;
        let scanned = out.scanned_count.max(0) as usize;
        self.index_items_read.fetch_add(scanned as u64, Relaxed);
        self.index_queries.fetch_add(1, Relaxed);
        let mut rows = Vec::with_capacity(out.items.as_ref().map_or(0, Vec::len));
        for item in out.items.unwrap_or_default() {
            let text = |name: &str| item.get(name).and_then(|v| v.as_s().ok());
            let key = if with_keys { text(sort_key).cloned() } else { Some(String::new()) };
            let (Some(key), Some(session)) = (key, text(keys::ROW).and_then(|r| session_row::unpack(r))) else {
                return Err(StoreError::Corrupt(format!("an entry of index {index} without its row")));
            };
            rows.push((key, session));
        }
        // DynamoDB may return a LastEvaluatedKey before an empty page, or none when the
        // page ends exactly: both end a reader's loop correctly.
        let next = out.last_evaluated_key.filter(|k| !k.is_empty());
        Ok(IndexPage { rows, scanned, next })
    }
}

/// A shard's place in a k-way merge: the rows fetched and not yet taken, and where to go on.
#[derive(Default)]
struct Cursor {
    rows: VecDeque<(String, Session)>,
    next: Option<Item>,
    started: bool,
    /// Expired rows this shard's queries met, which widen its next Limit.
    expired: usize,
}

impl Cursor {
    /// Its next row is unknown: nothing left in hand, and the shard may hold more.
    fn dry(&self) -> bool {
        self.rows.is_empty() && (!self.started || self.next.is_some())
    }
}

/// What a refill round knows of one shard: the sort keys in hand, in merge order, and
/// whether the shard may hold more after them.
struct Hand<'a> {
    keys: Vec<&'a str>,
    more: bool,
}

/// How many more rows to read from each shard so that the merge can take `remaining` more
/// rows with no shard running dry again (when no expired rows are in the way, which the
/// Limit counts).
///
/// Shard i runs dry only when its last row in hand, key L, is taken; by then its rows in
/// hand and every other shard's rows in hand that come before L have been taken too. If
/// those are `remaining` or more, the page is full first and shard i needs nothing;
/// otherwise it needs the difference. A shard with nothing in hand needs `remaining`.
fn refill_needs(hands: &[Hand], remaining: usize, forward: bool) -> Vec<usize> {
    let before = |key: &str, last: &str| if forward { key < last } else { key > last };
    hands
        .iter()
        .enumerate()
        .map(|(i, hand)| {
            if !hand.more {
                return 0;
            }
            let Some(&last) = hand.keys.last() else {
                return remaining;
            };
            let ahead: usize = hands
                .iter()
                .enumerate()
                .filter(|&(j, _)| j != i)
                .map(|(_, other)| other.keys.partition_point(|k| before(k, last)))
                .sum();
            remaining.saturating_sub(hand.keys.len() + ahead)
        })
        .collect()
}

/// The last sort key a refill round needs to read to, when the rows in hand already reach
/// it: the `remaining`-th of them in merge order. At least `remaining` live rows lie at or
/// before it, so the page ends there or earlier, and no shard's rows past it are needed.
fn refill_bound(hands: &[Hand], remaining: usize, forward: bool) -> Option<String> {
    let mut known: Vec<&str> = hands.iter().flat_map(|h| h.keys.iter().copied()).collect();
    if remaining == 0 || known.len() < remaining {
        return None;
    }
    let (_, nth, _) = known.select_nth_unstable_by(remaining - 1, |a, b| if forward { a.cmp(b) } else { b.cmp(a) });
    Some(nth.to_string())
}

impl DynamoStore {
    /// The first and last sort key of one shard of an order index (expired entries
    /// included), both read at once; `None` when the shard is empty.
    async fn key_span(
        &self,
        (index, sort_key): (&str, &str),
        shard: u32,
    ) -> Result<Option<(String, String)>, StoreError> {
        let end = |forward: bool| async move {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(index)
                .key_condition_expression("GSI2PK = :p")
                .projection_expression("#k")
                .expression_attribute_names("#k", sort_key)
                .expression_attribute_values(":p", string_value(keys::order_shard(shard)))
                .scan_index_forward(forward)
                .limit(1)
                .send()
                .await
                .map_err(store_error)?;
            self.index_items_read.fetch_add(out.scanned_count.max(0) as u64, Relaxed);
            self.index_queries.fetch_add(1, Relaxed);
            let key = out.items.unwrap_or_default().into_iter().next().and_then(|item| item.get(sort_key).cloned());
            Ok::<_, StoreError>(key.and_then(|k| k.as_s().ok().cloned()))
        };
        let (first, last) = tokio::try_join!(end(true), end(false))?;
        Ok(first.zip(last))
    }

    /// The by-session-id index entry of `session_id`: its keys, token hash and expiry. The
    /// index is eventually consistent, so callers confirm against the item itself.
    pub(super) async fn session_index_entry(&self, session_id: &str) -> Result<Option<Item>, StoreError> {
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(keys::SESSION_ID_INDEX)
            .key_condition_expression("GSI1PK = :p")
            .expression_attribute_values(":p", string_value(keys::session(session_id)))
            .send()
            .await
            .map_err(store_error)?;
        Ok(out.items.unwrap_or_default().into_iter().next())
    }
}

impl AllSessionsReader for DynamoStore {
    async fn sessions_page(
        &self,
        key: SortKey,
        direction: Direction,
        offset: usize,
        count: usize,
        now: Millis,
    ) -> Result<Vec<Session>, StoreError> {
        let mut page = Vec::with_capacity(count.min(MAX_PAGE));
        if count == 0 {
            return Ok(page);
        }
        let index = keys::order_index(key);
        let sort_key = index.1;
        let forward = direction == Direction::Ascending;
        let shards = self.order_shards as usize;
        let wanted = offset.saturating_add(count);
        let mut cursors: Vec<Cursor> = (0..shards).map(|_| Cursor::default()).collect();
        let mut live_seen = 0usize;
        loop {
            // Every shard whose next row is unknown is read before a row is taken, all at
            // once. The first round asks each shard for its share of offset + count; a refill
            // round asks every shard that could otherwise run dry before the page is full for
            // enough rows that none can (refill_needs), so a page takes at most two rounds
            // unless expired rows are in the way or a need passes MAX_PAGE.
            let remaining = wanted - live_seen;
            let (needs, until): (Vec<usize>, Option<String>) = if cursors.iter().all(|c| !c.started) {
                (vec![shard_limit(remaining, shards); shards], None)
            } else if cursors.iter().any(Cursor::dry) {
                let hands: Vec<Hand> = cursors
                    .iter()
                    .map(|c| Hand { keys: c.rows.iter().map(|(k, _)| k.as_str()).collect(), more: c.next.is_some() })
                    .collect();
                (refill_needs(&hands, remaining, forward), refill_bound(&hands, remaining, forward))
            } else {
                (Vec::new(), None)
            };
            let mut reads: Vec<usize> = (0..needs.len()).filter(|&i| needs[i] > 0).collect();
            if let Some(until) = until.as_deref() {
                // A shard whose reading already went past the bound (through expired rows)
                // holds nothing more this page needs: done with it.
                reads.retain(|&i| {
                    let at = cursors[i].next.as_ref().and_then(|k| k.get(sort_key)).and_then(|v| v.as_s().ok());
                    let past = at.is_some_and(|k| if forward { k.as_str() >= until } else { k.as_str() <= until });
                    if past {
                        cursors[i].next = None;
                    }
                    !past
                });
            }
            if !reads.is_empty() {
                let queries = reads.iter().map(|&i| {
                    let cursor = &mut cursors[i];
                    // Widened by the expired rows it met, which its Limit counts too.
                    let range = match until.as_deref() {
                        None => KeyRange::All,
                        Some(until) if forward => KeyRange::AtMost(until),
                        Some(until) => KeyRange::AtLeast(until),
                    };
                    let limit = needs[i].saturating_add(cursor.expired).min(MAX_PAGE);
                    let read = ShardRead { limit, start: cursor.next.take(), range };
                    self.index_page(index, true, i as u32, forward, now, read)
                });
                let fetched = futures_util::future::try_join_all(queries).await?;
                for (i, batch) in reads.into_iter().zip(fetched) {
                    let cursor = &mut cursors[i];
                    cursor.started = true;
                    cursor.expired += batch.scanned.saturating_sub(batch.rows.len());
                    cursor.rows.extend(batch.rows);
                    cursor.next = batch.next;
                }
                // A shard may have answered only expired rows: look again before taking one.
                continue;
            }
            // The head of the merge: the least sort key ascending, the greatest descending
            // (keys are unique: each ends with its session id).
            let heads = cursors.iter().enumerate().filter_map(|(i, c)| c.rows.front().map(|(k, _)| (k, i)));
            let best = if forward { heads.min() } else { heads.max() };
            let Some((_, shard)) = best else {
                return Ok(page);
            };
            let Some((_, session)) = cursors[shard].rows.pop_front() else {
                return Ok(page);
            };
            if !session.is_live(now) {
                cursors[shard].expired += 1;
                continue;
            }
            live_seen += 1;
            if live_seen > offset {
                page.push(session);
                if page.len() == count {
                    return Ok(page);
                }
            }
        }
    }

    async fn matching_sessions(
        &self,
        now: Millis,
        budget: ScanBudget,
        keep: impl Fn(&Session) -> bool + Send + Sync,
    ) -> Result<Scan, StoreError> {
        // The packed rows alone, from the loginAt index: a full read needs no merge order,
        // and that index's keys begin with the login time, which spreads them evenly.
        let index = keys::order_index(SortKey::LoginAt);
        // One round for each shard's first and last key and the session counter; then each
        // shard's span is cut into ranges of about filter_range_rows sessions, and every range
        // of every shard is read at once, so the pages a range needs (one while its rows fit
        // a 1 MB answer) are the only sequential ones.
        let spans = futures_util::future::try_join_all((0..self.order_shards).map(|shard| self.key_span(index, shard)));
        let (spans, counted) = tokio::join!(spans, self.active_session_count());
        let shards = self.order_shards as usize;
        // The count only sizes the ranges: without it the read is cut as if for a mid-sized
        // table, and the answer is the same.
        let sessions = counted.unwrap_or_else(|e| {
            tracing::warn!(error = %e, "session counter unread; a full read cuts 8 ranges per shard");
            fallback_sessions(shards, self.filter_range_rows)
        });
        let parts = filter_segments(sessions, shards, self.filter_range_rows);
        let spans = spans?;
        let mut ranges: Vec<(u32, Segment)> = Vec::new();
        for (shard, span) in (0..self.order_shards).zip(spans) {
            if let Some((first, last)) = span {
                ranges.extend(segments(&first, &last, parts).into_iter().map(|r| (shard, r)));
            }
        }
        let matched = AtomicUsize::new(0);
        // The row budget is shared by every range.
        let range_reads = ranges.iter().map(|(shard, (lo, hi))| {
            let (keep, matched) = (&keep, &matched);
            let range = match (lo.as_deref(), hi.as_deref()) {
                (None, None) => KeyRange::All,
                (None, Some(hi)) => KeyRange::AtMost(hi),
                (Some(lo), None) => KeyRange::AtLeast(lo),
                (Some(lo), Some(hi)) => KeyRange::Between(lo, hi),
            };
            async move {
                let mut rows = Vec::new();
                let mut start = None;
                loop {
                    // Another range may have run the budget out, or the time may be up: stop
                    // before the next page.
                    if matched.load(Relaxed) > budget.max_rows || Instant::now() >= budget.deadline {
                        return Ok(None);
                    }
                    let read = ShardRead { limit: FILTER_PAGE, start, range };
                    let batch = self.index_page(index, false, *shard, false, now, read).await?;
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
                        None => return Ok::<_, StoreError>(Some(rows)),
                    }
                }
            }
        });
        let mut all = Vec::new();
        for rows in futures_util::future::try_join_all(range_reads).await? {
            let Some(rows) = rows else {
                return Ok(Scan::OverBudget);
            };
            all.extend(rows);
        }
        Ok(Scan::Complete(all))
    }

    async fn active_session_count(&self) -> Result<usize, StoreError> {
        Ok(self.session_count().await?.max(0) as usize)
    }

    async fn session_by_id(&self, session_id: &str) -> Result<Option<Session>, StoreError> {
        let Some(found) = self.session_index_entry(session_id).await? else {
            return Ok(None);
        };
        // The index is eventually consistent: confirm with a consistent read of the item.
        let pk = found.get(keys::PK).and_then(|v| v.as_s().ok()).cloned().unwrap_or_default();
        match self.get(pk, &keys::session(session_id)).await? {
            Some(item) => Ok(Some(from_item::<SessionItem>(item)?.into_session()?)),
            None => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Hand, MAX_FILTER_SEGMENTS, fallback_sessions, filter_segments, refill_bound, refill_needs, segments};

    fn hand<'a>(keys: &[&'a str], more: bool) -> Hand<'a> {
        Hand { keys: keys.to_vec(), more }
    }

    #[test]
    fn a_dry_shard_needs_every_remaining_row_and_an_exhausted_one_nothing() {
        let hands = [hand(&[], true), hand(&["b", "d"], false), hand(&[], false)];
        assert_eq!(refill_needs(&hands, 5, true), vec![5, 0, 0]);
    }

    #[test]
    fn rows_in_hand_and_the_rows_before_them_elsewhere_count_toward_the_page() {
        // Ascending: shard 1's last key "e" comes after "a", "c" (shard 2) and its own 2
        // rows: 4 taken before it can run dry, so it needs 6 - 4 more. Shard 2's last key
        // "c" comes after "b" only: 3 taken, it needs 3.
        let hands = [hand(&[], true), hand(&["b", "e"], true), hand(&["a", "c"], true)];
        assert_eq!(refill_needs(&hands, 6, true), vec![6, 2, 3]);
        // Enough ahead of it: nothing.
        assert_eq!(refill_needs(&hands, 4, true), vec![4, 0, 1]);
    }

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

    #[test]
    fn the_bound_is_the_remaining_th_key_in_hand_in_merge_order() {
        let hands = [hand(&[], true), hand(&["b", "e"], true), hand(&["a", "c"], true)];
        assert_eq!(refill_bound(&hands, 3, true).as_deref(), Some("c"));
        assert_eq!(refill_bound(&hands, 4, true).as_deref(), Some("e"));
        assert_eq!(refill_bound(&hands, 5, true), None, "fewer rows in hand than the page needs");
        let hands = [hand(&[], true), hand(&["e", "b"], true), hand(&["c", "a"], true)];
        assert_eq!(refill_bound(&hands, 2, false).as_deref(), Some("c"));
    }

    #[test]
    fn descending_merges_count_the_greater_keys_as_ahead() {
        let hands = [hand(&[], true), hand(&["e", "b"], true), hand(&["d", "a"], true)];
        // Shard 1 ends at "b": "d" is ahead of it; shard 2 ends at "a": "e", "b" are ahead.
        assert_eq!(refill_needs(&hands, 5, false), vec![5, 2, 1]);
    }
}
