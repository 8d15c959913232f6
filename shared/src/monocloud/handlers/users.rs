//! MonoCloud's user status routes (`UsersClient.disableUser` and `enableUser` of
//! `monocloud/management-js`), by API key, on the path every deactivation takes
//! (store::AccountStatus, docs/accounts.md).

use std::collections::BTreeMap;

use serde_json::Value;

use crate::core::clock::Millis;
use crate::core::config::Config;
use crate::core::model::User;
use crate::core::scopes::Scope;
use crate::monocloud::auth::{Authorized, authorized};
use crate::monocloud::errors::McError;
use crate::request::{ApiRequest, RequestView};
use crate::store::{AccountStatus, ApiKeyStore, LoginBlock, LoginLimitKey, LoginLimitStore, UserStore};

/// A user as a route left or read it, when, and its account's failed-login block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserChanged {
    pub user: User,
    pub at: Millis,
    pub block: LoginBlock,
}

/// POST /api/users/{user_id}/disable: `{"revoke_sessions"?: boolean}`. Every session of the
/// user ends whatever `revoke_sessions` says, so that enabling the user again brings no old
/// token back (docs/monocloud.md).
pub async fn disable<S: StatusStore>(
    store: &S,
    config: &Config,
    req: &ApiRequest,
    now: Millis,
) -> Result<UserChanged, McError> {
    set_status(store, config, req, false, now).await
}

/// POST /api/users/{user_id}/enable.
pub async fn enable<S: StatusStore>(
    store: &S,
    config: &Config,
    req: &ApiRequest,
    now: Millis,
) -> Result<UserChanged, McError> {
    set_status(store, config, req, true, now).await
}

/// What the status routes touch in the store.
pub trait StatusStore: ApiKeyStore + UserStore + AccountStatus + LoginLimitStore {}
impl<T: ApiKeyStore + UserStore + AccountStatus + LoginLimitStore> StatusStore for T {}

/// The key (401), the body (400, 422), the user (404), then the change, beside the read of
/// the account's block.
async fn set_status<S: StatusStore>(
    store: &S,
    config: &Config,
    req: &ApiRequest,
    active: bool,
    now: Millis,
) -> Result<UserChanged, McError> {
    let Authorized { user_id, actor, .. } =
        authorized(store, req, Scope::ManageUsers, || check_body(req.body_bytes(), active)).await?;
    let account = LoginLimitKey::Account(user_id.clone());
    let (changed, block) = tokio::join!(
        store.set_account_active(&user_id, active, actor, now),
        store.login_block(&account, now, config.login_limit_user())
    );
    let changed = changed?.ok_or(McError::NotFound("User not found"))?;
    Ok(UserChanged { user: changed.user, at: now, block: block? })
}

/// disable's body (`DisableUserRequest`): empty, or an object whose `revoke_sessions`, if
/// given, is a boolean; other fields are ignored. enable has no body, and any is ignored.
fn check_body(body: &[u8], enabling: bool) -> Result<(), McError> {
    if enabling || body.iter().all(u8::is_ascii_whitespace) {
        return Ok(());
    }
    let Ok(Value::Object(fields)) = serde_json::from_slice::<Value>(body) else {
        return Err(McError::BadRequest("The request body must be a JSON object.".into()));
    };
    match fields.get("revoke_sessions") {
        None | Some(Value::Bool(_) | Value::Null) => Ok(()),
        Some(_) => {
            let message = "The field revoke_sessions must be a boolean.".to_string();
            Err(McError::Validation(BTreeMap::from([("revoke_sessions".to_string(), vec![message])])))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disable_reads_revoke_sessions_and_enable_ignores_its_body() {
        for body in
            ["", "{}", r#"{"revoke_sessions":true}"#, r#"{"revoke_sessions":false}"#, r#"{"revoke_sessions":null}"#]
        {
            assert_eq!(check_body(body.as_bytes(), false), Ok(()), "{body}");
        }
        assert_eq!(check_body(br#"{"revoke_sessions":true,"other":1}"#, false), Ok(()));
        assert_eq!(check_body(b"anything", true), Ok(()));
        assert!(matches!(check_body(br#"{"revoke_sessions":"yes"}"#, false), Err(McError::Validation(_))));
        assert!(matches!(check_body(b"[true]", false), Err(McError::BadRequest(_))));
        assert!(matches!(check_body(b"not json", false), Err(McError::BadRequest(_))));
    }
}
