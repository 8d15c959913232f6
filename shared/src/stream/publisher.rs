//! Where events go: an EventBridge bus in AWS (`EVENT_BUS_NAME`), the log otherwise (the
//! local run prints every event it would publish).

use aws_sdk_eventbridge::types::PutEventsRequestEntry;

use super::events::Event;

/// PutEvents takes at most 10 entries a request.
const ENTRIES_PER_REQUEST: usize = 10;

/// The `source` of every event.
pub const EVENT_SOURCE: &str = "sessions-api";

/// Publishes events.
#[derive(Clone, Debug)]
pub enum Publisher {
    EventBridge {
        client: aws_sdk_eventbridge::Client,
        bus: String,
    },
    /// Each event as one log line (`event published` with its detail type and detail).
    Log,
}

impl Publisher {
    /// Publishes `events`; for each, whether EventBridge took it. A request that fails
    /// (after the SDK's retries) fails its entries; an entry EventBridge refuses (its
    /// `ErrorCode`, such as ThrottlingException) fails alone. Every failure is logged with
    /// its reason.
    pub async fn publish(&self, events: &[Event]) -> Vec<bool> {
        match self {
            Publisher::Log => {
                for e in events {
                    tracing::info!(detail_type = e.detail_type, detail = %e.detail, "event published");
                }
                vec![true; events.len()]
            }
            Publisher::EventBridge { client, bus } => {
                let chunks = events.chunks(ENTRIES_PER_REQUEST).map(|chunk| put_events(client, bus, chunk));
                futures_util::future::join_all(chunks).await.into_iter().flatten().collect()
            }
        }
    }
}

/// One PutEvents request; whether each entry was taken.
async fn put_events(client: &aws_sdk_eventbridge::Client, bus: &str, chunk: &[Event]) -> Vec<bool> {
    let entries: Vec<PutEventsRequestEntry> = chunk
        .iter()
        .map(|e| {
            PutEventsRequestEntry::builder()
                .event_bus_name(bus)
                .source(EVENT_SOURCE)
                .detail_type(e.detail_type)
                .detail(e.detail.to_string())
                .build()
        })
        .collect();
    match client.put_events().set_entries(Some(entries)).send().await {
        Ok(out) => {
            let results = out.entries.unwrap_or_default();
            (0..chunk.len())
                .map(|i| match results.get(i) {
                    Some(r) if r.error_code.is_none() && r.event_id.is_some() => true,
                    Some(r) => {
                        tracing::warn!(code = ?r.error_code, message = ?r.error_message, "event refused");
                        false
                    }
                    None => false,
                })
                .collect()
        }
        Err(e) => {
            let reason = aws_sdk_eventbridge::error::DisplayErrorContext(e);
            tracing::warn!(error = %reason, entries = chunk.len(), "PutEvents failed");
            vec![false; chunk.len()]
        }
    }
}
