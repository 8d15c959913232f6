//! The list of bad inputs, each with its exact status and body, none of which
//! changes stored data.

use serde_json::json;
use sessions_api::Endpoint::SessionsList;

use crate::support::*;

fn me() -> (String, String) {
    demo_auth(TEST_USER_ID, "QoYYFw2t9oKks2niG")
}

#[tokio::test]
async fn authentication_failures_are_401() {
    let env = TestEnv::seeded().await;
    let before = env.snapshot().await;
    let testroxie_token = demo_token("o94SveQp6fyPsoiNC");
    let cases: Vec<(&str, Req)> = vec![
        ("no headers", Req::new()),
        ("only user id", Req::new().header("X-User-Id", TEST_USER_ID)),
        ("only token", Req::new().header("X-Auth-Token", &demo_token("QoYYFw2t9oKks2niG"))),
        ("wrong token", Req::new().auth(&(TEST_USER_ID.into(), "wrong".into()))),
        ("token of another user", Req::new().auth(&(TEST_USER_ID.into(), testroxie_token))),
        ("empty headers", Req::new().auth(&(String::new(), String::new()))),
        ("huge token", Req::new().auth(&(TEST_USER_ID.into(), "t".repeat(100_000)))),
        // Past DynamoDB's 2 KB key limit the lookup itself would fail: a 401, not a 500.
        ("huge user id", Req::new().auth(&("u".repeat(3_000), demo_token("QoYYFw2t9oKks2niG")))),
        ("user id just over the bound", Req::new().auth(&("u".repeat(65), demo_token("QoYYFw2t9oKks2niG")))),
        ("unauthorised with bad params too", Req::new().query("offset=-1&count=abc&sort=nope")),
    ];
    for (name, req) in cases {
        let resp = env.send(SessionsList, req).await;
        assert_eq!(resp.status, 401, "{name}");
        assert_reply(&resp, 401, unauthorized());
    }
    assert_eq!(env.snapshot().await, before);
}

#[tokio::test]
async fn list_parameter_errors_have_exact_bodies() {
    let env = TestEnv::seeded().await;
    let before = env.snapshot().await;
    let long_filter = "a".repeat(10_000);
    let cases = [
        ("offset=-1", 400, invalid_params("/offset must be >= 0")),
        ("count=abc", 400, invalid_params("/count must be integer")),
        ("foo=bar", 400, invalid_params("must NOT have additional properties")),
        ("count=1&count=2", 400, invalid_params("/count must be string")),
        ("filter=(", 400, invalid_params("/filter must be a valid regular expression")),
        (&*format!("filter={long_filter}"), 400, invalid_params("/filter must NOT have more than 256 characters")),
        (
            "sort=loginAt",
            400,
            json!({"success": false, "error": "Invalid sort parameter provided: \"loginAt\" [error-invalid-sort]", "errorType": "error-invalid-sort"}),
        ),
        (
            "sort=%7B%22loginAt%22%3A2%7D",
            400,
            json!({"success": false, "error": "Invalid sort parameter provided: \"{\"loginAt\":2}\" [error-invalid-sort]", "errorType": "error-invalid-sort"}),
        ),
        ("sort=%7B%22ip%22%3A1%7D", 400, json!({"success": false, "error": "error-invalid-sort-keys"})),
        // Unencoded JSON as some clients send it: parsed, not refused as a bad URI.
        ("sort={\"ip\":1}", 400, json!({"success": false, "error": "error-invalid-sort-keys"})),
    ];
    for (query, status, body) in cases {
        let resp = env.send(SessionsList, Req::new().auth(&me()).query(query)).await;
        assert_eq!(resp.status, status, "{query}: {}", resp.body);
        assert_reply(&resp, status, body);
    }
    assert_eq!(env.snapshot().await, before);
}

#[tokio::test]
async fn sort_value_exactly_the_documented_example_error() {
    let env = TestEnv::seeded().await;
    let resp = env.send(SessionsList, Req::new().auth(&me()).param("sort", "{\"loginAt\":2}")).await;
    assert_eq!(
        resp.json_body()["error"],
        json!("Invalid sort parameter provided: \"{\"loginAt\":2}\" [error-invalid-sort]")
    );
}

/// A store failure is a 500 with a fixed body in each dialect; the cause (here a missing
/// table) goes to the log, never to the client.
#[tokio::test]
async fn store_failures_are_500_without_details() {
    let env = TestEnv::without_table().await;
    let resp = env.send(SessionsList, Req::new().auth(&me())).await;
    assert_reply(&resp, 500, json!({"success": false, "error": "Internal server error"}));

    let path = format!("/api/users/{TEST_USER_ID}/sessions");
    let mut event = Req::new().header("x-api-key", "sk_any").event(sessions_api::Endpoint::UserSessionsList);
    event.raw_path = Some(path.clone());
    let resp = invoke(&env.app, sessions_api::Endpoint::UserSessionsList, event).await;
    assert_eq!(resp.status, 500);
    assert_eq!(resp.header("content-type"), Some("application/problem+json"));
    let body = resp.json_body();
    assert_eq!(
        (body["type"].as_str(), body["title"].as_str(), body["detail"].as_str()),
        (Some("https://httpstatuses.io/500"), Some("Internal Server Error"), Some("An unexpected error occurred."))
    );
    assert!(!resp.body.contains(env.app.store.table()), "{}", resp.body);
}

/// With the template's CloudFront front on, a request that went around CloudFront (no
/// `X-Origin-Verify`, or a wrong one) is 403 before anything is read or written; CloudFront's
/// own requests carry the secret and are served.
#[tokio::test]
async fn without_the_origin_secret_a_request_is_403_and_changes_nothing() {
    use sessions_api::Endpoint::Login;
    let mut env = TestEnv::seeded().await;
    let secret = "origin-0123456789abcdef0123456789abcdef";
    env.app.config.origin_verify = sessions_api::core::config::OriginSecret::of(secret);
    let before = env.snapshot().await;
    let login = || Req::new().json(json!({"user": "guester", "password": sessions_cli::demo::DEMO_PASSWORD}));
    for (endpoint, req) in [(SessionsList, Req::new().auth(&me())), (Login, login())] {
        assert_reply(&env.send(endpoint, req.clone()).await, 403, json!({"message": "Forbidden"}));
        let wrong = req.header("X-Origin-Verify", "origin-0123456789abcdef0123456789abcdeX");
        assert_reply(&env.send(endpoint, wrong).await, 403, json!({"message": "Forbidden"}));
    }
    assert_eq!(env.snapshot().await, before);
    for (endpoint, req) in [(SessionsList, Req::new().auth(&me())), (Login, login())] {
        let resp = env.send(endpoint, req.header("X-Origin-Verify", secret)).await;
        assert_eq!(resp.status, 200, "{}", resp.body);
    }
}
