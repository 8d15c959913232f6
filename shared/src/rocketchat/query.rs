//! Rocket.Chat's list parameters (`offset`, `count`, `filter`, `sort`): their parsing, in
//! Rocket.Chat's check order and error kinds, and how they select a page (the order and
//! the filter themselves are [`crate::core::order`]).

use serde_json::Value;

use crate::core::clock::Millis;
use crate::core::config::Config;
use crate::core::model::Session;
use crate::core::order::{Direction, Filter, FilterError, MAX_FILTER_CHARS, Scope, Sort, SortKey};

/// Longest `sort` accepted, in characters.
pub const MAX_SORT_CHARS: usize = 512;

/// A list parameter that cannot be used, in the three kinds Rocket.Chat distinguishes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    /// Schema violation (unknown parameter, wrong type, out of range), ajv-style message.
    #[error("{0}")]
    InvalidParams(String),
    /// `sort` is not a JSON object of 1/-1 values; carries the raw parameter.
    #[error("invalid sort {0:?}")]
    InvalidSort(String),
    /// `sort` names a field that cannot be sorted on.
    #[error("invalid sort keys")]
    InvalidSortKeys,
}

/// Parses Rocket.Chat's JSON sort object (`{"loginAt": -1}`), keeping its key order.
pub fn parse_sort(raw: &str) -> Result<Sort, QueryError> {
    let invalid = || QueryError::InvalidSort(raw.to_string());
    let Ok(Value::Object(map)) = serde_json::from_str::<Value>(raw) else {
        return Err(invalid());
    };
    let mut keys = Vec::with_capacity(map.len());
    for (name, value) in &map {
        let key = SortKey::from_name(name).ok_or(QueryError::InvalidSortKeys)?;
        // Exactly the integers 1 and -1 (as_i64 is None for 1.0 and for strings).
        let direction = match value.as_i64() {
            Some(1) => Direction::Ascending,
            Some(-1) => Direction::Descending,
            _ => return Err(invalid()),
        };
        keys.push((key, direction));
    }
    if keys.is_empty() { Ok(Sort::default()) } else { Ok(Sort(keys)) }
}

/// Compiles `filter`, with Rocket.Chat's invalid-params messages.
pub fn parse_filter(pattern: &str) -> Result<Filter, QueryError> {
    Filter::compile(pattern).map_err(|e| match e {
        FilterError::TooLong => {
            QueryError::InvalidParams(format!("/filter must NOT have more than {MAX_FILTER_CHARS} characters"))
        }
        FilterError::Invalid => QueryError::InvalidParams("/filter must be a valid regular expression".into()),
    })
}

/// A validated list request.
#[derive(Clone, Debug)]
pub struct ListQuery {
    pub offset: usize,
    /// Rows asked for, already clamped to the configured maximum.
    pub count: usize,
    pub filter: Option<Filter>,
    pub sort: Sort,
}

const LIST_PARAMS: [&str; 4] = ["offset", "count", "filter", "sort"];

/// Validates list parameters in Rocket.Chat's order: schema first, then `sort`.
pub fn parse_list_query(params: &[(String, String)], config: &Config) -> Result<ListQuery, QueryError> {
    for (i, (name, _)) in params.iter().enumerate() {
        if !LIST_PARAMS.contains(&name.as_str()) {
            return Err(QueryError::InvalidParams("must NOT have additional properties".into()));
        }
        if params[..i].iter().any(|(n, _)| n == name) {
            return Err(QueryError::InvalidParams(format!("/{name} must be string")));
        }
    }
    let get = |name: &str| params.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str());
    let offset = match get("offset") {
        Some(v) => non_negative("offset", v)?,
        None => 0,
    };
    if offset > config.list_offset_max {
        return Err(QueryError::InvalidParams(format!("/offset must be <= {}", config.list_offset_max)));
    }
    let count = match get("count") {
        Some(v) => non_negative("count", v)?,
        None => config.list_count_default,
    }
    .min(config.list_count_max);
    let filter = match get("filter") {
        Some("") | None => None,
        Some(f) => Some(parse_filter(f)?),
    };
    let sort = match get("sort") {
        // `sort=` (empty), which Rocket.Chat ignores, is the default order.
        None | Some("") => Sort::default(),
        Some(s) if s.chars().count() > MAX_SORT_CHARS => {
            return Err(QueryError::InvalidParams(format!(
                "/sort must NOT have more than {MAX_SORT_CHARS} characters"
            )));
        }
        Some(s) => parse_sort(s)?,
    };
    Ok(ListQuery { offset, count, filter, sort })
}

fn non_negative(name: &str, raw: &str) -> Result<usize, QueryError> {
    let v = raw.trim();
    if let Some(digits) = v.strip_prefix('-')
        && !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(QueryError::InvalidParams(format!("/{name} must be >= 0")));
    }
    if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
        return Err(QueryError::InvalidParams(format!("/{name} must be integer")));
    }
    // Past usize the value means "everything" for offset and is clamped for count anyway.
    Ok(v.parse::<usize>().unwrap_or(usize::MAX))
}

/// Applies expiry, filter, sort and paging: the page's rows and the number that matched.
pub fn select<'a>(sessions: &'a [Session], q: &ListQuery, scope: Scope, now: Millis) -> (Vec<&'a Session>, usize) {
    let mut rows: Vec<&Session> = sessions
        .iter()
        .filter(|s| s.is_live(now))
        .filter(|s| q.filter.as_ref().is_none_or(|f| f.matches(s, scope)))
        .collect();
    rows.sort_by(|a, b| q.sort.compare(a, b));
    let total = rows.len();
    let page = rows.into_iter().skip(q.offset).take(q.count).collect();
    (page, total)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::model::{Device, Os, UserRef};

    fn session(id: &str, login_at: Millis, name: &str, os: &str, os_version: &str) -> Session {
        Session {
            session_id: id.into(),
            user_id: "u1".into(),
            device: Device {
                kind: "browser".into(),
                name: name.into(),
                long_version: "1.0".into(),
                os: Os { name: os.into(), version: os_version.into() },
                version: "1".into(),
            },
            host: "localhost:3000".into(),
            ip: "172.20.0.2".into(),
            user_agent: String::new(),
            login_at,
            last_activity_at: login_at,
            last_use: None,
            risk: None,
            expires_at: 4_000_000_000,
            client_ids: vec![],
            geo: Default::default(),
            user: UserRef { username: format!("user-{id}"), name: Some(format!("Name {id}")) },
        }
    }

    fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn parse(pairs: &[(&str, &str)]) -> Result<ListQuery, QueryError> {
        parse_list_query(&params(pairs), &Config::default())
    }

    fn invalid(msg: &str) -> QueryError {
        QueryError::InvalidParams(msg.into())
    }

    #[test]
    fn defaults() {
        let q = parse(&[]).unwrap();
        assert_eq!((q.offset, q.count), (0, 50));
        assert!(q.filter.is_none());
        assert_eq!(q.sort, Sort(vec![(SortKey::LoginAt, Direction::Descending)]));
    }

    #[test]
    fn count_is_clamped_and_zero_allowed() {
        assert_eq!(parse(&[("count", "1000")]).unwrap().count, 100);
        assert_eq!(parse(&[("count", "0")]).unwrap().count, 0);
        assert_eq!(parse(&[("count", "99999999999999999999999")]).unwrap().count, 100);
    }

    #[test]
    fn bad_numbers() {
        assert_eq!(parse(&[("offset", "-1")]).unwrap_err(), invalid("/offset must be >= 0"));
        assert_eq!(parse(&[("count", "abc")]).unwrap_err(), invalid("/count must be integer"));
        assert_eq!(parse(&[("count", "1.5")]).unwrap_err(), invalid("/count must be integer"));
        assert_eq!(parse(&[("offset", "")]).unwrap_err(), invalid("/offset must be integer"));
        assert_eq!(parse(&[("offset", "+3")]).unwrap_err(), invalid("/offset must be integer"));
        assert_eq!(parse(&[("offset", "-")]).unwrap_err(), invalid("/offset must be integer"));
    }

    #[test]
    fn unknown_and_repeated_parameters() {
        assert_eq!(parse(&[("foo", "1")]).unwrap_err(), invalid("must NOT have additional properties"));
        assert_eq!(parse(&[("count", "1"), ("count", "2")]).unwrap_err(), invalid("/count must be string"));
    }

    #[test]
    fn sort_parsing() {
        let s = parse_sort(r#"{"device.name":1,"loginAt":-1}"#).unwrap();
        assert_eq!(s.0, vec![(SortKey::DeviceName, Direction::Ascending), (SortKey::LoginAt, Direction::Descending)]);
        assert_eq!(parse_sort("{}").unwrap(), Sort::default());
        for bad in ["nope", "[1]", r#"{"loginAt":2}"#, r#"{"loginAt":1.0}"#, r#"{"loginAt":"1"}"#, "1"] {
            assert_eq!(parse_sort(bad).unwrap_err(), QueryError::InvalidSort(bad.into()), "{bad}");
        }
        assert_eq!(parse_sort(r#"{"ip":1}"#).unwrap_err(), QueryError::InvalidSortKeys);
        for key in SortKey::ALL {
            assert_eq!(parse_sort(&format!("{{\"{}\":1}}", key.name())).unwrap().0, vec![(key, Direction::Ascending)]);
        }
    }

    #[test]
    fn filter_limits() {
        assert_eq!(parse(&[("filter", "(")]).unwrap_err(), invalid("/filter must be a valid regular expression"));
        let long = "a".repeat(MAX_FILTER_CHARS + 1);
        assert_eq!(parse(&[("filter", &long)]).unwrap_err(), invalid("/filter must NOT have more than 256 characters"));
        assert!(parse(&[("filter", &"a".repeat(MAX_FILTER_CHARS))]).is_ok());
        // A pattern that compiles to a huge program is refused, not run.
        assert!(parse(&[("filter", "\\w{1000}\\w{1000}\\w{1000}")]).is_err());
    }

    #[test]
    fn sort_is_total_and_stable_across_pages() {
        // Equal device names and login times force the sessionId tie-break.
        let sessions: Vec<Session> = (0..9)
            .map(|i| {
                session(
                    &format!("S{i}"),
                    1000 + (i % 3),
                    if i % 2 == 0 { "Chrome" } else { "Firefox" },
                    "Windows",
                    "10",
                )
            })
            .collect();
        for raw in [r#"{"device.name":1}"#, r#"{"device.name":-1}"#, r#"{"loginAt":1}"#, r#"{"loginAt":-1}"#] {
            let mut seen = Vec::new();
            let mut offset = 0;
            loop {
                let q = parse(&[("sort", raw), ("count", "2"), ("offset", &offset.to_string())]).unwrap();
                let (page, total) = select(&sessions, &q, Scope::Own, 0);
                assert_eq!(total, 9);
                if page.is_empty() {
                    break;
                }
                seen.extend(page.iter().map(|s| s.session_id.clone()));
                offset += 2;
            }
            let mut unique = seen.clone();
            unique.sort();
            unique.dedup();
            assert_eq!(unique.len(), 9, "{raw}: {seen:?}");
            let q = parse(&[("sort", raw), ("count", "100")]).unwrap();
            let (all, _) = select(&sessions, &q, Scope::Own, 0);
            let all: Vec<_> = all.iter().map(|s| s.session_id.clone()).collect();
            assert_eq!(seen, all, "{raw}");
        }
    }

    #[test]
    fn descending_login_with_tie_break() {
        let sessions = vec![session("B", 5, "x", "", ""), session("A", 5, "x", "", ""), session("C", 9, "x", "", "")];
        let q = parse(&[]).unwrap();
        let ids: Vec<_> = select(&sessions, &q, Scope::Own, 0).0.iter().map(|s| s.session_id.as_str()).collect();
        assert_eq!(ids, ["C", "B", "A"]);
        let q = parse(&[("sort", r#"{"loginAt":1}"#)]).unwrap();
        let ids: Vec<_> = select(&sessions, &q, Scope::Own, 0).0.iter().map(|s| s.session_id.as_str()).collect();
        assert_eq!(ids, ["A", "B", "C"]);
    }

    #[test]
    fn expired_sessions_are_not_selected() {
        let mut old = session("old", 1, "x", "", "");
        old.expires_at = 100;
        let sessions = vec![old, session("new", 2, "x", "", "")];
        let (page, total) = select(&sessions, &parse(&[]).unwrap(), Scope::Own, 100_000);
        assert_eq!(total, 1);
        assert_eq!(page[0].session_id, "new");
    }

    #[test]
    fn count_zero_gives_total_only() {
        let sessions = vec![session("a", 1, "x", "", ""), session("b", 2, "x", "", "")];
        let (page, total) = select(&sessions, &parse(&[("count", "0")]).unwrap(), Scope::Own, 0);
        assert!(page.is_empty());
        assert_eq!(total, 2);
    }
}
