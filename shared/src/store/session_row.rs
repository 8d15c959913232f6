//! The packed list row (`r`): every field a list row, a filter and a sort read, in one short
//! string that each order index projects. A page or a full read then gets whole rows from
//! the index alone, in a fraction of the bytes of the item (no user agent, geo, client ids,
//! token hash or index keys).
//!
//! Format: the fields joined by `|`, in [`FIELDS`] order, times in base 36; `\` and `|` inside a field are
//! escaped as `\\` and `\|` (characters JSON carries as themselves, so a row costs its own
//! length on the wire). `_user.name` is last and absent when the user has none.

use crate::core::model::{Device, Os, Session, UserRef};

/// Field order of a packed row.
const FIELDS: [&str; 14] = [
    "sessionId",
    "userId",
    "loginAt",
    "expiresAt",
    "device.type",
    "device.name",
    "device.longVersion",
    "device.version",
    "device.os.name",
    "device.os.version",
    "host",
    "ip",
    "_user.username",
    "_user.name",
];

const SEPARATOR: char = '|';

/// The packed row of `session`.
pub fn pack(session: &Session) -> String {
    let (login_at, expires_at) = (base36(session.login_at), base36(session.expires_at));
    let d = &session.device;
    let mut fields: Vec<&str> = vec![
        &session.session_id,
        &session.user_id,
        &login_at,
        &expires_at,
        &d.kind,
        &d.name,
        &d.long_version,
        &d.version,
        &d.os.name,
        &d.os.version,
        &session.host,
        &session.ip,
        &session.user.username,
    ];
    if let Some(name) = &session.user.name {
        fields.push(name);
    }
    let mut out = String::with_capacity(fields.iter().map(|f| f.len() + 1).sum());
    for (i, field) in fields.iter().enumerate() {
        if i > 0 {
            out.push(SEPARATOR);
        }
        for c in field.chars() {
            match c {
                '\\' => out.push_str("\\\\"),
                SEPARATOR => out.push_str("\\|"),
                c => out.push(c),
            }
        }
    }
    out
}

/// `n` in base 36 (lowercase): a login time in 8 characters instead of 13.
fn base36(n: i64) -> String {
    const DIGITS: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut u = n.unsigned_abs();
    let mut out = Vec::with_capacity(14);
    loop {
        out.push(DIGITS[(u % 36) as usize]);
        u /= 36;
        if u == 0 {
            break;
        }
    }
    if n < 0 {
        out.push(b'-');
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

/// The session a packed row describes: every list-row field; no user agent, geo or
/// client ids, and the last activity is the login time. `None` if it is not a packed row.
pub fn unpack(row: &str) -> Option<Session> {
    let mut fields = Vec::with_capacity(FIELDS.len());
    let mut field = String::new();
    let mut chars = row.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next()? {
                '\\' => field.push('\\'),
                SEPARATOR => field.push(SEPARATOR),
                _ => return None,
            },
            SEPARATOR => fields.push(std::mem::take(&mut field)),
            c => field.push(c),
        }
    }
    fields.push(field);
    if fields.len() != FIELDS.len() && fields.len() != FIELDS.len() - 1 {
        return None;
    }
    let mut it = fields.into_iter();
    let mut next = || it.next().unwrap_or_default();
    let (session_id, user_id) = (next(), next());
    let login_at = i64::from_str_radix(&next(), 36).ok()?;
    let expires_at = i64::from_str_radix(&next(), 36).ok()?;
    let (kind, name, long_version, version, os_name, os_version) = (next(), next(), next(), next(), next(), next());
    let (host, ip, username) = (next(), next(), next());
    let user_name = it.next();
    Some(Session {
        session_id,
        user_id,
        device: Device { kind, name, long_version, version, os: Os { name: os_name, version: os_version } },
        host,
        ip,
        user_agent: String::new(),
        login_at,
        last_activity_at: login_at,
        last_use: None,
        risk: None,
        expires_at,
        client_ids: Vec::new(),
        geo: Default::default(),
        user: UserRef { username, name: user_name },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(name: Option<&str>, device_name: &str) -> Session {
        Session {
            session_id: "S1".into(),
            user_id: "U1".into(),
            device: Device {
                kind: "browser".into(),
                name: device_name.into(),
                long_version: "120.0.1".into(),
                version: "120".into(),
                os: Os { name: "Linux".into(), version: "6.1".into() },
            },
            host: "chat.example.com".into(),
            ip: "203.0.113.7".into(),
            user_agent: "Mozilla/5.0 (not kept)".into(),
            login_at: 1_764_582_000_123,
            last_activity_at: 1_764_582_999_999,
            last_use: None,
            risk: None,
            expires_at: 1_772_358_000,
            client_ids: vec!["c1".into()],
            geo: Default::default(),
            user: UserRef { username: "rodriq".into(), name: name.map(Into::into) },
        }
    }

    fn row_fields(s: &Session) -> Session {
        Session {
            user_agent: String::new(),
            last_activity_at: s.login_at,
            last_use: None,
            risk: None,
            client_ids: Vec::new(),
            geo: Default::default(),
            ..s.clone()
        }
    }

    #[test]
    fn round_trips_every_row_field() {
        for s in [session(Some("Rod Riq"), "Chrome"), session(None, "Chrome"), session(Some(""), "")] {
            assert_eq!(unpack(&pack(&s)), Some(row_fields(&s)));
        }
    }

    #[test]
    fn separators_and_escapes_inside_fields_round_trip() {
        for name in ["a|b", "back\\slash", "\\|", "bar at end|", "\\", "||", "tab\there"] {
            let s = session(Some(name), name);
            let packed = pack(&s);
            assert_eq!(unpack(&packed), Some(row_fields(&s)), "{name:?}");
        }
    }

    #[test]
    fn times_are_base_36_both_ways() {
        for n in [0, 1, 35, 36, -1, 1_764_582_000_123, i64::MAX, i64::MIN] {
            assert_eq!(i64::from_str_radix(&base36(n), 36), Ok(n), "{n}");
        }
        assert_eq!(base36(1_764_582_000_123).len(), 8);
    }

    #[test]
    fn leaves_out_what_a_row_does_not_show() {
        let packed = pack(&session(Some("Rod"), "Chrome"));
        assert!(!packed.contains("Mozilla") && !packed.contains("c1"), "{packed}");
    }

    #[test]
    fn rejects_what_is_not_a_packed_row() {
        for bad in ["", "a|b", "S|U|not+a+number|1|||||||||u", "S|U|1|1|||||||||u\\x"] {
            assert_eq!(unpack(bad), None, "{bad:?}");
        }
        let too_many = format!("{}|extra|more", pack(&session(Some("n"), "d")));
        assert_eq!(unpack(&too_many), None);
    }
}
