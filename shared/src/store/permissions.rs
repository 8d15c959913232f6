//! Permissions: the roles stored for each permission.

use std::future::Future;

use aws_sdk_dynamodb::types::AttributeValue;

use super::{DynamoStore, StoreError, dynamo, keys, s};

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
            .item(keys::PK, s(keys::permission(id)))
            .item(keys::SK, s(keys::PERMISSION))
            .item("entity", s("permission"))
            .item("roles", AttributeValue::L(roles.iter().map(s).collect()))
            .send()
            .await
            .map_err(dynamo)?;
        Ok(())
    }
}
