//! The tables the functions run against. The demo table holds the demo data (events/ are
//! valid against it) and goes back to its seeded state before every call, so a logout or a
//! revoke does its real work each time. A list table adds the benchmark's kind of data for
//! the list functions: the demo user's own 100 sessions (the benchmark's "a user with 100
//! sessions") and users of 100 sessions each on real User-Agents. Both have remembered the
//! demo administrator's 2FA step-up before the first measured call, as the benchmark has.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue, DeleteRequest, PutRequest, WriteRequest};
use serde_json::Value;
use sessions_api::core::clock::now_ms;
use sessions_api::core::device::parse_user_agent;
use sessions_api::core::ids::{hash_token, new_id, new_token};
use sessions_api::core::model::{Geo, Session, User};
use sessions_api::store::{DynamoStore, SessionBulkLoader, UserStore};
use sessions_api::{App, Config, Endpoint, runner};
use sessions_cli::admin::{NewUser, create_user};
use sessions_cli::demo::{TEST_USER_ID, USERS, seed};
use sessions_cli::table::{TableDefinition, create_table};

type Item = HashMap<String, AttributeValue>;
type Error = Box<dyn std::error::Error + Send + Sync>;

/// User-Agents of the list table's sessions (two of five Firefox, as list.all's filter event asks).
const USER_AGENTS: [&str; 5] = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
    "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:120.0) Gecko/20100101 Firefox/120.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Rocket.Chat/3.9.11 Chrome/114.0.5735.289 Electron/25.9.0 Safari/537.36",
];

/// Creates tables from template.yaml's definition with the measuring configuration.
pub struct Tables {
    pub client: Client,
    pub def: TableDefinition,
    pub config: Config,
    /// list.all's step-up: the info.admin event, whose 2FA success the token then remembers.
    pub step_up: Value,
}

/// The demo table and its seeded items, to go back to.
pub struct DemoTable {
    pub name: String,
    snapshot: Vec<Item>,
    keys: Vec<String>,
}

impl Tables {
    /// A new table with the demo data, the administrator's step-up remembered.
    async fn seeded(&self, prefix: &str) -> Result<Arc<App>, Error> {
        let name = format!("{prefix}-{}", new_id());
        create_table(&self.client, &name, &self.def).await?;
        let config = Config { table_name: name.clone(), ..self.config.clone() };
        let app = Arc::new(App::new(config.clone(), DynamoStore::new(self.client.clone(), &name)));
        seed(&app.store, &config, now_ms(), &indicatif::ProgressBar::hidden()).await?;
        let context = lambda_runtime::Context::default();
        let out = runner::invoke(app.clone(), Endpoint::SessionsInfoAdmin, self.step_up.clone(), context).await?;
        if out["statusCode"] != 200 {
            return Err(format!("the step-up answered {out}").into());
        }
        Ok(app)
    }

    /// The demo table, its seeded state kept for [`DemoTable::reset`].
    pub async fn demo(&self) -> Result<DemoTable, Error> {
        let app = self.seeded("memory-demo").await?;
        let name = app.store.table().to_string();
        let keys = self.def.key_schema.iter().map(|k| k.attribute_name.clone()).collect();
        Ok(DemoTable { snapshot: scan(&self.client, &name).await?, name, keys })
    }

    /// A list table with `sessions` sessions beside the demo data; its name and the table
    /// bytes (items and index entries) each loaded session added, where DynamoDB Local says.
    pub async fn list(&self, sessions: usize) -> Result<(String, Option<f64>), Error> {
        let app = self.seeded(&format!("memory-{sessions}")).await?;
        let before = table_bytes(&self.client, app.store.table()).await;
        let owner = app.store.user(TEST_USER_ID).await?.ok_or("no demo user")?;
        let demo_sessions = USERS.iter().find(|u| u.user_id == TEST_USER_ID).map_or(0, |u| u.sessions.len());
        let own = 100 - demo_sessions.min(100);
        load(&app, &owner, own, 0).await?;
        let bulk_config = Config { bcrypt_cost: 4, ..app.config.clone() };
        let mut tasks = tokio::task::JoinSet::new();
        for u in 0..sessions.div_ceil(100) {
            let new = NewUser {
                user_id: None,
                username: format!("bulk{u:06}"),
                name: Some(format!("Bulk User {u}")),
                emails: Vec::new(),
                roles: vec!["user".into()],
                password: Some(new_token()),
            };
            let user = create_user(&app.store, &bulk_config, new).await?;
            let (app, n) = (app.clone(), 100.min(sessions - u * 100));
            tasks.spawn(async move { load(&app, &user, n, u * 100).await });
            while tasks.len() >= 8 {
                tasks.join_next().await.ok_or("a task")???;
            }
        }
        while let Some(done) = tasks.join_next().await {
            done??;
        }
        let after = table_bytes(&self.client, app.store.table()).await;
        let per_session = before.zip(after).map(|(b, a)| (a - b) as f64 / (sessions + own) as f64);
        Ok((app.store.table().to_string(), per_session.filter(|b| *b > 0.0)))
    }
}

impl DemoTable {
    /// Puts the table back as seeded: deletes what calls added, writes back every seeded item.
    pub async fn reset(&self, client: &Client) -> Result<(), Error> {
        let key_of = |item: &Item| -> Vec<String> { self.keys.iter().map(|k| format!("{:?}", item.get(k))).collect() };
        let seeded: HashSet<Vec<String>> = self.snapshot.iter().map(key_of).collect();
        let mut writes: Vec<WriteRequest> = Vec::new();
        for item in scan(client, &self.name).await? {
            if !seeded.contains(&key_of(&item)) {
                let key: Item = self.keys.iter().filter_map(|k| item.get(k).map(|v| (k.clone(), v.clone()))).collect();
                writes.push(
                    WriteRequest::builder()
                        .delete_request(DeleteRequest::builder().set_key(Some(key)).build()?)
                        .build(),
                );
            }
        }
        for item in &self.snapshot {
            writes.push(
                WriteRequest::builder()
                    .put_request(PutRequest::builder().set_item(Some(item.clone())).build()?)
                    .build(),
            );
        }
        for chunk in writes.chunks(25) {
            let mut pending = HashMap::from([(self.name.clone(), chunk.to_vec())]);
            while !pending.is_empty() {
                let out = client.batch_write_item().set_request_items(Some(pending)).send().await?;
                pending =
                    out.unprocessed_items.unwrap_or_default().into_iter().filter(|(_, w)| !w.is_empty()).collect();
            }
        }
        Ok(())
    }
}

/// Every item of the table (consistent reads).
async fn scan(client: &Client, table: &str) -> Result<Vec<Item>, Error> {
    let mut items = Vec::new();
    let mut start = None;
    loop {
        let out = client.scan().table_name(table).consistent_read(true).set_exclusive_start_key(start).send().await?;
        items.extend(out.items.unwrap_or_default());
        match out.last_evaluated_key {
            Some(k) if !k.is_empty() => start = Some(k),
            _ => return Ok(items),
        }
    }
}

/// The table's and its indexes' bytes, as DescribeTable reports them.
async fn table_bytes(client: &Client, table: &str) -> Option<i64> {
    let t = client.describe_table().table_name(table).send().await.ok()?.table?;
    let indexes: i64 = t.global_secondary_indexes().iter().filter_map(|i| i.index_size_bytes).sum();
    Some(t.table_size_bytes? + indexes)
}

/// Loads `n` sessions of `user`, logins spread over the last 80 days, numbered from `first`.
async fn load(app: &App, user: &User, n: usize, first: usize) -> Result<(), Error> {
    let now = now_ms();
    let sessions: Vec<(Session, String)> = (first..first + n)
        .map(|i| {
            let ua = USER_AGENTS[i % USER_AGENTS.len()];
            let login_at = now - ((i as i64 * 7_919_333) % (80 * 86_400_000));
            let session = Session {
                session_id: new_id(),
                user_id: user.user_id.clone(),
                device: parse_user_agent(ua),
                host: "chat.example.com".into(),
                ip: format!("198.51.{}.{}", (i / 250) % 250, i % 250),
                user_agent: ua.into(),
                login_at,
                last_activity_at: login_at,
                last_use: None,
                risk: None,
                expires_at: login_at / 1000 + app.config.token_lifetime_secs,
                client_ids: Vec::new(),
                geo: Geo::default(),
                user: user.as_ref(),
            };
            (session, hash_token(&new_token()))
        })
        .collect();
    app.store.load_sessions(&sessions).await?;
    Ok(())
}
