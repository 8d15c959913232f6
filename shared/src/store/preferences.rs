//! A user's preferences (core::preferences), on the profile item: one attribute per known
//! preference (`receiveLoginDetectionEmail`), and `preferencesSaved` once the user saved any
//! (until then Rocket.Chat's getPreferences has nothing to show). Saving sets only the keys
//! given, as Rocket.Chat does.

use std::future::Future;

use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};

use super::attributes::{Item, string_value};
use super::error::{StoreError, conditional_write, store_error};
use super::{DynamoStore, keys};
use crate::core::preferences::Preferences;

const RECEIVE: &str = "receiveLoginDetectionEmail";
const SAVED: &str = "preferencesSaved";

/// Reads and saves preferences.
pub trait PreferenceStore {
    /// The saved preferences; `None` when the user never saved any.
    fn preferences(&self, user_id: &str) -> impl Future<Output = Result<Option<Preferences>, StoreError>> + Send;
    /// Saves the preferences `change` gives (`Some`), leaves the others; every saved one after.
    fn set_preferences(
        &self,
        user_id: &str,
        change: &PreferenceChange,
    ) -> impl Future<Output = Result<Preferences, StoreError>> + Send;
}

/// What a save changes: per preference, nothing (`None`), or a value (`Some(None)` resets
/// it to its default).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PreferenceChange {
    pub receive_login_detection_email: Option<Option<bool>>,
}

/// The preferences an item holds, if it says they were saved.
fn read(item: &Item) -> Option<Preferences> {
    matches!(item.get(SAVED), Some(AttributeValue::Bool(true))).then(|| Preferences {
        receive_login_detection_email: item.get(RECEIVE).and_then(|v| v.as_bool().ok()).copied(),
    })
}

impl PreferenceStore for DynamoStore {
    async fn preferences(&self, user_id: &str) -> Result<Option<Preferences>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(keys::PK, string_value(keys::user(user_id)))
            .key(keys::SK, string_value(keys::PROFILE))
            .projection_expression("#r, #s")
            .expression_attribute_names("#r", RECEIVE)
            .expression_attribute_names("#s", SAVED)
            .consistent_read(true)
            .send()
            .await
            .map_err(store_error)?;
        Ok(out.item.as_ref().and_then(read))
    }

    async fn set_preferences(&self, user_id: &str, change: &PreferenceChange) -> Result<Preferences, StoreError> {
        let mut update = self
            .update_key(keys::user(user_id), keys::PROFILE)
            .condition_expression("attribute_exists(PK)")
            .expression_attribute_names("#s", SAVED)
            .expression_attribute_values(":t", AttributeValue::Bool(true))
            .return_values(ReturnValue::AllNew);
        update = match change.receive_login_detection_email {
            None => update.update_expression("SET #s = :t"),
            Some(None) => update.update_expression("SET #s = :t REMOVE #r").expression_attribute_names("#r", RECEIVE),
            Some(Some(v)) => update
                .update_expression("SET #s = :t, #r = :r")
                .expression_attribute_names("#r", RECEIVE)
                .expression_attribute_values(":r", AttributeValue::Bool(v)),
        };
        let out = update.send().await.map_err(store_error)?;
        Ok(out.attributes.as_ref().and_then(read).unwrap_or_default())
    }
}

impl DynamoStore {
    /// Claims the new-login email of a session: true for the first claim only, so a session
    /// is mailed once however often the stream delivers it. Kept 30 days.
    pub async fn claim_login_mail(&self, user_id: &str, session_id: &str, now_secs: i64) -> Result<bool, StoreError> {
        let item = [
            (keys::PK.to_string(), string_value(keys::user(user_id))),
            (keys::SK.to_string(), string_value(keys::login_mail(session_id))),
            ("entity".to_string(), string_value("loginMail")),
            ("expiresAt".to_string(), AttributeValue::N((now_secs + 30 * 86_400).to_string())),
        ];
        let outcome = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item.into()))
            .condition_expression("attribute_not_exists(PK)")
            .send()
            .await;
        conditional_write(outcome)
    }

    /// Gives a claim back, so that a mail that failed for a passing reason is tried again.
    pub async fn release_login_mail(&self, user_id: &str, session_id: &str) -> Result<(), StoreError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .key(keys::PK, string_value(keys::user(user_id)))
            .key(keys::SK, string_value(keys::login_mail(session_id)))
            .send()
            .await
            .map_err(store_error)?;
        Ok(())
    }
}
