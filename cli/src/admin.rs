//! Admin operations: create users, issue login tokens. The binary is a thin clap layer.

use sessions_api::Config;
use sessions_api::core::admin_log::{Unblocked, unblocked};
use sessions_api::core::clock::{Millis, now_ms};
use sessions_api::core::history::Actor;
use sessions_api::core::ids::{hash_token, new_id, new_token, sha256_hex};
use sessions_api::core::model::{ApiKey, Device, Geo, Session, TwoFactor, User};
use sessions_api::core::scopes::Scope;
use sessions_api::core::{permissions, totp};
use sessions_api::store::{
    AccountStatus, ApiKeyStore, AuditLogStore, LoginBlock, LoginLimitKey, LoginLimitStore, OutboxMessage, OutboxStore,
    PermissionStore, SessionCreator, UserAdmin, UserStore,
};

use crate::CliError;

/// A user to create.
#[derive(Clone, Default)]
pub struct NewUser {
    /// Fixed id (demo data); a random one otherwise.
    pub user_id: Option<String>,
    pub username: String,
    pub name: Option<String>,
    pub emails: Vec<String>,
    pub roles: Vec<String>,
    pub password: Option<String>,
}

sessions_api::debug_redacted!(NewUser { user_id, username, name, emails, roles } redacted { password });

/// Rocket.Chat usernames: letters, digits, `.`, `_`, `-`.
pub fn validate_username(username: &str) -> Result<(), CliError> {
    let ok = !username.is_empty()
        && username.len() <= 64
        && username.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(CliError::Usage(format!("invalid username {username:?}: use 1-64 letters, digits, '.', '_' or '-'")))
    }
}

/// Creates a user; the password is stored as bcrypt(sha256 hex), as Rocket.Chat does.
pub async fn create_user(store: &impl UserStore, config: &Config, new: NewUser) -> Result<User, CliError> {
    validate_username(&new.username)?;
    for e in &new.emails {
        if !e.contains('@') || e.len() > 254 {
            return Err(CliError::Usage(format!("invalid email {e:?}")));
        }
    }
    if new.name.as_ref().is_some_and(|n| n.chars().count() > 128) {
        return Err(CliError::Usage("a name must be at most 128 characters".into()));
    }
    if new.roles.iter().any(|r| r.is_empty() || r.contains(char::is_whitespace)) {
        return Err(CliError::Usage("roles must be non-empty words".into()));
    }
    let password_bcrypt = match &new.password {
        Some(p) if p.is_empty() => return Err(CliError::Usage("the password must not be empty".into())),
        Some(p) => {
            Some(bcrypt::hash(sha256_hex(p), config.bcrypt_cost).map_err(|e| CliError::Usage(format!("bcrypt: {e}")))?)
        }
        None => None,
    };
    let user = User {
        user_id: new.user_id.unwrap_or_else(new_id),
        username: new.username,
        name: new.name.filter(|n| !n.is_empty()),
        emails: new.emails,
        roles: if new.roles.is_empty() { vec!["user".into()] } else { new.roles },
        password_bcrypt,
        active: true,
        two_factor: Default::default(),
    };
    store.create_user(&user).await?;
    Ok(user)
}

/// Where and on what a login happens.
#[derive(Clone, Default)]
pub struct LoginSpec {
    pub device: Device,
    pub ip: String,
    pub host: String,
    pub user_agent: String,
    /// When the login happened; now if absent.
    pub login_at: Option<Millis>,
    /// Fixed session id (demo data); a random one otherwise.
    pub session_id: Option<String>,
    /// Fixed token (demo data); a fresh random one otherwise.
    pub token: Option<String>,
    pub client_ids: Vec<String>,
    pub geo: Geo,
}

sessions_api::debug_redacted!(LoginSpec { device, ip, host, user_agent, login_at, session_id, client_ids, geo } redacted { token });

/// A login the admin tool issued. The token is shown once to the operator, never stored.
#[derive(Clone)]
pub struct IssuedLogin {
    pub session: Session,
    pub token: String,
}

sessions_api::debug_redacted!(IssuedLogin { session } redacted { token });

/// Records a session for `user` and returns its token.
pub async fn issue_login(
    store: &impl SessionCreator,
    config: &Config,
    user: &User,
    spec: LoginSpec,
) -> Result<IssuedLogin, CliError> {
    let login_at = spec.login_at.unwrap_or_else(now_ms);
    let token = spec.token.unwrap_or_else(new_token);
    let session = Session {
        session_id: spec.session_id.unwrap_or_else(new_id),
        user_id: user.user_id.clone(),
        device: spec.device,
        host: spec.host,
        ip: spec.ip,
        user_agent: spec.user_agent,
        login_at,
        last_activity_at: login_at,
        last_use: None,
        risk: None,
        expires_at: login_at.div_euclid(1000) + config.token_lifetime_secs,
        client_ids: spec.client_ids,
        geo: spec.geo,
        user: user.as_ref(),
    };
    store.create_session(&session, &hash_token(&token), None).await?;
    Ok(IssuedLogin { session, token })
}

/// Finds a user by id or by username.
pub async fn find_user(store: &impl UserStore, who: &str) -> Result<User, CliError> {
    if let Some(u) = store.user(who).await? {
        return Ok(u);
    }
    store.user_by_username(who).await?.ok_or_else(|| CliError::Usage(format!("no user with id or username {who:?}")))
}

/// Writes each permission's default roles where the table has none yet.
pub async fn init_permissions(store: &impl PermissionStore) -> Result<usize, CliError> {
    let mut written = 0;
    for (permission, _) in permissions::DEFAULTS {
        if store.permission_roles(permission).await?.is_none() {
            store.set_permission_roles(permission, &permissions::default_roles(permission)).await?;
            written += 1;
        }
    }
    Ok(written)
}

/// Adds or removes a role; returns the user's roles after the change.
pub async fn change_role<S: UserStore + UserAdmin>(
    store: &S,
    who: &str,
    role: &str,
    grant: bool,
) -> Result<Vec<String>, CliError> {
    if role.is_empty() || role.contains(char::is_whitespace) {
        return Err(CliError::Usage(format!("invalid role {role:?}")));
    }
    let user = find_user(store, who).await?;
    let mut roles = user.roles.clone();
    roles.retain(|r| r != role);
    if grant {
        roles.push(role.to_string());
    }
    store.set_roles(&user.user_id, &roles).await?;
    Ok(roles)
}

/// Activates or deactivates a user (by username, email or id) on the same path as the API
/// (store::AccountStatus): deactivating sets the flag, then ends every session of the user
/// with reason "deactivated", so no token of the user works once it is, nor after an activation.
pub async fn set_user_active<S: UserStore + AccountStatus>(
    store: &S,
    who: &str,
    active: bool,
) -> Result<String, CliError> {
    let user = find_user(store, who).await?;
    store.set_account_active(&user.user_id, active, Actor::System, now_ms()).await?;
    Ok(user.user_id)
}

/// The account's failed-login block (docs/login-and-2fa.md#failed-logins): its user id and state.
pub async fn login_block_of<S: UserStore + LoginLimitStore>(
    store: &S,
    config: &Config,
    who: &str,
) -> Result<(String, LoginBlock), CliError> {
    let user = find_user(store, who).await?;
    let key = LoginLimitKey::Account(user.user_id.clone());
    let block = store.login_block(&key, now_ms(), config.login_limit_user()).await?;
    Ok((user.user_id, block))
}

/// Forgets the account's failed logins, as MonoCloud's `unblock` route does, with its audit
/// entry (actor the system).
pub async fn unblock_user<S: UserStore + LoginLimitStore + AuditLogStore>(
    store: &S,
    who: &str,
) -> Result<String, CliError> {
    let user = find_user(store, who).await?;
    let entry = unblocked(
        new_id(),
        now_ms().div_euclid(1000),
        &Actor::System,
        (&user.user_id, &user.username),
        &Unblocked::Account,
    );
    store.clear_login_failures(&LoginLimitKey::Account(user.user_id.clone())).await?;
    store.put_log(&entry).await?;
    Ok(user.user_id)
}

/// What enabling TOTP shows the operator once: the secret as a URI, and backup codes.
pub struct TotpEnrolment {
    pub otpauth_uri: String,
    pub backup_codes: Vec<String>,
}

/// Enables TOTP with a new secret (or `secret` for demo data) and ten new backup codes.
pub async fn enable_totp<S: UserStore + UserAdmin>(
    store: &S,
    who: &str,
    secret: Option<&str>,
) -> Result<TotpEnrolment, CliError> {
    let user = find_user(store, who).await?;
    let secret = match secret {
        Some(s) if totp::secret_len(s).is_some_and(|n| n >= 10) => s.to_string(),
        Some(_) => return Err(CliError::Usage("a TOTP secret must be base32 of at least 10 bytes".into())),
        None => totp::new_secret(),
    };
    let otpauth_uri = totp::otpauth_uri(&secret, &user.username, "Sessions API")
        .ok_or_else(|| CliError::Usage(format!("user {} cannot be named in an otpauth URI", user.username)))?;
    let backup_codes = totp::new_backup_codes();
    let tf = TwoFactor {
        totp_secret: Some(secret.clone()),
        totp_last_step: 0,
        backup_codes: backup_codes.iter().map(|c| sha256_hex(c)).collect(),
        email: user.two_factor.email,
    };
    store.set_two_factor(&user.user_id, &tf).await?;
    Ok(TotpEnrolment { otpauth_uri, backup_codes })
}

/// Turns email codes on or off (the code goes to the user's first address).
pub async fn set_email_two_factor<S: UserStore + UserAdmin>(
    store: &S,
    who: &str,
    enabled: bool,
) -> Result<(), CliError> {
    let user = find_user(store, who).await?;
    if enabled && user.emails.is_empty() {
        return Err(CliError::Usage(format!("user {} has no email address", user.username)));
    }
    let tf = TwoFactor { email: enabled, ..user.two_factor.clone() };
    store.set_two_factor(&user.user_id, &tf).await?;
    Ok(())
}

/// The user's current TOTP code.
pub async fn current_totp_code(
    store: &impl UserStore,
    who: &str,
    now: sessions_api::core::clock::Millis,
) -> Result<String, CliError> {
    let user = find_user(store, who).await?;
    user.two_factor
        .totp_secret
        .as_deref()
        .and_then(|secret| totp::code_at(secret, now.div_euclid(1000)))
        .ok_or_else(|| CliError::Usage(format!("user {} has no TOTP enabled (use enable-totp)", user.username)))
}

/// The newest messages of the local outbox.
pub async fn outbox(store: &impl OutboxStore, limit: usize) -> Result<Vec<OutboxMessage>, CliError> {
    Ok(store.outbox(limit).await?)
}

/// The TOTP URI as a QR code drawn with Unicode half blocks, for a terminal.
pub fn qr_for_terminal(uri: &str) -> String {
    match qrcode::QrCode::new(uri.as_bytes()) {
        Ok(code) => code
            .render::<qrcode::render::unicode::Dense1x2>()
            .dark_color(qrcode::render::unicode::Dense1x2::Light)
            .light_color(qrcode::render::unicode::Dense1x2::Dark)
            .build(),
        Err(e) => format!("(no QR code: {e})"),
    }
}

/// Creates an API key (or stores `key`, for demo data) holding `scopes`, every scope when
/// `None`; the key is returned once, only its SHA-256 is stored.
pub async fn create_api_key(
    store: &impl ApiKeyStore,
    name: &str,
    key: Option<&str>,
    scopes: Option<&[Scope]>,
    now: sessions_api::core::clock::Millis,
) -> Result<(ApiKey, String), CliError> {
    if name.trim().is_empty() || name.len() > 128 {
        return Err(CliError::Usage("an API key needs a name of 1-128 characters".into()));
    }
    let key = key.map(str::to_string).unwrap_or_else(|| format!("sk_{}", sessions_api::core::ids::new_token()));
    let record = ApiKey {
        key_hash: sha256_hex(&key),
        key_id: new_id(),
        name: name.trim().to_string(),
        created_at: sessions_api::core::clock::iso_millis(now),
        disabled: false,
        scopes: Some(scopes.unwrap_or(&Scope::ALL).to_vec()),
    };
    store.create_api_key(&record).await?;
    Ok((record, key))
}

/// Scope names as the admin tool takes them (`--scope sessions:read`), each known.
pub fn parse_scopes(names: &[String]) -> Result<Vec<Scope>, CliError> {
    let mut scopes = Vec::new();
    for name in names {
        let scope = Scope::parse(name.trim()).ok_or_else(|| {
            let known: Vec<&str> = Scope::ALL.iter().map(|s| s.name()).collect();
            CliError::Usage(format!("unknown scope {name:?}: one of {}", known.join(", ")))
        })?;
        if !scopes.contains(&scope) {
            scopes.push(scope);
        }
    }
    Ok(scopes)
}

/// Replaces the scopes of the key with this id.
pub async fn set_api_key_scopes(store: &impl ApiKeyStore, key_id: &str, scopes: &[Scope]) -> Result<ApiKey, CliError> {
    let key = api_key_by_id(store, key_id).await?;
    store.set_api_key_scopes(&key.key_hash, scopes).await?;
    Ok(ApiKey { scopes: Some(scopes.to_vec()), ..key })
}

async fn api_key_by_id(store: &impl ApiKeyStore, key_id: &str) -> Result<ApiKey, CliError> {
    store
        .api_keys()
        .await?
        .into_iter()
        .find(|k| k.key_id == key_id)
        .ok_or_else(|| CliError::Usage(format!("no API key with id {key_id:?} (see list-api-keys)")))
}

/// Disables the key with this id.
pub async fn disable_api_key(store: &impl ApiKeyStore, key_id: &str) -> Result<ApiKey, CliError> {
    let key = api_key_by_id(store, key_id).await?;
    store.set_api_key_disabled(&key.key_hash, true).await?;
    Ok(ApiKey { disabled: true, ..key })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames() {
        assert!(validate_username("test.test").is_ok());
        assert!(validate_username("user-0_x").is_ok());
        assert!(validate_username("").is_err());
        assert!(validate_username("a b").is_err());
        assert!(validate_username(&"a".repeat(65)).is_err());
    }
}
