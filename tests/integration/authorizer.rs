//! The Lambda authorizer another HTTP API attaches (crate::authorizer): allowed with the
//! caller as context for a live token, denied for an unknown, ended, expired, idle or
//! deactivated one, an error (not a denial) when DynamoDB is unavailable; and as a Lambda
//! process, through its events/ file.

use aws_lambda_events::apigw::ApiGatewayV2CustomAuthorizerV2Request;
use serde_json::{Value, json};
use sessions_api::Endpoint::SessionsLogoutMe;
use sessions_api::authorizer::authorize;
use sessions_api::core::clock::now_ms;
use sessions_api::store::faults::{Fault, Faults};

use crate::support::*;

fn event_file(name: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(repo_root().join("events").join(name)).unwrap()).unwrap()
}

/// events/authorizer.json with another user id and token.
fn event_for(user_id: &str, token: &str) -> ApiGatewayV2CustomAuthorizerV2Request {
    let mut event = event_file("authorizer.json");
    event["headers"]["x-user-id"] = json!(user_id);
    event["headers"]["x-auth-token"] = json!(token);
    serde_json::from_value(event).unwrap()
}

#[tokio::test]
async fn a_live_token_is_allowed_with_the_caller_as_context_and_records_activity() {
    let env = TestEnv::seeded().await;
    let writes = env.app.store.activity_writes();
    let event = serde_json::from_value(event_file("authorizer.json")).unwrap();
    let decision = authorize(&env.app, event, now_ms()).await.unwrap();
    assert!(decision.is_authorized);
    assert_eq!(
        decision.context,
        json!({"userId": TEST_USER_ID, "username": "test.test", "roles": "user", "sessionId": "QoYYFw2t9oKks2niG"})
    );
    assert_eq!(env.app.store.activity_writes(), writes + 1, "its use is recorded like any call");
    let unknown = serde_json::from_value(event_file("authorizer-unknown-token.json")).unwrap();
    let decision = authorize(&env.app, unknown, now_ms()).await.unwrap();
    assert_eq!((decision.is_authorized, decision.context), (false, json!({})));
}

#[tokio::test]
async fn ended_expired_idle_and_deactivated_tokens_are_denied() {
    let mut env = TestEnv::seeded().await;
    let now = now_ms();
    let denied =
        |decision: sessions_api::authorizer::Decision| !decision.is_authorized && decision.context == json!({});
    // Ended: logout.me of its own session.
    let ended = env.login(TEST_USER_ID, "Chrome", "Windows", now).await;
    let auth = (TEST_USER_ID.to_string(), ended.token.clone());
    let body = json!({"sessionId": ended.session.session_id});
    assert_eq!(env.send(SessionsLogoutMe, Req::new().auth(&auth).json(body)).await.status, 200);
    assert!(denied(authorize(&env.app, event_for(TEST_USER_ID, &ended.token), now).await.unwrap()), "ended");
    // Expired: logged in longer ago than the token lifetime.
    let lifetime_ms = env.app.config.token_lifetime_secs * 1000;
    let expired = env.login(TEST_USER_ID, "Chrome", "Windows", now - lifetime_ms - 60_000).await;
    assert!(denied(authorize(&env.app, event_for(TEST_USER_ID, &expired.token), now).await.unwrap()), "expired");
    // Idle: unused for longer than the idle timeout.
    env.set_idle_timeout();
    let idle = env.idle_login().await;
    assert!(denied(authorize(&env.app, event_for(TEST_USER_ID, &idle.token), now).await.unwrap()), "idle");
    let used = env.login(TEST_USER_ID, "Chrome", "Windows", now - 10 * 60_000).await;
    assert!(authorize(&env.app, event_for(TEST_USER_ID, &used.token), now).await.unwrap().is_authorized);
    // Deactivated: the user's tokens stop at once.
    sessions_cli::admin::set_user_active(&env.app.store, "test.test", false).await.unwrap();
    assert!(denied(authorize(&env.app, event_for(TEST_USER_ID, &used.token), now).await.unwrap()), "deactivated");
    // Another user's id with this token.
    sessions_cli::admin::set_user_active(&env.app.store, "test.test", true).await.unwrap();
    assert!(denied(authorize(&env.app, event_for(ROXIE_ID, &used.token), now).await.unwrap()), "another user");
}

#[tokio::test]
async fn the_header_names_are_configured() {
    let mut env = TestEnv::seeded().await;
    env.app.config.authorizer_user_id_header = "x-service-user".into();
    env.app.config.authorizer_token_header = "x-service-token".into();
    let mut event = event_file("authorizer.json");
    let (user, token) = (event["headers"]["x-user-id"].clone(), event["headers"]["x-auth-token"].clone());
    event["headers"] = json!({"x-service-user": user, "x-service-token": token});
    let decision = authorize(&env.app, serde_json::from_value(event.clone()).unwrap(), now_ms()).await.unwrap();
    assert!(decision.is_authorized, "read from the configured headers");
    env.app.config.authorizer_user_id_header = "x-user-id".into();
    env.app.config.authorizer_token_header = "x-auth-token".into();
    let decision = authorize(&env.app, serde_json::from_value(event).unwrap(), now_ms()).await.unwrap();
    assert!(!decision.is_authorized, "the default headers are absent");
}

#[tokio::test]
async fn an_unavailable_store_is_an_error_not_a_denial() {
    let faults = Faults::new();
    let env = TestEnv::seeded_with_faults(&faults).await;
    faults.fail("GetItem", Fault::Throttling);
    let event = serde_json::from_value(event_file("authorizer.json")).unwrap();
    let outcome = authorize(&env.app, event, now_ms()).await;
    assert!(matches!(outcome, Err(sessions_api::store::StoreError::Unavailable(_))), "{outcome:?}");
}
