//! POST /api/v1/sessions/logout.me

use serde_json::json;
use sessions_api::Endpoint::{SessionsInfo, SessionsList, SessionsLogoutMe};

use crate::support::*;

const OTHER: &str = "WJ2giBwm4B9mcojFi";

fn me() -> (String, String) {
    demo_auth(TEST_USER_ID, "QoYYFw2t9oKks2niG")
}

#[tokio::test]
async fn ends_a_session_and_its_token_at_once() {
    let env = TestEnv::seeded().await;
    let other_token = demo_auth(TEST_USER_ID, OTHER);
    assert_eq!(env.send(SessionsList, Req::new().auth(&other_token)).await.status, 200);

    let resp = env.send(SessionsLogoutMe, Req::new().auth(&me()).json(json!({"sessionId": OTHER}))).await;
    assert_reply(&resp, 200, json!({"sessionId": OTHER, "success": true}));

    // Its token is dead, it is no longer listed or found, and a second logout is 404.
    assert_reply(&env.send(SessionsList, Req::new().auth(&other_token)).await, 401, unauthorized());
    let listed = ids(&env.send(SessionsList, Req::new().auth(&me())).await);
    assert_eq!(listed.len(), 3);
    assert!(!listed.contains(&OTHER.to_string()));
    let info = env.send(SessionsInfo, Req::new().auth(&me()).param("sessionId", OTHER)).await;
    assert_reply(&info, 404, not_found());
    let again = env.send(SessionsLogoutMe, Req::new().auth(&me()).json(json!({"sessionId": OTHER}))).await;
    assert_reply(&again, 404, not_found());
}

#[tokio::test]
async fn ending_the_calling_session_logs_the_caller_out() {
    let env = TestEnv::seeded().await;
    let resp = env.send(SessionsLogoutMe, Req::new().auth(&me()).json(json!({"sessionId": "QoYYFw2t9oKks2niG"}))).await;
    assert_eq!(resp.status, 200);
    assert_reply(&env.send(SessionsList, Req::new().auth(&me())).await, 401, unauthorized());
}

#[tokio::test]
async fn cannot_end_another_users_session() {
    let env = TestEnv::seeded().await;
    // This session's activity recorded first, so the call below has none due.
    assert_eq!(env.send(SessionsList, Req::new().auth(&me())).await.status, 200);
    let before = env.snapshot().await;
    let resp = env.send(SessionsLogoutMe, Req::new().auth(&me()).json(json!({"sessionId": "o94SveQp6fyPsoiNC"}))).await;
    assert_reply(&resp, 404, not_found());
    assert_eq!(env.snapshot().await, before);
    let owner = demo_auth("2tTEqR7ZNMJ4HGGNa", "o94SveQp6fyPsoiNC");
    assert_eq!(env.send(SessionsList, Req::new().auth(&owner)).await.status, 200);
}

#[tokio::test]
async fn bad_bodies_are_refused_and_change_nothing() {
    let env = TestEnv::seeded().await;
    let before = env.snapshot().await;
    let cases = [
        (None, "must have required property 'sessionId'"),
        (Some("{}"), "must have required property 'sessionId'"),
        (Some("{\"sessionId\":"), "request body must be a JSON object"),
        (Some("sessionId=WJ2giBwm4B9mcojFi"), "request body must be a JSON object"),
        (Some("{\"sessionId\":42}"), "/sessionId must be string"),
        (Some("{\"sessionId\":\"WJ2giBwm4B9mcojFi\",\"all\":true}"), "must NOT have additional properties"),
    ];
    for (body, message) in cases {
        let mut req = Req::new().auth(&me());
        if let Some(b) = body {
            req = req.body(b);
        }
        assert_reply(&env.send(SessionsLogoutMe, req).await, 400, invalid_params(message));
    }
    let huge = format!("{{\"sessionId\":\"{}\"}}", "a".repeat(1 << 20));
    assert_eq!(env.send(SessionsLogoutMe, Req::new().auth(&me()).body(&huge)).await.status, 400);
    assert_eq!(env.snapshot().await, before);
}

#[tokio::test]
async fn unauthenticated_callers_get_401_before_body_checks() {
    let env = TestEnv::seeded().await;
    let before = env.snapshot().await;
    let resp = env.send(SessionsLogoutMe, Req::new().body("not json")).await;
    assert_reply(&resp, 401, unauthorized());
    let resp = env.send(SessionsLogoutMe, Req::new().json(json!({"sessionId": OTHER}))).await;
    assert_reply(&resp, 401, unauthorized());
    assert_eq!(env.snapshot().await, before);
}
