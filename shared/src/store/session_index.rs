//! Every user's sessions through the order indexes, for administrators: a page in any
//! one sort order reads about offset + count items; filters and multi-key sorts read
//! every live session, with only the fields a list row shows, within a budget.

use std::future::Future;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Instant;

use serde::Deserialize;

use super::sessions::SessionItem;
use super::{DynamoStore, Item, StoreError, dynamo, from_item, keys, n, s};
use crate::clock::{Millis, parse_iso};
use crate::model::{Device, Session, UserRef};
use crate::query::{Direction, SortKey};

/// Largest Limit of one index Query.
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
    /// Live sessions in `key` order from its index: skips `offset` live rows, returns up
    /// to `count`, reading about offset + count items (plus the expired rows in the way).
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
        keep: impl Fn(&Session) -> bool + Send,
    ) -> impl Future<Output = Result<Scan, StoreError>> + Send;
    /// Active sessions as counted at write time.
    fn active_session_count(&self) -> impl Future<Output = Result<usize, StoreError>> + Send;
    /// Any user's session by id.
    fn session_by_id(&self, session_id: &str) -> impl Future<Output = Result<Option<Session>, StoreError>> + Send;
}

/// The attributes of a session a list row, a filter and a sort read.
const ROW_ATTRIBUTES: &str = "sessionId, userId, device, host, ip, loginAt, expiresAt, #u";

/// A session item read with [`ROW_ATTRIBUTES`] only.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RowItem {
    session_id: String,
    user_id: String,
    #[serde(default)]
    device: Device,
    #[serde(default)]
    host: String,
    #[serde(default)]
    ip: String,
    login_at: String,
    expires_at: i64,
    #[serde(rename = "_user", default)]
    user: UserRef,
}

impl RowItem {
    fn into_session(self) -> Result<Session, StoreError> {
        let login_at = parse_iso(&self.login_at)
            .ok_or_else(|| StoreError::Corrupt(format!("bad time in session {}", self.session_id)))?;
        Ok(Session {
            session_id: self.session_id,
            user_id: self.user_id,
            device: self.device,
            host: self.host,
            ip: self.ip,
            user_agent: String::new(),
            login_at,
            last_activity_at: login_at,
            expires_at: self.expires_at,
            client_ids: Vec::new(),
            geo: Default::default(),
            user: self.user,
        })
    }
}

/// One Query page of an order index.
struct IndexPage {
    items: Vec<Item>,
    /// Items DynamoDB evaluated, expired ones included.
    scanned: usize,
    next: Option<Item>,
}

impl DynamoStore {
    /// One page of live sessions from an order index; expired rows are filtered out by
    /// DynamoDB (they still count toward `limit` and `scanned`).
    async fn index_page(
        &self,
        index: &str,
        forward: bool,
        limit: Option<usize>,
        rows_only: bool,
        now: Millis,
        start: Option<Item>,
    ) -> Result<IndexPage, StoreError> {
        let mut query = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(index)
            .key_condition_expression("GSI2PK = :p")
            .filter_expression("expiresAt > :now")
            .expression_attribute_values(":p", s(keys::ALL_SESSIONS))
            .expression_attribute_values(":now", n(now.div_euclid(1000)))
            .scan_index_forward(forward)
            .set_limit(limit.map(|l| l.clamp(1, MAX_PAGE) as i32))
            .set_exclusive_start_key(start);
        if rows_only {
            query = query.projection_expression(ROW_ATTRIBUTES).expression_attribute_names("#u", "_user");
        }
        let out = query.send().await.map_err(dynamo)?;
        let scanned = out.scanned_count.max(0) as usize;
        self.index_items_read.fetch_add(scanned as u64, Relaxed);
        self.index_queries.fetch_add(1, Relaxed);
        // DynamoDB may return a LastEvaluatedKey before an empty page, or none when the
        // page ends exactly: both end a reader's loop correctly.
        let next = out.last_evaluated_key.filter(|k| !k.is_empty());
        Ok(IndexPage { items: out.items.unwrap_or_default(), scanned, next })
    }
}

impl DynamoStore {
    /// The by-session-id index entry of `session_id`: its keys, token hash and expiry. The
    /// index is eventually consistent, so callers confirm against the item itself.
    pub(super) async fn session_index_entry(&self, session_id: &str) -> Result<Option<Item>, StoreError> {
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(keys::SESSION_ID_INDEX)
            .key_condition_expression("GSI1PK = :p")
            .expression_attribute_values(":p", s(keys::session(session_id)))
            .send()
            .await
            .map_err(dynamo)?;
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
        let (index, _) = keys::order_index(key);
        let wanted = offset.saturating_add(count);
        let (mut live_seen, mut expired_seen) = (0usize, 0usize);
        let mut start = None;
        loop {
            // The Limit asks for the live rows still needed; expired rows met so far widen
            // it, so a run of them costs few round trips instead of one per row.
            let limit = (wanted - live_seen).saturating_add(expired_seen);
            let batch =
                self.index_page(index, direction == Direction::Ascending, Some(limit), false, now, start).await?;
            expired_seen += batch.scanned.saturating_sub(batch.items.len());
            for item in batch.items {
                let session = from_item::<SessionItem>(item)?.into_session()?;
                if !session.is_live(now) {
                    expired_seen += 1;
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
            match batch.next {
                Some(k) => start = Some(k),
                None => return Ok(page),
            }
        }
    }

    async fn matching_sessions(
        &self,
        now: Millis,
        budget: ScanBudget,
        keep: impl Fn(&Session) -> bool + Send,
    ) -> Result<Scan, StoreError> {
        let mut rows = Vec::new();
        let mut start = None;
        let index = keys::order_index(SortKey::LoginAt).0;
        loop {
            // Pages of at most MAX_PAGE items keep each response's parse small.
            let batch = self.index_page(index, false, Some(MAX_PAGE), true, now, start).await?;
            for item in batch.items {
                let session = from_item::<RowItem>(item)?.into_session()?;
                if session.is_live(now) && keep(&session) {
                    if rows.len() == budget.max_rows {
                        return Ok(Scan::OverBudget);
                    }
                    rows.push(session);
                }
            }
            match batch.next {
                Some(_) if Instant::now() >= budget.deadline => return Ok(Scan::OverBudget),
                Some(k) => start = Some(k),
                None => return Ok(Scan::Complete(rows)),
            }
        }
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
