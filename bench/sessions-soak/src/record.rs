//! What each client records: every answer per route (latency and answer), the refusals the
//! limits are checked against, and every token it was given. Each client keeps its own and
//! they are merged at the end, so recording takes no lock.

use std::collections::BTreeMap;

use crate::http::Answer;

/// Each kind of call the soak makes; a route with another outcome expected is its own row.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Route {
    Login,
    LoginWrongPassword,
    LoginWrongCode,
    List,
    Info,
    Me,
    ListAll,
    ListAllWrongCode,
    Logout,
    LogoutMe,
    AdminLogout,
    Revoke,
    UserSessions,
}

/// Rocket.Chat's answer to a token that no longer works.
const ENDED_TOKEN: &str = "401 You must be logged in to do this.";
const NOT_FOUND: &str = "404 Session not found";
const WRONG_CODE: [&str; 2] = ["400 totp-invalid", "400 totp-max-attempts"];

impl Route {
    pub const ALL: [Route; 13] = [
        Route::Login,
        Route::LoginWrongPassword,
        Route::LoginWrongCode,
        Route::List,
        Route::Info,
        Route::Me,
        Route::ListAll,
        Route::ListAllWrongCode,
        Route::Logout,
        Route::LogoutMe,
        Route::AdminLogout,
        Route::Revoke,
        Route::UserSessions,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Route::Login => "POST /api/v1/login",
            Route::LoginWrongPassword => "POST /api/v1/login, wrong password",
            Route::LoginWrongCode => "POST /api/v1/login, wrong 2FA code",
            Route::List => "GET /api/v1/sessions/list",
            Route::Info => "GET /api/v1/sessions/info",
            Route::Me => "GET /api/v1/me",
            Route::ListAll => "GET /api/v1/sessions/list.all",
            Route::ListAllWrongCode => "GET /api/v1/sessions/list.all, wrong 2FA code",
            Route::Logout => "POST /api/v1/logout",
            Route::LogoutMe => "POST /api/v1/sessions/logout.me",
            Route::AdminLogout => "POST /api/v1/sessions/logout (admin)",
            Route::Revoke => "DELETE /api/users/{id}/sessions/{sid}",
            Route::UserSessions => "GET /api/users/{id}/sessions",
        }
    }

    /// Whether the contract allows this answer here. A token the soak holds may have been
    /// ended by the per-user cap meanwhile (another client's login), so its calls may get
    /// the ended-token 401, and an end or an info of its session the 404 of a session gone
    /// (the cap ended it between the call's authentication and its read).
    pub fn expected(self, label: &str) -> bool {
        let ok = |l: &[&str]| l.contains(&label);
        match self {
            Route::Login | Route::ListAll | Route::UserSessions => ok(&["200"]) || label == "400 totp-required",
            Route::LoginWrongPassword => {
                ok(&["401 Unauthorized", "401 error-login-blocked-for-user", "401 error-login-blocked-for-ip"])
            }
            Route::LoginWrongCode | Route::ListAllWrongCode => ok(&WRONG_CODE),
            Route::List | Route::Me | Route::Logout => ok(&["200", ENDED_TOKEN]),
            Route::Info | Route::LogoutMe => ok(&["200", ENDED_TOKEN, NOT_FOUND]),
            Route::AdminLogout => ok(&["200", NOT_FOUND]),
            Route::Revoke => ok(&["204", "404 Not Found"]),
        }
    }
}

/// One route's answers.
#[derive(Clone, Debug, Default)]
pub struct RouteStats {
    /// Latency of every answered call, ms.
    pub ms: Vec<f64>,
    /// How many of each answer ([`Answer::label`]).
    pub answers: BTreeMap<String, u64>,
    /// Calls by status class: 2xx, 4xx, 5xx, unanswered (and 3xx/1xx, never expected).
    pub classes: [u64; 4],
}

impl RouteStats {
    pub fn calls(&self) -> u64 {
        self.answers.values().sum()
    }
}

/// Whose failure a limit counts.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Counted {
    /// Wrong passwords of one account (by username).
    Account(String),
    /// Wrong passwords from one client address.
    Address(String),
    /// Wrong 2FA codes of one user (by username).
    SecondFactor(String),
}

/// A refusal a limit counts (a checked wrong password, a checked wrong code), with when its
/// call was sent and answered: the server counted it somewhere in between.
#[derive(Clone, Debug)]
pub struct Failure {
    pub who: Counted,
    pub sent: f64,
    pub answered: f64,
}

/// How the soak ended a session, as the history record's reason spells it.
pub type Reason = &'static str;

/// A token the soak was given: whose, its session once learned, and whether the soak
/// ended it (with a 2xx answer) or found it ended by something else (the cap).
pub struct Issued {
    pub user_id: String,
    pub token: String,
    pub session_id: Option<String>,
    pub ended: Option<Reason>,
    pub found_ended: bool,
}

sessions_api::debug_redacted!(Issued { user_id, session_id, ended, found_ended } redacted { token });

/// Everything one client (or, merged, the whole soak) recorded.
#[derive(Debug, Default)]
pub struct Recorder {
    pub routes: BTreeMap<Route, RouteStats>,
    pub failures: Vec<Failure>,
    pub issued: Vec<Issued>,
    /// First call sent and last answer received, ms since the start.
    pub first_sent: Option<f64>,
    pub last_answered: f64,
}

impl Recorder {
    pub fn record(&mut self, route: Route, answer: &Answer) {
        let stats = self.routes.entry(route).or_default();
        *stats.answers.entry(answer.label()).or_default() += 1;
        let class = match answer.status {
            200..=299 => 0,
            400..=499 => 1,
            500..=599 => 2,
            _ => 3,
        };
        stats.classes[class] += 1;
        if answer.status != 0 {
            stats.ms.push(answer.ms());
        }
        self.first_sent = Some(self.first_sent.map_or(answer.sent, |f| f.min(answer.sent)));
        self.last_answered = self.last_answered.max(answer.answered);
    }

    pub fn fail(&mut self, who: Counted, answer: &Answer) {
        self.failures.push(Failure { who, sent: answer.sent, answered: answer.answered });
    }

    /// Keeps a new token; its index in `issued`.
    pub fn issue(&mut self, user_id: &str, token: &str) -> usize {
        let t =
            Issued { user_id: user_id.into(), token: token.into(), session_id: None, ended: None, found_ended: false };
        self.issued.push(t);
        self.issued.len() - 1
    }

    pub fn merge(&mut self, other: Recorder) {
        for (route, s) in other.routes {
            let mine = self.routes.entry(route).or_default();
            mine.ms.extend(s.ms);
            for (label, n) in s.answers {
                *mine.answers.entry(label).or_default() += n;
            }
            for (a, b) in mine.classes.iter_mut().zip(s.classes) {
                *a += b;
            }
        }
        self.failures.extend(other.failures);
        self.issued.extend(other.issued);
        if let Some(f) = other.first_sent {
            self.first_sent = Some(self.first_sent.map_or(f, |m| m.min(f)));
        }
        self.last_answered = self.last_answered.max(other.last_answered);
    }

    /// Seconds from the first call sent to the last answer.
    pub fn span_secs(&self) -> f64 {
        (self.last_answered - self.first_sent.unwrap_or(0.0)).max(0.0) / 1000.0
    }
}

/// The `q` quantile (0..=1) of `ms`, nearest rank; 0 when empty.
pub fn quantile(ms: &[f64], q: f64) -> f64 {
    if ms.is_empty() {
        return 0.0;
    }
    let mut v = ms.to_vec();
    v.sort_by(f64::total_cmp);
    let rank = ((v.len() as f64 * q).ceil() as usize).clamp(1, v.len());
    v[rank - 1]
}
