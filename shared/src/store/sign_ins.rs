//! A user's recent sign-ins (core::sign_ins), one item under the user (`SIGNINS`), read and
//! written by the stream consumer only. The consumer sees one user's records in order (they
//! share a partition key, so a stream shard), so no two writers race.

use aws_sdk_dynamodb::types::AttributeValue;

use super::attributes::string_value;
use super::error::{StoreError, store_error};
use super::{DynamoStore, keys};
use crate::core::sign_ins::SignIn;

impl DynamoStore {
    /// The remembered sign-ins, newest first; none when there is no item, or it cannot be
    /// read (logged: a memory that starts again is better than a consumer that stops).
    pub async fn recent_sign_ins(&self, user_id: &str) -> Result<Vec<SignIn>, StoreError> {
        let Some(item) = self.get(keys::user(user_id), keys::SIGN_INS).await? else { return Ok(Vec::new()) };
        match item.get("signIns") {
            Some(AttributeValue::S(text)) => Ok(serde_json::from_str(text).unwrap_or_else(|e| {
                tracing::warn!(error = %e, %user_id, "recent sign-ins unreadable; starting again");
                Vec::new()
            })),
            _ => Ok(Vec::new()),
        }
    }

    /// Replaces the remembered sign-ins.
    pub async fn save_sign_ins(&self, user_id: &str, sign_ins: &[SignIn]) -> Result<(), StoreError> {
        let text = serde_json::to_string(sign_ins).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let item = [
            (keys::PK.to_string(), string_value(keys::user(user_id))),
            (keys::SK.to_string(), string_value(keys::SIGN_INS)),
            ("entity".to_string(), string_value("signIns")),
            ("signIns".to_string(), string_value(text)),
        ];
        self.client.put_item().table_name(&self.table).set_item(Some(item.into())).send().await.map_err(store_error)?;
        Ok(())
    }
}
