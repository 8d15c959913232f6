//! Deactivation that signs out (docs/accounts.md): Rocket.Chat's users.setActiveStatus and
//! MonoCloud's disable and enable end every session of the user in the same operation, and no
//! token issued before a deactivation works again, whatever follows; a login racing the
//! deactivation leaves no session behind.

use serde_json::{Value, json};
use sessions_api::Endpoint::{self, Login, SessionsList, UserDisable, UserEnable, UsersSetActiveStatus};
use sessions_api::core::clock::now_ms;
use sessions_api::core::history::{Actor, EndReason};
use sessions_api::response::ApiResponse;
use sessions_api::store::{AccountStatus, StoreError, UserSessionReader};
use sessions_cli::demo::{DEMO_API_KEY, DEMO_PASSWORD};

use crate::support::*;

const GUESTER: &str = "b66oZ8i9pkeSko33v";

fn as_roxie() -> Req {
    Req::new().auth(&demo_auth(ROXIE_ID, ROXIE_SESSION))
}

fn set_status(user_id: &str, active: bool) -> Req {
    as_roxie().json(json!({"userId": user_id, "activeStatus": active}))
}

async fn login_guester(env: &TestEnv) -> ApiResponse {
    env.send(Login, Req::new().json(json!({"user": "guester", "password": DEMO_PASSWORD}))).await
}

/// guester's live sessions (the demo's and any login's).
async fn session_ids(env: &TestEnv) -> Vec<String> {
    let ids: Vec<String> =
        env.app.store.user_sessions(GUESTER).await.unwrap().into_iter().map(|s| s.session_id).collect();
    assert!(!ids.is_empty());
    ids
}

/// A MonoCloud call on a user's path.
async fn mc(env: &TestEnv, endpoint: Endpoint, user_id: &str, body: Option<&str>, key: Option<&str>) -> ApiResponse {
    mc_call(env, endpoint, &endpoint.path().replace("{user_id}", user_id), "", body, key).await
}

#[tokio::test]
async fn set_active_status_signs_the_user_out_for_good() {
    let env = TestEnv::seeded().await;
    let before = credentials(&login_guester(&env).await);
    let live = session_ids(&env).await;
    let resp = env.send(UsersSetActiveStatus, set_status(GUESTER, false)).await;
    assert_reply(&resp, 200, json!({"user": {"_id": GUESTER, "active": false}, "success": true}));
    assert_reply(&env.send(SessionsList, Req::new().auth(&before)).await, 401, unauthorized());
    assert_eq!(env.app.store.user_sessions(GUESTER).await.unwrap(), []);
    // Each end recorded with its reason and who did it.
    for id in live {
        let ended = env.app.store.ended_session(GUESTER, &id).await.unwrap().expect("a history record");
        assert_eq!((ended.ending.reason, ended.ending.actor), (EndReason::Deactivated, Actor::User(ROXIE_ID.into())));
    }
    let refused = login_guester(&env).await;
    assert_reply(&refused, 401, json!({"status": "error", "error": "Unauthorized", "message": "Unauthorized"}));
    // Active again: the old token stays dead; a new login works.
    let resp = env.send(UsersSetActiveStatus, set_status(GUESTER, true)).await;
    assert_reply(&resp, 200, json!({"user": {"_id": GUESTER, "active": true}, "success": true}));
    assert_reply(&env.send(SessionsList, Req::new().auth(&before)).await, 401, unauthorized());
    let after = credentials(&login_guester(&env).await);
    assert_eq!(env.send(SessionsList, Req::new().auth(&after)).await.status, 200);
}

#[tokio::test]
async fn set_active_status_refusals_are_exact_and_change_nothing() {
    let env = TestEnv::seeded().await;
    let before = env.snapshot().await;
    let cases: Vec<(Req, u16, Value)> = vec![
        (Req::new().json(json!({"userId": GUESTER, "activeStatus": false})), 401, unauthorized()),
        (
            as_roxie().json(json!({"userId": GUESTER})),
            400,
            invalid_params("must have required property 'activeStatus'"),
        ),
        (as_roxie().json(json!({"activeStatus": false})), 400, invalid_params("must have required property 'userId'")),
        (
            as_roxie().json(json!({"userId": GUESTER, "activeStatus": false, "x": 1})),
            400,
            invalid_params("must NOT have additional properties"),
        ),
        (as_roxie().json(json!({"userId": GUESTER, "activeStatus": "no"})), 400, invalid_params("must be boolean")),
        (as_roxie().body("[]"), 400, invalid_params("must be object")),
        (
            Req::new()
                .auth(&demo_auth(TEST_USER_ID, "QoYYFw2t9oKks2niG"))
                .json(json!({"userId": GUESTER, "activeStatus": false})),
            403,
            json!({"success": false, "error": "User does not have the permissions required for this action [error-unauthorized]"}),
        ),
        (set_status("nobody-here", false), 400, json!({"success": false, "error": "User not found"})),
        (set_status(&"x".repeat(200), false), 400, json!({"success": false, "error": "User not found"})),
    ];
    for (req, status, body) in cases {
        assert_reply(&env.send(UsersSetActiveStatus, req).await, status, body);
    }
    assert_eq!(env.snapshot().await, before);
}

#[tokio::test]
async fn monocloud_disable_revokes_every_session_and_enable_brings_none_back() {
    let env = TestEnv::seeded().await;
    let before = credentials(&login_guester(&env).await);
    let live = session_ids(&env).await;
    let resp = mc(&env, UserDisable, GUESTER, Some(r#"{"revoke_sessions":false}"#), Some(DEMO_API_KEY)).await;
    assert_eq!(resp.status, 200, "{}", resp.body);
    let user = resp.json_body();
    assert_eq!((user["user_id"].as_str(), user["disabled"].as_bool()), (Some(GUESTER), Some(true)));
    assert_eq!(user["username"]["username"], json!("guester"));
    assert_eq!((user["failure_count"].clone(), user["connections"].clone()), (json!(0), json!([])));
    assert!(user["last_updated"].as_i64().unwrap() >= now_ms() / 1000 - 60, "{user}");
    assert_eq!(env.app.store.user_sessions(GUESTER).await.unwrap(), []);
    for id in live {
        let ended = env.app.store.ended_session(GUESTER, &id).await.unwrap().expect("a history record");
        assert_eq!(ended.ending.reason, EndReason::Deactivated);
        assert!(matches!(ended.ending.actor, Actor::ApiKey(_)), "{:?}", ended.ending.actor);
    }
    assert_reply(
        &login_guester(&env).await,
        401,
        json!({"status": "error", "error": "Unauthorized", "message": "Unauthorized"}),
    );
    let resp = mc(&env, UserEnable, GUESTER, None, Some(DEMO_API_KEY)).await;
    assert_eq!((resp.status, resp.json_body()["disabled"].clone()), (200, json!(false)), "{}", resp.body);
    assert_reply(&env.send(SessionsList, Req::new().auth(&before)).await, 401, unauthorized());
    credentials(&login_guester(&env).await);
}

#[tokio::test]
async fn monocloud_status_refusals_are_exact_problems_and_change_nothing() {
    let env = TestEnv::seeded().await;
    let before = env.snapshot().await;
    let k = Some(DEMO_API_KEY);
    let unauthorized = json!({"type": "https://httpstatuses.io/401", "title": "Unauthorized", "status": 401,
        "detail": "A valid X-API-KEY header is required.", "traceId": "t"});
    let not_found = json!({"type": "https://httpstatuses.io/404", "title": "Not Found", "status": 404,
        "detail": "User not found", "traceId": "t"});
    for endpoint in [UserDisable, UserEnable] {
        assert_eq!(problem(&mc(&env, endpoint, GUESTER, None, None).await, 401), unauthorized);
        assert_eq!(problem(&mc(&env, endpoint, GUESTER, None, Some("sk_wrong")).await, 401), unauthorized);
        assert_eq!(problem(&mc(&env, endpoint, "nobody-here", None, k).await, 404), not_found);
    }
    let bad = problem(&mc(&env, UserDisable, GUESTER, Some("[true]"), k).await, 400);
    assert_eq!(
        bad,
        json!({"type": "https://httpstatuses.io/400", "title": "Bad Request", "status": 400,
        "detail": "The request body must be a JSON object.", "traceId": "t"})
    );
    let invalid = problem(&mc(&env, UserDisable, GUESTER, Some(r#"{"revoke_sessions":"yes"}"#), k).await, 422);
    assert_eq!(
        invalid,
        json!({"type": "https://httpstatuses.io/422#validation-error",
        "title": "One or more validation errors occurred.", "status": 422, "detail": "See errors.", "traceId": "t",
        "errors": {"revoke_sessions": ["The field revoke_sessions must be a boolean."]}})
    );
    assert_eq!(env.snapshot().await, before);
}

/// Logins of the user run while it is deactivated: each either fails, or succeeded before the
/// flag was set and its session was ended by the deactivation. None is live after it.
#[tokio::test]
async fn no_login_racing_a_deactivation_leaves_a_session_behind() {
    let env = TestEnv::seeded().await;
    let logins = (0..8).map(|_| login_guester(&env));
    let deactivate = env.app.store.set_account_active(GUESTER, false, Actor::System, now_ms());
    let (answers, deactivated) = tokio::join!(futures::future::join_all(logins), deactivate);
    assert!(deactivated.unwrap().is_some());
    assert_eq!(env.app.store.user_sessions(GUESTER).await.unwrap(), []);
    for answer in answers {
        match answer.status {
            200 => {
                assert_reply(&env.send(SessionsList, Req::new().auth(&credentials(&answer))).await, 401, unauthorized())
            }
            401 => {}
            other => panic!("{other}: {}", answer.body),
        }
    }
    // The store's own guard: a session of an inactive account is refused and nothing is written.
    let before = env.snapshot().await;
    let session = env.app.store.user_sessions(TEST_USER_ID).await.unwrap()[0].clone();
    let session = sessions_api::core::model::Session {
        session_id: "NEWSESSION1234567".into(),
        user_id: GUESTER.into(),
        ..session
    };
    use sessions_api::store::SessionCreator;
    assert!(matches!(
        env.app.store.create_session(&session, "f".repeat(64).as_str(), None).await,
        Err(StoreError::Inactive)
    ));
    assert_eq!(env.snapshot().await, before);
}
