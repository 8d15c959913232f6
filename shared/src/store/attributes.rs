//! Item attributes: the item type, the attribute values helpers build, and the serde
//! conversions between items and the aggregates' records.

use aws_sdk_dynamodb::types::AttributeValue;
use serde::{Deserialize, Serialize};

use super::error::{StoreError, store_error};
use super::{DynamoStore, keys};

pub type Item = std::collections::HashMap<String, AttributeValue>;

/// A string attribute value.
pub(super) fn string_value(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

/// An item from a record.
pub(super) fn to_item<T: Serialize>(value: &T) -> Result<Item, StoreError> {
    serde_dynamo::to_item(value).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// A record from an item.
pub(super) fn from_item<T: for<'de> Deserialize<'de>>(item: Item) -> Result<T, StoreError> {
    serde_dynamo::from_item(item).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// A number attribute value.
pub(super) fn number_value(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

/// The number attribute `name` of `item` (0 when absent or not a number).
pub(super) fn number_in(item: &Item, name: &str) -> i64 {
    item.get(name).and_then(|v| v.as_n().ok()).and_then(|v| v.parse().ok()).unwrap_or(0)
}

impl DynamoStore {
    /// An UpdateItem on one item of the table.
    pub(super) fn update_key(
        &self,
        pk: impl Into<String>,
        sk: &str,
    ) -> aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder {
        self.client
            .update_item()
            .table_name(&self.table)
            .key(keys::PK, string_value(pk))
            .key(keys::SK, string_value(sk))
    }

    /// One item by its key, read consistently.
    pub(super) async fn get(&self, pk: String, sk: &str) -> Result<Option<Item>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(keys::PK, string_value(pk))
            .key(keys::SK, string_value(sk))
            .consistent_read(true)
            .send()
            .await
            .map_err(store_error)?;
        Ok(out.item)
    }
}
