//! Permissions: the roles stored for each permission.

use std::future::Future;

use aws_sdk_dynamodb::types::AttributeValue;

use super::attributes::string_value;
use super::error::{StoreError, store_error};
use super::{DynamoStore, keys};

/// Which roles hold a permission.
pub trait PermissionStore {
    /// The stored roles, or `None` when the permission has no item (defaults apply).
    fn permission_roles(&self, id: &str) -> impl Future<Output = Result<Option<Vec<String>>, StoreError>> + Send;
    fn set_permission_roles(&self, id: &str, roles: &[String]) -> impl Future<Output = Result<(), StoreError>> + Send;
}

impl PermissionStore for DynamoStore {
    async fn permission_roles(&self, id: &str) -> Result<Option<Vec<String>>, StoreError> {
        let Some(item) = self.get(keys::permission(id), keys::PERMISSION).await? else {
            return Ok(None);
        };
        let roles = match item.get("roles") {
            Some(AttributeValue::L(l)) => l.iter().filter_map(|v| v.as_s().ok().cloned()).collect(),
            _ => Vec::new(),
        };
        Ok(Some(roles))
    }

    async fn set_permission_roles(&self, id: &str, roles: &[String]) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .item(keys::PK, string_value(keys::permission(id)))
            .item(keys::SK, string_value(keys::PERMISSION))
            .item("entity", string_value("permission"))
            .item("roles", AttributeValue::L(roles.iter().map(string_value).collect()))
            .send()
            .await
            .map_err(store_error)?;
        Ok(())
    }
}
