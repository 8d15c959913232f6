//! The table stream's consumer (function `session-stream`; docs/events.md). Work that can
//! happen after an answer runs here, never on a request's path: ended sessions' history
//! completed, TTL expiries recorded (and counted out of the active-session counter), the
//! audit log written, new sessions checked for impossible travel, and events published.
//! Records are handled in order; the first that fails is reported as the batch item
//! failure, so Lambda retries from it and no record before it runs twice. A record that
//! cannot be read is logged and skipped: a poison record never blocks the shard.

pub mod change;
pub mod events;
pub mod local;
pub mod login_mail;
pub mod publisher;
pub mod sign_in;

use aws_lambda_events::dynamodb::{Event as StreamEvent, EventRecord};
use aws_lambda_events::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};

use crate::App;
use crate::core::{admin_log, audit};
use crate::metrics::emit_count;
use crate::store::{AuditLogStore, StoreError};
use change::{Change, classify};
use events::Event;
use publisher::Publisher;

/// What one batch did, for logs and tests.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Outcome {
    pub published: usize,
    pub expired: usize,
    pub skipped: usize,
    /// The index of the first record that failed, if any (it and those after are retried).
    pub failed_at: Option<usize>,
}

/// Handles one batch: each record's work in order, then the events of those before the
/// first failure, published at once. The response names the first record that failed.
pub async fn on_stream(app: &App, publisher: &Publisher, batch: &StreamEvent) -> (DynamoDbEventResponse, Outcome) {
    let mut outcome = Outcome::default();
    let mut pending: Vec<(usize, Event)> = Vec::new();
    for (i, record) in batch.records.iter().enumerate() {
        match apply(app, record, &mut outcome).await {
            Ok(events) => pending.extend(events.into_iter().map(|e| (i, e))),
            Err(e) => {
                tracing::warn!(error = %e, event_id = %record.event_id, "stream record failed; retried from here");
                outcome.failed_at = Some(i);
                break;
            }
        }
    }
    let sent = publisher.publish(&pending.iter().map(|(_, e)| e.clone()).collect::<Vec<_>>()).await;
    outcome.published = sent.iter().filter(|ok| **ok).count();
    if let Some((i, _)) = pending.iter().zip(&sent).find(|(_, ok)| !**ok).map(|(p, ok)| (p.0, ok)) {
        emit_count("EventsNotPublished");
        outcome.failed_at = Some(outcome.failed_at.map_or(i, |f| f.min(i)));
    }
    (response(batch, outcome.failed_at), outcome)
}

/// The audit entry id of a change: the same for every delivery of its stream record, so a
/// record delivered twice writes its entry once.
fn log_id(record: &EventRecord) -> String {
    crate::core::ids::sha256_hex(&record.event_id).chars().take(24).collect()
}

/// The id of the `i`-th of the entries one record writes: the record's [`log_id`] for the
/// first, so a record delivered twice writes the same items.
fn entry_id(record: &EventRecord, i: usize) -> String {
    if i == 0 {
        return log_id(record);
    }
    crate::core::ids::sha256_hex(&format!("{}#{i}", record.event_id)).chars().take(24).collect()
}

/// The partial batch response: the sequence number of the first failed record.
fn response(batch: &StreamEvent, failed_at: Option<usize>) -> DynamoDbEventResponse {
    let mut response = DynamoDbEventResponse::default();
    if let Some(record) = failed_at.and_then(|i| batch.records.get(i)) {
        let mut failure = DynamoDbBatchItemFailure::default();
        failure.item_identifier =
            Some(record.change.sequence_number.clone().unwrap_or_else(|| record.event_id.clone()));
        response.batch_item_failures.push(failure);
    }
    response
}

/// One record's work; the events it publishes.
async fn apply(app: &App, record: &EventRecord, outcome: &mut Outcome) -> Result<Vec<Event>, StoreError> {
    match act(app, record, outcome).await {
        // An image that does not read as a session: no retry can change it.
        Err(StoreError::Corrupt(reason)) => skip(record, outcome, &reason),
        other => other,
    }
}

/// A record that cannot be handled: logged, counted and passed over.
fn skip(record: &EventRecord, outcome: &mut Outcome, reason: &str) -> Result<Vec<Event>, StoreError> {
    tracing::error!(%reason, event_id = %record.event_id, "stream record skipped: malformed");
    emit_count("StreamRecordsSkipped");
    outcome.skipped += 1;
    Ok(Vec::new())
}

async fn act(app: &App, record: &EventRecord, outcome: &mut Outcome) -> Result<Vec<Event>, StoreError> {
    let store = &app.store;
    match classify(record) {
        Change::SessionCreated(session) => {
            sign_in::on_session_created(app, &record.event_id, log_id(record), &session).await
        }
        Change::SessionEnded(ended) => {
            store.put_log(&audit::ended(log_id(record), &ended)).await?;
            Ok(vec![events::session_ended(&record.event_id, &ended)])
        }
        Change::Refused(entry) => Ok(vec![events::refused(&record.event_id, &entry)]),
        Change::Account { user_id, username, changes, at_secs } => {
            for (i, change) in changes.iter().enumerate() {
                let id = entry_id(record, i);
                store.put_log(&admin_log::account_changed(id, at_secs, &user_id, &username, change)).await?;
            }
            Ok(Vec::new())
        }
        Change::ApiKey { key_id, name, change, at_secs } => {
            store.put_log(&admin_log::api_key_changed(log_id(record), at_secs, &key_id, &name, &change)).await?;
            Ok(Vec::new())
        }
        Change::SessionExpired(old) => {
            if store.record_expired(old).await? {
                outcome.expired += 1;
            }
            Ok(Vec::new())
        }
        Change::SessionRemoved(old) => {
            store.complete_history(old).await?;
            Ok(Vec::new())
        }
        Change::ExpiredKeysOnly => {
            store.adjust_session_count(-1).await?;
            outcome.expired += 1;
            Ok(Vec::new())
        }
        Change::Other => Ok(Vec::new()),
        Change::Malformed(reason) => skip(record, outcome, &reason),
    }
}
