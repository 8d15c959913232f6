//! DynamoDB storage on one table (docs/storage.md). Depends on [`crate::core`] only.
//!
//! Each access pattern is a trait of its own, so a handler states the narrowest
//! interface it needs; [`DynamoStore`] implements them all, one aggregate per file
//! (api_keys, login_limits, outbox, permissions, sessions, session_index, tokens,
//! two_factor, users), over the plumbing of keys, client, error, transactions and attributes.

mod account_status;
mod activity;
mod api_keys;
mod attributes;
mod audit;
mod bulk_load;
mod client;
mod counter;
mod error;
#[cfg(feature = "fault-injection")]
pub mod faults;
mod history;
pub mod keys;
mod login_limits;
#[cfg(feature = "metering")]
pub mod metering;
mod outbox;
mod permissions;
mod preferences;
mod session_filter;
mod session_index;
mod session_merge;
mod session_pages;
pub mod session_row;
mod sessions;
mod sign_ins;
mod tokens;
mod transactions;
mod two_factor;
mod users;
mod window;

pub use account_status::{AccountStatus, StatusChanged};
pub use activity::{ActivityPolicy, ActivityRecorder, SessionUse};
pub use api_keys::ApiKeyStore;
pub use attributes::Item;
pub use audit::{AuditLogReader, AuditLogStore, LOG_SHARDS, LogRange};
pub use bulk_load::SessionBulkLoader;
pub use client::{https_client, lambda_sdk_config, lambda_sdk_config_from, sdk_config};
pub use error::StoreError;
pub use history::{ended_from_image, session_from_image};
pub use login_limits::{AccountGuard, LoginBlock, LoginLimit, LoginLimitKey, LoginLimitStore};
pub use outbox::{OutboxMessage, OutboxStore};
pub use permissions::PermissionStore;
pub use preferences::{PreferenceChange, PreferenceStore};
pub use session_index::{AllSessionsReader, ById, Scan, ScanBudget};
pub use session_pages::CountedPage;
pub use sessions::{SessionCreator, SessionEnder, UserSessionReader};
pub use tokens::TokenStore;
pub use transactions::{RetryPolicy, TRANSACTION_RETRY};
pub use two_factor::{EmailCode, TwoFactorStore};
pub use users::{UserAdmin, UserStore};
pub use window::{Reservation, Window};

use aws_sdk_dynamodb::Client;

/// The DynamoDB implementation of every store trait.
#[derive(Clone, Debug)]
pub struct DynamoStore {
    client: Client,
    table: String,
    /// Shards of the active-session counter (`SESSION_COUNTER_SHARDS`).
    counter_shards: u32,
    /// Shards of the order indexes' partition (`ORDER_INDEX_SHARDS`).
    order_shards: u32,
    /// Rows a full read aims to fetch per range Query (session_filter::FILTER_RANGE_ROWS).
    filter_range_rows: usize,
    /// Items DynamoDB read for index queries (its ScannedCount), for tests and benchmarks.
    index_items_read: std::sync::Arc<std::sync::atomic::AtomicU64>,
    /// Query requests made on the order indexes, for the same.
    index_queries: std::sync::Arc<std::sync::atomic::AtomicU64>,
    /// How activity is recorded (store::activity).
    activity: ActivityPolicy,
    /// Session activity writes that succeeded, and records refused, for the same.
    activity_writes: std::sync::Arc<std::sync::atomic::AtomicU64>,
    activity_failed: std::sync::Arc<std::sync::atomic::AtomicU64>,
    /// Days a history record is kept (`HISTORY_DAYS`; store::history).
    history_days: i64,
    /// The session total this instance counted last, for list.all's far-end pages
    /// (store::session_pages; `NO_HINT` before the first).
    total_hint: std::sync::Arc<std::sync::atomic::AtomicU64>,
    /// Offsets a list.all page without a hint reads forward beside the count.
    near_start: usize,
}

impl DynamoStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        let defaults = crate::Config::default();
        DynamoStore {
            client,
            table: table.into(),
            counter_shards: defaults.counter_shards,
            order_shards: defaults.order_shards,
            filter_range_rows: session_filter::FILTER_RANGE_ROWS,
            index_items_read: Default::default(),
            index_queries: Default::default(),
            activity: ActivityPolicy::of(&defaults),
            activity_writes: Default::default(),
            activity_failed: Default::default(),
            history_days: defaults.history_days,
            total_hint: std::sync::Arc::new(session_pages::NO_HINT.into()),
            near_start: session_pages::NEAR_START,
        }
    }

    /// The same store reading list.all pages past `offset` without a hint by counting first
    /// (store::session_pages; tests set 0 to take the far-end path on small tables).
    pub fn with_near_start(mut self, offset: usize) -> Self {
        self.near_start = offset;
        self
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
        self.filter_range_rows = rows.clamp(1, session_filter::FILTER_PAGE);
        self
    }

    /// The same store keeping history records `days` days.
    pub fn with_history_days(mut self, days: i64) -> Self {
        self.history_days = days.max(1);
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

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    /// This store with every request sent to `endpoint_url`, whatever the environment's
    /// configuration says (`AWS_IGNORE_CONFIGURED_ENDPOINT_URLS` included): for tools that
    /// checked an endpoint is local before writing known passwords and keys.
    pub fn pinned_to(&self, endpoint_url: &str) -> DynamoStore {
        let conf = self.client.config().to_builder().endpoint_url(endpoint_url).build();
        DynamoStore { client: Client::from_conf(conf), ..self.clone() }
    }
}
