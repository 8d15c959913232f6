//! The counter of active sessions, kept at write time for list.all's `total`.

use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem, Update};

use super::{DynamoStore, StoreError, dynamo, keys, n, s};

impl DynamoStore {
    /// Active sessions as counted at write time (for list.all's `total`).
    pub async fn session_count(&self) -> Result<i64, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(keys::PK, s(keys::SESSION_COUNTER))
            .key(keys::SK, s(keys::COUNTER))
            .consistent_read(true)
            .send()
            .await
            .map_err(dynamo)?;
        Ok(out.item.and_then(|i| i.get("count").and_then(|v| v.as_n().ok()).and_then(|n| n.parse().ok())).unwrap_or(0))
    }

    /// Adds `delta` to the active-session counter (the TTL stream consumer uses it).
    pub async fn adjust_session_count(&self, delta: i64) -> Result<(), StoreError> {
        self.update_key(keys::SESSION_COUNTER, keys::COUNTER)
            .update_expression("ADD #c :d")
            .expression_attribute_names("#c", "count")
            .expression_attribute_values(":d", n(delta))
            .send()
            .await
            .map_err(dynamo)?;
        Ok(())
    }

    /// The counter change that goes in the same transaction as a session write.
    pub(super) fn counter_update(&self, delta: i64) -> Result<TransactWriteItem, StoreError> {
        let update = Update::builder()
            .table_name(&self.table)
            .key(keys::PK, s(keys::SESSION_COUNTER))
            .key(keys::SK, s(keys::COUNTER))
            .update_expression("ADD #c :d")
            .expression_attribute_names("#c", "count")
            .expression_attribute_values(":d", AttributeValue::N(delta.to_string()))
            .build()
            .map_err(|e| StoreError::Dynamo(e.to_string()))?;
        Ok(TransactWriteItem::builder().update(update).build())
    }
}
