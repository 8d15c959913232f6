//! GET /api/v1/sessions/info

use serde_json::json;
use sessions_api::Endpoint::SessionsInfo;

use crate::support::*;

fn me() -> (String, String) {
    demo_auth(TEST_USER_ID, "QoYYFw2t9oKks2niG")
}

/// The caller's own session `id` from info (a 200), with its keys in order.
async fn own_info(id: &str) -> (serde_json::Value, Vec<String>) {
    let env = TestEnv::seeded().await;
    let resp = env.send(SessionsInfo, Req::new().auth(&me()).param("sessionId", id)).await;
    assert_eq!(resp.status, 200, "{}", resp.body);
    let body = resp.json_body();
    let keys = body.as_object().unwrap().keys().cloned().collect();
    (body, keys)
}

#[tokio::test]
async fn returns_an_own_session_with_success() {
    let (body, keys) = own_info("WJ2giBwm4B9mcojFi").await;
    assert_eq!(keys, ["sessionId", "userId", "device", "host", "ip", "loginAt", "lastActivityAt", "_id", "success"]);
    assert_eq!(body["sessionId"], "WJ2giBwm4B9mcojFi");
    assert_eq!(body["_id"], "WJ2giBwm4B9mcojFi");
    assert_eq!(body["userId"], TEST_USER_ID);
    assert_eq!(body["host"], "localhost:3000");
    assert_eq!(body["device"]["os"], json!({"name": "Android", "version": "10"}));
    assert_eq!(body["success"], json!(true));
}

#[tokio::test]
async fn a_located_session_shows_where_its_login_came_from() {
    let (body, keys) = own_info("QoYYFw2t9oKks2niG").await;
    assert_eq!(
        keys,
        ["sessionId", "userId", "device", "host", "ip", "loginAt", "lastActivityAt", "_id", "location", "success"]
    );
    assert_eq!(
        body["location"],
        json!({"country": "United States of America", "region": "North America", "city": "Los Angeles",
               "latitude": "34.043238", "longitude": "-118.250918"})
    );
}

#[tokio::test]
async fn another_users_session_is_not_found() {
    let env = TestEnv::seeded().await;
    // o94SveQp6fyPsoiNC belongs to testroxie.
    let resp = env.send(SessionsInfo, Req::new().auth(&me()).param("sessionId", "o94SveQp6fyPsoiNC")).await;
    assert_reply(&resp, 404, not_found());
    let resp = env.send(SessionsInfo, Req::new().auth(&me()).param("sessionId", "doesNotExist12345")).await;
    assert_reply(&resp, 404, not_found());
    let resp = env.send(SessionsInfo, Req::new().auth(&me()).param("sessionId", &"x".repeat(5000))).await;
    assert_reply(&resp, 404, not_found());
}

#[tokio::test]
async fn missing_or_extra_parameters_are_invalid() {
    let env = TestEnv::seeded().await;
    let resp = env.send(SessionsInfo, Req::new().auth(&me())).await;
    assert_reply(&resp, 400, invalid_params("must have required property 'sessionId'"));
    assert_eq!(
        resp.json_body(),
        json!({"success": false, "error": "must have required property 'sessionId' [invalid-params]", "errorType": "invalid-params"})
    );
    let resp = env.send(SessionsInfo, Req::new().auth(&me()).param("sessionId", "a").param("x", "1")).await;
    assert_reply(&resp, 400, invalid_params("must NOT have additional properties"));
}

#[tokio::test]
async fn needs_authentication_before_parameters() {
    let env = TestEnv::seeded().await;
    let resp = env.send(SessionsInfo, Req::new()).await;
    assert_reply(&resp, 401, unauthorized());
    let wrong = (TEST_USER_ID.to_string(), "not-a-token".to_string());
    let resp = env.send(SessionsInfo, Req::new().auth(&wrong).param("sessionId", "QoYYFw2t9oKks2niG")).await;
    assert_reply(&resp, 401, unauthorized());
}
