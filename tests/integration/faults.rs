//! Injected DynamoDB failures (store::faults) on every route: each operation a route
//! uses, failed with each fault, gives a clean 503 in the route's dialect with
//! Retry-After — never a success for a write that did not happen, never a 404 for a
//! live session, never a 500 with details — and changes nothing; once the faults stop,
//! the same request succeeds.

use aws_lambda_events::apigw::ApiGatewayV2httpRequest;
use serde_json::{Value, json};
use sessions_api::Endpoint::{self, *};
use sessions_api::core::clock::now_ms;
use sessions_api::core::model::Session;
use sessions_api::response::ApiResponse;
use sessions_api::store::faults::{Fault, Faults};
use sessions_api::store::{UserAdmin, UserSessionReader};
use sessions_cli::demo::DEMO_API_KEY;

use crate::support::*;

const FAULTS: [Fault; 5] = [
    Fault::Throttling,
    Fault::ProvisionedThroughputExceeded,
    Fault::TransactionConflict,
    Fault::InternalServerError,
    Fault::Timeout,
];

/// guester: a user with a password, no 2FA and one demo session.
const GUESTER_ID: &str = "b66oZ8i9pkeSko33v";

/// The DynamoDB operations each route calls on its way to success (in these requests).
fn operations(endpoint: Endpoint) -> &'static [&'static str] {
    match endpoint {
        // The console's page: no DynamoDB call, so no fault reaches it.
        Console => &[],
        // Token; the user's sessions.
        SessionsList => &["GetItem", "Query"],
        // Token; the session.
        SessionsInfo => &["GetItem"],
        // Token, user.
        Me => &["GetItem"],
        // Token, user; the preferences saved, or read.
        UsersSetPreferences => &["GetItem", "UpdateItem"],
        UsersGetPreferences => &["GetItem"],
        // Token; the session; its delete with the token and a counter shard.
        SessionsLogoutMe => &["GetItem", "TransactWriteItems"],
        // Token, user, permission, 2FA window; a code try reserved (UpdateItem) and, the code
        // right, given back (DeleteItem, the window's last); the 2FA trust; the order index;
        // the counter shards.
        SessionsListAll => &["GetItem", "UpdateItem", "DeleteItem", "Query", "BatchGetItem"],
        // As list.all, then the by-id index and the session.
        SessionsInfoAdmin => &["GetItem", "UpdateItem", "DeleteItem", "Query"],
        SessionsLogout => &["GetItem", "UpdateItem", "DeleteItem", "Query", "TransactWriteItems"],
        // API key, user; the user's sessions.
        UserSessionsList => &["GetItem", "Query"],
        UserSessionGet => &["GetItem"],
        UserSessionRevoke => &["GetItem", "TransactWriteItems"],
        UserSessionsRevokeAll => &["GetItem", "Query", "TransactWriteItems"],
        // API key; the time index's shards of every month kept.
        LogsList => &["GetItem", "Query"],
        // Username, user; the address's try (UpdateItem); the new session, whose transaction
        // also clears the account's failed logins; the user's sessions (cap); an eviction. The
        // address's count is cleared too (DeleteItem), best effort: a clear that fails leaves
        // the failures counted and the login stands (`a_failed_address_clear_fails_no_login`).
        Login => &["GetItem", "UpdateItem", "TransactWriteItems", "Query"],
        Logout => &["GetItem", "TransactWriteItems"],
        // Token, user; the user's sessions; each ending.
        UsersLogoutOtherClients | UsersRemoveOtherTokens | UsersLogout => &["GetItem", "Query", "TransactWriteItems"],
        // Token, user, permissions (or API key), the user; the flag on the profile and its
        // links (one transaction); the user's sessions; each ending.
        UsersSetActiveStatus | UserDisable => &["GetItem", "TransactWriteItems", "Query"],
        // API key, the user; the flag.
        UserEnable => &["GetItem", "TransactWriteItems"],
        // API key, the user, the account's failed-login window.
        UserGet => &["GetItem"],
        // API key, the user; the window deleted, the audit entry written.
        UserUnblock => &["GetItem", "DeleteItem", "PutItem"],
        // API key, the user, its audit entries; each address's window.
        UserBlockedIps => &["GetItem", "Query"],
        UserUnblockIp => &["GetItem", "Query", "DeleteItem", "PutItem"],
    }
}

/// Operations a route also calls whose failure fails nothing (the login's clear of its
/// address's failed logins), so they answer no 503.
fn best_effort(endpoint: Endpoint) -> &'static [&'static str] {
    match endpoint {
        Login => &["DeleteItem"],
        _ => &[],
    }
}

fn rocketchat_503() -> Value {
    json!({"success": false, "error": "Service temporarily unavailable, try again [error-service-unavailable]"})
}

fn monocloud_503() -> Value {
    json!({
        "type": "https://httpstatuses.io/503",
        "title": "Service Unavailable",
        "status": 503,
        "detail": "The service is temporarily unavailable, try again.",
        "traceId": "test"
    })
}

fn is_monocloud(endpoint: Endpoint) -> bool {
    endpoint.path().starts_with("/api/users/") || endpoint == LogsList
}

/// A MonoCloud event for a concrete path.
fn mc_event(endpoint: Endpoint, path: &str) -> ApiGatewayV2httpRequest {
    let mut event = Req::new().header("x-api-key", DEMO_API_KEY).event(endpoint);
    event.raw_path = Some(path.to_string());
    event.path_parameters = endpoint.match_path(path).expect("path matches the route");
    event
}

/// testroxie's step-up: the password method, reusable.
fn as_roxie(login: &sessions_cli::admin::IssuedLogin) -> Req {
    Req::new().auth(&(ROXIE_ID.to_string(), login.token.clone())).code(&password_code(DEMO_PASSWORD))
}

fn body(session_id: &str) -> Value {
    json!({"sessionId": session_id})
}

/// A request for `endpoint` on fresh sessions, and the sessions it is meant to end.
async fn fresh_request(env: &TestEnv, endpoint: Endpoint) -> (ApiGatewayV2httpRequest, Vec<Session>) {
    let now = now_ms();
    // A case before may have deactivated test.test.
    env.app.store.set_active(TEST_USER_ID, true).await.unwrap();
    let me = env.login(TEST_USER_ID, "Firefox", "Linux", now).await;
    let auth = (TEST_USER_ID.to_string(), me.token.clone());
    let own = Req::new().auth(&auth);
    let session = me.session.clone();
    let sid = session.session_id.clone();
    let user_path = format!("/api/users/{TEST_USER_ID}/sessions");
    let session_path = format!("{user_path}/{sid}");
    match endpoint {
        SessionsList | Me | UsersGetPreferences => (own.event(endpoint), vec![]),
        Console => (Req::new().event(endpoint), vec![]),
        UsersSetPreferences => {
            (own.json(json!({"data": {"receiveLoginDetectionEmail": false}})).event(endpoint), vec![])
        }
        SessionsInfo => (own.param("sessionId", &sid).event(endpoint), vec![]),
        SessionsLogoutMe => (own.json(body(&sid)).event(endpoint), vec![session]),
        Logout => (own.event(endpoint), vec![session]),
        SessionsListAll | SessionsInfoAdmin | SessionsLogout => {
            let roxie = env.login(ROXIE_ID, "Safari", "macOS", now).await;
            let req = as_roxie(&roxie);
            match endpoint {
                SessionsListAll => (req.param("count", "5").event(endpoint), vec![]),
                SessionsInfoAdmin => (req.param("sessionId", &sid).event(endpoint), vec![]),
                _ => (req.json(body(&sid)).event(endpoint), vec![session]),
            }
        }
        UserSessionsList => (mc_event(endpoint, &user_path), vec![]),
        LogsList => (mc_event(endpoint, "/api/logs"), vec![]),
        UserSessionGet => (mc_event(endpoint, &session_path), vec![]),
        UserSessionRevoke => (mc_event(endpoint, &session_path), vec![session]),
        UserSessionsRevokeAll => {
            let live = live_sessions(env, TEST_USER_ID).await;
            (mc_event(endpoint, &user_path), live)
        }
        Login => {
            let req = Req::new().json(json!({"user": "guester", "password": DEMO_PASSWORD}));
            (req.event(endpoint), vec![])
        }
        UsersLogoutOtherClients | UsersRemoveOtherTokens => {
            let others = live_sessions(env, TEST_USER_ID).await.into_iter().filter(|s| s.session_id != sid).collect();
            (own.event(endpoint), others)
        }
        UsersLogout => (own.event(endpoint), live_sessions(env, TEST_USER_ID).await),
        UsersSetActiveStatus => {
            let roxie = env.login(ROXIE_ID, "Safari", "macOS", now).await;
            let req = Req::new().auth(&(ROXIE_ID.to_string(), roxie.token.clone()));
            let req = req.json(json!({"userId": TEST_USER_ID, "activeStatus": false}));
            (req.event(endpoint), live_sessions(env, TEST_USER_ID).await)
        }
        UserDisable => {
            let path = format!("/api/users/{TEST_USER_ID}/disable");
            (mc_event(endpoint, &path), live_sessions(env, TEST_USER_ID).await)
        }
        UserEnable => {
            env.app.store.set_active(TEST_USER_ID, false).await.unwrap();
            (mc_event(endpoint, &format!("/api/users/{TEST_USER_ID}/enable")), vec![])
        }
        UserGet | UserUnblock | UserBlockedIps => {
            (mc_event(endpoint, &endpoint.path().replace("{user_id}", TEST_USER_ID)), vec![])
        }
        UserUnblockIp => {
            let mut event = mc_event(endpoint, &format!("/api/users/{TEST_USER_ID}/blocked_ips/unblock"));
            event.body = Some(r#"{"ip_address":"all"}"#.into());
            (event, vec![])
        }
    }
}

async fn live_sessions(env: &TestEnv, user_id: &str) -> Vec<Session> {
    let now = now_ms();
    let all = env.app.store.user_sessions(user_id).await.expect("sessions");
    all.into_iter().filter(|s| s.is_live(now)).collect()
}

#[track_caller]
fn assert_503(endpoint: Endpoint, resp: &ApiResponse, context: &str) {
    assert_eq!(resp.status, 503, "{context}: {}", resp.body);
    assert_eq!(resp.header("retry-after"), Some("1"), "{context}");
    if is_monocloud(endpoint) {
        assert_eq!(resp.header("content-type"), Some("application/problem+json"), "{context}");
        assert_eq!(resp.json_body(), monocloud_503(), "{context}");
    } else {
        assert_eq!(resp.header("content-type"), Some("application/json"), "{context}");
        assert_eq!(resp.json_body(), rocketchat_503(), "{context}");
    }
}

/// Deletes the user's wrong-code window, as if it had passed.
async fn forget_code_tries(env: &TestEnv, user_id: &str) {
    let store = &env.app.store;
    let key = |v: String| aws_sdk_dynamodb::types::AttributeValue::S(v);
    store
        .client()
        .delete_item()
        .table_name(store.table())
        .key("PK", key(sessions_api::store::keys::user(user_id)))
        .key("SK", key(sessions_api::store::keys::TWO_FACTOR_FAILURES.into()))
        .send()
        .await
        .unwrap();
}

/// Every (operation, fault) of `endpoint`: 503, nothing ended or created, then success.
async fn faults_on_every_operation(endpoint: Endpoint) {
    let faults = Faults::new();
    let mut env = TestEnv::seeded_with_faults(&faults).await;
    // guester is at the cap, so every successful login also evicts one session.
    env.app.config.max_sessions_per_user = 1;
    for op in operations(endpoint) {
        for fault in FAULTS {
            let context = format!("{} with {fault:?} on {op}", endpoint.function());
            // A code try whose release failed stays counted, as a wrong code would (the
            // safe side): each such case uses up one of roxie's five, so start each case
            // with the window passed.
            forget_code_tries(&env, ROXIE_ID).await;
            let (event, ending) = fresh_request(&env, endpoint).await;
            let guester_before = live_sessions(&env, GUESTER_ID).await.len();
            faults.reset_counts();
            faults.fail(op, fault);
            let failed = invoke(&env.app, endpoint, event.clone()).await;
            faults.clear();
            assert!(faults.injected(op) > 0, "{context}: the route never called {op}");
            assert_503(endpoint, &failed, &context);
            for s in &ending {
                let still = env.app.store.user_session(&s.user_id, &s.session_id).await.unwrap();
                assert!(still.is_some(), "{context}: answered 503 but ended {}", s.session_id);
            }
            if endpoint == Login {
                let after = live_sessions(&env, GUESTER_ID).await.len();
                assert_eq!(after, guester_before, "{context}: a failed login left a session");
            }
            let retried = invoke(&env.app, endpoint, event).await;
            let expected = if endpoint == UserSessionRevoke { 204 } else { 200 };
            assert_eq!(retried.status, expected, "{context}, then without faults: {}", retried.body);
            for s in &ending {
                let gone = env.app.store.user_session(&s.user_id, &s.session_id).await.unwrap();
                assert!(gone.is_none(), "{context}: {} not ended by the retried request", s.session_id);
            }
            if endpoint == UserSessionsRevokeAll {
                assert_eq!(retried.json_body(), json!({"count": ending.len()}), "{context}");
            }
        }
    }
}

macro_rules! fault_tests {
    ($($name:ident: $endpoint:expr,)*) => {$(
        #[tokio::test]
        async fn $name() {
            faults_on_every_operation($endpoint).await;
        }
    )*};
}

fault_tests! {
    sessions_list_answers_503_under_faults: SessionsList,
    sessions_info_answers_503_under_faults: SessionsInfo,
    sessions_logout_me_answers_503_under_faults: SessionsLogoutMe,
    sessions_list_all_answers_503_under_faults: SessionsListAll,
    sessions_info_admin_answers_503_under_faults: SessionsInfoAdmin,
    sessions_logout_answers_503_under_faults: SessionsLogout,
    user_sessions_list_answers_503_under_faults: UserSessionsList,
    user_session_get_answers_503_under_faults: UserSessionGet,
    user_session_revoke_answers_503_under_faults: UserSessionRevoke,
    user_sessions_revoke_all_answers_503_under_faults: UserSessionsRevokeAll,
    login_answers_503_under_faults: Login,
    logout_answers_503_under_faults: Logout,
    users_logout_other_clients_answers_503_under_faults: UsersLogoutOtherClients,
    users_remove_other_tokens_answers_503_under_faults: UsersRemoveOtherTokens,
    users_logout_answers_503_under_faults: UsersLogout,
    users_set_active_status_answers_503_under_faults: UsersSetActiveStatus,
    user_disable_answers_503_under_faults: UserDisable,
    user_enable_answers_503_under_faults: UserEnable,
}

/// Each route calls exactly the operations listed for it, so the table above is complete.
#[tokio::test]
async fn the_operation_table_is_what_each_route_calls() {
    let faults = Faults::new();
    let mut env = TestEnv::seeded_with_faults(&faults).await;
    env.app.config.max_sessions_per_user = 1;
    for endpoint in Endpoint::ALL {
        let (event, _) = fresh_request(&env, endpoint).await;
        faults.reset_counts();
        let resp = invoke(&env.app, endpoint, event).await;
        assert!(resp.status < 300, "{}: {}", endpoint.function(), resp.body);
        let mut called: Vec<String> = faults.request_counts().into_keys().collect();
        called.sort();
        let mut listed: Vec<String> =
            operations(endpoint).iter().chain(best_effort(endpoint)).map(|s| s.to_string()).collect();
        listed.sort();
        assert_eq!(called, listed, "{}", endpoint.function());
    }
}

/// Conflicts that clear within the retry budget are absorbed: one answer, one write.
#[tokio::test]
async fn a_transaction_conflict_that_clears_is_retried() {
    let faults = Faults::new();
    let env = TestEnv::seeded_with_faults(&faults).await;
    let (event, ending) = fresh_request(&env, SessionsLogoutMe).await;
    faults.reset_counts();
    faults.fail_times("TransactWriteItems", Fault::TransactionConflict, 2);
    let resp = invoke(&env.app, SessionsLogoutMe, event).await;
    assert_reply(&resp, 200, json!({"sessionId": ending[0].session_id, "success": true}));
    assert_eq!((faults.injected("TransactWriteItems"), faults.requests("TransactWriteItems")), (2, 3));
}

/// Revoke-all that can end only some sessions answers 503, not a smaller count. Past 33
/// sessions it takes two transactions; only the first to arrive gets through.
#[tokio::test]
async fn revoke_all_that_ends_only_some_sessions_is_503() {
    let faults = Faults::new();
    let env = TestEnv::seeded_with_faults(&faults).await;
    for i in 0..50 {
        env.login(TEST_USER_ID, "Chrome", "Linux", now_ms() - 60_000 - i).await;
    }
    let (event, live) = fresh_request(&env, UserSessionsRevokeAll).await;
    // Two transactions of at most 33 sessions each (store::sessions::SESSIONS_PER_TRANSACTION).
    assert!(live.len() > 33 && live.len() < 66, "{}", live.len());
    faults.fail_after("TransactWriteItems", 1, Fault::TransactionConflict, None);
    let resp = invoke(&env.app, UserSessionsRevokeAll, event.clone()).await;
    faults.clear();
    assert_503(UserSessionsRevokeAll, &resp, "revoke-all");
    let left = live_sessions(&env, TEST_USER_ID).await.len();
    assert!(left == 33 || left == live.len() - 33, "{left} of {} left", live.len());
    let resp = invoke(&env.app, UserSessionsRevokeAll, event).await;
    assert_eq!(resp.json_body(), json!({"count": left}));
}

/// A login whose eviction fails is a 503, and its own new session is ended with it.
#[tokio::test]
async fn a_login_whose_eviction_fails_leaves_no_session() {
    let faults = Faults::new();
    let mut env = TestEnv::seeded_with_faults(&faults).await;
    env.app.config.max_sessions_per_user = 1;
    let before: Vec<String> = live_sessions(&env, GUESTER_ID).await.into_iter().map(|s| s.session_id).collect();
    // The session is written; the eviction's transaction conflicts on all four tries;
    // the clean-up's passes.
    let (event, _) = fresh_request(&env, Login).await;
    faults.reset_counts();
    faults.fail_after("TransactWriteItems", 1, Fault::TransactionConflict, Some(4));
    let resp = invoke(&env.app, Login, event).await;
    assert_eq!(faults.requests("TransactWriteItems"), 6, "create, four eviction tries, clean-up");
    assert_503(Login, &resp, "login with a failing eviction");
    let after: Vec<String> = live_sessions(&env, GUESTER_ID).await.into_iter().map(|s| s.session_id).collect();
    assert_eq!(after, before);
}

/// A successful login clears its address's failed logins best effort: with that delete
/// failing, the login stands and the address's failures stay counted (the strict side).
#[tokio::test]
async fn a_failed_address_clear_fails_no_login() {
    use sessions_api::store::{LoginLimit, LoginLimitKey, LoginLimitStore};
    let faults = Faults::new();
    let env = TestEnv::seeded_with_faults(&faults).await;
    let (event, _) = fresh_request(&env, Login).await;
    let address = event.request_context.http.source_ip.clone().expect("a source address");
    faults.reset_counts();
    faults.fail("DeleteItem", Fault::Throttling);
    let resp = invoke(&env.app, Login, event).await;
    faults.clear();
    assert!(faults.injected("DeleteItem") > 0, "the login cleared its address's count");
    assert_eq!(resp.status, 200, "{}", resp.body);
    let ip = LoginLimitKey::ip(&address);
    let block = env.app.store.login_block(&ip, now_ms(), LoginLimit { max: 50, block_ms: 300_000 }).await.unwrap();
    assert_eq!(block.failures, 1, "the login's own try, still counted");
}

/// A filtered list.all reads the session counter only to size its ranges: with the counter
/// failing it cuts a default number of ranges and answers the same sessions.
#[tokio::test]
async fn a_filtered_list_all_whose_counter_fails_answers_the_same() {
    let faults = Faults::new();
    let env = TestEnv::seeded_with_faults(&faults).await;
    let roxie = env.login(ROXIE_ID, "Safari", "macOS", now_ms()).await;
    let request = || as_roxie(&roxie).param("filter", "Linux").param("count", "100").event(SessionsListAll);
    let clean = invoke(&env.app, SessionsListAll, request()).await;
    assert_eq!(clean.status, 200, "{}", clean.body);
    assert!(clean.json_body()["total"].as_u64().unwrap() > 0, "{}", clean.body);
    for fault in FAULTS {
        faults.reset_counts();
        faults.fail("BatchGetItem", fault);
        let resp = invoke(&env.app, SessionsListAll, request()).await;
        faults.clear();
        assert!(faults.injected("BatchGetItem") > 0, "{fault:?}: the counter was not read");
        assert_eq!(resp.status, 200, "{fault:?}: {}", resp.body);
        assert_eq!(resp.json_body(), clean.json_body(), "{fault:?}");
    }
}
