//! Authentication by `X-User-Id` + `X-Auth-Token` (Rocket.Chat's REST scheme).

use crate::clock::Millis;
use crate::ids::hash_token;
use crate::request::{ApiRequest, RequestView};
use crate::store::{StoreError, TokenStore};

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
}

crate::debug_redacted!(Caller { user_id, session_id, two_factor_trusted_until } redacted { token_hash, two_factor_fingerprint });

/// Why a caller is not authenticated.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// Missing headers, unknown or expired token, or a token of another user: one answer for all.
    #[error("not logged in")]
    Unauthorized,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Looks the token up by its hash and checks it belongs to the claimed user and is live.
pub async fn authenticate(store: &impl TokenStore, req: &ApiRequest, now: Millis) -> Result<Caller, AuthError> {
    let user_id = req.header(USER_ID_HEADER).unwrap_or("");
    let token = req.header(AUTH_TOKEN_HEADER).unwrap_or("");
    if user_id.is_empty() || token.is_empty() || token.len() > MAX_TOKEN_LEN {
        return Err(AuthError::Unauthorized);
    }
    let record = store.token(&hash_token(token)).await?.ok_or(AuthError::Unauthorized)?;
    if record.user_id != user_id || !record.is_live(now) {
        return Err(AuthError::Unauthorized);
    }
    Ok(Caller {
        user_id: record.user_id,
        session_id: record.session_id,
        token_hash: record.token_hash,
        two_factor_trusted_until: record.two_factor_trusted_until,
        two_factor_fingerprint: record.two_factor_fingerprint,
    })
}
