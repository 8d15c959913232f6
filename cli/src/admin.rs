//! Admin operations: create users, issue login tokens. The binary is a thin clap layer.

use sessions_api::Config;
use sessions_api::clock::{Millis, now_ms};
use sessions_api::ids::{hash_token, new_id, new_token, sha256_hex};
use sessions_api::model::{Device, Geo, Session, User};
use sessions_api::store::{SessionCreator, UserStore};

use crate::CliError;

/// A user to create.
#[derive(Clone, Debug, Default)]
pub struct NewUser {
    /// Fixed id (demo data); a random one otherwise.
    pub user_id: Option<String>,
    pub username: String,
    pub name: Option<String>,
    pub emails: Vec<String>,
    pub roles: Vec<String>,
    pub password: Option<String>,
}

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
    };
    store.create_user(&user).await?;
    Ok(user)
}

/// Where and on what a login happens.
#[derive(Clone, Debug, Default)]
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
}

/// A login the admin tool issued. The token is shown once to the operator, never stored.
#[derive(Clone, Debug)]
pub struct IssuedLogin {
    pub session: Session,
    pub token: String,
}

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
        expires_at: login_at.div_euclid(1000) + config.token_lifetime_secs,
        client_ids: spec.client_ids,
        geo: Geo::default(),
        user: user.as_ref(),
    };
    store.create_session(&session, &hash_token(&token)).await?;
    Ok(IssuedLogin { session, token })
}

/// Finds a user by id or by username.
pub async fn find_user(store: &impl UserStore, who: &str) -> Result<User, CliError> {
    if let Some(u) = store.user(who).await? {
        return Ok(u);
    }
    store.user_by_username(who).await?.ok_or_else(|| CliError::Usage(format!("no user with id or username {who:?}")))
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
