//! GET /api/v1/sessions/list

use std::cmp::Ordering;

use serde_json::json;
use sessions_api::Endpoint::SessionsList;

use crate::support::*;

const QOYY: &str = "QoYYFw2t9oKks2niG";
const OWN_DEMO_SESSIONS: [&str; 4] = ["BdSrCZXNKCbRi8Eqn", QOYY, "WJ2giBwm4B9mcojFi", "Xm4PqRt7sVw2yZa8B"];

fn me() -> (String, String) {
    demo_auth(TEST_USER_ID, QOYY)
}

#[tokio::test]
async fn lists_only_own_sessions_with_rocket_chat_shape() {
    let env = TestEnv::seeded().await;
    let resp = env.send(SessionsList, Req::new().auth(&me())).await;
    assert_eq!(resp.status, 200, "{}", resp.body);
    let body = resp.json_body();
    assert_eq!((body["total"].clone(), body["count"].clone(), body["offset"].clone()), (json!(4), json!(50), json!(0)));
    assert_eq!(body["success"], json!(true));
    let mut got = ids(&resp);
    got.sort();
    assert_eq!(got, OWN_DEMO_SESSIONS);
    for s in body["sessions"].as_array().unwrap() {
        assert_eq!(s["userId"], TEST_USER_ID);
        assert_eq!(s["_id"], s["sessionId"]);
        assert!(s.get("_user").is_none(), "own list has no _user: {s}");
        let keys: Vec<&str> = s.as_object().unwrap().keys().map(String::as_str).collect();
        let mut expected =
            vec!["sessionId", "userId", "device", "host", "ip", "loginAt", "lastActivityAt", "_id", "current"];
        // Only the session the demo data located carries a location (the others' addresses are private).
        if s["sessionId"] == QOYY {
            expected.push("location");
        }
        assert_eq!(keys, expected);
    }
    let located = body["sessions"].as_array().unwrap().iter().find(|s| s["sessionId"] == QOYY).unwrap();
    assert_eq!(
        located["location"],
        json!({"country": "United States of America", "region": "North America", "city": "Los Angeles",
               "latitude": "34.043238", "longitude": "-118.250918"})
    );
    let android = body["sessions"].as_array().unwrap().iter().find(|s| s["sessionId"] == "WJ2giBwm4B9mcojFi").unwrap();
    assert_eq!(
        android["device"],
        json!({"type": "mobile", "name": "Chrome", "longVersion": "112.0.0.0",
               "os": {"name": "Android", "version": "10"}, "version": "112.0.0"})
    );
}

#[tokio::test]
async fn current_marks_only_the_calling_tokens_session() {
    let env = TestEnv::seeded().await;
    for caller in ["WJ2giBwm4B9mcojFi", QOYY] {
        let resp = env.send(SessionsList, Req::new().auth(&demo_auth(TEST_USER_ID, caller))).await;
        let current: Vec<(String, bool)> = resp.json_body()["sessions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| (s["sessionId"].as_str().unwrap().to_string(), s["current"].as_bool().unwrap()))
            .collect();
        assert_eq!(current.len(), 4);
        for (id, is_current) in current {
            assert_eq!(is_current, id == caller, "{id} while calling as {caller}");
        }
    }
}

#[tokio::test]
async fn default_sort_is_login_at_descending() {
    let env = TestEnv::seeded().await;
    let resp = env.send(SessionsList, Req::new().auth(&me())).await;
    let logins: Vec<String> = resp.json_body()["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["loginAt"].as_str().unwrap().into())
        .collect();
    let mut sorted = logins.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(logins, sorted);
    assert_eq!(ids(&resp), ["BdSrCZXNKCbRi8Eqn", QOYY, "WJ2giBwm4B9mcojFi", "Xm4PqRt7sVw2yZa8B"]);
}

/// `sort=` (empty), which Rocket.Chat ignores, is the default order on every list route.
#[tokio::test]
async fn an_empty_sort_is_the_default_order_on_every_list_route() {
    use sessions_api::Endpoint::{SessionsListAll, UserSessionsList};
    let env = TestEnv::seeded().await;
    let own = env.send(SessionsList, Req::new().auth(&me()).query("sort=")).await;
    assert_eq!(ids(&own), ids(&env.send(SessionsList, Req::new().auth(&me())).await));
    let admin = || Req::new().auth(&demo_auth(ROXIE_ID, ROXIE_SESSION)).code(&password_code(DEMO_PASSWORD));
    let all = env.send(SessionsListAll, admin().query("sort=&count=100")).await;
    assert_eq!(all.status, 200, "{}", all.body);
    assert_eq!(ids(&all), ids(&env.send(SessionsListAll, admin().query("count=100")).await));

    let mc = |query: &str| {
        let mut event =
            Req::new().header("x-api-key", sessions_cli::demo::DEMO_API_KEY).query(query).event(UserSessionsList);
        event.raw_path = Some(format!("/api/users/{TEST_USER_ID}/sessions"));
        event
    };
    let empty = invoke(&env.app, UserSessionsList, mc("sort=")).await;
    let default = invoke(&env.app, UserSessionsList, mc("")).await;
    assert_eq!(empty.status, 200, "{}", empty.body);
    assert_eq!(empty.json_body(), default.json_body());
}

/// Pages through with count=2 for every sort key and direction: each session appears
/// exactly once, in the order the key (then sessionId) gives.
#[tokio::test]
async fn every_sort_key_both_directions_pages_globally_and_stably() {
    let env = TestEnv::seeded().await;
    // More sessions, with ties on name, OS and login time, to exercise the tie-break.
    let t = env.seeded_at - 7_200_000;
    for (i, (name, os)) in [
        ("Safari", "Mac OS"),
        ("Chrome", "Windows"),
        ("Edge", "Windows"),
        ("Safari", "iOS"),
        ("Firefox", "Linux"),
        ("Chrome", "Android"),
    ]
    .iter()
    .enumerate()
    {
        env.login(TEST_USER_ID, name, os, t + (i as i64 % 2) * 1000).await;
    }
    let all = env.send(SessionsList, Req::new().auth(&me()).param("count", "100")).await.json_body();
    let rows = all["sessions"].as_array().unwrap().clone();
    assert_eq!(rows.len(), 10);
    for key in ["loginAt", "device.name", "device.os.name", "device.os.version", "_user.name", "_user.username"] {
        for dir in [1, -1] {
            let sort = format!("{{\"{key}\":{dir}}}");
            let mut paged = Vec::new();
            for offset in (0..12).step_by(2) {
                let resp = env
                    .send(
                        SessionsList,
                        Req::new()
                            .auth(&me())
                            .param("sort", &sort)
                            .param("count", "2")
                            .param("offset", &offset.to_string()),
                    )
                    .await;
                assert_eq!(resp.status, 200, "{sort}: {}", resp.body);
                assert_eq!(resp.json_body()["total"], json!(10));
                assert_eq!(resp.json_body()["offset"], json!(offset));
                paged.extend(ids(&resp));
            }
            let expected = expected_order(&rows, key, dir);
            assert_eq!(paged, expected, "sort {sort}");
        }
    }
}

#[tokio::test]
async fn multi_key_sort_follows_key_order() {
    let env = TestEnv::seeded().await;
    let resp = env.send(SessionsList, Req::new().auth(&me()).param("sort", r#"{"device.name":1,"loginAt":1}"#)).await;
    let rows = resp.json_body()["sessions"].as_array().unwrap().clone();
    for pair in rows.windows(2) {
        let o = sort_field(&pair[0], "device.name")
            .cmp(sort_field(&pair[1], "device.name"))
            .then(sort_field(&pair[0], "loginAt").cmp(sort_field(&pair[1], "loginAt")));
        assert_ne!(o, Ordering::Greater, "{pair:?}");
    }
    assert_eq!(ids(&resp)[3], "Xm4PqRt7sVw2yZa8B", "Rocket.Chat sorts after Chrome");
}

#[tokio::test]
async fn filter_is_a_case_insensitive_regex_over_visible_fields() {
    let env = TestEnv::seeded().await;
    let cases: [(&str, &[&str]); 8] = [
        ("ANDROID", &["WJ2giBwm4B9mcojFi"]),          // device.os.name
        ("^mobile$", &["WJ2giBwm4B9mcojFi"]),         // device.type
        ("rocket\\.chat", &["Xm4PqRt7sVw2yZa8B"]),    // device.name
        ("^10\\.15", &["Xm4PqRt7sVw2yZa8B"]),         // device.os.version
        ("172\\.20\\.0\\.9", &["Xm4PqRt7sVw2yZa8B"]), // ip
        ("^qoyy", &[QOYY]),                           // sessionId
        ("windows|mac", &["BdSrCZXNKCbRi8Eqn", QOYY, "Xm4PqRt7sVw2yZa8B"]),
        ("nothing-matches-this", &[]),
    ];
    for (filter, expected) in cases {
        let resp = env.send(SessionsList, Req::new().auth(&me()).param("filter", filter)).await;
        let mut got = ids(&resp);
        got.sort();
        assert_eq!(got, expected, "filter {filter}");
        assert_eq!(resp.json_body()["total"], json!(expected.len()), "filter {filter}");
    }
    // userId and host match every own session; another user's name matches none here.
    for (filter, n) in [("rbaxpnmktt", 4), ("LOCALHOST:3000", 4), ("testroxie", 0)] {
        let resp = env.send(SessionsList, Req::new().auth(&me()).param("filter", filter)).await;
        assert_eq!(resp.json_body()["total"], json!(n), "filter {filter}");
    }
}

#[tokio::test]
async fn count_zero_gives_total_without_rows_and_offset_past_end_is_empty() {
    let env = TestEnv::seeded().await;
    let resp = env.send(SessionsList, Req::new().auth(&me()).param("count", "0")).await;
    assert_reply(&resp, 200, json!({"sessions": [], "total": 4, "count": 0, "offset": 0, "success": true}));
    let resp = env.send(SessionsList, Req::new().auth(&me()).param("offset", "99")).await;
    assert_reply(&resp, 200, json!({"sessions": [], "total": 4, "count": 50, "offset": 99, "success": true}));
}

#[tokio::test]
async fn count_above_the_limit_is_clamped_to_100() {
    let env = TestEnv::seeded().await;
    let resp = env.send(SessionsList, Req::new().auth(&me()).param("count", "1000")).await;
    assert_eq!(resp.status, 200);
    assert_eq!(resp.json_body()["count"], json!(100));
    assert_eq!(ids(&resp).len(), 4);
}

#[tokio::test]
async fn expired_sessions_are_absent_and_their_tokens_rejected() {
    let env = TestEnv::seeded().await;
    let lifetime_ms = env.app.config.token_lifetime_secs * 1000;
    let old = env.login(TEST_USER_ID, "Opera", "Windows", env.seeded_at - lifetime_ms - 60_000).await;
    let resp = env.send(SessionsList, Req::new().auth(&me()).param("filter", "opera")).await;
    assert_eq!(resp.json_body()["total"], json!(0));
    assert_eq!(ids(&env.send(SessionsList, Req::new().auth(&me())).await).len(), 4);
    let stale = (TEST_USER_ID.to_string(), old.token);
    assert_reply(&env.send(SessionsList, Req::new().auth(&stale)).await, 401, unauthorized());
}
