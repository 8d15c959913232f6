//! The domain: users, sessions and login tokens, independent of wire and storage shapes.

use serde::{Deserialize, Serialize};

use crate::core::clock::Millis;
use crate::core::travel::Risk;

/// The device a session was opened from, as Rocket.Chat reports it.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(rename_all = "camelCase", default)]
pub struct Device {
    #[serde(rename = "type")]
    pub kind: String,
    pub name: String,
    pub long_version: String,
    pub os: Os,
    pub version: String,
}

/// Operating system of a [`Device`].
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(default)]
pub struct Os {
    pub name: String,
    pub version: String,
}

/// The owner of a session as shown to administrators (`_user`).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct UserRef {
    pub username: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// Where a session was opened, from CloudFront viewer headers when present.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(default)]
pub struct Geo {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latitude: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub longitude: Option<String>,
}

/// Where and how a session was last used: the address, User-Agent and location of the
/// newest recorded call (store::activity writes it at most once per activity interval).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(rename_all = "camelCase", default)]
pub struct LastUse {
    pub ip: String,
    pub user_agent: String,
    pub geo: Geo,
}

/// One login session of one user. It never carries its token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Session {
    pub session_id: String,
    pub user_id: String,
    pub device: Device,
    pub host: String,
    pub ip: String,
    pub user_agent: String,
    pub login_at: Millis,
    /// The newest recorded use (the login until a call records one).
    pub last_activity_at: Millis,
    /// Epoch seconds after which the session no longer exists (the table's TTL attribute).
    pub expires_at: i64,
    pub client_ids: Vec<String>,
    pub geo: Geo,
    pub user: UserRef,
    /// Address, User-Agent and location of the newest recorded use; `None` until a call
    /// after the login records one (the login's own are `ip`, `user_agent` and `geo`).
    pub last_use: Option<LastUse>,
    /// Set when the session was flagged (core::travel, from the table's stream).
    pub risk: Option<Risk>,
}

impl Session {
    /// A session whose expiry has come is treated as gone, whether or not TTL removed it yet.
    pub fn is_live(&self, now: Millis) -> bool {
        self.expires_at.saturating_mul(1000) > now
    }
}

/// A user account.
#[derive(Clone, PartialEq, Eq)]
pub struct User {
    pub user_id: String,
    pub username: String,
    pub name: Option<String>,
    pub emails: Vec<String>,
    pub roles: Vec<String>,
    /// bcrypt of the SHA-256 hex of the password, as Rocket.Chat stores it.
    pub password_bcrypt: Option<String>,
    pub active: bool,
    pub two_factor: TwoFactor,
}

/// A user's second factors. Secrets stay in the store; nothing here is ever shown.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct TwoFactor {
    /// Base32 TOTP secret, present when TOTP is enabled.
    pub totp_secret: Option<String>,
    /// Newest TOTP step accepted, so a code works only once.
    pub totp_last_step: i64,
    /// SHA-256 hex of the unused backup codes.
    pub backup_codes: Vec<String>,
    /// Email codes enabled (sent to the first email address).
    pub email: bool,
}

crate::debug_redacted!(User { user_id, username, name, emails, roles, active, two_factor } redacted { password_bcrypt });
crate::debug_redacted!(TwoFactor { totp_last_step, email } redacted { totp_secret, backup_codes });

impl User {
    /// How this user appears on a session (`_user`).
    pub fn as_ref(&self) -> UserRef {
        UserRef { username: self.username.clone(), name: self.name.clone() }
    }

    /// Whether signing in takes a second factor: TOTP, or email codes and an address to
    /// send them to (two_factor::available_methods lists them).
    pub fn has_second_factor(&self) -> bool {
        self.two_factor.totp_secret.is_some() || (self.two_factor.email && !self.emails.is_empty())
    }
}

/// What a login token resolves to. Looked up by the token's hash; the token itself is never stored.
#[derive(Clone, PartialEq, Eq)]
pub struct TokenRecord {
    pub token_hash: String,
    pub user_id: String,
    pub session_id: String,
    /// Epoch seconds.
    pub expires_at: i64,
    /// Until when (epoch ms) a 2FA success is trusted for this token, and for which client.
    pub two_factor_trusted_until: Option<Millis>,
    pub two_factor_fingerprint: Option<String>,
    /// When its session's activity was last recorded (epoch ms); `None` for tokens issued
    /// before activity was recorded.
    pub last_activity_at: Option<Millis>,
}

crate::debug_redacted!(TokenRecord { user_id, session_id, expires_at, two_factor_trusted_until, last_activity_at } redacted { token_hash, two_factor_fingerprint });

impl TokenRecord {
    pub fn is_live(&self, now: Millis) -> bool {
        self.expires_at.saturating_mul(1000) > now
    }
}

/// A back-end service's API key. Only the key's SHA-256 is stored.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey {
    pub key_hash: String,
    /// Short public id for listing and disabling.
    pub key_id: String,
    pub name: String,
    pub created_at: String,
    pub disabled: bool,
    /// What the key may do (core::scopes); `None` for a key from before scopes: everything.
    pub scopes: Option<Vec<crate::core::scopes::Scope>>,
}

impl ApiKey {
    pub fn allows(&self, scope: crate::core::scopes::Scope) -> bool {
        crate::core::scopes::allows(self.scopes.as_deref(), scope)
    }
}

crate::debug_redacted!(ApiKey { key_id, name, created_at, disabled, scopes } redacted { key_hash });
