//! Account-wide session actions: users.logoutOtherClients, users.removeOtherTokens and
//! users.logout, with their exact bodies and what each leaves live.

use serde_json::{Value, json};
use sessions_api::Endpoint::{SessionsList, UsersLogout, UsersLogoutOtherClients, UsersRemoveOtherTokens};
use sessions_api::core::permissions::LOGOUT_OTHER_USER;
use sessions_api::store::PermissionStore;

use crate::support::*;

/// test.test's four demo sessions.
const TEST_SESSIONS: [&str; 4] = ["BdSrCZXNKCbRi8Eqn", "QoYYFw2t9oKks2niG", "WJ2giBwm4B9mcojFi", "Xm4PqRt7sVw2yZa8B"];
const RODRIQ_ID: &str = "rYhzFRd2QZjNwAAXX";
const RODRIQ_SESSIONS: [&str; 2] = ["uBNL9dTjJ4s6Pjp4K", "2jQnfG74X3EZYL9tj"];

async fn status_of(env: &TestEnv, user_id: &str, session_id: &str) -> u16 {
    env.send(SessionsList, Req::new().auth(&demo_auth(user_id, session_id))).await.status
}

/// Which of the user's demo sessions still authenticate.
async fn live(env: &TestEnv, user_id: &str, sessions: &[&str]) -> Vec<String> {
    let mut out = Vec::new();
    for s in sessions {
        if status_of(env, user_id, s).await == 200 {
            out.push(s.to_string());
        }
    }
    out
}

#[tokio::test]
async fn logout_other_clients_keeps_only_the_calling_session() {
    let env = TestEnv::seeded().await;
    let me = demo_auth(TEST_USER_ID, "WJ2giBwm4B9mcojFi");
    let resp = env.send(UsersLogoutOtherClients, Req::new().auth(&me)).await;
    assert_eq!(resp.status, 200, "{}", resp.body);
    let body = resp.json_body();
    let expires = body["tokenExpires"].as_str().unwrap().to_string();
    assert_eq!(body, json!({"token": me.1, "tokenExpires": expires, "success": true}));
    assert!(expires.len() == 24 && expires.ends_with('Z'), "{expires}");
    assert_eq!(live(&env, TEST_USER_ID, &TEST_SESSIONS).await, ["WJ2giBwm4B9mcojFi"]);
    // Other users keep theirs.
    assert_eq!(live(&env, RODRIQ_ID, &RODRIQ_SESSIONS).await.len(), 2);
}

#[tokio::test]
async fn remove_other_tokens_keeps_only_the_calling_session() {
    let env = TestEnv::seeded().await;
    let me = demo_auth(TEST_USER_ID, "Xm4PqRt7sVw2yZa8B");
    // The mobile app sends its own id; without a body it works the same.
    let resp = env.send(UsersRemoveOtherTokens, Req::new().auth(&me).json(json!({"userId": TEST_USER_ID}))).await;
    assert_reply(&resp, 200, json!({"success": true}));
    assert_eq!(live(&env, TEST_USER_ID, &TEST_SESSIONS).await, ["Xm4PqRt7sVw2yZa8B"]);
    assert_reply(&env.send(UsersRemoveOtherTokens, Req::new().auth(&me)).await, 200, json!({"success": true}));
    assert_eq!(live(&env, TEST_USER_ID, &TEST_SESSIONS).await, ["Xm4PqRt7sVw2yZa8B"]);
    assert_reply(&env.send(UsersRemoveOtherTokens, Req::new()).await, 401, unauthorized());
}

#[tokio::test]
async fn users_logout_ends_every_session_of_the_caller() {
    let env = TestEnv::seeded().await;
    for body in [None, Some(json!({})), Some(json!({"userId": TEST_USER_ID}))] {
        let env = TestEnv::seeded().await;
        let me = demo_auth(TEST_USER_ID, "QoYYFw2t9oKks2niG");
        let req = match &body {
            Some(b) => Req::new().auth(&me).json(b.clone()),
            None => Req::new().auth(&me),
        };
        let resp = env.send(UsersLogout, req).await;
        assert_reply(
            &resp,
            200,
            json!({"message": format!("User {TEST_USER_ID} has been logged out!"), "success": true}),
        );
        assert!(live(&env, TEST_USER_ID, &TEST_SESSIONS).await.is_empty(), "{body:?}");
    }
    assert_reply(&env.send(UsersLogout, Req::new()).await, 401, unauthorized());
}

fn forbidden() -> Value {
    json!({"success": false, "error": "User does not have the permissions required for this action [error-unauthorized]"})
}

#[tokio::test]
async fn users_logout_of_another_user_needs_logout_other_user() {
    let env = TestEnv::seeded().await;
    // test.test is no admin: 403, and nothing ends.
    let me = demo_auth(TEST_USER_ID, "QoYYFw2t9oKks2niG");
    let before = env.snapshot().await;
    let resp = env.send(UsersLogout, Req::new().auth(&me).json(json!({"userId": RODRIQ_ID}))).await;
    assert_reply(&resp, 403, forbidden());
    // Checked before the user is looked up, as Rocket.Chat does: no probing for ids.
    let resp = env.send(UsersLogout, Req::new().auth(&me).json(json!({"userId": "no-such-user"}))).await;
    assert_reply(&resp, 403, forbidden());
    assert_eq!(env.snapshot().await, before);

    // testroxie is an admin.
    let roxie = demo_auth(ROXIE_ID, ROXIE_SESSION);
    let resp = env.send(UsersLogout, Req::new().auth(&roxie).json(json!({"userId": "no-such-user"}))).await;
    assert_reply(
        &resp,
        400,
        json!({"success": false, "error": "Invalid user id [error-invalid-user-id]", "errorType": "error-invalid-user-id"}),
    );
    assert_eq!(env.snapshot().await, before);
    let resp = env.send(UsersLogout, Req::new().auth(&roxie).json(json!({"userId": RODRIQ_ID}))).await;
    assert_reply(&resp, 200, json!({"message": format!("User {RODRIQ_ID} has been logged out!"), "success": true}));
    assert!(live(&env, RODRIQ_ID, &RODRIQ_SESSIONS).await.is_empty());
    assert_eq!(status_of(&env, ROXIE_ID, ROXIE_SESSION).await, 200, "the admin's own session stays");

    // The permission is stored: granted to a role test.test has, it works for test.test too.
    env.app.store.set_permission_roles(LOGOUT_OTHER_USER, &["user".into()]).await.unwrap();
    let resp = env.send(UsersLogout, Req::new().auth(&me).json(json!({"userId": ROXIE_ID}))).await;
    assert_eq!(resp.status, 200, "{}", resp.body);
    assert_eq!(status_of(&env, ROXIE_ID, ROXIE_SESSION).await, 401);
}

#[tokio::test]
async fn users_logout_rejects_a_malformed_body() {
    let env = TestEnv::seeded().await;
    let me = demo_auth(TEST_USER_ID, "QoYYFw2t9oKks2niG");
    let before = env.snapshot().await;
    for (body, message) in
        [("{\"userId\": 7}", "/userId must be string"), ("not json", "request body must be a JSON object")]
    {
        let resp =
            env.send(UsersLogout, Req::new().auth(&me).header("content-type", "application/json").body(body)).await;
        assert_reply(&resp, 400, invalid_params(message));
    }
    assert_eq!(env.snapshot().await, before);
}

/// Past one transaction's worth of sessions, and with parallel calls ending the same ones:
/// every other session ends once, and the counter drops by exactly as many.
#[tokio::test]
async fn logout_other_clients_ends_many_sessions_once_under_parallel_calls() {
    use sessions_api::store::AllSessionsReader;
    let env = TestEnv::seeded().await;
    let t = sessions_api::core::clock::now_ms() - 60_000;
    let mut extra = Vec::new();
    for i in 0..60 {
        extra.push(env.login(TEST_USER_ID, "Chrome", "Linux", t + i).await);
    }
    let before = env.app.store.active_session_count().await.unwrap();
    let me = demo_auth(TEST_USER_ID, "WJ2giBwm4B9mcojFi");
    let calls = (0..3).map(|_| env.send(UsersLogoutOtherClients, Req::new().auth(&me)));
    for resp in futures::future::join_all(calls).await {
        assert_eq!(resp.status, 200, "{}", resp.body);
    }
    assert_eq!(live(&env, TEST_USER_ID, &TEST_SESSIONS).await, ["WJ2giBwm4B9mcojFi"]);
    for login in &extra {
        let resp = env.send(SessionsList, Req::new().auth(&(TEST_USER_ID.to_string(), login.token.clone()))).await;
        assert_eq!(resp.status, 401);
    }
    let after = env.app.store.active_session_count().await.unwrap();
    assert_eq!(before - after, 60 + 3, "each ended session counted once");
}

#[tokio::test]
async fn me_answers_the_callers_account_in_rocket_chats_shape() {
    let env = TestEnv::seeded().await;
    let resp =
        env.send(sessions_api::Endpoint::Me, Req::new().auth(&demo_auth(TEST_USER_ID, "WJ2giBwm4B9mcojFi"))).await;
    assert_reply(
        &resp,
        200,
        json!({"_id": TEST_USER_ID, "username": "test.test", "name": "test test",
               "emails": [{"address": "test.test@example.com", "verified": false}],
               "status": "online", "statusConnection": "online", "utcOffset": 0, "active": true,
               "roles": ["user"], "settings": {"preferences": {}}, "success": true}),
    );
    for secret in ["password", "bcrypt", "totp", "secret", "backup"] {
        assert!(!resp.body.to_lowercase().contains(secret), "{secret}: {}", resp.body);
    }
    let resp =
        env.send(sessions_api::Endpoint::Me, Req::new().auth(&(TEST_USER_ID.into(), "not-a-token".into()))).await;
    assert_reply(&resp, 401, unauthorized());
    assert_reply(&env.send(sessions_api::Endpoint::Me, Req::new()).await, 401, unauthorized());
}
