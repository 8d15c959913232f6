//! The order and the filter of session lists, shared by both dialects and the store:
//! sortable fields, directions, the total order (ties break on sessionId) and the
//! case-insensitive filter over a session's visible fields.
//!
//! Unlike Rocket.Chat, which sorts only inside the page, the sort here is global and
//! stable: ties break on sessionId, so consecutive pages never repeat or skip a row.

use std::cmp::Ordering;

use regex::{Regex, RegexBuilder};

use super::model::Session;

/// Longest filter accepted, in characters.
pub const MAX_FILTER_CHARS: usize = 256;
/// Compiled-program size limit for a filter; keeps matching cheap whatever the pattern.
const REGEX_SIZE_LIMIT: usize = 1 << 20;

/// Why a filter pattern cannot be used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FilterError {
    /// Longer than [`MAX_FILTER_CHARS`].
    TooLong,
    /// Not a regular expression, or one too large to run cheaply.
    Invalid,
}

/// Which sessions a list covers; decides which fields `filter` looks at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// The caller's own sessions (`/sessions/list`).
    Own,
    /// Every user's sessions (`/sessions/list.all`): `_user` fields count too.
    All,
}

/// A field a list can be sorted on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SortKey {
    LoginAt,
    DeviceName,
    DeviceOsName,
    DeviceOsVersion,
    UserName,
    UserUsername,
}

impl SortKey {
    pub const ALL: [SortKey; 6] = [
        SortKey::LoginAt,
        SortKey::DeviceName,
        SortKey::DeviceOsName,
        SortKey::DeviceOsVersion,
        SortKey::UserName,
        SortKey::UserUsername,
    ];

    /// The name used in the `sort` parameter.
    pub fn name(self) -> &'static str {
        match self {
            SortKey::LoginAt => "loginAt",
            SortKey::DeviceName => "device.name",
            SortKey::DeviceOsName => "device.os.name",
            SortKey::DeviceOsVersion => "device.os.version",
            SortKey::UserName => "_user.name",
            SortKey::UserUsername => "_user.username",
        }
    }

    pub fn from_name(name: &str) -> Option<SortKey> {
        SortKey::ALL.into_iter().find(|k| k.name() == name)
    }

    fn compare(self, a: &Session, b: &Session) -> Ordering {
        match self {
            SortKey::LoginAt => a.login_at.cmp(&b.login_at),
            SortKey::DeviceName => a.device.name.cmp(&b.device.name),
            SortKey::DeviceOsName => a.device.os.name.cmp(&b.device.os.name),
            SortKey::DeviceOsVersion => a.device.os.version.cmp(&b.device.os.version),
            SortKey::UserName => a.user.name.as_deref().unwrap_or("").cmp(b.user.name.as_deref().unwrap_or("")),
            SortKey::UserUsername => a.user.username.cmp(&b.user.username),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    Ascending,
    Descending,
}

/// Sort keys in priority order; ties after the last key break on sessionId in the
/// direction of the first key (as an index ordered by `<key>#<sessionId>` reads).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sort(pub Vec<(SortKey, Direction)>);

impl Default for Sort {
    fn default() -> Self {
        Sort(vec![(SortKey::LoginAt, Direction::Descending)])
    }
}

impl Sort {
    /// Total order over sessions: the keys, then sessionId.
    pub fn compare(&self, a: &Session, b: &Session) -> Ordering {
        for &(key, direction) in &self.0 {
            let o = key.compare(a, b);
            let o = if direction == Direction::Descending { o.reverse() } else { o };
            if o != Ordering::Equal {
                return o;
            }
        }
        let tie = a.session_id.cmp(&b.session_id);
        match self.0.first() {
            Some((_, Direction::Descending)) => tie.reverse(),
            _ => tie,
        }
    }
}

/// A case-insensitive regular expression over a session's visible fields.
#[derive(Clone, Debug)]
pub struct Filter(Regex);

impl Filter {
    /// Compiles `pattern` case-insensitively with the linear-time `regex` engine under a
    /// size limit, so matching stays cheap whatever the pattern.
    pub fn compile(pattern: &str) -> Result<Filter, FilterError> {
        if pattern.chars().count() > MAX_FILTER_CHARS {
            return Err(FilterError::TooLong);
        }
        RegexBuilder::new(pattern)
            .case_insensitive(true)
            .size_limit(REGEX_SIZE_LIMIT)
            .dfa_size_limit(REGEX_SIZE_LIMIT)
            .nest_limit(64)
            .build()
            .map(Filter)
            .map_err(|_| FilterError::Invalid)
    }

    /// True when the pattern matches any of the fields docs/rocketchat.md lists for `scope`.
    pub fn matches(&self, s: &Session, scope: Scope) -> bool {
        let own = [
            s.device.name.as_str(),
            s.device.kind.as_str(),
            s.device.os.name.as_str(),
            s.device.os.version.as_str(),
            s.ip.as_str(),
            s.host.as_str(),
            s.session_id.as_str(),
            s.user_id.as_str(),
        ];
        if own.iter().any(|f| self.0.is_match(f)) {
            return true;
        }
        scope == Scope::All
            && (self.0.is_match(&s.user.username) || s.user.name.as_deref().is_some_and(|n| self.0.is_match(n)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::model::{Device, Os, UserRef};

    fn session(id: &str) -> Session {
        Session {
            session_id: id.into(),
            user_id: "u1".into(),
            device: Device {
                kind: "browser".into(),
                name: "Chrome".into(),
                long_version: "1.0".into(),
                os: Os { name: "Windows".into(), version: "10".into() },
                version: "1".into(),
            },
            host: "localhost:3000".into(),
            ip: "172.20.0.2".into(),
            user_agent: String::new(),
            login_at: 1,
            last_activity_at: 1,
            last_use: None,
            risk: None,
            expires_at: 4_000_000_000,
            client_ids: vec![],
            geo: Default::default(),
            user: UserRef { username: format!("user-{id}"), name: Some(format!("Name {id}")) },
        }
    }

    #[test]
    fn filter_fields_depend_on_scope() {
        let s = session("S1");
        let f = Filter::compile("WINDOWS").unwrap();
        assert!(f.matches(&s, Scope::Own));
        let by_username = Filter::compile("^user-s1$").unwrap();
        assert!(!by_username.matches(&s, Scope::Own));
        assert!(by_username.matches(&s, Scope::All));
        let by_name = Filter::compile("name s1").unwrap();
        assert!(by_name.matches(&s, Scope::All));
        assert!(Filter::compile("172\\.20").unwrap().matches(&s, Scope::Own));
        assert!(Filter::compile("localhost").unwrap().matches(&s, Scope::Own));
        assert!(Filter::compile("^u1$").unwrap().matches(&s, Scope::Own));
        assert!(!Filter::compile("firefox").unwrap().matches(&s, Scope::All));
    }

    #[test]
    fn filter_limits() {
        assert_eq!(Filter::compile("(").unwrap_err(), FilterError::Invalid);
        assert_eq!(Filter::compile(&"a".repeat(MAX_FILTER_CHARS + 1)).unwrap_err(), FilterError::TooLong);
        assert!(Filter::compile(&"a".repeat(MAX_FILTER_CHARS)).is_ok());
        // A pattern that compiles to a huge program is refused, not run.
        assert_eq!(Filter::compile("\\w{1000}\\w{1000}\\w{1000}").unwrap_err(), FilterError::Invalid);
    }
}
