//! Responses validate against Rocket.Chat's official OpenAPI description
//! (tests/conformance/reference/rocketchat-sessions.openapi.yaml) with the jsonschema crate: the
//! whole description is registered as one Draft 4 resource (OpenAPI 3.0 schemas are
//! Draft 4-based), so its `#/components/...` references resolve as they are written.

use jsonschema::{Draft, Registry, Validator};
use serde_json::{Value, json};
use sessions_api::Endpoint::{SessionsInfo, SessionsList, SessionsLogoutMe};

use crate::support::*;

/// Where the description is registered; never fetched.
const SPEC_URI: &str = "urn:rocketchat-sessions-openapi";

fn spec() -> Value {
    let path = repo_root().join("tests/conformance/reference/rocketchat-sessions.openapi.yaml");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{} must sit beside the repository: {e}", path.display()));
    let mut spec = serde_yaml_ng::from_str(&text).expect("OpenAPI is YAML");
    translate_nullable(&mut spec);
    spec
}

/// OpenAPI 3.0's `nullable: true` is not JSON Schema: it becomes `null` among the types.
fn translate_nullable(node: &mut Value) {
    match node {
        Value::Object(map) => {
            if map.remove("nullable") == Some(Value::Bool(true))
                && let Some(Value::String(t)) = map.get("type")
            {
                let types = json!([t, "null"]);
                map.insert("type".into(), types);
            }
            map.values_mut().for_each(translate_nullable);
        }
        Value::Array(items) => items.iter_mut().for_each(translate_nullable),
        _ => {}
    }
}

/// One JSON pointer segment (RFC 6901).
fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

/// The pointer to a response's JSON schema, through a `$ref` to `#/components/responses/...`.
fn response_schema_pointer(spec: &Value, path: &str, method: &str, status: &str) -> String {
    let at = format!("/paths/{}/{method}/responses/{status}", escape(path));
    let response = spec.pointer(&at).unwrap_or_else(|| panic!("no response {method} {path} {status}"));
    let at = match response.get("$ref").and_then(Value::as_str) {
        Some(r) => r.trim_start_matches('#').to_string(),
        None => at,
    };
    format!("{at}/content/application~1json/schema")
}

/// Validators for schemas inside `spec`, by JSON pointer.
struct Schemas {
    registry: Registry<'static>,
}

impl Schemas {
    fn new(spec: Value) -> Schemas {
        let registry = Registry::new()
            .draft(Draft::Draft4)
            .add(SPEC_URI, Draft::Draft4.create_resource(spec))
            .and_then(|builder| builder.prepare())
            .expect("the OpenAPI description registers as a schema resource");
        Schemas { registry }
    }

    fn validator(&self, pointer: &str) -> Validator {
        jsonschema::draft4::options()
            .with_registry(&self.registry)
            .build(&json!({"$ref": format!("{SPEC_URI}#{pointer}")}))
            .unwrap_or_else(|e| panic!("schema at {pointer}: {e}"))
    }
}

/// What is wrong with `value`, one line per error (empty if it is valid).
fn errors(validator: &Validator, value: &Value) -> Vec<String> {
    validator.iter_errors(value).map(|e| format!("{}: {e}", e.instance_path())).collect()
}

#[tokio::test]
async fn responses_validate_against_the_official_schema() {
    let spec = spec();
    let schemas = Schemas::new(spec.clone());
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
        let pointer = response_schema_pointer(&spec, path, method, status);
        let validator = schemas.validator(&pointer);
        let body = resp.json_body();
        assert!(body.is_object(), "{path}: {}", resp.body);
        let errors = errors(&validator, &body);
        assert!(errors.is_empty(), "{method} {path} {status}: {errors:?}");
        // Every property we send is one the description names (no stray fields).
        if status == "200" {
            let mut schema = spec.pointer(&pointer).unwrap();
            if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
                schema = spec.pointer(r.trim_start_matches('#')).unwrap();
            }
            let props = schema["properties"].as_object().unwrap();
            for key in body.as_object().unwrap().keys() {
                assert!(props.contains_key(key), "{path}: {key} is not in the schema");
            }
        }
    }
}

#[test]
fn the_validator_rejects_wrong_bodies() {
    let spec = spec();
    let schemas = Schemas::new(spec.clone());
    let list = schemas.validator(&response_schema_pointer(&spec, "/api/v1/sessions/list", "get", "200"));
    let session = json!({"sessionId": "a", "userId": "b", "device": {"os": {"name": "Linux"}}, "current": false});
    assert!(errors(&list, &json!({"sessions": [session], "total": 1, "success": true})).is_empty());
    assert_eq!(errors(&list, &json!({"sessions": [], "total": "1"})).len(), 1);
    assert_eq!(errors(&list, &json!({"sessions": [{"current": "yes"}]})).len(), 1);
    assert_eq!(errors(&list, &json!({"sessions": [{"device": {"os": {"version": 10}}}]})).len(), 1);
    // Through the $ref to #/components/responses/authorizationError.
    let unauthorized = schemas.validator(&response_schema_pointer(&spec, "/api/v1/sessions/list", "get", "401"));
    assert!(errors(&unauthorized, &json!({"status": "error", "message": "m"})).is_empty());
    assert_eq!(errors(&unauthorized, &json!({"status": false})).len(), 1);
}

#[test]
fn component_schema_refs_and_nullable_resolve() {
    let mut spec = json!({
        "paths": {"/x": {"get": {"responses": {"200": {"content": {"application/json": {"schema":
            {"$ref": "#/components/schemas/X"}}}}}}}},
        "components": {"schemas": {"X": {"type": "object", "properties": {"n": {"type": "integer", "nullable": true}}}}},
    });
    translate_nullable(&mut spec);
    let schemas = Schemas::new(spec.clone());
    let x = schemas.validator(&response_schema_pointer(&spec, "/x", "get", "200"));
    assert!(errors(&x, &json!({"n": 1})).is_empty());
    assert!(errors(&x, &json!({"n": null})).is_empty());
    assert_eq!(errors(&x, &json!({"n": "1"})).len(), 1);
}

/// Our own description (openapi.yaml) is the one list of routes: every route the code serves
/// is in it with its methods, it has no other, and the README's endpoint table says the same.
#[test]
fn openapi_yaml_the_code_and_the_readme_list_the_same_routes() {
    use std::collections::BTreeSet;
    let text = std::fs::read_to_string(repo_root().join("openapi.yaml")).expect("openapi.yaml");
    let spec: Value = serde_yaml_ng::from_str(&text).expect("openapi.yaml is YAML");
    let mut described = BTreeSet::new();
    for (path, item) in spec["paths"].as_object().expect("paths") {
        for method in ["get", "post", "put", "delete", "patch"] {
            if item.get(method).is_some() {
                described.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    let served: BTreeSet<(String, String)> = sessions_api::Endpoint::ALL
        .iter()
        .flat_map(|e| e.methods().iter().map(|m| (m.to_string(), e.path().to_string())))
        .collect();
    assert_eq!(described, served, "openapi.yaml against the route table (shared/src/routes.rs)");

    // README rows: "| GET or POST /api/v1/logout | logout | ..." and "| GET /api/v1/sessions/list | ...".
    let readme = std::fs::read_to_string(repo_root().join("README.md")).expect("README.md");
    let section = readme.split("## Routes").nth(1).expect("a Routes section").split("\n## ").next().unwrap();
    let mut listed = BTreeSet::new();
    let mut functions = BTreeSet::new();
    for line in section.lines().filter(|l| l.starts_with("| ") && !l.starts_with("| route")) {
        let mut cells = line.trim_start_matches("| ").split(" |");
        let route = cells.next().unwrap_or("").trim();
        let Some((methods, path)) = route.rsplit_once(' ') else { continue };
        for method in methods.split(" or ").map(str::trim).filter(|m| !m.is_empty()) {
            listed.insert((method.to_string(), path.to_string()));
        }
        functions.insert((cells.next().unwrap_or("").trim().to_string(), path.to_string()));
    }
    let table: BTreeSet<(String, String)> =
        sessions_api::Endpoint::ALL.iter().map(|e| (e.function().to_string(), e.path().to_string())).collect();
    assert_eq!(functions, table, "README's route table against the route table's functions");
    assert_eq!(listed, described, "README's endpoint table against openapi.yaml");
    // Each described operation has an operationId, a summary and at least one response.
    for (method, path) in &described {
        let op = &spec["paths"][path][method.to_lowercase()];
        assert!(op["operationId"].is_string() && op["summary"].is_string(), "{method} {path}");
        assert!(op["responses"].as_object().is_some_and(|r| !r.is_empty()), "{method} {path}");
    }
}
