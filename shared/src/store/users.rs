//! Users: the profile item, and the username and email links that find it.

use std::future::Future;

use aws_sdk_dynamodb::types::AttributeValue;
use serde::{Deserialize, Serialize};

use super::{DynamoStore, StoreError, Tx, conditional, from_item, keys, n, put, s, to_item};
use crate::model::{TwoFactor, User};

/// User accounts.
pub trait UserStore {
    fn create_user(&self, user: &User) -> impl Future<Output = Result<(), StoreError>> + Send;
    fn user(&self, user_id: &str) -> impl Future<Output = Result<Option<User>, StoreError>> + Send;
    fn user_by_username(&self, username: &str) -> impl Future<Output = Result<Option<User>, StoreError>> + Send;
    fn user_by_email(&self, email: &str) -> impl Future<Output = Result<Option<User>, StoreError>> + Send;
}

/// Changes to existing users (admin tool).
pub trait UserAdmin {
    fn set_roles(&self, user_id: &str, roles: &[String]) -> impl Future<Output = Result<(), StoreError>> + Send;
    fn set_two_factor(
        &self,
        user_id: &str,
        two_factor: &TwoFactor,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Activates or deactivates an account; a deactivated user's tokens get 401.
    fn set_active(&self, user_id: &str, active: bool) -> impl Future<Output = Result<(), StoreError>> + Send;
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct UserItem {
    #[serde(rename = "PK")]
    pk: String,
    #[serde(rename = "SK")]
    sk: String,
    entity: String,
    user_id: String,
    username: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(default)]
    emails: Vec<String>,
    #[serde(default)]
    roles: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    password_bcrypt: Option<String>,
    active: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    totp_secret: Option<String>,
    #[serde(default)]
    totp_last_step: i64,
    /// Unused backup codes as a map keyed by hash, so one can be removed atomically.
    #[serde(default)]
    backup_codes: std::collections::BTreeMap<String, bool>,
    #[serde(default)]
    email_two_factor: bool,
}

impl From<UserItem> for User {
    fn from(i: UserItem) -> Self {
        User {
            two_factor: TwoFactor {
                totp_secret: i.totp_secret,
                totp_last_step: i.totp_last_step,
                backup_codes: i.backup_codes.into_keys().collect(),
                email: i.email_two_factor,
            },
            user_id: i.user_id,
            username: i.username,
            name: i.name,
            emails: i.emails,
            roles: i.roles,
            password_bcrypt: i.password_bcrypt,
            active: i.active,
        }
    }
}

/// A lookup key pointing at a user: `USERNAME#<lower>` or `EMAIL#<lower>`.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct LinkItem {
    #[serde(rename = "PK")]
    pk: String,
    #[serde(rename = "SK")]
    sk: String,
    entity: String,
    user_id: String,
}

impl UserStore for DynamoStore {
    async fn create_user(&self, user: &User) -> Result<(), StoreError> {
        let profile = UserItem {
            pk: keys::user(&user.user_id),
            sk: keys::PROFILE.into(),
            entity: "user".into(),
            user_id: user.user_id.clone(),
            username: user.username.clone(),
            name: user.name.clone(),
            emails: user.emails.clone(),
            roles: user.roles.clone(),
            password_bcrypt: user.password_bcrypt.clone(),
            active: user.active,
            totp_secret: user.two_factor.totp_secret.clone(),
            totp_last_step: user.two_factor.totp_last_step,
            backup_codes: user.two_factor.backup_codes.iter().map(|h| (h.clone(), true)).collect(),
            email_two_factor: user.two_factor.email,
        };
        let username = LinkItem {
            pk: keys::username(&user.username),
            sk: keys::USERNAME.into(),
            entity: "username".into(),
            user_id: user.user_id.clone(),
        };
        let mut items = vec![put(&self.table, to_item(&profile)?, true)?, put(&self.table, to_item(&username)?, true)?];
        for email in &user.emails {
            let link = LinkItem {
                pk: keys::email(email),
                sk: keys::EMAIL.into(),
                entity: "email".into(),
                user_id: user.user_id.clone(),
            };
            items.push(put(&self.table, to_item(&link)?, true)?);
        }
        let written = self.transact(items).await? == Tx::Written;
        if written {
            Ok(())
        } else {
            Err(StoreError::Conflict(format!("user {} or username {}", user.user_id, user.username)))
        }
    }

    async fn user(&self, user_id: &str) -> Result<Option<User>, StoreError> {
        match self.get(keys::user(user_id), keys::PROFILE).await? {
            Some(item) => Ok(Some(from_item::<UserItem>(item)?.into())),
            None => Ok(None),
        }
    }

    async fn user_by_username(&self, username: &str) -> Result<Option<User>, StoreError> {
        let Some(item) = self.get(keys::username(username), keys::USERNAME).await? else {
            return Ok(None);
        };
        let link: LinkItem = from_item(item)?;
        self.user(&link.user_id).await
    }

    async fn user_by_email(&self, email: &str) -> Result<Option<User>, StoreError> {
        let Some(item) = self.get(keys::email(email), keys::EMAIL).await? else {
            return Ok(None);
        };
        let link: LinkItem = from_item(item)?;
        self.user(&link.user_id).await
    }
}

impl UserAdmin for DynamoStore {
    async fn set_roles(&self, user_id: &str, roles: &[String]) -> Result<(), StoreError> {
        let r = self
            .update_key(keys::user(user_id), keys::PROFILE)
            .update_expression("SET #r = :r")
            .condition_expression("attribute_exists(PK)")
            .expression_attribute_names("#r", "roles")
            .expression_attribute_values(":r", AttributeValue::L(roles.iter().map(s).collect()))
            .send()
            .await;
        if conditional(r)? { Ok(()) } else { Err(StoreError::Corrupt(format!("no user {user_id}"))) }
    }

    async fn set_active(&self, user_id: &str, active: bool) -> Result<(), StoreError> {
        let r = self
            .update_key(keys::user(user_id), keys::PROFILE)
            .update_expression("SET active = :a")
            .condition_expression("attribute_exists(PK)")
            .expression_attribute_values(":a", AttributeValue::Bool(active))
            .send()
            .await;
        if conditional(r)? { Ok(()) } else { Err(StoreError::Corrupt(format!("no user {user_id}"))) }
    }

    async fn set_two_factor(&self, user_id: &str, tf: &TwoFactor) -> Result<(), StoreError> {
        let mut update = self
            .update_key(keys::user(user_id), keys::PROFILE)
            .condition_expression("attribute_exists(PK)")
            .expression_attribute_values(":step", n(tf.totp_last_step))
            .expression_attribute_values(":email", AttributeValue::Bool(tf.email))
            .expression_attribute_values(
                ":codes",
                AttributeValue::M(tf.backup_codes.iter().map(|h| (h.clone(), AttributeValue::Bool(true))).collect()),
            );
        update = match &tf.totp_secret {
            Some(secret) => update
                .update_expression(
                    "SET totpSecret = :secret, totpLastStep = :step, emailTwoFactor = :email, backupCodes = :codes",
                )
                .expression_attribute_values(":secret", s(secret)),
            None => update.update_expression(
                "SET totpLastStep = :step, emailTwoFactor = :email, backupCodes = :codes REMOVE totpSecret",
            ),
        };
        if conditional(update.send().await)? { Ok(()) } else { Err(StoreError::Corrupt(format!("no user {user_id}"))) }
    }
}
