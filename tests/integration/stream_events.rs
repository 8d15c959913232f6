//! The stream consumer's events, checked where they leave: the PutEvents requests a real
//! EventBridge SDK client sends, answered by a recording HTTP client. Each detail must
//! validate against its JSON Schema in docs/events/.

use std::sync::{Arc, Mutex};

use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::body::SdkBody;
use serde_json::{Value, json};
use sessions_api::Endpoint::{Login, Logout};
use sessions_api::stream::on_stream;
use sessions_api::stream::publisher::Publisher;
use sessions_cli::demo::DEMO_PASSWORD;

use crate::support::*;

/// Answers PutEvents: refuses the next `refuse` entries with ThrottlingException, takes the
/// rest; keeps every request body.
#[derive(Clone, Debug, Default)]
pub struct EventBridgeRecorder {
    requests: Arc<Mutex<Vec<Value>>>,
    pub refuse: Arc<Mutex<usize>>,
}

impl HttpClient for EventBridgeRecorder {
    fn http_connector(&self, _: &HttpConnectorSettings, _: &RuntimeComponents) -> SharedHttpConnector {
        SharedHttpConnector::new(self.clone())
    }
}

impl HttpConnector for EventBridgeRecorder {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        assert_eq!(request.headers().get("x-amz-target"), Some("AWSEvents.PutEvents"));
        let body: Value = serde_json::from_slice(request.body().bytes().expect("a buffered body")).unwrap();
        let mut refuse = self.refuse.lock().unwrap();
        let entries: Vec<Value> = (0..body["Entries"].as_array().map_or(0, Vec::len))
            .map(|i| {
                if *refuse > 0 {
                    *refuse -= 1;
                    json!({"ErrorCode": "ThrottlingException", "ErrorMessage": "Rate exceeded"})
                } else {
                    json!({"EventId": format!("event-{i}")})
                }
            })
            .collect();
        let failed = entries.iter().filter(|e| e.get("ErrorCode").is_some()).count();
        self.requests.lock().unwrap().push(body);
        let answer = json!({"FailedEntryCount": failed, "Entries": entries}).to_string();
        HttpConnectorFuture::ready(Ok(HttpResponse::new(200.try_into().unwrap(), SdkBody::from(answer))))
    }
}

impl EventBridgeRecorder {
    pub fn publisher(&self) -> Publisher {
        use aws_sdk_eventbridge::config::{BehaviorVersion, Credentials, Region};
        let config = aws_sdk_eventbridge::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new("AKIDTEST", "secret", None, None, "test"))
            .http_client(SharedHttpClient::new(self.clone()))
            .build();
        Publisher::EventBridge { client: aws_sdk_eventbridge::Client::from_conf(config), bus: "sessions-bus".into() }
    }

    /// Every entry sent so far, in order.
    pub fn entries(&self) -> Vec<Value> {
        self.requests
            .lock()
            .unwrap()
            .iter()
            .flat_map(|r| r["Entries"].as_array().cloned().unwrap_or_default())
            .collect()
    }
}

pub fn schema(detail_type: &str) -> jsonschema::Validator {
    let file = match detail_type {
        "Session Created" => "session-created.v1.schema.json",
        "Session Ended" => "session-ended.v1.schema.json",
        "Session Flagged" => "session-flagged.v1.schema.json",
        "Login Failed" => "login-failed.v1.schema.json",
        "Login Blocked" => "login-blocked.v1.schema.json",
        other => panic!("no schema for {other}"),
    };
    let text = std::fs::read_to_string(repo_root().join("docs/events").join(file)).unwrap();
    jsonschema::validator_for(&serde_json::from_str(&text).unwrap()).expect("a valid JSON Schema")
}

fn login() -> Req {
    Req::new().json(json!({"user": "test.test", "password": DEMO_PASSWORD}))
}

/// A login and its logout publish one `Session Created` and one `Session Ended` each, to
/// the bus, from source sessions-api, every detail valid against its schema.
#[tokio::test]
async fn each_change_publishes_one_event_valid_against_its_schema() {
    let env = TestEnv::seeded_with_stream().await;
    let mut tail = env.stream_tail().await;
    env.run_stream(&mut tail, &Publisher::Log).await;
    let recorder = EventBridgeRecorder::default();
    let resp = env.send(Login, login()).await;
    assert_eq!(resp.status, 200, "{}", resp.body);
    let data = &resp.json_body()["data"];
    let auth = (data["userId"].as_str().unwrap().to_string(), data["authToken"].as_str().unwrap().to_string());
    assert_eq!(env.send(Logout, Req::new().auth(&auth).method("POST")).await.status, 200);
    env.run_stream(&mut tail, &recorder.publisher()).await;
    let entries = recorder.entries();
    let kinds: Vec<&str> = entries.iter().map(|e| e["DetailType"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["Session Created", "Session Ended"]);
    for entry in &entries {
        assert_eq!(
            (entry["Source"].as_str(), entry["EventBusName"].as_str()),
            (Some("sessions-api"), Some("sessions-bus"))
        );
        let detail: Value = serde_json::from_str(entry["Detail"].as_str().unwrap()).unwrap();
        let errors: Vec<String> =
            schema(entry["DetailType"].as_str().unwrap()).iter_errors(&detail).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{detail}: {errors:?}");
        assert!(!detail.to_string().contains(&auth.1), "the token leaked");
    }
    let ended: Value = serde_json::from_str(entries[1]["Detail"].as_str().unwrap()).unwrap();
    assert_eq!((ended["reason"].as_str(), ended["actor"]["id"].as_str()), (Some("logout"), Some(TEST_USER_ID)));
    // Nothing new in the stream: nothing more is published.
    env.run_stream(&mut tail, &recorder.publisher()).await;
    assert_eq!(recorder.entries().len(), 2);
}

/// An entry EventBridge refuses (throttled) fails its record: the batch response names that
/// record's sequence number, so Lambda retries from it; the records before it are done.
#[tokio::test]
async fn a_refused_entry_is_reported_as_the_batch_item_failure() {
    let env = TestEnv::seeded().await;
    let text = std::fs::read_to_string(repo_root().join("events/session-stream.json")).unwrap();
    let batch: aws_lambda_events::dynamodb::Event = serde_json::from_str(&text).unwrap();
    let recorder = EventBridgeRecorder::default();
    *recorder.refuse.lock().unwrap() = 1;
    let (response, outcome) = on_stream(&env.app, &recorder.publisher(), &batch).await;
    // The first event is the history record's (the 4th record, sequence number 104).
    assert_eq!(outcome.failed_at, Some(3));
    assert_eq!(response.batch_item_failures.len(), 1);
    assert_eq!(response.batch_item_failures[0].item_identifier.as_deref(), Some("104"));
    assert_eq!(outcome.published, 1);
}

/// A record the consumer cannot read is logged and skipped; the rest of the batch goes on and
/// nothing is reported failed, so a poison record never blocks the shard.
#[tokio::test]
async fn a_malformed_record_is_skipped_without_failing_the_batch() {
    let env = TestEnv::seeded().await;
    let text = std::fs::read_to_string(repo_root().join("events/session-stream.json")).unwrap();
    let mut raw: Value = serde_json::from_str(&text).unwrap();
    let records = raw["Records"].as_array_mut().unwrap();
    let mut broken = records[5].clone();
    broken["dynamodb"]["NewImage"] = json!({"PK": {"S": "USER#x"}, "loginAt": {"N": "1"}});
    broken["dynamodb"]["SequenceNumber"] = json!("99");
    let mut unknown = records[5].clone();
    unknown["eventName"] = json!("TRUNCATE");
    records.insert(0, broken);
    records.insert(1, unknown);
    let batch: aws_lambda_events::dynamodb::Event = serde_json::from_value(raw).unwrap();
    let recorder = EventBridgeRecorder::default();
    let (response, outcome) = on_stream(&env.app, &recorder.publisher(), &batch).await;
    assert!(response.batch_item_failures.is_empty(), "{outcome:?}");
    assert_eq!((outcome.skipped, outcome.expired, outcome.published), (2, 2, 2));
}

/// Every entry sent: its detail type and detail, each detail checked against its schema.
pub fn published(recorder: &EventBridgeRecorder) -> Vec<(String, Value)> {
    recorder
        .entries()
        .iter()
        .map(|entry| {
            let kind = entry["DetailType"].as_str().unwrap().to_string();
            let detail: Value = serde_json::from_str(entry["Detail"].as_str().unwrap()).unwrap();
            let errors: Vec<String> = schema(&kind).iter_errors(&detail).map(|e| e.to_string()).collect();
            assert!(errors.is_empty(), "{kind} {detail}: {errors:?}");
            (kind, detail)
        })
        .collect()
}
