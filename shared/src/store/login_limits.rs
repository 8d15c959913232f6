//! Failed-login counters per account and per source address, counted as Rocket.Chat counts
//! them (docs/login-and-2fa.md, "Failed logins"): failures since the last successful login,
//! blocked until the last failure plus the block time; atomic reservations (see `window`,
//! [`WindowRule::FromLastTry`]).

use std::future::Future;

use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem};

use super::attributes::{number_value, string_value};
use super::error::{StoreError, conditional_write};
use super::window::{Window, WindowRule};
use super::{DynamoStore, Reservation, keys};
use crate::core::clock::Millis;
pub use crate::core::config::LoginLimit;
use crate::core::ids::sha256_hex;

/// Whose failed logins a counter holds. Keys never contain raw request input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LoginLimitKey {
    /// An account: every login name of it (username, emails) counts here.
    Account(String),
    /// A login name that matched no account, lowercased and hashed.
    Name(String),
    /// A source address, canonical when it parses as an IP, else hashed.
    Ip(String),
}

impl LoginLimitKey {
    /// The account's counter when the name matched one, else the name's own.
    pub fn user(user_id: Option<&str>, login: &str) -> Self {
        match user_id {
            Some(id) => LoginLimitKey::Account(id.to_string()),
            None => LoginLimitKey::Name(sha256_hex(&login.to_lowercase())),
        }
    }

    pub fn ip(ip: &str) -> Self {
        match Self::canonical_ip(ip) {
            Some(addr) => LoginLimitKey::Ip(addr),
            None => LoginLimitKey::Ip(sha256_hex(ip)),
        }
    }

    /// `ip` in canonical form, if it is an IP address.
    pub fn canonical_ip(ip: &str) -> Option<String> {
        ip.trim().parse::<std::net::IpAddr>().ok().map(|a| a.to_string())
    }

    fn pk(&self) -> String {
        match self {
            LoginLimitKey::Account(id) => keys::login_failures_account(id),
            LoginLimitKey::Name(hash) => keys::login_failures_user(hash),
            LoginLimitKey::Ip(ip) => keys::login_failures_ip(ip),
        }
    }
}

/// A counter's state as an administrator sees it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LoginBlock {
    /// Failures since the last successful login that still count (checks in flight too).
    pub failures: u32,
    /// The latest failure that counts.
    pub last_failure_at: Option<Millis>,
    /// Until when logins are refused, if they are now.
    pub blocked_until: Option<Millis>,
}

impl LoginBlock {
    /// The state of `window` under `limit` (no window: nothing counts).
    pub fn of(window: Option<Window>, limit: LoginLimit) -> LoginBlock {
        let Some(w) = window else { return LoginBlock::default() };
        let blocked = limit.max > 0 && w.tries >= limit.max;
        LoginBlock {
            failures: w.tries,
            last_failure_at: Some(w.start),
            blocked_until: blocked.then_some(w.start + limit.block_ms),
        }
    }
}

/// A successful login's condition that its account is not blocked: checked, and the
/// account's count cleared, by one conditional delete (in the session's transaction when there
/// is no second factor, so a right password adds no round trip).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccountGuard {
    pub user_id: String,
    pub limit: LoginLimit,
    pub now: Millis,
}

impl AccountGuard {
    /// The guard of `user_id`'s account, if its limit is on.
    pub fn of(user_id: &str, limit: LoginLimit, now: Millis) -> Option<AccountGuard> {
        (limit.max > 0).then(|| AccountGuard { user_id: user_id.to_string(), limit, now })
    }

    /// The account window's partition key, and the values of [`NOT_BLOCKED`].
    fn condition(&self) -> (String, std::collections::HashMap<String, AttributeValue>) {
        let values = [
            (":since".to_string(), number_value(self.now - self.limit.block_ms)),
            (":max".to_string(), number_value(self.limit.max)),
        ];
        (LoginLimitKey::Account(self.user_id.clone()).pk(), values.into())
    }
}

/// The condition of [`AccountGuard`]: no current window that is full.
const NOT_BLOCKED: &str =
    "attribute_not_exists(PK) OR windowStart <= :since OR attribute_not_exists(tries) OR size(tries) < :max";

impl DynamoStore {
    /// The guard as a transaction's item: the account's window deleted if it does not block.
    pub(super) fn unblocked_clear(&self, guard: &AccountGuard) -> Result<TransactWriteItem, StoreError> {
        let (pk, values) = guard.condition();
        let delete = aws_sdk_dynamodb::types::Delete::builder()
            .table_name(&self.table)
            .key(keys::PK, string_value(pk))
            .key(keys::SK, string_value(keys::LOGIN_FAILURES))
            .condition_expression(NOT_BLOCKED)
            .set_expression_attribute_values(Some(values))
            .build()
            .map_err(|e| StoreError::Dynamo(e.to_string()))?;
        Ok(TransactWriteItem::builder().delete(delete).build())
    }
}

/// Failed-login limits: reserve a try before a password's check is answered.
pub trait LoginLimitStore {
    /// Reserves one of `limit.max` tries for `key`; `None` when all are taken (the login
    /// is blocked until the last try plus `limit.block_ms`).
    fn reserve_login_try(
        &self,
        key: &LoginLimitKey,
        now: Millis,
        limit: LoginLimit,
    ) -> impl Future<Output = Result<Option<Reservation>, StoreError>> + Send;
    /// Gives a reserved try back (it was never a failure).
    fn release_login_try(
        &self,
        key: &LoginLimitKey,
        held: Reservation,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Forgets every counted failure of `key` (a successful login; an administrator's unblock).
    fn clear_login_failures(&self, key: &LoginLimitKey) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// [`AccountGuard`] alone: the account's count cleared unless it blocks (false then).
    fn clear_unless_blocked(&self, guard: &AccountGuard) -> impl Future<Output = Result<bool, StoreError>> + Send;
    /// The counter of `key` as it stands at `now`.
    fn login_block(
        &self,
        key: &LoginLimitKey,
        now: Millis,
        limit: LoginLimit,
    ) -> impl Future<Output = Result<LoginBlock, StoreError>> + Send;
}

impl LoginLimitStore for DynamoStore {
    async fn reserve_login_try(
        &self,
        key: &LoginLimitKey,
        now: Millis,
        limit: LoginLimit,
    ) -> Result<Option<Reservation>, StoreError> {
        let window = (limit.block_ms, WindowRule::FromLastTry);
        self.reserve_window_try(key.pk(), keys::LOGIN_FAILURES, now, window, limit.max).await
    }

    async fn release_login_try(&self, key: &LoginLimitKey, held: Reservation) -> Result<(), StoreError> {
        self.release_window_try(key.pk(), keys::LOGIN_FAILURES, held).await
    }

    async fn clear_login_failures(&self, key: &LoginLimitKey) -> Result<(), StoreError> {
        self.clear_window(key.pk(), keys::LOGIN_FAILURES).await
    }

    async fn clear_unless_blocked(&self, guard: &AccountGuard) -> Result<bool, StoreError> {
        let (pk, values) = guard.condition();
        let deleted = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key(keys::PK, string_value(pk))
            .key(keys::SK, string_value(keys::LOGIN_FAILURES))
            .condition_expression(NOT_BLOCKED)
            .set_expression_attribute_values(Some(values))
            .send()
            .await;
        conditional_write(deleted)
    }

    async fn login_block(&self, key: &LoginLimitKey, now: Millis, limit: LoginLimit) -> Result<LoginBlock, StoreError> {
        let window = self.current_window(key.pk(), keys::LOGIN_FAILURES, now, limit.block_ms).await?;
        Ok(LoginBlock::of(window, limit))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_hold_no_raw_input() {
        let name = |login| LoginLimitKey::user(None, login);
        assert_eq!(name("Admin"), name("admin"));
        assert_eq!(name("admin").pk(), format!("LOGINFAIL#USER#{}", sha256_hex("admin")));
        assert_eq!(LoginLimitKey::user(Some("u1"), "Admin").pk(), "LOGINFAIL#ACCOUNT#u1");
        assert_eq!(LoginLimitKey::ip(" 203.0.113.9 ").pk(), "LOGINFAIL#IP#203.0.113.9");
        assert_eq!(LoginLimitKey::ip("2001:DB8::1").pk(), "LOGINFAIL#IP#2001:db8::1");
        assert_eq!(LoginLimitKey::ip("not an ip#x").pk(), format!("LOGINFAIL#IP#{}", sha256_hex("not an ip#x")));
    }

    #[test]
    fn a_full_window_blocks_until_its_last_try_plus_the_block_time() {
        let limit = LoginLimit { max: 3, block_ms: 60_000 };
        assert_eq!(LoginBlock::of(None, limit), LoginBlock::default());
        let open = LoginBlock::of(Some(Window { start: 1_000, tries: 2 }), limit);
        assert_eq!(open, LoginBlock { failures: 2, last_failure_at: Some(1_000), blocked_until: None });
        let full = LoginBlock::of(Some(Window { start: 1_000, tries: 3 }), limit);
        assert_eq!(full.blocked_until, Some(61_000));
        let off = LoginBlock::of(Some(Window { start: 1_000, tries: 3 }), LoginLimit { max: 0, ..limit });
        assert_eq!(off.blocked_until, None);
    }
}
