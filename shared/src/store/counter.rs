//! The counter of active sessions, kept at write time for list.all's `total`. It is
//! spread over shards (`COUNTER#sessions#<n>`), each write adding to one chosen at
//! random, so no single item takes every login and logout; a read sums them all.

use std::time::Duration;

use aws_sdk_dynamodb::types::{KeysAndAttributes, TransactWriteItem, Update};

use super::attributes::{Item, number_in, number_value, string_value};
use super::error::{StoreError, store_error};
use super::{DynamoStore, keys};

/// BatchGetItem tries while DynamoDB leaves keys unprocessed (it does under throttling).
const BATCH_TRIES: u32 = 5;

impl DynamoStore {
    /// Active sessions as counted at write time: the sum of every shard (and of the
    /// single pre-shard item, so tables written before the shards stay exact), read
    /// consistently with one BatchGetItem.
    pub async fn session_count(&self) -> Result<i64, StoreError> {
        let key = |pk: String| -> Item {
            [(keys::PK.into(), string_value(pk)), (keys::SK.into(), string_value(keys::COUNTER))].into()
        };
        let mut wanted: Vec<Item> = (0..self.counter_shards).map(|i| key(keys::session_counter(i))).collect();
        wanted.push(key(keys::LEGACY_SESSION_COUNTER.into()));
        let mut request = KeysAndAttributes::builder()
            .set_keys(Some(wanted))
            .consistent_read(true)
            .projection_expression("#c")
            .expression_attribute_names("#c", "count")
            .build()
            .map_err(|e| StoreError::Dynamo(e.to_string()))?;
        let mut total = 0;
        for attempt in 1..=BATCH_TRIES {
            let mut out =
                self.client.batch_get_item().request_items(&self.table, request).send().await.map_err(store_error)?;
            let found = out.responses.as_mut().and_then(|r| r.remove(&self.table)).unwrap_or_default();
            total += found.iter().map(|item| number_in(item, "count")).sum::<i64>();
            match out.unprocessed_keys.as_mut().and_then(|u| u.remove(&self.table)) {
                Some(rest) if !rest.keys.is_empty() => request = rest,
                _ => return Ok(total),
            }
            if attempt < BATCH_TRIES {
                tokio::time::sleep(Duration::from_millis(20 << attempt)).await;
            }
        }
        Err(StoreError::Unavailable(format!("counter shards still unprocessed after {BATCH_TRIES} BatchGetItem tries")))
    }

    /// Adds `delta` to a random shard of the counter (the TTL stream consumer uses it).
    pub async fn adjust_session_count(&self, delta: i64) -> Result<(), StoreError> {
        self.update_key(keys::session_counter(self.random_shard()), keys::COUNTER)
            .update_expression("ADD #c :d")
            .expression_attribute_names("#c", "count")
            .expression_attribute_values(":d", number_value(delta))
            .send()
            .await
            .map_err(store_error)?;
        Ok(())
    }

    /// The counter change that goes in the same transaction as a session write.
    pub(super) fn counter_update(&self, delta: i64) -> Result<TransactWriteItem, StoreError> {
        let update = Update::builder()
            .table_name(&self.table)
            .key(keys::PK, string_value(keys::session_counter(self.random_shard())))
            .key(keys::SK, string_value(keys::COUNTER))
            .update_expression("ADD #c :d")
            .expression_attribute_names("#c", "count")
            .expression_attribute_values(":d", number_value(delta))
            .build()
            .map_err(|e| StoreError::Dynamo(e.to_string()))?;
        Ok(TransactWriteItem::builder().update(update).build())
    }

    fn random_shard(&self) -> u32 {
        getrandom::u32().unwrap_or(0) % self.counter_shards.max(1)
    }
}
