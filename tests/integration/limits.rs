//! Limits that hold under concurrency: 2FA tries reserved before a code is checked, email
//! codes consumed once, and Rocket.Chat's failed-login blocks per login name and per address.

use serde_json::{Value, json};
use sessions_api::Endpoint::{Login, SessionsListAll};
use sessions_api::core::clock::{Millis, now_ms};
use sessions_api::response::ApiResponse;
use sessions_api::rocketchat::errors::{ApiError, Blocked};
use sessions_api::rocketchat::handlers::{admin, login};

use crate::support::*;

/// Sends every request to `endpoint` at once, as parallel Lambda instances would receive them.
pub(crate) async fn send_parallel(env: &TestEnv, endpoint: sessions_api::Endpoint, reqs: Vec<Req>) -> Vec<ApiResponse> {
    let calls = reqs
        .into_iter()
        .map(|r| {
            let app = env.app.clone();
            let event = r.event(endpoint);
            async move { invoke(&app, endpoint, event).await }
        })
        .collect();
    in_parallel(calls).await
}

/// How many responses have exactly this status and body.
pub(crate) fn count(resps: &[ApiResponse], status: u16, body: &Value) -> usize {
    resps.iter().filter(|r| r.status == status && r.json_body() == *body).count()
}

fn invalid(method: &str) -> Value {
    json!({"success": false, "error": "TOTP Invalid [totp-invalid]", "errorType": "totp-invalid",
           "details": {"method": method, "codeGenerated": false}})
}

fn max_attempts(method: &str) -> Value {
    json!({"success": false, "error": "TOTP Maximun Attempts Reached [totp-max-attempts]", "errorType": "totp-max-attempts",
           "details": {"method": method}})
}

pub(crate) fn login_failed() -> Value {
    json!({"status": "error", "error": "Unauthorized", "message": "Unauthorized"})
}

pub(crate) fn blocked_for_user() -> Value {
    json!({"status": "error", "error": "error-login-blocked-for-user", "message": "Login has been temporarily blocked For User"})
}

pub(crate) fn blocked_for_ip() -> Value {
    json!({"status": "error", "error": "error-login-blocked-for-ip", "message": "Login has been temporarily blocked For IP"})
}

fn admin_auth() -> (String, String) {
    demo_auth(ADMIN_ID, ADMIN_SESSION)
}

/// A TOTP code that is none of the admin's accepted ones around `now`.
fn wrong_totp(now: Millis) -> String {
    let near: Vec<String> = (-1..=1).map(|d| admin_totp(now + d * 30_000)).collect();
    (0..1_000_000).map(|n| format!("{n:06}")).find(|c| !near.contains(c)).unwrap()
}

/// testroxie with email 2FA and a code just sent; returns her auth and the code.
async fn roxie_with_email_code(env: &TestEnv) -> ((String, String), String) {
    sessions_cli::admin::set_email_two_factor(&env.app.store, "testroxie", true).await.unwrap();
    let roxie = demo_auth(ROXIE_ID, ROXIE_SESSION);
    assert_eq!(env.send(SessionsListAll, Req::new().auth(&roxie)).await.status, 400);
    let code = latest_email_code(env).await;
    (roxie, code)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_wrong_totp_codes_get_five_checks_then_parallel_email_codes_too() {
    let env = TestEnv::seeded().await;
    let wrong = wrong_totp(now_ms());
    let reqs = (0..40).map(|_| Req::new().auth(&admin_auth()).code(&wrong)).collect();
    let resps = send_parallel(&env, SessionsListAll, reqs).await;
    assert_eq!(count(&resps, 400, &invalid("totp")), 5, "{:?}", resps.iter().map(|r| &r.body).collect::<Vec<_>>());
    assert_eq!(count(&resps, 400, &max_attempts("totp")), 35);
    // Even the right code is refused for the rest of the window.
    let right = env.send(SessionsListAll, Req::new().auth(&admin_auth()).code(&admin_totp(now_ms()))).await;
    assert_reply(&right, 400, max_attempts("totp"));

    let (roxie, code) = roxie_with_email_code(&env).await;
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let reqs = (0..40).map(|_| Req::new().auth(&roxie).code(wrong)).collect();
    let resps = send_parallel(&env, SessionsListAll, reqs).await;
    assert_eq!(count(&resps, 400, &invalid("email")), 5);
    assert_eq!(count(&resps, 400, &max_attempts("email")), 35);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_codes_when_the_old_window_has_passed_still_get_five_checks() {
    let env = TestEnv::seeded().await;
    let wrong = |now| wrong_totp(now);
    let now = now_ms();
    for _ in 0..5 {
        let resp = env.send(SessionsListAll, Req::new().auth(&admin_auth()).code(&wrong(now))).await;
        assert_reply(&resp, 400, invalid("totp"));
    }
    // Sixteen minutes later every request finds a passed window and races to start the next.
    let later = now + 16 * 60 * 1000;
    let calls = (0..40)
        .map(|_| {
            let app = env.app.clone();
            let req = http_request(&Req::new().auth(&admin_auth()).code(&wrong(later)).event(SessionsListAll));
            async move { admin::list_all(&app.store, &app.mailer, &app.config, &req, later).await.map(|_| ()) }
        })
        .collect();
    let results = in_parallel(calls).await;
    let checked = results.iter().filter(|r| matches!(r, Err(ApiError::TotpInvalid { .. }))).count();
    let refused = results.iter().filter(|r| matches!(r, Err(ApiError::TotpMaxAttempts { .. }))).count();
    assert_eq!((checked, refused), (5, 35));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_right_email_code_sent_ten_times_at_once_works_once() {
    let env = TestEnv::seeded().await;
    let (roxie, code) = roxie_with_email_code(&env).await;
    // Each from its own address, so no request rides on another's 2FA success.
    let reqs = (0..10).map(|i| Req::new().auth(&roxie).ip(&format!("192.0.2.{}", i + 1)).code(&code)).collect();
    let resps = send_parallel(&env, SessionsListAll, reqs).await;
    let bodies: Vec<&String> = resps.iter().map(|r| &r.body).collect();
    assert_eq!(resps.iter().filter(|r| r.status == 200).count(), 1, "{bodies:?}");
    let refused = count(&resps, 400, &invalid("email")) + count(&resps, 400, &max_attempts("email"));
    assert_eq!(refused, 9, "{bodies:?}");
    // At most five checks per window: the success gave its try back, so at most five failed.
    assert!(count(&resps, 400, &invalid("email")) <= 5, "{bodies:?}");
    // Used up: later, with a try to spare, the same code is wrong.
    let later = now_ms() + 16 * 60 * 1000;
    let req = http_request(&Req::new().auth(&roxie).ip("192.0.2.99").code(&code).event(SessionsListAll));
    let err = admin::list_all(&env.app.store, &env.app.mailer, &env.app.config, &req, later).await.unwrap_err();
    assert!(matches!(err, ApiError::TotpInvalid { method: "email" }), "{err:?}");
}

pub(crate) fn password_login(user: &str, password: &str) -> Req {
    Req::new().json(json!({"user": user, "password": password}))
}

#[tokio::test]
async fn eleven_wrong_passwords_block_the_user_until_the_window_passes() {
    let env = TestEnv::seeded().await;
    let (store, mailer, config) = (&env.app.store, &env.app.mailer, &env.app.config);
    let call = |req: Req, at: Millis| {
        let req = http_request(&req.event(Login));
        async move { login::login(store, mailer, config, &req, at).await }
    };
    let now = now_ms();
    for _ in 0..10 {
        assert!(matches!(call(password_login("test.test", "wrong"), now).await, Err(ApiError::LoginFailed)));
    }
    // The 11th, and then the right password, are blocked (no password check); so is the
    // name in another case.
    let resp = env.send(Login, password_login("test.test", "wrong")).await;
    assert_reply(&resp, 401, blocked_for_user());
    let resp = env.send(Login, password_login("TEST.test", DEMO_PASSWORD)).await;
    assert_reply(&resp, 401, blocked_for_user());
    // Another user from the same address is not.
    assert_eq!(env.send(Login, password_login("rodriq", DEMO_PASSWORD)).await.status, 200);

    let almost = now + config.login_block_user_ms - 1000;
    let err = call(password_login("test.test", DEMO_PASSWORD), almost).await.unwrap_err();
    assert!(matches!(err, ApiError::LoginBlocked(Blocked::User)), "{err:?}");
    let after = now + config.login_block_user_ms + 1000;
    let ok = call(password_login("test.test", DEMO_PASSWORD), after).await.expect("unblocked");
    assert_eq!(ok.user.user_id, TEST_USER_ID);
    // A success clears the name's count: nine failures, a success, then ten more are checked.
    for _ in 0..9 {
        assert!(matches!(call(password_login("test.test", "wrong"), after).await, Err(ApiError::LoginFailed)));
    }
    call(password_login("test.test", DEMO_PASSWORD), after).await.expect("nine failures do not block");
    for _ in 0..10 {
        assert!(matches!(call(password_login("test.test", "wrong"), after).await, Err(ApiError::LoginFailed)));
    }
    let err = call(password_login("test.test", DEMO_PASSWORD), after).await.unwrap_err();
    assert!(matches!(err, ApiError::LoginBlocked(Blocked::User)), "{err:?}");
}

#[tokio::test]
async fn unknown_names_are_limited_like_known_ones() {
    let env = TestEnv::seeded().await;
    for _ in 0..10 {
        assert_reply(&env.send(Login, password_login("nobody", "x")).await, 401, login_failed());
    }
    assert_reply(&env.send(Login, password_login("NoBody", "x")).await, 401, blocked_for_user());
    // No raw login name became a key.
    let items = env.snapshot().await.join("\n");
    assert!(!items.to_lowercase().contains("nobody"), "{items}");
}

#[tokio::test]
async fn fifty_one_failures_from_one_address_block_it_and_only_it() {
    let env = TestEnv::seeded().await;
    let attacker = "203.0.113.50";
    for i in 0..25 {
        let resp = env.send(Login, password_login(&format!("guess-{i}"), "x").ip(attacker)).await;
        assert_reply(&resp, 401, login_failed());
    }
    // A success from the address clears its count, as Rocket.Chat counts an address's
    // failures since its last successful login: 50 more are checked.
    assert_eq!(env.send(Login, password_login("guester", DEMO_PASSWORD).ip(attacker)).await.status, 200);
    for i in 25..75 {
        let resp = env.send(Login, password_login(&format!("guess-{i}"), "x").ip(attacker)).await;
        assert_reply(&resp, 401, login_failed());
    }
    for body in [password_login("guess-75", "x"), password_login("test.test", DEMO_PASSWORD)] {
        assert_reply(&env.send(Login, body.ip(attacker)).await, 401, blocked_for_ip());
    }
    let elsewhere = env.send(Login, password_login("test.test", DEMO_PASSWORD).ip("203.0.113.51")).await;
    assert_eq!(elsewhere.status, 200, "{}", elsewhere.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn thirty_parallel_wrong_passwords_get_ten_checks() {
    let env = TestEnv::seeded().await;
    let reqs = (0..30).map(|_| password_login("test.test", "wrong").ip("203.0.113.60")).collect();
    let resps = send_parallel(&env, Login, reqs).await;
    assert_eq!(count(&resps, 401, &login_failed()), 10, "{:?}", resps.iter().map(|r| &r.body).collect::<Vec<_>>());
    assert_eq!(count(&resps, 401, &blocked_for_user()), 20);
    // The blocked ones gave the address's tries back: 40 more failures fit under its 50.
    for i in 0..40 {
        let resp = env.send(Login, password_login(&format!("other-{i}"), "x").ip("203.0.113.60")).await;
        assert_reply(&resp, 401, login_failed());
    }
    let resp = env.send(Login, password_login("other-40", "x").ip("203.0.113.60")).await;
    assert_reply(&resp, 401, blocked_for_ip());
}

/// Both limits reached at once: the address answers, as Rocket.Chat checks it first; a
/// request the name blocks from another address gives that address's try back.
#[tokio::test]
async fn when_both_limits_block_the_address_answers() {
    let mut env = TestEnv::seeded().await;
    env.app.config.login_failures_per_user = 2;
    env.app.config.login_failures_per_ip = 2;
    for _ in 0..2 {
        let resp = env.send(Login, password_login("test.test", "wrong").ip("203.0.113.70")).await;
        assert_reply(&resp, 401, login_failed());
    }
    let resp = env.send(Login, password_login("test.test", "wrong").ip("203.0.113.70")).await;
    assert_reply(&resp, 401, blocked_for_ip());
    // The name alone blocks from another address, three times over, and gives its tries back:
    // that address still has both of its own.
    for _ in 0..3 {
        let resp = env.send(Login, password_login("test.test", DEMO_PASSWORD).ip("203.0.113.71")).await;
        assert_reply(&resp, 401, blocked_for_user());
    }
    for name in ["rodriq", "guester"] {
        let resp = env.send(Login, password_login(name, "wrong").ip("203.0.113.71")).await;
        assert_reply(&resp, 401, login_failed());
    }
    let resp = env.send(Login, password_login("rodriq", DEMO_PASSWORD).ip("203.0.113.71")).await;
    assert_reply(&resp, 401, blocked_for_ip());
}

#[tokio::test]
async fn limits_of_zero_block_nothing() {
    let mut env = TestEnv::seeded().await;
    env.app.config.login_failures_per_user = 0;
    env.app.config.login_failures_per_ip = 0;
    for _ in 0..12 {
        assert_reply(&env.send(Login, password_login("test.test", "wrong")).await, 401, login_failed());
    }
    assert_eq!(env.send(Login, password_login("test.test", DEMO_PASSWORD)).await.status, 200);
    assert!(!env.snapshot().await.join("\n").contains("LOGINFAIL"));
}

/// The failure window of the address 198.51.100.23, if any.
async fn window_item(
    env: &TestEnv,
) -> Option<std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>> {
    env.items().await.into_iter().find(|i| i["PK"].as_s().is_ok_and(|p| p == "LOGINFAIL#IP#198.51.100.23"))
}

/// A window's tries under parallel reservations and releases: exactly `max` are granted,
/// every release gives exactly its own try back (once, however often it is sent), and the
/// window's last try deletes the item, so a
/// later reservation is one write on no item. Timed against DynamoDB Local's own clock: the
/// window is far longer than the test.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_reservations_and_releases_count_every_try_once() {
    use sessions_api::store::{LoginLimit, LoginLimitKey, LoginLimitStore};
    let env = TestEnv::seeded().await;
    let key = LoginLimitKey::ip("198.51.100.23");
    let (window, max) = (300_000, 10u32);
    let now = now_ms();
    let reserve_all = |n: usize| {
        let calls: Vec<_> = (0..n)
            .map(|_| {
                let (store, key) = (env.app.store.clone(), key.clone());
                async move { store.reserve_login_try(&key, now, LoginLimit { max, block_ms: window }).await.unwrap() }
            })
            .collect();
        in_parallel(calls)
    };
    let held: Vec<_> = reserve_all(25).await.into_iter().flatten().collect();
    assert_eq!(held.len(), max as usize);
    assert_eq!(window_item(&env).await.unwrap()["tries"].as_ss().unwrap().len(), 10);

    // One given back of ten held, twice (a retry after a lost answer): one try less, and
    // the item stays.
    env.app.store.release_login_try(&key, held[0].clone()).await.unwrap();
    env.app.store.release_login_try(&key, held[0].clone()).await.unwrap();
    assert_eq!(window_item(&env).await.unwrap()["tries"].as_ss().unwrap().len(), 9);
    // The other eight in parallel, then the last: none is left, and no item.
    let calls: Vec<_> = held[1..9]
        .iter()
        .map(|h| {
            let (store, key, h) = (env.app.store.clone(), key.clone(), h.clone());
            async move { store.release_login_try(&key, h).await.unwrap() }
        })
        .collect();
    in_parallel(calls).await;
    assert_eq!(window_item(&env).await.unwrap()["tries"].as_ss().unwrap().len(), 1);
    env.app.store.release_login_try(&key, held[9].clone()).await.unwrap();
    assert!(window_item(&env).await.is_none(), "the window's last try deletes it");
    // A release of a try already given back changes nothing.
    env.app.store.release_login_try(&key, held[9].clone()).await.unwrap();
    assert!(window_item(&env).await.is_none());

    // A new window from no item: again exactly ten of many.
    let again: Vec<_> = reserve_all(25).await.into_iter().flatten().collect();
    assert_eq!(again.len(), max as usize);
    assert!(again.iter().all(|r| r.window_start == now), "{again:?}");
}

/// How many tries the window of 198.51.100.23 holds, if it has an item.
async fn held_tries(env: &TestEnv) -> Option<usize> {
    window_item(env).await.map(|i| i["tries"].as_ss().map_or(0, Vec::len))
}

/// A write applied whose answer is lost is sent again by the SDK: a reservation finds its own
/// try held and holds it once (with room for one, it is not refused), and a release finds its
/// try gone and gives back nothing more.
#[tokio::test]
async fn retried_reservations_and_releases_count_each_try_once() {
    use sessions_api::store::faults::{Fault, Faults};
    use sessions_api::store::{LoginLimit, LoginLimitKey, LoginLimitStore};
    let faults = Faults::new();
    let env = TestEnv::seeded_with_faults(&faults).await;
    let store = &env.app.store;
    let key = LoginLimitKey::ip("198.51.100.23");
    let (window, now) = (300_000, now_ms());
    // Room for one: the first attempt takes it, the retry finds its own id.
    faults.fail_times("UpdateItem", Fault::AnswerLost, 1);
    let held = store
        .reserve_login_try(&key, now, LoginLimit { max: 1, block_ms: window })
        .await
        .unwrap()
        .expect("the retry holds its own try");
    assert_eq!(faults.requests("UpdateItem"), 2, "sent twice");
    assert_eq!(held_tries(&env).await, Some(1));
    assert_eq!(
        store.reserve_login_try(&key, now, LoginLimit { max: 1, block_ms: window }).await.unwrap(),
        None,
        "and the window is full"
    );
    // Two held, one given back with a lost answer: one try fewer, not two.
    let other = store
        .reserve_login_try(&key, now, LoginLimit { max: 2, block_ms: window })
        .await
        .unwrap()
        .expect("room for two");
    faults.fail_times("UpdateItem", Fault::AnswerLost, 1);
    store.release_login_try(&key, held).await.unwrap();
    assert_eq!(held_tries(&env).await, Some(1));
    // The last one, its delete's answer lost: the item is gone, and the retry is no error.
    faults.fail_times("DeleteItem", Fault::AnswerLost, 1);
    store.release_login_try(&key, other).await.unwrap();
    assert_eq!(held_tries(&env).await, None);
}

/// Behind CloudFront the source address is the edge's, shared by everyone it serves: the
/// per-address limit, the session's address and remembered 2FA take the viewer's address from
/// `CloudFront-Viewer-Address`. One attacker behind an edge blocks only itself. Not behind
/// CloudFront, the header is the client's own claim and is ignored.
#[tokio::test]
async fn behind_cloudfront_the_viewer_address_is_the_client() {
    let mut env = TestEnv::seeded().await;
    env.app.config.trust_cloudfront_geo = true;
    let edge = "130.176.0.1";
    let viewer = |addr: &'static str| move |req: Req| req.ip(edge).header("CloudFront-Viewer-Address", addr);
    let attacker = viewer("203.0.113.70:51234");
    for i in 0..50 {
        assert_reply(&env.send(Login, attacker(password_login(&format!("guess-{i}"), "x"))).await, 401, login_failed());
    }
    assert_reply(&env.send(Login, attacker(password_login("guester", DEMO_PASSWORD))).await, 401, blocked_for_ip());
    // Someone else behind the same edge signs in, and the session shows the viewer's address.
    let other = env.send(Login, viewer("2001:db8::7:443")(password_login("guester", DEMO_PASSWORD))).await;
    assert_eq!(current_ip(&env, &other).await, json!("2001:db8::7"));
    // Without CloudFront the header is anyone's to send: the source address counts.
    env.app.config.trust_cloudfront_geo = false;
    let spoofed = env.send(Login, viewer("198.51.100.99:1")(password_login("guester", DEMO_PASSWORD))).await;
    assert_eq!(current_ip(&env, &spoofed).await, json!(edge));
}

/// The address the session of a successful login shows.
async fn current_ip(env: &TestEnv, login: &ApiResponse) -> Value {
    let list = env.send(sessions_api::Endpoint::SessionsList, Req::new().auth(&credentials(login))).await.json_body();
    let current = list["sessions"].as_array().unwrap().iter().find(|s| s["current"] == json!(true)).unwrap();
    current["ip"].clone()
}
