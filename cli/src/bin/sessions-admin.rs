//! sessions-admin: runs a Sessions API installation from the terminal.
//!
//! Talks to the DynamoDB that the AWS environment points at (`AWS_ENDPOINT_URL` for a
//! local one) and the table named by `SESSIONS_TABLE`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use serde_json::json;
use sessions_api::core::clock::now_ms;
use sessions_api::core::model::{Device, Os};
use sessions_api::store::{ApiKeyStore, DynamoStore};
use sessions_api::{App, Config};
use sessions_cli::admin::{
    LoginSpec, NewUser, change_role, create_api_key, create_user, current_totp_code, disable_api_key, enable_totp,
    find_user, init_permissions, issue_login, login_block_of, outbox, parse_scopes, qr_for_terminal,
    set_api_key_scopes, set_email_two_factor, set_user_active, unblock_user,
};
use sessions_cli::table::{TableDefinition, create_table};
use sessions_cli::{CliError, demo, progress};

#[derive(Parser)]
#[command(name = "sessions-admin", version, about = "Administer a Sessions API table")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create the table as template.yaml defines it (no change if it exists).
    CreateTable {
        #[arg(long, default_value = "template.yaml")]
        template: PathBuf,
    },
    /// Create a user; prints its id.
    CreateUser {
        #[arg(long)]
        username: String,
        #[arg(long)]
        name: Option<String>,
        #[arg(long = "email")]
        emails: Vec<String>,
        /// Repeat for several roles (default: user).
        #[arg(long = "role")]
        roles: Vec<String>,
        /// Stored as bcrypt(sha256 hex). Prefer SESSIONS_ADMIN_PASSWORD to keep it out of `ps`.
        #[arg(long, env = "SESSIONS_ADMIN_PASSWORD", hide_env_values = true)]
        password: Option<String>,
    },
    /// Log a user in: records a session and prints its token once.
    Login(LoginArgs),
    /// Create the demo users and sessions of the seeds (local tables only).
    SeedDemo,
    /// Give a user a role (admin holds both device-management permissions).
    GrantRole {
        #[arg(long)]
        user: String,
        #[arg(long)]
        role: String,
    },
    /// Deactivate a user: every token of theirs gets 401 at once, and they cannot log in.
    DeactivateUser {
        #[arg(long)]
        user: String,
    },
    /// Activate a deactivated user again.
    ActivateUser {
        #[arg(long)]
        user: String,
    },
    /// Show a user's failed-login block: failures that count, the latest, and until when logins are refused.
    LoginBlock {
        #[arg(long)]
        user: String,
    },
    /// Clear a user's failed-login block (every name of the account); addresses keep theirs.
    UnblockUser {
        #[arg(long)]
        user: String,
    },
    /// Take a role from a user.
    RevokeRole {
        #[arg(long)]
        user: String,
        #[arg(long)]
        role: String,
    },
    /// Enable TOTP: prints the otpauth:// URI, a QR code and the backup codes, once.
    EnableTotp {
        #[arg(long)]
        user: String,
    },
    /// Print the user's current TOTP code.
    TotpCode {
        #[arg(long)]
        user: String,
    },
    /// Enable 2FA by email codes (sent to the user's first address).
    EnableEmail2fa {
        #[arg(long)]
        user: String,
    },
    /// Create an API key for the MonoCloud routes; prints the key once.
    CreateApiKey {
        #[arg(long)]
        name: String,
        /// A scope the key holds (repeatable): sessions:read, sessions:revoke, users:manage,
        /// logs:read. None given: every scope.
        #[arg(long = "scope")]
        scopes: Vec<String>,
    },
    /// Replace an API key's scopes (a key from before scopes has every one until this).
    SetApiKeyScopes {
        #[arg(long)]
        id: String,
        #[arg(long = "scope", required = true)]
        scopes: Vec<String>,
    },
    /// List API keys (ids, names, state; never the keys).
    ListApiKeys,
    /// Disable an API key by id.
    DisableApiKey {
        #[arg(long)]
        id: String,
    },
    /// Show the newest messages of the local mail outbox (MAILER=outbox).
    Outbox {
        #[arg(long, default_value_t = 10)]
        limit: usize,
    },
}

/// The session `login` records: whose, and the device and client it shows.
#[derive(clap::Args)]
struct LoginArgs {
    /// User id or username.
    #[arg(long)]
    user: String,
    #[arg(long, default_value = "browser")]
    device_type: String,
    #[arg(long, default_value = "Chrome")]
    device_name: String,
    #[arg(long, default_value = "120.0.0")]
    device_version: String,
    #[arg(long)]
    device_long_version: Option<String>,
    #[arg(long, default_value = "Linux")]
    os_name: String,
    #[arg(long, default_value = "")]
    os_version: String,
    #[arg(long, default_value = "127.0.0.1")]
    ip: String,
    #[arg(long, default_value = "localhost:9000")]
    host: String,
    #[arg(long, default_value = "")]
    user_agent: String,
}

/// `deactivate-user`, `activate-user`: one path with the API's (store::AccountStatus).
async fn print_set_active(store: &DynamoStore, user: &str, active: bool) -> Result<(), CliError> {
    let id = set_user_active(store, user, active).await?;
    println!("{}", json!({"user": user, "userId": id, "active": active}));
    Ok(())
}

/// `login-block`: the account's failed logins, times in ISO 8601.
async fn print_login_block(store: &DynamoStore, config: &Config, user: &str) -> Result<(), CliError> {
    let (id, block) = login_block_of(store, config, user).await?;
    let at = |ms: Option<i64>| ms.map(sessions_api::core::clock::iso_millis);
    let shown = json!({"user": user, "userId": id, "failures": block.failures,
                       "lastFailureAt": at(block.last_failure_at), "blockedUntil": at(block.blocked_until)});
    println!("{shown}");
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli.command).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sessions-admin: {e}");
            ExitCode::from(if matches!(e, CliError::Usage(_)) { 2 } else { 1 })
        }
    }
}

async fn run(command: Command) -> Result<(), CliError> {
    let app = App::from_env().await.map_err(|e| CliError::Usage(format!("configuration: {e}")))?;
    let (store, config): (&DynamoStore, &Config) = (&app.store, &app.config);
    match command {
        Command::CreateTable { template } => create_table_from(store, &template).await?,
        Command::CreateUser { username, name, emails, roles, password } => {
            let user =
                create_user(store, config, NewUser { user_id: None, username, name, emails, roles, password }).await?;
            println!("{}", json!({"userId": user.user_id, "username": user.username, "roles": user.roles}));
        }
        Command::Login(args) => log_in(store, config, args).await?,
        Command::SeedDemo => seed_demo(store, config).await?,
        Command::GrantRole { user, role } => {
            let roles = change_role(store, &user, &role, true).await?;
            println!("{}", json!({"user": user, "roles": roles}));
        }
        Command::DeactivateUser { user } => print_set_active(store, &user, false).await?,
        Command::ActivateUser { user } => print_set_active(store, &user, true).await?,
        Command::LoginBlock { user } => print_login_block(store, config, &user).await?,
        Command::UnblockUser { user } => {
            println!("{}", json!({"user": user, "userId": unblock_user(store, &user).await?, "unblocked": true}))
        }
        Command::RevokeRole { user, role } => {
            let roles = change_role(store, &user, &role, false).await?;
            println!("{}", json!({"user": user, "roles": roles}));
        }
        Command::EnableTotp { user } => print_totp_enrolment(store, &user).await?,
        Command::TotpCode { user } => println!("{}", current_totp_code(store, &user, now_ms()).await?),
        Command::EnableEmail2fa { user } => {
            set_email_two_factor(store, &user, true).await?;
            println!("email 2FA enabled for {user}");
        }
        Command::CreateApiKey { name, scopes } => {
            let scopes = if scopes.is_empty() { None } else { Some(parse_scopes(&scopes)?) };
            let (key, secret) = create_api_key(store, &name, None, scopes.as_deref(), now_ms()).await?;
            println!("{}", json!({"id": key.key_id, "name": key.name, "scopes": scope_names(&key), "apiKey": secret}));
            eprintln!("Keep the key now: only its SHA-256 is stored.");
        }
        Command::ListApiKeys => list_api_keys(store).await?,
        Command::SetApiKeyScopes { id, scopes } => {
            let key = set_api_key_scopes(store, &id, &parse_scopes(&scopes)?).await?;
            println!("{}", json!({"id": key.key_id, "name": key.name, "scopes": scope_names(&key)}));
        }
        Command::DisableApiKey { id } => {
            let key = disable_api_key(store, &id).await?;
            println!("API key {} ({}) disabled", key.key_id, key.name);
        }
        Command::Outbox { limit } => {
            for m in outbox(store, limit).await? {
                println!("{}  to {}  {}\n{}\n", m.sent_at, m.to, m.subject, m.body);
            }
        }
    }
    Ok(())
}

/// `create-table`: the table of the template, and the default permissions.
async fn create_table_from(store: &DynamoStore, template: &Path) -> Result<(), CliError> {
    let def = TableDefinition::from_template(template)?;
    let created = create_table(store.client(), store.table(), &def).await?;
    println!("table {} {}", store.table(), if created { "created" } else { "already exists" });
    let written = init_permissions(store).await?;
    if written > 0 {
        println!("default permissions written ({written})");
    }
    Ok(())
}

/// `login`: a session for the user, with the device given; prints its token once.
async fn log_in(store: &DynamoStore, config: &Config, args: LoginArgs) -> Result<(), CliError> {
    let user = find_user(store, &args.user).await?;
    let device = Device {
        kind: args.device_type,
        name: args.device_name,
        long_version: args.device_long_version.unwrap_or_else(|| args.device_version.clone()),
        os: Os { name: args.os_name, version: args.os_version },
        version: args.device_version,
    };
    let spec = LoginSpec { device, ip: args.ip, host: args.host, user_agent: args.user_agent, ..Default::default() };
    let login = issue_login(store, config, &user, spec).await?;
    println!("{}", json!({"userId": user.user_id, "authToken": login.token, "sessionId": login.session.session_id}));
    Ok(())
}

/// `seed-demo`: the demo users and sessions (local tables only).
async fn seed_demo(store: &DynamoStore, config: &Config) -> Result<(), CliError> {
    // Written exactly where the check looked, not wherever the provider chain resolves.
    let store = &store.pinned_to(&demo::local_endpoint(|name| std::env::var(name).ok())?);
    let progress = progress::bar("seeding");
    let seeded = demo::seed(store, config, now_ms(), &progress).await;
    progress.finish_and_clear();
    let n = seeded?;
    println!("seeded {} users and {n} sessions into {}", demo::USERS.len(), store.table());
    Ok(())
}

/// `enable-totp`: the otpauth:// URI as a QR code and as text, and the backup codes, once.
async fn print_totp_enrolment(store: &DynamoStore, user: &str) -> Result<(), CliError> {
    let enrolment = enable_totp(store, user, None).await?;
    println!("Scan this with an authenticator app, or enter the URI:\n");
    println!("{}", qr_for_terminal(&enrolment.otpauth_uri));
    println!("{}\n", enrolment.otpauth_uri);
    println!("Backup codes (each works once; they are not shown again):");
    for code in enrolment.backup_codes {
        println!("  {code}");
    }
    Ok(())
}

/// `list-api-keys`: ids, names and state, never the keys.
async fn list_api_keys(store: &DynamoStore) -> Result<(), CliError> {
    for k in store.api_keys().await? {
        let scopes = scope_names(&k);
        println!(
            "{}",
            json!({"id": k.key_id, "name": k.name, "createdAt": k.created_at, "disabled": k.disabled, "scopes": scopes})
        );
    }
    Ok(())
}

/// A key's scope names; `null` for a key from before scopes (every scope).
fn scope_names(key: &sessions_api::core::model::ApiKey) -> Option<Vec<&'static str>> {
    key.scopes.as_ref().map(|s| s.iter().map(|s| s.name()).collect())
}
