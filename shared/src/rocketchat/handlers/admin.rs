//! Administrator device management: every user's sessions, behind a permission and
//! step-up 2FA. Checks run in docs/rocketchat.md's order: auth → permission → parameters → 2FA.

use super::sessions::{session_id_from_body, session_id_from_query};
use super::{AdminInfo, ApiError, SessionEnded, SessionInfo, SessionPage};
use crate::core::clock::Millis;
use crate::core::config::Config;
use crate::core::history::{EndReason, EndedSession, Ending};
use crate::core::model::Session;
use crate::core::model::User;
use crate::core::order::Scope;
use crate::core::permissions::{self, LOGOUT_DEVICE_MANAGEMENT, VIEW_DEVICE_MANAGEMENT};
use crate::mailer::Mailer;
use crate::request::{ApiRequest, RequestView};
use crate::rocketchat::auth::{AuthStore, Caller, authenticate, record_activity};
use crate::rocketchat::query::{parse_list_query, select};
use crate::rocketchat::two_factor;
use crate::store::{AllSessionsReader, ById, PermissionStore, Scan, ScanBudget, SessionEnder, TwoFactorStore};
use std::time::{Duration, Instant};

/// The 400 of a filtered or multi-key list.all past its memory or time budget.
pub const TOO_MANY_TO_SORT: &str = "too many sessions match to filter and sort in one request: use a narrower filter, or one sort key without a filter";

/// Why an unfiltered list.all answered 503 (logged): its reads passed `LIST_SCAN_BUDGET_MS`,
/// or more than `LIST_SCAN_MAX_ROWS` expired rows awaiting TTL's removal lay before the page.
pub const EXPIRED_IN_THE_WAY: &str = "the page's reads passed their time or expired-row budget";

/// What every admin route needs: the store interfaces of auth, permission and 2FA.
pub trait AdminStore: AuthStore + PermissionStore + TwoFactorStore {}
impl<T: AuthStore + PermissionStore + TwoFactorStore> AdminStore for T {}

async fn admin_caller(
    store: &impl AdminStore,
    req: &ApiRequest,
    now: Millis,
    permission: &str,
) -> Result<(Caller, User), ApiError> {
    // The permission does not depend on who calls: read it in the same round trip as the
    // token and the user. A failed authentication still answers first (401 before 403).
    let (caller, roles) = tokio::join!(authenticate(store, req, now), store.permission_roles(permission));
    let caller = caller?;
    if !permissions::holds(&caller.user, roles?, permission) {
        return Err(ApiError::Forbidden);
    }
    let user = caller.user.clone();
    Ok((caller, user))
}

/// GET /api/v1/sessions/list.all
pub async fn list_all<S: AdminStore + AllSessionsReader, M: Mailer>(
    store: &S,
    mailer: &M,
    config: &Config,
    req: &ApiRequest,
    now: Millis,
) -> Result<SessionPage, ApiError> {
    let (caller, user) = admin_caller(store, req, now, VIEW_DEVICE_MANAGEMENT).await?;
    let query = parse_list_query(&req.query_pairs(), config)?;
    two_factor::require(store, mailer, config, &user, &caller, req, now).await?;
    record_activity(store, req, &caller);
    let budget = ScanBudget {
        max_rows: config.list_scan_max_rows,
        deadline: Instant::now() + Duration::from_millis(config.list_scan_budget_ms),
    };
    let (sessions, total) = match (&query.filter, query.sort.0.as_slice()) {
        // One sort key and no filter: read the page from that key's index, from its nearer
        // end, total from the counter; within the budget, however many expired rows TTL has
        // yet to remove.
        (None, [order]) => {
            let page = store.counted_page(*order, query.offset, query.count, now, budget).await?;
            let page = page.ok_or_else(|| ApiError::Unavailable(EXPIRED_IN_THE_WAY.into()))?;
            (page.sessions, page.total)
        }
        // A filter or several keys: every matching live session, in memory, within the budget.
        (filter, _) => {
            let keep = |s: &Session| filter.as_ref().is_none_or(|f| f.matches(s, Scope::All));
            let Scan::Complete(matching) = store.matching_sessions(now, budget, keep).await? else {
                return Err(ApiError::InvalidParams(TOO_MANY_TO_SORT.into()));
            };
            let (rows, total) = select(&matching, &query, Scope::All, now);
            (rows.into_iter().cloned().collect(), total)
        }
    };
    Ok(SessionPage {
        sessions,
        current_session: None,
        show_user: true,
        show_activity: false,
        total,
        count: query.count,
        offset: query.offset,
    })
}

/// GET /api/v1/sessions/info.admin: a live session, or an ended one from its history
/// record with `logoutAt` and `logoutBy`.
pub async fn info_admin<S: AdminStore + AllSessionsReader, M: Mailer>(
    store: &S,
    mailer: &M,
    config: &Config,
    req: &ApiRequest,
    now: Millis,
) -> Result<AdminInfo, ApiError> {
    let (caller, user) = admin_caller(store, req, now, VIEW_DEVICE_MANAGEMENT).await?;
    let session_id = session_id_from_query(&req.query_pairs())?;
    two_factor::require(store, mailer, config, &user, &caller, req, now).await?;
    record_activity(store, req, &caller);
    find(store, &session_id, now).await
}

/// POST /api/v1/sessions/logout: ends any user's session; its token stops working at once.
pub async fn logout<S: AdminStore + AllSessionsReader + SessionEnder, M: Mailer>(
    store: &S,
    mailer: &M,
    config: &Config,
    req: &ApiRequest,
    now: Millis,
) -> Result<SessionEnded, ApiError> {
    let (caller, user) = admin_caller(store, req, now, LOGOUT_DEVICE_MANAGEMENT).await?;
    let session_id = session_id_from_body(req.body_bytes())?;
    two_factor::require(store, mailer, config, &user, &caller, req, now).await?;
    // Ending its own session, the call has no activity left to record.
    if session_id != caller.session_id {
        record_activity(store, req, &caller);
    }
    if !plausible_id(&session_id)
        || !store.end_session_by_id(&session_id, &Ending::by_user(EndReason::AdminLogout, &caller.user_id, now)).await?
    {
        return Err(ApiError::SessionNotFound);
    }
    Ok(SessionEnded { session_id })
}

/// A session id worth asking DynamoDB about; any other is simply not found.
fn plausible_id(session_id: &str) -> bool {
    !session_id.is_empty() && session_id.len() <= super::sessions::MAX_SESSION_ID_LEN
}

/// The live session, or the history record of an ended one (an expired session TTL has not
/// removed yet is neither: not found until the stream records it).
async fn find(store: &impl AllSessionsReader, session_id: &str, now: Millis) -> Result<AdminInfo, ApiError> {
    if !plausible_id(session_id) {
        return Err(ApiError::SessionNotFound);
    }
    match store.session_or_history_by_id(session_id).await? {
        Some(ById::Live(session)) if session.is_live(now) => {
            Ok(AdminInfo::Session(SessionInfo { session, show_user: true, ended: None }))
        }
        Some(ById::Ended(ended)) => Ok(match ended.session {
            Some(session) => AdminInfo::Session(SessionInfo { session, show_user: true, ended: Some(ended.ending) }),
            None => AdminInfo::EndedOnly(EndedSession { session: None, ..ended }),
        }),
        _ => Err(ApiError::SessionNotFound),
    }
}
