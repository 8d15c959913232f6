//! What one record of the table's stream means (docs/events.md): the consumer acts on
//! session items and history records and lets everything else pass.

use aws_lambda_events::dynamodb::EventRecord;
use serde_dynamo::{AttributeValue, Item};

use crate::core::admin_log::{AccountChange, KeyChange};
use crate::core::audit::LogEntry;
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
    /// Changes to an account (its profile item): an audit entry each.
    Account { user_id: String, username: String, changes: Vec<AccountChange>, at_secs: i64 },
    /// An API key created, disabled or enabled: an audit entry.
    ApiKey { key_id: String, name: String, change: KeyChange, at_secs: i64 },
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
    if sk == keys::APIKEY {
        return api_key(record);
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

/// A profile's changes: created, deleted, or its `active` flag, roles or second factors changed;
/// anything else (a TOTP step or a backup code spent, preferences) passes. Secrets in the
/// images are compared, never copied.
fn account(record: &EventRecord) -> Change {
    let (old, new) = (&record.change.old_image, &record.change.new_image);
    let changes = match record.event_name.as_str() {
        "INSERT" => vec![AccountChange::Created],
        "REMOVE" => vec![AccountChange::Deleted],
        "MODIFY" => profile_changes(old, new),
        _ => Vec::new(),
    };
    if changes.is_empty() {
        return Change::Other;
    }
    let Some(user_id) = text(record, "userId") else { return Change::Malformed("a profile without its userId".into()) };
    let username = text(record, "username").unwrap_or_default();
    Change::Account { user_id, username, changes, at_secs: stamped(record) }
}

/// What an update changed that the audit log records, in a fixed order.
fn profile_changes(old: &Item, new: &Item) -> Vec<AccountChange> {
    let flag = |image: &Item, name: &str| matches!(image.get(name), Some(AttributeValue::Bool(true)));
    let mut out = Vec::new();
    match (flag(old, "active"), flag(new, "active")) {
        (true, false) => out.push(AccountChange::Deactivated),
        (false, true) => out.push(AccountChange::Activated),
        _ => {}
    }
    let (was, is) = (strings(old, "roles"), strings(new, "roles"));
    out.extend(is.iter().filter(|r| !was.contains(r)).map(|r| AccountChange::RoleAdded(r.clone())));
    out.extend(was.iter().filter(|r| !is.contains(r)).map(|r| AccountChange::RoleRemoved(r.clone())));
    match (old.get("totpSecret"), new.get("totpSecret")) {
        (Some(AttributeValue::S(a)), Some(AttributeValue::S(b))) if a != b => {
            out.push(AccountChange::TwoFactorEnabled("totp"))
        }
        (None, Some(AttributeValue::S(_))) => out.push(AccountChange::TwoFactorEnabled("totp")),
        (Some(AttributeValue::S(_)), None) => out.push(AccountChange::TwoFactorDisabled("totp")),
        _ => {}
    }
    match (flag(old, "emailTwoFactor"), flag(new, "emailTwoFactor")) {
        (false, true) => out.push(AccountChange::TwoFactorEnabled("email")),
        (true, false) => out.push(AccountChange::TwoFactorDisabled("email")),
        _ => {}
    }
    out
}

/// An API key's item created, its `disabled` flag turned or its scopes changed (its hash, in
/// the key and the images, is never read).
fn api_key(record: &EventRecord) -> Change {
    let disabled = |image: &Item| matches!(image.get("disabled"), Some(AttributeValue::Bool(true)));
    let (old, new) = (&record.change.old_image, &record.change.new_image);
    let change = match record.event_name.as_str() {
        "INSERT" => KeyChange::Created,
        "MODIFY" if !disabled(old) && disabled(new) => KeyChange::Disabled,
        "MODIFY" if disabled(old) && !disabled(new) => KeyChange::Enabled,
        "MODIFY" if old.get("scopes") != new.get("scopes") => KeyChange::ScopesChanged(strings(new, "scopes")),
        _ => return Change::Other,
    };
    let Some(key_id) = text(record, "keyId") else { return Change::Malformed("an API key without its keyId".into()) };
    let name = text(record, "name").unwrap_or_default();
    Change::ApiKey { key_id, name, change, at_secs: stamped(record) }
}

/// A string attribute of the new image, else of the old one.
fn text(record: &EventRecord, name: &str) -> Option<String> {
    [&record.change.new_image, &record.change.old_image].iter().find_map(|image| match image.get(name) {
        Some(AttributeValue::S(s)) => Some(s.clone()),
        _ => None,
    })
}

/// A list of strings (absent: none).
fn strings(image: &Item, name: &str) -> Vec<String> {
    match image.get(name) {
        Some(AttributeValue::L(items)) => items
            .iter()
            .filter_map(|v| match v {
                AttributeValue::S(s) => Some(s.clone()),
                _ => None,
            })
            .collect(),
        Some(AttributeValue::Ss(items)) => items.clone(),
        _ => Vec::new(),
    }
}

/// When the change reached the stream, in epoch seconds; a record without the time (it is
/// optional) is dated when it is read.
fn stamped(record: &EventRecord) -> i64 {
    let stamped = record.change.approximate_creation_date_time.timestamp();
    if stamped > 0 { stamped } else { crate::core::clock::now_ms() / 1000 }
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
