//! Least privilege, checked against what the code really sends. Each function serves its
//! events/ files and the paths they do not reach (2FA by TOTP and by email, a wrong code, a
//! failed login, the session cap) through a client that records every request at the wire
//! (`store::faults`). Every item-level action recorded must be allowed by that function's
//! policy in template.yaml (action, table or index, and the partition key under
//! `dynamodb:LeadingKeys` for writes), and every action, index and key prefix a policy grants
//! must have been used: a grant nobody needs fails the test as surely as a missing one.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::json;
use serde_yaml_ng::Value;
use sessions_api::Endpoint::{self, *};
use sessions_api::authorizer::authorize;
use sessions_api::core::clock::now_ms;
use sessions_api::routes::OTHER_FUNCTIONS;
use sessions_api::store::faults::{Access, Faults};
use sessions_cli::demo::{DEMO_API_KEY, DEMO_PASSWORD};

use crate::support::*;

/// Partitions only the admin tool writes: permissions and API keys. (The login-name links
/// carry a copy of `active`, which deactivation and activation write.)
const ADMIN_TOOL_ONLY: [&str; 2] = ["PERMISSION#", "APIKEY#"];
const WRITES: [&str; 5] = [
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:ConditionCheckItem",
];
const SEND_EMAIL: &str = "ses:SendEmail";
/// Actions on other services, each with the only resource it may name.
const NOT_DYNAMODB: [(&str, &str); 2] =
    [("events:PutEvents", "SessionsEventBus"), ("sqs:SendMessage", "StreamDeadLetterQueue")];
/// What Lambda reads the table's stream with, with the stream consumer's role (its event source
/// mapping, not its code): granted to that function alone, on this table's streams alone.
const STREAM_READS: [&str; 4] =
    ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:ListStreams"];
const STREAM_CONSUMER: &str = "session-stream";

/// One statement of a function's policy, read from template.yaml.
#[derive(Debug)]
struct Statement {
    actions: Vec<String>,
    /// `table`, `index/<name>`, or for SES the `!Sub` text of each identity ARN.
    resources: Vec<String>,
    /// `ForAllValues:StringLike` patterns of `dynamodb:LeadingKeys`, if the statement has them.
    leading_keys: Option<Vec<String>>,
    /// `StringEquals` `ses:FromAddress`, as its `!Ref` target.
    from_address: Option<String>,
}

fn strings(v: &Value) -> Vec<String> {
    match v {
        Value::Sequence(items) => items.iter().flat_map(strings).collect(),
        Value::String(s) => vec![s.clone()],
        Value::Tagged(t) => vec![tagged(t)],
        _ => panic!("not a string or list: {v:?}"),
    }
}

/// A `!GetAtt SessionsTable.Arn` or `!Sub "${SessionsTable.Arn}/index/Name"` resource as
/// `table` / `index/Name`; any other `!Sub` as its text; `!Ref X` as `X`.
fn tagged(t: &serde_yaml_ng::value::TaggedValue) -> String {
    if t.tag == "!If" {
        // `!If [condition, then, else]`: both branches, as one text (the event bus).
        let branches: Vec<String> = t.value.as_sequence().expect("!If list")[1..].iter().flat_map(strings).collect();
        return format!("if:{}", branches.join("|"));
    }
    let text = match &t.value {
        Value::String(s) => s.clone(),
        Value::Sequence(parts) => parts[0].as_str().expect("!Sub [text, vars]").to_string(),
        other => panic!("unexpected tagged value {other:?}"),
    };
    match t.tag.to_string().as_str() {
        "!GetAtt" if text == "SessionsTable.Arn" => "table".into(),
        "!GetAtt" => text,
        "!Sub" => text.strip_prefix("${SessionsTable.Arn}/").map_or(text.clone(), str::to_string),
        "!Ref" => text,
        tag => panic!("unexpected {tag} {text}"),
    }
}

fn policy(template: &Value, function: &str) -> Vec<Statement> {
    let resource = template["Resources"]
        .as_mapping()
        .unwrap()
        .values()
        .find(|r| r["Metadata"]["BuildProperties"]["Binary"] == function)
        .unwrap_or_else(|| panic!("no function builds {function}"));
    let mut statements = Vec::new();
    // No Policies: the function reaches nothing beyond its logs (the console).
    for p in resource["Properties"]["Policies"].as_sequence().into_iter().flatten() {
        if p.as_mapping().is_none() {
            continue; // `!If [HasTableKey, ...]`: table_key_policy_of checks it.
        }
        for s in p["Statement"].as_sequence().expect("Statement") {
            assert_eq!(s["Effect"], "Allow", "{function}");
            let condition = &s["Condition"];
            let leading = &condition["ForAllValues:StringLike"]["dynamodb:LeadingKeys"];
            let from = &condition["StringEquals"]["ses:FromAddress"];
            statements.push(Statement {
                actions: strings(&s["Action"]),
                resources: strings(&s["Resource"]),
                leading_keys: (!leading.is_null()).then(|| strings(leading)),
                from_address: (!from.is_null()).then(|| strings(from).remove(0)),
            });
        }
    }
    statements
}

/// Whether `function` attaches the table key's policy exactly as `!If [HasTableKey, !Ref
/// TableKeyUsePolicy, !Ref AWS::NoValue]`; any other conditional policy is a problem.
fn attaches_table_key(template: &Value, function: &str) -> Result<bool, String> {
    let resource = template["Resources"]
        .as_mapping()
        .unwrap()
        .values()
        .find(|r| r["Metadata"]["BuildProperties"]["Binary"] == function)
        .unwrap();
    let mut found = false;
    for p in resource["Properties"]["Policies"].as_sequence().into_iter().flatten() {
        let Value::Tagged(t) = p else { continue };
        let branches: Vec<String> =
            t.value.as_sequence().map(|s| s.iter().flat_map(strings).collect()).unwrap_or_default();
        if t.tag != "!If" || branches != ["HasTableKey", "TableKeyUsePolicy", "AWS::NoValue"] {
            return Err(format!("{function}: unexpected conditional policy {p:?}"));
        }
        found = true;
    }
    Ok(found)
}

/// The one KMS grant of the stack: `kms:Decrypt` on TableKmsKeyArn, only through DynamoDB, in a
/// policy that exists only with the key. DynamoDB calls KMS with the caller's rights for every
/// read or write of a table under a customer managed key (and Lambda's reads of its stream), so
/// a function that sends any DynamoDB request needs it; CloudWatch Logs uses LogsKmsKeyArn under
/// its key policy, so no function is granted anything on that key.
fn table_key_policy_problems(template: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    let policy = &template["Resources"]["TableKeyUsePolicy"];
    if policy["Condition"] != "HasTableKey" {
        problems.push("TableKeyUsePolicy must exist only with HasTableKey".to_string());
    }
    let statements = policy["Properties"]["PolicyDocument"]["Statement"].as_sequence().cloned().unwrap_or_default();
    let expected = serde_yaml_ng::from_str::<Value>(
        "- Effect: Allow\n  Action: kms:Decrypt\n  Resource: !Ref TableKmsKeyArn\n  Condition:\n    StringEquals:\n      kms:ViaService: !Sub \"dynamodb.${AWS::Region}.amazonaws.com\"\n",
    )
    .unwrap();
    if Value::Sequence(statements) != expected {
        problems.push(format!("TableKeyUsePolicy grants more or less than kms:Decrypt through DynamoDB: {policy:?}"));
    }
    let mut kms_actions = Vec::new();
    collect_kms_actions(&template["Resources"], &mut kms_actions);
    if kms_actions != ["kms:Decrypt"] {
        problems.push(format!("KMS actions granted: {kms_actions:?}; only TableKeyUsePolicy's kms:Decrypt may be"));
    }
    problems
}

/// Every `kms:` action named under an `Action` key anywhere below `v`.
fn collect_kms_actions(v: &Value, found: &mut Vec<String>) {
    match v {
        Value::Mapping(m) => {
            for (k, v) in m {
                if k == "Action" {
                    found.extend(strings(v).into_iter().filter(|a| a.starts_with("kms:")));
                } else {
                    collect_kms_actions(v, found);
                }
            }
        }
        Value::Sequence(items) => items.iter().for_each(|v| collect_kms_actions(v, found)),
        Value::Tagged(t) => collect_kms_actions(&t.value, found),
        _ => {}
    }
}

fn like(pattern: &str, value: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => value.starts_with(prefix),
        None => pattern == value,
    }
}

/// What one function sends, as IAM sees it. The local mailer's outbox write is what
/// `ses:SendEmail` is in AWS (template.yaml sets `MAILER=ses`).
fn as_deployed(accesses: Vec<Access>) -> BTreeSet<Access> {
    accesses
        .into_iter()
        .map(|a| match a.partition_key.as_deref() {
            Some("OUTBOX") if a.action == "dynamodb:PutItem" => {
                Access { action: SEND_EMAIL.into(), resource: "identity".into(), partition_key: None }
            }
            _ => a,
        })
        .collect()
}

/// The statement that allows `access`, if any.
fn allowing<'a>(statements: &'a [Statement], access: &Access) -> Option<&'a Statement> {
    statements.iter().find(|s| {
        s.actions.contains(&access.action)
            && (access.action == SEND_EMAIL || s.resources.contains(&access.resource))
            && match (&s.leading_keys, &access.partition_key) {
                (None, _) => true,
                (Some(patterns), Some(pk)) => patterns.iter().any(|p| like(p, pk)),
                (Some(_), None) => false,
            }
    })
}

fn admin_request(endpoint: Endpoint) -> Req {
    match endpoint {
        SessionsInfoAdmin => Req::new().param("sessionId", "uBNL9dTjJ4s6Pjp4K"),
        SessionsLogout => Req::new().json(json!({"sessionId": "uBNL9dTjJ4s6Pjp4K"})),
        _ => Req::new(),
    }
}

/// What a function sends, kept apart from what a test's own setup (the admin tool's
/// writes, a login made through the store) sends through the same client.
struct Recorder {
    faults: Faults,
    sent: Vec<Access>,
}

impl Recorder {
    /// Keeps what was sent since the last call: the function's requests.
    fn function(&mut self) {
        self.sent.extend(self.faults.take_accesses());
    }
    /// Drops what was sent since the last call: the test's setup.
    fn setup(&mut self) {
        self.faults.take_accesses();
    }
}

/// Every route that authenticates a Rocket.Chat token, and so ends an idle session.
const AUTHENTICATED: [Endpoint; 14] = [
    SessionsList,
    Me,
    UsersSetPreferences,
    UsersGetPreferences,
    SessionsInfo,
    SessionsLogoutMe,
    SessionsListAll,
    SessionsInfoAdmin,
    SessionsLogout,
    Logout,
    UsersLogoutOtherClients,
    UsersRemoveOtherTokens,
    UsersLogout,
    UsersSetActiveStatus,
];

/// With an idle timeout set, a session unused past it: 401, and the session ended.
async fn idle_path(env: &mut TestEnv, endpoint: Endpoint, rec: &mut Recorder) {
    let policy = env.set_idle_timeout();
    let idle = env.idle_login().await;
    rec.setup();
    let resp = env.send(endpoint, Req::new().auth(&(TEST_USER_ID.to_string(), idle.token))).await;
    assert_eq!(resp.status, 401, "{endpoint:?}: {}", resp.body);
    rec.function();
    env.set_activity(policy);
}

/// The authorizer, with an idle timeout set, on a session unused past it: denied, and ended.
async fn authorizer_idle_path(env: &mut TestEnv, rec: &mut Recorder) {
    let policy = env.set_idle_timeout();
    let idle = env.idle_login().await;
    let mut event: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(repo_root().join("events/authorizer.json")).unwrap()).unwrap();
    event["headers"]["x-auth-token"] = json!(idle.token);
    rec.setup();
    let decision = authorize(&env.app, serde_json::from_value(event).unwrap(), now_ms()).await.unwrap();
    assert!(!decision.is_authorized);
    rec.function();
    env.set_activity(policy);
}

/// The stream consumer, its new-login email failing for a passing reason (the mail throttled):
/// the session's claim is given back, and the record reported failed.
async fn login_mail_retry_path(env: &TestEnv, faults: &Faults, rec: &mut Recorder) {
    let text = std::fs::read_to_string(repo_root().join("events/session-stream.json")).unwrap();
    let mut batch: aws_lambda_events::dynamodb::Event = serde_json::from_str(&text).unwrap();
    batch.records.retain(|r| r.event_name == "INSERT" && r.event_id == "e6");
    env.delete_item(&format!("USER#{TEST_USER_ID}"), "LOGINMAIL#Xm4PqRt7sVw2yZa8B").await;
    rec.setup();
    // The audit entry and the claim pass; the mail (the outbox locally, SES deployed) is throttled.
    faults.fail_after("PutItem", 2, sessions_api::store::faults::Fault::Throttling, None);
    let publisher = sessions_api::stream::publisher::Publisher::Log;
    let (response, _) = sessions_api::stream::on_stream(&env.app, &publisher, &batch).await;
    faults.clear();
    assert_eq!(response.batch_item_failures.len(), 1, "{response:?}");
    assert!(env.item(&format!("USER#{TEST_USER_ID}"), "LOGINMAIL#Xm4PqRt7sVw2yZa8B").await.is_none());
    rec.function();
}

/// The requests that reach every store path of `endpoint` beyond its events/ files.
async fn extra_paths(env: &mut TestEnv, endpoint: Endpoint, rec: &mut Recorder) {
    if AUTHENTICATED.contains(&endpoint) {
        idle_path(env, endpoint, rec).await;
    }
    let admin = demo_auth(ADMIN_ID, ADMIN_SESSION);
    let roxie = demo_auth(ROXIE_ID, ROXIE_SESSION);
    match endpoint {
        LogsList => {
            // Everyone's entries: every shard of the time index.
            let resp = env.send(endpoint, Req::new().header("X-API-KEY", DEMO_API_KEY)).await;
            assert_eq!(resp.status, 200, "{}", resp.body);
            rec.function();
        }
        SessionsListAll | SessionsInfoAdmin | SessionsLogout => {
            // A wrong TOTP code (a try reserved and kept), then a right one (replay guard).
            let resp = env.send(endpoint, admin_request(endpoint).auth(&admin).code("000000")).await;
            assert_eq!(resp.status, 400, "{}", resp.body);
            let resp = env.send(endpoint, admin_request(endpoint).auth(&admin).code(&admin_totp(now_ms()))).await;
            assert_eq!(resp.status, 200, "{}", resp.body);
            rec.function();
            if endpoint == SessionsListAll {
                // Remembered now: each sort key reads its own order index.
                for key in
                    ["loginAt", "device.name", "device.os.name", "device.os.version", "_user.name", "_user.username"]
                {
                    let sort = json!({ key: -1 }).to_string();
                    let resp = env.send(endpoint, Req::new().auth(&admin).param("sort", &sort)).await;
                    assert_eq!(resp.status, 200, "{}", resp.body);
                }
                rec.function();
            }
            // A backup code.
            let codes = sessions_cli::admin::enable_totp(&env.app.store, ADMIN_ID, None).await.unwrap().backup_codes;
            let other = env.login(ADMIN_ID, "Chrome", "Windows", now_ms()).await;
            let other = (ADMIN_ID.to_string(), other.token);
            rec.setup();
            let resp = env.send(endpoint, admin_request(endpoint).auth(&other).code(&codes[0])).await;
            assert!(resp.status == 200 || resp.status == 404, "{}", resp.body);
            rec.function();
            // Email: a code generated and sent, then used.
            sessions_cli::admin::set_email_two_factor(&env.app.store, "testroxie", true).await.unwrap();
            rec.setup();
            let resp = env.send(endpoint, admin_request(endpoint).auth(&roxie).ip("192.0.2.7")).await;
            assert_eq!(resp.status, 400, "{}", resp.body);
            rec.function();
            let code = latest_email_code(env).await;
            rec.setup();
            let resp = env.send(endpoint, admin_request(endpoint).auth(&roxie).ip("192.0.2.7").code(&code)).await;
            assert!(resp.status == 200 || resp.status == 404, "{}", resp.body);
            rec.function();
        }
        UserEnable => {
            // Enabling a disabled user (the events/ file enables an active one: no write).
            sessions_cli::admin::set_user_active(&env.app.store, TEST_USER_ID, false).await.unwrap();
            rec.setup();
            let (_, resp) = env.send_event(&repo_root().join("events/user-enable.json")).await;
            assert_eq!(resp.status, 200, "{}", resp.body);
            rec.function();
        }
        Login => {
            let login = |body: serde_json::Value| Req::new().json(body);
            let wrong = env.send(Login, login(json!({"user": "guester", "password": "wrong"}))).await;
            assert_eq!(wrong.status, 401);
            let resp = env
                .send(Login, login(json!({"user": "admin", "password": DEMO_PASSWORD, "code": admin_totp(now_ms())})));
            assert_eq!(resp.await.status, 200);
            rec.function();
            sessions_cli::admin::set_email_two_factor(&env.app.store, "testroxie", true).await.unwrap();
            rec.setup();
            let resp = env.send(Login, login(json!({"user": "testroxie", "password": DEMO_PASSWORD}))).await;
            assert_eq!(resp.status, 400, "{}", resp.body);
            rec.function();
            let code = latest_email_code(env).await;
            rec.setup();
            let resp = env.send(Login, login(json!({"user": "testroxie", "password": DEMO_PASSWORD, "code": code})));
            assert_eq!(resp.await.status, 200);
            // Past the cap, the oldest session ends.
            env.app.config.max_sessions_per_user = 1;
            for _ in 0..2 {
                let resp = env.send(Login, login(json!({"user": "guester", "password": DEMO_PASSWORD}))).await;
                assert_eq!(resp.status, 200, "{}", resp.body);
            }
            rec.function();
        }
        _ => {}
    }
}

/// Every item-level action `function` sends while serving its events/ files and extra paths.
async fn recorded(function: &str) -> BTreeSet<Access> {
    let faults = Faults::new();
    let mut env = TestEnv::seeded_with_faults(&faults).await;
    let mut rec = Recorder { faults: faults.clone(), sent: Vec::new() };
    rec.setup();
    let events = events_of(function);
    assert!(!events.is_empty(), "{function} has no events/ file");
    for file in events {
        if function == "session-stream" {
            let event = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
            let publisher = sessions_api::stream::publisher::Publisher::Log;
            let (response, _) = sessions_api::stream::on_stream(&env.app, &publisher, &event).await;
            assert!(response.batch_item_failures.is_empty(), "{response:?}");
        } else if function == "authorizer" {
            let event = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
            authorize(&env.app, event, now_ms()).await.unwrap();
        } else {
            let (_, resp) = env.send_event(&file).await;
            assert!(resp.status < 500, "{}: {}", file.display(), resp.body);
        }
        rec.function();
    }
    if let Some(endpoint) = Endpoint::ALL.iter().find(|e| e.function() == function) {
        extra_paths(&mut env, *endpoint, &mut rec).await;
    }
    if function == "authorizer" {
        authorizer_idle_path(&mut env, &mut rec).await;
    }
    if function == "session-stream" {
        login_mail_retry_path(&env, &faults, &mut rec).await;
    }
    as_deployed(rec.sent)
}

#[tokio::test]
async fn every_functions_policy_is_exactly_what_its_code_sends() {
    let text = std::fs::read_to_string(repo_root().join("template.yaml")).unwrap();
    let template: Value = serde_yaml_ng::from_str(&text).unwrap();
    let functions: Vec<&str> = Endpoint::ALL.iter().map(|e| e.function()).chain(OTHER_FUNCTIONS).collect();
    let mut problems = table_key_policy_problems(&template);
    let mut used: BTreeMap<&str, BTreeSet<Access>> = BTreeMap::new();
    for function in &functions {
        let statements = policy(&template, function);
        let accesses = recorded(function).await;
        let uses_table = accesses.iter().any(|a| a.action.starts_with("dynamodb:"));
        match attaches_table_key(&template, function) {
            Ok(attached) if attached != uses_table => problems.push(format!(
                "{function}: the table key's policy is {}attached, and it {}sends DynamoDB requests",
                if attached { "" } else { "not " },
                if uses_table { "" } else { "never " }
            )),
            Ok(_) => {}
            Err(problem) => problems.push(problem),
        }
        if *function == STREAM_CONSUMER {
            for action in STREAM_READS {
                if !statements.iter().any(|s| s.actions.iter().any(|a| a == action)) {
                    problems
                        .push(format!("{function}: no {action}, which its event source mapping reads the stream with"));
                }
            }
        }
        for access in &accesses {
            if allowing(&statements, access).is_none() {
                problems.push(format!("{function}: {access:?} is not allowed"));
            }
        }
        for s in &statements {
            for action in &s.actions {
                if action.contains('*') {
                    problems.push(format!("{function}: wildcard action {action}"));
                }
                if WRITES.contains(&action.as_str()) && s.leading_keys.is_none() {
                    problems.push(format!("{function}: {action} without dynamodb:LeadingKeys"));
                }
                if action == SEND_EMAIL {
                    let only_mail_from = s.resources.iter().all(|r| r.contains(":identity/${Mail"));
                    if !only_mail_from || s.from_address.as_deref() != Some("MailFrom") {
                        problems.push(format!("{function}: ses:SendEmail beyond the MailFrom identity"));
                    }
                }
                if STREAM_READS.contains(&action.as_str()) {
                    if *function != STREAM_CONSUMER || s.resources != ["stream/*"] {
                        problems.push(format!("{function}: {action} on {:?}", s.resources));
                    }
                    continue;
                }
                if let Some(expected) = NOT_DYNAMODB.iter().find(|(a, _)| a == action).map(|(_, r)| r) {
                    // The stream consumer's publishing and dead letters: checked against the
                    // SDK's HTTP layer in stream tests; here, only on their own resource.
                    if s.resources.iter().any(|r| !r.contains(expected)) {
                        problems.push(format!("{function}: {action} beyond {expected}"));
                    }
                    continue;
                }
                for resource in &s.resources {
                    if resource.ends_with('*') {
                        problems.push(format!("{function}: wildcard resource {resource}"));
                    }
                    let use_of = |a: &&Access| &a.action == action && (action == SEND_EMAIL || &a.resource == resource);
                    if !accesses.iter().any(|a| use_of(&a)) {
                        problems.push(format!("{function}: grants {action} on {resource}, which it never uses"));
                    }
                }
            }
            for pattern in s.leading_keys.iter().flatten() {
                if ADMIN_TOOL_ONLY.iter().any(|p| like(pattern, p) || pattern.starts_with(p)) {
                    problems.push(format!("{function}: may write {pattern}, which only the admin tool writes"));
                }
                let fits = |a: &Access| {
                    s.actions.contains(&a.action) && a.partition_key.as_deref().is_some_and(|pk| like(pattern, pk))
                };
                if !accesses.iter().any(fits) {
                    problems.push(format!("{function}: leading key {pattern} is never written"));
                }
            }
        }
        used.insert(function, accesses);
    }
    assert!(problems.is_empty(), "{}\n\nrecorded:\n{used:#?}", problems.join("\n"));
}
