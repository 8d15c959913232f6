//! One page of every user's sessions in one sort order: a lazy k-way merge of an order
//! index's shards ([`ShardMerge`]) that reads about offset + count rows plus a few per shard,
//! in at most two rounds of reads while no expired rows are in the way and no shard's need
//! passes [`MAX_PAGE`].

use std::collections::VecDeque;
use std::time::Instant;

use super::attributes::Item;
use super::error::StoreError;
use super::session_index::{KeyRange, ScanBudget, ShardRead};
use super::{DynamoStore, keys};
use crate::core::clock::Millis;
use crate::core::model::Session;
use crate::core::order::{Direction, SortKey};

/// Largest Limit of one order-index Query of a page.
pub(super) const MAX_PAGE: usize = 1000;

/// A shard's place in the merge: the rows fetched and not yet taken, and where to go on.
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

    /// What a refill round knows of it.
    fn hand(&self) -> Hand<'_> {
        Hand { keys: self.rows.iter().map(|(k, _)| k.as_str()).collect(), more: self.next.is_some() }
    }
}

/// What a refill round knows of one shard: the sort keys in hand, in merge order, and
/// whether the shard may hold more after them.
struct Hand<'a> {
    keys: Vec<&'a str>,
    more: bool,
}

/// Items a shard's first Query asks for: its even share of the rows still needed, plus
/// about two standard deviations of a binomial share (a shard holds more than that in
/// about 3 in 100 pages, and is then read once more).
fn shard_limit(wanted: usize, shards: usize) -> usize {
    if shards == 1 {
        return wanted;
    }
    let share = wanted.div_ceil(shards);
    share + (share as f64).sqrt().ceil() as usize
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

/// What one round reads: rows per shard (0: none), and the key past which none is needed.
struct Round {
    needs: Vec<usize>,
    until: Option<String>,
}

/// What taking the head of the merge did.
enum Took {
    /// A row was taken (or skipped as expired); go on.
    Row,
    /// The page is full, or every shard is done.
    Done,
}

/// One page being merged from every shard of one order index.
pub(super) struct ShardMerge<'a> {
    store: &'a DynamoStore,
    /// The index and its sort-key attribute.
    index: (&'static str, &'static str),
    forward: bool,
    now: Millis,
    offset: usize,
    count: usize,
    cursors: Vec<Cursor>,
    /// Live rows taken so far, the skipped offset included.
    live_seen: usize,
    page: Vec<Session>,
}

impl<'a> ShardMerge<'a> {
    pub(super) fn new(
        store: &'a DynamoStore,
        (key, direction): (SortKey, Direction),
        offset: usize,
        count: usize,
        now: Millis,
    ) -> Self {
        ShardMerge {
            store,
            index: keys::order_index(key),
            forward: direction == Direction::Ascending,
            now,
            offset,
            count,
            cursors: (0..store.order_shards()).map(|_| Cursor::default()).collect(),
            live_seen: 0,
            page: Vec::with_capacity(count.min(MAX_PAGE)),
        }
    }

    /// The page: every shard whose next row is unknown is read before a row is taken, all
    /// at once; then the head of the merge is taken, until the page is full. `None` once the
    /// expired rows met pass `budget.max_rows` or the time passes its deadline.
    pub(super) async fn page(mut self, budget: ScanBudget) -> Result<Option<Vec<Session>>, StoreError> {
        if self.count == 0 {
            return Ok(Some(self.page));
        }
        loop {
            let expired: usize = self.cursors.iter().map(|c| c.expired).sum();
            if expired > budget.max_rows || Instant::now() > budget.deadline {
                return Ok(None);
            }
            // A shard may have answered only expired rows: look again before taking one.
            if self.refill().await? {
                continue;
            }
            if let Took::Done = self.take_head() {
                return Ok(Some(self.page));
            }
        }
    }

    /// The first round asks each shard for its share of offset + count; a refill round asks
    /// every shard that could otherwise run dry before the page is full for enough rows
    /// that none can ([`refill_needs`]), so a page takes at most two rounds unless expired
    /// rows are in the way or a need passes [`MAX_PAGE`]. No round while no shard is dry.
    fn round(&self) -> Round {
        let remaining = self.offset.saturating_add(self.count) - self.live_seen;
        let shards = self.cursors.len();
        if self.cursors.iter().all(|c| !c.started) {
            Round { needs: vec![shard_limit(remaining, shards); shards], until: None }
        } else if self.cursors.iter().any(Cursor::dry) {
            let hands: Vec<Hand> = self.cursors.iter().map(Cursor::hand).collect();
            let needs = refill_needs(&hands, remaining, self.forward);
            Round { needs, until: refill_bound(&hands, remaining, self.forward) }
        } else {
            Round { needs: Vec::new(), until: None }
        }
    }

    /// Whether shard `i`'s reading already went past `until` (through expired rows): it
    /// then holds nothing more this page needs, and is done with.
    fn read_past(&mut self, i: usize, until: &str) -> bool {
        let sort_key = self.index.1;
        let at = self.cursors[i].next.as_ref().and_then(|k| k.get(sort_key)).and_then(|v| v.as_s().ok());
        let past = at.is_some_and(|k| if self.forward { k.as_str() >= until } else { k.as_str() <= until });
        if past {
            self.cursors[i].next = None;
        }
        past
    }

    /// Reads the round's shards at once; `false` when the round reads none.
    async fn refill(&mut self) -> Result<bool, StoreError> {
        let Round { needs, until } = self.round();
        let mut reads: Vec<usize> = (0..needs.len()).filter(|&i| needs[i] > 0).collect();
        if let Some(until) = until.as_deref() {
            reads.retain(|&i| !self.read_past(i, until));
        }
        if reads.is_empty() {
            return Ok(false);
        }
        let range = match until.as_deref() {
            None => KeyRange::All,
            Some(until) if self.forward => KeyRange::AtMost(until),
            Some(until) => KeyRange::AtLeast(until),
        };
        let (store, index, forward, now) = (self.store, self.index, self.forward, self.now);
        let queries = reads.iter().map(|&i| {
            let cursor = &mut self.cursors[i];
            // Widened by the expired rows it met, which its Limit counts too.
            let limit = needs[i].saturating_add(cursor.expired).min(MAX_PAGE);
            store.index_page(index, true, i as u32, forward, now, ShardRead { limit, start: cursor.next.take(), range })
        });
        let fetched = futures_util::future::try_join_all(queries).await?;
        for (i, batch) in reads.into_iter().zip(fetched) {
            let cursor = &mut self.cursors[i];
            cursor.started = true;
            cursor.expired += batch.scanned.saturating_sub(batch.rows.len());
            cursor.rows.extend(batch.rows);
            cursor.next = batch.next;
        }
        Ok(true)
    }

    /// Takes the head of the merge, the least sort key ascending, the greatest descending
    /// (keys are unique: each ends with its session id), into the page once past the offset.
    fn take_head(&mut self) -> Took {
        let heads = self.cursors.iter().enumerate().filter_map(|(i, c)| c.rows.front().map(|(k, _)| (k, i)));
        let best = if self.forward { heads.min() } else { heads.max() };
        let Some((_, shard)) = best else {
            return Took::Done;
        };
        let Some((_, session)) = self.cursors[shard].rows.pop_front() else {
            return Took::Done;
        };
        if !session.is_live(self.now) {
            self.cursors[shard].expired += 1;
            return Took::Row;
        }
        self.live_seen += 1;
        if self.live_seen > self.offset {
            self.page.push(session);
            if self.page.len() == self.count {
                return Took::Done;
            }
        }
        Took::Row
    }
}

#[cfg(test)]
mod tests {
    use super::{Hand, refill_bound, refill_needs};

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
