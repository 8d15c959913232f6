//! sessions-admin: runs a Sessions API installation from the terminal.
//!
//! Talks to the DynamoDB that the AWS environment points at (`AWS_ENDPOINT_URL` for a
//! local one) and the table named by `SESSIONS_TABLE`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use serde_json::json;
use sessions_api::model::{Device, Os};
use sessions_api::store::DynamoStore;
use sessions_api::{App, Config};
use sessions_cli::admin::{LoginSpec, NewUser, create_user, find_user, issue_login};
use sessions_cli::table::{TableDefinition, create_table};
use sessions_cli::{CliError, demo};

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
    Login {
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
    },
    /// Create the demo users and sessions of the seeds (local tables only).
    SeedDemo,
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
        Command::CreateTable { template } => {
            let def = TableDefinition::from_template(&template)?;
            let created = create_table(store.client(), store.table(), &def).await?;
            println!("table {} {}", store.table(), if created { "created" } else { "already exists" });
        }
        Command::CreateUser { username, name, emails, roles, password } => {
            let user =
                create_user(store, config, NewUser { user_id: None, username, name, emails, roles, password }).await?;
            println!("{}", json!({"userId": user.user_id, "username": user.username, "roles": user.roles}));
        }
        Command::Login {
            user,
            device_type,
            device_name,
            device_version,
            device_long_version,
            os_name,
            os_version,
            ip,
            host,
            user_agent,
        } => {
            let user = find_user(store, &user).await?;
            let device = Device {
                kind: device_type,
                name: device_name,
                long_version: device_long_version.unwrap_or_else(|| device_version.clone()),
                os: Os { name: os_name, version: os_version },
                version: device_version,
            };
            let spec = LoginSpec { device, ip, host, user_agent, ..Default::default() };
            let login = issue_login(store, config, &user, spec).await?;
            println!(
                "{}",
                json!({"userId": user.user_id, "authToken": login.token, "sessionId": login.session.session_id})
            );
        }
        Command::SeedDemo => {
            let n = demo::seed(store, config, sessions_api::clock::now_ms()).await?;
            println!("seeded {} users and {n} sessions into {}", demo::USERS.len(), store.table());
        }
    }
    Ok(())
}
