//! Property-based tests of every parser (proptest, stable toolchain): the list query, the
//! MonoCloud query, login bodies, path segments, User-Agent parsing, the packed list row and
//! event conversion. Properties: never a panic; every rejection is the documented error;
//! accepted inputs round-trip. Cases per property: `PROPERTY_CASES` (default 2000); each
//! property appends its count to `$CARGO_TARGET_TMPDIR/property-cases.txt` for CI's log.

use std::collections::HashMap;
use std::io::Write as _;

use proptest::prelude::*;
use proptest::test_runner::{Config as RunConfig, TestRunner};
use serde_json::{Value, json};
use sessions_api::Config;
use sessions_api::Endpoint;
use sessions_api::core::device::parse_user_agent;
use sessions_api::core::ids::sha256_hex;
use sessions_api::core::model::{Device, Os, Session, UserRef};
use sessions_api::core::order::{Direction, SortKey};
use sessions_api::monocloud::errors::{McError, problem};
use sessions_api::monocloud::query::parse_list_params;
use sessions_api::request::{ApiRequest, parse_query, sanitize_event};
use sessions_api::rocketchat::errors::{ApiError, error_body};
use sessions_api::rocketchat::login_body::{LoginRequest, parse_login};
use sessions_api::rocketchat::query::parse_list_query;
use sessions_api::store::session_row;

fn cases() -> u32 {
    std::env::var("PROPERTY_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(2000)
}

/// Runs `test` on `cases()` inputs of `strategy` and records the count.
fn check<S: Strategy>(name: &str, strategy: S, test: impl Fn(S::Value) -> Result<(), TestCaseError>)
where
    S::Value: std::fmt::Debug,
{
    let n = cases();
    let mut runner = TestRunner::new(RunConfig { cases: n, failure_persistence: None, ..RunConfig::default() });
    if let Err(e) = runner.run(&strategy, test) {
        panic!("{name}: {e}");
    }
    let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("property-cases.txt");
    if let Ok(mut f) = std::fs::OpenOptions::new().create(true).append(true).open(path) {
        let _ = writeln!(f, "property {name}: {n} cases, no failure");
    }
}

/// Any text, weighted toward the characters parsers care about.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![any::<String>(), "[-0-9a-z{}\\[\\]\":,.%+&=#/ \\\\?*^$()|\t\n]{0,40}", "[\\PC]{0,12}",]
}

/// One of `known` or a name from `other` (a regex).
fn names(known: &'static [&'static str], other: &'static str) -> impl Strategy<Value = String> {
    prop_oneof![prop::sample::select(known).prop_map(String::from), other]
}

fn rocketchat_400(e: &ApiError) -> Result<(), TestCaseError> {
    let (status, body) = error_body(e);
    prop_assert_eq!(status, 400);
    prop_assert_eq!(&body["success"], &json!(false));
    prop_assert!(body["error"].is_string(), "{}", body);
    Ok(())
}

#[test]
fn list_query_never_panics_and_rejects_with_a_documented_400() {
    let pairs = prop::collection::vec((names(&["offset", "count", "filter", "sort"], "[a-z]{1,6}"), text()), 0..5);
    let config = Config::default();
    check("list query: arbitrary parameters", pairs, |pairs| {
        if let Err(e) = parse_list_query(&pairs, &config) {
            rocketchat_400(&ApiError::from(e))?;
        }
        Ok(())
    });
}

#[test]
fn valid_list_queries_round_trip() {
    let keys = prop::sample::subsequence(SortKey::ALL.to_vec(), 0..=3).prop_shuffle();
    let sort = keys.prop_flat_map(|keys| {
        let n = keys.len();
        (Just(keys), prop::collection::vec(any::<bool>(), n))
    });
    let config = Config::default();
    let strategy = (0..=config.list_offset_max, 0usize..100_000, sort, "[a-z]{0,8}");
    check("list query: valid parameters round-trip", strategy, |(offset, count, (keys, up), filter)| {
        let sort: serde_json::Map<String, Value> =
            keys.iter().zip(&up).map(|(k, u)| (k.name().to_string(), json!(if *u { 1 } else { -1 }))).collect();
        let pairs = vec![
            ("offset".to_string(), offset.to_string()),
            ("count".to_string(), count.to_string()),
            ("filter".to_string(), filter.clone()),
            ("sort".to_string(), Value::Object(sort).to_string()),
        ];
        let q = parse_list_query(&pairs, &config).map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
        prop_assert_eq!(q.offset, offset);
        prop_assert_eq!(q.count, count.min(config.list_count_max));
        prop_assert_eq!(q.filter.is_some(), !filter.is_empty());
        let want: Vec<(SortKey, Direction)> = if keys.is_empty() {
            vec![(SortKey::LoginAt, Direction::Descending)]
        } else {
            keys.iter()
                .zip(&up)
                .map(|(k, u)| (*k, if *u { Direction::Ascending } else { Direction::Descending }))
                .collect()
        };
        prop_assert_eq!(q.sort.0, want);
        Ok(())
    });
}

#[test]
fn monocloud_query_never_panics_and_rejects_with_a_problem() {
    let pairs = prop::collection::vec((names(&["page", "size", "sort", "client_id"], "[a-z_]{1,8}"), text()), 0..5);
    check("MonoCloud query: arbitrary parameters", pairs, |pairs| {
        if let Err(e) = parse_list_params(&pairs) {
            prop_assert!(matches!(e, McError::BadRequest(_) | McError::Validation(_)), "{e:?}");
            let (status, body) = problem(&e, "trace");
            prop_assert!(status == 400 || status == 422, "{status}");
            prop_assert_eq!(&body["status"], &json!(status));
            prop_assert!(body["title"].is_string() && body["type"].is_string(), "{}", body);
        }
        Ok(())
    });
}

#[test]
fn valid_monocloud_queries_round_trip() {
    let key = prop_oneof![Just("session_id"), Just("initiated_at"), Just("expires_at"), Just("last_updated")];
    let strategy = (1..=i32::MAX as i64, 1..=100i64, key, any::<bool>(), "[A-Za-z0-9_-]{0,20}");
    check("MonoCloud query: valid parameters round-trip", strategy, |(page, size, key, up, client)| {
        let pairs = vec![
            ("page".to_string(), page.to_string()),
            ("size".to_string(), size.to_string()),
            ("sort".to_string(), format!("{key}:{}", if up { 1 } else { -1 })),
            ("client_id".to_string(), client.clone()),
        ];
        let p = parse_list_params(&pairs).map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
        prop_assert_eq!((p.page as i64, p.size as i64), (page, size));
        prop_assert_eq!(p.sort.1, if up { Direction::Ascending } else { Direction::Descending });
        prop_assert_eq!(format!("{:?}", p.sort.0).to_lowercase(), key.replace('_', ""));
        prop_assert_eq!(p.client_id, (!client.is_empty()).then_some(client));
        Ok(())
    });
}

fn login_request(content_type: &str, body: Vec<u8>) -> ApiRequest {
    ApiRequest::new(
        http::Request::builder()
            .header("content-type", content_type)
            .body(lambda_http::Body::from(body))
            .expect("request"),
    )
}

/// JSON values of any shape, with login's field names likely.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(Value::from),
        text().prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        let key = prop_oneof![
            Just("user".to_string()),
            Just("username".to_string()),
            Just("email".to_string()),
            Just("password".to_string()),
            Just("digest".to_string()),
            Just("algorithm".to_string()),
            Just("resume".to_string()),
            Just("code".to_string()),
            Just("client_id".to_string()),
            "[a-z]{1,5}",
        ];
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(key, inner, 0..5).prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

#[test]
fn login_bodies_never_panic_and_reject_with_a_documented_400() {
    let body = prop_oneof![json_value().prop_map(|v| v.to_string().into_bytes()), any::<Vec<u8>>()];
    let content_type =
        prop_oneof![Just("application/json"), Just("application/json; charset=utf-8"), Just("text/plain")];
    check("login: arbitrary bodies", (content_type, body), |(content_type, body)| {
        if let Err(e) = parse_login(&login_request(content_type, body)) {
            prop_assert!(matches!(e, ApiError::InvalidParams(_)), "{e:?}");
            rocketchat_400(&e)?;
        }
        Ok(())
    });
}

#[test]
fn valid_login_bodies_round_trip() {
    let name = "[A-Za-z0-9._-]{1,30}";
    let form = 0..4usize;
    let password = "[\\PC]{1,40}";
    check("login: valid bodies round-trip", (name, form, password, any::<bool>()), |(name, form, password, digest)| {
        let password_value =
            if digest { json!({"digest": sha256_hex(&password), "algorithm": "sha-256"}) } else { json!(password) };
        let body = match form {
            0 => json!({"user": name, "password": password_value}),
            1 => json!({"username": name, "password": password_value}),
            2 => json!({"user": {"username": name}, "password": password_value}),
            _ => json!({"user": name, "password": password_value, "code": "123456", "client_id": "c1"}),
        };
        match parse_login(&login_request("application/json", body.to_string().into_bytes())) {
            Ok(LoginRequest::Password(c)) => {
                prop_assert_eq!(&c.user, &name);
                prop_assert_eq!(&c.digest, &sha256_hex(&password));
                prop_assert_eq!(c.code.is_some(), form == 3);
                prop_assert_eq!(c.client_id.is_some(), form == 3);
            }
            other => return Err(TestCaseError::fail(format!("{:?}", other.err()))),
        }
        Ok(())
    });
}

#[test]
fn routing_never_panics_and_path_segments_round_trip() {
    let method = names(&["GET", "POST", "DELETE", "PUT"], "[A-Z]{1,7}");
    let path = prop_oneof![text().prop_map(|t| format!("/{t}")), text(), "(/[a-zA-Z0-9.%{}_-]{0,12}){0,6}"];
    check("routing: arbitrary method and path", (method, path), |(method, path)| {
        let _ = Endpoint::route(&method, &path);
        Ok(())
    });
    let id = "[A-Za-z0-9_-]{1,17}";
    check("routing: path parameters round-trip", (id, id), |(user_id, session_id)| {
        for e in Endpoint::ALL {
            let path = e.path().replace("{user_id}", &user_id).replace("{session_id}", &session_id);
            let (routed, params) =
                Endpoint::route(e.method(), &path).map_err(|r| TestCaseError::fail(format!("{path}: {r:?}")))?;
            prop_assert_eq!(routed, e);
            let mut want = HashMap::new();
            if e.path().contains("{user_id}") {
                want.insert("user_id".to_string(), user_id.clone());
            }
            if e.path().contains("{session_id}") {
                want.insert("session_id".to_string(), session_id.clone());
            }
            prop_assert_eq!(params, want);
        }
        Ok(())
    });
}

#[test]
fn user_agent_parsing_never_panics() {
    let ua = prop_oneof![
        text(),
        "Mozilla/5\\.0 \\([A-Za-z0-9 ;._]{0,40}\\) [A-Za-z]{1,10}/[0-9.]{1,10}( [A-Za-z]{1,10}/[0-9.]{1,10}){0,3}",
        "RC Mobile; (ios|android) [0-9.]{1,5}; v[0-9.]{1,8} \\([0-9]{1,5}\\)",
        "[A-Za-z.]{1,12}/[0-9.]{1,8} Electron/[0-9.]{1,8}",
    ];
    check("User-Agent parsing", ua, |ua| {
        let d = parse_user_agent(&ua);
        // Nothing is invented: whatever it names, the agent is no longer than what it read.
        prop_assert!(d.name.len() <= ua.len().max(16), "{d:?}");
        Ok(())
    });
}

fn session() -> impl Strategy<Value = Session> {
    let s = || any::<String>();
    ((s(), s(), any::<i64>(), any::<i64>(), s(), s(), s(), s()), (s(), s(), s(), s(), s(), prop::option::of(s())))
        .prop_map(|((session_id, user_id, login_at, expires_at, kind, name, long_version, version), rest)| {
            let (os_name, os_version, host, ip, username, user_name) = rest;
            Session {
                session_id,
                user_id,
                device: Device { kind, name, long_version, version, os: Os { name: os_name, version: os_version } },
                host,
                ip,
                user_agent: String::new(),
                login_at,
                last_activity_at: login_at,
                last_use: None,
                risk: None,
                expires_at,
                client_ids: Vec::new(),
                geo: Default::default(),
                user: UserRef { username, name: user_name },
            }
        })
}

#[test]
fn packed_rows_round_trip_and_garbage_is_refused_without_panic() {
    check("packed list row: round-trip", session(), |s| {
        prop_assert_eq!(session_row::unpack(&session_row::pack(&s)), Some(s));
        Ok(())
    });
    check("packed list row: arbitrary text", text(), |t| {
        let _ = session_row::unpack(&t);
        Ok(())
    });
}

#[test]
fn event_conversion_never_panics_and_keeps_the_query() {
    let header = prop::collection::btree_map(
        names(&["x-forwarded-proto", "content-type", "cookie"], "[a-zA-Z-]{1,12}"),
        text(),
        0..4,
    );
    check(
        "event conversion: arbitrary query, path and headers",
        (text(), text(), header, text()),
        |(q, p, h, host)| {
            let mut headers: serde_json::Map<String, Value> = h.into_iter().map(|(k, v)| (k, json!(v))).collect();
            headers.insert("host".into(), json!(host));
            let mut event = json!({
                "version": "2.0",
                "routeKey": "$default",
                "rawPath": format!("/{p}"),
                "rawQueryString": q,
                "headers": headers,
                "requestContext": {"http": {"method": "GET", "path": format!("/{p}"), "sourceIp": "203.0.113.7"},
                                   "domainName": host, "requestId": "r", "stage": "$default"},
                "isBase64Encoded": false
            });
            sanitize_event(&mut event);
            let sanitized = event["rawQueryString"].as_str().unwrap_or_default().to_string();
            prop_assert_eq!(parse_query(&sanitized), parse_query(&q));
            let text = event.to_string();
            let converted = std::panic::catch_unwind(|| lambda_http::request::from_str(&text).map(|_| ()));
            prop_assert!(converted.is_ok(), "lambda_http panicked on {}", text);
            Ok(())
        },
    );
}
