//! Activity: when, from where and with what a session was last used. Written on the session
//! item (`lastActivityAt`, `lastUse`) and on its token item (`lastActivityAt`, which
//! authentication reads anyway, so a call inside the interval writes nothing), each by one
//! conditional update that holds only when the item's last record is at least one interval
//! old: under parallel calls at most one write per item per interval succeeds. Neither touches
//! an index's keys or projection (`r`, `expiresAt`, `tokenHash`), so no index is rewritten
//! (docs/storage.md, "Activity").

use std::future::Future;
use std::sync::atomic::Ordering::Relaxed;

use std::time::Duration;

use aws_sdk_dynamodb::config::retry::RetryConfig;
use aws_sdk_dynamodb::config::timeout::TimeoutConfig;

use super::attributes::{number_value, string_value};
use super::error::{StoreError, conditional_write};
use super::{DynamoStore, keys};
use crate::core::clock::{Millis, iso_millis};
use crate::core::config::Config;
use crate::core::model::LastUse;

/// How activity is recorded: the least time between two writes of one session, the idle
/// timeout (if any), and whether CloudFront's viewer headers locate the client.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ActivityPolicy {
    pub interval_ms: i64,
    pub idle_timeout_ms: Option<i64>,
    pub trust_cloudfront: bool,
}

impl ActivityPolicy {
    /// The policy the configuration sets.
    pub fn of(config: &Config) -> Self {
        ActivityPolicy {
            interval_ms: config.activity_interval_ms,
            idle_timeout_ms: config.idle_timeout_ms,
            trust_cloudfront: config.trust_cloudfront_geo,
        }
    }

    /// Whether a session last recorded at `last` is due for another record at `now`
    /// (unknown: yes).
    pub fn due(&self, last: Option<Millis>, now: Millis) -> bool {
        last.is_none_or(|last| now - last >= self.interval_ms)
    }

    /// Whether a session last recorded at `last` has surely been unused past the idle
    /// timeout (unknown, or no timeout: no). Uses inside an interval are not recorded, so the
    /// last real use may be up to one interval after `last`: only a gap longer than the
    /// timeout plus one interval proves idleness, and a session in use is never ended.
    pub fn idle(&self, last: Option<Millis>, now: Millis) -> bool {
        matches!((last, self.idle_timeout_ms), (Some(last), Some(idle)) if now - last > idle + self.interval_ms)
    }
}

/// One use of a session, as authentication saw it.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionUse {
    pub user_id: String,
    pub session_id: String,
    pub token_hash: String,
    pub at: Millis,
    pub last: LastUse,
}

crate::debug_redacted!(SessionUse { user_id, session_id, at, last } redacted { token_hash });

/// Records sessions' activity.
pub trait ActivityRecorder {
    /// How this store records activity.
    fn activity_policy(&self) -> ActivityPolicy;
    /// Records `used` on its session and token unless either holds a record less than
    /// `interval_ms` old; `Ok(true)` when the session item was written. Sent once, never
    /// retried: a throttled or cancelled write is the caller's to drop.
    fn record_activity(
        &self,
        used: &SessionUse,
        interval_ms: i64,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
}

/// The SDK configuration of an activity write: one try of at most 500 ms, no retries, so a
/// stuck write holds the answer back no longer than that.
fn single_try() -> aws_sdk_dynamodb::config::Builder {
    let timeout = TimeoutConfig::builder()
        .operation_attempt_timeout(Duration::from_millis(500))
        .operation_timeout(Duration::from_millis(500))
        .build();
    aws_sdk_dynamodb::config::Builder::default().retry_config(RetryConfig::disabled()).timeout_config(timeout)
}

impl ActivityRecorder for DynamoStore {
    fn activity_policy(&self) -> ActivityPolicy {
        self.activity
    }

    async fn record_activity(&self, used: &SessionUse, interval_ms: i64) -> Result<bool, StoreError> {
        let before = used.at - interval_ms;
        let last_use = serde_dynamo::to_attribute_value(&used.last).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let token = self
            .update_key(keys::token(&used.token_hash), keys::TOKEN)
            .update_expression("SET lastActivityAt = :at")
            .condition_expression(
                "attribute_exists(PK) AND (attribute_not_exists(lastActivityAt) OR lastActivityAt <= :before)",
            )
            .expression_attribute_values(":at", number_value(used.at))
            .expression_attribute_values(":before", number_value(before))
            .customize()
            .config_override(single_try())
            .send();
        // ISO 8601 with milliseconds is fixed-width, so text order is time order.
        let session = self
            .update_key(keys::user(&used.user_id), &keys::session(&used.session_id))
            .update_expression("SET lastActivityAt = :at, lastUse = :use")
            .condition_expression("attribute_exists(PK) AND lastActivityAt <= :before")
            .expression_attribute_values(":at", string_value(iso_millis(used.at)))
            .expression_attribute_values(":before", string_value(iso_millis(before)))
            .expression_attribute_values(":use", last_use)
            .customize()
            .config_override(single_try())
            .send();
        let (token, session) = tokio::join!(token, session);
        let (token, session) = (conditional_write(token), conditional_write(session));
        if token.is_err() || session.is_err() {
            self.activity_failed.fetch_add(1, Relaxed);
        }
        if let Ok(true) = session {
            self.activity_writes.fetch_add(1, Relaxed);
        }
        token?;
        session
    }
}

impl DynamoStore {
    /// The same store recording activity by `policy`.
    pub fn with_activity(mut self, policy: ActivityPolicy) -> Self {
        self.activity = policy;
        self
    }

    /// Session activity writes that succeeded so far (tests and benchmarks).
    pub fn activity_writes(&self) -> u64 {
        self.activity_writes.load(Relaxed)
    }

    /// Activity records DynamoDB refused so far (throttled, cancelled, timed out): each was
    /// dropped for its call.
    pub fn activity_failed(&self) -> u64 {
        self.activity_failed.load(Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_is_due_once_per_interval_and_idle_past_the_timeout() {
        let p = ActivityPolicy { interval_ms: 300_000, idle_timeout_ms: Some(1_800_000), trust_cloudfront: false };
        assert!(p.due(None, 0), "an unknown last record is due");
        assert!(!p.due(Some(1_000), 300_999));
        assert!(p.due(Some(1_000), 301_000));
        assert!(!p.idle(None, i64::MAX), "unknown is not idle");
        assert!(!p.idle(Some(0), 2_100_000), "a use up to one interval after the record may have gone unrecorded");
        assert!(p.idle(Some(0), 2_100_001));
        let off = ActivityPolicy { idle_timeout_ms: None, ..p };
        assert!(!off.idle(Some(0), i64::MAX));
    }
}
