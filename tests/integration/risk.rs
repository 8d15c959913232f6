//! Impossible travel: a new session far from the user's previous one, sooner than anyone
//! could travel, is flagged from the stream: `risk` on the session in every view that reads
//! it, and a `Session Flagged` event valid against its schema.

use serde_json::{Value, json};
use sessions_api::Endpoint::{Login, SessionsInfo, SessionsList, SessionsListAll, UserSessionGet};
use sessions_api::stream::publisher::Publisher;
use sessions_cli::demo::{DEMO_API_KEY, DEMO_PASSWORD};

use crate::stream_events::{EventBridgeRecorder, published};
use crate::support::*;

const GUESTER: &str = "b66oZ8i9pkeSko33v";

/// guester signs in with CloudFront's viewer location headers at (`lat`, `lon`).
async fn login_at(env: &TestEnv, lat: &str, lon: &str) -> (String, String) {
    let req = Req::new()
        .json(json!({"user": "guester", "password": DEMO_PASSWORD}))
        .header("CloudFront-Viewer-Latitude", lat)
        .header("CloudFront-Viewer-Longitude", lon)
        .header("CloudFront-Viewer-City", if lat.starts_with('-') { "Sydney" } else { "London" });
    let resp = env.send(Login, req).await;
    assert_eq!(resp.status, 200, "{}", resp.body);
    let data = &resp.json_body()["data"];
    (data["userId"].as_str().unwrap().into(), data["authToken"].as_str().unwrap().into())
}

#[tokio::test]
async fn london_then_sydney_at_once_is_flagged_everywhere() {
    let mut env = TestEnv::seeded_with_stream().await;
    env.app.config.trust_cloudfront_geo = true;
    let mut tail = env.stream_tail().await;
    env.run_stream(&mut tail, &Publisher::Log).await;
    let london = login_at(&env, "51.5074", "-0.1278").await;
    let recorder = EventBridgeRecorder::default();
    env.run_stream(&mut tail, &recorder.publisher()).await;
    // The first place known: nothing to compare with.
    let kinds: Vec<String> = published(&recorder).into_iter().map(|(k, _)| k).collect();
    assert_eq!(kinds, ["Session Created"]);
    let sydney = login_at(&env, "-33.8688", "151.2093").await;
    env.run_stream(&mut tail, &recorder.publisher()).await;
    let events = published(&recorder);
    let kinds: Vec<&str> = events.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(kinds, ["Session Created", "Session Created", "Session Flagged"]);
    let risk = &events[2].1["risk"];
    assert_eq!(risk["reason"], json!("impossible_travel"));
    assert!((16_900..17_100).contains(&risk["distanceKm"].as_u64().unwrap()), "{risk}");
    // Every view of the session shows it; the first session is not flagged.
    let list = env.send(SessionsList, Req::new().auth(&sydney)).await.json_body();
    let rows = list["sessions"].as_array().unwrap();
    let current = rows.iter().find(|r| r["current"] == json!(true)).unwrap();
    assert_eq!(&current["risk"], risk);
    let sid = current["sessionId"].as_str().unwrap().to_string();
    let info = env.send(SessionsInfo, Req::new().auth(&sydney).param("sessionId", &sid)).await.json_body();
    assert_eq!(&info["risk"], risk);
    let mine = env.send(SessionsList, Req::new().auth(&london)).await.json_body();
    let first = mine["sessions"].as_array().unwrap().iter().find(|r| r["current"] == json!(true)).unwrap().clone();
    assert!(first.get("risk").is_none(), "{first}");
    assert_eq!(risk["previousSessionId"], first["sessionId"]);
    let path = format!("/api/users/{GUESTER}/sessions/{sid}");
    let mut event = Req::new().header("X-API-KEY", DEMO_API_KEY).event(UserSessionGet);
    event.raw_path = Some(path.clone());
    event.path_parameters = UserSessionGet.match_path(&path).unwrap();
    let mc = invoke(&env.app, UserSessionGet, event).await.json_body();
    assert_eq!(&mc["last_metadata"]["risk"], risk);
    // list.all's rows, read from the order index's packed row, show it too.
    let admin = Req::new().auth(&demo_auth(ROXIE_ID, ROXIE_SESSION)).code(&password_code(DEMO_PASSWORD));
    let all = env.send(SessionsListAll, admin.param("filter", "guester").param("count", "100")).await.json_body();
    let rows = all["sessions"].as_array().unwrap();
    let row_of = |id: &Value| rows.iter().find(|r| &r["sessionId"] == id).unwrap_or_else(|| panic!("{id} in {all}"));
    assert_eq!(&row_of(&json!(sid))["risk"], risk);
    assert!(row_of(&first["sessionId"]).get("risk").is_none());
}
