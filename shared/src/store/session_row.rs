//! The packed list row (`r`): every field a list row, a filter and a sort read, in one short
//! string that each order index projects. A page or a full read then gets whole rows from
//! the index alone, in a fraction of the bytes of the item (no user agent, geo, client ids,
//! token hash or index keys).
//!
//! Format: the fields joined by `|`, in [`FIELDS`] order, times in base 36; `\` and `|` inside a field are
//! escaped as `\\` and `\|` (characters JSON carries as themselves, so a row costs its own
//! length on the wire). `_user.name` is last and absent when the user has none.
//!
//! A flagged session's row (core::travel, set by the stream consumer) has one more field, its
//! `risk` as `reason,distanceKm,speedKmh,previousSessionId`; `_user.name` is then always
//! written, an absent name as the escape `\-`, so that the field count stays unambiguous.

use crate::core::model::{Device, Os, Session, UserRef};
use crate::core::travel::Risk;

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
/// `_user.name` when the user has none but the row has a risk after it.
const ABSENT: &str = "\\-";

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
    let mut out = String::with_capacity(fields.iter().map(|f| f.len() + 1).sum::<usize>() + 64);
    for (i, field) in fields.iter().enumerate() {
        if i > 0 {
            out.push(SEPARATOR);
        }
        push_escaped(&mut out, field);
    }
    if let Some(risk) = &session.risk {
        if session.user.name.is_none() {
            out.push(SEPARATOR);
            out.push_str(ABSENT);
        }
        out.push(SEPARATOR);
        push_escaped(&mut out, &pack_risk(risk));
    }
    out
}

fn push_escaped(out: &mut String, field: &str) {
    for c in field.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            SEPARATOR => out.push_str("\\|"),
            c => out.push(c),
        }
    }
}

fn pack_risk(r: &Risk) -> String {
    format!("{},{},{},{}", r.reason, r.distance_km, r.speed_kmh, r.previous_session_id)
}

fn unpack_risk(field: &str) -> Option<Risk> {
    let mut parts = field.splitn(4, ',');
    Some(Risk {
        reason: parts.next()?.to_owned(),
        distance_km: parts.next()?.parse().ok()?,
        speed_kmh: parts.next()?.parse().ok()?,
        previous_session_id: parts.next()?.to_owned(),
    })
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
    let mut raw = split(row);
    let risk = match raw.len() {
        n if n == FIELDS.len() + 1 => Some(unpack_risk(&unescape(raw.pop()?)?)?),
        n if n == FIELDS.len() || n == FIELDS.len() - 1 => None,
        _ => return None,
    };
    let user_name = match raw.get(FIELDS.len() - 1) {
        Some(&ABSENT) if risk.is_some() => None,
        Some(name) => Some(unescape(name)?),
        None => None,
    };
    let mut it = raw.into_iter().take(FIELDS.len() - 1).map(unescape);
    let mut next = || it.next().flatten();
    let (session_id, user_id) = (next()?, next()?);
    let login_at = i64::from_str_radix(&next()?, 36).ok()?;
    let expires_at = i64::from_str_radix(&next()?, 36).ok()?;
    let (kind, name, long_version, version) = (next()?, next()?, next()?, next()?);
    let (os_name, os_version, host, ip, username) = (next()?, next()?, next()?, next()?, next()?);
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
        risk,
        expires_at,
        client_ids: Vec::new(),
        geo: Default::default(),
        user: UserRef { username, name: user_name },
    })
}

/// The fields of a row as written, still escaped: split at each unescaped separator.
fn split(row: &str) -> Vec<&str> {
    let (mut out, mut start, mut escaped) = (Vec::with_capacity(FIELDS.len() + 1), 0, false);
    for (i, c) in row.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            SEPARATOR => {
                out.push(&row[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&row[start..]);
    out
}

/// A field's text; `None` for an escape that [`pack`] never writes.
fn unescape(raw: &str) -> Option<String> {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next()? {
                '\\' => out.push('\\'),
                SEPARATOR => out.push(SEPARATOR),
                _ => return None,
            },
            c => out.push(c),
        }
    }
    Some(out)
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
    fn a_flagged_rows_risk_round_trips_with_and_without_a_name() {
        let risk = Risk {
            reason: "impossible_travel".into(),
            distance_km: 9_300,
            speed_kmh: 18_600,
            previous_session_id: "P,1|x".into(),
        };
        for name in [Some("Rod Riq"), None, Some(""), Some("\\-"), Some("a|b")] {
            let s = Session { risk: Some(risk.clone()), ..session(name, "Chrome") };
            let packed = pack(&s);
            assert_eq!(unpack(&packed), Some(row_fields(&s)), "{packed}");
        }
        let unflagged = pack(&session(None, "Chrome"));
        assert!(!unflagged.ends_with("\\-"), "{unflagged}");
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
        let bad_risk = "S|U|1|1|||||||||u|\\-|impossible_travel,far,1,P";
        let absent_without_risk = "S|U|1|1|||||||||u|\\-";
        for bad in ["", "a|b", "S|U|not+a+number|1|||||||||u", "S|U|1|1|||||||||u\\x", bad_risk, absent_without_risk] {
            assert_eq!(unpack(bad), None, "{bad:?}");
        }
        let too_many = format!("{}|extra|more", pack(&session(Some("n"), "d")));
        assert_eq!(unpack(&too_many), None);
    }
}
