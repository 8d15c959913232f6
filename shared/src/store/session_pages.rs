//! list.all's unfiltered page, read from the nearer end of its order: a page at offset k of
//! n sessions reads about min(k, n − k − count) + count rows (plus a few per shard), so the
//! last page of 100 000 sessions costs what the first does.
//!
//! Reading from the far end needs the total before the read (the page's place counted from
//! that end). So that this adds no sequential round trip, the total a warm instance counted
//! last is its hint: the far-end read starts from the hint's place with [`MARGIN`] rows to
//! spare on each side, beside the fresh count, and the page is cut from it once the count is
//! in; only a total that moved by more than the margin costs a second read. Without a hint
//! (an instance's first list.all), a page past [`NEAR_START`] counts first.
//!
//! The total is the counter: it counts sessions TTL has not removed yet, expired ones too
//! (DynamoDB removes them up to a few days late), while pages skip them. A page read from the
//! far end is therefore the slice at k − E, E being the expired sessions still in the table:
//! no live session is left out, the last page holds the last sessions, and the E rows either
//! side of the switch between the ends appear on two pages.

use std::sync::atomic::Ordering::Relaxed;

use super::DynamoStore;
use super::error::StoreError;
use super::session_index::ScanBudget;
use super::session_merge::ShardMerge;
use crate::core::clock::Millis;
use crate::core::model::Session;
use crate::core::order::{Direction, SortKey};

/// Offsets a page without a hint reads forward beside the count, as a first page does.
pub(super) const NEAR_START: usize = 1000;

/// Rows read beyond each side of a far-end page, so that the total may move that much
/// between the hint and the fresh count.
pub(super) const MARGIN: usize = 32;

/// No total counted yet by this instance.
pub(super) const NO_HINT: u64 = u64::MAX;

/// A page of list.all and the total it was cut against.
#[derive(Debug)]
pub struct CountedPage {
    pub sessions: Vec<Session>,
    pub total: usize,
}

/// How one page is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Plan {
    /// From the start, beside the count.
    Forward,
    /// The count first, then from whichever end it shows nearer.
    CountFirst,
    /// From the far end, `skip` rows in and `take` rows, beside the count.
    FromEnd { skip: usize, take: usize },
}

/// Whether the far end is nearer for a page at `offset` of `total` sessions.
fn far_end_nearer(offset: usize, count: usize, total: usize) -> bool {
    total.saturating_sub(offset) < offset.saturating_add(count)
}

/// The page's rows counted from the far end: (rows to skip, rows to take).
pub(super) fn from_end(offset: usize, count: usize, total: usize) -> (usize, usize) {
    let skip = total.saturating_sub(offset.saturating_add(count));
    (skip, total.saturating_sub(offset).saturating_sub(skip))
}

/// How to read the page at `offset` given the last total counted (`hint`), if any.
pub(super) fn plan(offset: usize, count: usize, hint: Option<usize>, near_start: usize) -> Plan {
    match hint {
        None if offset < near_start => Plan::Forward,
        None => Plan::CountFirst,
        Some(h) if !far_end_nearer(offset, count, h) => Plan::Forward,
        Some(h) => {
            let (skip, take) = from_end(offset, count, h);
            let start = skip.saturating_sub(MARGIN);
            Plan::FromEnd { skip: start, take: take + (skip - start) + MARGIN }
        }
    }
}

/// The page cut from far-end rows that begin `skip` rows in, now that the total is known;
/// `None` when they do not cover it (the total moved by more than the margin). `exhausted`:
/// the read reached the start of the order, so nothing lies beyond the rows in hand.
pub(super) fn cut<T>(
    rows: Vec<T>,
    skip: usize,
    exhausted: bool,
    offset: usize,
    count: usize,
    total: usize,
) -> Option<Vec<T>> {
    let (want_skip, want_take) = from_end(offset, count, total);
    let from = want_skip.checked_sub(skip)?;
    if from + want_take > rows.len() && !exhausted {
        return None;
    }
    let mut page: Vec<T> = rows.into_iter().skip(from).take(want_take).collect();
    page.reverse();
    Some(page)
}

impl DynamoStore {
    /// list.all's page at `offset` in `key` order and the total, from the nearer end.
    /// `None` as [`ShardMerge::page`]: expired rows or time past the budget.
    pub(super) async fn nearer_end_page(
        &self,
        (key, direction): (SortKey, Direction),
        offset: usize,
        count: usize,
        now: Millis,
        budget: ScanBudget,
    ) -> Result<Option<CountedPage>, StoreError> {
        let merge = |dir, skip, take| ShardMerge::new(self, (key, dir), skip, take, now).page(budget);
        let counted = async { Ok::<_, StoreError>(self.remember_total(self.session_count().await?)) };
        match plan(offset, count, self.total_hint(), self.near_start) {
            Plan::Forward => {
                let (page, total) = tokio::try_join!(merge(direction, offset, count), counted)?;
                Ok(page.map(|sessions| CountedPage { total: total.max(offset + sessions.len()), sessions }))
            }
            Plan::CountFirst => {
                let total = counted.await?;
                self.exact_page((key, direction), offset, count, total, now, budget).await
            }
            Plan::FromEnd { skip, take } => {
                let (rows, total) = tokio::try_join!(merge(reversed(direction), skip, take), counted)?;
                let Some(rows) = rows else { return Ok(None) };
                let exhausted = rows.len() < take;
                match cut(rows, skip, exhausted, offset, count, total) {
                    Some(sessions) => Ok(Some(CountedPage { sessions, total })),
                    None => self.exact_page((key, direction), offset, count, total, now, budget).await,
                }
            }
        }
    }

    /// The page read from the end nearer for `total`, without a margin.
    async fn exact_page(
        &self,
        (key, direction): (SortKey, Direction),
        offset: usize,
        count: usize,
        total: usize,
        now: Millis,
        budget: ScanBudget,
    ) -> Result<Option<CountedPage>, StoreError> {
        if offset >= total {
            return Ok(Some(CountedPage { sessions: Vec::new(), total }));
        }
        if !far_end_nearer(offset, count, total) {
            let page = ShardMerge::new(self, (key, direction), offset, count, now).page(budget).await?;
            return Ok(page.map(|sessions| CountedPage { total: total.max(offset + sessions.len()), sessions }));
        }
        let (skip, take) = from_end(offset, count, total);
        let rows = ShardMerge::new(self, (key, reversed(direction)), skip, take, now).page(budget).await?;
        Ok(rows.map(|mut sessions| {
            sessions.reverse();
            CountedPage { sessions, total }
        }))
    }

    /// The total this instance counted last.
    fn total_hint(&self) -> Option<usize> {
        let hint = self.total_hint.load(Relaxed);
        (hint != NO_HINT).then_some(hint as usize)
    }

    fn remember_total(&self, counted: i64) -> usize {
        let total = counted.max(0) as usize;
        self.total_hint.store(total as u64, Relaxed);
        total
    }
}

fn reversed(direction: Direction) -> Direction {
    match direction {
        Direction::Ascending => Direction::Descending,
        Direction::Descending => Direction::Ascending,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_past_the_middle_read_from_the_end() {
        // 100 000 sessions, 25 a page: the last page skips nothing from the end.
        assert_eq!(from_end(99_975, 25, 100_000), (0, 25));
        assert_eq!(from_end(50_000, 25, 100_000), (49_975, 25));
        // A short last page: offset 99 990 holds 10.
        assert_eq!(from_end(99_990, 25, 100_000), (0, 10));
        assert_eq!(from_end(100_000, 25, 100_000), (0, 0));
        assert!(far_end_nearer(50_000, 25, 100_000));
        assert!(!far_end_nearer(49_975, 25, 100_000), "both ends cost alike: forward");
        assert!(!far_end_nearer(1_000, 25, 100_000));
    }

    #[test]
    fn the_plan_follows_the_hint_and_counts_first_only_without_one_deep_in() {
        assert_eq!(plan(0, 25, None, NEAR_START), Plan::Forward);
        assert_eq!(plan(999, 25, None, NEAR_START), Plan::Forward);
        assert_eq!(plan(1_000, 25, None, NEAR_START), Plan::CountFirst);
        assert_eq!(plan(1_000, 25, Some(100_000), NEAR_START), Plan::Forward);
        assert_eq!(plan(99_975, 25, Some(100_000), NEAR_START), Plan::FromEnd { skip: 0, take: 25 + MARGIN });
        assert_eq!(
            plan(60_000, 25, Some(100_000), NEAR_START),
            Plan::FromEnd { skip: 39_975 - MARGIN, take: 25 + 2 * MARGIN }
        );
    }

    /// Rows standing for sessions by their place counted from the far end.
    fn sessions(places: std::ops::Range<usize>) -> Vec<usize> {
        places.collect()
    }

    fn ids(page: &[usize]) -> Vec<String> {
        page.iter().map(usize::to_string).collect()
    }

    #[test]
    fn a_page_is_cut_from_the_margin_read_when_the_total_moved_within_it() {
        // Reverse positions 10.. read for a hint of 100 (offset 60, count 5: skip 35 - 32 = 3).
        let Plan::FromEnd { skip, take } = plan(60, 5, Some(100), 0) else { panic!() };
        assert_eq!((skip, take), (3, 5 + 32 + 32));
        let rows = sessions(skip..skip + take);
        // The total grew by 10: the page is reverse positions 45..50, forward order.
        let page = cut(rows.clone(), skip, false, 60, 5, 110).unwrap();
        assert_eq!(ids(&page), ["49", "48", "47", "46", "45"]);
        // Moved past the margin either way: not covered.
        assert!(cut(rows.clone(), skip, false, 60, 5, 100 + 40).is_none());
        assert!(cut(rows, skip, false, 60, 5, 100 - 40).is_none());
    }

    #[test]
    fn an_exhausted_read_covers_whatever_lies_beyond_it() {
        // Only 20 rows exist from the end although the total says 30 (all in hand).
        let page = cut(sessions(0..20), 0, true, 20, 10, 30).unwrap();
        assert_eq!(ids(&page), ["9", "8", "7", "6", "5", "4", "3", "2", "1", "0"]);
    }
}
