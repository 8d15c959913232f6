//! Authentication by `X-User-Id` + `X-Auth-Token` (Rocket.Chat's REST scheme).

use crate::core::clock::Millis;
use crate::core::history::{EndReason, Ending};
use crate::core::ids::hash_token;
use crate::core::model::{LastUse, TokenRecord, User};
use crate::core::permissions::holds;
use crate::metrics::emit_count;
use crate::request::{ApiRequest, RequestView};
use crate::store::{
    ActivityPolicy, ActivityRecorder, PermissionStore, SessionEnder, SessionUse, StoreError, TokenStore, UserStore,
};

use super::errors::ApiError;

pub const USER_ID_HEADER: &str = "x-user-id";
pub const AUTH_TOKEN_HEADER: &str = "x-auth-token";

/// Longest token worth hashing; anything longer cannot be one of ours.
const MAX_TOKEN_LEN: usize = 256;
/// Longest `X-User-Id` looked up: ids are 17 characters; far past that a DynamoDB key would be
/// refused (over 2 KB), which must be a 401 like any unknown user, not an error.
const MAX_USER_ID_LEN: usize = 64;

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
    /// This use of the session, when its activity is due for a record (once per activity
    /// interval); [`record_activity`] writes it once the call is accepted.
    pub due_use: Option<SessionUse>,
}

crate::debug_redacted!(Caller { user_id, session_id, two_factor_trusted_until, token_expires_at, user, due_use } redacted { token_hash, two_factor_fingerprint });

/// What authentication reads and writes: the token, the account it claims (which must be
/// active), the session's activity, and the end of an idle session. Cloned into the
/// activity write that runs beside the handler.
pub trait AuthStore: TokenStore + UserStore + ActivityRecorder + SessionEnder + Clone + Send + Sync + 'static {}
impl<T: TokenStore + UserStore + ActivityRecorder + SessionEnder + Clone + Send + Sync + 'static> AuthStore for T {}

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
/// and the user are read concurrently. A session unused past the idle timeout is ended and
/// answered like an expired one; for one whose activity is due, the caller carries this use.
pub async fn authenticate(store: &impl AuthStore, req: &ApiRequest, now: Millis) -> Result<Caller, AuthError> {
    let user_id = req.header(USER_ID_HEADER).unwrap_or("");
    let token = req.header(AUTH_TOKEN_HEADER).unwrap_or("");
    if user_id.is_empty() || user_id.len() > MAX_USER_ID_LEN || token.is_empty() || token.len() > MAX_TOKEN_LEN {
        return Err(AuthError::Unauthorized);
    }
    let token_hash = hash_token(token);
    let (record, user) = tokio::try_join!(store.token(&token_hash), store.user(user_id))?;
    let record = record.ok_or(AuthError::Unauthorized)?;
    if record.user_id != user_id || !record.is_live(now) {
        return Err(AuthError::Unauthorized);
    }
    let user = user.filter(|u| u.active).ok_or(AuthError::Unauthorized)?;
    let policy = store.activity_policy();
    if policy.idle(record.last_activity_at, now) {
        end_idle(store, &record, now).await;
        return Err(AuthError::Unauthorized);
    }
    let due_use = policy.due(record.last_activity_at, now).then(|| this_use(req, &record, policy, now));
    Ok(Caller {
        user_id: record.user_id,
        session_id: record.session_id,
        token_hash: record.token_hash,
        two_factor_trusted_until: record.two_factor_trusted_until,
        two_factor_fingerprint: record.two_factor_fingerprint,
        token_expires_at: record.expires_at,
        user,
        due_use,
    })
}

/// Longest User-Agent recorded with a use.
const MAX_USER_AGENT: usize = 1024;

/// This call's use of the session: its time, address, User-Agent and location.
fn this_use(req: &ApiRequest, record: &TokenRecord, policy: ActivityPolicy, now: Millis) -> SessionUse {
    SessionUse {
        user_id: record.user_id.clone(),
        session_id: record.session_id.clone(),
        token_hash: record.token_hash.clone(),
        at: now,
        last: LastUse {
            ip: req.client_ip(policy.trust_cloudfront),
            user_agent: req.user_agent().chars().take(MAX_USER_AGENT).collect(),
            geo: req.location(policy.trust_cloudfront),
        },
    }
}

/// Records the caller's use of its session, if due, beside the handler's remaining work (so
/// it adds no sequential round trip); the request waits for it before answering. Handlers
/// call it once the call is accepted (authorized, well-formed, past 2FA): a refused call
/// changes nothing. A write DynamoDB refuses is dropped for this call, logged and counted
/// (metric `ActivityWritesDropped`), never retried and never the request's failure.
pub fn record_activity(store: &impl AuthStore, req: &ApiRequest, caller: &Caller) {
    let Some(used) = caller.due_use.clone() else {
        return;
    };
    let (store, interval) = (store.clone(), store.activity_policy().interval_ms);
    req.defer(async move {
        if let Err(e) = store.record_activity(&used, interval).await {
            tracing::warn!(error = %e, session_id = %used.session_id, "activity not recorded");
            emit_count("ActivityWritesDropped");
        }
    });
}

/// Ends a session found idle. Its token is refused either way; if DynamoDB fails here, the
/// next call finds it idle again (or TTL removes it).
async fn end_idle(store: &impl AuthStore, record: &TokenRecord, now: Millis) {
    let idle = Ending::by_system(EndReason::Idle, now);
    match store.end_session(&record.user_id, &record.session_id, &idle).await {
        Ok(_) => tracing::info!(session_id = %record.session_id, reason = "idle", "session ended"),
        Err(e) => tracing::warn!(error = %e, session_id = %record.session_id, "an idle session could not be ended"),
    }
}

/// Whether any of the user's roles holds the permission.
pub async fn has_permission(store: &impl PermissionStore, user: &User, permission: &str) -> Result<bool, ApiError> {
    Ok(holds(user, store.permission_roles(permission).await?, permission))
}

/// 403 unless the user holds the permission.
pub async fn require_permission(store: &impl PermissionStore, user: &User, permission: &str) -> Result<(), ApiError> {
    if has_permission(store, user, permission).await? { Ok(()) } else { Err(ApiError::Forbidden) }
}
