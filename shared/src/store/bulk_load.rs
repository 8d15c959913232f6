//! Bulk loading of sessions, for benchmarks and demo data (no conditions, no cap).

use std::future::Future;

use super::DynamoStore;
use super::attributes::to_item;
use super::error::{StoreError, store_error};
use super::sessions::SessionItem;
use super::tokens::TokenItem;
use crate::core::model::Session;

/// Loads many sessions at once, for benchmarks and demo data: BatchWriteItem of each session
/// and its token, then one counter adjustment. No conditions and no cap: only for tables
/// being filled before use.
pub trait SessionBulkLoader {
    /// Writes every `(session, token hash)`; retries what DynamoDB leaves unprocessed.
    fn load_sessions(&self, sessions: &[(Session, String)]) -> impl Future<Output = Result<(), StoreError>> + Send;
}

impl SessionBulkLoader for DynamoStore {
    async fn load_sessions(&self, sessions: &[(Session, String)]) -> Result<(), StoreError> {
        use aws_sdk_dynamodb::types::{PutRequest, WriteRequest};
        let mut requests = Vec::with_capacity(sessions.len() * 2);
        for (session, token_hash) in sessions {
            for item in [
                to_item(&SessionItem::new(session, token_hash, self.order_shards))?,
                to_item(&TokenItem::new(session, token_hash))?,
            ] {
                let put = PutRequest::builder()
                    .set_item(Some(item))
                    .build()
                    .map_err(|e| StoreError::Dynamo(e.to_string()))?;
                requests.push(WriteRequest::builder().put_request(put).build());
            }
        }
        for chunk in requests.chunks(25) {
            let mut pending = chunk.to_vec();
            for attempt in 0u32.. {
                let out = self
                    .client
                    .batch_write_item()
                    .request_items(&self.table, pending)
                    .send()
                    .await
                    .map_err(store_error)?;
                pending = out.unprocessed_items.and_then(|mut t| t.remove(&self.table)).unwrap_or_default();
                if pending.is_empty() {
                    break;
                }
                if attempt == 20 {
                    return Err(StoreError::Unavailable("BatchWriteItem left items unprocessed".into()));
                }
                tokio::time::sleep(std::time::Duration::from_millis(10 << attempt.min(6))).await;
            }
        }
        self.adjust_session_count(sessions.len() as i64).await
    }
}
