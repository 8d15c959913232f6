//! Sessions that DynamoDB's TTL deletes leave the active-session counter here, from the
//! table's stream. Sessions our own code ends are counted down in the same transaction,
//! so only TTL removals (by the DynamoDB service principal) are counted here.

use aws_lambda_events::dynamodb::{Event, EventRecord};

use crate::store::{DynamoStore, StoreError, keys};

/// True for a session item removed by the TTL process.
pub fn is_expired_session(record: &EventRecord) -> bool {
    let by_ttl = record
        .user_identity
        .as_ref()
        .is_some_and(|u| u.type_ == "Service" && u.principal_id == "dynamodb.amazonaws.com");
    let is_session = matches!(
        record.change.keys.get(keys::SK),
        Some(serde_dynamo::AttributeValue::S(sk)) if sk.starts_with(keys::SESSION_PREFIX)
    );
    record.event_name == "REMOVE" && by_ttl && is_session
}

/// Counts the batch's expired sessions down; returns how many there were.
pub async fn on_stream(store: &DynamoStore, event: &Event) -> Result<usize, StoreError> {
    let expired = event.records.iter().filter(|r| is_expired_session(r)).count();
    if expired > 0 {
        store.adjust_session_count(-(expired as i64)).await?;
    }
    Ok(expired)
}
