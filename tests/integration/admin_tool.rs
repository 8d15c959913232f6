//! The admin tool as an operator runs it: the `sessions-admin` binary.

use std::process::Command;

use crate::support::*;

/// `seed-demo` writes known passwords and keys, so it checks that the endpoint is local and
/// then writes exactly there: told by `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS` to ignore the
/// endpoint variables, the SDK's provider chain would send it to DynamoDB in the region instead.
/// The `sessions-admin` binary this build made.
fn admin_tool() -> Command {
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map(std::path::PathBuf::from).unwrap_or(repo_root().join("target"));
    Command::new(target.join("debug/sessions-admin"))
}

#[tokio::test]
async fn seed_demo_writes_where_it_checked_whatever_the_sdk_is_told() {
    let env = TestEnv::empty().await;
    let out = admin_tool()
        .arg("seed-demo")
        .env("SESSIONS_TABLE", env.app.store.table())
        .env("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .expect("sessions-admin runs (cargo build --workspace --bins)");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(env.app.store.session_count().await.unwrap(), 14);
}

/// `login-block` shows an account's failed logins, `unblock-user` clears them.
#[tokio::test]
async fn login_block_shows_and_unblock_user_clears_an_accounts_block() {
    use sessions_api::Endpoint::Login;
    let env = TestEnv::seeded().await;
    for _ in 0..10 {
        env.send(Login, Req::new().json(serde_json::json!({"user": "test.test", "password": "wrong"}))).await;
    }
    let run = |command: &str| {
        let out = admin_tool()
            .args([command, "--user", "test.test"])
            .env("SESSIONS_TABLE", env.app.store.table())
            .output()
            .expect("sessions-admin runs (cargo build --workspace --bins)");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    let shown = run("login-block");
    assert_eq!((&shown["userId"], &shown["failures"]), (&serde_json::json!(TEST_USER_ID), &serde_json::json!(10)));
    assert!(shown["blockedUntil"].as_str().is_some_and(|t| t.ends_with('Z')), "{shown}");
    assert_eq!(run("unblock-user")["unblocked"], serde_json::json!(true));
    let cleared = run("login-block");
    assert_eq!((&cleared["failures"], &cleared["blockedUntil"]), (&serde_json::json!(0), &serde_json::Value::Null));
    let ok =
        env.send(Login, Req::new().json(serde_json::json!({"user": "test.test", "password": DEMO_PASSWORD}))).await;
    assert_eq!(ok.status, 200, "{}", ok.body);
}
