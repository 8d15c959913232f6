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
use crate::model::{ApiKey, Device, Geo, Session, TokenRecord, TwoFactor, User, UserRef};
use crate::query::{Direction, SortKey};

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
    pub fn email(email: &str) -> String {
        format!("EMAIL#{}", email.to_lowercase())
    }
    pub const EMAIL: &str = "EMAIL";
    pub fn permission(id: &str) -> String {
        format!("PERMISSION#{id}")
    }
    pub const PERMISSION: &str = "PERMISSION";
    /// Under a user: the window of wrong 2FA codes, and the pending email code.
    pub const TWO_FACTOR_FAILURES: &str = "TWOFACTOR#FAILURES";
    pub const TWO_FACTOR_EMAIL: &str = "TWOFACTOR#EMAIL";
    /// Partition of the local mail outbox.
    pub const OUTBOX: &str = "OUTBOX";
    pub const SESSION_ID_INDEX: &str = "BySessionId";
    pub const APIKEY: &str = "APIKEY";
    pub fn api_key(hash: &str) -> String {
        format!("APIKEY#{hash}")
    }

    /// The index holding every session in `key` order, and its sort-key attribute.
    pub fn order_index(key: super::SortKey) -> (&'static str, &'static str) {
        use super::SortKey::*;
        match key {
            LoginAt => ("ByLoginAt", "GSI2SK"),
            DeviceName => ("ByDeviceName", "GSI3SK"),
            DeviceOsName => ("ByOsName", "GSI4SK"),
            DeviceOsVersion => ("ByOsVersion", "GSI5SK"),
            UserName => ("ByUserName", "GSI6SK"),
            UserUsername => ("ByUsername", "GSI7SK"),
        }
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
    fn user_by_email(&self, email: &str) -> impl Future<Output = Result<Option<User>, StoreError>> + Send;
}

/// The DynamoDB implementation of every store trait.
#[derive(Clone, Debug)]
pub struct DynamoStore {
    client: Client,
    table: String,
    /// Items DynamoDB read for index queries (its ScannedCount), for tests and benchmarks.
    index_items_read: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl DynamoStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        DynamoStore { client, table: table.into(), index_items_read: Default::default() }
    }

    /// Items read by index queries so far (list.all pages and full reads).
    pub fn index_items_read(&self) -> u64 {
        self.index_items_read.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// A client from the default AWS configuration chain (region, credentials and
    /// `AWS_ENDPOINT_URL`, which points it at a local DynamoDB).
    pub async fn client_from_env() -> Client {
        let sdk = aws_config::load_from_env().await;
        Client::new(&sdk)
    }

    /// An UpdateItem on one item of the table.
    fn update_key(
        &self,
        pk: impl Into<String>,
        sk: &str,
    ) -> aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder {
        self.client.update_item().table_name(&self.table).key(keys::PK, s(pk)).key(keys::SK, s(sk))
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

    /// Adds `delta` to the active-session counter (the TTL stream consumer uses it).
    pub async fn adjust_session_count(&self, delta: i64) -> Result<(), StoreError> {
        self.update_key(keys::SESSION_COUNTER, keys::COUNTER)
            .update_expression("ADD #c :d")
            .expression_attribute_names("#c", "count")
            .expression_attribute_values(":d", n(delta))
            .send()
            .await
            .map_err(dynamo)?;
        Ok(())
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
    #[serde(rename = "GSI3SK")]
    gsi3sk: String,
    #[serde(rename = "GSI4SK")]
    gsi4sk: String,
    #[serde(rename = "GSI5SK")]
    gsi5sk: String,
    #[serde(rename = "GSI6SK")]
    gsi6sk: String,
    #[serde(rename = "GSI7SK")]
    gsi7sk: String,
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
            gsi3sk: ordered(&session.device.name, &session.session_id),
            gsi4sk: ordered(&session.device.os.name, &session.session_id),
            gsi5sk: ordered(&session.device.os.version, &session.session_id),
            gsi6sk: ordered(session.user.name.as_deref().unwrap_or(""), &session.session_id),
            gsi7sk: ordered(&session.user.username, &session.session_id),
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

/// Index sort key `<value>\u{1}<sessionId>`: orders by value, then sessionId, as the
/// in-memory sort does (control characters, which could sort below the separator, are dropped).
fn ordered(value: &str, session_id: &str) -> String {
    // Index keys are at most 1024 bytes: 200 characters of value keep any UTF-8 under it.
    let clean: String = value.chars().filter(|c| !c.is_control()).take(200).collect();
    format!("{clean}\u{1}{session_id}")
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
    #[serde(default, skip_serializing_if = "Option::is_none")]
    two_factor_trusted_until: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    two_factor_fingerprint: Option<String>,
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
    #[serde(default, skip_serializing_if = "Option::is_none")]
    totp_secret: Option<String>,
    #[serde(default)]
    totp_last_step: i64,
    /// Unused backup codes as a map keyed by hash, so one can be removed atomically.
    #[serde(default)]
    backup_codes: std::collections::BTreeMap<String, bool>,
    #[serde(default)]
    email_two_factor: bool,
}

impl From<UserItem> for User {
    fn from(i: UserItem) -> Self {
        User {
            two_factor: TwoFactor {
                totp_secret: i.totp_secret,
                totp_last_step: i.totp_last_step,
                backup_codes: i.backup_codes.into_keys().collect(),
                email: i.email_two_factor,
            },
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

/// A lookup key pointing at a user: `USERNAME#<lower>` or `EMAIL#<lower>`.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct LinkItem {
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
            two_factor_trusted_until: t.two_factor_trusted_until,
            two_factor_fingerprint: t.two_factor_fingerprint,
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
            two_factor_trusted_until: None,
            two_factor_fingerprint: None,
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
            totp_secret: user.two_factor.totp_secret.clone(),
            totp_last_step: user.two_factor.totp_last_step,
            backup_codes: user.two_factor.backup_codes.iter().map(|h| (h.clone(), true)).collect(),
            email_two_factor: user.two_factor.email,
        };
        let username = LinkItem {
            pk: keys::username(&user.username),
            sk: keys::USERNAME.into(),
            entity: "username".into(),
            user_id: user.user_id.clone(),
        };
        let mut items = vec![put(&self.table, to_item(&profile)?, true)?, put(&self.table, to_item(&username)?, true)?];
        for email in &user.emails {
            let link = LinkItem {
                pk: keys::email(email),
                sk: keys::EMAIL.into(),
                entity: "email".into(),
                user_id: user.user_id.clone(),
            };
            items.push(put(&self.table, to_item(&link)?, true)?);
        }
        let written = self.transact(items).await?;
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
        let link: LinkItem = from_item(item)?;
        self.user(&link.user_id).await
    }

    async fn user_by_email(&self, email: &str) -> Result<Option<User>, StoreError> {
        let Some(item) = self.get(keys::email(email), keys::EMAIL).await? else {
            return Ok(None);
        };
        let link: LinkItem = from_item(item)?;
        self.user(&link.user_id).await
    }
}

/// Every user's sessions, for administrators.
pub trait AllSessionsReader {
    /// Live sessions in `key` order from its index: skips `offset` live rows, returns up
    /// to `count`, reading O(offset + count) items.
    fn sessions_page(
        &self,
        key: SortKey,
        direction: Direction,
        offset: usize,
        count: usize,
        now: Millis,
    ) -> impl Future<Output = Result<Vec<Session>, StoreError>> + Send;
    /// Every live session (for filters and multi-key sorts), at most `limit`.
    fn all_sessions(&self, now: Millis, limit: usize) -> impl Future<Output = Result<Vec<Session>, StoreError>> + Send;
    /// Active sessions as counted at write time.
    fn active_session_count(&self) -> impl Future<Output = Result<usize, StoreError>> + Send;
    /// Any user's session by id.
    fn session_by_id(&self, session_id: &str) -> impl Future<Output = Result<Option<Session>, StoreError>> + Send;
}

/// Which roles hold a permission.
pub trait PermissionStore {
    /// The stored roles, or `None` when the permission has no item (defaults apply).
    fn permission_roles(&self, id: &str) -> impl Future<Output = Result<Option<Vec<String>>, StoreError>> + Send;
    fn set_permission_roles(&self, id: &str, roles: &[String]) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// A pending email code (hash only).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EmailCode {
    pub code_hash: String,
    pub expires_at: Millis,
    pub attempts: u32,
}

/// State of two-factor checks: wrong-code windows, one-time use, email codes, trust.
pub trait TwoFactorStore {
    /// Wrong codes in the window that started at most `window_ms` before `now`.
    fn failures(
        &self,
        user_id: &str,
        now: Millis,
        window_ms: i64,
    ) -> impl Future<Output = Result<u32, StoreError>> + Send;
    /// Counts a wrong code; returns the count in the current window.
    fn record_failure(
        &self,
        user_id: &str,
        now: Millis,
        window_ms: i64,
    ) -> impl Future<Output = Result<u32, StoreError>> + Send;
    /// Marks a TOTP step used; false if it (or a later one) already was (replay).
    fn use_totp_step(&self, user_id: &str, step: i64) -> impl Future<Output = Result<bool, StoreError>> + Send;
    /// Removes a backup code; false if it was not there.
    fn use_backup_code(&self, user_id: &str, code_hash: &str) -> impl Future<Output = Result<bool, StoreError>> + Send;
    fn put_email_code(&self, user_id: &str, code: &EmailCode) -> impl Future<Output = Result<(), StoreError>> + Send;
    fn email_code(&self, user_id: &str) -> impl Future<Output = Result<Option<EmailCode>, StoreError>> + Send;
    fn email_code_failed(&self, user_id: &str) -> impl Future<Output = Result<(), StoreError>> + Send;
    fn delete_email_code(&self, user_id: &str) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Trusts a token for 2FA until `until`, for one client fingerprint.
    fn trust_token(
        &self,
        token_hash: &str,
        until: Millis,
        fingerprint: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// A message the local mailer kept instead of sending.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OutboxMessage {
    pub to: String,
    pub subject: String,
    pub body: String,
    pub sent_at: String,
}

/// The local mail outbox.
pub trait OutboxStore {
    fn put_outbox(&self, message: &OutboxMessage) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Newest first.
    fn outbox(&self, limit: usize) -> impl Future<Output = Result<Vec<OutboxMessage>, StoreError>> + Send;
}

/// Changes to existing users (admin tool).
pub trait UserAdmin {
    fn set_roles(&self, user_id: &str, roles: &[String]) -> impl Future<Output = Result<(), StoreError>> + Send;
    fn set_two_factor(
        &self,
        user_id: &str,
        two_factor: &TwoFactor,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

fn num(item: &Item, name: &str) -> i64 {
    item.get(name).and_then(|v| v.as_n().ok()).and_then(|v| v.parse().ok()).unwrap_or(0)
}

fn conditional_failed<E: ProvideErrorMetadata>(e: &E) -> bool {
    e.code() == Some("ConditionalCheckFailedException")
}

/// The outcome of a conditional write: `Ok(true)` done, `Ok(false)` its condition failed.
fn conditional<T, E, R>(result: Result<T, SdkError<E, R>>) -> Result<bool, StoreError>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    match result {
        Ok(_) => Ok(true),
        Err(e) if e.as_service_error().is_some_and(conditional_failed) => Ok(false),
        Err(e) => Err(dynamo(e)),
    }
}

impl DynamoStore {
    /// Streams sessions from an order index to `keep` until it returns false. `wanted`
    /// caps each page's Limit at the rows still needed, so a page reads what it uses.
    async fn sessions_from_index(
        &self,
        index: &str,
        forward: bool,
        wanted: Option<usize>,
        mut keep: impl FnMut(Session) -> bool,
    ) -> Result<(), StoreError> {
        let mut start = None;
        let mut delivered = 0usize;
        loop {
            let limit = wanted.map(|w| w.saturating_sub(delivered).clamp(1, 1000) as i32);
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(index)
                .key_condition_expression("GSI2PK = :p")
                .expression_attribute_values(":p", s(keys::ALL_SESSIONS))
                .scan_index_forward(forward)
                .set_limit(limit)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(dynamo)?;
            self.index_items_read.fetch_add(out.scanned_count.max(0) as u64, std::sync::atomic::Ordering::Relaxed);
            for item in out.items.unwrap_or_default() {
                delivered += 1;
                if !keep(from_item::<SessionItem>(item)?.into_session()?) {
                    return Ok(());
                }
            }
            // DynamoDB may return a LastEvaluatedKey before an empty page; moto may omit it
            // when the page ends exactly: both end the loop correctly.
            match out.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => return Ok(()),
            }
        }
    }
}

impl AllSessionsReader for DynamoStore {
    async fn sessions_page(
        &self,
        key: SortKey,
        direction: Direction,
        offset: usize,
        count: usize,
        now: Millis,
    ) -> Result<Vec<Session>, StoreError> {
        let mut page = Vec::with_capacity(count.min(1000));
        if count == 0 {
            return Ok(page);
        }
        let (index, _) = keys::order_index(key);
        let mut skipped = 0;
        let wanted = offset.saturating_add(count);
        self.sessions_from_index(index, direction == Direction::Ascending, Some(wanted), |s| {
            if !s.is_live(now) {
                return true;
            }
            if skipped < offset {
                skipped += 1;
                return true;
            }
            page.push(s);
            page.len() < count
        })
        .await?;
        Ok(page)
    }

    async fn all_sessions(&self, now: Millis, limit: usize) -> Result<Vec<Session>, StoreError> {
        let mut all = Vec::new();
        self.sessions_from_index(keys::order_index(SortKey::LoginAt).0, false, None, |s| {
            if s.is_live(now) {
                all.push(s);
            }
            all.len() < limit
        })
        .await?;
        Ok(all)
    }

    async fn active_session_count(&self) -> Result<usize, StoreError> {
        Ok(self.session_count().await?.max(0) as usize)
    }

    async fn session_by_id(&self, session_id: &str) -> Result<Option<Session>, StoreError> {
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(keys::SESSION_ID_INDEX)
            .key_condition_expression("GSI1PK = :p")
            .expression_attribute_values(":p", s(keys::session(session_id)))
            .send()
            .await
            .map_err(dynamo)?;
        let Some(found) = out.items.unwrap_or_default().into_iter().next() else {
            return Ok(None);
        };
        // The index is eventually consistent: confirm with a consistent read of the item.
        let pk = found.get(keys::PK).and_then(|v| v.as_s().ok()).cloned().unwrap_or_default();
        match self.get(pk, &keys::session(session_id)).await? {
            Some(item) => Ok(Some(from_item::<SessionItem>(item)?.into_session()?)),
            None => Ok(None),
        }
    }
}

impl PermissionStore for DynamoStore {
    async fn permission_roles(&self, id: &str) -> Result<Option<Vec<String>>, StoreError> {
        let Some(item) = self.get(keys::permission(id), keys::PERMISSION).await? else {
            return Ok(None);
        };
        let roles = match item.get("roles") {
            Some(AttributeValue::L(l)) => l.iter().filter_map(|v| v.as_s().ok().cloned()).collect(),
            _ => Vec::new(),
        };
        Ok(Some(roles))
    }

    async fn set_permission_roles(&self, id: &str, roles: &[String]) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .item(keys::PK, s(keys::permission(id)))
            .item(keys::SK, s(keys::PERMISSION))
            .item("entity", s("permission"))
            .item("roles", AttributeValue::L(roles.iter().map(s).collect()))
            .send()
            .await
            .map_err(dynamo)?;
        Ok(())
    }
}

impl TwoFactorStore for DynamoStore {
    async fn failures(&self, user_id: &str, now: Millis, window_ms: i64) -> Result<u32, StoreError> {
        let Some(item) = self.get(keys::user(user_id), keys::TWO_FACTOR_FAILURES).await? else {
            return Ok(0);
        };
        if num(&item, "windowStart") + window_ms <= now { Ok(0) } else { Ok(num(&item, "count").max(0) as u32) }
    }

    async fn record_failure(&self, user_id: &str, now: Millis, window_ms: i64) -> Result<u32, StoreError> {
        // Count in the current window, or start a new window if the old one has passed.
        let updated = self
            .update_key(keys::user(user_id), keys::TWO_FACTOR_FAILURES)
            .update_expression("ADD #c :one")
            .condition_expression("windowStart > :since")
            .expression_attribute_names("#c", "count")
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":since", n(now - window_ms))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::UpdatedNew)
            .send()
            .await;
        match updated {
            Ok(out) => Ok(out.attributes.map(|a| num(&a, "count")).unwrap_or(1).max(0) as u32),
            Err(e) if e.as_service_error().is_some_and(conditional_failed) => {
                self.client
                    .put_item()
                    .table_name(&self.table)
                    .item(keys::PK, s(keys::user(user_id)))
                    .item(keys::SK, s(keys::TWO_FACTOR_FAILURES))
                    .item("windowStart", n(now))
                    .item("count", n(1))
                    .item("expiresAt", n((now + window_ms) / 1000 + 60))
                    .send()
                    .await
                    .map_err(dynamo)?;
                Ok(1)
            }
            Err(e) => Err(dynamo(e)),
        }
    }

    async fn use_totp_step(&self, user_id: &str, step: i64) -> Result<bool, StoreError> {
        let r = self
            .update_key(keys::user(user_id), keys::PROFILE)
            .update_expression("SET totpLastStep = :s")
            .condition_expression("attribute_exists(PK) AND (attribute_not_exists(totpLastStep) OR totpLastStep < :s)")
            .expression_attribute_values(":s", n(step))
            .send()
            .await;
        conditional(r)
    }

    async fn use_backup_code(&self, user_id: &str, code_hash: &str) -> Result<bool, StoreError> {
        let r = self
            .update_key(keys::user(user_id), keys::PROFILE)
            .update_expression("REMOVE backupCodes.#h")
            .condition_expression("attribute_exists(backupCodes.#h)")
            .expression_attribute_names("#h", code_hash)
            .send()
            .await;
        conditional(r)
    }

    async fn put_email_code(&self, user_id: &str, code: &EmailCode) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .item(keys::PK, s(keys::user(user_id)))
            .item(keys::SK, s(keys::TWO_FACTOR_EMAIL))
            .item("codeHash", s(&code.code_hash))
            .item("validUntil", n(code.expires_at))
            .item("attempts", n(code.attempts))
            .item("expiresAt", n(code.expires_at / 1000 + 60))
            .send()
            .await
            .map_err(dynamo)?;
        Ok(())
    }

    async fn email_code(&self, user_id: &str) -> Result<Option<EmailCode>, StoreError> {
        Ok(self.get(keys::user(user_id), keys::TWO_FACTOR_EMAIL).await?.map(|item| EmailCode {
            code_hash: item.get("codeHash").and_then(|v| v.as_s().ok()).cloned().unwrap_or_default(),
            expires_at: num(&item, "validUntil"),
            attempts: num(&item, "attempts").max(0) as u32,
        }))
    }

    async fn email_code_failed(&self, user_id: &str) -> Result<(), StoreError> {
        let r = self
            .update_key(keys::user(user_id), keys::TWO_FACTOR_EMAIL)
            .update_expression("ADD attempts :one")
            .condition_expression("attribute_exists(PK)")
            .expression_attribute_values(":one", n(1))
            .send()
            .await;
        conditional(r).map(|_| ())
    }

    async fn delete_email_code(&self, user_id: &str) -> Result<(), StoreError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .key(keys::PK, s(keys::user(user_id)))
            .key(keys::SK, s(keys::TWO_FACTOR_EMAIL))
            .send()
            .await
            .map_err(dynamo)?;
        Ok(())
    }

    async fn trust_token(&self, token_hash: &str, until: Millis, fingerprint: &str) -> Result<(), StoreError> {
        let r = self
            .update_key(keys::token(token_hash), keys::TOKEN)
            .update_expression("SET twoFactorTrustedUntil = :u, twoFactorFingerprint = :f")
            .condition_expression("attribute_exists(PK)")
            .expression_attribute_values(":u", n(until))
            .expression_attribute_values(":f", s(fingerprint))
            .send()
            .await;
        // A token ended meanwhile simply stays ended.
        conditional(r).map(|_| ())
    }
}

impl OutboxStore for DynamoStore {
    async fn put_outbox(&self, message: &OutboxMessage) -> Result<(), StoreError> {
        let mut item = to_item(message)?;
        item.insert(keys::PK.into(), s(keys::OUTBOX));
        item.insert(keys::SK.into(), s(format!("{}#{}", message.sent_at, crate::ids::new_id())));
        // Kept a day: the outbox is for looking at codes while testing locally.
        let expires = parse_iso(&message.sent_at).unwrap_or(0) / 1000 + 86_400;
        item.insert("expiresAt".into(), n(expires));
        self.client.put_item().table_name(&self.table).set_item(Some(item)).send().await.map_err(dynamo)?;
        Ok(())
    }

    async fn outbox(&self, limit: usize) -> Result<Vec<OutboxMessage>, StoreError> {
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("PK = :p")
            .expression_attribute_values(":p", s(keys::OUTBOX))
            .scan_index_forward(false)
            .limit(limit.clamp(1, 1000) as i32)
            .send()
            .await
            .map_err(dynamo)?;
        out.items.unwrap_or_default().into_iter().map(from_item).collect()
    }
}

impl UserAdmin for DynamoStore {
    async fn set_roles(&self, user_id: &str, roles: &[String]) -> Result<(), StoreError> {
        let r = self
            .update_key(keys::user(user_id), keys::PROFILE)
            .update_expression("SET #r = :r")
            .condition_expression("attribute_exists(PK)")
            .expression_attribute_names("#r", "roles")
            .expression_attribute_values(":r", AttributeValue::L(roles.iter().map(s).collect()))
            .send()
            .await;
        if conditional(r)? { Ok(()) } else { Err(StoreError::Corrupt(format!("no user {user_id}"))) }
    }

    async fn set_two_factor(&self, user_id: &str, tf: &TwoFactor) -> Result<(), StoreError> {
        let mut update = self
            .update_key(keys::user(user_id), keys::PROFILE)
            .condition_expression("attribute_exists(PK)")
            .expression_attribute_values(":step", n(tf.totp_last_step))
            .expression_attribute_values(":email", AttributeValue::Bool(tf.email))
            .expression_attribute_values(
                ":codes",
                AttributeValue::M(tf.backup_codes.iter().map(|h| (h.clone(), AttributeValue::Bool(true))).collect()),
            );
        update = match &tf.totp_secret {
            Some(secret) => update
                .update_expression(
                    "SET totpSecret = :secret, totpLastStep = :step, emailTwoFactor = :email, backupCodes = :codes",
                )
                .expression_attribute_values(":secret", s(secret)),
            None => update.update_expression(
                "SET totpLastStep = :step, emailTwoFactor = :email, backupCodes = :codes REMOVE totpSecret",
            ),
        };
        if conditional(update.send().await)? { Ok(()) } else { Err(StoreError::Corrupt(format!("no user {user_id}"))) }
    }
}

/// API keys of back-end services.
pub trait ApiKeyStore {
    fn api_key(&self, key_hash: &str) -> impl Future<Output = Result<Option<ApiKey>, StoreError>> + Send;
    fn create_api_key(&self, key: &ApiKey) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Every key (admin tool only: a Scan, never in a request path).
    fn api_keys(&self) -> impl Future<Output = Result<Vec<ApiKey>, StoreError>> + Send;
    fn set_api_key_disabled(
        &self,
        key_hash: &str,
        disabled: bool,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ApiKeyItem {
    #[serde(rename = "PK")]
    pk: String,
    #[serde(rename = "SK")]
    sk: String,
    entity: String,
    key_hash: String,
    key_id: String,
    name: String,
    created_at: String,
    disabled: bool,
}

impl From<ApiKeyItem> for ApiKey {
    fn from(i: ApiKeyItem) -> Self {
        ApiKey { key_hash: i.key_hash, key_id: i.key_id, name: i.name, created_at: i.created_at, disabled: i.disabled }
    }
}

impl ApiKeyStore for DynamoStore {
    async fn api_key(&self, key_hash: &str) -> Result<Option<ApiKey>, StoreError> {
        match self.get(keys::api_key(key_hash), keys::APIKEY).await? {
            Some(item) => Ok(Some(from_item::<ApiKeyItem>(item)?.into())),
            None => Ok(None),
        }
    }

    async fn create_api_key(&self, key: &ApiKey) -> Result<(), StoreError> {
        let item = ApiKeyItem {
            pk: keys::api_key(&key.key_hash),
            sk: keys::APIKEY.into(),
            entity: "apikey".into(),
            key_hash: key.key_hash.clone(),
            key_id: key.key_id.clone(),
            name: key.name.clone(),
            created_at: key.created_at.clone(),
            disabled: key.disabled,
        };
        let written = self.transact(vec![put(&self.table, to_item(&item)?, true)?]).await?;
        if written { Ok(()) } else { Err(StoreError::Conflict(format!("API key {}", key.key_id))) }
    }

    async fn api_keys(&self) -> Result<Vec<ApiKey>, StoreError> {
        let mut keys_found = Vec::new();
        let mut start = None;
        loop {
            let out = self
                .client
                .scan()
                .table_name(&self.table)
                .filter_expression("entity = :e")
                .expression_attribute_values(":e", s("apikey"))
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(dynamo)?;
            for item in out.items.unwrap_or_default() {
                keys_found.push(from_item::<ApiKeyItem>(item)?.into());
            }
            match out.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => break,
            }
        }
        Ok(keys_found)
    }

    async fn set_api_key_disabled(&self, key_hash: &str, disabled: bool) -> Result<(), StoreError> {
        let r = self
            .update_key(keys::api_key(key_hash), keys::APIKEY)
            .update_expression("SET disabled = :d")
            .condition_expression("attribute_exists(PK)")
            .expression_attribute_values(":d", AttributeValue::Bool(disabled))
            .send()
            .await;
        if conditional(r)? { Ok(()) } else { Err(StoreError::Corrupt("no such API key".into())) }
    }
}
