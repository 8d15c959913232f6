//! MonoCloud's user-sessions management API for back-end services (seeds/003), over
//! the same sessions, authenticated by `X-API-KEY`.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use subtle::ConstantTimeEq;

use crate::clock::Millis;
use crate::ids::sha256_hex;
use crate::model::Session;
use crate::query::Direction;
use crate::request::{ApiRequest, RequestView};
use crate::store::{ApiKeyStore, SessionEnder, StoreError, UserSessionReader, UserStore};

pub const API_KEY_HEADER: &str = "x-api-key";
pub const MAX_PAGE_SIZE: usize = 100;
const DEFAULT_PAGE_SIZE: usize = 10;
const MAX_CLIENT_ID_LEN: usize = 256;
const MAX_ID_LEN: usize = 64;

/// Why a MonoCloud-dialect request failed; rendered as RFC 7807 problem+json.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum McError {
    #[error("unauthorized")]
    Unauthorized,
    #[error("not found: {0}")]
    NotFound(&'static str),
    /// A query that cannot be parsed.
    #[error("bad request: {0}")]
    BadRequest(String),
    /// Values out of range or unknown, by parameter.
    #[error("validation failed")]
    Validation(BTreeMap<String, Vec<String>>),
    /// DynamoDB throttled, conflicting or timing out after bounded retries: 503, Retry-After.
    #[error("unavailable: {0}")]
    Unavailable(String),
    #[error("internal: {0}")]
    Internal(String),
}

impl From<StoreError> for McError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Unavailable(_) => McError::Unavailable(e.to_string()),
            _ => McError::Internal(e.to_string()),
        }
    }
}

/// A sortable field of the MonoCloud session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum McSortKey {
    SessionId,
    InitiatedAt,
    ExpiresAt,
    LastUpdated,
}

impl McSortKey {
    fn parse(s: &str) -> Option<McSortKey> {
        Some(match s {
            "session_id" => McSortKey::SessionId,
            "initiated_at" => McSortKey::InitiatedAt,
            "expires_at" => McSortKey::ExpiresAt,
            "last_updated" => McSortKey::LastUpdated,
            _ => return None,
        })
    }

    fn compare(self, a: &Session, b: &Session) -> Ordering {
        let by_id = a.session_id.cmp(&b.session_id);
        match self {
            McSortKey::SessionId => by_id,
            McSortKey::InitiatedAt => (a.login_at / 1000).cmp(&(b.login_at / 1000)).then(by_id),
            McSortKey::ExpiresAt => a.expires_at.cmp(&b.expires_at).then(by_id),
            McSortKey::LastUpdated => (a.last_activity_at / 1000).cmp(&(b.last_activity_at / 1000)).then(by_id),
        }
    }
}

/// Validated list parameters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListParams {
    pub page: usize,
    pub size: usize,
    pub client_id: Option<String>,
    pub sort: (McSortKey, Direction),
}

/// One page of a user's sessions with what `X-Pagination` reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct McPage {
    pub sessions: Vec<Session>,
    pub total: usize,
    pub page: usize,
    pub size: usize,
}

/// Every successful MonoCloud-dialect result.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum McReply {
    Page(McPage),
    Session(Box<Session>),
    /// 204, no body.
    Revoked,
    RevokedCount(usize),
}

fn single<'a>(query: &'a [(String, String)], name: &str) -> Result<Option<&'a str>, McError> {
    let mut values = query.iter().filter(|(k, _)| k == name).map(|(_, v)| v.as_str());
    let first = values.next();
    if values.next().is_some() {
        return Err(McError::BadRequest(format!("The query parameter '{name}' was given more than once.")));
    }
    Ok(first)
}

fn integer(name: &str, raw: &str) -> Result<i64, McError> {
    raw.trim().parse::<i64>().map_err(|_| McError::BadRequest(format!("The value '{raw}' is not valid for {name}.")))
}

/// Parses `page`, `size`, `client_id` and `sort`: unparseable → 400, out of range → 422.
pub fn parse_list_params(query: &[(String, String)]) -> Result<ListParams, McError> {
    let mut errors: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut invalid = |name: &str, msg: String| errors.entry(name.to_string()).or_default().push(msg);
    let page = match single(query, "page")? {
        None => 1,
        Some(raw) => integer("page", raw)?,
    };
    let size = match single(query, "size")? {
        None => DEFAULT_PAGE_SIZE as i64,
        Some(raw) => integer("size", raw)?,
    };
    if page < 1 || page > i32::MAX as i64 {
        invalid("page", format!("The field page must be between 1 and {}.", i32::MAX));
    }
    if !(1..=MAX_PAGE_SIZE as i64).contains(&size) {
        invalid("size", format!("The field size must be between 1 and {MAX_PAGE_SIZE}."));
    }
    let client_id = single(query, "client_id")?.filter(|c| !c.is_empty()).map(str::to_string);
    if client_id.as_ref().is_some_and(|c| c.len() > MAX_CLIENT_ID_LEN) {
        invalid("client_id", format!("The field client_id must be at most {MAX_CLIENT_ID_LEN} characters."));
    }
    let mut sort = (McSortKey::InitiatedAt, Direction::Descending);
    // An empty sort means the default, as on every list route.
    if let Some(raw) = single(query, "sort")?.filter(|s| !s.trim().is_empty()) {
        let (key, order) = raw.split_once(':').unwrap_or((raw, ""));
        match McSortKey::parse(key) {
            Some(k) => sort.0 = k,
            None => invalid(
                "sort",
                "The sort key must be one of session_id, initiated_at, expires_at, last_updated.".into(),
            ),
        }
        match order {
            "1" => sort.1 = Direction::Ascending,
            "-1" => sort.1 = Direction::Descending,
            _ => invalid("sort", "The sort order must be 1 (ascending) or -1 (descending), as 'key:order'.".into()),
        }
    }
    if !errors.is_empty() {
        return Err(McError::Validation(errors));
    }
    Ok(ListParams { page: page as usize, size: size as usize, client_id, sort })
}

/// 401 unless `X-API-KEY` names an enabled key. Only its hash is looked up and compared.
pub async fn authorize(store: &impl ApiKeyStore, req: &ApiRequest) -> Result<(), McError> {
    let key = req.header(API_KEY_HEADER).unwrap_or("").trim();
    if key.is_empty() || key.len() > 256 {
        return Err(McError::Unauthorized);
    }
    let hash = sha256_hex(key);
    match store.api_key(&hash).await? {
        Some(k) if !k.disabled && bool::from(k.key_hash.as_bytes().ct_eq(hash.as_bytes())) => Ok(()),
        _ => Err(McError::Unauthorized),
    }
}

fn path_param(req: &ApiRequest, name: &str) -> Result<String, McError> {
    match req.path_param(name) {
        Some(v) if !v.is_empty() && v.len() <= MAX_ID_LEN => Ok(v),
        _ if name == "user_id" => Err(McError::NotFound("User not found")),
        _ => Err(McError::NotFound("Session not found")),
    }
}

async fn existing_user(store: &impl UserStore, req: &ApiRequest) -> Result<String, McError> {
    let user_id = path_param(req, "user_id")?;
    store.user(&user_id).await?.ok_or(McError::NotFound("User not found"))?;
    Ok(user_id)
}

/// The API key and the path's user, read in one round trip: 401 comes first, then
/// `checks` (the request's own parameters), then 404 for an unknown user.
async fn authorized<T>(
    store: &(impl ApiKeyStore + UserStore),
    req: &ApiRequest,
    checks: impl FnOnce() -> Result<T, McError>,
) -> Result<(T, String), McError> {
    let (key, user) = tokio::join!(authorize(store, req), existing_user(store, req));
    key?;
    let checked = checks()?;
    Ok((checked, user?))
}

/// GET /api/users/{user_id}/sessions
pub async fn list<S: ApiKeyStore + UserStore + UserSessionReader>(
    store: &S,
    req: &ApiRequest,
    now: Millis,
) -> Result<McPage, McError> {
    let (params, user_id) = authorized(store, req, || parse_list_params(&req.query_pairs())).await?;
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
    let ((), user_id) = authorized(store, req, || Ok(())).await?;
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
    let ((), user_id) = authorized(store, req, || Ok(())).await?;
    let session_id = path_param(req, "session_id")?;
    if store.end_session(&user_id, &session_id, now).await? {
        Ok(())
    } else {
        Err(McError::NotFound("Session not found"))
    }
}

/// DELETE /api/users/{user_id}/sessions[?except=<session_id>]: the number revoked.
pub async fn revoke_all<S: ApiKeyStore + UserStore + UserSessionReader + SessionEnder>(
    store: &S,
    req: &ApiRequest,
    now: Millis,
) -> Result<usize, McError> {
    let (except, user_id) =
        authorized(store, req, || Ok(single(&req.query_pairs(), "except")?.map(str::to_string))).await?;
    Ok(store.end_sessions(&user_id, except.as_deref(), now).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn fields(e: McError) -> Vec<String> {
        match e {
            McError::Validation(m) => m.into_keys().collect(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn defaults_and_seed_example() {
        let p = parse_list_params(&[]).unwrap();
        assert_eq!((p.page, p.size, p.sort), (1, 10, (McSortKey::InitiatedAt, Direction::Descending)));
        let p = parse_list_params(&q(&[
            ("page", "1"),
            ("size", "10"),
            ("client_id", "eCOGRJYpnNwwAAuCeReEW"),
            ("sort", "initiated_at:1"),
        ]))
        .unwrap();
        assert_eq!(p.client_id.as_deref(), Some("eCOGRJYpnNwwAAuCeReEW"));
        assert_eq!(p.sort, (McSortKey::InitiatedAt, Direction::Ascending));
    }

    #[test]
    fn range_errors_are_422_by_parameter_and_parse_errors_400() {
        assert_eq!(fields(parse_list_params(&q(&[("page", "0")])).unwrap_err()), ["page"]);
        assert_eq!(fields(parse_list_params(&q(&[("size", "0")])).unwrap_err()), ["size"]);
        assert_eq!(fields(parse_list_params(&q(&[("size", "101")])).unwrap_err()), ["size"]);
        assert_eq!(fields(parse_list_params(&q(&[("sort", "foo:1")])).unwrap_err()), ["sort"]);
        assert_eq!(fields(parse_list_params(&q(&[("sort", "initiated_at:2")])).unwrap_err()), ["sort"]);
        assert_eq!(fields(parse_list_params(&q(&[("page", "0"), ("size", "500")])).unwrap_err()), ["page", "size"]);
        assert!(matches!(parse_list_params(&q(&[("page", "abc")])), Err(McError::BadRequest(_))));
        assert!(matches!(parse_list_params(&q(&[("size", "1.5")])), Err(McError::BadRequest(_))));
        assert!(matches!(parse_list_params(&q(&[("page", "1"), ("page", "2")])), Err(McError::BadRequest(_))));
    }
}
