//! Failed-login counters per username and per source address (Rocket.Chat's "Block failed
//! login attempts"), as fixed windows with atomic reservations (see `window`).

use std::future::Future;

use super::error::StoreError;
use super::{DynamoStore, Reservation, keys};
use crate::core::clock::Millis;
use crate::core::ids::sha256_hex;

/// Whose failed logins a counter holds. Keys never contain raw request input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LoginLimitKey {
    /// A username or email as typed, lowercased and hashed.
    User(String),
    /// A source address, canonical when it parses as an IP, else hashed.
    Ip(String),
}

impl LoginLimitKey {
    pub fn user(login: &str) -> Self {
        LoginLimitKey::User(sha256_hex(&login.to_lowercase()))
    }

    pub fn ip(ip: &str) -> Self {
        match ip.trim().parse::<std::net::IpAddr>() {
            Ok(addr) => LoginLimitKey::Ip(addr.to_string()),
            Err(_) => LoginLimitKey::Ip(sha256_hex(ip)),
        }
    }

    fn pk(&self) -> String {
        match self {
            LoginLimitKey::User(hash) => keys::login_failures_user(hash),
            LoginLimitKey::Ip(ip) => keys::login_failures_ip(ip),
        }
    }
}

/// Failed-login limits: reserve a try before a password is checked.
pub trait LoginLimitStore {
    /// Reserves one of `max` tries for `key` in its current window of `window_ms`;
    /// `None` when all are taken (the login is blocked).
    fn reserve_login_try(
        &self,
        key: &LoginLimitKey,
        now: Millis,
        window_ms: i64,
        max: u32,
    ) -> impl Future<Output = Result<Option<Reservation>, StoreError>> + Send;
    /// Gives a reserved try back (the password was right, or it was never checked).
    fn release_login_try(
        &self,
        key: &LoginLimitKey,
        held: Reservation,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Forgets every counted failure of `key` (a successful login clears its username's).
    fn clear_login_failures(&self, key: &LoginLimitKey) -> impl Future<Output = Result<(), StoreError>> + Send;
}

impl LoginLimitStore for DynamoStore {
    async fn reserve_login_try(
        &self,
        key: &LoginLimitKey,
        now: Millis,
        window_ms: i64,
        max: u32,
    ) -> Result<Option<Reservation>, StoreError> {
        self.reserve_window_try(key.pk(), keys::LOGIN_FAILURES, now, window_ms, max).await
    }

    async fn release_login_try(&self, key: &LoginLimitKey, held: Reservation) -> Result<(), StoreError> {
        self.release_window_try(key.pk(), keys::LOGIN_FAILURES, held).await
    }

    async fn clear_login_failures(&self, key: &LoginLimitKey) -> Result<(), StoreError> {
        self.clear_window(key.pk(), keys::LOGIN_FAILURES).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_hold_no_raw_input() {
        assert_eq!(LoginLimitKey::user("Admin"), LoginLimitKey::user("admin"));
        assert_eq!(LoginLimitKey::user("admin").pk(), format!("LOGINFAIL#USER#{}", sha256_hex("admin")));
        assert_eq!(LoginLimitKey::ip(" 203.0.113.9 ").pk(), "LOGINFAIL#IP#203.0.113.9");
        assert_eq!(LoginLimitKey::ip("2001:DB8::1").pk(), "LOGINFAIL#IP#2001:db8::1");
        assert_eq!(LoginLimitKey::ip("not an ip#x").pk(), format!("LOGINFAIL#IP#{}", sha256_hex("not an ip#x")));
    }
}
