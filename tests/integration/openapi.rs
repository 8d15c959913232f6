//! Responses validate against Rocket.Chat's official OpenAPI description
//! (../shared/reference/rocketchat-sessions.openapi.yaml): types of every property the
//! schema names, recursively, with $ref resolved.

use serde_json::{Value, json};
use sessions_api::Endpoint::{SessionsInfo, SessionsList, SessionsLogoutMe};

use crate::support::*;

fn spec() -> Option<Value> {
    let path = repo_root().join("../shared/reference/rocketchat-sessions.openapi.yaml");
    let text = std::fs::read_to_string(&path).ok()?;
    Some(serde_yaml_ng::from_str(&text).expect("OpenAPI is YAML"))
}

fn resolve<'a>(spec: &'a Value, v: &'a Value) -> &'a Value {
    match v.get("$ref").and_then(Value::as_str) {
        Some(r) => r.trim_start_matches("#/").split('/').fold(spec, |node, part| &node[part]),
        None => v,
    }
}

fn response_schema<'a>(spec: &'a Value, path: &str, method: &str, status: &str) -> &'a Value {
    let resp = resolve(spec, &spec["paths"][path][method]["responses"][status]);
    let schema = &resp["content"]["application/json"]["schema"];
    assert!(schema.is_object(), "no schema for {method} {path} {status}");
    schema
}

fn check(spec: &Value, schema: &Value, value: &Value, at: &str) -> Vec<String> {
    let schema = resolve(spec, schema);
    let mut errors = Vec::new();
    let ok = match schema["type"].as_str() {
        Some("object") => value.is_object(),
        Some("array") => value.is_array(),
        Some("string") => value.is_string(),
        Some("integer") => value.is_i64() || value.is_u64(),
        Some("boolean") => value.is_boolean(),
        Some("number") => value.is_number(),
        _ => true,
    };
    if !ok {
        errors.push(format!("{at}: expected {}, got {value}", schema["type"]));
        return errors;
    }
    if let (Some(props), Some(obj)) = (schema["properties"].as_object(), value.as_object()) {
        for (name, sub) in props {
            if let Some(v) = obj.get(name) {
                errors.extend(check(spec, sub, v, &format!("{at}.{name}")));
            }
        }
    }
    if let (Some(items), Some(arr)) = (schema.get("items"), value.as_array()) {
        for (i, v) in arr.iter().enumerate() {
            errors.extend(check(spec, items, v, &format!("{at}[{i}]")));
        }
    }
    errors
}

#[tokio::test]
async fn responses_validate_against_the_official_schema() {
    let Some(spec) = spec() else {
        panic!("../shared/reference/rocketchat-sessions.openapi.yaml must sit beside the repository");
    };
    let env = TestEnv::seeded().await;
    let me = demo_auth(TEST_USER_ID, "QoYYFw2t9oKks2niG");
    let cases = [
        ("/api/v1/sessions/list", "get", "200", env.send(SessionsList, Req::new().auth(&me)).await),
        ("/api/v1/sessions/list", "get", "401", env.send(SessionsList, Req::new()).await),
        (
            "/api/v1/sessions/info",
            "get",
            "200",
            env.send(SessionsInfo, Req::new().auth(&me).param("sessionId", "WJ2giBwm4B9mcojFi")).await,
        ),
        // Rocket.Chat answers "Session not found" with 404; the description files that body under 400.
        (
            "/api/v1/sessions/info",
            "get",
            "400",
            env.send(SessionsInfo, Req::new().auth(&me).param("sessionId", "nope")).await,
        ),
        (
            "/api/v1/sessions/logout.me",
            "post",
            "200",
            env.send(SessionsLogoutMe, Req::new().auth(&me).json(json!({"sessionId": "WJ2giBwm4B9mcojFi"}))).await,
        ),
    ];
    for (path, method, status, resp) in cases {
        let schema = response_schema(&spec, path, method, status);
        let body = resp.json_body();
        assert!(body.is_object(), "{path}: {}", resp.body);
        let errors = check(&spec, schema, &body, "$");
        assert!(errors.is_empty(), "{method} {path} {status}: {errors:?}");
        // Every property we send is one the description names (no stray fields).
        if status == "200" {
            let props = resolve(&spec, schema)["properties"].as_object().unwrap();
            for key in body.as_object().unwrap().keys() {
                assert!(props.contains_key(key), "{path}: {key} is not in the schema");
            }
        }
    }
}

#[test]
fn the_validator_catches_a_wrong_type() {
    let spec = json!({});
    let schema = json!({"type": "object", "properties": {"total": {"type": "integer"}, "s": {"type": "array", "items": {"type": "string"}}}});
    assert!(check(&spec, &schema, &json!({"total": 1, "s": ["a"]}), "$").is_empty());
    assert_eq!(check(&spec, &schema, &json!({"total": "1"}), "$").len(), 1);
    assert_eq!(check(&spec, &schema, &json!({"s": [1]}), "$").len(), 1);
}
