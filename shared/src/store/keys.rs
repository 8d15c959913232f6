//! Key shapes of the single-table design (docs/storage.md); the only place they are spelled.

use crate::core::clock::{Millis, iso_millis};
use crate::core::order::SortKey;

pub const PK: &str = "PK";
pub const SK: &str = "SK";
pub const PROFILE: &str = "PROFILE";
pub const TOKEN: &str = "TOKEN";
pub const USERNAME: &str = "USERNAME";
pub const COUNTER: &str = "COUNTER";
/// The single counter item written before the shards; still summed, never written.
pub const LEGACY_SESSION_COUNTER: &str = "COUNTER#sessions";
/// Partition of one shard of the active-session counter.
pub fn session_counter(shard: u32) -> String {
    format!("{LEGACY_SESSION_COUNTER}#{shard}")
}
/// Prefix of every session's sort key under its user.
pub const SESSION_PREFIX: &str = "SESSION#";
/// Prefix of the order indexes' partitions: one per shard, `SESSIONS#<shard>`.
pub const ALL_SESSIONS: &str = "SESSIONS";
/// ByLoginAt's sort key: the login time as ISO 8601 with milliseconds (fixed width, so
/// text order is time order), then the session id.
pub fn by_login_at(login_at: Millis, session_id: &str) -> String {
    format!("{}#{session_id}", iso_millis(login_at))
}
/// Partition of one shard of the order indexes.
pub fn order_shard(shard: u32) -> String {
    format!("{ALL_SESSIONS}#{shard}")
}
/// The order-index shard of a session: its id's SHA-256, modulo `shards`. Raising
/// `shards` keeps every old entry below the new count, so readers still find it.
pub fn order_shard_of(session_id: &str, shards: u32) -> u32 {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(session_id.as_bytes());
    u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]]) % shards.max(1)
}
/// The packed list row every order index projects (store::session_row).
pub const ROW: &str = "r";

pub fn user(user_id: &str) -> String {
    format!("USER#{user_id}")
}
pub fn session(session_id: &str) -> String {
    format!("{SESSION_PREFIX}{session_id}")
}
/// Under a user: its recent sign-ins (core::sign_ins).
pub const SIGN_INS: &str = "SIGNINS";
/// Under a user: the claim of a session's new-login email (store::preferences).
pub fn login_mail(session_id: &str) -> String {
    format!("LOGINMAIL#{session_id}")
}
/// Prefix of a session's history record under its user, once it ended (store::history).
/// A session's owner by its id, written with the session: info.admin and the admin logout
/// find a session the by-id index has yet to show (docs/storage.md).
pub fn session_owner(session_id: &str) -> String {
    format!("SESSIONID#{session_id}")
}
pub const SESSION_OWNER: &str = "SESSIONID";
pub const ENDED_PREFIX: &str = "ENDED#";
pub fn ended(session_id: &str) -> String {
    format!("{ENDED_PREFIX}{session_id}")
}
/// Partition of the audit log entries about one user (store::audit).
pub fn log(subject: &str) -> String {
    format!("LOG#{subject}")
}
/// Partition of the audit log entries of login names that matched no user: one of a few
/// shards, so a flood of unknown names takes no single partition.
pub fn log_unmatched(shard: u32) -> String {
    format!("LOG#UNMATCHED#{shard}")
}
/// An audit entry's sort key, in its partition and in the time index: zero-padded epoch
/// seconds (text order is time order), then its id.
pub fn log_time(time_stamp: i64, id: &str) -> String {
    format!("{:012}#{id}", time_stamp.max(0))
}
/// The audit log's time index, and its partition for one month and shard.
pub const LOG_INDEX: &str = "ByTime";
pub fn log_month(month: &str, shard: u32) -> String {
    format!("LOGS#{month}#{shard}")
}
pub fn token(token_hash: &str) -> String {
    format!("TOKEN#{token_hash}")
}
pub fn username(username: &str) -> String {
    format!("USERNAME#{}", username.to_lowercase())
}
pub fn email(email: &str) -> String {
    format!("EMAIL#{}", email.to_lowercase())
}
pub const EMAIL: &str = "EMAIL";
pub fn permission(id: &str) -> String {
    format!("PERMISSION#{id}")
}
pub const PERMISSION: &str = "PERMISSION";
/// Under a user: the window of wrong 2FA codes, and the pending email code.
pub const TWO_FACTOR_FAILURES: &str = "TWOFACTOR#FAILURES";
pub const TWO_FACTOR_EMAIL: &str = "TWOFACTOR#EMAIL";
/// Failed-login windows: per account, per login name that matched none (its lowercase
/// form's SHA-256 hex), and per source address.
pub fn login_failures_account(user_id: &str) -> String {
    format!("LOGINFAIL#ACCOUNT#{user_id}")
}
pub fn login_failures_user(hash: &str) -> String {
    format!("LOGINFAIL#USER#{hash}")
}
pub fn login_failures_ip(ip: &str) -> String {
    format!("LOGINFAIL#IP#{ip}")
}
pub const LOGIN_FAILURES: &str = "LOGINFAIL";
/// Partition of the local mail outbox.
pub const OUTBOX: &str = "OUTBOX";
pub const SESSION_ID_INDEX: &str = "BySessionId";
pub const APIKEY: &str = "APIKEY";
pub fn api_key(hash: &str) -> String {
    format!("APIKEY#{hash}")
}

/// The index holding every session in `key` order, and its sort-key attribute.
pub fn order_index(key: SortKey) -> (&'static str, &'static str) {
    use SortKey::*;
    match key {
        LoginAt => ("ByLoginAt", "GSI2SK"),
        DeviceName => ("ByDeviceName", "GSI3SK"),
        DeviceOsName => ("ByOsName", "GSI4SK"),
        DeviceOsVersion => ("ByOsVersion", "GSI5SK"),
        UserName => ("ByUserName", "GSI6SK"),
        UserUsername => ("ByUsername", "GSI7SK"),
    }
}
