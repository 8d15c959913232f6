//! Users: the profile item, and the username and email links that find it. Each link also
//! carries a copy of what a password login reads (the login copy), written with the profile
//! in one transaction by every change to those fields, so a login reads one item.

use std::future::Future;

use aws_sdk_dynamodb::types::AttributeValue;
use serde::{Deserialize, Serialize};

use aws_sdk_dynamodb::types::{TransactWriteItem, Update};

use super::attributes::{Item, from_item, number_value, string_value, to_item};
use super::error::StoreError;
use super::transactions::{Tx, transact_put};
use super::{DynamoStore, keys};
use crate::core::model::{TwoFactor, User};

/// User accounts.
pub trait UserStore {
    fn create_user(&self, user: &User) -> impl Future<Output = Result<(), StoreError>> + Send;
    fn user(&self, user_id: &str) -> impl Future<Output = Result<Option<User>, StoreError>> + Send;
    fn user_by_username(&self, username: &str) -> impl Future<Output = Result<Option<User>, StoreError>> + Send;
    fn user_by_email(&self, email: &str) -> impl Future<Output = Result<Option<User>, StoreError>> + Send;
    /// The user a password login names, by username or by email, in one read when the link's
    /// login copy serves: then it has no second factor, and its `two_factor` is left empty
    /// (no TOTP step or backup codes). A user with a second factor, or a link written before
    /// the copy existed, is read from the profile as well.
    fn user_for_login(
        &self,
        login: &str,
        by_email: bool,
    ) -> impl Future<Output = Result<Option<User>, StoreError>> + Send;
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

/// What a password login reads of a user: on the profile, and copied onto each of its links
/// under the same attribute names, so one update expression changes both.
#[derive(Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct LoginFields {
    #[serde(default)]
    username: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(default)]
    emails: Vec<String>,
    #[serde(default)]
    roles: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    password_bcrypt: Option<String>,
    #[serde(default)]
    active: bool,
}

impl LoginFields {
    fn of(user: &User) -> Self {
        LoginFields {
            username: user.username.clone(),
            name: user.name.clone(),
            emails: user.emails.clone(),
            roles: user.roles.clone(),
            password_bcrypt: user.password_bcrypt.clone(),
            active: user.active,
        }
    }

    fn into_user(self, user_id: String, two_factor: TwoFactor) -> User {
        User {
            user_id,
            username: self.username,
            name: self.name,
            emails: self.emails,
            roles: self.roles,
            password_bcrypt: self.password_bcrypt,
            active: self.active,
            two_factor,
        }
    }
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
    #[serde(flatten)]
    login: LoginFields,
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

impl UserItem {
    fn of(user: &User) -> Self {
        UserItem {
            pk: keys::user(&user.user_id),
            sk: keys::PROFILE.into(),
            entity: "user".into(),
            user_id: user.user_id.clone(),
            login: LoginFields::of(user),
            totp_secret: user.two_factor.totp_secret.clone(),
            totp_last_step: user.two_factor.totp_last_step,
            backup_codes: user.two_factor.backup_codes.iter().map(|h| (h.clone(), true)).collect(),
            email_two_factor: user.two_factor.email,
        }
    }
}

impl From<UserItem> for User {
    fn from(i: UserItem) -> Self {
        let two_factor = TwoFactor {
            totp_secret: i.totp_secret,
            totp_last_step: i.totp_last_step,
            backup_codes: i.backup_codes.into_keys().collect(),
            email: i.email_two_factor,
        };
        i.login.into_user(i.user_id, two_factor)
    }
}

/// A lookup key pointing at a user: `USERNAME#<lower>` or `EMAIL#<lower>`, with the login
/// copy (absent from links written before it existed).
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct LinkItem {
    #[serde(rename = "PK")]
    pk: String,
    #[serde(rename = "SK")]
    sk: String,
    entity: String,
    user_id: String,
    /// Set when the link was written with the whole copy; updates keep it in step.
    #[serde(default)]
    login_copy: bool,
    #[serde(flatten)]
    login: LoginFields,
    /// `User::has_second_factor`: login then reads the profile for its 2FA state.
    #[serde(default)]
    second_factor: bool,
}

impl LinkItem {
    fn new(pk: String, sk: &str, entity: &str, user: &User) -> Self {
        LinkItem {
            pk,
            sk: sk.into(),
            entity: entity.into(),
            user_id: user.user_id.clone(),
            login_copy: true,
            login: LoginFields::of(user),
            second_factor: user.has_second_factor(),
        }
    }

    /// The user as login needs it, when the copy serves (see `user_for_login`).
    fn login_user(self) -> Option<User> {
        (self.login_copy && !self.second_factor).then(|| self.login.into_user(self.user_id, TwoFactor::default()))
    }
}

/// The key of the link a login names: its username's, or its email's.
fn link_key(login: &str, by_email: bool) -> (String, &'static str) {
    if by_email { (keys::email(login), keys::EMAIL) } else { (keys::username(login), keys::USERNAME) }
}

/// The keys of a user's links: its username's and each email's.
fn link_keys(user: &User) -> Vec<(String, &'static str)> {
    std::iter::once(link_key(&user.username, false)).chain(user.emails.iter().map(|e| link_key(e, true))).collect()
}

/// One SET/REMOVE of a user's attributes, the same on the profile and the links: its
/// expression, names (for reserved words) and values.
#[derive(Default)]
struct Change<'a> {
    expression: &'a str,
    names: Vec<(&'a str, &'a str)>,
    values: Vec<(&'a str, AttributeValue)>,
}

impl DynamoStore {
    async fn existing_user(&self, user_id: &str) -> Result<User, StoreError> {
        self.user(user_id).await?.ok_or_else(|| StoreError::Corrupt(format!("no user {user_id}")))
    }

    async fn link(&self, (pk, sk): (String, &str)) -> Result<Option<LinkItem>, StoreError> {
        self.get(pk, sk).await?.map(from_item).transpose()
    }

    /// The profile a link points at.
    async fn linked_user(&self, key: (String, &str)) -> Result<Option<User>, StoreError> {
        match self.link(key).await? {
            Some(link) => self.user(&link.user_id).await,
            None => Ok(None),
        }
    }

    /// Sets `active` on `user`'s profile and links, the user already read.
    pub(super) async fn set_active_of(&self, user: &User, active: bool) -> Result<(), StoreError> {
        let change = || Change {
            expression: "SET active = :a",
            values: vec![(":a", AttributeValue::Bool(active))],
            ..Change::default()
        };
        self.change_user(user, change(), change()).await
    }

    /// Applies `profile` to the user's profile and `links` to each of its links, in one
    /// transaction: the login copy never disagrees with the profile. Usernames and emails
    /// never change, so the links read first are the links written. A link that is gone or
    /// names another user signs nobody in as this user, so it is left out and the change
    /// written without it: a broken link never blocks a deactivation.
    async fn change_user(&self, user: &User, profile: Change<'_>, links: Change<'_>) -> Result<(), StoreError> {
        let user_id = user.user_id.as_str();
        let update = |pk: String, sk: &str, change: &Change, condition: &str, extra: Option<(&str, AttributeValue)>| {
            let values: Item = change.values.iter().cloned().chain(extra).map(|(k, v)| (k.to_string(), v)).collect();
            let update = Update::builder()
                .table_name(&self.table)
                .key(keys::PK, string_value(pk))
                .key(keys::SK, string_value(sk))
                .update_expression(change.expression)
                .set_expression_attribute_names(
                    (!change.names.is_empty())
                        .then(|| change.names.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()),
                )
                .condition_expression(condition)
                .set_expression_attribute_values((!values.is_empty()).then_some(values))
                .build()
                .map_err(|e| StoreError::Dynamo(e.to_string()))?;
            Ok::<_, StoreError>(TransactWriteItem::builder().update(update).build())
        };
        let mut items = vec![update(keys::user(user_id), keys::PROFILE, &profile, "attribute_exists(PK)", None)?];
        for (pk, sk) in link_keys(user) {
            items.push(update(pk, sk, &links, "userId = :uid", Some((":uid", string_value(user_id))))?);
        }
        // Each pass leaves out the links that failed; the profile (item 0) is never left out,
        // so this ends within one pass per link.
        loop {
            match self.transact(items.clone()).await? {
                Tx::Written => return Ok(()),
                Tx::ConditionFailed(failed) if failed.contains(&0) => {
                    return Err(StoreError::Corrupt(format!("no user {user_id}")));
                }
                Tx::ConditionFailed(failed) if failed.is_empty() => {
                    return Err(StoreError::Corrupt(format!("a change of user {user_id} failed a condition")));
                }
                Tx::ConditionFailed(failed) => {
                    tracing::warn!(user_id, links = failed.len(), "user changed without its missing or moved links");
                    items =
                        items.into_iter().enumerate().filter(|(i, _)| !failed.contains(i)).map(|(_, x)| x).collect();
                }
            }
        }
    }
}

impl UserStore for DynamoStore {
    async fn create_user(&self, user: &User) -> Result<(), StoreError> {
        let profile = UserItem::of(user);
        let mut items = vec![transact_put(&self.table, to_item(&profile)?, true)?];
        for (pk, sk) in link_keys(user) {
            let entity = if sk == keys::USERNAME { "username" } else { "email" };
            items.push(transact_put(&self.table, to_item(&LinkItem::new(pk, sk, entity, user))?, true)?);
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
        self.linked_user(link_key(username, false)).await
    }

    async fn user_by_email(&self, email: &str) -> Result<Option<User>, StoreError> {
        self.linked_user(link_key(email, true)).await
    }

    async fn user_for_login(&self, login: &str, by_email: bool) -> Result<Option<User>, StoreError> {
        let Some(link) = self.link(link_key(login, by_email)).await? else {
            return Ok(None);
        };
        let user_id = link.user_id.clone();
        match link.login_user() {
            Some(user) => Ok(Some(user)),
            None => self.user(&user_id).await,
        }
    }
}

impl UserAdmin for DynamoStore {
    async fn set_roles(&self, user_id: &str, roles: &[String]) -> Result<(), StoreError> {
        let roles = AttributeValue::L(roles.iter().map(string_value).collect());
        let change =
            || Change { expression: "SET #r = :r", names: vec![("#r", "roles")], values: vec![(":r", roles.clone())] };
        self.change_user(&self.existing_user(user_id).await?, change(), change()).await
    }

    async fn set_active(&self, user_id: &str, active: bool) -> Result<(), StoreError> {
        self.set_active_of(&self.existing_user(user_id).await?, active).await
    }

    async fn set_two_factor(&self, user_id: &str, tf: &TwoFactor) -> Result<(), StoreError> {
        let user = self.existing_user(user_id).await?;
        let mut values = vec![
            (":step", number_value(tf.totp_last_step)),
            (":email", AttributeValue::Bool(tf.email)),
            (
                ":codes",
                AttributeValue::M(tf.backup_codes.iter().map(|h| (h.clone(), AttributeValue::Bool(true))).collect()),
            ),
        ];
        let expression = match &tf.totp_secret {
            Some(secret) => {
                values.push((":secret", string_value(secret)));
                "SET totpSecret = :secret, totpLastStep = :step, emailTwoFactor = :email, backupCodes = :codes"
            }
            None => "SET totpLastStep = :step, emailTwoFactor = :email, backupCodes = :codes REMOVE totpSecret",
        };
        // Emails never change, so the flag computed from them now stays right.
        let second_factor = User { two_factor: tf.clone(), ..user.clone() }.has_second_factor();
        let links = Change {
            expression: "SET secondFactor = :f",
            values: vec![(":f", AttributeValue::Bool(second_factor))],
            ..Change::default()
        };
        self.change_user(&user, Change { expression, values, ..Change::default() }, links).await
    }
}

impl DynamoStore {
    /// A transaction's check that the user's profile exists and is active.
    pub(super) fn active_account_check(&self, user_id: &str) -> Result<TransactWriteItem, StoreError> {
        let key = [
            (keys::PK.to_string(), AttributeValue::S(keys::user(user_id))),
            (keys::SK.to_string(), AttributeValue::S(keys::PROFILE.into())),
        ];
        let check = aws_sdk_dynamodb::types::ConditionCheck::builder()
            .table_name(&self.table)
            .set_key(Some(key.into()))
            .condition_expression("active = :active")
            .expression_attribute_values(":active", AttributeValue::Bool(true))
            .build()
            .map_err(|e| StoreError::Dynamo(e.to_string()))?;
        Ok(TransactWriteItem::builder().condition_check(check).build())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user() -> User {
        User {
            user_id: "u1".into(),
            username: "ann".into(),
            name: Some("Ann".into()),
            emails: vec!["ann@example.com".into()],
            roles: vec!["user".into()],
            password_bcrypt: Some("$2b$hash".into()),
            active: true,
            two_factor: TwoFactor {
                totp_secret: Some("GEZDGNBVGY3TQOJQ".into()),
                totp_last_step: 58_801_234,
                backup_codes: vec!["a1".into(), "b2".into()],
                email: true,
            },
        }
    }

    #[test]
    fn the_profile_and_the_link_keep_the_login_fields_under_the_same_names() {
        let u = user();
        let item = to_item(&UserItem::of(&u)).unwrap();
        assert!(item["totpLastStep"].as_n().is_ok() && item["roles"].as_l().is_ok());
        assert!(u == User::from(from_item::<UserItem>(item.clone()).unwrap()), "the profile round-trips");
        let link = to_item(&LinkItem::new(keys::username("ann"), keys::USERNAME, "username", &u)).unwrap();
        for name in ["username", "name", "emails", "roles", "passwordBcrypt", "active"] {
            assert_eq!(link.get(name), item.get(name), "{name}");
        }
        // A second factor: the copy does not serve. Without one it gives the user, 2FA empty.
        assert!(from_item::<LinkItem>(link).unwrap().login_user().is_none());
        let plain = User { two_factor: TwoFactor::default(), ..u };
        let link = to_item(&LinkItem::new(keys::username("ann"), keys::USERNAME, "username", &plain)).unwrap();
        assert!(from_item::<LinkItem>(link).unwrap().login_user() == Some(plain));
        // A link from before the copy: its id and nothing else.
        let old =
            to_item(&serde_json::json!({"PK": "USERNAME#ann", "SK": "USERNAME", "entity": "username", "userId": "u1"}))
                .unwrap();
        assert!(from_item::<LinkItem>(old).unwrap().login_user().is_none());
    }
}
