//! The local mail outbox.

use std::future::Future;

use serde::{Deserialize, Serialize};

use super::attributes::{from_item, number_value, string_value, to_item};
use super::error::{StoreError, store_error};
use super::{DynamoStore, keys};
use crate::core::clock::parse_iso;

/// A message the local mailer kept instead of sending.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OutboxMessage {
    pub to: String,
    pub subject: String,
    pub body: String,
    pub sent_at: String,
}

/// The local mail outbox.
pub trait OutboxStore {
    fn put_outbox(&self, message: &OutboxMessage) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Newest first.
    fn outbox(&self, limit: usize) -> impl Future<Output = Result<Vec<OutboxMessage>, StoreError>> + Send;
}

impl OutboxStore for DynamoStore {
    async fn put_outbox(&self, message: &OutboxMessage) -> Result<(), StoreError> {
        let mut item = to_item(message)?;
        item.insert(keys::PK.into(), string_value(keys::OUTBOX));
        item.insert(keys::SK.into(), string_value(format!("{}#{}", message.sent_at, crate::core::ids::new_id())));
        // Kept a day: the outbox is for looking at codes while testing locally.
        let expires = parse_iso(&message.sent_at).unwrap_or(0) / 1000 + 86_400;
        item.insert("expiresAt".into(), number_value(expires));
        self.client.put_item().table_name(&self.table).set_item(Some(item)).send().await.map_err(store_error)?;
        Ok(())
    }

    async fn outbox(&self, limit: usize) -> Result<Vec<OutboxMessage>, StoreError> {
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("PK = :p")
            .expression_attribute_values(":p", string_value(keys::OUTBOX))
            .scan_index_forward(false)
            .limit(limit.clamp(1, 1000) as i32)
            .send()
            .await
            .map_err(store_error)?;
        out.items.unwrap_or_default().into_iter().map(from_item).collect()
    }
}
