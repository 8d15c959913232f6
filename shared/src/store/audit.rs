//! The audit log (core::audit): one item per entry under the user it is about
//! (`LOG#<userId>`, or `LOG#NAME#<hash>` for a login name that matched no user), in time
//! order, and in the `ByTime` index under `LOGS#<yyyy-mm>#<shard>`, so that reading
//! everyone's entries in time order needs no partition that takes every write.
//! Kept `HISTORY_DAYS` by TTL.

use std::sync::atomic::{AtomicUsize, Ordering};

use aws_sdk_dynamodb::types::AttributeValue;
use futures_util::StreamExt;

use super::attributes::{Item, number_value, string_value};
use super::error::{StoreError, store_error};
use super::{DynamoStore, keys};
use crate::core::audit::LogEntry;
use crate::core::clock::iso_millis;

/// Partition reads of one request at a time.
const PARALLEL_READS: usize = 32;

/// The entries every read of one request may hold together.
#[derive(Clone, Copy)]
struct Budget<'a> {
    read: &'a AtomicUsize,
    max_rows: usize,
}

/// Partitions of the `ByTime` index per month.
pub const LOG_SHARDS: u32 = 8;

/// Whose entries a read wants, and between which times (epoch seconds, inclusive).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogRange {
    /// One user's entries, or everyone's.
    pub user_id: Option<String>,
    pub from: i64,
    pub to: i64,
    /// Most entries read; past it the read answers `None`.
    pub max_rows: usize,
}

/// The partition of the user (or API key) an entry is about, where `targets.id:<id>` reads.
fn subject(entry: &LogEntry) -> String {
    match entry.subject_id() {
        Some(id) => keys::log(id),
        None => keys::log_unmatched(keys::order_shard_of(&entry.id, LOG_SHARDS)),
    }
}

/// The `yyyy-mm` of an epoch second.
fn month(secs: i64) -> String {
    iso_millis(secs.saturating_mul(1000)).chars().take(7).collect()
}

/// Every month from `from` to `to`, oldest first.
fn months(from: i64, to: i64) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut t = from;
    while t <= to {
        let m = month(t);
        if out.last() != Some(&m) {
            out.push(m);
        }
        t += 86_400;
    }
    let last = month(to);
    if out.last() != Some(&last) {
        out.push(last);
    }
    out
}

/// Writes audit log entries.
pub trait AuditLogStore {
    /// Writes `entry` (again, unchanged, when it is already there: an id names one entry).
    fn put_log(&self, entry: &LogEntry) -> impl std::future::Future<Output = Result<(), StoreError>> + Send;
}

impl AuditLogStore for DynamoStore {
    async fn put_log(&self, entry: &LogEntry) -> Result<(), StoreError> {
        let text = serde_json::to_string(entry).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let sort = keys::log_time(entry.time_stamp, &entry.id);
        let shard = keys::order_shard_of(&entry.id, LOG_SHARDS);
        let item: Item = [
            (keys::PK.to_string(), string_value(subject(entry))),
            (keys::SK.to_string(), string_value(sort.clone())),
            ("GSI8PK".to_string(), string_value(keys::log_month(&month(entry.time_stamp), shard))),
            ("GSI8SK".to_string(), string_value(sort)),
            ("entity".to_string(), string_value("log")),
            ("code".to_string(), string_value(&entry.code)),
            ("log".to_string(), string_value(text)),
            ("expiresAt".to_string(), number_value(entry.time_stamp + self.history_days * 86_400)),
        ]
        .into();
        self.client.put_item().table_name(&self.table).set_item(Some(item)).send().await.map_err(store_error)?;
        Ok(())
    }
}

/// Reads audit log entries.
pub trait AuditLogReader {
    /// The entries of `range`, unordered; `None` when there are more than `max_rows`.
    fn logs(
        &self,
        range: &LogRange,
    ) -> impl std::future::Future<Output = Result<Option<Vec<LogEntry>>, StoreError>> + Send;
    /// The newest `max` entries about `subject` (a user or an API key) since `from` (epoch
    /// seconds), newest first.
    fn latest_logs(
        &self,
        subject: &str,
        from: i64,
        max: usize,
    ) -> impl std::future::Future<Output = Result<Vec<LogEntry>, StoreError>> + Send;
}

impl AuditLogReader for DynamoStore {
    async fn logs(&self, range: &LogRange) -> Result<Option<Vec<LogEntry>>, StoreError> {
        let (low, high) = (keys::log_time(range.from, ""), keys::log_time(range.to, "~"));
        let reads: Vec<(Option<&str>, String)> = match &range.user_id {
            Some(user) => vec![(None, keys::log(user))],
            None => months(range.from, range.to)
                .iter()
                .flat_map(|m| (0..LOG_SHARDS).map(move |s| (Some(keys::LOG_INDEX), keys::log_month(m, s))))
                .collect(),
        };
        // One count over every partition, checked after each page: past the bound, every read
        // stops, so memory holds at most the bound plus a page per read in flight.
        let read = AtomicUsize::new(0);
        let budget = Budget { read: &read, max_rows: range.max_rows };
        let queries: Vec<_> =
            reads.iter().map(|(index, pk)| Box::pin(self.log_partition(*index, pk, (&low, &high), budget))).collect();
        let mut parts = futures_util::stream::iter(queries).buffer_unordered(PARALLEL_READS);
        let mut entries = Vec::new();
        while let Some(part) = parts.next().await {
            let Some(part) = part? else { return Ok(None) };
            entries.extend(part);
        }
        Ok(Some(entries))
    }

    async fn latest_logs(&self, subject: &str, from: i64, max: usize) -> Result<Vec<LogEntry>, StoreError> {
        let pk = keys::log(subject);
        let mut entries = Vec::new();
        let mut start = None;
        while entries.len() < max {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("#p = :p AND #s >= :lo")
                .expression_attribute_names("#p", keys::PK)
                .expression_attribute_names("#s", keys::SK)
                .expression_attribute_values(":p", string_value(&pk))
                .expression_attribute_values(":lo", string_value(keys::log_time(from, "")))
                .scan_index_forward(false)
                .limit(i32::try_from(max - entries.len()).unwrap_or(i32::MAX))
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(store_error)?;
            for item in out.items.unwrap_or_default() {
                entries.push(entry_of(&item, &pk)?);
            }
            match out.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => break,
            }
        }
        Ok(entries)
    }
}

/// The entry an item keeps.
fn entry_of(item: &Item, pk: &str) -> Result<LogEntry, StoreError> {
    match item.get("log") {
        Some(AttributeValue::S(text)) => {
            serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("log entry: {e}")))
        }
        _ => Err(StoreError::Corrupt(format!("log item without its entry in {pk}"))),
    }
}

impl DynamoStore {
    /// One partition's entries between two sort keys; `None` once every read together passed
    /// the budget.
    async fn log_partition(
        &self,
        index: Option<&str>,
        pk: &str,
        (low, high): (&str, &str),
        budget: Budget<'_>,
    ) -> Result<Option<Vec<LogEntry>>, StoreError> {
        let (pk_name, sk_name) = if index.is_some() { ("GSI8PK", "GSI8SK") } else { (keys::PK, keys::SK) };
        let mut entries = Vec::new();
        let mut start = None;
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .set_index_name(index.map(str::to_string))
                .key_condition_expression("#p = :p AND #s BETWEEN :lo AND :hi")
                .expression_attribute_names("#p", pk_name)
                .expression_attribute_names("#s", sk_name)
                .expression_attribute_values(":p", string_value(pk))
                .expression_attribute_values(":lo", string_value(low))
                .expression_attribute_values(":hi", string_value(high))
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(store_error)?;
            for item in out.items.unwrap_or_default() {
                entries.push(entry_of(&item, pk)?);
            }
            let page = out.count.max(0) as usize;
            if budget.read.fetch_add(page, Ordering::Relaxed) + page > budget.max_rows {
                return Ok(None);
            }
            match out.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => return Ok(Some(entries)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_cover_the_range_in_order() {
        // 2026-01-31 to 2026-03-01
        assert_eq!(months(1_769_817_600, 1_772_323_200), ["2026-01", "2026-02", "2026-03"]);
        assert_eq!(months(1_769_817_600, 1_769_817_600), ["2026-01"]);
        assert!(keys::log_time(5, "a") < keys::log_time(10, "a"));
    }
}
