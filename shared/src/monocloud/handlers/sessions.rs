//! MonoCloud's user-sessions management API for back-end services (docs/seeds/, the fourth
//! seed), over the same sessions, authenticated by `X-API-KEY`.

use super::McPage;
use crate::core::clock::Millis;
use crate::core::history::{EndReason, Ending};
use crate::core::model::Session;
use crate::core::order::Direction;
use crate::core::scopes::Scope;
use crate::monocloud::auth::{Authorized, authorized};
use crate::monocloud::errors::McError;
use crate::monocloud::query::{parse_list_params, path_param, single};
use crate::request::{ApiRequest, RequestView};
use crate::store::{ApiKeyStore, SessionEnder, UserSessionReader, UserStore};

/// GET /api/users/{user_id}/sessions
pub async fn list<S: ApiKeyStore + UserStore + UserSessionReader>(
    store: &S,
    req: &ApiRequest,
    now: Millis,
) -> Result<McPage, McError> {
    let Authorized { checked: params, user_id, .. } =
        authorized(store, req, Scope::ReadSessions, || parse_list_params(&req.query_pairs())).await?;
    let mut sessions: Vec<Session> = store
        .user_sessions(&user_id)
        .await?
        .into_iter()
        .filter(|s| s.is_live(now))
        .filter(|s| params.client_id.as_ref().is_none_or(|c| s.client_ids.contains(c)))
        .collect();
    let (key, direction) = params.sort;
    sessions.sort_by(|a, b| {
        let o = key.compare(a, b);
        if direction == Direction::Descending { o.reverse() } else { o }
    });
    let total = sessions.len();
    let start = (params.page - 1).saturating_mul(params.size);
    let sessions = sessions.into_iter().skip(start).take(params.size).collect();
    Ok(McPage { sessions, total, page: params.page, size: params.size })
}

/// GET /api/users/{user_id}/sessions/{session_id}
pub async fn get<S: ApiKeyStore + UserStore + UserSessionReader>(
    store: &S,
    req: &ApiRequest,
    now: Millis,
) -> Result<Session, McError> {
    let Authorized { user_id, .. } = authorized(store, req, Scope::ReadSessions, || Ok(())).await?;
    let session_id = path_param(req, "session_id")?;
    store
        .user_session(&user_id, &session_id)
        .await?
        .filter(|s| s.is_live(now))
        .ok_or(McError::NotFound("Session not found"))
}

/// DELETE /api/users/{user_id}/sessions/{session_id}: its token stops working at once.
pub async fn revoke<S: ApiKeyStore + UserStore + SessionEnder>(
    store: &S,
    req: &ApiRequest,
    now: Millis,
) -> Result<(), McError> {
    let Authorized { user_id, actor, .. } = authorized(store, req, Scope::RevokeSessions, || Ok(())).await?;
    let session_id = path_param(req, "session_id")?;
    if store.end_session(&user_id, &session_id, &Ending::new(EndReason::Revoke, actor, now)).await? {
        Ok(())
    } else {
        Err(McError::NotFound("Session not found"))
    }
}

/// DELETE /api/users/{user_id}/sessions[?except=<session_id>]: the number revoked. An
/// `except` that names no live session of the user (a typo, an ended session) revokes nothing
/// and answers 404, rather than every session, the caller's own among them. The kept session
/// is read beside the key and the user: no round trip is added.
pub async fn revoke_all<S: ApiKeyStore + UserStore + UserSessionReader + SessionEnder>(
    store: &S,
    req: &ApiRequest,
    now: Millis,
) -> Result<usize, McError> {
    let except = || Ok(single(&req.query_pairs(), "except")?.map(str::to_string));
    let kept = async {
        match (except(), path_param(req, "user_id")) {
            (Ok(Some(id)), Ok(user)) if id.len() <= 64 => store.user_session(&user, &id).await,
            _ => Ok(None),
        }
    };
    let (authorized, kept) = tokio::join!(authorized(store, req, Scope::RevokeSessions, except), kept);
    let Authorized { checked: except, user_id, actor, .. } = authorized?;
    if except.is_some() && !kept?.is_some_and(|s| s.is_live(now)) {
        return Err(McError::NotFound("Session not found"));
    }
    Ok(store.end_sessions(&user_id, except.as_deref(), &Ending::new(EndReason::RevokeAll, actor, now)).await?)
}
