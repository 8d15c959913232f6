//! The soak's own accounts, written with the admin tool's functions (`sessions_cli::admin`)
//! on the local table: users who log in, accounts that only ever get wrong passwords,
//! administrators with TOTP, and an API key. Every password, TOTP secret, token and the key
//! is random, made here and kept in memory only: nothing prints one.

use sessions_api::Config;
use sessions_api::core::clock::now_ms;
use sessions_api::core::ids::new_token;
use sessions_api::core::model::{Device, Os};
use sessions_api::core::scopes::Scope;
use sessions_api::core::totp;
use sessions_api::store::DynamoStore;
use sessions_cli::CliError;
use sessions_cli::admin::{LoginSpec, NewUser, create_api_key, create_user, enable_totp, issue_login};

/// An account and its password.
pub struct Account {
    pub user_id: String,
    pub username: String,
    pub password: String,
}

sessions_api::debug_redacted!(Account { user_id, username } redacted { password });

/// An administrator with TOTP and one token, issued as `sessions-admin login` issues it
/// (a TOTP user's login over HTTP needs a code, and each 30-second code works once).
pub struct Admin {
    pub account: Account,
    pub token: String,
    pub secret: String,
}

sessions_api::debug_redacted!(Admin { account } redacted { token, secret });

impl Admin {
    /// The TOTP code of the step holding `unix_secs`.
    pub fn code_at(&self, unix_secs: i64) -> String {
        totp::code_at(&self.secret, unix_secs).unwrap_or_default()
    }

    /// A code no step around `unix_secs` accepts: the right code plus one, wrapped.
    pub fn wrong_code(&self, unix_secs: i64) -> String {
        let near: Vec<String> = (-1..=1).map(|s| self.code_at(unix_secs + s * totp::STEP_SECS as i64)).collect();
        (1..)
            .map(|k: u32| format!("{:06}", (near[1].parse::<u32>().unwrap_or(0) + k) % 1_000_000))
            .find(|c| !near.contains(c))
            .unwrap_or_default()
    }
}

/// Everything the clients sign in with.
#[derive(Debug)]
pub struct Fixture {
    /// Users who log in (one per `clients_per_user` clients).
    pub users: Vec<Account>,
    /// Accounts that only ever get wrong passwords, so their failed-login counters see
    /// failures alone.
    pub victims: Vec<Account>,
    /// Administrators with TOTP that only ever get wrong codes.
    pub wrong_code: Vec<Admin>,
    /// The administrator whose list.all and sessions/logout calls every client shares.
    pub admin: Admin,
    pub api_key: ApiKey,
}

/// The MonoCloud API key (sessions:read and sessions:revoke).
pub struct ApiKey(pub String);

impl std::fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ApiKey(<redacted>)")
    }
}

/// How many of each: users for `clients / per_user` clients, one victim and one
/// wrong-code administrator per ten clients.
pub fn sizes(clients: usize, per_user: usize) -> (usize, usize) {
    (clients.div_ceil(per_user.max(1)), clients.div_ceil(10))
}

/// Creates the accounts and the key on the table `store` is pinned to.
pub async fn prepare(
    store: &DynamoStore,
    config: &Config,
    clients: usize,
    per_user: usize,
) -> Result<Fixture, CliError> {
    let (n_users, n_other) = sizes(clients, per_user);
    let mut users = Vec::new();
    for i in 1..=n_users {
        users.push(account(store, config, &format!("soak-user-{i:03}"), "user").await?);
    }
    let mut victims = Vec::new();
    for i in 1..=n_other {
        victims.push(account(store, config, &format!("soak-victim-{i:03}"), "user").await?);
    }
    let mut wrong_code = Vec::new();
    for i in 1..=n_other {
        wrong_code.push(admin(store, config, &format!("soak-2fa-{i:03}")).await?);
    }
    let admin = admin(store, config, "soak-admin").await?;
    let scopes = [Scope::ReadSessions, Scope::RevokeSessions];
    let (_, key) = create_api_key(store, "sessions-soak", None, Some(&scopes), now_ms()).await?;
    Ok(Fixture { users, victims, wrong_code, admin, api_key: ApiKey(key) })
}

async fn account(store: &DynamoStore, config: &Config, username: &str, role: &str) -> Result<Account, CliError> {
    let password = new_token();
    let new = NewUser {
        username: username.into(),
        name: Some(format!("Soak {username}")),
        emails: vec![format!("{username}@example.com")],
        roles: vec![role.into()],
        password: Some(password.clone()),
        ..Default::default()
    };
    let user = create_user(store, config, new).await?;
    Ok(Account { user_id: user.user_id, username: user.username, password })
}

/// An administrator with a fresh TOTP secret and one token.
async fn admin(store: &DynamoStore, config: &Config, username: &str) -> Result<Admin, CliError> {
    let account = account(store, config, username, "admin").await?;
    let secret = totp::new_secret();
    enable_totp(store, &account.user_id, Some(&secret)).await?;
    let user = sessions_cli::admin::find_user(store, &account.user_id).await?;
    let device = Device {
        kind: "browser".into(),
        name: "Firefox".into(),
        long_version: "128.0".into(),
        os: Os { name: "Linux".into(), version: String::new() },
        version: "128.0".into(),
    };
    let spec = LoginSpec {
        device,
        ip: crate::client::ADMIN_ADDRESS.into(),
        host: "127.0.0.1".into(),
        user_agent: crate::client::ADMIN_AGENT.into(),
        ..Default::default()
    };
    let issued = issue_login(store, config, &user, spec).await?;
    Ok(Admin { account, token: issued.token, secret })
}
