//! MonoCloud's request parameters: `page`, `size`, `client_id` and `sort` of the list,
//! and the ids in the path. Unparseable values are 400, out-of-range ones 422 by parameter.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use super::errors::McError;
use crate::core::audit_query::{LogFilter, LogSortKey};
use crate::core::model::Session;
use crate::core::order::Direction;
use crate::request::{ApiRequest, RequestView};

pub const MAX_PAGE_SIZE: usize = 100;
const DEFAULT_PAGE_SIZE: usize = 10;
const MAX_CLIENT_ID_LEN: usize = 256;
const MAX_ID_LEN: usize = 64;

/// A sortable field of the MonoCloud session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum McSortKey {
    SessionId,
    InitiatedAt,
    ExpiresAt,
    LastUpdated,
}

impl McSortKey {
    pub fn parse(s: &str) -> Option<McSortKey> {
        Some(match s {
            "session_id" => McSortKey::SessionId,
            "initiated_at" => McSortKey::InitiatedAt,
            "expires_at" => McSortKey::ExpiresAt,
            "last_updated" => McSortKey::LastUpdated,
            _ => return None,
        })
    }

    pub fn compare(self, a: &Session, b: &Session) -> Ordering {
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

pub fn single<'a>(query: &'a [(String, String)], name: &str) -> Result<Option<&'a str>, McError> {
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
    let (page, size) = page_and_size(query, &mut errors)?;
    let client_id = single(query, "client_id")?.filter(|c| !c.is_empty()).map(str::to_string);
    if client_id.as_ref().is_some_and(|c| c.len() > MAX_CLIENT_ID_LEN) {
        let message = format!("The field client_id must be at most {MAX_CLIENT_ID_LEN} characters.");
        errors.entry("client_id".into()).or_default().push(message);
    }
    let keys = "session_id, initiated_at, expires_at, last_updated";
    let sort = sort_param(query, (McSortKey::InitiatedAt, Direction::Descending), McSortKey::parse, keys, &mut errors)?;
    if !errors.is_empty() {
        return Err(McError::Validation(errors));
    }
    Ok(ListParams { page, size, client_id, sort })
}

/// Validated `GET /api/logs` parameters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogParams {
    pub page: usize,
    pub size: usize,
    pub filter: LogFilter,
    pub sort: (LogSortKey, Direction),
}

/// Parses `page`, `size`, `filter` and `sort` (`time_stamp:-1` by default): unparseable
/// numbers → 400, anything out of range or not understood → 422 by parameter.
pub fn parse_log_params(query: &[(String, String)]) -> Result<LogParams, McError> {
    let mut errors: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let (page, size) = page_and_size(query, &mut errors)?;
    let filter = match LogFilter::parse(single(query, "filter")?.unwrap_or("")) {
        Ok(f) => f,
        Err(message) => {
            errors.entry("filter".into()).or_default().push(message);
            LogFilter::default()
        }
    };
    let keys = "time_stamp, category, code, type, name";
    let sort = sort_param(query, (LogSortKey::TimeStamp, Direction::Descending), LogSortKey::parse, keys, &mut errors)?;
    if !errors.is_empty() {
        return Err(McError::Validation(errors));
    }
    Ok(LogParams { page, size, filter, sort })
}

/// Validated `GET /api/users/{user_id}/blocked_ips` parameters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlockedIpParams {
    pub page: usize,
    pub size: usize,
    pub sort: (BlockedIpSortKey, Direction),
}

/// What blocked addresses sort by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlockedIpSortKey {
    BlockUntil,
    LastSignInAttempt,
    LastSignInSuccess,
}

impl BlockedIpSortKey {
    pub fn parse(s: &str) -> Option<BlockedIpSortKey> {
        match s {
            "block_until" => Some(BlockedIpSortKey::BlockUntil),
            "last_sign_in_attempt" => Some(BlockedIpSortKey::LastSignInAttempt),
            "last_sign_in_success" => Some(BlockedIpSortKey::LastSignInSuccess),
            _ => None,
        }
    }
}

/// Parses `page`, `size`, `filter` (none is understood: 422 unless empty) and `sort`
/// (`block_until`, `last_sign_in_attempt` or `last_sign_in_success`; `block_until:-1` by default).
pub fn parse_blocked_ip_params(query: &[(String, String)]) -> Result<BlockedIpParams, McError> {
    let mut errors: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let (page, size) = page_and_size(query, &mut errors)?;
    if single(query, "filter")?.is_some_and(|f| !f.trim().is_empty()) {
        errors.entry("filter".into()).or_default().push("Blocked addresses take no filter.".into());
    }
    let keys = "block_until, last_sign_in_attempt, last_sign_in_success";
    let sort = sort_param(
        query,
        (BlockedIpSortKey::BlockUntil, Direction::Descending),
        BlockedIpSortKey::parse,
        keys,
        &mut errors,
    )?;
    if !errors.is_empty() {
        return Err(McError::Validation(errors));
    }
    Ok(BlockedIpParams { page, size, sort })
}

/// `sort` as `key:1` or `key:-1` (absent or empty: `default`); a key `parse` does not know
/// (`keys` lists the known ones) or another order is a 422 on `sort`, added to `errors`.
fn sort_param<K>(
    query: &[(String, String)],
    default: (K, Direction),
    parse: impl Fn(&str) -> Option<K>,
    keys: &str,
    errors: &mut BTreeMap<String, Vec<String>>,
) -> Result<(K, Direction), McError> {
    let mut sort = default;
    let Some(raw) = single(query, "sort")?.filter(|s| !s.trim().is_empty()) else { return Ok(sort) };
    let (key, order) = raw.split_once(':').unwrap_or((raw, ""));
    let mut invalid = |message: String| errors.entry("sort".into()).or_default().push(message);
    match parse(key) {
        Some(k) => sort.0 = k,
        None => invalid(format!("The sort key must be one of {keys}.")),
    }
    match order {
        "1" => sort.1 = Direction::Ascending,
        "-1" => sort.1 = Direction::Descending,
        _ => invalid("The sort order must be 1 (ascending) or -1 (descending), as 'key:order'.".into()),
    }
    Ok(sort)
}

/// `page` (from 1) and `size` (1–100), their range errors added to `errors`.
fn page_and_size(
    query: &[(String, String)],
    errors: &mut BTreeMap<String, Vec<String>>,
) -> Result<(usize, usize), McError> {
    let page = single(query, "page")?.map_or(Ok(1), |raw| integer("page", raw))?;
    let size = single(query, "size")?.map_or(Ok(DEFAULT_PAGE_SIZE as i64), |raw| integer("size", raw))?;
    if page < 1 || page > i32::MAX as i64 {
        errors.entry("page".into()).or_default().push(format!("The field page must be between 1 and {}.", i32::MAX));
    }
    if !(1..=MAX_PAGE_SIZE as i64).contains(&size) {
        errors.entry("size".into()).or_default().push(format!("The field size must be between 1 and {MAX_PAGE_SIZE}."));
    }
    Ok((page.max(1) as usize, size.max(1) as usize))
}

/// A path id (`user_id`, `session_id`): a missing or oversized one is the 404 of what it names.
pub fn path_param(req: &ApiRequest, name: &str) -> Result<String, McError> {
    match req.path_param(name) {
        Some(v) if !v.is_empty() && v.len() <= MAX_ID_LEN => Ok(v),
        _ if name == "user_id" => Err(McError::NotFound("User not found")),
        _ => Err(McError::NotFound("Session not found")),
    }
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
