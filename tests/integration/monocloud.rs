//! The MonoCloud dialect: /api/users/{user_id}/sessions with X-API-KEY.

use serde_json::{Value, json};
use sessions_api::Endpoint::{
    self, SessionsList, UserSessionGet, UserSessionRevoke, UserSessionsList, UserSessionsRevokeAll,
};
use sessions_api::response::ApiResponse;
use sessions_api::store::ApiKeyStore;
use sessions_cli::demo::{DEMO_API_KEY, SEED_CLIENT_ID};

use crate::support::*;

/// A MonoCloud request for a concrete path (pathParameters filled as API Gateway does).
async fn call(env: &TestEnv, endpoint: Endpoint, path: &str, query: &str, key: Option<&str>) -> ApiResponse {
    mc_call(env, endpoint, path, query, None, key).await
}

fn sessions_path(user: &str) -> String {
    format!("/api/users/{user}/sessions")
}

fn session_ids(resp: &ApiResponse) -> Vec<String> {
    resp.json_body()
        .as_array()
        .unwrap_or_else(|| panic!("not an array: {}", resp.body))
        .iter()
        .map(|s| s["session_id"].as_str().unwrap().to_string())
        .collect()
}

fn pagination(resp: &ApiResponse) -> Value {
    serde_json::from_str(resp.header("x-pagination").expect("X-Pagination header")).unwrap()
}

/// Every error is RFC 7807 problem+json with type, title, status, detail and traceId.
#[track_caller]
fn assert_problem(resp: &ApiResponse, status: u16) -> Value {
    assert_eq!(resp.status, status, "{}", resp.body);
    assert_eq!(resp.header("content-type"), Some("application/problem+json"));
    let body = resp.json_body();
    assert_eq!(body["status"], json!(status));
    for field in ["type", "title", "detail", "traceId"] {
        assert!(body[field].as_str().is_some_and(|v| !v.is_empty()), "{field} missing in {body}");
    }
    assert!(body["type"].as_str().unwrap().starts_with(&format!("https://httpstatuses.io/{status}")));
    body
}

#[tokio::test]
async fn the_seed_example_request_returns_the_matching_sessions_in_order() {
    let env = TestEnv::seeded().await;
    let query = format!("page=1&size=10&client_id={SEED_CLIENT_ID}&sort=initiated_at:1");
    let resp = call(&env, UserSessionsList, &sessions_path(TEST_USER_ID), &query, Some(DEMO_API_KEY)).await;
    assert_eq!(resp.status, 200, "{}", resp.body);
    assert_eq!(resp.header("content-type"), Some("application/json"));
    assert_eq!(session_ids(&resp), ["Xm4PqRt7sVw2yZa8B", "WJ2giBwm4B9mcojFi", "QoYYFw2t9oKks2niG"]);
    assert_eq!(
        pagination(&resp),
        json!({"total_count": 3, "page_size": 10, "current_page": 1, "has_next": false, "has_previous": false})
    );
    let rows = resp.json_body();
    let la = &rows[2];
    let keys: Vec<&str> = la.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, ["session_id", "client_ids", "initiated_at", "expires_at", "last_updated", "last_metadata"]);
    assert_eq!(la["client_ids"], json!([SEED_CLIENT_ID]));
    assert_eq!(
        la["last_metadata"],
        json!({"ip_address": "172.20.0.2", "user_agent": la["last_metadata"]["user_agent"], "country": "United States of America",
               "region": "North America", "city": "Los Angeles", "latitude": "34.043238", "longitude": "-118.250918"})
    );
    assert!(la["initiated_at"].is_i64() && la["expires_at"].is_i64() && la["last_updated"].is_i64());
    assert_eq!(
        la["expires_at"].as_i64().unwrap() - la["initiated_at"].as_i64().unwrap(),
        env.app.config.token_lifetime_secs
    );
    // Unknown geo is null, not absent.
    assert_eq!(rows[0]["last_metadata"]["city"], Value::Null);
    assert!(!resp.body.contains("session_key") && !resp.body.contains("token"));
}

#[tokio::test]
async fn paging_with_size_2_visits_every_session_once() {
    let env = TestEnv::seeded().await;
    for i in 0..3 {
        env.login(TEST_USER_ID, "Edge", "Windows", env.seeded_at - 1000 * i).await;
    }
    // 7 sessions: pages of 2, 2, 2, 1.
    for sort in ["initiated_at:-1", "session_id:1", "expires_at:1", "last_updated:-1"] {
        let mut seen = Vec::new();
        for page in 1..=4 {
            let query = format!("page={page}&size=2&sort={sort}");
            let resp = call(&env, UserSessionsList, &sessions_path(TEST_USER_ID), &query, Some(DEMO_API_KEY)).await;
            let p = pagination(&resp);
            assert_eq!(p["total_count"], json!(7));
            assert_eq!(p["has_previous"], json!(page > 1), "{sort} page {page}");
            assert_eq!(p["has_next"], json!(page < 4), "{sort} page {page}");
            seen.extend(session_ids(&resp));
        }
        let mut unique = seen.clone();
        unique.sort();
        unique.dedup();
        assert_eq!((seen.len(), unique.len()), (7, 7), "{sort}: {seen:?}");
        if sort == "session_id:1" {
            assert_eq!(seen, unique);
        }
    }
    let past_end =
        call(&env, UserSessionsList, &sessions_path(TEST_USER_ID), "page=9&size=2", Some(DEMO_API_KEY)).await;
    assert_eq!(session_ids(&past_end), Vec::<String>::new());
    assert_eq!(pagination(&past_end)["has_next"], json!(false));
}

#[tokio::test]
async fn api_keys_missing_unknown_or_disabled_are_401() {
    let env = TestEnv::seeded().await;
    let path = sessions_path(TEST_USER_ID);
    assert_problem(&call(&env, UserSessionsList, &path, "", None).await, 401);
    assert_problem(&call(&env, UserSessionsList, &path, "", Some("sk_not_a_key")).await, 401);
    let (key, secret) =
        sessions_cli::admin::create_api_key(&env.app.store, "ci", None, None, env.seeded_at).await.unwrap();
    assert!(env.app.store.api_key(&key.key_hash).await.unwrap().is_some());
    assert!(!format!("{:?}", env.snapshot().await).contains(&secret), "the key itself is never stored");
    assert_eq!(call(&env, UserSessionsList, &path, "", Some(&secret)).await.status, 200);
    sessions_cli::admin::disable_api_key(&env.app.store, &key.key_id).await.unwrap();
    let body = assert_problem(&call(&env, UserSessionsList, &path, "", Some(&secret)).await, 401);
    assert_eq!(body["title"], "Unauthorized");
    // Unauthorised and invalid: 401 first.
    assert_problem(&call(&env, UserSessionsList, &path, "page=0", None).await, 401);
}

/// A key holds scopes: a call outside them is 403 in MonoCloud's problem shape, after the
/// key is checked and before anything else, and changes nothing. A key recorded before scopes
/// (no `scopes` on its item) keeps full access until an operator sets them.
#[tokio::test]
async fn a_key_outside_its_scopes_is_403_and_changes_nothing() {
    use sessions_api::core::scopes::Scope;
    use sessions_cli::admin::{create_api_key, set_api_key_scopes};
    let env = TestEnv::seeded().await;
    let store = &env.app.store;
    let (key, secret) =
        create_api_key(store, "reader", None, Some(&[Scope::ReadSessions]), env.seeded_at).await.unwrap();
    let k = Some(secret.as_str());
    let path = sessions_path(TEST_USER_ID);
    let one = format!("{path}/QoYYFw2t9oKks2niG");
    assert_eq!(call(&env, UserSessionsList, &path, "", k).await.status, 200);
    assert_eq!(call(&env, UserSessionGet, &one, "", k).await.status, 200);
    let before = env.snapshot().await;
    let forbidden = |scope: &str| {
        json!({"type": "https://httpstatuses.io/403", "title": "Forbidden", "status": 403, "traceId": "t",
               "detail": format!("The API key does not have the scope '{scope}' this route needs.")})
    };
    let cases = [
        (UserSessionRevoke, one.clone(), "", "sessions:revoke"),
        (UserSessionsRevokeAll, path.clone(), "except=nope", "sessions:revoke"),
        (Endpoint::UserDisable, format!("/api/users/{TEST_USER_ID}/disable"), "", "users:manage"),
        (Endpoint::UserEnable, format!("/api/users/{TEST_USER_ID}/enable"), "", "users:manage"),
        (Endpoint::LogsList, "/api/logs".to_string(), "page=0", "logs:read"),
        (Endpoint::UserGet, format!("/api/users/{TEST_USER_ID}"), "", "users:manage"),
        (Endpoint::UserUnblock, format!("/api/users/{TEST_USER_ID}/unblock"), "", "users:manage"),
        (Endpoint::UserBlockedIps, format!("/api/users/{TEST_USER_ID}/blocked_ips"), "page=0", "users:manage"),
        (Endpoint::UserUnblockIp, format!("/api/users/{TEST_USER_ID}/blocked_ips/unblock"), "", "users:manage"),
        // The scope is checked before the path's user is looked up.
        (UserSessionRevoke, format!("{}/x", sessions_path("nobody")), "", "sessions:revoke"),
    ];
    for (endpoint, path, query, scope) in cases {
        let mut body = assert_problem(&call(&env, endpoint, &path, query, k).await, 403);
        body["traceId"] = json!("t");
        assert_eq!(body, forbidden(scope), "{path}");
    }
    assert_eq!(env.snapshot().await, before);
    // Given the scope, the same key revokes.
    set_api_key_scopes(store, &key.key_id, &[Scope::ReadSessions, Scope::RevokeSessions]).await.unwrap();
    assert_eq!(call(&env, UserSessionRevoke, &one, "", k).await.status, 204);
    // A key from before scopes: its item has no `scopes`, and it may do everything.
    let old = sessions_api::core::model::ApiKey {
        key_hash: sessions_api::core::ids::sha256_hex("sk_from_before_scopes"),
        key_id: "OLDKEY00000000000".into(),
        name: "old".into(),
        created_at: "2026-01-01T00:00:00.000Z".into(),
        disabled: false,
        scopes: None,
    };
    store.create_api_key(&old).await.unwrap();
    assert_eq!(store.api_key(&old.key_hash).await.unwrap().unwrap().scopes, None);
    let logs = call(&env, Endpoint::LogsList, "/api/logs", "", Some("sk_from_before_scopes")).await;
    assert_eq!(logs.status, 200, "{}", logs.body);
}

#[tokio::test]
async fn bad_parameters_are_422_by_name_or_400_when_unparseable() {
    let env = TestEnv::seeded().await;
    let path = sessions_path(TEST_USER_ID);
    for (query, param) in [
        ("page=0", "page"),
        ("size=0", "size"),
        ("size=101", "size"),
        ("sort=foo:1", "sort"),
        ("sort=initiated_at:2", "sort"),
    ] {
        let body = assert_problem(&call(&env, UserSessionsList, &path, query, Some(DEMO_API_KEY)).await, 422);
        assert_eq!(body["type"], "https://httpstatuses.io/422#validation-error", "{query}");
        let errors = body["errors"].as_object().unwrap();
        assert_eq!(errors.keys().collect::<Vec<_>>(), [param], "{query}");
        assert!(errors[param][0].as_str().is_some_and(|m| !m.is_empty()));
    }
    let long_client = format!("client_id={}", "c".repeat(300));
    let body = assert_problem(&call(&env, UserSessionsList, &path, &long_client, Some(DEMO_API_KEY)).await, 422);
    assert!(body["errors"]["client_id"][0].is_string(), "{body}");
    let before = env.snapshot().await;
    let body =
        assert_problem(&call(&env, UserSessionsRevokeAll, &path, "except=a&except=b", Some(DEMO_API_KEY)).await, 400);
    assert_eq!(body["type"], "https://httpstatuses.io/400");
    assert_eq!(env.snapshot().await, before, "a refused revoke-all revokes nothing");
    for query in ["page=abc", "size=ten", "page=1&page=2"] {
        let body = assert_problem(&call(&env, UserSessionsList, &path, query, Some(DEMO_API_KEY)).await, 400);
        assert_eq!(body["type"], "https://httpstatuses.io/400");
    }
}

#[tokio::test]
async fn unknown_users_and_sessions_are_404() {
    let env = TestEnv::seeded().await;
    let k = Some(DEMO_API_KEY);
    assert_problem(&call(&env, UserSessionsList, &sessions_path("nobody"), "", k).await, 404);
    assert_problem(&call(&env, UserSessionsRevokeAll, &sessions_path("nobody"), "", k).await, 404);
    let mine = format!("{}/QoYYFw2t9oKks2niG", sessions_path(TEST_USER_ID));
    assert_eq!(call(&env, UserSessionGet, &mine, "", k).await.status, 200);
    let unknown = format!("{}/nope", sessions_path(TEST_USER_ID));
    assert_problem(&call(&env, UserSessionGet, &unknown, "", k).await, 404);
    assert_problem(&call(&env, UserSessionRevoke, &unknown, "", k).await, 404);
    // testroxie's session addressed under test.test's path.
    let foreign = format!("{}/o94SveQp6fyPsoiNC", sessions_path(TEST_USER_ID));
    let before = env.snapshot().await;
    assert_problem(&call(&env, UserSessionGet, &foreign, "", k).await, 404);
    assert_problem(&call(&env, UserSessionRevoke, &foreign, "", k).await, 404);
    // A revoke-all whose `except` names no live session of the user (a typo, another user's
    // session) revokes nothing, rather than everything.
    let all = sessions_path(TEST_USER_ID);
    for except in ["except=QoYYFw2t9oKks2niX", "except=o94SveQp6fyPsoiNC", &format!("except={}", "Q".repeat(300))] {
        let body = assert_problem(&call(&env, UserSessionsRevokeAll, &all, except, k).await, 404);
        assert_eq!(body["detail"], json!("Session not found"), "{except}");
    }
    assert_eq!(env.snapshot().await, before);
}

#[tokio::test]
async fn revoking_one_is_204_and_gone_from_both_dialects() {
    let env = TestEnv::seeded().await;
    let path = format!("{}/WJ2giBwm4B9mcojFi", sessions_path(TEST_USER_ID));
    let resp = call(&env, UserSessionRevoke, &path, "", Some(DEMO_API_KEY)).await;
    assert_eq!((resp.status, resp.body.as_str()), (204, ""));
    assert_problem(&call(&env, UserSessionGet, &path, "", Some(DEMO_API_KEY)).await, 404);
    // Its token is dead at once for Rocket.Chat callers, and the session is not listed.
    let revoked = demo_auth(TEST_USER_ID, "WJ2giBwm4B9mcojFi");
    assert_reply(&env.send(SessionsList, Req::new().auth(&revoked)).await, 401, unauthorized());
    let listed = ids(&env.send(SessionsList, Req::new().auth(&demo_auth(TEST_USER_ID, "QoYYFw2t9oKks2niG"))).await);
    assert!(!listed.contains(&"WJ2giBwm4B9mcojFi".to_string()));
    assert_problem(&call(&env, UserSessionRevoke, &path, "", Some(DEMO_API_KEY)).await, 404);
}

#[tokio::test]
async fn revoke_all_keeps_exactly_the_excepted_session() {
    let env = TestEnv::seeded().await;
    let path = sessions_path(TEST_USER_ID);
    let resp = call(&env, UserSessionsRevokeAll, &path, "except=QoYYFw2t9oKks2niG", Some(DEMO_API_KEY)).await;
    assert_eq!((resp.status, resp.json_body()), (200, json!({"count": 3})));
    let left = call(&env, UserSessionsList, &path, "", Some(DEMO_API_KEY)).await;
    assert_eq!(session_ids(&left), ["QoYYFw2t9oKks2niG"]);
    assert_eq!(
        env.send(SessionsList, Req::new().auth(&demo_auth(TEST_USER_ID, "QoYYFw2t9oKks2niG"))).await.status,
        200
    );
    assert_eq!(
        env.send(SessionsList, Req::new().auth(&demo_auth(TEST_USER_ID, "BdSrCZXNKCbRi8Eqn"))).await.status,
        401
    );
    // Without except, the rest goes too; other users keep theirs.
    let resp = call(&env, UserSessionsRevokeAll, &path, "", Some(DEMO_API_KEY)).await;
    assert_eq!(resp.json_body(), json!({"count": 1}));
    let roxie = call(&env, UserSessionsList, &sessions_path(ROXIE_ID), "", Some(DEMO_API_KEY)).await;
    assert_eq!(session_ids(&roxie).len(), 2);
}
