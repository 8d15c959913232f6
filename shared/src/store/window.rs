//! Try counters with atomic reservations, shared by the 2FA wrong-code limit (a fixed
//! window) and the failed-login limits (a window that each try extends: Rocket.Chat's
//! "blocked until the last failure plus the block time", see [`WindowRule`]).
//!
//! An item `{windowStart, tries, expiresAt}` holds the tries of the window that began at
//! `windowStart` (under [`WindowRule::FromLastTry`], the time of its latest try), each by a
//! random id in the string set `tries`. A try is *reserved* by one conditional write before
//! the guarded secret's check is answered, so no number of parallel requests gets more than
//! `max` answers per window:
//! 1. if there is no item, create it with this try (the window starts now); if the window
//!    is current and holds fewer than `max`, add this try — one write either way;
//! 2. else, if the window has passed, start a new one with this try alone, only if it still
//!    has passed, so two parallel resets cannot both win;
//! 3. if the reset lost, someone else just started the window: try step 1 once more, and
//!    if that fails too the window is current and full, so the limit is reached.
//!
//! Giving a try back removes its own id, so a retried or late release never gives back
//! another's; the window's last try deletes the item, so the next reservation is one write
//! (step 1) however long after it comes (two last releases at once both remove their ids
//! instead, and the item stays with no tries, which counts as none). A retried reservation
//! finds its own id already held and holds it once.

use aws_sdk_dynamodb::operation::delete_item::DeleteItemError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue, ReturnValuesOnConditionCheckFailure};

use super::attributes::{Item, number_in, number_value, string_value};
use super::error::{StoreError, conditional_write, store_error};
use super::{DynamoStore, keys};
use crate::core::clock::Millis;

/// How a window's time runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WindowRule {
    /// The window lasts its length from its first try.
    Fixed,
    /// Every reserved try restarts the window: its tries count until one window length has
    /// passed with none, so a full window blocks until its last try plus the length.
    FromLastTry,
}

/// A try held in a window; give it back with [`DynamoStore::release_window_try`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reservation {
    /// Start of the window the try was counted in.
    pub window_start: Millis,
    /// The try's own id in the window's `tries`.
    id: String,
}

/// A current window: when it began (its last try, under [`WindowRule::FromLastTry`]) and
/// the tries it holds (reserved ones included).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    pub start: Millis,
    pub tries: u32,
}

/// Step 1's request: one try `id` for the window of `pk`/`sk`.
struct AddTry<'a> {
    pk: &'a str,
    sk: &'a str,
    id: &'a str,
    now: Millis,
    window_ms: i64,
    rule: WindowRule,
    max: u32,
}

/// Step 1's outcome.
enum Added {
    Reserved(Millis),
    /// The window is current and full.
    Full,
    /// The window has passed (or DynamoDB did not say).
    NoCurrentWindow,
}

/// How many tries an item holds.
fn tries(item: &Item) -> usize {
    item.get("tries").and_then(|v| v.as_ss().ok()).map_or(0, Vec::len)
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
        Ok(self.current_window(pk, sk, now, window_ms).await?.map_or(0, |w| w.tries))
    }

    /// The window of `pk`/`sk` current at `now`, if any.
    pub(super) async fn current_window(
        &self,
        pk: String,
        sk: &str,
        now: Millis,
        window_ms: i64,
    ) -> Result<Option<Window>, StoreError> {
        let Some(item) = self.get(pk, sk).await? else { return Ok(None) };
        let start = number_in(&item, "windowStart");
        Ok((start + window_ms > now).then(|| Window { start, tries: tries(&item) as u32 }))
    }

    /// Reserves one of `max` tries in the window of `window_ms` current at `now`;
    /// `None` when all are taken.
    pub(super) async fn reserve_window_try(
        &self,
        pk: String,
        sk: &str,
        now: Millis,
        (window_ms, rule): (i64, WindowRule),
        max: u32,
    ) -> Result<Option<Reservation>, StoreError> {
        let since = now - window_ms;
        let id = crate::core::ids::new_id();
        let held = |window_start| Some(Reservation { window_start, id: id.clone() });
        let add = AddTry { pk: &pk, sk, id: &id, now, window_ms, rule, max };
        match self.add_try(&add).await? {
            Added::Reserved(start) => return Ok(held(start)),
            Added::Full => return Ok(None),
            Added::NoCurrentWindow => {}
        }
        let reset = self
            .update_key(pk.clone(), sk)
            .update_expression("SET windowStart = :now, tries = :id, expiresAt = :exp")
            .condition_expression("attribute_not_exists(PK) OR windowStart <= :since")
            .expression_attribute_values(":now", number_value(now))
            .expression_attribute_values(":id", AttributeValue::Ss(vec![id.clone()]))
            .expression_attribute_values(":since", number_value(since))
            .expression_attribute_values(":exp", number_value(ttl_secs(now, window_ms)))
            .send()
            .await;
        if conditional_write(reset)? {
            return Ok(held(now));
        }
        // Another request started the window between our two writes.
        match self.add_try(&add).await? {
            Added::Reserved(start) => Ok(held(start)),
            Added::Full | Added::NoCurrentWindow => Ok(None),
        }
    }

    /// Step 1: one more try in the current window, if it has room; the window itself if
    /// there is no item.
    async fn add_try(&self, t: &AddTry<'_>) -> Result<Added, StoreError> {
        let since = t.now - t.window_ms;
        let times = match t.rule {
            WindowRule::Fixed => {
                "windowStart = if_not_exists(windowStart, :now), expiresAt = if_not_exists(expiresAt, :exp)"
            }
            WindowRule::FromLastTry => "windowStart = :now, expiresAt = :exp",
        };
        let added = self
            .update_key(t.pk, t.sk)
            .update_expression(format!("SET {times} ADD tries :id"))
            .condition_expression(
                "attribute_not_exists(PK) OR contains(tries, :one_id) \
                 OR (windowStart > :since AND (attribute_not_exists(tries) OR size(tries) < :max))",
            )
            .expression_attribute_values(":id", AttributeValue::Ss(vec![t.id.to_string()]))
            // Already held: an SDK retry of a write whose answer was lost.
            .expression_attribute_values(":one_id", string_value(t.id))
            .expression_attribute_values(":now", number_value(t.now))
            .expression_attribute_values(":exp", number_value(ttl_secs(t.now, t.window_ms)))
            .expression_attribute_values(":since", number_value(since))
            .expression_attribute_values(":max", number_value(t.max))
            .return_values(ReturnValue::AllNew)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match added {
            Ok(out) => {
                Ok(Added::Reserved(out.attributes.as_ref().map(|a| number_in(a, "windowStart")).unwrap_or_default()))
            }
            Err(e) => match e.as_service_error() {
                // DynamoDB returns the item that failed the condition; without it, assume no window.
                Some(UpdateItemError::ConditionalCheckFailedException(c)) => match c.item.as_ref() {
                    Some(old) if number_in(old, "windowStart") > since => Ok(Added::Full),
                    _ => Ok(Added::NoCurrentWindow),
                },
                _ => Err(store_error(e)),
            },
        }
    }

    /// Gives a reserved try back, if its window still holds it: the window's last try
    /// deletes the item (one write); otherwise the try's id is removed (a second write).
    /// Either is a no-op once done, so a retry after a lost answer gives back nothing more.
    pub(super) async fn release_window_try(&self, pk: String, sk: &str, held: Reservation) -> Result<(), StoreError> {
        let deleted = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key(keys::PK, string_value(&pk))
            .key(keys::SK, string_value(sk))
            .condition_expression("contains(tries, :id) AND size(tries) = :one")
            .expression_attribute_values(":id", string_value(&held.id))
            .expression_attribute_values(":one", number_value(1))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match deleted {
            Ok(_) => return Ok(()),
            Err(e) => match e.as_service_error() {
                Some(DeleteItemError::ConditionalCheckFailedException(c)) => {
                    let holds = c.item.as_ref().and_then(|old| old.get("tries")).and_then(|v| v.as_ss().ok());
                    // No item, or the try is not in it (the window passed or was cleared):
                    // nothing is left to give back.
                    if !holds.is_some_and(|ids| ids.contains(&held.id)) {
                        return Ok(());
                    }
                }
                _ => return Err(store_error(e)),
            },
        }
        // Other tries are held in the same window: take this one out.
        let r = self
            .update_key(pk, sk)
            .update_expression("DELETE tries :ids")
            .condition_expression("contains(tries, :id)")
            .expression_attribute_values(":ids", AttributeValue::Ss(vec![held.id.clone()]))
            .expression_attribute_values(":id", string_value(&held.id))
            .send()
            .await;
        conditional_write(r).map(|_| ())
    }

    /// Forgets every try of `pk`/`sk`.
    pub(super) async fn clear_window(&self, pk: String, sk: &str) -> Result<(), StoreError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .key(keys::PK, string_value(pk))
            .key(keys::SK, string_value(sk))
            .send()
            .await
            .map_err(store_error)?;
        Ok(())
    }
}

/// TTL (epoch seconds) of a window item: a minute after the window ends.
fn ttl_secs(now: Millis, window_ms: i64) -> i64 {
    (now + window_ms) / 1000 + 60
}
