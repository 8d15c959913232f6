//! Administrators' changes to other users' accounts (docs/accounts.md).

use super::ApiError;
use crate::core::clock::Millis;
use crate::core::history::Actor;
use crate::core::permissions::{EDIT_OTHER_USER_ACTIVE_STATUS, MANAGE_MODERATION_ACTIONS};
use crate::request::{ApiRequest, RequestView};
use crate::rocketchat::active_status_body::parse_set_active_status;
use crate::rocketchat::auth::{AuthStore, authenticate, has_permission, record_activity};
use crate::store::{AccountStatus, PermissionStore};

/// A user's status after users.setActiveStatus.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActiveStatus {
    pub user_id: String,
    pub active: bool,
}

/// POST /api/v1/users.setActiveStatus: the caller (401), the body (400), then either
/// permission Rocket.Chat accepts (403); deactivating ends every session of the user, the
/// caller's own too when it names itself.
pub async fn set_active_status<S: AuthStore + PermissionStore + AccountStatus>(
    store: &S,
    req: &ApiRequest,
    now: Millis,
) -> Result<ActiveStatus, ApiError> {
    let caller = authenticate(store, req, now).await?;
    let (user_id, active) = parse_set_active_status(req.body_bytes())?;
    let (edit, moderate) = tokio::try_join!(
        has_permission(store, &caller.user, EDIT_OTHER_USER_ACTIVE_STATUS),
        has_permission(store, &caller.user, MANAGE_MODERATION_ACTIONS),
    )?;
    if !(edit || moderate) {
        return Err(ApiError::Forbidden);
    }
    if user_id.is_empty() || user_id.len() > 64 {
        return Err(ApiError::UserNotFound);
    }
    let changed = store.set_account_active(&user_id, active, Actor::User(caller.user_id.clone()), now).await?;
    let changed = changed.ok_or(ApiError::UserNotFound)?;
    // The caller's session records this use, unless it just ended with its own account.
    if user_id != caller.user_id {
        record_activity(store, req, &caller);
    }
    Ok(ActiveStatus { user_id: changed.user.user_id, active: changed.user.active })
}
