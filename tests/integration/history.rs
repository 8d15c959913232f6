//! History: every way a session ends records why, by whom and when in the same
//! transaction, and info.admin answers an ended session with `logoutAt` and `logoutBy`.

use serde_json::{Value, json};
use sessions_api::Endpoint::{
    self, Login, Logout, SessionsInfoAdmin, SessionsList, SessionsLogout, SessionsLogoutMe, UserSessionGet,
    UserSessionRevoke, UserSessionsRevokeAll, UsersLogout, UsersLogoutOtherClients, UsersRemoveOtherTokens,
};
use sessions_api::core::history::{Actor, EndReason};
use sessions_api::store::ApiKeyStore;
use sessions_api::stream::publisher::Publisher;
use sessions_cli::demo::{DEMO_API_KEY, DEMO_PASSWORD};

use crate::support::*;

const QOYY: &str = "QoYYFw2t9oKks2niG";
const WJ2G: &str = "WJ2giBwm4B9mcojFi";
const OTHERS_OF_QOYY: [&str; 3] = [WJ2G, "BdSrCZXNKCbRi8Eqn", "Xm4PqRt7sVw2yZa8B"];

fn own(session_id: &str) -> Req {
    Req::new().auth(&demo_auth(TEST_USER_ID, session_id))
}

/// testroxie (view- and logout-device-management) with the reusable password-method code.
fn as_roxie() -> Req {
    Req::new().auth(&demo_auth(ROXIE_ID, ROXIE_SESSION)).code(&password_code(DEMO_PASSWORD))
}

/// The history record of `session_id` holds `reason` and `actor`, and info.admin answers the
/// ended session whole, with `logoutAt` and `logoutBy` (the actor's id; none for the system).
async fn assert_ended(env: &TestEnv, user_id: &str, session_id: &str, reason: EndReason, actor: Actor) {
    let ended = env.app.store.ended_session(user_id, session_id).await.unwrap().expect("a history record");
    assert_eq!((ended.ending.reason, &ended.ending.actor), (reason, &actor), "{session_id}");
    let session = ended.session.as_ref().expect("the session's details, from the same transaction");
    assert_eq!((session.session_id.as_str(), session.user_id.as_str()), (session_id, user_id));
    let body = info_admin(env, session_id).await;
    assert_eq!(body["sessionId"], json!(session_id));
    assert_eq!(body["loginAt"], json!(sessions_api::core::clock::iso_millis(session.login_at)));
    assert_eq!(body["logoutAt"], json!(sessions_api::core::clock::iso_millis(ended.ending.at)));
    assert_eq!(body.get("logoutBy"), actor.id().map(|id| json!(id)).as_ref(), "{body}");
}

async fn info_admin(env: &TestEnv, session_id: &str) -> Value {
    let resp = env.send(SessionsInfoAdmin, as_roxie().param("sessionId", session_id)).await;
    assert_eq!(resp.status, 200, "{}", resp.body);
    resp.json_body()
}

async fn mc(env: &TestEnv, endpoint: Endpoint, path: &str) -> sessions_api::response::ApiResponse {
    let mut event = Req::new().header("X-API-KEY", DEMO_API_KEY).event(endpoint);
    event.raw_path = Some(path.to_string());
    event.path_parameters = endpoint.match_path(path).expect("path matches the route");
    invoke(&env.app, endpoint, event).await
}

async fn demo_key_id(env: &TestEnv) -> String {
    env.app.store.api_keys().await.unwrap().into_iter().next().expect("the demo key").key_id
}

#[tokio::test]
async fn a_users_own_ends_record_the_user() {
    let env = TestEnv::seeded().await;
    let me = || Actor::User(TEST_USER_ID.into());
    let resp = env.send(SessionsLogoutMe, own(QOYY).json(json!({"sessionId": WJ2G}))).await;
    assert_eq!(resp.status, 200, "{}", resp.body);
    assert_ended(&env, TEST_USER_ID, WJ2G, EndReason::LogoutMe, me()).await;
    assert_eq!(env.send(Logout, own(QOYY).method("POST")).await.status, 200);
    assert_ended(&env, TEST_USER_ID, QOYY, EndReason::Logout, me()).await;
    // Lists show live sessions only.
    let live = ids(&env.send(SessionsList, own("Xm4PqRt7sVw2yZa8B")).await);
    assert!(!live.iter().any(|id| id == QOYY || id == WJ2G), "{live:?}");
}

#[tokio::test]
async fn ending_the_other_sessions_records_each() {
    for (endpoint, reason) in [
        (UsersLogoutOtherClients, EndReason::LogoutOtherClients),
        (UsersRemoveOtherTokens, EndReason::RemoveOtherTokens),
    ] {
        let env = TestEnv::seeded().await;
        assert_eq!(env.send(endpoint, own(QOYY)).await.status, 200);
        for id in OTHERS_OF_QOYY {
            assert_ended(&env, TEST_USER_ID, id, reason, Actor::User(TEST_USER_ID.into())).await;
        }
        assert!(env.app.store.ended_session(TEST_USER_ID, QOYY).await.unwrap().is_none());
    }
    let env = TestEnv::seeded().await;
    assert_eq!(env.send(UsersLogout, own(QOYY)).await.status, 200);
    for id in OTHERS_OF_QOYY.into_iter().chain([QOYY]) {
        assert_ended(&env, TEST_USER_ID, id, EndReason::UsersLogout, Actor::User(TEST_USER_ID.into())).await;
    }
}

/// An administrator's end by id writes the end at once; the session's details follow from
/// the table's stream, read here through the Streams API as Lambda would.
#[tokio::test]
async fn an_admin_logout_records_the_admin_and_the_stream_adds_the_details() {
    let env = TestEnv::seeded_with_stream().await;
    let mut tail = env.stream_tail().await;
    env.run_stream(&mut tail, &Publisher::Log).await;
    let resp = env.send(SessionsLogout, as_roxie().json(json!({"sessionId": WJ2G}))).await;
    assert_eq!(resp.status, 200, "{}", resp.body);
    let body = info_admin(&env, WJ2G).await;
    let ended = env.app.store.ended_session(TEST_USER_ID, WJ2G).await.unwrap().unwrap();
    let logout_at = sessions_api::core::clock::iso_millis(ended.ending.at);
    assert_eq!(
        body,
        json!({"_id": WJ2G, "sessionId": WJ2G, "userId": TEST_USER_ID, "logoutAt": logout_at, "logoutBy": ROXIE_ID, "success": true})
    );
    env.run_stream(&mut tail, &Publisher::Log).await;
    assert_ended(&env, TEST_USER_ID, WJ2G, EndReason::AdminLogout, Actor::User(ROXIE_ID.into())).await;
}

#[tokio::test]
async fn monocloud_revokes_record_the_api_key() {
    let env = TestEnv::seeded().await;
    let key = Actor::ApiKey(demo_key_id(&env).await);
    let resp = mc(&env, UserSessionRevoke, &format!("/api/users/{TEST_USER_ID}/sessions/{WJ2G}")).await;
    assert_eq!(resp.status, 204, "{}", resp.body);
    assert_ended(&env, TEST_USER_ID, WJ2G, EndReason::Revoke, key.clone()).await;
    // MonoCloud's get of an ended session stays 404.
    let get = mc(&env, UserSessionGet, &format!("/api/users/{TEST_USER_ID}/sessions/{WJ2G}")).await;
    assert_eq!(get.status, 404, "{}", get.body);
    let resp = mc(&env, UserSessionsRevokeAll, &format!("/api/users/{TEST_USER_ID}/sessions")).await;
    assert_eq!(resp.status, 200, "{}", resp.body);
    for id in [QOYY, "BdSrCZXNKCbRi8Eqn", "Xm4PqRt7sVw2yZa8B"] {
        assert_ended(&env, TEST_USER_ID, id, EndReason::RevokeAll, key.clone()).await;
    }
}

#[tokio::test]
async fn the_session_cap_records_the_user_whose_login_passed_it() {
    let mut env = TestEnv::seeded().await;
    env.app.config.max_sessions_per_user = 1;
    let resp = env.send(Login, Req::new().json(json!({"user": "guester", "password": DEMO_PASSWORD}))).await;
    assert_eq!(resp.status, 200, "{}", resp.body);
    let guester = "b66oZ8i9pkeSko33v";
    assert_ended(&env, guester, "W4y9xkjyqFvbjENco", EndReason::SessionCap, Actor::User(guester.into())).await;
}

#[tokio::test]
async fn deactivation_and_idleness_record_the_system() {
    let mut env = TestEnv::seeded().await;
    sessions_cli::admin::set_user_active(&env.app.store, "test.test", false).await.unwrap();
    for id in OTHERS_OF_QOYY.into_iter().chain([QOYY]) {
        assert_ended(&env, TEST_USER_ID, id, EndReason::Deactivated, Actor::System).await;
    }
    sessions_cli::admin::set_user_active(&env.app.store, "test.test", true).await.unwrap();
    env.set_idle_timeout();
    let idle = env.idle_login().await;
    let auth = (TEST_USER_ID.to_string(), idle.token.clone());
    assert_reply(&env.send(SessionsList, Req::new().auth(&auth)).await, 401, unauthorized());
    assert_ended(&env, TEST_USER_ID, &idle.session.session_id, EndReason::Idle, Actor::System).await;
}
