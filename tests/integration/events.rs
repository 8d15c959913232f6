//! Every file in events/ runs against freshly seeded demo data, as `cargo lambda invoke
//! --data-file` or `sam local invoke -e` would send it.

use serde_json::{Value, json};
use sessions_api::Endpoint;

use crate::support::*;

fn event_files() -> Vec<std::path::PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(repo_root().join("events"))
        .expect("events/ exists")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    files
}

#[test]
fn every_function_has_an_event_named_after_it() {
    let names: Vec<String> =
        event_files().iter().map(|p| p.file_stem().unwrap().to_string_lossy().into_owned()).collect();
    let mut functions: Vec<&str> = Endpoint::ALL.iter().map(|e| e.function()).collect();
    functions.extend(sessions_api::routes::OTHER_FUNCTIONS);
    for f in &functions {
        assert!(names.iter().any(|n| n == f), "events/{f}.json is missing");
    }
    for n in &names {
        assert!(
            functions.iter().any(|f| n == f || n.starts_with(&format!("{f}-"))),
            "events/{n}.json is named after no function"
        );
    }
}

/// Events of the other sources lambda_http reads, answered like the HTTP API event they copy.
const OTHER_SOURCES: [&str; 3] = ["-rest-api.json", "-alb.json", "-function-url.json"];

/// `sessions-list-alb.json` → `sessions-list.json`; login-alb has expectations of its own
/// (a login's token differs each time).
fn other_source_of(name: &str) -> Option<String> {
    let suffix = OTHER_SOURCES.iter().find(|s| name.ends_with(*s))?;
    (name != "login-alb.json").then(|| format!("{}.json", name.strip_suffix(suffix).unwrap()))
}

#[tokio::test]
async fn every_event_succeeds_against_the_demo_data() {
    let files = event_files();
    assert!(files.len() > Endpoint::ALL.len());
    for file in files {
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        if name.starts_with("session-stream") || name.starts_with("authorizer") {
            continue; // a stream event, run below; authorizer events: authorizer.rs
        }
        let env = TestEnv::seeded().await;
        if let Some(base) = other_source_of(&name) {
            // The session's activity recorded first, so neither call below has any due and
            // both read the same session.
            env.send_event(&repo_root().join("events").join(&base)).await;
        }
        let (endpoint, resp) = env.send_event(&file).await;
        if let Some(base) = other_source_of(&name) {
            // The same request from another event source gets the same answer.
            let (_, expected) = env.send_event(&repo_root().join("events").join(&base)).await;
            assert_eq!((resp.status, resp.json_body()), (expected.status, expected.json_body()), "{name} vs {base}");
            assert_eq!(resp.header("content-type"), expected.header("content-type"), "{name}");
            assert_eq!(resp.header("x-pagination"), expected.header("x-pagination"), "{name}");
            assert_eq!(resp.status, 200, "{name}: {}", resp.body);
            continue;
        }
        let expected_status = if name == "user-session-revoke.json" { 204 } else { 200 };
        assert_eq!(resp.status, expected_status, "{name}: {}", resp.body);
        assert!(name.starts_with(endpoint.function()), "{name} routes to {}", endpoint.function());
        let body = resp.json_body();
        match name.as_str() {
            "sessions-list.json" => {
                assert_eq!(ids(&resp), ["BdSrCZXNKCbRi8Eqn", "QoYYFw2t9oKks2niG"]);
                assert_eq!((body["total"].clone(), body["count"].clone()), (json!(4), json!(2)));
                assert_eq!(body["sessions"][1]["current"], json!(true));
            }
            "sessions-list-filter.json" => assert_eq!(ids(&resp), ["WJ2giBwm4B9mcojFi"]),
            "sessions-info.json" => assert_eq!(body["sessionId"], "WJ2giBwm4B9mcojFi"),
            "sessions-logout-me.json" => {
                assert_eq!(body, json!({"sessionId": "Xm4PqRt7sVw2yZa8B", "success": true}));
                let (_, again) = env.send_event(&file).await;
                assert_reply(&again, 404, not_found());
            }
            "sessions-list-all.json" => {
                assert_eq!(body["total"], json!(14));
                assert_eq!(body["sessions"].as_array().unwrap().len(), 5);
                assert_eq!(body["sessions"][0]["_user"], json!({"username": "admin", "name": "Administrator"}));
            }
            "sessions-list-all-filter.json" => {
                let users: Vec<&str> = body["sessions"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|s| s["_user"]["username"].as_str().unwrap())
                    .collect();
                assert_eq!(users, ["admin", "user-0", "user-00"]);
            }
            "sessions-info-admin.json" => {
                assert_eq!(body["sessionId"], "uBNL9dTjJ4s6Pjp4K");
                assert_eq!(body["_user"], json!({"username": "rodriq", "name": "Rodriq"}));
            }
            "sessions-logout.json" => {
                assert_eq!(body, json!({"sessionId": "tTouumJMrHMjnedWf", "success": true}));
                let (_, again) = env.send_event(&file).await;
                assert_reply(&again, 404, not_found());
            }
            "user-sessions-list.json" => {
                let ids: Vec<&str> =
                    body.as_array().unwrap().iter().map(|s| s["session_id"].as_str().unwrap()).collect();
                assert_eq!(ids, ["Xm4PqRt7sVw2yZa8B", "WJ2giBwm4B9mcojFi", "QoYYFw2t9oKks2niG"]);
                assert!(resp.header("x-pagination").is_some());
            }
            "user-session-get.json" => {
                assert_eq!(body["session_id"], "QoYYFw2t9oKks2niG");
                assert_eq!(body["last_metadata"]["city"], "Los Angeles");
            }
            "user-session-revoke.json" => assert_eq!(resp.body, ""),
            "logs-list.json" => {
                // test.test's four demo sign-ins, newest first, three to a page.
                let codes: Vec<&str> = body.as_array().unwrap().iter().map(|e| e["code"].as_str().unwrap()).collect();
                assert_eq!(codes, ["user_sign_in_succeeded"; 3]);
                let times: Vec<i64> =
                    body.as_array().unwrap().iter().map(|e| e["time_stamp"].as_i64().unwrap()).collect();
                assert!(times.windows(2).all(|w| w[0] >= w[1]), "{times:?}");
                let page: Value = serde_json::from_str(resp.header("x-pagination").unwrap()).unwrap();
                assert_eq!((page["total_count"].clone(), page["has_next"].clone()), (json!(4), json!(true)));
            }
            "user-sessions-revoke-all.json" => assert_eq!(body, json!({"count": 3})),
            "login.json" | "login-digest.json" | "login-alb.json" => {
                assert_eq!(body["status"], "success");
                let user_id = body["data"]["userId"].as_str().unwrap().to_string();
                let token = body["data"]["authToken"].as_str().unwrap().to_string();
                assert_eq!(token.len(), 43);
                let listed = env.send(Endpoint::SessionsList, Req::new().auth(&(user_id, token))).await.json_body();
                let current: Vec<&Value> =
                    listed["sessions"].as_array().unwrap().iter().filter(|s| s["current"] == json!(true)).collect();
                assert_eq!(current.len(), 1);
                assert_eq!(current[0]["device"]["name"], "Safari");
            }
            "logout.json" => {
                assert_eq!(body, json!({"status": "success", "data": {"message": "You've been logged out!"}}));
                let (_, again) = env.send_event(&file).await;
                assert_reply(&again, 401, unauthorized());
            }
            "users-logout-other-clients.json" => {
                assert_eq!(body["token"], "PcpfYBIE3Y3Sg28AHIZheeFFJoF9CsJNMxJpW8CeETM");
                assert_eq!(body["success"], json!(true));
                assert!(body["tokenExpires"].as_str().is_some_and(|t| t.ends_with('Z')), "{body}");
                assert_eq!(
                    env.send(Endpoint::SessionsList, Req::new().auth(&demo_auth(TEST_USER_ID, "QoYYFw2t9oKks2niG")))
                        .await
                        .json_body()["total"],
                    json!(1)
                );
            }
            "users-remove-other-tokens.json" => assert_eq!(body, json!({"success": true})),
            "users-logout.json" => {
                assert_eq!(body, json!({"message": "User rbAXPnMktTFbNpwtJ has been logged out!", "success": true}))
            }
            "users-logout-other-user.json" => {
                assert_eq!(body, json!({"message": "User rYhzFRd2QZjNwAAXX has been logged out!", "success": true}))
            }
            "users-set-preferences.json" => assert_eq!(
                body,
                json!({"user": {"_id": TEST_USER_ID, "settings": {"preferences": {"receiveLoginDetectionEmail": false}}}, "success": true})
            ),
            "users-set-active-status.json" => {
                assert_eq!(body, json!({"user": {"_id": "rYhzFRd2QZjNwAAXX", "active": false}, "success": true}));
                use sessions_api::store::UserSessionReader;
                assert_eq!(env.app.store.user_sessions("rYhzFRd2QZjNwAAXX").await.unwrap(), []);
            }
            "user-disable.json" | "user-enable.json" => {
                let disabled = name == "user-disable.json";
                assert_eq!(
                    (body["user_id"].as_str(), body["disabled"].as_bool()),
                    (Some(TEST_USER_ID), Some(disabled))
                );
                assert_eq!(body["username"]["username"], json!("test.test"), "{body}");
                let sessions = Req::new().auth(&demo_auth(TEST_USER_ID, "QoYYFw2t9oKks2niG"));
                let status = if disabled { 401 } else { 200 };
                assert_eq!(env.send(Endpoint::SessionsList, sessions).await.status, status);
            }
            "user-get.json" | "user-unblock.json" | "user-unblock-ip.json" => {
                assert_eq!((body["user_id"].as_str(), body["disabled"].as_bool()), (Some(TEST_USER_ID), Some(false)));
                assert_eq!((&body["failure_count"], &body["block_until"]), (&json!(0), &json!(null)), "{body}");
            }
            // No sign-in of the user came from a blocked address.
            "user-blocked-ips.json" => assert_eq!(body, json!([])),
            "users-get-preferences.json" => {
                assert_eq!(body, json!({"preferences": {"receiveLoginDetectionEmail": true}, "success": true}))
            }
            // The page (its policy and caching: tests/integration/console.rs).
            "console-page.json" => {
                assert!(resp.body.starts_with("<!doctype html>"), "{}", resp.body);
                assert!(resp.header("content-security-policy").is_some_and(|p| p.starts_with("default-src 'none'")));
            }
            "me.json" => {
                assert_eq!((body["_id"].as_str(), body["username"].as_str()), (Some(TEST_USER_ID), Some("test.test")));
                assert_eq!(body["success"], json!(true));
            }
            other => panic!("events/{other} has no expectation here: add one"),
        }
    }
}

/// The stream event holds two TTL removals of sessions among other changes: only those
/// two are recorded as expired and leave the counter, so list.all's total drops by two; the
/// login and the history record publish one event each. Delivered again, nothing changes.
#[tokio::test]
async fn the_stream_consumer_records_ttl_expiries_once() {
    use sessions_api::stream::{on_stream, publisher::Publisher};
    let env = TestEnv::seeded().await;
    let text = std::fs::read_to_string(repo_root().join("events/session-stream.json")).unwrap();
    let event: aws_lambda_events::dynamodb::Event = serde_json::from_str(&text).expect("a DynamoDB stream event");
    assert_eq!(env.app.store.session_count().await.unwrap(), 14);
    let (response, outcome) = on_stream(&env.app, &Publisher::Log, &event).await;
    assert!(response.batch_item_failures.is_empty());
    assert_eq!((outcome.expired, outcome.published, outcome.skipped, outcome.failed_at), (2, 2, 0, None));
    assert_eq!(env.app.store.session_count().await.unwrap(), 12);
    for id in ["QoYYFw2t9oKks2niG", "WJ2giBwm4B9mcojFi"] {
        let ended = env.app.store.ended_session(TEST_USER_ID, id).await.unwrap().expect("a history record");
        assert_eq!(ended.ending.reason, sessions_api::core::history::EndReason::Expired);
        assert_eq!(ended.ending.actor, sessions_api::core::history::Actor::System);
        assert_eq!(ended.session.expect("the session's details").session_id, id);
        // info.admin answers it ended, by nobody (the system).
        let admin = Req::new().auth(&demo_auth(ROXIE_ID, ROXIE_SESSION)).code(&password_code(DEMO_PASSWORD));
        let info = env.send(Endpoint::SessionsInfoAdmin, admin.param("sessionId", id)).await.json_body();
        let logout_at = sessions_api::core::clock::iso_millis(ended.ending.at);
        assert_eq!((info["sessionId"].as_str(), info["logoutAt"].as_str()), (Some(id), Some(logout_at.as_str())));
        assert!(info.get("logoutBy").is_none(), "{info}");
    }
    let (_, again) = on_stream(&env.app, &Publisher::Log, &event).await;
    assert_eq!((again.expired, again.failed_at), (0, None));
    assert_eq!(env.app.store.session_count().await.unwrap(), 12);
}
