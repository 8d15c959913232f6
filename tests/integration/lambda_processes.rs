//! Every function's compiled binary, run as Lambda runs it: started with
//! `AWS_LAMBDA_RUNTIME_API` pointing at a local Runtime API and the documented environment,
//! fed each of its events/ files, and expected to answer and keep running.
//! The binaries come from `cargo build --workspace --bins` (scripts/test runs it first).

use std::path::PathBuf;
use std::time::Duration;

use serde_json::{Value, json};
use sessions_api::Endpoint;
use sessions_api::response::ApiResponse;
use sessions_cli::runtime_api::{FunctionProcess, Outcome, RuntimeApi};

use crate::support::*;

const ANSWER_WITHIN: Duration = Duration::from_secs(30);

fn binary(function: &str) -> PathBuf {
    let dir = std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| repo_root().join("target"));
    let path = dir.join("debug").join(function);
    assert!(path.exists(), "{} is missing: build the functions first (cargo build --workspace --bins)", path.display());
    path
}

/// The environment a deployed function gets from template.yaml, pointed at this test's table.
fn environment(env: &TestEnv) -> Vec<(String, String)> {
    let pass = ["AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION"];
    let mut vars: Vec<(String, String)> =
        pass.iter().filter_map(|k| std::env::var(k).ok().map(|v| (k.to_string(), v))).collect();
    vars.push(("SESSIONS_TABLE".into(), env.app.store.table().into()));
    vars.push(("BCRYPT_COST".into(), "4".into()));
    vars.push(("RUST_LOG".into(), "info".into()));
    vars.push(("TRUST_CLOUDFRONT_GEO".into(), "false".into()));
    vars
}

/// Starts `function` against a fresh seeded table and sends it one event.
async fn run_once(function: &str, event: &Value) -> (TestEnv, Outcome, FunctionProcess) {
    let env = TestEnv::seeded().await;
    let api = RuntimeApi::start(function).await.unwrap();
    let mut process = FunctionProcess::spawn(&binary(function), function, &api, &environment(&env)).unwrap();
    let outcome = match api.invoke(event, ANSWER_WITHIN).await {
        Ok(outcome) => outcome,
        Err(e) => panic!("{function}: {e}; exited: {:?}; logs:\n{}", process.exited(), process.logs()),
    };
    assert_eq!(api.init_error(), None, "{function} reported an init error");
    assert!(api.first_poll().is_some());
    (env, outcome, process)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_function_binary_answers_its_events_as_a_lambda_process() {
    let mut ran = 0;
    for endpoint in Endpoint::ALL {
        let function = endpoint.function();
        let files = events_of(function);
        assert!(!files.is_empty(), "{function} has no events");
        for file in files {
            let name = file.file_name().unwrap().to_string_lossy().into_owned();
            let event: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
            let (_env, outcome, mut process) = run_once(function, &event).await;
            let Outcome::Response(raw) = outcome else { panic!("{name}: the function posted an error: {outcome:?}") };
            let resp = ApiResponse::from_lambda(&raw);
            let expected = if name == "user-session-revoke.json" { 204 } else { 200 };
            assert_eq!(resp.status, expected, "{name}: {}", resp.body);
            if endpoint == Endpoint::Console {
                // The page, kept by the browser and revalidated (tests/integration/console.rs).
                assert!(resp.body.starts_with("<!doctype html>"), "{name}");
                assert_eq!(resp.header("cache-control"), Some("no-cache"), "{name}");
            } else if expected == 200 {
                assert!(resp.json_body().is_object() || resp.json_body().is_array(), "{name}: {}", resp.body);
                assert_eq!(resp.header("cache-control"), Some("no-store"), "{name}");
            }
            // Still polling for the next event: it neither panicked nor exited.
            tokio::time::sleep(Duration::from_millis(50)).await;
            assert_eq!(process.exited(), None, "{name}: the process stopped; logs:\n{}", process.logs());
            let logs = process.stop().await;
            assert!(!logs.contains("panicked"), "{name}: {logs}");
            ran += 1;
        }
    }
    assert!(ran >= Endpoint::ALL.len());
}

/// The stream consumer, as a process: two TTL removals leave the counter, no record fails,
/// and the events it would publish are in its log.
#[tokio::test]
async fn the_stream_consumer_runs_as_a_lambda_process() {
    let event: Value =
        serde_json::from_str(&std::fs::read_to_string(repo_root().join("events/session-stream.json")).unwrap())
            .unwrap();
    let (env, outcome, process) = {
        let env = TestEnv::seeded().await;
        let api = RuntimeApi::start("session-stream").await.unwrap();
        let process =
            FunctionProcess::spawn(&binary("session-stream"), "session-stream", &api, &environment(&env)).unwrap();
        let outcome = api.invoke(&event, ANSWER_WITHIN).await.unwrap();
        (env, outcome, process)
    };
    assert_eq!(outcome, Outcome::Response(json!({"batchItemFailures": []})), "{}", process.logs());
    assert_eq!(env.app.store.session_count().await.unwrap(), 12);
    let logs = process.stop().await;
    for kind in ["Session Created", "Session Ended"] {
        assert!(logs.contains(kind), "{kind} not in {logs}");
    }
}

/// The authorizer, as a process: its events/ file allowed with the caller as context.
#[tokio::test]
async fn the_authorizer_runs_as_a_lambda_process() {
    let event: Value =
        serde_json::from_str(&std::fs::read_to_string(repo_root().join("events/authorizer.json")).unwrap()).unwrap();
    let env = TestEnv::seeded().await;
    let api = RuntimeApi::start("authorizer").await.unwrap();
    let process = FunctionProcess::spawn(&binary("authorizer"), "authorizer", &api, &environment(&env)).unwrap();
    let outcome = api.invoke(&event, ANSWER_WITHIN).await.unwrap();
    let Outcome::Response(decision) = outcome else { panic!("{outcome:?}: {}", process.logs()) };
    assert_eq!(decision["isAuthorized"], json!(true), "{decision}");
    assert_eq!(decision["context"]["sessionId"], json!("QoYYFw2t9oKks2niG"));
    process.stop().await;
}

/// A function whose environment is wrong stops at start-up naming the variable, and the
/// harness sees it: it never answers.
#[tokio::test]
async fn a_misconfigured_function_fails_at_init_and_the_harness_sees_it() {
    let env = TestEnv::empty().await;
    let api = RuntimeApi::start("sessions-list").await.unwrap();
    let mut vars = environment(&env);
    vars.push(("BCRYPT_COST".into(), "many".into()));
    let mut process = FunctionProcess::spawn(&binary("sessions-list"), "sessions-list", &api, &vars).unwrap();
    let answer = api.invoke(&json!({"rawPath": "/api/v1/sessions/list"}), Duration::from_secs(5)).await;
    assert!(answer.is_err(), "{answer:?}");
    let status = process.exited().expect("the process stopped");
    assert!(!status.success());
    assert!(process.logs().contains("BCRYPT_COST"), "{}", process.logs());
}

/// Each function's main.rs hands the runner its own endpoint and only its own serve
/// function, so its binary links no other endpoint's handler.
#[test]
fn each_binary_names_only_its_own_endpoint() {
    for endpoint in Endpoint::ALL {
        let function = endpoint.function();
        let main = std::fs::read_to_string(repo_root().join("functions").join(function).join("src/main.rs")).unwrap();
        let serve = format!("serve::{}", function.replace('-', "_"));
        assert!(main.contains(&serve), "{function}: main.rs does not name {serve}");
        assert_eq!(main.matches("serve::").count(), 1, "{function}");
        assert_eq!(main.matches("Endpoint::").count(), 1, "{function}");
        let variant = format!("{endpoint:?}");
        assert!(main.contains(&format!("Endpoint::{variant}")), "{function}: main.rs names another endpoint");
    }
}

/// The deployed profile unwinds on panic (cargo-lambda would default to abort): the runner's
/// guard and lambda_runtime turn a panic into an error answer only when it unwinds.
#[test]
fn the_release_profile_unwinds() {
    let manifest = std::fs::read_to_string(repo_root().join("Cargo.toml")).unwrap();
    let release = manifest.split("[profile.release]").nth(1).expect("a release profile");
    let release = release.split("\n[").next().unwrap();
    assert!(release.lines().any(|l| l.replace(' ', "") == "panic=\"unwind\""), "{release}");
}
