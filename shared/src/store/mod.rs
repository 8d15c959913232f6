//! DynamoDB storage on one table (DESIGN.md "Storage").
//!
//! Each access pattern is a trait of its own, so a handler states the narrowest
//! interface it needs; [`DynamoStore`] implements them all, one aggregate per submodule.

mod api_keys;
mod counter;
#[cfg(feature = "fault-injection")]
pub mod faults;
mod login_limits;
#[cfg(feature = "metering")]
pub mod metering;
mod outbox;
mod permissions;
mod session_index;
pub mod session_row;
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

use std::time::{Duration, Instant};

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::retry::RetryConfig;
use aws_sdk_dynamodb::config::timeout::TimeoutConfig;
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{AttributeValue, CancellationReason, Put, TransactWriteItem};
use serde::{Deserialize, Serialize};

/// Key shapes of the single-table design; the only place they are spelled.
pub mod keys {
    pub const PK: &str = "PK";
    pub const SK: &str = "SK";
    pub const PROFILE: &str = "PROFILE";
    pub const TOKEN: &str = "TOKEN";
    pub const USERNAME: &str = "USERNAME";
    pub const COUNTER: &str = "COUNTER";
    /// The single counter item written before the shards; still summed, never written.
    pub const LEGACY_SESSION_COUNTER: &str = "COUNTER#sessions";
    /// Partition of one shard of the active-session counter.
    pub fn session_counter(shard: u32) -> String {
        format!("{LEGACY_SESSION_COUNTER}#{shard}")
    }
    /// Prefix of every session's sort key under its user.
    pub const SESSION_PREFIX: &str = "SESSION#";
    /// Prefix of the order indexes' partitions: one per shard, `SESSIONS#<shard>`.
    pub const ALL_SESSIONS: &str = "SESSIONS";
    /// ByLoginAt's sort key: the login time as ISO 8601 with milliseconds (fixed width, so
    /// text order is time order), then the session id.
    pub fn by_login_at(login_at: crate::clock::Millis, session_id: &str) -> String {
        format!("{}#{session_id}", crate::clock::iso_millis(login_at))
    }
    /// Partition of one shard of the order indexes.
    pub fn order_shard(shard: u32) -> String {
        format!("{ALL_SESSIONS}#{shard}")
    }
    /// The order-index shard of a session: its id's SHA-256, modulo `shards`. Raising
    /// `shards` keeps every old entry below the new count, so readers still find it.
    pub fn order_shard_of(session_id: &str, shards: u32) -> u32 {
        use sha2::{Digest, Sha256};
        let digest = Sha256::digest(session_id.as_bytes());
        u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]]) % shards.max(1)
    }
    /// The packed list row every order index projects (store::session_row).
    pub const ROW: &str = "r";

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

/// The HTTPS client every AWS SDK client here uses: hyper with rustls on ring.
pub fn https_client() -> aws_sdk_dynamodb::config::SharedHttpClient {
    use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};
    aws_smithy_http_client::Builder::new().tls_provider(Provider::Rustls(CryptoMode::Ring)).build_https()
}

/// The AWS configuration of the environment (region, credentials, `AWS_ENDPOINT_URL`), with
/// [`https_client`].
pub async fn sdk_config() -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest()).http_client(https_client()).load().await
}

/// The AWS configuration Lambda gives a function: the region and the execution role's
/// credentials from the variables Lambda sets, and `AWS_ENDPOINT_URL` where set (local runs).
/// Unlike [`sdk_config`] it reaches none of aws-config's provider chain (profiles, SSO, STS
/// web identity, IMDS), so a function's binary does not link it. `Err` names a missing variable.
pub fn lambda_sdk_config() -> Result<aws_config::SdkConfig, &'static str> {
    lambda_sdk_config_from(|k| std::env::var(k).ok())
}

/// [`lambda_sdk_config`] from any variable source (the environment, or a map in tests).
pub fn lambda_sdk_config_from(lookup: impl Fn(&str) -> Option<String>) -> Result<aws_config::SdkConfig, &'static str> {
    use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region, SharedAsyncSleep, SharedCredentialsProvider};
    let var = |k: &str| lookup(k).filter(|v| !v.trim().is_empty());
    let region = var("AWS_REGION").or_else(|| var("AWS_DEFAULT_REGION")).ok_or("AWS_REGION")?;
    let key = var("AWS_ACCESS_KEY_ID").ok_or("AWS_ACCESS_KEY_ID")?;
    let secret = var("AWS_SECRET_ACCESS_KEY").ok_or("AWS_SECRET_ACCESS_KEY")?;
    let credentials = Credentials::new(key, secret, var("AWS_SESSION_TOKEN"), None, "lambda-environment");
    let mut builder = aws_config::SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(region))
        .credentials_provider(SharedCredentialsProvider::new(credentials))
        .sleep_impl(SharedAsyncSleep::new(aws_smithy_async::rt::sleep::TokioSleep::new()))
        .time_source(aws_smithy_async::time::SystemTimeSource::new())
        .http_client(https_client());
    if let Some(url) = var("AWS_ENDPOINT_URL") {
        builder = builder.endpoint_url(url);
    }
    Ok(builder.build())
}

/// A storage failure. Messages never contain item contents.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("DynamoDB request failed: {0}")]
    Dynamo(String),
    /// Throttled, conflicting, timed out or a DynamoDB 5xx after every retry: worth
    /// retrying later (503), and nothing is known to be written.
    #[error("DynamoDB unavailable: {0}")]
    Unavailable(String),
    #[error("stored item is malformed: {0}")]
    Corrupt(String),
    #[error("{0} already exists")]
    Conflict(String),
}

/// Error codes of DynamoDB calls that fail for load or a passing fault, not for the request.
const TRANSIENT_CODES: &[&str] = &[
    "ThrottlingException",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    "InternalServerError",
    "ServiceUnavailable",
    "TransactionInProgressException",
    // A single-item write that met a running transaction on the same item.
    "TransactionConflictException",
];

/// Cancellation reasons of a transaction that another try may get past.
const TRANSIENT_REASONS: &[&str] =
    &["TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded", "RequestLimitExceeded"];

/// The one place a failed DynamoDB call is classified (after the SDK's own retries):
/// throttling, 5xx, timeouts and broken connections are [`StoreError::Unavailable`];
/// everything else is [`StoreError::Dynamo`] (a 500).
fn dynamo<E>(e: SdkError<E>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let transient = match &e {
        SdkError::TimeoutError(_) => true,
        SdkError::DispatchFailure(d) => d.is_timeout() || d.is_io(),
        SdkError::ResponseError(r) => r.raw().status().is_server_error(),
        SdkError::ServiceError(s) => {
            s.raw().status().is_server_error() || s.err().code().is_some_and(|c| TRANSIENT_CODES.contains(&c))
        }
        _ => false,
    };
    let message = DisplayErrorContext(e).to_string();
    if transient { StoreError::Unavailable(message) } else { StoreError::Dynamo(message) }
}

/// Our retries of a transaction, on top of the SDK's (see [`DynamoStore::client_for`]):
/// conflicts are not retried by the SDK at all, and a transaction that loses a race is
/// worth another try. Full jitter: before retry `n` a uniform delay in
/// `[0, min(cap, base * 2^(n-1))]`; no retry starts after `deadline`.
#[derive(Clone, Copy, Debug)]
pub struct RetryPolicy {
    pub attempts: u32,
    pub base: Duration,
    pub cap: Duration,
    pub deadline: Duration,
}

/// 4 tries, delays up to 25, 50, 100 ms, none started after 2 s. With the SDK's
/// operation timeout (3 s) a transaction gives up within about 5 s, well inside a
/// Lambda's 10 s.
pub const TRANSACTION_RETRY: RetryPolicy = RetryPolicy {
    attempts: 4,
    base: Duration::from_millis(25),
    cap: Duration::from_millis(400),
    deadline: Duration::from_secs(2),
};

impl RetryPolicy {
    /// The delay before try `attempt + 1` after `attempt` failed tries, or `None` to give up.
    pub fn delay(&self, attempt: u32, elapsed: Duration) -> Option<Duration> {
        if attempt >= self.attempts || elapsed >= self.deadline {
            return None;
        }
        let ceiling = self.base.saturating_mul(1 << attempt.saturating_sub(1).min(16)).min(self.cap);
        let unit = getrandom::u32().unwrap_or(u32::MAX / 2) as f64 / u32::MAX as f64;
        Some(ceiling.mul_f64(unit))
    }
}

/// How a transaction ended, when it did not fail outright.
#[derive(Debug, PartialEq, Eq)]
enum Tx {
    Written,
    /// Cancelled because the conditions of these items (by index) did not hold.
    ConditionFailed(Vec<usize>),
}

/// Reads a cancellation's reasons (one per item, in order): failed conditions are an
/// answer; conflicts and throttling are worth retrying; anything else is an error.
fn cancelled(reasons: &[CancellationReason]) -> Result<Tx, StoreError> {
    let codes: Vec<&str> = reasons.iter().map(|r| r.code().unwrap_or("None")).collect();
    let failed: Vec<usize> = (0..codes.len()).filter(|&i| codes[i] == "ConditionalCheckFailed").collect();
    if !failed.is_empty() {
        return Ok(Tx::ConditionFailed(failed));
    }
    let message = format!("transaction cancelled: {codes:?}");
    if codes.iter().any(|c| TRANSIENT_REASONS.contains(c)) {
        Err(StoreError::Unavailable(message))
    } else {
        Err(StoreError::Dynamo(message))
    }
}

/// The DynamoDB implementation of every store trait.
#[derive(Clone, Debug)]
pub struct DynamoStore {
    client: Client,
    table: String,
    /// Shards of the active-session counter (`SESSION_COUNTER_SHARDS`).
    counter_shards: u32,
    /// Shards of the order indexes' partition (`ORDER_INDEX_SHARDS`).
    order_shards: u32,
    /// Rows a full read aims to fetch per range Query (session_index::FILTER_RANGE_ROWS).
    filter_range_rows: usize,
    /// Items DynamoDB read for index queries (its ScannedCount), for tests and benchmarks.
    index_items_read: std::sync::Arc<std::sync::atomic::AtomicU64>,
    /// Query requests made on the order indexes, for the same.
    index_queries: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl DynamoStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        let defaults = crate::Config::default();
        DynamoStore {
            client,
            table: table.into(),
            counter_shards: defaults.counter_shards,
            order_shards: defaults.order_shards,
            filter_range_rows: session_index::FILTER_RANGE_ROWS,
            index_items_read: Default::default(),
            index_queries: Default::default(),
        }
    }

    /// The same store with `shards` counter shards (1..=99: one BatchGetItem reads them all).
    pub fn with_counter_shards(mut self, shards: u32) -> Self {
        self.counter_shards = shards.clamp(1, 99);
        self
    }

    /// The same store with the order indexes spread over `shards` partitions (1..=64). Only
    /// ever raise it: readers query every shard below it, and old entries stay where they are.
    pub fn with_order_shards(mut self, shards: u32) -> Self {
        self.order_shards = shards.clamp(1, 64);
        self
    }

    /// The same store with full reads cut into ranges of about `rows` sessions each
    /// (1..=2 500); smaller ranges mean more Queries at once and fewer pages after each other.
    pub fn with_filter_range_rows(mut self, rows: usize) -> Self {
        self.filter_range_rows = rows.clamp(1, session_index::FILTER_PAGE);
        self
    }

    pub fn order_shards(&self) -> u32 {
        self.order_shards
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
        Self::client_for(&sdk_config().await)
    }

    /// A client for `sdk` with the retry and timeout policy every function uses: the
    /// SDK's standard retries (3 tries, backoff from 25 ms up to 500 ms, on throttling,
    /// 5xx and timeouts), 1.5 s per try and 3 s per call, so a stuck call fails in time
    /// to answer 503 rather than running into the Lambda timeout.
    pub fn client_for(sdk: &aws_config::SdkConfig) -> Client {
        let retry = RetryConfig::standard()
            .with_max_attempts(3)
            .with_initial_backoff(Duration::from_millis(25))
            .with_max_backoff(Duration::from_millis(500));
        let timeouts = TimeoutConfig::builder()
            .operation_attempt_timeout(Duration::from_millis(1500))
            .operation_timeout(Duration::from_secs(3))
            .build();
        let config = aws_sdk_dynamodb::config::Builder::from(sdk).retry_config(retry).timeout_config(timeouts).build();
        Client::from_conf(config)
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

    /// Writes `items` in one transaction, retried per [`TRANSACTION_RETRY`] while it is
    /// throttled, conflicts or times out. One ClientRequestToken covers the tries, so a
    /// try whose answer was lost (timeout, 5xx) is not applied twice; a cancelled try
    /// wrote nothing, and the next one gets a new token.
    async fn transact(&self, items: Vec<TransactWriteItem>) -> Result<Tx, StoreError> {
        let started = Instant::now();
        let mut token = crate::ids::new_id();
        let mut attempt = 0;
        loop {
            let sent = self
                .client
                .transact_write_items()
                .set_transact_items(Some(items.clone()))
                .client_request_token(&token)
                .send()
                .await;
            attempt += 1;
            let error = match sent {
                Ok(_) => return Ok(Tx::Written),
                Err(e) => {
                    let reasons = match e.as_service_error() {
                        Some(TransactWriteItemsError::TransactionCanceledException(c)) => {
                            Some(c.cancellation_reasons().to_vec())
                        }
                        _ => None,
                    };
                    match reasons {
                        Some(reasons) => {
                            token = crate::ids::new_id();
                            match cancelled(&reasons) {
                                Ok(outcome) => return Ok(outcome),
                                Err(e) => e,
                            }
                        }
                        None => dynamo(e),
                    }
                }
            };
            match (&error, TRANSACTION_RETRY.delay(attempt, started.elapsed())) {
                (StoreError::Unavailable(_), Some(delay)) => tokio::time::sleep(delay).await,
                _ => return Err(error),
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
fn conditional<T, E>(result: Result<T, SdkError<E>>) -> Result<bool, StoreError>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    match result {
        Ok(_) => Ok(true),
        Err(e) if e.as_service_error().is_some_and(conditional_failed) => Ok(false),
        Err(e) => Err(dynamo(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reasons(codes: &[&str]) -> Vec<CancellationReason> {
        codes.iter().map(|c| CancellationReason::builder().code(*c).build()).collect()
    }

    #[test]
    fn cancellation_reasons_decide_the_outcome() {
        let failed = cancelled(&reasons(&["ConditionalCheckFailed", "None", "None"])).unwrap();
        assert_eq!(failed, Tx::ConditionFailed(vec![0]));
        let failed = cancelled(&reasons(&["None", "TransactionConflict", "ConditionalCheckFailed"])).unwrap();
        assert_eq!(failed, Tx::ConditionFailed(vec![2]), "a false condition is an answer even beside a conflict");
        for retry in
            [["TransactionConflict", "None"], ["None", "ThrottlingError"], ["ProvisionedThroughputExceeded", "None"]]
        {
            assert!(matches!(cancelled(&reasons(&retry)), Err(StoreError::Unavailable(_))), "{retry:?}");
        }
        assert!(matches!(cancelled(&reasons(&["ValidationError", "None"])), Err(StoreError::Dynamo(_))));
        assert!(matches!(cancelled(&[]), Err(StoreError::Dynamo(_))));
    }

    #[test]
    fn retry_delays_are_jittered_below_a_doubling_cap_and_bounded() {
        let p = TRANSACTION_RETRY;
        for _ in 0..100 {
            assert!(p.delay(1, Duration::ZERO).unwrap() <= Duration::from_millis(25));
            assert!(p.delay(2, Duration::ZERO).unwrap() <= Duration::from_millis(50));
            assert!(p.delay(3, Duration::ZERO).unwrap() <= Duration::from_millis(100));
        }
        assert_eq!(p.delay(p.attempts, Duration::ZERO), None);
        assert_eq!(p.delay(1, p.deadline), None);
        let worst: Duration = (1..p.attempts).filter_map(|a| p.delay(a, Duration::ZERO)).sum();
        assert!(worst <= Duration::from_millis(175));
    }
}

#[cfg(test)]
mod lambda_config_tests {
    use super::lambda_sdk_config_from;

    fn from(vars: &[(&str, &str)]) -> Result<aws_config::SdkConfig, &'static str> {
        lambda_sdk_config_from(|k| vars.iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string()))
    }

    #[test]
    fn takes_region_credentials_and_endpoint_from_lambdas_variables() {
        let all = [
            ("AWS_REGION", "eu-west-1"),
            ("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"),
            ("AWS_SECRET_ACCESS_KEY", "secret"),
            ("AWS_SESSION_TOKEN", "token"),
            ("AWS_ENDPOINT_URL", "http://127.0.0.1:8000"),
        ];
        let sdk = from(&all).unwrap();
        assert_eq!(sdk.region().map(|r| r.as_ref()), Some("eu-west-1"));
        assert_eq!(sdk.endpoint_url(), Some("http://127.0.0.1:8000"));
        assert!(sdk.credentials_provider().is_some() && sdk.http_client().is_some() && sdk.sleep_impl().is_some());
        // Each required variable, missing or blank, is named.
        for missing in ["AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"] {
            let without: Vec<_> = all.iter().copied().filter(|(k, _)| *k != missing).collect();
            assert_eq!(from(&without).unwrap_err(), missing);
            let blank: Vec<_> = all.iter().map(|&(k, v)| (k, if k == missing { " " } else { v })).collect();
            assert_eq!(from(&blank).unwrap_err(), missing);
        }
        let no_token: Vec<_> = all.iter().copied().filter(|(k, _)| *k != "AWS_SESSION_TOKEN").collect();
        assert!(from(&no_token).is_ok());
    }
}
