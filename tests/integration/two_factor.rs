//! Step-up 2FA on the admin routes: totp (with replay and backup codes), password and
//! email methods, the remember window, and the wrong-code limit.

use serde_json::{Value, json};
use sessions_api::Endpoint::{SessionsInfoAdmin, SessionsListAll};
use sessions_api::core::clock::now_ms;
use sessions_api::rocketchat::handlers::{ApiError, admin};
use sessions_api::store::OutboxStore;

use crate::support::*;

fn admin_auth() -> (String, String) {
    demo_auth(ADMIN_ID, ADMIN_SESSION)
}

fn required(method: &str, generated: bool, available: &[&str]) -> Value {
    json!({"success": false, "error": "TOTP Required [totp-required]", "errorType": "totp-required",
           "details": {"method": method, "codeGenerated": generated, "availableMethods": available}})
}

fn invalid(method: &str) -> Value {
    json!({"success": false, "error": "TOTP Invalid [totp-invalid]", "errorType": "totp-invalid",
           "details": {"method": method, "codeGenerated": false}})
}

fn max_attempts(method: &str) -> Value {
    json!({"success": false, "error": "TOTP Maximun Attempts Reached [totp-max-attempts]", "errorType": "totp-max-attempts",
           "details": {"method": method}})
}

/// A code that is not the current one (nor a neighbour step's).
fn wrong_totp(now: i64) -> String {
    let near: Vec<String> = (-1..=1).map(|d| admin_totp(now + d * 30_000)).collect();
    (0..1_000_000).map(|n| format!("{n:06}")).find(|c| !near.contains(c)).unwrap()
}

#[tokio::test]
async fn totp_required_invalid_then_accepted_once() {
    let env = TestEnv::seeded().await;
    let resp = env.send(SessionsListAll, Req::new().auth(&admin_auth())).await;
    assert_reply(&resp, 400, required("totp", false, &["totp"]));
    let resp = env.send(SessionsListAll, Req::new().auth(&admin_auth()).code(&wrong_totp(now_ms()))).await;
    assert_reply(&resp, 400, invalid("totp"));

    let code = admin_totp(now_ms());
    let resp = env.send(SessionsListAll, Req::new().auth(&admin_auth()).code(&code)).await;
    assert_eq!(resp.status, 200, "{}", resp.body);

    // The same code on another token of the same user is a replay.
    let other = env.login(ADMIN_ID, "Chrome", "Windows", now_ms()).await;
    let other = (ADMIN_ID.to_string(), other.token);
    let resp = env.send(SessionsListAll, Req::new().auth(&other).code(&code)).await;
    assert_reply(&resp, 400, invalid("totp"));
}

#[tokio::test]
async fn a_success_is_remembered_for_the_same_token_agent_and_ip_only() {
    let env = TestEnv::seeded().await;
    let base = || Req::new().auth(&admin_auth()).header("user-agent", "curl/8.5").ip("203.0.113.9");
    assert_eq!(env.send(SessionsListAll, base().code(&admin_totp(now_ms()))).await.status, 200);
    // No code needed within the window, from the same client.
    assert_eq!(env.send(SessionsListAll, base()).await.status, 200);
    assert_eq!(env.send(SessionsInfoAdmin, base().param("sessionId", "uBNL9dTjJ4s6Pjp4K")).await.status, 200);
    // Another IP, or another user agent, is asked again.
    let from_elsewhere = Req::new().auth(&admin_auth()).header("user-agent", "curl/8.5").ip("203.0.113.10");
    assert_reply(&env.send(SessionsListAll, from_elsewhere).await, 400, required("totp", false, &["totp"]));
    let other_agent = Req::new().auth(&admin_auth()).header("user-agent", "Firefox").ip("203.0.113.9");
    assert_reply(&env.send(SessionsListAll, other_agent).await, 400, required("totp", false, &["totp"]));
}

#[tokio::test]
async fn the_remember_window_ends() {
    let env = TestEnv::seeded().await;
    let now = now_ms();
    let req = |code: Option<&str>| {
        let r = Req::new().auth(&admin_auth()).param("count", "1");
        let r = if let Some(c) = code { r.code(c) } else { r };
        http_request(&r.event(SessionsListAll))
    };
    let (store, mailer, config) = (&env.app.store, &env.app.mailer, &env.app.config);
    admin::list_all(store, mailer, config, &req(Some(&admin_totp(now))), now).await.unwrap();
    let within = now + config.two_factor_remember_secs * 1000 - 1000;
    assert!(admin::list_all(store, mailer, config, &req(None), within).await.is_ok());
    let after = now + config.two_factor_remember_secs * 1000 + 1000;
    let err = admin::list_all(store, mailer, config, &req(None), after).await.unwrap_err();
    assert!(
        matches!(err, sessions_api::rocketchat::handlers::ApiError::TotpRequired { method: "totp", .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn backup_codes_work_once() {
    let env = TestEnv::seeded().await;
    let enrolment = sessions_cli::admin::enable_totp(&env.app.store, "admin", None).await.unwrap();
    let code = enrolment.backup_codes[3].clone();
    assert_eq!(env.send(SessionsListAll, Req::new().auth(&admin_auth()).code(&code)).await.status, 200);
    let other = env.login(ADMIN_ID, "Chrome", "Windows", now_ms()).await;
    let resp = env.send(SessionsListAll, Req::new().auth(&(ADMIN_ID.to_string(), other.token)).code(&code)).await;
    assert_reply(&resp, 400, invalid("totp"));
}

#[tokio::test]
async fn password_method_takes_the_sha256_of_the_password() {
    let env = TestEnv::seeded().await;
    let roxie = demo_auth(ROXIE_ID, ROXIE_SESSION);
    assert_reply(&env.send(SessionsListAll, Req::new().auth(&roxie)).await, 400, required("password", false, &[]));
    let wrong = env.send(SessionsListAll, Req::new().auth(&roxie).code(&password_code("not-the-password"))).await;
    assert_reply(&wrong, 400, invalid("password"));
    let plain = env.send(SessionsListAll, Req::new().auth(&roxie).code(DEMO_PASSWORD)).await;
    assert_reply(&plain, 400, invalid("password"));
    let ok =
        env.send(SessionsListAll, Req::new().auth(&roxie).code(&password_code(DEMO_PASSWORD).to_uppercase())).await;
    assert_eq!(ok.status, 200, "{}", ok.body);
}

#[tokio::test]
async fn email_codes_are_generated_sent_and_accepted() {
    let env = TestEnv::seeded().await;
    sessions_cli::admin::set_email_two_factor(&env.app.store, "testroxie", true).await.unwrap();
    let roxie = demo_auth(ROXIE_ID, ROXIE_SESSION);
    let resp = env.send(SessionsListAll, Req::new().auth(&roxie)).await;
    assert_reply(&resp, 400, required("email", true, &["email"]));
    let mail = env.app.store.outbox(1).await.unwrap();
    assert_eq!(mail[0].to, "testroxie@example.com");
    let code = latest_email_code(&env).await;
    assert_eq!(code.len(), 6);
    let resp = env.send(SessionsListAll, Req::new().auth(&roxie).code(&code)).await;
    assert_eq!(resp.status, 200, "{}", resp.body);
    // Used up: the same code again (from another client, so not remembered) fails.
    let resp = env.send(SessionsListAll, Req::new().auth(&roxie).ip("192.0.2.1").code(&code)).await;
    assert_reply(&resp, 400, invalid("email"));
}

#[tokio::test]
async fn five_wrong_codes_lock_until_the_window_passes() {
    let env = TestEnv::seeded().await;
    sessions_cli::admin::set_email_two_factor(&env.app.store, "testroxie", true).await.unwrap();
    let roxie = demo_auth(ROXIE_ID, ROXIE_SESSION);
    assert_eq!(env.send(SessionsListAll, Req::new().auth(&roxie)).await.status, 400);
    let code = latest_email_code(&env).await;
    let wrong = if code == "000000" { "111111" } else { "000000" };
    for _ in 0..5 {
        assert_reply(&env.send(SessionsListAll, Req::new().auth(&roxie).code(wrong)).await, 400, invalid("email"));
    }
    // Even the right code is refused now.
    let resp = env.send(SessionsListAll, Req::new().auth(&roxie).code(&code)).await;
    assert_reply(&resp, 400, max_attempts("email"));

    // Sixteen minutes later the window has passed; a fresh code works.
    let later = now_ms() + 16 * 60 * 1000;
    let (store, mailer, config) = (&env.app.store, &env.app.mailer, &env.app.config);
    let req = |code: Option<&str>| {
        let r = Req::new().auth(&roxie);
        http_request(&if let Some(c) = code { r.code(c) } else { r }.event(SessionsListAll))
    };
    let err = admin::list_all(store, mailer, config, &req(None), later).await.unwrap_err();
    assert!(
        matches!(err, sessions_api::rocketchat::handlers::ApiError::TotpRequired { code_generated: true, .. }),
        "{err:?}"
    );
    let fresh = latest_email_code(&env).await;
    assert!(admin::list_all(store, mailer, config, &req(Some(&fresh)), later).await.is_ok());
}

/// The wrong-code limit comes from the configuration (TWO_FACTOR_MAX_FAILURES,
/// TWO_FACTOR_FAILURE_WINDOW_MINUTES), like the login limits.
#[tokio::test]
async fn the_wrong_code_limit_and_its_window_are_configured() {
    let mut env = TestEnv::seeded().await;
    env.app.config.two_factor_max_failures = 2;
    env.app.config.two_factor_failure_window_ms = 2 * 60 * 1000;
    let now = now_ms();
    let wrong = wrong_totp(now);
    let req = |code: &str| http_request(&Req::new().auth(&admin_auth()).code(code).event(SessionsListAll));
    let (store, mailer, config) = (&env.app.store, &env.app.mailer, &env.app.config);
    for _ in 0..2 {
        let err = admin::list_all(store, mailer, config, &req(&wrong), now).await.unwrap_err();
        assert!(matches!(err, ApiError::TotpInvalid { method: "totp" }), "{err:?}");
    }
    let err = admin::list_all(store, mailer, config, &req(&admin_totp(now)), now).await.unwrap_err();
    assert!(matches!(err, ApiError::TotpMaxAttempts { method: "totp" }), "the third code is refused: {err:?}");
    // Three minutes later the two-minute window has passed.
    let later = now + 3 * 60 * 1000;
    assert!(admin::list_all(store, mailer, config, &req(&admin_totp(later)), later).await.is_ok());
}

#[tokio::test]
async fn the_method_header_picks_among_enabled_methods() {
    let env = TestEnv::seeded().await;
    sessions_cli::admin::set_email_two_factor(&env.app.store, "admin", true).await.unwrap();
    let resp = env.send(SessionsListAll, Req::new().auth(&admin_auth()).header("x-2fa-method", "email")).await;
    assert_reply(&resp, 400, required("email", true, &["totp", "email"]));
    let resp = env.send(SessionsListAll, Req::new().auth(&admin_auth()).header("x-2fa-method", "password")).await;
    assert_reply(&resp, 400, required("totp", false, &["totp", "email"]));
}

/// The SDK retries a write whose answer was lost: the retry of a code's use that DynamoDB
/// applied finds its own mark and is the success it was (a backup code is not lost), while
/// a replay by another request is still refused. TOTP steps, backup codes and email codes.
#[tokio::test]
async fn a_code_whose_use_was_applied_but_whose_answer_was_lost_still_works_once() {
    use sessions_api::core::ids::sha256_hex;
    use sessions_api::core::totp;
    use sessions_api::store::TwoFactorStore;
    use sessions_api::store::faults::{Fault, Faults};
    let faults = Faults::new();
    let env = TestEnv::seeded_with_faults(&faults).await;
    let store = &env.app.store;
    // A step ahead of any the demo used.
    let later = now_ms() + 120_000;
    let step = totp::verify(DEMO_ADMIN_TOTP_SECRET, &admin_totp(later), later / 1000).expect("a valid code");
    faults.fail_times("UpdateItem", Fault::AnswerLost, 1);
    assert!(store.use_totp_step(ADMIN_ID, step).await.unwrap(), "the retry finds its own use");
    assert_eq!(faults.requests("UpdateItem"), 2, "sent twice");
    assert!(!store.use_totp_step(ADMIN_ID, step).await.unwrap(), "another request's replay is refused");

    let enrolment = sessions_cli::admin::enable_totp(store, "admin", None).await.unwrap();
    let hash = sha256_hex(&enrolment.backup_codes[0].to_ascii_lowercase());
    faults.fail_times("UpdateItem", Fault::AnswerLost, 1);
    assert!(store.use_backup_code(ADMIN_ID, &hash).await.unwrap(), "the retry finds its own use");
    assert!(!store.use_backup_code(ADMIN_ID, &hash).await.unwrap(), "and the code is gone");

    let now = now_ms();
    let email =
        sessions_api::store::EmailCode { code_hash: sha256_hex("123456"), expires_at: now + 60_000, attempts: 0 };
    store.put_email_code(ADMIN_ID, &email).await.unwrap();
    faults.fail_times("UpdateItem", Fault::AnswerLost, 1);
    assert!(store.consume_email_code(ADMIN_ID, &email.code_hash, now, 5).await.unwrap(), "the retry finds its own use");
    assert!(!store.consume_email_code(ADMIN_ID, &email.code_hash, now, 5).await.unwrap(), "and it works once");
}
