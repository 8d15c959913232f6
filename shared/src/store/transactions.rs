//! Transactions: our retries on top of the SDK's, how a cancellation's reasons are read,
//! and the Put a transaction writes.

use std::time::{Duration, Instant};

use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{CancellationReason, Put, TransactWriteItem};

use super::DynamoStore;
use super::attributes::Item;
use super::error::{StoreError, store_error};

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

/// Cancellation reasons of a transaction that another try may get past.
const TRANSIENT_REASONS: &[&str] =
    &["TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded", "RequestLimitExceeded"];

/// How a transaction ended, when it did not fail outright.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Tx {
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

impl DynamoStore {
    /// Writes `items` in one transaction, retried per [`TRANSACTION_RETRY`] while it is
    /// throttled, conflicts or times out. One ClientRequestToken covers the tries, so a
    /// try whose answer was lost (timeout, 5xx) is not applied twice; a cancelled try
    /// wrote nothing, and the next one gets a new token.
    pub(super) async fn transact(&self, items: Vec<TransactWriteItem>) -> Result<Tx, StoreError> {
        let started = Instant::now();
        let mut token = crate::core::ids::new_id();
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
                            token = crate::core::ids::new_id();
                            match cancelled(&reasons) {
                                Ok(outcome) => return Ok(outcome),
                                Err(e) => e,
                            }
                        }
                        None => store_error(e),
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

/// A transaction's Put of `item`; with `condition_new`, only where no item has its key.
pub(super) fn transact_put(table: &str, item: Item, condition_new: bool) -> Result<TransactWriteItem, StoreError> {
    let mut put = Put::builder().table_name(table).set_item(Some(item));
    if condition_new {
        put = put.condition_expression("attribute_not_exists(PK)");
    }
    let put = put.build().map_err(|e| StoreError::Dynamo(e.to_string()))?;
    Ok(TransactWriteItem::builder().put(put).build())
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
