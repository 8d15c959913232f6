//! The audit log, `GET /api/logs`, through the exact HTTP requests MonoCloud's management SDK
//! sends for `LogsClient.getAllLogs(page, size, filter, sort)`; refused logins written on the
//! login's path and published from the stream as `Login Failed` / `Login Blocked`.

use serde_json::{Value, json};
use sessions_api::Endpoint::{Login, Logout, LogsList};
use sessions_api::response::ApiResponse;
use sessions_cli::demo::{DEMO_API_KEY, DEMO_PASSWORD};

use crate::stream_events::{EventBridgeRecorder, published};
use crate::support::*;

/// `getAllLogs(page, size, filter, sort)`: each argument given becomes its query parameter.
async fn get_all_logs(env: &TestEnv, query: &str, key: Option<&str>) -> ApiResponse {
    let mut req = Req::new().query(query);
    if let Some(k) = key {
        req = req.header("X-API-KEY", k);
    }
    env.send(LogsList, req).await
}

fn codes(resp: &ApiResponse) -> Vec<String> {
    assert_eq!(resp.status, 200, "{}", resp.body);
    resp.json_body().as_array().unwrap().iter().map(|e| e["code"].as_str().unwrap().to_string()).collect()
}

fn pagination(resp: &ApiResponse) -> Value {
    serde_json::from_str(resp.header("x-pagination").expect("X-Pagination")).unwrap()
}

#[tokio::test]
async fn pages_filters_and_sorts_as_the_sdk_asks() {
    let env = TestEnv::seeded().await;
    let k = Some(DEMO_API_KEY);
    // getAllLogs(1, 5): the newest five of the 14 demo sign-ins.
    let first = get_all_logs(&env, "page=1&size=5", k).await;
    assert_eq!(codes(&first), vec!["user_sign_in_succeeded"; 5]);
    assert_eq!(
        pagination(&first),
        json!({"total_count": 14, "page_size": 5, "current_page": 1, "has_next": true, "has_previous": false})
    );
    let rows = first.json_body();
    let times: Vec<i64> = rows.as_array().unwrap().iter().map(|e| e["time_stamp"].as_i64().unwrap()).collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "{times:?}");
    for field in ["id", "category", "name", "description", "type", "system", "request", "actor", "targets"] {
        assert!(rows[0].get(field).is_some(), "{field} missing in {}", rows[0]);
    }
    // getAllLogs(3, 5): the last four.
    assert_eq!(codes(&get_all_logs(&env, "page=3&size=5", k).await).len(), 4);
    // One user's, oldest first.
    let mine = get_all_logs(&env, &format!("filter=targets.id:{TEST_USER_ID}&sort=time_stamp:1"), k).await;
    let rows = mine.json_body();
    assert_eq!(rows.as_array().unwrap().len(), 4);
    assert!(rows.as_array().unwrap().iter().all(|e| e["targets"][0]["id"] == json!(TEST_USER_ID)));
    assert!(rows[0]["time_stamp"].as_i64() <= rows[3]["time_stamp"].as_i64());
    // A session's id is a target too: its sign-in is found (everyone's entries read).
    let session_id = rows[0]["targets"][1]["id"].as_str().unwrap().to_string();
    let one = get_all_logs(&env, &format!("filter=targets.id:{session_id}"), k).await;
    assert_eq!(one.json_body().as_array().unwrap().len(), 1, "{}", one.body);
    // A time range that holds nothing.
    let none = get_all_logs(&env, "filter=time_stamp:[1 TO 2]", k).await;
    assert_eq!((codes(&none).len(), pagination(&none)["total_count"].clone()), (0, json!(0)));
}

#[tokio::test]
async fn bad_requests_get_exact_problems_and_change_nothing() {
    let env = TestEnv::seeded().await;
    let before = env.snapshot().await;
    let unauthorized = json!({"type": "https://httpstatuses.io/401", "title": "Unauthorized", "status": 401,
        "detail": "A valid X-API-KEY header is required.", "traceId": "t"});
    assert_eq!(problem(&get_all_logs(&env, "", None).await, 401), unauthorized);
    assert_eq!(problem(&get_all_logs(&env, "filter=nope:1", Some("sk_nope")).await, 401), unauthorized);
    let validation = |field: &str, message: &str| {
        json!({"type": "https://httpstatuses.io/422#validation-error", "title": "One or more validation errors occurred.",
               "status": 422, "detail": "See errors.", "traceId": "t", "errors": {field: [message]}})
    };
    let k = Some(DEMO_API_KEY);
    assert_eq!(
        problem(&get_all_logs(&env, "filter=nope:1", k).await, 422),
        validation("filter", "Unknown filter field 'nope'.")
    );
    assert_eq!(
        problem(&get_all_logs(&env, "filter=code:a%20OR%20code:b", k).await, 422),
        validation("filter", "'OR' is not supported: join terms with AND.")
    );
    assert_eq!(
        problem(&get_all_logs(&env, "sort=ip:1", k).await, 422),
        validation("sort", "The sort key must be one of time_stamp, category, code, type, name.")
    );
    assert_eq!(
        problem(&get_all_logs(&env, "size=0", k).await, 422),
        validation("size", "The field size must be between 1 and 100.")
    );
    let bad_page = problem(&get_all_logs(&env, "page=abc", k).await, 400);
    assert_eq!(bad_page["detail"], json!("The value 'abc' is not valid for page."));
    assert_eq!(env.snapshot().await, before);
}

/// A wrong password and a block are written on the login's path and published from the
/// stream; a logout is written from the stream with its reason and actor.
#[tokio::test]
async fn refusals_and_ends_reach_the_log_and_the_bus() {
    let mut env = TestEnv::seeded_with_stream().await;
    env.app.config.login_failures_per_user = 1;
    let mut tail = env.stream_tail().await;
    env.run_stream(&mut tail, &sessions_api::stream::publisher::Publisher::Log).await;
    let wrong = Req::new().json(json!({"user": "test.test", "password": "wrong"}));
    assert_eq!(env.send(Login, wrong.clone()).await.status, 401);
    let blocked = env.send(Login, wrong).await;
    assert_eq!((blocked.status, blocked.json_body()["error"].as_str()), (401, Some("error-login-blocked-for-user")));
    let resp = env.send(Login, Req::new().json(json!({"user": "guester", "password": DEMO_PASSWORD}))).await;
    let data = &resp.json_body()["data"];
    let auth = (data["userId"].as_str().unwrap().to_string(), data["authToken"].as_str().unwrap().to_string());
    assert_eq!(env.send(Logout, Req::new().auth(&auth).method("POST")).await.status, 200);
    let recorder = EventBridgeRecorder::default();
    env.run_stream(&mut tail, &recorder.publisher()).await;
    let kinds: Vec<String> = published(&recorder).into_iter().map(|(kind, _)| kind).collect();
    assert_eq!(kinds, ["Login Failed", "Login Blocked", "Session Created", "Session Ended"]);
    let k = Some(DEMO_API_KEY);
    let mine = get_all_logs(&env, &format!("filter=targets.id:{TEST_USER_ID} type:failure"), k).await;
    let mut refusals = codes(&mine);
    refusals.sort();
    assert_eq!(refusals, ["user_account_blocked", "user_sign_in_failed"]);
    let out = get_all_logs(&env, "filter=code:user_sign_out_succeeded", k).await.json_body();
    assert_eq!(out.as_array().unwrap().len(), 1, "{out}");
    assert_eq!((out[0]["details"]["reason"].clone(), out[0]["actor"]["id"].clone()), (json!("logout"), json!(auth.0)));
    // Delivered again, the stream's entries are written once.
    let mut again = env.stream_tail().await;
    env.run_stream(&mut again, &sessions_api::stream::publisher::Publisher::Log).await;
    let out = get_all_logs(&env, "filter=code:user_sign_out_succeeded", k).await.json_body();
    assert_eq!(out.as_array().unwrap().len(), 1);
}

/// Administrators' changes to accounts reach the log from the stream: an account created,
/// deactivated (its sessions ended with reason "deactivated"), activated again.
#[tokio::test]
async fn account_changes_reach_the_log() {
    let env = TestEnv::seeded_with_stream().await;
    let mut tail = env.stream_tail().await;
    env.run_stream(&mut tail, &sessions_api::stream::publisher::Publisher::Log).await;
    sessions_cli::admin::set_user_active(&env.app.store, "guester", false).await.unwrap();
    sessions_cli::admin::set_user_active(&env.app.store, "guester", true).await.unwrap();
    env.run_stream(&mut tail, &sessions_api::stream::publisher::Publisher::Log).await;
    let k = Some(DEMO_API_KEY);
    let guester = "b66oZ8i9pkeSko33v";
    let resp = get_all_logs(&env, &format!("filter=targets.id:{guester} category:users&sort=time_stamp:1"), k).await;
    let rows = resp.json_body();
    let seen: Vec<(String, String)> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["code"].as_str().unwrap().to_string(), e["details"]["reason"].as_str().unwrap().to_string()))
        .collect();
    // The stream dates a change to the second: changes may share one, in any order.
    let mut seen = seen;
    seen.sort();
    let expected =
        [("user_account_blocked", "deactivated"), ("user_account_unblocked", "activated"), ("user_created", "created")];
    assert_eq!(seen, expected.map(|(c, r)| (c.to_string(), r.to_string())), "{rows}");
    assert!(rows.as_array().unwrap().iter().all(|e| e["actor"]["type"] == json!("system")));
    let ends = get_all_logs(&env, &format!("filter=targets.id:{guester} code:user_session_revoked"), k).await;
    assert_eq!(ends.json_body()[0]["details"]["reason"], json!("deactivated"), "{}", ends.body);
}

/// Roles, second factors and API keys changed with the admin tool reach the log from the
/// stream, one entry per change; a TOTP step spent at login writes none.
#[tokio::test]
async fn role_two_factor_and_api_key_changes_reach_the_log() {
    use sessions_cli::admin;
    let env = TestEnv::seeded_with_stream().await;
    let mut tail = env.stream_tail().await;
    let log = sessions_api::stream::publisher::Publisher::Log;
    env.run_stream(&mut tail, &log).await;
    let store = &env.app.store;
    admin::change_role(store, "guester", "auditor", true).await.unwrap();
    admin::change_role(store, "guester", "auditor", false).await.unwrap();
    admin::enable_totp(store, "guester", None).await.unwrap();
    admin::set_email_two_factor(store, "guester", true).await.unwrap();
    admin::set_email_two_factor(store, "guester", false).await.unwrap();
    let (key, secret) =
        admin::create_api_key(store, "billing", None, None, sessions_api::core::clock::now_ms()).await.unwrap();
    admin::disable_api_key(store, &key.key_id).await.unwrap();
    let read_logs = [sessions_api::core::scopes::Scope::ReadLogs];
    admin::set_api_key_scopes(store, &key.key_id, &read_logs).await.unwrap();
    env.run_stream(&mut tail, &log).await;
    let k = Some(DEMO_API_KEY);
    let guester = "b66oZ8i9pkeSko33v";
    let resp = get_all_logs(&env, &format!("filter=targets.id:{guester} category:users"), k).await;
    let mut seen: Vec<String> = resp
        .json_body()
        .as_array()
        .unwrap()
        .iter()
        .map(|e| format!("{} {}", e["code"].as_str().unwrap(), e["description"].as_str().unwrap()))
        .collect();
    seen.sort();
    // The seed's own insert of the profile is there too.
    let expected = [
        "user_added_to_group guester: role_added auditor",
        "user_created guester: created",
        "user_removed_from_group guester: role_removed auditor",
        "user_two_factor_disabled guester: two_factor_disabled email",
        "user_two_factor_enabled guester: two_factor_enabled email",
        "user_two_factor_enabled guester: two_factor_enabled totp",
    ];
    assert_eq!(seen, expected, "{}", resp.body);
    // The key's entries, found by its id; they name it, never the key or its hash.
    let keys = get_all_logs(&env, &format!("filter=targets.id:{}&sort=code:1", key.key_id), k).await;
    let rows = keys.json_body();
    let mut got: Vec<(&str, &str)> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["code"].as_str().unwrap(), e["details"]["reason"].as_str().unwrap()))
        .collect();
    got.sort();
    let expected = [
        ("api_resource_secret_created", "created"),
        ("api_resource_updated", "disabled"),
        ("api_resource_updated", "scopes_changed"),
    ];
    assert_eq!(got, expected, "{rows}");
    let scoped = rows.as_array().unwrap().iter().find(|e| e["details"]["reason"] == json!("scopes_changed")).unwrap();
    assert_eq!(scoped["details"]["scopes"], json!(["logs:read"]));
    assert_eq!(
        rows[0]["targets"],
        json!([{"type": "api_key", "id": key.key_id, "name": "billing", "identifier": null}])
    );
    assert!(!keys.body.contains(&secret) && !keys.body.contains(&key.key_hash), "{}", keys.body);
    // A TOTP login spends a step (the profile changes): nothing more is written.
    let before = get_all_logs(&env, &format!("filter=targets.id:{guester} category:users"), k).await.json_body();
    let code = admin::current_totp_code(store, "guester", sessions_api::core::clock::now_ms()).await.unwrap();
    let login = Req::new().json(json!({"user": "guester", "password": DEMO_PASSWORD, "code": code}));
    assert_eq!(env.send(Login, login).await.status, 200);
    env.run_stream(&mut tail, &log).await;
    let after = get_all_logs(&env, &format!("filter=targets.id:{guester} category:users"), k).await.json_body();
    assert_eq!(after.as_array().unwrap().len(), before.as_array().unwrap().len(), "{after}");
}
