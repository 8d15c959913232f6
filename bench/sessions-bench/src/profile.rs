//! The usage profile docs/cost.md prices a month by: what one monthly active user does in a
//! month, each figure an assumption stated with its reason (docs/cost.md prints them). The
//! cost of each call comes from measurement; only these counts are assumed.

use crate::pricing::Breakdown;

/// One kind of call in the profile: a route of the cost table (its key) and how many calls
/// one monthly active user makes in a month.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Line {
    /// The cost table's key of the call (a function, or one of its call shapes).
    pub route: &'static str,
    pub per_user: f64,
    pub why: &'static str,
}

/// Monthly active users docs/cost.md prices a month for.
pub const USERS: [f64; 3] = [10_000.0, 100_000.0, 1_000_000.0];

/// Live sessions stored per monthly active user, all month (one per device signed in).
pub const SESSIONS_PER_USER: f64 = 3.0;
pub const SESSIONS_WHY: &str = "a phone, a laptop and a browser; a session lives until its logout or 90 days \
     (TokenLifetimeDays)";

/// What a monthly active user does in a month.
pub const PROFILE: [Line; 10] = [
    Line { route: "login", per_user: 4.0, why: "a new device or a signed-out one about once a week" },
    Line { route: "logout", per_user: 1.0, why: "most sessions end by expiry or by the cap, not by logout" },
    Line { route: "me", per_user: 4.0, why: "an app reads the account once after each login" },
    Line { route: "sessions-list", per_user: 2.0, why: "the devices page, twice a month" },
    Line {
        route: "authorizer",
        per_user: 300.0,
        why: "another API's calls checked by the authorizer: 10 a day (ReauthorizeEvery 0, every call checked)",
    },
    Line {
        route: "activity record",
        per_user: 120.0,
        why: "10 active hours a month × 12 records an hour (ActivityIntervalSeconds 300)",
    },
    Line {
        route: "user-sessions-list",
        per_user: 1.0,
        why: "a back-end reads the user's sessions (MonoCloud dialect) once a month",
    },
    Line { route: "sessions-list-all", per_user: 0.05, why: "administrators: 50 list.all pages per 1 000 users" },
    Line { route: "sessions-info-admin", per_user: 0.01, why: "administrators: 10 session details per 1 000 users" },
    Line { route: "sessions-logout", per_user: 0.005, why: "administrators: 5 sessions ended per 1 000 users" },
];

/// A month for `users`: each line's calls at `per_call_million` (the cost of a million of that
/// route's calls; `None` where the cost table lacks it, then left out), plus storage at
/// `storage_per_user` (one user's sessions for a month).
pub fn month(
    users: f64,
    lines: &[Line],
    per_call_million: impl Fn(&str) -> Option<Breakdown>,
    storage_per_user: &Breakdown,
) -> Breakdown {
    let calls = lines.iter().filter_map(|l| per_call_million(l.route).map(|b| b.times(l.per_user * users / 1e6)));
    calls.fold(storage_per_user.times(users), |sum, b| sum.plus(&b))
}

/// HTTP API requests a month for `users` (the first price tier ends at 300 million).
pub fn http_requests(users: f64, lines: &[Line], is_http: impl Fn(&str) -> bool) -> f64 {
    lines.iter().filter(|l| is_http(l.route)).map(|l| l.per_user * users).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_month_by_hand() {
        let lines = [
            Line { route: "login", per_user: 4.0, why: "" },
            Line { route: "unknown", per_user: 9.0, why: "" },
            Line { route: "record", per_user: 120.0, why: "" },
        ];
        // A million logins cost 10 (reads 2, HTTP 8); a million records 1.25 (writes).
        let cost = |route: &str| match route {
            "login" => Some(Breakdown { dynamodb_reads: 2.0, http_api: 8.0, ..Default::default() }),
            "record" => Some(Breakdown { dynamodb_writes: 1.25, ..Default::default() }),
            _ => None,
        };
        let storage = Breakdown { dynamodb_storage: 0.001, ..Default::default() };
        // 10 000 users: 40 000 logins = 0.04 × 10; 1 200 000 records = 1.2 × 1.25; 10 storage.
        let m = month(10_000.0, &lines, cost, &storage);
        assert!((m.dynamodb_reads - 0.08).abs() < 1e-9);
        assert!((m.http_api - 0.32).abs() < 1e-9);
        assert!((m.dynamodb_writes - 1.5).abs() < 1e-9);
        assert!((m.dynamodb_storage - 10.0).abs() < 1e-9);
        assert!((m.total() - 11.9).abs() < 1e-9);
        assert_eq!(http_requests(10_000.0, &lines, |r| r == "login"), 40_000.0);
    }

    #[test]
    fn the_profile_names_each_route_once() {
        let mut routes: Vec<&str> = PROFILE.iter().map(|l| l.route).collect();
        routes.sort();
        routes.dedup();
        assert_eq!(routes.len(), PROFILE.len());
        assert!(PROFILE.iter().all(|l| l.per_user > 0.0 && !l.why.is_empty()));
    }
}
