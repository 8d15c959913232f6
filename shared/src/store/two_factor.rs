//! Two-factor state: wrong-code windows, used TOTP steps and backup codes, email codes, trust.

use std::future::Future;

use super::{DynamoStore, StoreError, conditional, conditional_failed, dynamo, keys, n, num, s};
use crate::clock::Millis;

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
