//! The invariants, checked once every client has stopped: no 5xx, no ended token works, the
//! session counter equals the sessions in the table, no limit exceeded, and every end has
//! its history record. The table is read directly (one consistent Scan, and the counter as
//! list.all reads it), on the DynamoDB the local server uses.

use std::collections::{BTreeMap, HashMap, HashSet};

use aws_sdk_dynamodb::types::AttributeValue;
use sessions_api::core::ids::hash_token;
use sessions_api::store::DynamoStore;

use crate::http::{Call, Http};
use crate::limits::{Limits, limit_checks};
use crate::record::{Recorder, Route};

/// One invariant's verdict, with what it saw.
#[derive(Clone, Debug)]
pub struct Verdict {
    pub name: String,
    pub pass: bool,
    pub detail: String,
}

impl Verdict {
    pub fn new(name: impl Into<String>, pass: bool, detail: impl Into<String>) -> Verdict {
        Verdict { name: name.into(), pass, detail: detail.into() }
    }
}

/// The table after the soak: the counter, every session (its user and token hash), and
/// every history record's user and reason.
#[derive(Debug, Default)]
pub struct TableState {
    pub counter: i64,
    pub sessions: Vec<(String, String)>,
    pub ended: Vec<(String, String)>,
}

/// Reads the counter and Scans for session and history items, consistently.
pub async fn read_table(store: &DynamoStore) -> Result<TableState, String> {
    let counter = store.session_count().await.map_err(|e| e.to_string())?;
    let mut state = TableState { counter, ..Default::default() };
    let mut start = None;
    loop {
        let out = store
            .client()
            .scan()
            .table_name(store.table())
            .consistent_read(true)
            .filter_expression("begins_with(SK, :s) OR begins_with(SK, :e)")
            .projection_expression("PK, SK, tokenHash, reason")
            .expression_attribute_values(":s", AttributeValue::S("SESSION#".into()))
            .expression_attribute_values(":e", AttributeValue::S("ENDED#".into()))
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(|e| format!("scan: {}", aws_sdk_dynamodb::error::DisplayErrorContext(e)))?;
        for item in out.items() {
            let text = |name: &str| item.get(name).and_then(|v| v.as_s().ok()).cloned().unwrap_or_default();
            let user = text("PK").trim_start_matches("USER#").to_string();
            if text("SK").starts_with("SESSION#") {
                state.sessions.push((user, text("tokenHash")));
            } else {
                state.ended.push((user, text("reason")));
            }
        }
        start = out.last_evaluated_key;
        if start.is_none() {
            return Ok(state);
        }
    }
}

/// Every check; the token check calls the local server once per token the soak was given.
pub async fn run_checks(
    rec: &Recorder,
    state: &TableState,
    http: &Http,
    limits: &Limits,
    clients: usize,
) -> Vec<Verdict> {
    let tokens = check_tokens(rec, state, http, clients).await;
    let mut verdicts = vec![no_server_errors(rec, &tokens), tokens.verdict, counter(state)];
    verdicts.push(cap(state, limits.max_sessions));
    verdicts.extend(limit_checks(&rec.failures, limits));
    verdicts.push(history(rec, state));
    verdicts
}

/// (1) No call was answered 5xx, or not at all, during the soak or the checks.
fn no_server_errors(rec: &Recorder, tokens: &TokenCheck) -> Verdict {
    let calls: u64 = rec.routes.values().map(|s| s.calls()).sum();
    let mut bad = Vec::new();
    for (route, s) in &rec.routes {
        for (label, n) in &s.answers {
            if label.starts_with('5') || label == "no answer" {
                bad.push(format!("{} × {n} on {}", label, route.name()));
            }
        }
    }
    let pass = bad.is_empty() && tokens.bad == 0;
    let detail = if pass {
        format!("0 of {} calls, and 0 of the {} check calls", calls, tokens.calls)
    } else {
        format!("{}; {} check calls answered 5xx or not at all", bad.join(", "), tokens.bad)
    };
    Verdict::new("no 5xx answer (and none unanswered)", pass, detail)
}

/// What the token check found.
struct TokenCheck {
    verdict: Verdict,
    calls: usize,
    bad: usize,
}

/// (2) Every token whose session is gone from the table answers 401, every live one 200,
/// and no session the soak ended (a 2xx answer) is still in the table.
async fn check_tokens(rec: &Recorder, state: &TableState, http: &Http, clients: usize) -> TokenCheck {
    let live: HashSet<&str> = state.sessions.iter().map(|(_, h)| h.as_str()).collect();
    let mut jobs: Vec<(String, String, bool)> = Vec::new();
    let mut ended_but_live = 0;
    for t in &rec.issued {
        let is_live = live.contains(hash_token(&t.token).as_str());
        ended_but_live += usize::from(is_live && t.ended.is_some());
        jobs.push((t.user_id.clone(), t.token.clone(), is_live));
    }
    let total = jobs.len();
    let dead = jobs.iter().filter(|j| !j.2).count();
    let outcomes = ask_all(http, jobs, clients.max(1)).await;
    let (mut dead_working, mut live_refused, mut bad) = (0, 0, 0);
    for (is_live, status) in outcomes {
        match (is_live, status) {
            (_, 0) | (_, 500..) => bad += 1,
            (false, 401) | (true, 200) => {}
            (false, _) => dead_working += 1,
            (true, _) => live_refused += 1,
        }
    }
    let pass = dead_working == 0 && ended_but_live == 0 && live_refused == 0 && bad == 0;
    let detail = format!(
        "{dead} ended tokens: {} answered 401, {dead_working} did not; {} live tokens answered 200, \
         {live_refused} did not; {ended_but_live} sessions the soak ended still in the table",
        dead - dead_working,
        total - dead - live_refused,
    );
    TokenCheck { verdict: Verdict::new("no ended token works", pass, detail), calls: total, bad }
}

/// GET /api/v1/sessions/list with every token, `parallel` at a time; (live, status) each.
async fn ask_all(http: &Http, jobs: Vec<(String, String, bool)>, parallel: usize) -> Vec<(bool, u16)> {
    let mut chunks: Vec<Vec<(String, String, bool)>> = (0..parallel).map(|_| Vec::new()).collect();
    for (i, job) in jobs.into_iter().enumerate() {
        chunks[i % parallel].push(job);
    }
    let tasks: Vec<_> = chunks
        .into_iter()
        .map(|chunk| {
            let http = http.clone();
            tokio::spawn(async move {
                let mut out = Vec::new();
                for (user_id, token, live) in chunk {
                    let call = Call::get("/api/v1/sessions/list?count=1")
                        .header("x-user-id", user_id)
                        .header("x-auth-token", token);
                    out.push((live, http.send(call).await.status));
                }
                out
            })
        })
        .collect();
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await.unwrap_or_default());
    }
    all
}

/// (3) The session counter (its shards summed, as list.all's `total` reads it) equals the
/// session items in the table.
fn counter(state: &TableState) -> Verdict {
    let items = state.sessions.len() as i64;
    Verdict::new(
        "the session counter equals the live sessions",
        state.counter == items,
        format!("counter {}, session items {items}", state.counter),
    )
}

/// (4a) No user has more live sessions than `MAX_SESSIONS_PER_USER`.
fn cap(state: &TableState, max: usize) -> Verdict {
    let mut per_user: HashMap<&str, usize> = HashMap::new();
    for (user, _) in &state.sessions {
        *per_user.entry(user.as_str()).or_default() += 1;
    }
    let most = per_user.values().copied().max().unwrap_or(0);
    let over = per_user.values().filter(|&&n| n > max).count();
    Verdict::new(
        format!("no user over MAX_SESSIONS_PER_USER ({max})"),
        over == 0,
        format!("{} users with sessions, at most {most} each, {over} over", per_user.len()),
    )
}

/// (5) Every end has its history record: as many records of each reason as ends the soak
/// was answered 2xx for, and as many `session_cap` records as tokens found ended without.
/// Two things are allowed for. Logout answers 200 for a session the cap ended just before (it
/// ends the caller's session if there is one), so such a logout's record reads `session_cap`.
/// And a login answered 5xx or not at all may have written its session (a write applied whose
/// answer was lost, docs/login-and-2fa.md): nobody holds its token, and the cap may end it, so
/// up to that many `session_cap` records more.
fn history(rec: &Recorder, state: &TableState) -> Verdict {
    let (recorded, seen) = tally(rec, state);
    let count = |m: &Tally, r: &str| m.get(r).copied().unwrap_or(0);
    let raced = count(&seen, "logout").saturating_sub(count(&recorded, "logout"));
    let mut expected = seen.clone();
    if raced > 0 {
        *expected.entry("logout").or_default() -= raced;
        *expected.entry("session_cap").or_default() += raced;
    }
    let lost_logins = rec.routes.get(&Route::Login).map_or(0, |s| (s.classes[2] + s.classes[3]) as usize);
    let extra = count(&recorded, "session_cap").saturating_sub(count(&expected, "session_cap"));
    let (mut a, mut b) = (recorded.clone(), expected);
    a.remove("session_cap");
    b.remove("session_cap");
    b.retain(|_, n| *n > 0);
    let cap_ok = count(&recorded, "session_cap") >= count(&seen, "session_cap") + raced && extra <= lost_logins;
    let show = |m: &Tally| m.iter().map(|(r, n)| format!("{r} {n}")).collect::<Vec<_>>().join(", ");
    Verdict::new(
        "every end has its history record",
        a == b && cap_ok,
        format!(
            "records: {}; the soak's ends and cap losses: {}; {raced} logouts answered 200 for a session the \
             cap had just ended; {extra} session_cap records of sessions whose login was answered 5xx or not \
             at all (at most {lost_logins})",
            show(&recorded),
            show(&seen)
        ),
    )
}

/// Counts by reason.
type Tally<'a> = BTreeMap<&'a str, usize>;

/// The history records of the soak's users by reason, and the soak's own view: its ends by
/// reason, and the tokens it found ended (`session_cap`).
fn tally<'a>(rec: &'a Recorder, state: &'a TableState) -> (Tally<'a>, Tally<'a>) {
    let soak_users: HashSet<&str> = rec.issued.iter().map(|t| t.user_id.as_str()).collect();
    let mut recorded = Tally::new();
    for (user, reason) in &state.ended {
        if soak_users.contains(user.as_str()) {
            *recorded.entry(reason.as_str()).or_default() += 1;
        }
    }
    let live: HashSet<&str> = state.sessions.iter().map(|(_, h)| h.as_str()).collect();
    let mut seen = Tally::new();
    for t in &rec.issued {
        match t.ended {
            Some(reason) => *seen.entry(reason).or_default() += 1,
            None if !live.contains(hash_token(&t.token).as_str()) => *seen.entry("session_cap").or_default() += 1,
            None => {}
        }
    }
    (recorded, seen)
}

/// The answers the contract does not allow on their route, for the report.
pub fn unexpected(rec: &Recorder) -> Vec<(Route, String, u64)> {
    let mut out = Vec::new();
    for (route, s) in &rec.routes {
        for (label, n) in &s.answers {
            if !route.expected(label) {
                out.push((*route, label.clone(), *n));
            }
        }
    }
    out
}
