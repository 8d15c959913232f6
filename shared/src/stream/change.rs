//! What one record of the table's stream means (docs/events.md): the consumer acts on
//! session items and history records and lets everything else pass.

use aws_lambda_events::dynamodb::EventRecord;
use serde_dynamo::{AttributeValue, Item};

use crate::core::audit::{AccountChange, LogEntry};
use crate::core::history::EndedSession;
use crate::core::model::Session;
use crate::store::{StoreError, ended_from_image, keys, session_from_image};

/// One stream record, read.
#[derive(Debug)]
pub enum Change {
    /// A new session (a login): `Session Created`.
    SessionCreated(Box<Session>),
    /// A history record written (any end, expiry included): `Session Ended`.
    SessionEnded(Box<EndedSession>),
    /// DynamoDB's TTL removed a session: its end is recorded with reason "expired".
    SessionExpired(Item),
    /// Our code ended a session: its old image completes a history record written without it.
    SessionRemoved(Item),
    /// A refused sign-in's audit entry (written on the login's path): `Login Failed` or
    /// `Login Blocked`.
    Refused(Box<LogEntry>),
    /// An account created, deleted, deactivated or activated (its profile item): an audit entry.
    Account { user_id: String, username: String, change: AccountChange, at_secs: i64 },
    /// A session removed while the stream carried keys only (before its view held images):
    /// only the counter can be kept, as before.
    ExpiredKeysOnly,
    /// Nothing the consumer acts on (activity updates, counters, limits, TTL removals of
    /// history records, ...).
    Other,
    /// A record that cannot be read: logged and skipped, never retried.
    Malformed(String),
}

/// True for a removal by DynamoDB's TTL process (its service principal in userIdentity).
pub fn by_ttl(record: &EventRecord) -> bool {
    record.user_identity.as_ref().is_some_and(|u| u.type_ == "Service" && u.principal_id == "dynamodb.amazonaws.com")
}

fn sort_key(record: &EventRecord) -> Option<&str> {
    match record.change.keys.get(keys::SK) {
        Some(AttributeValue::S(sk)) => Some(sk),
        _ => None,
    }
}

/// Reads one record.
pub fn classify(record: &EventRecord) -> Change {
    let Some(sk) = sort_key(record) else {
        return Change::Malformed("no string SK in the record's keys".into());
    };
    if record.event_name == "INSERT" && partition_key(record).is_some_and(|pk| pk.starts_with("LOG#")) {
        return refused_entry(record);
    }
    if sk == keys::PROFILE {
        return account(record);
    }
    let session = sk.starts_with(keys::SESSION_PREFIX);
    let ended = sk.starts_with(keys::ENDED_PREFIX);
    match (record.event_name.as_str(), session, ended) {
        ("INSERT", true, _) => {
            read(session_from_image(record.change.new_image.clone()), |s| Change::SessionCreated(Box::new(s)))
        }
        ("INSERT", _, true) => {
            read(ended_from_image(record.change.new_image.clone()), |e| Change::SessionEnded(Box::new(e)))
        }
        ("REMOVE", true, _) if record.change.old_image.is_empty() => {
            if by_ttl(record) {
                Change::ExpiredKeysOnly
            } else {
                Change::Other
            }
        }
        ("REMOVE", true, _) if by_ttl(record) => Change::SessionExpired(record.change.old_image.clone()),
        ("REMOVE", true, _) => Change::SessionRemoved(record.change.old_image.clone()),
        ("INSERT" | "MODIFY" | "REMOVE", _, _) => Change::Other,
        (other, _, _) => Change::Malformed(format!("unknown eventName {other:?}")),
    }
}

/// A profile's change: created, deleted, or its `active` flag turned; anything else passes.
fn account(record: &EventRecord) -> Change {
    let active = |image: &Item| matches!(image.get("active"), Some(AttributeValue::Bool(true)));
    let text = |name: &str| {
        [&record.change.new_image, &record.change.old_image].iter().find_map(|image| match image.get(name) {
            Some(AttributeValue::S(s)) => Some(s.clone()),
            _ => None,
        })
    };
    let (old, new) = (&record.change.old_image, &record.change.new_image);
    let change = match record.event_name.as_str() {
        "INSERT" => AccountChange::Created,
        "REMOVE" => AccountChange::Deleted,
        "MODIFY" if active(old) && !active(new) => AccountChange::Deactivated,
        "MODIFY" if !active(old) && active(new) => AccountChange::Activated,
        _ => return Change::Other,
    };
    let Some(user_id) = text("userId") else { return Change::Malformed("a profile without its userId".into()) };
    let username = text("username").unwrap_or_default();
    // When the change reached the stream; a record without the time (it is optional) is
    // dated when it is read.
    let stamped = record.change.approximate_creation_date_time.timestamp();
    let at_secs = if stamped > 0 { stamped } else { crate::core::clock::now_ms() / 1000 };
    Change::Account { user_id, username, change, at_secs }
}

fn partition_key(record: &EventRecord) -> Option<&str> {
    match record.change.keys.get(keys::PK) {
        Some(AttributeValue::S(pk)) => Some(pk),
        _ => None,
    }
}

/// An audit entry's insert: a refusal to publish, or one the consumer wrote itself (passed by).
fn refused_entry(record: &EventRecord) -> Change {
    let Some(AttributeValue::S(text)) = record.change.new_image.get("log") else {
        return Change::Malformed("an audit item without its entry".into());
    };
    match serde_json::from_str::<LogEntry>(text) {
        Ok(entry) if entry.kind == "failure" => Change::Refused(Box::new(entry)),
        Ok(_) => Change::Other,
        Err(e) => Change::Malformed(format!("audit entry: {e}")),
    }
}

fn read<T>(parsed: Result<T, StoreError>, change: impl FnOnce(T) -> Change) -> Change {
    match parsed {
        Ok(value) => change(value),
        Err(e) => Change::Malformed(e.to_string()),
    }
}
