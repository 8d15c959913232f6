//! Fixed-window try counters with atomic reservations, shared by the 2FA wrong-code
//! limit and the failed-login limits.
//!
//! An item `{windowStart, count, expiresAt}` counts tries in the window that began at
//! `windowStart`. A try is *reserved* by one conditional write before the guarded secret is
//! evaluated, so no number of parallel requests gets more than `max` evaluations per window:
//! 1. if there is no item, create it with `count = 1` (the window starts now); if the window
//!    is current and `count < max`, `ADD count 1` — one write either way;
//! 2. else, if the window has passed, start a new one (`count = 1`), only if it still has
//!    passed, so two parallel resets cannot both win;
//! 3. if the reset lost, someone else just started the window: try step 1 once more, and
//!    if that fails too the window is current and full, so the limit is reached.
//!
//! Giving back the window's last try deletes the item, so the next reservation is one
//! write (step 1) however long after it comes.

use aws_sdk_dynamodb::operation::delete_item::DeleteItemError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{ReturnValue, ReturnValuesOnConditionCheckFailure};

use super::{DynamoStore, StoreError, conditional, dynamo, keys, n, num, s};
use crate::clock::Millis;

/// A try held in a window; give it back with [`DynamoStore::release_window_try`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reservation {
    /// Start of the window the try was counted in.
    pub window_start: Millis,
}

/// Step 1's outcome.
enum Added {
    Reserved(Millis),
    /// The window is current and full.
    Full,
    /// The window has passed (or DynamoDB did not say).
    NoCurrentWindow,
}

impl DynamoStore {
    /// Tries counted in the current window of `pk`/`sk` (0 when there is none).
    pub(super) async fn window_tries(
        &self,
        pk: String,
        sk: &str,
        now: Millis,
        window_ms: i64,
    ) -> Result<u32, StoreError> {
        let Some(item) = self.get(pk, sk).await? else { return Ok(0) };
        if num(&item, "windowStart") + window_ms <= now { Ok(0) } else { Ok(num(&item, "count").max(0) as u32) }
    }

    /// Reserves one of `max` tries in the window of `window_ms` current at `now`;
    /// `None` when all are taken.
    pub(super) async fn reserve_window_try(
        &self,
        pk: String,
        sk: &str,
        now: Millis,
        window_ms: i64,
        max: u32,
    ) -> Result<Option<Reservation>, StoreError> {
        let since = now - window_ms;
        match self.add_try(&pk, sk, now, since, max, window_ms).await? {
            Added::Reserved(start) => return Ok(Some(Reservation { window_start: start })),
            Added::Full => return Ok(None),
            Added::NoCurrentWindow => {}
        }
        let reset = self
            .update_key(pk.clone(), sk)
            .update_expression("SET windowStart = :now, #c = :one, expiresAt = :exp")
            .condition_expression("attribute_not_exists(PK) OR windowStart <= :since")
            .expression_attribute_names("#c", "count")
            .expression_attribute_values(":now", n(now))
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":since", n(since))
            .expression_attribute_values(":exp", n(ttl_secs(now, window_ms)))
            .send()
            .await;
        if conditional(reset)? {
            return Ok(Some(Reservation { window_start: now }));
        }
        // Another request started the window between our two writes.
        match self.add_try(&pk, sk, now, since, max, window_ms).await? {
            Added::Reserved(start) => Ok(Some(Reservation { window_start: start })),
            Added::Full | Added::NoCurrentWindow => Ok(None),
        }
    }

    /// Step 1: one more try in the current window, if it has room.
    async fn add_try(
        &self,
        pk: &str,
        sk: &str,
        now: Millis,
        since: Millis,
        max: u32,
        window_ms: i64,
    ) -> Result<Added, StoreError> {
        let added = self
            .update_key(pk, sk)
            .update_expression("SET windowStart = if_not_exists(windowStart, :now), expiresAt = if_not_exists(expiresAt, :exp) ADD #c :one")
            .condition_expression("attribute_not_exists(PK) OR (windowStart > :since AND #c < :max)")
            .expression_attribute_names("#c", "count")
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":now", n(now))
            .expression_attribute_values(":exp", n(ttl_secs(now, window_ms)))
            .expression_attribute_values(":since", n(since))
            .expression_attribute_values(":max", n(max))
            .return_values(ReturnValue::AllNew)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match added {
            Ok(out) => Ok(Added::Reserved(out.attributes.as_ref().map(|a| num(a, "windowStart")).unwrap_or_default())),
            Err(e) => match e.as_service_error() {
                // DynamoDB returns the item that failed the condition; without it, assume no window.
                Some(UpdateItemError::ConditionalCheckFailedException(c)) => match c.item.as_ref() {
                    Some(old) if num(old, "windowStart") > since => Ok(Added::Full),
                    _ => Ok(Added::NoCurrentWindow),
                },
                _ => Err(dynamo(e)),
            },
        }
    }

    /// Gives a reserved try back, if its window is still the current one: the window's last
    /// try deletes the item (one write); otherwise its count goes down (a second write).
    pub(super) async fn release_window_try(&self, pk: String, sk: &str, held: Reservation) -> Result<(), StoreError> {
        let deleted = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key(keys::PK, s(&pk))
            .key(keys::SK, s(sk))
            .condition_expression("windowStart = :start AND #c <= :one")
            .expression_attribute_names("#c", "count")
            .expression_attribute_values(":start", n(held.window_start))
            .expression_attribute_values(":one", n(1))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match deleted {
            Ok(_) => return Ok(()),
            Err(e) => match e.as_service_error() {
                Some(DeleteItemError::ConditionalCheckFailedException(c)) => match c.item.as_ref() {
                    // Other tries are held in the same window: count this one off.
                    Some(old) if num(old, "windowStart") == held.window_start => {}
                    // No item, or another window: nothing is left to give back.
                    _ => return Ok(()),
                },
                _ => return Err(dynamo(e)),
            },
        }
        let r = self
            .update_key(pk, sk)
            .update_expression("ADD #c :minus")
            .condition_expression("windowStart = :start AND #c > :zero")
            .expression_attribute_names("#c", "count")
            .expression_attribute_values(":minus", n(-1))
            .expression_attribute_values(":start", n(held.window_start))
            .expression_attribute_values(":zero", n(0))
            .send()
            .await;
        // A failed condition: the window passed or was cleared, so nothing is left to give back.
        conditional(r).map(|_| ())
    }

    /// Forgets every try of `pk`/`sk`.
    pub(super) async fn clear_window(&self, pk: String, sk: &str) -> Result<(), StoreError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .key(keys::PK, s(pk))
            .key(keys::SK, s(sk))
            .send()
            .await
            .map_err(dynamo)?;
        Ok(())
    }
}

/// TTL (epoch seconds) of a window item: a minute after the window ends.
fn ttl_secs(now: Millis, window_ms: i64) -> i64 {
    (now + window_ms) / 1000 + 60
}
