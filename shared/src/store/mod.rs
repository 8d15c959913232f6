//! DynamoDB storage on one table (DESIGN.md "Storage").
//!
//! Each access pattern is a trait of its own, so a handler states the narrowest
//! interface it needs; [`DynamoStore`] implements them all, one aggregate per submodule.

mod api_keys;
mod counter;
mod login_limits;
mod outbox;
mod permissions;
mod session_index;
mod sessions;
mod tokens;
mod two_factor;
mod users;
mod window;

pub use api_keys::*;
pub use login_limits::*;
pub use outbox::*;
pub use permissions::*;
pub use session_index::*;
pub use sessions::*;
pub use tokens::*;
pub use two_factor::*;
pub use users::*;
pub use window::Reservation;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem};
use serde::{Deserialize, Serialize};

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
    /// Failed-login windows: per username (its lowercase form's SHA-256 hex) and per source address.
    pub fn login_failures_user(hash: &str) -> String {
        format!("LOGINFAIL#USER#{hash}")
    }
    pub fn login_failures_ip(ip: &str) -> String {
        format!("LOGINFAIL#IP#{ip}")
    }
    pub const LOGIN_FAILURES: &str = "LOGINFAIL";
    /// Partition of the local mail outbox.
    pub const OUTBOX: &str = "OUTBOX";
    pub const SESSION_ID_INDEX: &str = "BySessionId";
    pub const APIKEY: &str = "APIKEY";
    pub fn api_key(hash: &str) -> String {
        format!("APIKEY#{hash}")
    }

    /// The index holding every session in `key` order, and its sort-key attribute.
    pub fn order_index(key: crate::query::SortKey) -> (&'static str, &'static str) {
        use crate::query::SortKey::*;
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

/// The DynamoDB implementation of every store trait.
#[derive(Clone, Debug)]
pub struct DynamoStore {
    client: Client,
    table: String,
    /// Items DynamoDB read for index queries (its ScannedCount), for tests and benchmarks.
    index_items_read: std::sync::Arc<std::sync::atomic::AtomicU64>,
    /// Query requests made on the order indexes, for the same.
    index_queries: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl DynamoStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        DynamoStore {
            client,
            table: table.into(),
            index_items_read: Default::default(),
            index_queries: Default::default(),
        }
    }

    /// Items read by index queries so far (list.all pages and full reads).
    pub fn index_items_read(&self) -> u64 {
        self.index_items_read.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Query requests made on the order indexes so far.
    pub fn index_queries(&self) -> u64 {
        self.index_queries.load(std::sync::atomic::Ordering::Relaxed)
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
