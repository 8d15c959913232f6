//! The admin tool as an operator runs it: the `sessions-admin` binary.

use std::process::Command;

use crate::support::*;

/// `seed-demo` writes known passwords and keys, so it checks that the endpoint is local and
/// then writes exactly there: told by `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS` to ignore the
/// endpoint variables, the SDK's provider chain would send it to DynamoDB in the region instead.
#[tokio::test]
async fn seed_demo_writes_where_it_checked_whatever_the_sdk_is_told() {
    let env = TestEnv::empty().await;
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map(std::path::PathBuf::from).unwrap_or(repo_root().join("target"));
    let out = Command::new(target.join("debug/sessions-admin"))
        .arg("seed-demo")
        .env("SESSIONS_TABLE", env.app.store.table())
        .env("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .expect("sessions-admin runs (cargo build --workspace --bins)");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(env.app.store.session_count().await.unwrap(), 14);
}
