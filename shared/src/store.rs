//! DynamoDB storage on one table (DESIGN.md "Storage").
//!
//! Each access pattern is a trait of its own, so a handler states the narrowest
//! interface it needs; [`DynamoStore`] implements them all.

use std::future::Future;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::{AttributeValue, Delete, Put, TransactWriteItem, Update};
use serde::{Deserialize, Serialize};

use crate::clock::{Millis, iso_millis, parse_iso};
use crate::model::{Device, Geo, Session, TokenRecord, User, UserRef};

/// Key shapes of the single-table design; the only place they are spelled.
pub mod keys {
    pub const PK: &str = "PK";
    pub const SK: &str = "SK";
    pub const PROFILE: &str = "PROFILE";
    pub const TOKEN: &str = "TOKEN";
    pub const USERNAME: &str = "USERNAME";
    pub const COUNTER: &str = "COUNTER";
    /// Partition of the counter of active sessions.
    pub const SESSION_COUNTER: &str = "COUNTER#sessions";
    /// Prefix of every session's sort key under its user.
    pub const SESSION_PREFIX: &str = "SESSION#";
    /// Constant partition of the global session-order index.
    pub const ALL_SESSIONS: &str = "SESSIONS";

    pub fn user(user_id: &str) -> String {
        format!("USER#{user_id}")
    }
    pub fn session(session_id: &str) -> String {
        format!("{SESSION_PREFIX}{session_id}")
    }
    pub fn token(token_hash: &str) -> String {
        format!("TOKEN#{token_hash}")
    }
    pub fn username(username: &str) -> String {
        format!("USERNAME#{}", username.to_lowercase())
    }
}

/// A storage failure. Messages never contain item contents.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("DynamoDB request failed: {0}")]
    Dynamo(String),
    #[error("stored item is malformed: {0}")]
    Corrupt(String),
    #[error("{0} already exists")]
    Conflict(String),
}

fn dynamo<E, R>(e: SdkError<E, R>) -> StoreError
where
    E: std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    StoreError::Dynamo(DisplayErrorContext(e).to_string())
}

/// Resolves a token hash to its record (authentication).
pub trait TokenStore {
    fn token(&self, token_hash: &str) -> impl Future<Output = Result<Option<TokenRecord>, StoreError>> + Send;
}

/// Reads one user's own sessions.
pub trait UserSessionReader {
    /// Every stored session of the user, expired ones included (the caller filters on expiry).
    fn user_sessions(&self, user_id: &str) -> impl Future<Output = Result<Vec<Session>, StoreError>> + Send;
    fn user_session(
        &self,
        user_id: &str,
        session_id: &str,
    ) -> impl Future<Output = Result<Option<Session>, StoreError>> + Send;
}

/// Ends sessions: the session, its token and its place in the counter go together.
pub trait SessionEnder {
    /// Ends a live session of `user_id`; `Ok(false)` when there is none to end.
    fn end_session(
        &self,
        user_id: &str,
        session_id: &str,
        now: Millis,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
}

/// Records a new session together with its token.
pub trait SessionCreator {
    fn create_session(
        &self,
        session: &Session,
        token_hash: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// User accounts.
pub trait UserStore {
    fn create_user(&self, user: &User) -> impl Future<Output = Result<(), StoreError>> + Send;
    fn user(&self, user_id: &str) -> impl Future<Output = Result<Option<User>, StoreError>> + Send;
    fn user_by_username(&self, username: &str) -> impl Future<Output = Result<Option<User>, StoreError>> + Send;
}

/// The DynamoDB implementation of every store trait.
#[derive(Clone, Debug)]
pub struct DynamoStore {
    client: Client,
    table: String,
}

impl DynamoStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        DynamoStore { client, table: table.into() }
    }

    /// A client from the default AWS configuration chain (region, credentials and
    /// `AWS_ENDPOINT_URL`, which points it at a local DynamoDB).
    pub async fn client_from_env() -> Client {
        let sdk = aws_config::load_from_env().await;
        Client::new(&sdk)
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    /// Active sessions as counted at write time (for list.all's `total`).
    pub async fn session_count(&self) -> Result<i64, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(keys::PK, s(keys::SESSION_COUNTER))
            .key(keys::SK, s(keys::COUNTER))
            .consistent_read(true)
            .send()
            .await
            .map_err(dynamo)?;
        Ok(out.item.and_then(|i| i.get("count").and_then(|v| v.as_n().ok()).and_then(|n| n.parse().ok())).unwrap_or(0))
    }

    fn counter_update(&self, delta: i64) -> Result<TransactWriteItem, StoreError> {
        let update = Update::builder()
            .table_name(&self.table)
            .key(keys::PK, s(keys::SESSION_COUNTER))
            .key(keys::SK, s(keys::COUNTER))
            .update_expression("ADD #c :d")
            .expression_attribute_names("#c", "count")
            .expression_attribute_values(":d", AttributeValue::N(delta.to_string()))
            .build()
            .map_err(|e| StoreError::Dynamo(e.to_string()))?;
        Ok(TransactWriteItem::builder().update(update).build())
    }

    async fn get(&self, pk: String, sk: &str) -> Result<Option<Item>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(keys::PK, s(pk))
            .key(keys::SK, s(sk))
            .consistent_read(true)
            .send()
            .await
            .map_err(dynamo)?;
        Ok(out.item)
    }

    async fn session_item(&self, user_id: &str, session_id: &str) -> Result<Option<SessionItem>, StoreError> {
        match self.get(keys::user(user_id), &keys::session(session_id)).await? {
            Some(item) => Ok(Some(from_item(item)?)),
            None => Ok(None),
        }
    }

    /// Writes `items` in one transaction; `Ok(false)` when a condition failed.
    async fn transact(&self, items: Vec<TransactWriteItem>) -> Result<bool, StoreError> {
        match self.client.transact_write_items().set_transact_items(Some(items)).send().await {
            Ok(_) => Ok(true),
            Err(e) => {
                let cancelled = e.as_service_error().is_some_and(|se| {
                    se.is_transaction_canceled_exception() || se.code() == Some("TransactionCanceledException")
                });
                if cancelled { Ok(false) } else { Err(dynamo(e)) }
            }
        }
    }
}

type Item = std::collections::HashMap<String, AttributeValue>;

fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

fn to_item<T: Serialize>(value: &T) -> Result<Item, StoreError> {
    serde_dynamo::to_item(value).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn from_item<T: for<'de> Deserialize<'de>>(item: Item) -> Result<T, StoreError> {
    serde_dynamo::from_item(item).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn put(table: &str, item: Item, condition_new: bool) -> Result<TransactWriteItem, StoreError> {
    let mut put = Put::builder().table_name(table).set_item(Some(item));
    if condition_new {
        put = put.condition_expression("attribute_not_exists(PK)");
    }
    let put = put.build().map_err(|e| StoreError::Dynamo(e.to_string()))?;
    Ok(TransactWriteItem::builder().put(put).build())
}

/// A session as stored: the domain fields plus keys, index attributes and its token's hash.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SessionItem {
    #[serde(rename = "PK")]
    pk: String,
    #[serde(rename = "SK")]
    sk: String,
    /// By-session-id index (info.admin, logout): `SESSION#<sessionId>`.
    #[serde(rename = "GSI1PK")]
    gsi1pk: String,
    /// Global order index (list.all): constant partition, `loginAt#sessionId` sort key.
    #[serde(rename = "GSI2PK")]
    gsi2pk: String,
    #[serde(rename = "GSI2SK")]
    gsi2sk: String,
    entity: String,
    session_id: String,
    user_id: String,
    device: Device,
    host: String,
    ip: String,
    user_agent: String,
    login_at: String,
    last_activity_at: String,
    expires_at: i64,
    #[serde(default)]
    client_ids: Vec<String>,
    #[serde(default)]
    geo: Geo,
    #[serde(rename = "_user")]
    user: UserRef,
    token_hash: String,
}

impl SessionItem {
    fn new(session: &Session, token_hash: &str) -> Self {
        let login_at = iso_millis(session.login_at);
        SessionItem {
            pk: keys::user(&session.user_id),
            sk: keys::session(&session.session_id),
            gsi1pk: keys::session(&session.session_id),
            gsi2pk: keys::ALL_SESSIONS.into(),
            gsi2sk: format!("{login_at}#{}", session.session_id),
            entity: "session".into(),
            session_id: session.session_id.clone(),
            user_id: session.user_id.clone(),
            device: session.device.clone(),
            host: session.host.clone(),
            ip: session.ip.clone(),
            user_agent: session.user_agent.clone(),
            login_at,
            last_activity_at: iso_millis(session.last_activity_at),
            expires_at: session.expires_at,
            client_ids: session.client_ids.clone(),
            geo: session.geo.clone(),
            user: session.user.clone(),
            token_hash: token_hash.into(),
        }
    }

    fn into_session(self) -> Result<Session, StoreError> {
        let time = |v: &str| {
            parse_iso(v).ok_or_else(|| StoreError::Corrupt(format!("bad time in session {}", self.session_id)))
        };
        Ok(Session {
            login_at: time(&self.login_at)?,
            last_activity_at: time(&self.last_activity_at)?,
            session_id: self.session_id,
            user_id: self.user_id,
            device: self.device,
            host: self.host,
            ip: self.ip,
            user_agent: self.user_agent,
            expires_at: self.expires_at,
            client_ids: self.client_ids,
            geo: self.geo,
            user: self.user,
        })
    }
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct TokenItem {
    #[serde(rename = "PK")]
    pk: String,
    #[serde(rename = "SK")]
    sk: String,
    entity: String,
    user_id: String,
    session_id: String,
    expires_at: i64,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct UserItem {
    #[serde(rename = "PK")]
    pk: String,
    #[serde(rename = "SK")]
    sk: String,
    entity: String,
    user_id: String,
    username: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(default)]
    emails: Vec<String>,
    #[serde(default)]
    roles: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    password_bcrypt: Option<String>,
    active: bool,
}

impl From<UserItem> for User {
    fn from(i: UserItem) -> Self {
        User {
            user_id: i.user_id,
            username: i.username,
            name: i.name,
            emails: i.emails,
            roles: i.roles,
            password_bcrypt: i.password_bcrypt,
            active: i.active,
        }
    }
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct UsernameItem {
    #[serde(rename = "PK")]
    pk: String,
    #[serde(rename = "SK")]
    sk: String,
    entity: String,
    user_id: String,
}

impl TokenStore for DynamoStore {
    async fn token(&self, token_hash: &str) -> Result<Option<TokenRecord>, StoreError> {
        let Some(item) = self.get(keys::token(token_hash), keys::TOKEN).await? else {
            return Ok(None);
        };
        let t: TokenItem = from_item(item)?;
        Ok(Some(TokenRecord {
            token_hash: token_hash.into(),
            user_id: t.user_id,
            session_id: t.session_id,
            expires_at: t.expires_at,
        }))
    }
}

impl UserSessionReader for DynamoStore {
    async fn user_sessions(&self, user_id: &str) -> Result<Vec<Session>, StoreError> {
        let mut sessions = Vec::new();
        let mut start = None;
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("PK = :pk AND begins_with(SK, :sk)")
                .expression_attribute_values(":pk", s(keys::user(user_id)))
                .expression_attribute_values(":sk", s(keys::SESSION_PREFIX))
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(dynamo)?;
            for item in out.items.unwrap_or_default() {
                sessions.push(from_item::<SessionItem>(item)?.into_session()?);
            }
            // Follow LastEvaluatedKey whenever present, even if the next page is empty.
            match out.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => break,
            }
        }
        Ok(sessions)
    }

    async fn user_session(&self, user_id: &str, session_id: &str) -> Result<Option<Session>, StoreError> {
        self.session_item(user_id, session_id).await?.map(SessionItem::into_session).transpose()
    }
}

impl SessionEnder for DynamoStore {
    async fn end_session(&self, user_id: &str, session_id: &str, now: Millis) -> Result<bool, StoreError> {
        let Some(item) = self.session_item(user_id, session_id).await? else {
            return Ok(false);
        };
        if item.expires_at.saturating_mul(1000) <= now {
            return Ok(false);
        }
        let delete_session = Delete::builder()
            .table_name(&self.table)
            .key(keys::PK, s(&item.pk))
            .key(keys::SK, s(&item.sk))
            .condition_expression("tokenHash = :h")
            .expression_attribute_values(":h", s(&item.token_hash))
            .build()
            .map_err(|e| StoreError::Dynamo(e.to_string()))?;
        let delete_token = Delete::builder()
            .table_name(&self.table)
            .key(keys::PK, s(keys::token(&item.token_hash)))
            .key(keys::SK, s(keys::TOKEN))
            .build()
            .map_err(|e| StoreError::Dynamo(e.to_string()))?;
        self.transact(vec![
            TransactWriteItem::builder().delete(delete_session).build(),
            TransactWriteItem::builder().delete(delete_token).build(),
            self.counter_update(-1)?,
        ])
        .await
    }
}

impl SessionCreator for DynamoStore {
    async fn create_session(&self, session: &Session, token_hash: &str) -> Result<(), StoreError> {
        let token = TokenItem {
            pk: keys::token(token_hash),
            sk: keys::TOKEN.into(),
            entity: "token".into(),
            user_id: session.user_id.clone(),
            session_id: session.session_id.clone(),
            expires_at: session.expires_at,
        };
        let written = self
            .transact(vec![
                put(&self.table, to_item(&SessionItem::new(session, token_hash))?, true)?,
                put(&self.table, to_item(&token)?, true)?,
                self.counter_update(1)?,
            ])
            .await?;
        if written { Ok(()) } else { Err(StoreError::Conflict(format!("session {}", session.session_id))) }
    }
}

impl UserStore for DynamoStore {
    async fn create_user(&self, user: &User) -> Result<(), StoreError> {
        let profile = UserItem {
            pk: keys::user(&user.user_id),
            sk: keys::PROFILE.into(),
            entity: "user".into(),
            user_id: user.user_id.clone(),
            username: user.username.clone(),
            name: user.name.clone(),
            emails: user.emails.clone(),
            roles: user.roles.clone(),
            password_bcrypt: user.password_bcrypt.clone(),
            active: user.active,
        };
        let username = UsernameItem {
            pk: keys::username(&user.username),
            sk: keys::USERNAME.into(),
            entity: "username".into(),
            user_id: user.user_id.clone(),
        };
        let written = self
            .transact(vec![put(&self.table, to_item(&profile)?, true)?, put(&self.table, to_item(&username)?, true)?])
            .await?;
        if written {
            Ok(())
        } else {
            Err(StoreError::Conflict(format!("user {} or username {}", user.user_id, user.username)))
        }
    }

    async fn user(&self, user_id: &str) -> Result<Option<User>, StoreError> {
        match self.get(keys::user(user_id), keys::PROFILE).await? {
            Some(item) => Ok(Some(from_item::<UserItem>(item)?.into())),
            None => Ok(None),
        }
    }

    async fn user_by_username(&self, username: &str) -> Result<Option<User>, StoreError> {
        let Some(item) = self.get(keys::username(username), keys::USERNAME).await? else {
            return Ok(None);
        };
        let link: UsernameItem = from_item(item)?;
        self.user(&link.user_id).await
    }
}
