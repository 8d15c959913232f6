//! Account-wide session actions Rocket.Chat's web and mobile apps call: end every other
//! session of the caller, or every session of the caller or (with `logout-other-user`)
//! of another user. Each ends sessions and their tokens at once.

use serde_json::Value;

use super::ApiError;
use crate::core::clock::Millis;
use crate::core::history::{EndReason, Ending};
use crate::core::model::User;
use crate::core::permissions::LOGOUT_OTHER_USER;
use crate::request::{ApiRequest, RequestView};
use crate::rocketchat::auth::require_permission;
use crate::rocketchat::auth::{AUTH_TOKEN_HEADER, AuthStore, authenticate, record_activity};
use crate::store::{PermissionStore, SessionEnder, StoreError, UserSessionReader};

/// What the account actions read and write.
pub trait AccountStore: AuthStore + UserSessionReader + SessionEnder {}
impl<T: AuthStore + UserSessionReader + SessionEnder> AccountStore for T {}

/// The caller's token after the other sessions ended (users.logoutOtherClients).
#[derive(Clone, PartialEq, Eq)]
pub struct OtherClientsLoggedOut {
    pub token: String,
    /// Epoch seconds.
    pub token_expires_at: i64,
}

crate::debug_redacted!(OtherClientsLoggedOut { token_expires_at } redacted { token });

/// Ends every live session of `user_id` but `except`; how many it ended.
pub async fn end_sessions_of(
    store: &(impl UserSessionReader + SessionEnder),
    user_id: &str,
    except: Option<&str>,
    ending: &Ending,
) -> Result<usize, StoreError> {
    store.end_sessions(user_id, except, ending).await
}

/// POST /api/v1/users.logoutOtherClients
pub async fn logout_other_clients<S: AccountStore>(
    store: &S,
    req: &ApiRequest,
    now: Millis,
) -> Result<OtherClientsLoggedOut, ApiError> {
    let caller = authenticate(store, req, now).await?;
    record_activity(store, req, &caller);
    let ending = Ending::by_user(EndReason::LogoutOtherClients, &caller.user_id, now);
    end_sessions_of(store, &caller.user_id, Some(&caller.session_id), &ending).await?;
    let token = req.header(AUTH_TOKEN_HEADER).unwrap_or("").to_string();
    Ok(OtherClientsLoggedOut { token, token_expires_at: caller.token_expires_at })
}

/// POST /api/v1/users.removeOtherTokens (the mobile app sends its own `userId`, unused).
pub async fn remove_other_tokens<S: AccountStore>(store: &S, req: &ApiRequest, now: Millis) -> Result<(), ApiError> {
    let caller = authenticate(store, req, now).await?;
    record_activity(store, req, &caller);
    let ending = Ending::by_user(EndReason::RemoveOtherTokens, &caller.user_id, now);
    end_sessions_of(store, &caller.user_id, Some(&caller.session_id), &ending).await?;
    Ok(())
}

/// POST /api/v1/users.logout: every session of the caller, or of body `userId` (another
/// user needs `logout-other-user`, checked before the user is looked up, as Rocket.Chat
/// does); the id of the user logged out.
pub async fn logout_user<S: AccountStore + PermissionStore>(
    store: &S,
    req: &ApiRequest,
    now: Millis,
) -> Result<String, ApiError> {
    let caller = authenticate(store, req, now).await?;
    let user_id = match body_user_id(req.body_bytes())? {
        Some(id) if id != caller.user_id => {
            require_permission(store, &caller.user, LOGOUT_OTHER_USER).await?;
            if id.len() > 64 || store.user(&id).await?.is_none() {
                return Err(ApiError::InvalidUserId);
            }
            // Another user's sessions end: the caller's own goes on, and records this use.
            record_activity(store, req, &caller);
            id
        }
        _ => caller.user_id.clone(),
    };
    end_sessions_of(store, &user_id, None, &Ending::by_user(EndReason::UsersLogout, &caller.user_id, now)).await?;
    Ok(user_id)
}

/// The optional `userId` of a users.logout body (no body, or `{}`, means the caller).
fn body_user_id(body: &[u8]) -> Result<Option<String>, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    if body.len() > 64 * 1024 {
        return Err(ApiError::InvalidParams("request body must NOT be larger than 65536 bytes".into()));
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => match map.get("userId") {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(id)) if id.is_empty() => Ok(None),
            Some(Value::String(id)) => Ok(Some(id.clone())),
            Some(_) => Err(ApiError::InvalidParams("/userId must be string".into())),
        },
        _ => Err(ApiError::InvalidParams("request body must be a JSON object".into())),
    }
}

/// GET /api/v1/me: the caller's account, as Rocket.Chat's apps and clients read it right
/// after login.
pub async fn me<S: AuthStore>(store: &S, req: &ApiRequest, now: Millis) -> Result<User, ApiError> {
    let caller = authenticate(store, req, now).await?;
    record_activity(store, req, &caller);
    Ok(caller.user)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_user_id_of_a_logout_body() {
        assert_eq!(body_user_id(b"").unwrap(), None);
        assert_eq!(body_user_id(b"{}").unwrap(), None);
        assert_eq!(body_user_id(br#"{"userId":"abc"}"#).unwrap(), Some("abc".into()));
        assert!(
            matches!(body_user_id(br#"{"userId":1}"#), Err(ApiError::InvalidParams(m)) if m == "/userId must be string")
        );
        assert!(matches!(body_user_id(b"nope"), Err(ApiError::InvalidParams(_))));
    }
}
