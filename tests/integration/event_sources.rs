//! What lambda_http hands the functions: every event source answered alike, and raw
//! events that would make its conversion panic answered like their encoded forms.

use std::sync::Arc;

use serde_json::{Value, json};
use sessions_api::Endpoint::{Login, SessionsList, UserSessionGet};
use sessions_api::response::ApiResponse;
use sessions_api::runner;

use crate::support::*;
use sessions_cli::demo::DEMO_API_KEY;

fn me() -> (String, String) {
    demo_auth(TEST_USER_ID, "QoYYFw2t9oKks2niG")
}

/// The raw Lambda response for an event, as the function returns it.
async fn raw(env: &TestEnv, endpoint: sessions_api::Endpoint, event: Value) -> Value {
    runner::invoke(Arc::new(env.app.clone()), endpoint, event, lambda_runtime::Context::default()).await.unwrap()
}

/// A list request whose rawQueryString is exactly `query`, unencoded characters and all.
fn list_event(query: &str) -> Value {
    let mut event = serde_json::to_value(Req::new().auth(&me()).event(SessionsList)).unwrap();
    event["rawQueryString"] = json!(query);
    event
}

#[tokio::test]
async fn unencoded_queries_are_answered_like_their_encoded_forms() {
    let env = TestEnv::seeded().await;
    let pairs = [
        ("count=2&sort={\"loginAt\":1}", "count=2&sort=%7B%22loginAt%22%3A1%7D"),
        ("sort={\"device.name\":-1}&filter=Chrome|Safari", "sort=%7B%22device.name%22%3A-1%7D&filter=Chrome%7CSafari"),
        ("filter=Mac OS", "filter=Mac%20OS"),
        ("filter=Mac OS", "filter=Mac+OS"),
        ("sort={\"loginAt\":2}", "sort=%7B%22loginAt%22%3A2%7D"),
        ("filter=100%", "filter=100%25"),
        ("filter=<>^`", "filter=%3C%3E%5E%60"),
    ];
    for (raw_query, encoded) in pairs {
        let got = ApiResponse::from_lambda(&raw(&env, SessionsList, list_event(raw_query)).await);
        let want = ApiResponse::from_lambda(&raw(&env, SessionsList, list_event(encoded)).await);
        assert_eq!((got.status, got.json_body()), (want.status, want.json_body()), "{raw_query}");
        assert_ne!(got.status, 500, "{raw_query}");
    }
    // The first pair is the documented example: a real page, oldest first.
    let resp = ApiResponse::from_lambda(&raw(&env, SessionsList, list_event(pairs[0].0)).await);
    assert_eq!(resp.status, 200, "{}", resp.body);
    assert_eq!(ids(&resp)[0], "Xm4PqRt7sVw2yZa8B");
}

#[tokio::test]
async fn events_lambda_http_would_panic_on_get_clean_answers() {
    let env = TestEnv::seeded().await;
    // An invalid Host (the URI is built from it) is dropped, not a crash.
    let mut event = list_event("count=1");
    event["headers"]["host"] = json!("bad host/\"x");
    let resp = ApiResponse::from_lambda(&raw(&env, SessionsList, event).await);
    assert_eq!(resp.status, 200, "{}", resp.body);
    assert_eq!(resp.json_body()["count"], json!(1));

    // A body marked base64 that is not: the body parser names the problem.
    let mut event =
        serde_json::to_value(Req::new().header("content-type", "application/json").body("{not base64!").event(Login))
            .unwrap();
    event["isBase64Encoded"] = json!(true);
    let resp = ApiResponse::from_lambda(&raw(&env, Login, event).await);
    assert_reply(&resp, 400, invalid_params("request body must be a JSON object"));

    // A raw space and quote in the path of a MonoCloud route: routed, decoded, not found.
    let mut event = serde_json::to_value(Req::new().header("x-api-key", DEMO_API_KEY).event(UserSessionGet)).unwrap();
    event["rawPath"] = json!(format!("/api/users/{TEST_USER_ID}/sessions/no such\"id"));
    let resp = ApiResponse::from_lambda(&raw(&env, UserSessionGet, event).await);
    assert_eq!(resp.status, 404, "{}", resp.body);
    assert_eq!(resp.json_body()["detail"], "Session not found");
}

/// Each source gets the response shape it reads: payload 2.0 (HTTP API, Function URL)
/// `headers`; REST API `multiValueHeaders` only; ALB both plus `statusDescription`.
#[tokio::test]
async fn responses_take_the_shape_of_their_source() {
    let env = TestEnv::seeded().await;
    let read = |name: &str| -> Value {
        serde_json::from_str(&std::fs::read_to_string(repo_root().join("events").join(name)).unwrap()).unwrap()
    };
    let v2 = raw(&env, SessionsList, read("sessions-list.json")).await;
    assert_eq!(v2["headers"]["content-type"], "application/json");
    assert!(v2.get("multiValueHeaders").is_none_or(|m| m.as_object().is_none_or(|m| m.is_empty())), "{v2}");

    let url = raw(&env, SessionsList, read("sessions-list-function-url.json")).await;
    assert_eq!(url["headers"]["content-type"], "application/json");

    let rest = raw(&env, SessionsList, read("sessions-list-rest-api.json")).await;
    assert_eq!(rest["multiValueHeaders"]["content-type"], json!(["application/json"]));
    assert!(rest["headers"].as_object().is_none_or(|h| h.is_empty()), "{rest}");

    let alb = raw(&env, SessionsList, read("sessions-list-alb.json")).await;
    assert_eq!(alb["statusDescription"], "200 OK");
    assert_eq!(alb["headers"]["cache-control"], "no-store");

    for v in [&v2, &url, &rest, &alb] {
        assert_eq!(v["statusCode"], 200, "{v}");
        assert_eq!(ids(&ApiResponse::from_lambda(v)), ["BdSrCZXNKCbRi8Eqn", "QoYYFw2t9oKks2niG"]);
    }
}

/// The client address comes from the source's own field: API Gateway's request context,
/// or for an ALB the address it appended to X-Forwarded-For (not the client's claim).
#[tokio::test]
async fn an_alb_login_records_the_address_the_alb_saw() {
    let env = TestEnv::seeded().await;
    let (_, resp) = env.send_event(&repo_root().join("events/login-alb.json")).await;
    assert_eq!(resp.status, 200, "{}", resp.body);
    let body = resp.json_body();
    let auth =
        (body["data"]["userId"].as_str().unwrap().to_string(), body["data"]["authToken"].as_str().unwrap().to_string());
    let list = env.send(SessionsList, Req::new().auth(&auth)).await.json_body();
    let current = list["sessions"].as_array().unwrap().iter().find(|s| s["current"] == json!(true)).unwrap().clone();
    assert_eq!(current["ip"], "198.51.100.23");
    assert_ne!(current["ip"], "203.0.113.9");
}
