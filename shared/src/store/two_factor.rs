//! Two-factor state: wrong-code windows, used TOTP steps and backup codes, email codes, trust.

use std::future::Future;

use super::attributes::{number_value, string_value};
use super::error::{StoreError, conditional_write, store_error};
use super::window::WindowRule;
use super::{DynamoStore, Reservation, keys};
use crate::core::clock::Millis;
use crate::core::ids::new_id;

/// A pending email code (hash only).
#[derive(Clone, PartialEq, Eq)]
pub struct EmailCode {
    pub code_hash: String,
    pub expires_at: Millis,
    pub attempts: u32,
}

crate::debug_redacted!(EmailCode { expires_at, attempts } redacted { code_hash });

/// State of two-factor checks: wrong-code windows, one-time use, email codes, trust.
pub trait TwoFactorStore {
    /// Tries counted (wrong or in flight) in the window that started at most `window_ms` before `now`.
    fn failures(
        &self,
        user_id: &str,
        now: Millis,
        window_ms: i64,
    ) -> impl Future<Output = Result<u32, StoreError>> + Send;
    /// Reserves one of `max` tries in the user's current window before a code is evaluated;
    /// `None` when all are taken. A wrong code keeps its try; a right one gives it back.
    fn reserve_code_try(
        &self,
        user_id: &str,
        now: Millis,
        window_ms: i64,
        max: u32,
    ) -> impl Future<Output = Result<Option<Reservation>, StoreError>> + Send;
    /// Gives a reserved try back (the code was right).
    fn release_code_try(&self, user_id: &str, held: Reservation)
    -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Marks a TOTP step used; false if it (or a later one) already was (replay).
    fn use_totp_step(&self, user_id: &str, step: i64) -> impl Future<Output = Result<bool, StoreError>> + Send;
    /// Removes a backup code; false if it was not there.
    fn use_backup_code(&self, user_id: &str, code_hash: &str) -> impl Future<Output = Result<bool, StoreError>> + Send;
    fn put_email_code(&self, user_id: &str, code: &EmailCode) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Consumes the pending email code if it has `code_hash`, is valid at `now`, is unused and
    /// has had fewer than `max_attempts` wrong tries: one conditional write marks it used, so a
    /// code works once however many requests carry it. Otherwise counts a wrong try on it; false.
    fn consume_email_code(
        &self,
        user_id: &str,
        code_hash: &str,
        now: Millis,
        max_attempts: u32,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
    /// Trusts a token for 2FA until `until`, for one client fingerprint.
    fn trust_token(
        &self,
        token_hash: &str,
        until: Millis,
        fingerprint: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

impl TwoFactorStore for DynamoStore {
    async fn failures(&self, user_id: &str, now: Millis, window_ms: i64) -> Result<u32, StoreError> {
        self.window_tries(keys::user(user_id), keys::TWO_FACTOR_FAILURES, now, window_ms).await
    }

    async fn reserve_code_try(
        &self,
        user_id: &str,
        now: Millis,
        window_ms: i64,
        max: u32,
    ) -> Result<Option<Reservation>, StoreError> {
        self.reserve_window_try(
            keys::user(user_id),
            keys::TWO_FACTOR_FAILURES,
            now,
            (window_ms, WindowRule::Fixed),
            max,
        )
        .await
    }

    async fn release_code_try(&self, user_id: &str, held: Reservation) -> Result<(), StoreError> {
        self.release_window_try(keys::user(user_id), keys::TWO_FACTOR_FAILURES, held).await
    }

    /// The write carries a random mark of this use, so the SDK's retry of a write whose answer
    /// was lost finds its own mark and counts as the use it was, not as a replay.
    async fn use_totp_step(&self, user_id: &str, step: i64) -> Result<bool, StoreError> {
        let r = self
            .update_key(keys::user(user_id), keys::PROFILE)
            .update_expression("SET totpLastStep = :s, totpLastUse = :use")
            .condition_expression(
                "attribute_exists(PK) AND (attribute_not_exists(totpLastStep) OR totpLastStep < :s \
                 OR totpLastUse = :use)",
            )
            .expression_attribute_values(":s", number_value(step))
            .expression_attribute_values(":use", string_value(new_id()))
            .send()
            .await;
        conditional_write(r)
    }

    /// Marked like [`Self::use_totp_step`]: a retried removal finds its own mark, so a backup
    /// code whose first answer was lost still works once.
    async fn use_backup_code(&self, user_id: &str, code_hash: &str) -> Result<bool, StoreError> {
        let r = self
            .update_key(keys::user(user_id), keys::PROFILE)
            .update_expression("REMOVE backupCodes.#h SET backupCodeLastUse = :use")
            .condition_expression("attribute_exists(backupCodes.#h) OR backupCodeLastUse = :use")
            .expression_attribute_names("#h", code_hash)
            .expression_attribute_values(":use", string_value(new_id()))
            .send()
            .await;
        conditional_write(r)
    }

    async fn put_email_code(&self, user_id: &str, code: &EmailCode) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .item(keys::PK, string_value(keys::user(user_id)))
            .item(keys::SK, string_value(keys::TWO_FACTOR_EMAIL))
            .item("codeHash", string_value(&code.code_hash))
            .item("validUntil", number_value(code.expires_at))
            .item("attempts", number_value(code.attempts))
            .item("expiresAt", number_value(code.expires_at / 1000 + 60))
            .send()
            .await
            .map_err(store_error)?;
        Ok(())
    }

    async fn consume_email_code(
        &self,
        user_id: &str,
        code_hash: &str,
        now: Millis,
        max_attempts: u32,
    ) -> Result<bool, StoreError> {
        // Marked used rather than deleted, with a mark of this use: the SDK's retry of a write
        // whose answer was lost finds its own mark and is the success it was.
        let used = self
            .update_key(keys::user(user_id), keys::TWO_FACTOR_EMAIL)
            .update_expression("SET usedBy = :use")
            .condition_expression(
                "(codeHash = :h AND validUntil > :now AND attempts < :max AND attribute_not_exists(usedBy)) \
                 OR usedBy = :use",
            )
            .expression_attribute_values(":h", string_value(code_hash))
            .expression_attribute_values(":now", number_value(now))
            .expression_attribute_values(":max", number_value(max_attempts))
            .expression_attribute_values(":use", string_value(new_id()))
            .send()
            .await;
        if conditional_write(used)? {
            return Ok(true);
        }
        // Wrong, expired, used up or never sent: one more wrong try on the code, if there is one.
        let r = self
            .update_key(keys::user(user_id), keys::TWO_FACTOR_EMAIL)
            .update_expression("ADD attempts :one")
            .condition_expression("attribute_exists(PK)")
            .expression_attribute_values(":one", number_value(1))
            .send()
            .await;
        conditional_write(r)?;
        Ok(false)
    }

    async fn trust_token(&self, token_hash: &str, until: Millis, fingerprint: &str) -> Result<(), StoreError> {
        let r = self
            .update_key(keys::token(token_hash), keys::TOKEN)
            .update_expression("SET twoFactorTrustedUntil = :u, twoFactorFingerprint = :f")
            .condition_expression("attribute_exists(PK)")
            .expression_attribute_values(":u", number_value(until))
            .expression_attribute_values(":f", string_value(fingerprint))
            .send()
            .await;
        // A token ended meanwhile simply stays ended.
        conditional_write(r).map(|_| ())
    }
}
