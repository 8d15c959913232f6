//! POST /api/v1/login and /api/v1/logout.

use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::{Value, json};
use sessions_api::Endpoint::{Login, Logout, SessionsList, UserSessionGet};
use sessions_api::core::clock::now_ms;
use sessions_api::core::ids::sha256_hex;
use sessions_api::core::model::User;
use sessions_api::store::UserStore;
use sessions_cli::demo::DEMO_API_KEY;

use crate::support::*;

fn login_req(body: Value) -> Req {
    Req::new().json(body)
}

fn current_session(list: &Value) -> Value {
    let current: Vec<&Value> =
        list["sessions"].as_array().unwrap().iter().filter(|s| s["current"] == json!(true)).collect();
    assert_eq!(current.len(), 1, "{list}");
    current[0].clone()
}

fn login_failed() -> Value {
    json!({"status": "error", "error": "Unauthorized", "message": "Unauthorized"})
}

#[tokio::test]
async fn plain_and_digest_passwords_log_in_and_the_token_works() {
    let env = TestEnv::seeded().await;
    let plain = env.send(Login, login_req(json!({"user": "test.test", "password": DEMO_PASSWORD}))).await;
    let body = plain.json_body();
    assert_eq!(body["status"], "success");
    assert_eq!(body["data"]["me"], json!({"_id": TEST_USER_ID, "username": "test.test", "name": "test test"}));
    let (user_id, token) = credentials(&plain);
    assert_eq!(user_id, TEST_USER_ID);
    assert_eq!(token.len(), 43);
    assert!(!format!("{:?}", env.snapshot().await).contains(&token), "only the token's hash is stored");
    let list = env.send(SessionsList, Req::new().auth(&(user_id, token))).await.json_body();
    assert_eq!(list["total"], json!(5));

    let digest =
        json!({"user": "TEST.test", "password": {"digest": sha256_hex(DEMO_PASSWORD), "algorithm": "sha-256"}});
    let (user_id, token) = credentials(&env.send(Login, login_req(digest)).await);
    assert_eq!(env.send(SessionsList, Req::new().auth(&(user_id, token))).await.json_body()["total"], json!(6));
    // By email too.
    let by_email = env.send(Login, login_req(json!({"user": "Guester@Example.com", "password": DEMO_PASSWORD}))).await;
    assert_eq!(credentials(&by_email).0, "b66oZ8i9pkeSko33v");
}

#[tokio::test]
async fn the_new_session_carries_the_parsed_device_for_real_user_agents() {
    let env = TestEnv::seeded().await;
    let cases = [
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/113.0.0.0 Safari/537.36",
            "browser",
            "Chrome",
            "Windows",
        ),
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:109.0) Gecko/20100101 Firefox/112.0",
            "browser",
            "Firefox",
            "Windows",
        ),
        (
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.4 Safari/605.1.15",
            "browser",
            "Safari",
            "Mac OS",
        ),
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/113.0.0.0 Safari/537.36 Edg/113.0.1774.42",
            "browser",
            "Edge",
            "Windows",
        ),
        (
            "Mozilla/5.0 (Linux; Android 13; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/113.0.0.0 Mobile Safari/537.36",
            "mobile",
            "Chrome",
            "Android",
        ),
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 16_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.4 Mobile/15E148 Safari/604.1",
            "mobile",
            "Safari",
            "iOS",
        ),
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Rocket.Chat/3.9.14 Chrome/108.0.5359.215 Electron/22.3.27 Safari/537.36",
            "desktop-app",
            "Rocket.Chat",
            "Windows",
        ),
        ("RC Mobile; ios 16.4; v4.39.0 (2024)", "mobile-app", "Rocket.Chat", "iOS"),
        ("RC Mobile; android 13; v4.39.0 (51234)", "mobile-app", "Rocket.Chat", "Android"),
        ("curl/8.5.0", "other", "curl", ""),
    ];
    for (ua, kind, name, os) in cases {
        let resp = env
            .send(Login, login_req(json!({"user": "rodriq", "password": DEMO_PASSWORD})).header("user-agent", ua))
            .await;
        let auth = credentials(&resp);
        let list = env.send(SessionsList, Req::new().auth(&auth)).await.json_body();
        let device = &current_session(&list)["device"];
        assert_eq!(
            (device["type"].as_str(), device["name"].as_str(), device["os"]["name"].as_str()),
            (Some(kind), Some(name), Some(os)),
            "{ua}"
        );
    }
}

#[tokio::test]
async fn a_huge_user_agent_still_logs_in() {
    let env = TestEnv::seeded().await;
    for ua in [format!("curl/{}", "9".repeat(20_000)), format!("Mozilla/5.0 {}", "\u{1F600}".repeat(5_000))] {
        let resp = env
            .send(Login, login_req(json!({"user": "rodriq", "password": DEMO_PASSWORD})).header("user-agent", &ua))
            .await;
        let auth = credentials(&resp);
        let list = env.send(SessionsList, Req::new().auth(&auth)).await.json_body();
        assert!(current_session(&list)["device"]["longVersion"].as_str().unwrap().len() <= 64);
    }
}

/// A login carrying CloudFront's viewer location headers, and the MonoCloud view of its session.
async fn login_with_geo_headers(env: &TestEnv) -> ((String, String), Value, Value) {
    let req = login_req(json!({"user": "user-00", "password": DEMO_PASSWORD, "client_id": "billing-portal"}))
        .header("host", "sessions.example.com")
        .header("cloudfront-viewer-country", "DE")
        .header("cloudfront-viewer-country-region", "BE")
        .header("cloudfront-viewer-city", "Berlin")
        .header("cloudfront-viewer-latitude", "52.52000")
        .header("cloudfront-viewer-longitude", "13.40500")
        .ip("203.0.113.77");
    let auth = credentials(&env.send(Login, req).await);
    let list = env.send(SessionsList, Req::new().auth(&auth)).await.json_body();
    let s = current_session(&list);
    let path = format!("/api/users/{}/sessions/{}", auth.0, s["sessionId"].as_str().unwrap());
    let mut event = Req::new().header("x-api-key", DEMO_API_KEY).event(UserSessionGet);
    event.raw_path = Some(path.clone());
    event.path_parameters = UserSessionGet.match_path(&path).unwrap();
    let mc = invoke(&env.app, UserSessionGet, event).await.json_body();
    (auth, s, mc)
}

#[tokio::test]
async fn the_session_records_ip_host_geo_and_client() {
    let mut env = TestEnv::seeded().await;
    env.app.config.trust_cloudfront_geo = true;
    let (_, s, mc) = login_with_geo_headers(&env).await;
    assert_eq!((s["ip"].as_str(), s["host"].as_str()), (Some("203.0.113.77"), Some("sessions.example.com")));
    assert_eq!(mc["client_ids"], json!(["billing-portal"]));
    assert_eq!(
        mc["last_metadata"],
        json!({"ip_address": "203.0.113.77", "user_agent": null, "country": "DE", "region": "BE", "city": "Berlin",
               "latitude": "52.52000", "longitude": "13.40500"})
    );
    assert_eq!(mc["expires_at"].as_i64().unwrap() - mc["initiated_at"].as_i64().unwrap(), 90 * 86_400);
}

/// Not behind CloudFront (the default), the viewer headers are the client's own word: ignored.
#[tokio::test]
async fn geo_headers_are_ignored_unless_the_api_sits_behind_cloudfront() {
    let env = TestEnv::seeded().await;
    assert!(!env.app.config.trust_cloudfront_geo);
    let (_, s, mc) = login_with_geo_headers(&env).await;
    assert_eq!(s["ip"].as_str(), Some("203.0.113.77"));
    assert_eq!(
        mc["last_metadata"],
        json!({"ip_address": "203.0.113.77", "user_agent": null, "country": null, "region": null, "city": null,
               "latitude": null, "longitude": null})
    );
}

#[tokio::test]
async fn bad_credentials_get_one_identical_401_and_write_only_failure_counts() {
    let env = TestEnv::seeded().await;
    let mut inactive = env.app.store.user_by_username("guester").await.unwrap().unwrap();
    inactive = User {
        user_id: "inactiveUser12345".into(),
        username: "sleeper".into(),
        emails: vec![],
        active: false,
        ..inactive
    };
    env.app.store.create_user(&inactive).await.unwrap();
    let before = env.snapshot().await;
    for body in [
        json!({"user": "test.test", "password": "wrong"}),
        json!({"user": "nobody", "password": DEMO_PASSWORD}),
        json!({"user": "nobody@example.com", "password": DEMO_PASSWORD}),
        json!({"user": "sleeper", "password": DEMO_PASSWORD}),
        json!({"user": "test.test", "password": {"digest": sha256_hex("wrong"), "algorithm": "sha-256"}}),
    ] {
        let resp = env.send(Login, login_req(body.clone())).await;
        assert_eq!(resp.status, 401, "{body}");
        assert_eq!(resp.body, login_failed().to_string(), "{body}");
    }
    let counted = |item: &String| item.contains("LOGINFAIL#");
    let logged = |item: &String| item.contains("PK=S(\"LOG#");
    let after = env.snapshot().await;
    let unlogged = |items: &[String]| items.iter().filter(|i| !logged(i)).cloned().collect::<Vec<_>>();
    assert_eq!(unlogged(&after).into_iter().filter(|i| !counted(i)).collect::<Vec<_>>(), unlogged(&before));
    assert_eq!(
        after.iter().filter(|i| counted(i)).count(),
        5,
        "one per address, per account and per name that matched none"
    );
    // And one audit entry per refusal (docs/audit-log.md), no raw unknown name in any.
    let entries = |items: &[String]| items.iter().filter(|i| logged(i)).count();
    assert_eq!(entries(&after) - entries(&before), 5);
    assert!(after.iter().all(|i| !i.contains("nobody")));
}

#[tokio::test]
async fn malformed_requests_are_400_and_write_nothing() {
    let env = TestEnv::seeded().await;
    let before = env.snapshot().await;
    let megabyte = format!(r#"{{"user":"test.test","password":"{}"}}"#, "x".repeat(1_000_000));
    let cases: Vec<(Req, &str)> = vec![
        (
            Req::new().header("content-type", "application/json").body("{\"user\":"),
            "request body must be a JSON object",
        ),
        (Req::new().header("content-type", "application/json").body("[]"), "request body must be a JSON object"),
        (login_req(json!({"password": "x"})), "must have required property 'user'"),
        (login_req(json!({"user": "test.test"})), "must have required property 'password'"),
        (login_req(json!({"user": ["a"], "password": "x"})), "/user must be string"),
        (
            Req::new().header("content-type", "application/json").body(&megabyte),
            "request body must NOT be larger than 65536 bytes",
        ),
        (
            Req::new().header("content-type", "text/plain").body(r#"{"user":"test.test","password":"demo-password"}"#),
            "Content-Type must be application/json",
        ),
        (
            Req::new().body(r#"{"user":"test.test","password":"demo-password"}"#),
            "Content-Type must be application/json",
        ),
    ];
    for (req, message) in cases {
        assert_reply(&env.send(Login, req).await, 400, invalid_params(message));
    }
    assert_eq!(env.snapshot().await, before);
}

#[tokio::test]
async fn users_with_totp_need_a_code_at_login() {
    let env = TestEnv::seeded().await;
    let creds = || json!({"user": "admin", "password": DEMO_PASSWORD});
    let resp = env.send(Login, login_req(creds())).await;
    assert_reply(
        &resp,
        400,
        json!({"success": false, "error": "TOTP Required [totp-required]", "errorType": "totp-required",
               "details": {"method": "totp", "codeGenerated": false, "availableMethods": ["totp"]}}),
    );
    let now = now_ms();
    let wrong = if admin_totp(now) == "000000" { "111111" } else { "000000" };
    let mut body = creds();
    body["code"] = json!(wrong);
    assert_eq!(env.send(Login, login_req(body)).await.json_body()["errorType"], "totp-invalid");
    // The right code, in the body or in X-2fa-Code.
    let mut body = creds();
    body["code"] = json!(admin_totp(now));
    let (user_id, _) = credentials(&env.send(Login, login_req(body)).await);
    assert_eq!(user_id, ADMIN_ID);
    let later = now + 30_000;
    let req = http_request(&login_req(creds()).code(&admin_totp(later)).event(Login));
    let (store, mailer, config) = (&env.app.store, &env.app.mailer, &env.app.config);
    assert!(sessions_api::rocketchat::handlers::login::login(store, mailer, config, &req, later).await.is_ok());
}

#[tokio::test]
async fn logout_ends_the_calling_session_in_both_dialects() {
    let env = TestEnv::seeded().await;
    let auth = credentials(&env.send(Login, login_req(json!({"user": "test.test", "password": DEMO_PASSWORD}))).await);
    let list = env.send(SessionsList, Req::new().auth(&auth)).await.json_body();
    let session_id = current_session(&list)["sessionId"].as_str().unwrap().to_string();
    let resp = env.send(Logout, Req::new().auth(&auth)).await;
    assert_reply(&resp, 200, json!({"status": "success", "data": {"message": "You've been logged out!"}}));
    assert_reply(&env.send(SessionsList, Req::new().auth(&auth)).await, 401, unauthorized());
    assert_reply(&env.send(Logout, Req::new().auth(&auth)).await, 401, unauthorized());
    let others = ids(&env.send(SessionsList, Req::new().auth(&demo_auth(TEST_USER_ID, "QoYYFw2t9oKks2niG"))).await);
    assert!(!others.contains(&session_id));
    let path = format!("/api/users/{TEST_USER_ID}/sessions/{session_id}");
    let mut event = Req::new().header("x-api-key", DEMO_API_KEY).event(UserSessionGet);
    event.raw_path = Some(path.clone());
    event.path_parameters = UserSessionGet.match_path(&path).unwrap();
    let mc = invoke(&env.app, UserSessionGet, event).await;
    assert_eq!(mc.status, 404);
}

#[tokio::test]
async fn a_login_past_the_cap_ends_the_oldest_session() {
    let mut env = TestEnv::seeded().await;
    env.app.config.max_sessions_per_user = 2;
    // guester has one demo session (W4y9xkjyqFvbjENco), the oldest.
    let first = credentials(&env.send(Login, login_req(json!({"user": "guester", "password": DEMO_PASSWORD}))).await);
    let list = env.send(SessionsList, Req::new().auth(&first)).await;
    assert_eq!(list.json_body()["total"], json!(2));
    let second = credentials(&env.send(Login, login_req(json!({"user": "guester", "password": DEMO_PASSWORD}))).await);
    let list = env.send(SessionsList, Req::new().auth(&second)).await;
    assert_eq!(list.json_body()["total"], json!(2));
    assert!(!ids(&list).contains(&"W4y9xkjyqFvbjENco".to_string()));
    assert_eq!(
        env.send(SessionsList, Req::new().auth(&demo_auth("b66oZ8i9pkeSko33v", "W4y9xkjyqFvbjENco"))).await.status,
        401
    );
    assert_eq!(env.send(SessionsList, Req::new().auth(&first)).await.status, 200);
}

/// Every body form Rocket.Chat's clients send signs in the same user; fields Rocket.Chat
/// ignores are ignored.
#[tokio::test]
async fn every_login_form_signs_in_the_same_user() {
    let env = TestEnv::seeded().await;
    let digest = json!({"digest": sha256_hex(DEMO_PASSWORD), "algorithm": "sha-256"});
    let forms = [
        json!({"user": "test.test", "password": DEMO_PASSWORD}),
        json!({"user": "test.test@example.com", "password": DEMO_PASSWORD}),
        json!({"username": "test.test", "password": DEMO_PASSWORD}),
        json!({"email": "test.test@example.com", "password": digest}),
        json!({"user": {"username": "test.test"}, "password": DEMO_PASSWORD}),
        json!({"user": {"email": "TEST.test@example.com"}, "password": digest}),
        json!({"username": "test.test", "password": DEMO_PASSWORD, "ldap": false, "ldapOptions": {}, "x": [1]}),
    ];
    for body in forms {
        let resp = env.send(Login, login_req(body.clone())).await;
        let (user_id, token) = credentials(&resp);
        assert_eq!(user_id, TEST_USER_ID, "{body}");
        assert_eq!(env.send(SessionsList, Req::new().auth(&(user_id, token))).await.status, 200, "{body}");
    }
    // The wrong password in any form is the one identical 401.
    for body in
        [json!({"username": "test.test", "password": "nope"}), json!({"user": {"email": "x@y.z"}, "password": "nope"})]
    {
        assert_reply(&env.send(Login, login_req(body)).await, 401, login_failed());
    }
}

/// `{"resume": token}` answers the login body for a live token without a new session, and
/// the one login 401 for an ended or unknown token.
#[tokio::test]
async fn resume_answers_for_a_live_token_only() {
    let env = TestEnv::seeded().await;
    let (user_id, token) =
        credentials(&env.send(Login, login_req(json!({"user": "test.test", "password": DEMO_PASSWORD}))).await);
    let sessions =
        env.send(SessionsList, Req::new().auth(&(user_id.clone(), token.clone()))).await.json_body()["total"].clone();
    let resumed = env.send(Login, login_req(json!({"resume": token}))).await;
    assert_eq!(credentials(&resumed), (user_id.clone(), token.clone()));
    assert_eq!(resumed.json_body()["data"]["me"]["username"], "test.test");
    let after =
        env.send(SessionsList, Req::new().auth(&(user_id.clone(), token.clone()))).await.json_body()["total"].clone();
    assert_eq!(after, sessions, "resume creates no session");

    env.send(Logout, Req::new().auth(&(user_id, token.clone()))).await;
    assert_reply(&env.send(Login, login_req(json!({"resume": token}))).await, 401, login_failed());
    assert_reply(&env.send(Login, login_req(json!({"resume": "not-a-token"}))).await, 401, login_failed());
}

/// Rocket.Chat answers GET /api/v1/logout like POST.
#[tokio::test]
async fn get_and_post_logout_both_end_the_calling_session() {
    let env = TestEnv::seeded().await;
    for method in ["GET", "POST"] {
        let auth =
            credentials(&env.send(Login, login_req(json!({"user": "test.test", "password": DEMO_PASSWORD}))).await);
        let resp = env.send(Logout, Req::new().auth(&auth).method(method)).await;
        assert_reply(&resp, 200, json!({"status": "success", "data": {"message": "You've been logged out!"}}));
        assert_reply(&env.send(SessionsList, Req::new().auth(&auth)).await, 401, unauthorized());
    }
}

/// Each of the user's links agrees with its profile on what login reads (the login copy).
async fn assert_links_follow_the_profile(env: &TestEnv, user_id: &str) {
    let items = env.items().await;
    let profile = items
        .iter()
        .find(|i| i["PK"].as_s().is_ok_and(|p| p == &format!("USER#{user_id}")) && i["SK"].as_s().unwrap() == "PROFILE")
        .expect("the profile");
    let user = env.app.store.user(user_id).await.unwrap().unwrap();
    let links: Vec<_> = items
        .iter()
        .filter(|i| i.get("userId").and_then(|v| v.as_s().ok()) == Some(&user_id.to_string()))
        .filter(|i| i["PK"].as_s().is_ok_and(|p| p.starts_with("USERNAME#") || p.starts_with("EMAIL#")))
        .collect();
    assert_eq!(links.len(), 1 + user.emails.len());
    for link in links {
        for field in ["username", "roles", "active", "passwordBcrypt", "emails"] {
            assert_eq!(link.get(field), profile.get(field), "{field} of {:?}", link["PK"]);
        }
        assert_eq!(link["secondFactor"].as_bool().unwrap(), &user.has_second_factor(), "{:?}", link["PK"]);
        assert_eq!(link["loginCopy"].as_bool().unwrap(), &true);
    }
}

/// Login reads a user without a second factor from its name's link alone (the login copy).
/// Every change to what login checks reaches each link in the profile's own transaction,
/// and a link written before the copy existed still signs in, from the profile.
#[tokio::test]
async fn the_login_copy_follows_every_change_and_old_links_still_sign_in() {
    use sessions_cli::admin::{change_role, enable_totp, set_email_two_factor, set_user_active};
    let env = TestEnv::seeded().await;
    let store = &env.app.store;
    let login = |user: &str| login_req(json!({"user": user, "password": DEMO_PASSWORD}));
    let names = ["testroxie", "TestRoxie@example.com"];
    for name in names {
        assert_eq!(credentials(&env.send(Login, login(name)).await).0, ROXIE_ID);
    }
    assert_links_follow_the_profile(&env, ROXIE_ID).await;

    set_email_two_factor(store, "testroxie", true).await.unwrap();
    assert_links_follow_the_profile(&env, ROXIE_ID).await;
    for name in names {
        let resp = env.send(Login, login(name)).await;
        assert_reply(
            &resp,
            400,
            json!({"success": false, "error": "TOTP Required [totp-required]", "errorType": "totp-required",
                   "details": {"method": "email", "codeGenerated": true, "availableMethods": ["email"]}}),
        );
    }
    set_email_two_factor(store, "testroxie", false).await.unwrap();
    for name in names {
        assert_eq!(credentials(&env.send(Login, login(name)).await).0, ROXIE_ID);
    }

    set_user_active(store, "testroxie", false).await.unwrap();
    assert_links_follow_the_profile(&env, ROXIE_ID).await;
    for name in names {
        assert_reply(&env.send(Login, login(name)).await, 401, login_failed());
    }
    set_user_active(store, "testroxie", true).await.unwrap();
    change_role(store, "testroxie", "auditor", true).await.unwrap();
    assert_links_follow_the_profile(&env, ROXIE_ID).await;
    assert_eq!(credentials(&env.send(Login, login("testroxie")).await).0, ROXIE_ID);

    enable_totp(store, "testroxie", None).await.unwrap();
    assert_links_follow_the_profile(&env, ROXIE_ID).await;
    assert_eq!(env.send(Login, login("testroxie")).await.json_body()["errorType"], "totp-required");

    // A username link as written before the copy: the user's id and nothing else.
    store
        .client()
        .put_item()
        .table_name(store.table())
        .item("PK", AttributeValue::S("USERNAME#test.test".into()))
        .item("SK", AttributeValue::S("USERNAME".into()))
        .item("entity", AttributeValue::S("username".into()))
        .item("userId", AttributeValue::S(TEST_USER_ID.into()))
        .send()
        .await
        .unwrap();
    let resp = env.send(Login, login("test.test")).await;
    assert_eq!(
        resp.json_body()["data"]["me"],
        json!({"_id": TEST_USER_ID, "username": "test.test", "name": "test test"})
    );
    assert_reply(
        &env.send(Login, login_req(json!({"user": "test.test", "password": "wrong"}))).await,
        401,
        login_failed(),
    );
}

/// A link that is gone or names another user is left out of an admin change, so it never
/// blocks one (a deactivation above all); the links still there follow the profile.
#[tokio::test]
async fn a_broken_link_does_not_block_a_deactivation() {
    use sessions_api::store::keys;
    use sessions_cli::admin::{change_role, set_user_active};
    let env = TestEnv::seeded().await;
    let store = &env.app.store;
    let login = |user: &str| login_req(json!({"user": user, "password": DEMO_PASSWORD}));
    let email = keys::email("TestRoxie@example.com");
    env.delete_item(&email, keys::EMAIL).await;

    set_user_active(store, "testroxie", false).await.unwrap();
    assert!(!store.user(ROXIE_ID).await.unwrap().unwrap().active, "the profile is deactivated");
    assert_reply(&env.send(Login, login("testroxie")).await, 401, login_failed());
    set_user_active(store, "testroxie", true).await.unwrap();
    assert_eq!(credentials(&env.send(Login, login("testroxie")).await).0, ROXIE_ID);
    assert_reply(&env.send(Login, login("TestRoxie@example.com")).await, 401, login_failed());
    assert!(env.item(&email, keys::EMAIL).await.is_none(), "a missing link is not written back");

    // The email now names another user: roxie's change leaves it as it is.
    let moved = store.client().put_item().table_name(store.table()).item("PK", AttributeValue::S(email.clone()));
    let moved =
        moved.item("SK", AttributeValue::S(keys::EMAIL.into())).item("entity", AttributeValue::S("email".into()));
    moved.item("userId", AttributeValue::S(TEST_USER_ID.into())).send().await.unwrap();
    change_role(store, "testroxie", "auditor", true).await.unwrap();
    assert!(store.user(ROXIE_ID).await.unwrap().unwrap().roles.contains(&"auditor".to_string()));
    let link = env.item(&email, keys::EMAIL).await.unwrap();
    assert_eq!(link.get("userId"), Some(&AttributeValue::S(TEST_USER_ID.into())));
    assert_eq!(link.get("roles"), None, "another user's link gets no copy of roxie's");
    let username = keys::username("testroxie");
    let roles = env.item(&username, keys::USERNAME).await.unwrap().get("roles").cloned();
    let auditor = AttributeValue::S("auditor".into());
    let has_auditor = roles.as_ref().and_then(|r| r.as_l().ok()).is_some_and(|l| l.contains(&auditor));
    assert!(has_auditor, "the link still there follows the profile: {roles:?}");

    // Both links broken at once (the username's gone, the email's another user's).
    env.delete_item(&username, keys::USERNAME).await;
    set_user_active(store, ROXIE_ID, false).await.unwrap();
    assert!(!store.user(ROXIE_ID).await.unwrap().unwrap().active, "deactivated with no link left");
}
