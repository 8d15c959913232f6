//! Time as the API sees it: epoch milliseconds, shown as ISO-8601 UTC with milliseconds.

use time::{OffsetDateTime, format_description::well_known::Rfc3339};

/// Milliseconds since the Unix epoch.
pub type Millis = i64;

/// The current time in epoch milliseconds.
pub fn now_ms() -> Millis {
    (OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as Millis
}

/// `2023-05-24T00:25:54.234Z`: the fixed-width form Rocket.Chat shows, which also sorts
/// lexicographically in time order.
pub fn iso_millis(ms: Millis) -> String {
    let secs = ms.div_euclid(1000);
    let milli = ms.rem_euclid(1000);
    match OffsetDateTime::from_unix_timestamp(secs) {
        Ok(t) => format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
            t.year(),
            t.month() as u8,
            t.day(),
            t.hour(),
            t.minute(),
            t.second(),
            milli
        ),
        Err(_) => "1970-01-01T00:00:00.000Z".into(),
    }
}

/// Parses an RFC 3339 time (as written by [`iso_millis`]) back to epoch milliseconds.
pub fn parse_iso(s: &str) -> Option<Millis> {
    let t = OffsetDateTime::parse(s, &Rfc3339).ok()?;
    Some((t.unix_timestamp_nanos() / 1_000_000) as Millis)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_rocket_chat() {
        assert_eq!(iso_millis(1_684_887_954_234), "2023-05-24T00:25:54.234Z");
        assert_eq!(iso_millis(0), "1970-01-01T00:00:00.000Z");
    }

    #[test]
    fn round_trips() {
        for ms in [0, 1_684_887_954_234, 1_684_887_954_000, 4_102_444_800_001] {
            assert_eq!(parse_iso(&iso_millis(ms)), Some(ms));
        }
        assert_eq!(parse_iso("yesterday"), None);
    }

    #[test]
    fn now_is_after_2026() {
        assert!(now_ms() > 1_767_225_600_000);
    }
}
