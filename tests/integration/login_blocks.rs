//! Failed-login blocks as Rocket.Chat counts them (docs/login-and-2fa.md#failed-logins): per
//! account across its names and per address, since the last successful login, until the last
//! failure plus each limit's own block time; Rocket.Chat's end-to-end scenarios for the feature
//! (`apps/meteor/tests/end-to-end/api/31-failed-login-attempts.ts`: 2 failures per user, 4 per
//! address, 3 s and 8 s) replayed on the handler's clock; and MonoCloud's routes with which an
//! administrator sees and clears them.

use serde_json::{Value, json};
use sessions_api::Endpoint::{Login, UserBlockedIps, UserGet, UserUnblock, UserUnblockIp};
use sessions_api::core::clock::{Millis, now_ms};
use sessions_api::rocketchat::errors::{ApiError, Blocked};
use sessions_api::rocketchat::handlers::login;
use sessions_api::store::{AuditLogReader, LogRange};
use sessions_cli::demo::DEMO_API_KEY;

use crate::limits::{blocked_for_ip, blocked_for_user, login_failed, password_login};
use crate::support::*;

const WRONG: &str = "demo-password-incorrect";

/// The outcome of one login, as the e2e test tells them apart.
#[derive(Debug, PartialEq)]
enum Outcome {
    Ok,
    Failed,
    BlockedUser,
    BlockedIp,
}

/// An environment with the e2e test's settings: 2 failures per user (3 s), 4 per address (8 s).
async fn e2e_env(by_ip: bool) -> TestEnv {
    let mut env = TestEnv::seeded().await;
    let c = &mut env.app.config;
    (c.login_failures_per_user, c.login_block_user_ms) = (2, 3_000);
    (c.login_failures_per_ip, c.login_block_ip_ms) = (if by_ip { 4 } else { 0 }, 8_000);
    env
}

async fn attempt(env: &TestEnv, user: &str, password: &str, ip: &str, at: Millis) -> Outcome {
    let req = http_request(&password_login(user, password).ip(ip).event(Login));
    // Boxed: two logins joined on a test thread's stack would overflow it in a debug build.
    match Box::pin(login::login(&env.app.store, &env.app.mailer, &env.app.config, &req, at)).await {
        Ok(_) => Outcome::Ok,
        Err(ApiError::LoginFailed) => Outcome::Failed,
        Err(ApiError::LoginBlocked(Blocked::User)) => Outcome::BlockedUser,
        Err(ApiError::LoginBlocked(Blocked::Ip)) => Outcome::BlockedIp,
        Err(e) => panic!("unexpected {e:?}"),
    }
}

/// The e2e test's `failMaxAttempts`: the user's limit of wrong passwords, sent together; each
/// must be an ordinary failure.
async fn fail_max(env: &TestEnv, user: &str, ip: &str, at: Millis) {
    let (a, b) = tokio::join!(attempt(env, user, WRONG, ip, at), attempt(env, user, WRONG, ip, at));
    assert_eq!((a, b), (Outcome::Failed, Outcome::Failed), "{user} at {at}");
}

const IP: &str = "198.51.100.31";
const USER: &str = "test.test";
const USER2: &str = "rodriq";
const USER_LOGIN: &str = "guester";

#[tokio::test]
async fn rocket_chat_blocks_by_user() {
    let env = e2e_env(false).await;
    let t = now_ms();
    // should block by User when the limit amount of failed attempts is reached
    fail_max(&env, USER, IP, t).await;
    assert_eq!(attempt(&env, USER, DEMO_PASSWORD, IP, t).await, Outcome::BlockedUser);
    // should unblock user after block time
    assert_eq!(attempt(&env, USER, DEMO_PASSWORD, IP, t + 2_999).await, Outcome::BlockedUser);
    assert_eq!(attempt(&env, USER, DEMO_PASSWORD, IP, t + 3_000).await, Outcome::Ok);
    // should reset counter of failed attempts after a successful login
    let t = t + 10_000;
    fail_max(&env, USER, IP, t).await;
    assert_eq!(attempt(&env, USER, DEMO_PASSWORD, IP, t).await, Outcome::BlockedUser);
    let t = t + 3_000;
    assert_eq!(attempt(&env, USER, WRONG, IP, t).await, Outcome::Failed);
    assert_eq!(attempt(&env, USER, DEMO_PASSWORD, IP, t).await, Outcome::Ok);
    fail_max(&env, USER, IP, t).await;
    // should count failed attempts by user
    assert_eq!(attempt(&env, USER2, WRONG, IP, t).await, Outcome::Failed);
    assert_eq!(attempt(&env, USER2, DEMO_PASSWORD, IP, t).await, Outcome::Ok);
}

#[tokio::test]
async fn rocket_chat_blocks_by_ip_with_one_user() {
    let env = e2e_env(true).await;
    let t = now_ms();
    fail_max(&env, USER, IP, t).await;
    // The user's block has passed; the address's four failures have not.
    fail_max(&env, USER, IP, t + 3_000).await;
    assert_eq!(attempt(&env, USER, DEMO_PASSWORD, IP, t + 3_000).await, Outcome::BlockedIp);
}

#[tokio::test]
async fn rocket_chat_blocks_by_ip_with_many_users_and_unblocks_after_its_time() {
    let env = e2e_env(true).await;
    let t = now_ms();
    fail_max(&env, USER, IP, t).await;
    fail_max(&env, USER2, IP, t).await;
    assert_eq!(attempt(&env, USER_LOGIN, DEMO_PASSWORD, IP, t).await, Outcome::BlockedIp);
    // Blocked until the last failure plus 8 s, whatever the users' 3 s say.
    assert_eq!(attempt(&env, USER_LOGIN, DEMO_PASSWORD, IP, t + 7_999).await, Outcome::BlockedIp);
    assert_eq!(attempt(&env, USER_LOGIN, DEMO_PASSWORD, IP, t + 8_000).await, Outcome::Ok);
}

#[tokio::test]
async fn rocket_chat_resets_an_address_after_a_successful_login() {
    let env = e2e_env(true).await;
    let t = now_ms();
    fail_max(&env, USER, IP, t).await;
    fail_max(&env, USER2, IP, t).await;
    let t = t + 8_000;
    assert_eq!(attempt(&env, USER_LOGIN, WRONG, IP, t).await, Outcome::Failed);
    assert_eq!(attempt(&env, USER_LOGIN, DEMO_PASSWORD, IP, t).await, Outcome::Ok);
    // Four more are failures, not blocks: the success cleared the address's count.
    fail_max(&env, USER, IP, t).await;
    fail_max(&env, USER2, IP, t).await;
    assert_eq!(attempt(&env, USER_LOGIN, DEMO_PASSWORD, IP, t).await, Outcome::BlockedIp);
}

/// Failures that keep coming less than the block time apart keep counting: the block is the
/// last failure plus the block time.
#[tokio::test]
async fn each_failure_extends_the_count_until_the_block_time_passes_without_one() {
    let env = e2e_env(false).await;
    let t = now_ms();
    assert_eq!(attempt(&env, USER, WRONG, IP, t).await, Outcome::Failed);
    assert_eq!(attempt(&env, USER, WRONG, IP, t + 2_500).await, Outcome::Failed);
    assert_eq!(attempt(&env, USER, DEMO_PASSWORD, IP, t + 5_000).await, Outcome::BlockedUser);
    assert_eq!(attempt(&env, USER, DEMO_PASSWORD, IP, t + 5_500).await, Outcome::Ok);
}

fn user_path(suffix: &str) -> String {
    format!("/api/users/{TEST_USER_ID}{suffix}")
}

async fn get_user(env: &TestEnv) -> Value {
    let resp = mc_call(env, UserGet, &user_path(""), "", None, Some(DEMO_API_KEY)).await;
    assert_eq!(resp.status, 200, "{}", resp.body);
    resp.json_body()
}

#[tokio::test]
async fn wrong_passwords_over_a_username_and_its_email_block_the_account_until_an_admin_clears_it() {
    let env = TestEnv::seeded().await;
    for i in 0..10 {
        let name = if i % 2 == 0 { "test.test" } else { "Test.Test@Example.com" };
        assert_reply(&env.send(Login, password_login(name, "wrong")).await, 401, login_failed());
    }
    for name in ["test.test", "test.test@example.com"] {
        assert_reply(&env.send(Login, password_login(name, DEMO_PASSWORD)).await, 401, blocked_for_user());
    }
    // The administrator sees the block: ten failures, until the last plus five minutes.
    let user = get_user(&env).await;
    assert_eq!(user["failure_count"], json!(10), "{user}");
    let until = user["block_until"].as_i64().expect("blocked");
    let expected = (now_ms() + env.app.config.login_block_user_ms) / 1000;
    assert!((expected - 5..=expected + 1).contains(&until), "{until} vs {expected}");
    // and clears it.
    let resp = mc_call(&env, UserUnblock, &user_path("/unblock"), "", None, Some(DEMO_API_KEY)).await;
    assert_eq!(resp.status, 200, "{}", resp.body);
    let body = resp.json_body();
    assert_eq!(
        (&body["user_id"], &body["failure_count"], &body["block_until"]),
        (&json!(TEST_USER_ID), &json!(0), &json!(null))
    );
    assert_eq!(env.send(Login, password_login("test.test@example.com", DEMO_PASSWORD)).await.status, 200);
    // The unblock is in the audit log, by the key.
    let range = LogRange { user_id: Some(TEST_USER_ID.into()), from: 0, to: i64::MAX / 2000, max_rows: 1000 };
    let entries = env.app.store.logs(&range).await.unwrap().unwrap();
    let unblock = entries.iter().find(|e| e.code == "user_account_unblocked").expect("logged");
    assert_eq!((unblock.actor.kind.as_str(), &unblock.details), ("api_key", &json!({"reason": "lockout_reset"})));
}

#[tokio::test]
async fn an_admin_sees_and_clears_the_blocked_addresses_of_a_users_sign_ins() {
    let mut env = TestEnv::seeded().await;
    env.app.config.login_failures_per_ip = 3;
    let (bad, other) = ("203.0.113.80", "203.0.113.81");
    for name in ["test.test", "rodriq", "guester"] {
        assert_reply(&env.send(Login, password_login(name, "wrong").ip(bad)).await, 401, login_failed());
    }
    assert_reply(&env.send(Login, password_login("test.test", DEMO_PASSWORD).ip(bad)).await, 401, blocked_for_ip());
    assert_eq!(env.send(Login, password_login("test.test", DEMO_PASSWORD).ip(other)).await.status, 200);
    let (list_path, unblock_path) = (user_path("/blocked_ips"), user_path("/blocked_ips/unblock"));
    let list = |query: &'static str| mc_call(&env, UserBlockedIps, &list_path, query, None, Some(DEMO_API_KEY));
    let resp = list("").await;
    assert_eq!(resp.status, 200, "{}", resp.body);
    let rows = resp.json_body();
    // Only the blocked address; its count is the address's, the attempts are test.test's.
    assert_eq!(rows.as_array().map(Vec::len), Some(1), "{rows}");
    assert_eq!(
        (&rows[0]["ip"], &rows[0]["failure_count"], &rows[0]["sign_in_attempts_count"]),
        (&json!(bad), &json!(3), &json!(2))
    );
    assert!(rows[0]["block_until"].as_i64().is_some_and(|u| u > now_ms() / 1000), "{rows}");
    let pages: Value = serde_json::from_str(resp.header("x-pagination").unwrap()).unwrap();
    assert_eq!(pages["total_count"], json!(1));
    assert_eq!(list("page=2&size=1").await.json_body(), json!([]));
    // Clearing one address by name; then "all" clears whatever else the user's sign-ins used.
    let unblock = |body: &'static str| mc_call(&env, UserUnblockIp, &unblock_path, "", Some(body), Some(DEMO_API_KEY));
    assert_eq!(unblock(r#"{"ip_address":"203.0.113.80"}"#).await.status, 200);
    assert_eq!(list("").await.json_body(), json!([]));
    assert_eq!(env.send(Login, password_login("test.test", DEMO_PASSWORD).ip(bad)).await.status, 200);
    for name in ["rodriq", "guester", "rodriq"] {
        assert_eq!(env.send(Login, password_login(name, "wrong").ip(bad)).await.status, 401);
    }
    assert_eq!(list("").await.json_body().as_array().map(Vec::len), Some(1));
    assert_eq!(unblock(r#"{"ip_address":"all"}"#).await.status, 200);
    assert_eq!(list("").await.json_body(), json!([]));
    let codes: Vec<String> =
        env.app.store.latest_logs(TEST_USER_ID, 0, 100).await.unwrap().into_iter().map(|e| e.code).collect();
    assert!(
        codes.contains(&"user_account_ip_unblocked".into())
            && codes.contains(&"user_account_all_ip_blocks_removed".into()),
        "{codes:?}"
    );
}

#[tokio::test]
async fn lockout_routes_answer_their_errors_exactly_and_change_nothing() {
    let env = TestEnv::seeded().await;
    for _ in 0..10 {
        env.send(Login, password_login("test.test", "wrong")).await;
    }
    let before = env.snapshot().await;
    let k = Some(DEMO_API_KEY);
    let unknown = "/api/users/nobody12345678901";
    let not_found = json!({"type": "https://httpstatuses.io/404", "title": "Not Found", "status": 404, "detail": "User not found", "traceId": "t"});
    for (endpoint, path, body) in [
        (UserGet, unknown.to_string(), None),
        (UserUnblock, format!("{unknown}/unblock"), None),
        (UserBlockedIps, format!("{unknown}/blocked_ips"), None),
        (UserUnblockIp, format!("{unknown}/blocked_ips/unblock"), Some(r#"{"ip_address":"all"}"#)),
    ] {
        assert_eq!(problem(&mc_call(&env, endpoint, &path, "", body, k).await, 404), not_found, "{path}");
        let resp = mc_call(&env, endpoint, &path, "", body, None).await;
        assert_eq!(resp.status, 401, "{path}: {}", resp.body);
    }
    let unblock_path = user_path("/blocked_ips/unblock");
    let unblock_ip = |body| mc_call(&env, UserUnblockIp, &unblock_path, "", Some(body), k);
    let bad = problem(&unblock_ip("[1]").await, 400);
    assert_eq!(bad["detail"], json!("The request body must be a JSON object."));
    for (body, message) in [
        ("{}", "The ip_address field is required."),
        (r#"{"ip_address":"10.0.0.300"}"#, "The field ip_address must be an IP address or 'all'."),
    ] {
        let invalid = problem(&unblock_ip(body).await, 422);
        assert_eq!(invalid["errors"], json!({"ip_address": [message]}), "{body}");
    }
    let sorted = mc_call(&env, UserBlockedIps, &user_path("/blocked_ips"), "sort=ip:1&filter=ip:1", None, k).await;
    let invalid = problem(&sorted, 422);
    assert_eq!(
        invalid["errors"],
        json!({"filter": ["Blocked addresses take no filter."],
               "sort": ["The sort key must be one of block_until, last_sign_in_attempt, last_sign_in_success."]})
    );
    assert_eq!(env.snapshot().await, before);
    // The account is still blocked.
    assert_reply(&env.send(Login, password_login("test.test", DEMO_PASSWORD)).await, 401, blocked_for_user());
}

/// With a second factor, a right password is checked against the account's block before the
/// code is: a blocked account answers blocked, not totp-required, and asks for no code.
#[tokio::test]
async fn a_blocked_account_with_a_second_factor_is_blocked_before_its_code() {
    let env = TestEnv::seeded().await;
    for _ in 0..10 {
        assert_reply(&env.send(Login, password_login("admin", "wrong")).await, 401, login_failed());
    }
    let with_code = Req::new().json(json!({"user": "admin", "password": DEMO_PASSWORD, "code": admin_totp(now_ms())}));
    assert_reply(&env.send(Login, with_code).await, 401, blocked_for_user());
    assert_reply(&env.send(Login, password_login("admin", DEMO_PASSWORD)).await, 401, blocked_for_user());
    let resp =
        mc_call(&env, UserUnblock, &format!("/api/users/{ADMIN_ID}/unblock"), "", None, Some(DEMO_API_KEY)).await;
    assert_eq!(resp.status, 200, "{}", resp.body);
    let no_code = env.send(Login, password_login("admin", DEMO_PASSWORD)).await;
    assert_eq!(
        (no_code.status, no_code.json_body()["errorType"].as_str()),
        (400, Some("totp-required")),
        "{}",
        no_code.body
    );
}
