//! A storm: 200 concurrent logins, logouts, logout.me, admin revokes, MonoCloud revokes
//! and revoke-alls over 20 users, with a cap of 3 live sessions per user. Afterwards
//! list.all's `total` equals the live session items, no token whose session a call
//! reported ended still authenticates, and no user holds more than the cap.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::json;
use sessions_api::App;
use sessions_api::Endpoint::{self, *};
use sessions_api::core::clock::now_ms;
use sessions_api::response::ApiResponse;
use sessions_api::store::UserSessionReader;
use sessions_cli::admin::{IssuedLogin, LoginSpec, NewUser, create_user, issue_login};
use sessions_cli::demo::DEMO_API_KEY;

use crate::support::*;

const USERS: usize = 20;
const OPERATIONS: usize = 200;
const CAP: usize = 3;
const PASSWORD: &str = "storm-password";

struct StormUser {
    id: String,
    username: String,
    /// Sessions issued before the storm (as many as the cap), each with its token.
    sessions: Vec<IssuedLogin>,
}

/// What one call did, as its answer says.
struct Outcome {
    what: String,
    status: u16,
    /// (user, token) of sessions the call reported ended.
    ended: Vec<(String, String)>,
}

fn auth(user: &StormUser, login: &IssuedLogin) -> (String, String) {
    (user.id.clone(), login.token.clone())
}

async fn mc_call(app: &App, endpoint: Endpoint, path: String) -> ApiResponse {
    let mut event = Req::new().header("x-api-key", DEMO_API_KEY).event(endpoint);
    event.raw_path = Some(path.clone());
    event.path_parameters = endpoint.match_path(&path).expect("path matches the route");
    invoke(app, endpoint, event).await
}

/// Operation `i` for user `i % USERS` in round `i / USERS`: every user gets every kind,
/// logins three times as often as each other kind, so parallel logins meet the cap.
async fn operation(app: App, user: &StormUser, roxie: (String, String), i: usize) -> Outcome {
    let round = i / USERS;
    let a = &user.sessions[round % CAP];
    let b = &user.sessions[(round + 1) % CAP];
    let send = |endpoint: Endpoint, req: Req| {
        let app = app.clone();
        async move { invoke(&app, endpoint, req.event(endpoint)).await }
    };
    let (what, resp, ended) = match (round + i % USERS) % 8 {
        0..=2 => {
            let body = json!({"user": user.username, "password": PASSWORD});
            ("login", send(Login, Req::new().json(body)).await, vec![])
        }
        3 => ("logout", send(Logout, Req::new().auth(&auth(user, a))).await, vec![a]),
        4 => {
            let req = Req::new().auth(&auth(user, a)).json(json!({"sessionId": b.session.session_id}));
            ("logout.me", send(SessionsLogoutMe, req).await, vec![b])
        }
        5 => {
            let req = Req::new()
                .auth(&roxie)
                .code(&password_code(DEMO_PASSWORD))
                .json(json!({"sessionId": a.session.session_id}));
            ("admin logout", send(SessionsLogout, req).await, vec![a])
        }
        6 => {
            let path = format!("/api/users/{}/sessions/{}", user.id, a.session.session_id);
            ("revoke", mc_call(&app, UserSessionRevoke, path).await, vec![a])
        }
        _ => {
            let path = format!("/api/users/{}/sessions", user.id);
            ("revoke-all", mc_call(&app, UserSessionsRevokeAll, path).await, user.sessions.iter().collect())
        }
    };
    let success = matches!(resp.status, 200 | 204);
    let ended = if success { ended.into_iter().map(|l| auth(user, l)).collect() } else { vec![] };
    Outcome { what: format!("{what} #{i} for {}", user.username), status: resp.status, ended }
}

/// Session items whose expiry has not passed, by a consistent scan of the whole table.
async fn live_session_items(env: &TestEnv) -> usize {
    let now_secs = now_ms() / 1000;
    let live = |i: &std::collections::HashMap<String, AttributeValue>| {
        i["SK"].as_s().is_ok_and(|s| s.starts_with("SESSION#"))
            && i.get("expiresAt").and_then(|v| v.as_n().ok()).and_then(|n| n.parse::<i64>().ok()) > Some(now_secs)
    };
    env.items().await.iter().filter(|i| live(i)).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_storm_of_concurrent_logins_and_logouts_keeps_count_tokens_and_cap_exact() {
    let mut env = TestEnv::seeded().await;
    env.app.config.max_sessions_per_user = CAP;
    no_login_limits(&mut env);
    let (store, config) = (&env.app.store, &env.app.config);
    let mut users = Vec::new();
    for u in 0..USERS {
        let username = format!("storm-{u:02}");
        let new = NewUser { username: username.clone(), password: Some(PASSWORD.into()), ..Default::default() };
        let user = create_user(store, config, new).await.expect("user");
        let mut sessions = Vec::new();
        for _ in 0..CAP {
            sessions.push(issue_login(store, config, &user, LoginSpec::default()).await.expect("login"));
        }
        users.push(StormUser { id: user.user_id, username, sessions });
    }
    let roxie = env.login(ROXIE_ID, "Safari", "macOS", now_ms()).await;
    let roxie = (ROXIE_ID.to_string(), roxie.token);
    // Step up once before the storm, as an admin console does: later calls are remembered.
    // (Each unremembered 2FA call reserves one of the 5 tries first, so dozens in flight at
    // once would be refused; limits.rs tests that rule.)
    let step_up = Req::new().auth(&roxie).code(&password_code(DEMO_PASSWORD)).param("count", "0");
    assert_eq!(env.send(sessions_api::Endpoint::SessionsListAll, step_up).await.status, 200);

    let users = std::sync::Arc::new(users);
    let tasks: Vec<_> = (0..OPERATIONS)
        .map(|i| {
            let (app, users, roxie) = (env.app.clone(), users.clone(), roxie.clone());
            tokio::spawn(async move { operation(app, &users[i % USERS], roxie, i).await })
        })
        .collect();
    let outcomes: Vec<Outcome> = futures::future::join_all(tasks).await.into_iter().map(|r| r.unwrap()).collect();

    let mut statuses: HashMap<u16, usize> = HashMap::new();
    for o in &outcomes {
        *statuses.entry(o.status).or_default() += 1;
        assert!(matches!(o.status, 200 | 204 | 401 | 404 | 503), "{}: {}", o.what, o.status);
    }
    eprintln!("storm statuses: {statuses:?}");
    assert!(statuses.get(&200).copied().unwrap_or(0) > OPERATIONS / 4, "{statuses:?}");

    // list.all's total, through the real handler as the demo admin with a TOTP code.
    let admin = demo_auth(ADMIN_ID, ADMIN_SESSION);
    let resp = env.send(SessionsListAll, Req::new().auth(&admin).code(&admin_totp(now_ms())).param("count", "0")).await;
    assert_eq!(resp.status, 200, "{}", resp.body);
    assert_eq!(resp.json_body()["total"], json!(live_session_items(&env).await));
    let shards = env.app.store.client().scan().table_name(env.app.store.table()).consistent_read(true);
    let shards = shards.filter_expression("begins_with(PK, :c)");
    let shards = shards.expression_attribute_values(":c", AttributeValue::S("COUNTER#sessions#".into()));
    assert!(shards.send().await.unwrap().count > 4, "the counter's writes are spread over its shards");

    for o in &outcomes {
        for token in &o.ended {
            let list = env.send(SessionsList, Req::new().auth(token)).await;
            assert_eq!(list.status, 401, "{} reported ending a session whose token still works", o.what);
        }
    }
    let now = now_ms();
    for user in users.iter() {
        let live = env.app.store.user_sessions(&user.id).await.unwrap().into_iter().filter(|s| s.is_live(now)).count();
        assert!(live <= CAP, "{} holds {live} live sessions, more than {CAP}", user.username);
    }
}

/// Parallel logins of one user: at most the cap stay live, and never none.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_logins_of_one_user_leave_at_most_the_cap() {
    let mut env = TestEnv::seeded().await;
    env.app.config.max_sessions_per_user = 2;
    no_login_limits(&mut env);
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let app = env.app.clone();
            let body = json!({"user": "guester", "password": DEMO_PASSWORD});
            tokio::spawn(async move { invoke(&app, Login, Req::new().json(body).event(Login)).await.status })
        })
        .collect();
    let statuses: Vec<u16> = futures::future::join_all(tasks).await.into_iter().map(|r| r.unwrap()).collect();
    assert!(statuses.iter().all(|s| matches!(s, 200 | 503)), "{statuses:?}");
    assert!(statuses.contains(&200), "{statuses:?}");
    let now = now_ms();
    let live = env.app.store.user_sessions("b66oZ8i9pkeSko33v").await.unwrap();
    let live = live.into_iter().filter(|s| s.is_live(now)).count();
    assert!((1..=2).contains(&live), "{live} live sessions after {statuses:?}");
}

/// The failed-login limits reserve a try for every password check, so a burst of correct
/// logins of one user from one address past them would be refused; these tests are about
/// the cap and the counter, and limits.rs tests the limits.
fn no_login_limits(env: &mut TestEnv) {
    env.app.config.login_failures_per_user = 0;
    env.app.config.login_failures_per_ip = 0;
}
