//! Authentication by `X-API-KEY` (MonoCloud's management API key), and the path's user.

use subtle::ConstantTimeEq;

use super::errors::McError;
use super::query::path_param;
use crate::core::history::Actor;
use crate::core::ids::sha256_hex;
use crate::core::model::User;
use crate::core::scopes::Scope;
use crate::request::{ApiRequest, RequestView};
use crate::store::{ApiKeyStore, UserStore};

pub const API_KEY_HEADER: &str = "x-api-key";

/// 401 unless `X-API-KEY` names an enabled key, then 403 unless the key holds `scope`. Only
/// the key's hash is looked up and compared. The key's public id is who acts (history
/// records, the audit log).
pub async fn authorize(store: &impl ApiKeyStore, req: &ApiRequest, scope: Scope) -> Result<Actor, McError> {
    let key = req.header(API_KEY_HEADER).unwrap_or("").trim();
    if key.is_empty() || key.len() > 256 {
        return Err(McError::Unauthorized);
    }
    let hash = sha256_hex(key);
    match store.api_key(&hash).await? {
        Some(k) if !k.disabled && bool::from(k.key_hash.as_bytes().ct_eq(hash.as_bytes())) => {
            if k.allows(scope) {
                Ok(Actor::ApiKey(k.key_id))
            } else {
                Err(McError::Forbidden(scope))
            }
        }
        _ => Err(McError::Unauthorized),
    }
}

async fn existing_user(store: &impl UserStore, req: &ApiRequest) -> Result<User, McError> {
    let user_id = path_param(req, "user_id")?;
    store.user(&user_id).await?.ok_or(McError::NotFound("User not found"))
}

/// An authorized call: its checked parameters, the path's user and the key acting.
pub struct Authorized<T> {
    pub checked: T,
    pub user_id: String,
    /// The path's user as read before anything changed.
    pub user: User,
    pub actor: Actor,
}

/// The API key and the path's user, read in one round trip: 401 comes first, then 403 for a
/// key without `scope`, then `checks` (the request's own parameters), then 404 for an
/// unknown user.
pub async fn authorized<T>(
    store: &(impl ApiKeyStore + UserStore),
    req: &ApiRequest,
    scope: Scope,
    checks: impl FnOnce() -> Result<T, McError>,
) -> Result<Authorized<T>, McError> {
    let (key, user) = tokio::join!(authorize(store, req, scope), existing_user(store, req));
    let actor = key?;
    let checked = checks()?;
    let user = user?;
    Ok(Authorized { checked, user_id: user.user_id.clone(), user, actor })
}
