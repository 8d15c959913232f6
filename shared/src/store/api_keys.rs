//! API keys of back-end services, stored by hash.

use std::future::Future;

use aws_sdk_dynamodb::types::AttributeValue;
use serde::{Deserialize, Serialize};

use super::attributes::{from_item, string_value, to_item};
use super::error::{StoreError, conditional_write, store_error};
use super::transactions::{Tx, transact_put};
use super::{DynamoStore, keys};
use crate::core::model::ApiKey;
use crate::core::scopes::Scope;

/// API keys of back-end services.
pub trait ApiKeyStore {
    fn api_key(&self, key_hash: &str) -> impl Future<Output = Result<Option<ApiKey>, StoreError>> + Send;
    fn create_api_key(&self, key: &ApiKey) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Every key (admin tool only: a Scan, never in a request path).
    fn api_keys(&self) -> impl Future<Output = Result<Vec<ApiKey>, StoreError>> + Send;
    fn set_api_key_disabled(
        &self,
        key_hash: &str,
        disabled: bool,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Replaces a key's scopes (admin tool only).
    fn set_api_key_scopes(
        &self,
        key_hash: &str,
        scopes: &[Scope],
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ApiKeyItem {
    #[serde(rename = "PK")]
    pk: String,
    #[serde(rename = "SK")]
    sk: String,
    entity: String,
    key_hash: String,
    key_id: String,
    name: String,
    created_at: String,
    disabled: bool,
    /// Scope names (core::scopes); absent on keys from before scopes, which keep full access.
    /// A name this version does not know grants nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    scopes: Option<Vec<String>>,
}

impl From<ApiKeyItem> for ApiKey {
    fn from(i: ApiKeyItem) -> Self {
        let scopes = i.scopes.map(|names| names.iter().filter_map(|n| Scope::parse(n)).collect());
        ApiKey {
            key_hash: i.key_hash,
            key_id: i.key_id,
            name: i.name,
            created_at: i.created_at,
            disabled: i.disabled,
            scopes,
        }
    }
}

fn scope_names(scopes: &[Scope]) -> Vec<String> {
    scopes.iter().map(|s| s.name().to_string()).collect()
}

impl ApiKeyStore for DynamoStore {
    async fn api_key(&self, key_hash: &str) -> Result<Option<ApiKey>, StoreError> {
        match self.get(keys::api_key(key_hash), keys::APIKEY).await? {
            Some(item) => Ok(Some(from_item::<ApiKeyItem>(item)?.into())),
            None => Ok(None),
        }
    }

    async fn create_api_key(&self, key: &ApiKey) -> Result<(), StoreError> {
        let item = ApiKeyItem {
            pk: keys::api_key(&key.key_hash),
            sk: keys::APIKEY.into(),
            entity: "apikey".into(),
            key_hash: key.key_hash.clone(),
            key_id: key.key_id.clone(),
            name: key.name.clone(),
            created_at: key.created_at.clone(),
            disabled: key.disabled,
            scopes: key.scopes.as_deref().map(scope_names),
        };
        let written = self.transact(vec![transact_put(&self.table, to_item(&item)?, true)?]).await? == Tx::Written;
        if written { Ok(()) } else { Err(StoreError::Conflict(format!("API key {}", key.key_id))) }
    }

    async fn api_keys(&self) -> Result<Vec<ApiKey>, StoreError> {
        let mut keys_found = Vec::new();
        let mut start = None;
        loop {
            let out = self
                .client
                .scan()
                .table_name(&self.table)
                .filter_expression("entity = :e")
                .expression_attribute_values(":e", string_value("apikey"))
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(store_error)?;
            for item in out.items.unwrap_or_default() {
                keys_found.push(from_item::<ApiKeyItem>(item)?.into());
            }
            match out.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => break,
            }
        }
        Ok(keys_found)
    }

    async fn set_api_key_disabled(&self, key_hash: &str, disabled: bool) -> Result<(), StoreError> {
        self.set_on_api_key(key_hash, "disabled", AttributeValue::Bool(disabled)).await
    }

    async fn set_api_key_scopes(&self, key_hash: &str, scopes: &[Scope]) -> Result<(), StoreError> {
        let names = scope_names(scopes).into_iter().map(AttributeValue::S).collect();
        self.set_on_api_key(key_hash, "scopes", AttributeValue::L(names)).await
    }
}

impl DynamoStore {
    /// Sets one attribute of an existing key's item.
    async fn set_on_api_key(&self, key_hash: &str, attribute: &str, value: AttributeValue) -> Result<(), StoreError> {
        let r = self
            .update_key(keys::api_key(key_hash), keys::APIKEY)
            .update_expression("SET #a = :v")
            .condition_expression("attribute_exists(PK)")
            .expression_attribute_names("#a", attribute)
            .expression_attribute_values(":v", value)
            .send()
            .await;
        if conditional_write(r)? { Ok(()) } else { Err(StoreError::Corrupt("no such API key".into())) }
    }
}
