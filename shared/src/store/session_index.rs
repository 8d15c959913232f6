//! Every user's sessions through the order indexes, for administrators. Each index is
//! spread over shards (`SESSIONS#<shard>`), so no partition takes every session write, and
//! projects the packed list row (store::session_row). A page in any one sort order is a
//! lazy k-way merge of the shards (store::session_merge) that reads about offset + count
//! items; filters and multi-key sorts read every live session's packed row, within a budget
//! (store::session_filter). This file holds the reads both build on.

use std::future::Future;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Instant;

use super::attributes::{Item, from_item, number_value, string_value};
use super::error::{StoreError, store_error};
use super::session_merge::ShardMerge;
use super::session_pages::CountedPage;
use super::sessions::SessionItem;
use super::{DynamoStore, keys, session_row};
use crate::core::clock::Millis;
use crate::core::history::EndedSession;
use crate::core::model::Session;
use crate::core::order::{Direction, SortKey};

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
    /// `None` when the expired rows in the way pass `budget.max_rows`, or reading passes its
    /// deadline (TTL removes expired items up to two days late).
    fn sessions_page(
        &self,
        key: SortKey,
        direction: Direction,
        offset: usize,
        count: usize,
        now: Millis,
        budget: ScanBudget,
    ) -> impl Future<Output = Result<Option<Vec<Session>>, StoreError>> + Send;
    /// list.all's unfiltered page and the total it was cut against, read from the nearer
    /// end of the order (store::session_pages): about min(offset, total − offset − count) +
    /// count rows. `None` as [`AllSessionsReader::sessions_page`].
    fn counted_page(
        &self,
        order: (SortKey, Direction),
        offset: usize,
        count: usize,
        now: Millis,
        budget: ScanBudget,
    ) -> impl Future<Output = Result<Option<CountedPage>, StoreError>> + Send;
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
    /// Any user's session by id, or the history record of one that ended.
    fn session_or_history_by_id(
        &self,
        session_id: &str,
    ) -> impl Future<Output = Result<Option<ById>, StoreError>> + Send;
}

/// A session found by id: live, or ended (its history record).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ById {
    Live(Session),
    Ended(EndedSession),
}

/// One Query page of one order-index shard, as (sort key, row) pairs.
pub(super) struct IndexPage {
    pub(super) rows: Vec<(String, Session)>,
    /// Items DynamoDB evaluated, expired ones included.
    pub(super) scanned: usize,
    pub(super) next: Option<Item>,
}

/// A span of an index's sort key, ends included.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum KeyRange<'a> {
    All,
    AtMost(&'a str),
    AtLeast(&'a str),
    Between(&'a str, &'a str),
}

/// One Query of one shard: at most `limit` items, after `start`, within `range`; a read
/// that reaches the range's end ends as if the shard held no more.
pub(super) struct ShardRead<'a> {
    pub(super) limit: usize,
    pub(super) start: Option<Item>,
    pub(super) range: KeyRange<'a>,
}

impl DynamoStore {
    /// One page of live rows from one shard of an order index, read from the packed row
    /// the index projects; expired rows are filtered out by DynamoDB (they still count
    /// toward `limit` and `scanned`). `sort_key` names the index's sort-key attribute;
    /// `with_keys` reads it with each row (a merge needs it), else rows come with "".
    pub(super) async fn index_page(
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

impl DynamoStore {
    /// The first and last sort key of one shard of an order index (expired entries
    /// included), both read at once; `None` when the shard is empty.
    pub(super) async fn key_span(
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
    /// The by-id index's entry of the live session `session_id` (not its history record).
    pub(super) async fn session_index_entry(&self, session_id: &str) -> Result<Option<Item>, StoreError> {
        let live = |item: &Item| {
            item.get(keys::SK).and_then(|v| v.as_s().ok()).is_some_and(|sk| sk.starts_with(keys::SESSION_PREFIX))
        };
        Ok(self.session_index_entries(session_id).await?.into_iter().find(live))
    }

    /// Every by-id index entry of `session_id`: the live session's, its history record's, or
    /// (for a moment after an end, as the index catches up) both.
    async fn session_index_entries(&self, session_id: &str) -> Result<Vec<Item>, StoreError> {
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
        Ok(out.items.unwrap_or_default())
    }
}

impl DynamoStore {
    /// A session the by-id index does not show, found from its owner item (written with it),
    /// live or ended, by consistent reads: the index lags its writes for a moment.
    async fn by_owner(&self, session_id: &str) -> Result<Option<ById>, StoreError> {
        let Some(user_id) = self.session_owner(session_id).await? else { return Ok(None) };
        if let Some(item) = self.get(keys::user(&user_id), &keys::session(session_id)).await? {
            return Ok(Some(ById::Live(from_item::<SessionItem>(item)?.into_session()?)));
        }
        Ok(self.ended_session(&user_id, session_id).await?.map(ById::Ended))
    }

    /// The user a session id was created for, from its owner item (consistent read).
    pub(super) async fn session_owner(&self, session_id: &str) -> Result<Option<String>, StoreError> {
        let Some(owner) = self.get(keys::session_owner(session_id), keys::SESSION_OWNER).await? else {
            return Ok(None);
        };
        match owner.get("userId").and_then(|v| v.as_s().ok()) {
            Some(user_id) => Ok(Some(user_id.clone())),
            None => Err(StoreError::Corrupt(format!("the owner item of {session_id} names no user"))),
        }
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
        budget: ScanBudget,
    ) -> Result<Option<Vec<Session>>, StoreError> {
        ShardMerge::new(self, (key, direction), offset, count, now).page(budget).await
    }

    async fn counted_page(
        &self,
        order: (SortKey, Direction),
        offset: usize,
        count: usize,
        now: Millis,
        budget: ScanBudget,
    ) -> Result<Option<CountedPage>, StoreError> {
        self.nearer_end_page(order, offset, count, now, budget).await
    }

    async fn matching_sessions(
        &self,
        now: Millis,
        budget: ScanBudget,
        keep: impl Fn(&Session) -> bool + Send + Sync,
    ) -> Result<Scan, StoreError> {
        self.full_read(now, budget, keep).await
    }

    async fn active_session_count(&self) -> Result<usize, StoreError> {
        Ok(self.session_count().await?.max(0) as usize)
    }

    async fn session_or_history_by_id(&self, session_id: &str) -> Result<Option<ById>, StoreError> {
        let entries = self.session_index_entries(session_id).await?;
        if entries.is_empty() {
            return self.by_owner(session_id).await;
        }
        let sk_of = |item: &Item| item.get(keys::SK).and_then(|v| v.as_s().ok()).cloned().unwrap_or_default();
        let pk_of = |item: &Item| item.get(keys::PK).and_then(|v| v.as_s().ok()).cloned().unwrap_or_default();
        // An ended session's record wins over a lagging index entry of the live one.
        if let Some(ended) = entries.iter().find(|i| sk_of(i).starts_with(keys::ENDED_PREFIX)) {
            let user_id = pk_of(ended).strip_prefix("USER#").unwrap_or_default().to_string();
            return Ok(self.ended_session(&user_id, session_id).await?.map(ById::Ended));
        }
        let Some(live) = entries.first() else { return Ok(None) };
        // The index is eventually consistent: confirm with a consistent read of the item.
        match self.get(pk_of(live), &keys::session(session_id)).await? {
            Some(item) => Ok(Some(ById::Live(from_item::<SessionItem>(item)?.into_session()?))),
            None => Ok(None),
        }
    }

    async fn session_by_id(&self, session_id: &str) -> Result<Option<Session>, StoreError> {
        let Some(found) = self.session_index_entry(session_id).await? else {
            // Not in the index (yet, or any more): its owner item says whose it would be.
            return Ok(match self.by_owner(session_id).await? {
                Some(ById::Live(session)) => Some(session),
                _ => None,
            });
        };
        // The index is eventually consistent: confirm with a consistent read of the item.
        let pk = found.get(keys::PK).and_then(|v| v.as_s().ok()).cloned().unwrap_or_default();
        match self.get(pk, &keys::session(session_id)).await? {
            Some(item) => Ok(Some(from_item::<SessionItem>(item)?.into_session()?)),
            None => Ok(None),
        }
    }
}
