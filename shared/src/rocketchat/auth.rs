//! Authentication by `X-User-Id` + `X-Auth-Token` (Rocket.Chat's REST scheme).

use crate::core::clock::Millis;
use crate::core::ids::hash_token;
use crate::core::model::User;
use crate::core::permissions::holds;
use crate::request::{ApiRequest, RequestView};
use crate::store::{PermissionStore, StoreError, TokenStore, UserStore};

use super::errors::ApiError;

pub const USER_ID_HEADER: &str = "x-user-id";
pub const AUTH_TOKEN_HEADER: &str = "x-auth-token";

/// Longest token worth hashing; anything longer cannot be one of ours.
const MAX_TOKEN_LEN: usize = 256;

/// An authenticated caller: the user, and the session its token belongs to.
#[derive(Clone, PartialEq, Eq)]
pub struct Caller {
    pub user_id: String,
    pub session_id: String,
    pub token_hash: String,
    /// The token's 2FA trust: until when (epoch ms), for which client fingerprint.
    pub two_factor_trusted_until: Option<Millis>,
    pub two_factor_fingerprint: Option<String>,
    /// When the caller's token expires (epoch seconds).
    pub token_expires_at: i64,
    /// The caller's account, active.
    pub user: User,
}

crate::debug_redacted!(Caller { user_id, session_id, two_factor_trusted_until, token_expires_at, user } redacted { token_hash, two_factor_fingerprint });

/// What authentication reads: the token, and the account it claims (which must be active).
pub trait AuthStore: TokenStore + UserStore {}
impl<T: TokenStore + UserStore> AuthStore for T {}

/// Why a caller is not authenticated.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// Missing headers, unknown or expired token, or a token of another user: one answer for all.
    #[error("not logged in")]
    Unauthorized,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Looks the token up by its hash and checks it belongs to the claimed user, is live, and
/// that the user is active (a deactivated user's tokens stop working at once). The token
/// and the user are read concurrently.
pub async fn authenticate(store: &impl AuthStore, req: &ApiRequest, now: Millis) -> Result<Caller, AuthError> {
    let user_id = req.header(USER_ID_HEADER).unwrap_or("");
    let token = req.header(AUTH_TOKEN_HEADER).unwrap_or("");
    if user_id.is_empty() || token.is_empty() || token.len() > MAX_TOKEN_LEN {
        return Err(AuthError::Unauthorized);
    }
    let token_hash = hash_token(token);
    let (record, user) = tokio::try_join!(store.token(&token_hash), store.user(user_id))?;
    let record = record.ok_or(AuthError::Unauthorized)?;
    if record.user_id != user_id || !record.is_live(now) {
        return Err(AuthError::Unauthorized);
    }
    let user = user.filter(|u| u.active).ok_or(AuthError::Unauthorized)?;
    Ok(Caller {
        user_id: record.user_id,
        session_id: record.session_id,
        token_hash: record.token_hash,
        two_factor_trusted_until: record.two_factor_trusted_until,
        two_factor_fingerprint: record.two_factor_fingerprint,
        token_expires_at: record.expires_at,
        user,
    })
}

/// Whether any of the user's roles holds the permission.
pub async fn has_permission(store: &impl PermissionStore, user: &User, permission: &str) -> Result<bool, ApiError> {
    Ok(holds(user, store.permission_roles(permission).await?, permission))
}

/// 403 unless the user holds the permission.
pub async fn require_permission(store: &impl PermissionStore, user: &User, permission: &str) -> Result<(), ApiError> {
    if has_permission(store, user, permission).await? { Ok(()) } else { Err(ApiError::Forbidden) }
}
