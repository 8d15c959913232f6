//! MonoCloud's lockout routes (`UsersClient.getUser`, `unblockUser`, `getAllBlockedIps` and
//! `unblockIp` of `monocloud/management-js`), by API key with `users:manage`: what the
//! failed-login limits hold against one user (docs/login-and-2fa.md, "Failed logins"), and
//! clearing it. Blocks by address are the address's own (Rocket.Chat's rule): the addresses
//! shown for a user are those its recent sign-ins came from.

use std::collections::BTreeMap;

use futures_util::{StreamExt, TryStreamExt};
use serde_json::Value;

use super::users::UserChanged;
use crate::core::admin_log::{Unblocked, unblocked};
use crate::core::clock::Millis;
use crate::core::config::Config;
use crate::core::ids::new_id;
use crate::core::ip_access::{IpAttempts, by_address};
use crate::core::order::Direction;
use crate::core::scopes::Scope;
use crate::monocloud::auth::{Authorized, authorized};
use crate::monocloud::errors::McError;
use crate::monocloud::query::{BlockedIpSortKey, parse_blocked_ip_params, path_param};
use crate::request::{ApiRequest, RequestView};
use crate::store::{
    ApiKeyStore, AuditLogReader, AuditLogStore, LoginBlock, LoginLimitKey, LoginLimitStore, StoreError, UserStore,
};

/// How far back a user's sign-ins name the addresses it is shown with.
const LOOKBACK_SECS: i64 = 86_400;
/// Most audit entries read for them.
const MAX_ENTRIES: usize = 1_000;
/// Address blocks read at once.
const PARALLEL_READS: usize = 16;

/// What the lockout routes touch in the store.
pub trait BlockStore: ApiKeyStore + UserStore + LoginLimitStore + AuditLogStore + AuditLogReader {}
impl<T: ApiKeyStore + UserStore + LoginLimitStore + AuditLogStore + AuditLogReader> BlockStore for T {}

/// One address a user's sign-ins came from, and its block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IpAccess {
    pub attempts: IpAttempts,
    pub block: LoginBlock,
}

/// One page of blocked addresses with what `X-Pagination` reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IpPage {
    pub rows: Vec<IpAccess>,
    pub total: usize,
    pub page: usize,
    pub size: usize,
}

/// The account's failed-login counter of the path's user, if the path names one.
fn account_of(req: &ApiRequest) -> Option<LoginLimitKey> {
    path_param(req, "user_id").ok().map(LoginLimitKey::Account)
}

/// The block of `key` (none without a key).
async fn block_of(
    store: &impl LoginLimitStore,
    key: Option<LoginLimitKey>,
    now: Millis,
    config: &Config,
) -> Result<LoginBlock, StoreError> {
    match key {
        Some(key) => store.login_block(&key, now, config.login_limit_user()).await,
        None => Ok(LoginBlock::default()),
    }
}

/// GET /api/users/{user_id}: the user with its account's block (read beside the key).
pub async fn get_user<S: BlockStore>(
    store: &S,
    config: &Config,
    req: &ApiRequest,
    now: Millis,
) -> Result<UserChanged, McError> {
    let (allowed, block) = tokio::join!(
        authorized(store, req, Scope::ManageUsers, || Ok(())),
        block_of(store, account_of(req), now, config)
    );
    let Authorized { user, .. } = allowed?;
    Ok(UserChanged { user, at: now, block: block? })
}

/// POST /api/users/{user_id}/unblock: forgets the account's failed logins, with an audit entry
/// written at once with the clear (a clear that fails answers 503 with the entry written; the
/// retry writes its own).
pub async fn unblock<S: BlockStore>(store: &S, req: &ApiRequest, now: Millis) -> Result<UserChanged, McError> {
    let Authorized { user, actor, .. } = authorized(store, req, Scope::ManageUsers, || Ok(())).await?;
    let entry = unblocked(new_id(), now.div_euclid(1000), &actor, (&user.user_id, &user.username), &Unblocked::Account);
    let account = LoginLimitKey::Account(user.user_id.clone());
    let (cleared, logged) = tokio::join!(store.clear_login_failures(&account), store.put_log(&entry));
    cleared?;
    logged?;
    Ok(UserChanged { user, at: now, block: LoginBlock::default() })
}

/// GET /api/users/{user_id}/blocked_ips: the addresses of the user's sign-ins in the last day
/// that are blocked now. The user's entries are read beside the key, then each address's block.
pub async fn blocked_ips<S: BlockStore>(
    store: &S,
    config: &Config,
    req: &ApiRequest,
    now: Millis,
) -> Result<IpPage, McError> {
    let check = || parse_blocked_ip_params(&req.query_pairs());
    let (allowed, attempts) =
        tokio::join!(authorized(store, req, Scope::ManageUsers, check), attempts_of(store, req, now));
    let Authorized { checked: params, .. } = allowed?;
    let mut rows: Vec<IpAccess> = with_blocks(store, config, attempts?, now)
        .await?
        .into_iter()
        .filter(|r| r.block.blocked_until.is_some())
        .collect();
    let key = |r: &IpAccess| match params.sort.0 {
        BlockedIpSortKey::BlockUntil => r.block.blocked_until,
        BlockedIpSortKey::LastSignInAttempt => Some(r.attempts.last_attempt),
        BlockedIpSortKey::LastSignInSuccess => r.attempts.last_success,
    };
    rows.sort_by(|a, b| {
        let order = key(a).cmp(&key(b)).then_with(|| a.attempts.ip.cmp(&b.attempts.ip));
        if params.sort.1 == Direction::Descending { order.reverse() } else { order }
    });
    let total = rows.len();
    let rows = rows.into_iter().skip((params.page - 1).saturating_mul(params.size)).take(params.size).collect();
    Ok(IpPage { rows, total, page: params.page, size: params.size })
}

/// POST /api/users/{user_id}/blocked_ips/unblock: `{"ip_address": "<ip>" | "all"}` forgets one
/// address's failed logins, or those of every address of the user's sign-ins in the last day.
pub async fn unblock_ip<S: BlockStore>(
    store: &S,
    config: &Config,
    req: &ApiRequest,
    now: Millis,
) -> Result<UserChanged, McError> {
    let check = || ip_target(req.body_bytes());
    let (allowed, attempts, block) = tokio::join!(
        authorized(store, req, Scope::ManageUsers, check),
        attempts_of(store, req, now),
        block_of(store, account_of(req), now, config)
    );
    let Authorized { checked: target, user, actor, .. } = allowed?;
    let what = match target {
        Some(ip) => Unblocked::Ip(ip),
        None => Unblocked::AllIps(attempts?.into_iter().map(|a| a.ip).collect()),
    };
    let ips = match &what {
        Unblocked::Ip(ip) => vec![ip.clone()],
        Unblocked::AllIps(ips) => ips.clone(),
        Unblocked::Account => Vec::new(),
    };
    let entry = unblocked(new_id(), now.div_euclid(1000), &actor, (&user.user_id, &user.username), &what);
    let clear = futures_util::stream::iter(ips)
        .map(|ip| async move { store.clear_login_failures(&LoginLimitKey::ip(&ip)).await })
        .buffer_unordered(PARALLEL_READS)
        .try_collect::<Vec<()>>();
    let (cleared, logged) = tokio::join!(clear, store.put_log(&entry));
    cleared?;
    logged?;
    Ok(UserChanged { user, at: now, block: block? })
}

/// The addresses of the path user's sign-ins in the last day (none when the path names no user).
async fn attempts_of(store: &impl AuditLogReader, req: &ApiRequest, now: Millis) -> Result<Vec<IpAttempts>, McError> {
    let Ok(user_id) = path_param(req, "user_id") else { return Ok(Vec::new()) };
    let entries = store.latest_logs(&user_id, now.div_euclid(1000) - LOOKBACK_SECS, MAX_ENTRIES).await?;
    Ok(by_address(&entries))
}

/// Each address with its block, read a few at a time.
async fn with_blocks(
    store: &impl LoginLimitStore,
    config: &Config,
    attempts: Vec<IpAttempts>,
    now: Millis,
) -> Result<Vec<IpAccess>, McError> {
    let rows = futures_util::stream::iter(attempts)
        .map(|attempts| async move {
            let block = store.login_block(&LoginLimitKey::ip(&attempts.ip), now, config.login_limit_ip()).await?;
            Ok::<_, StoreError>(IpAccess { attempts, block })
        })
        .buffered(PARALLEL_READS)
        .try_collect()
        .await?;
    Ok(rows)
}

/// unblockIp's body (`UnblockIpRequest`): `ip_address`, an IP address (`Some`, canonical) or
/// `all` (`None`).
fn ip_target(body: &[u8]) -> Result<Option<String>, McError> {
    let Ok(Value::Object(fields)) = serde_json::from_slice::<Value>(body) else {
        return Err(McError::BadRequest("The request body must be a JSON object.".into()));
    };
    let invalid =
        |message: &str| McError::Validation(BTreeMap::from([("ip_address".to_string(), vec![message.to_string()])]));
    match fields.get("ip_address") {
        None | Some(Value::Null) => Err(invalid("The ip_address field is required.")),
        Some(Value::String(all)) if all.trim().eq_ignore_ascii_case("all") => Ok(None),
        Some(Value::String(ip)) => LoginLimitKey::canonical_ip(ip)
            .map(Some)
            .ok_or_else(|| invalid("The field ip_address must be an IP address or 'all'.")),
        Some(_) => Err(invalid("The field ip_address must be an IP address or 'all'.")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_unblock_body_names_one_address_or_all() {
        assert_eq!(ip_target(br#"{"ip_address":"all"}"#), Ok(None));
        assert_eq!(ip_target(br#"{"ip_address":" 2001:DB8::1 "}"#), Ok(Some("2001:db8::1".into())));
        assert_eq!(ip_target(br#"{"ip_address":"192.0.2.1","other":1}"#), Ok(Some("192.0.2.1".into())));
        for body in [r#"{}"#, r#"{"ip_address":null}"#, r#"{"ip_address":"not-an-ip"}"#, r#"{"ip_address":1}"#] {
            assert!(matches!(ip_target(body.as_bytes()), Err(McError::Validation(_))), "{body}");
        }
        for body in ["", "[]", "not json"] {
            assert!(matches!(ip_target(body.as_bytes()), Err(McError::BadRequest(_))), "{body}");
        }
    }
}
