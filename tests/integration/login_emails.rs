//! New-login emails, sent from the table's stream (docs/login-emails.md), and the
//! preference that turns them off (users.setPreferences / users.getPreferences).

use std::sync::{Arc, Mutex};

use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::body::SdkBody;
use serde_json::{Value, json};
use sessions_api::Endpoint::{Login, UsersGetPreferences, UsersSetPreferences};
use sessions_api::mailer::{AppMailer, LazyClient};
use sessions_api::store::OutboxStore;
use sessions_api::stream::local::StreamTail;
use sessions_api::stream::publisher::Publisher;
use sessions_cli::demo::DEMO_PASSWORD;

use crate::support::*;

const GUESTER: &str = "b66oZ8i9pkeSko33v";
const FIREFOX_LINUX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:109.0) Gecko/20100101 Firefox/113.0";
const SAFARI_MAC: &str = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.5 Safari/605.1.15";

async fn login(env: &TestEnv, user_agent: &str, ip: &str) -> (String, String) {
    let req =
        Req::new().json(json!({"user": "guester", "password": DEMO_PASSWORD})).header("user-agent", user_agent).ip(ip);
    let resp = env.send(Login, req).await;
    assert_eq!(resp.status, 200, "{}", resp.body);
    let data = &resp.json_body()["data"];
    (data["userId"].as_str().unwrap().into(), data["authToken"].as_str().unwrap().into())
}

/// The subjects of the mails the outbox holds for guester, oldest first.
async fn mails(env: &TestEnv) -> Vec<String> {
    let mut out: Vec<String> = env
        .app
        .store
        .outbox(100)
        .await
        .unwrap()
        .into_iter()
        .filter(|m| m.to == "guester@example.com")
        .map(|m| m.subject)
        .collect();
    out.reverse();
    out
}

async fn streamed() -> (TestEnv, StreamTail) {
    let env = TestEnv::seeded_with_stream().await;
    let mut tail = env.stream_tail().await;
    env.run_stream(&mut tail, &Publisher::Log).await;
    (env, tail)
}

#[tokio::test]
async fn only_a_new_device_or_place_is_mailed_and_each_session_once() {
    let (env, mut tail) = streamed().await;
    let before = mails(&env).await.len();
    login(&env, FIREFOX_LINUX, "203.0.113.7").await;
    env.run_stream(&mut tail, &Publisher::Log).await;
    assert_eq!(mails(&env).await[before..], ["[Sessions API] - Login Detected"]);
    // The same device from the same place: no mail.
    login(&env, FIREFOX_LINUX, "203.0.113.7").await;
    env.run_stream(&mut tail, &Publisher::Log).await;
    assert_eq!(mails(&env).await.len(), before + 1);
    // Another device: a mail, carrying what Rocket.Chat's does.
    login(&env, SAFARI_MAC, "203.0.113.7").await;
    env.run_stream(&mut tail, &Publisher::Log).await;
    assert_eq!(mails(&env).await.len(), before + 2);
    let body = env.app.store.outbox(1).await.unwrap().remove(0).body;
    for part in
        ["Guester (guester) logged in via", "Client: Safari", "OS: Mac OS", "IP: 203.0.113.7", "Date: ", SAFARI_MAC]
    {
        assert!(body.contains(part), "{part:?} not in {body}");
    }
    // The whole stream delivered again: no mail twice.
    let mut again = env.stream_tail().await;
    env.run_stream(&mut again, &Publisher::Log).await;
    assert_eq!(mails(&env).await.len(), before + 2);
}

#[tokio::test]
async fn an_opted_out_user_gets_none_but_a_flagged_session_mails_anyway() {
    let (mut env, mut tail) = streamed().await;
    env.app.config.trust_cloudfront_geo = true;
    let me = login(&env, FIREFOX_LINUX, "203.0.113.7").await;
    let resp = env
        .send(UsersSetPreferences, Req::new().auth(&me).json(json!({"data": {"receiveLoginDetectionEmail": false}})))
        .await;
    assert_reply(
        &resp,
        200,
        json!({"user": {"_id": GUESTER, "settings": {"preferences": {"receiveLoginDetectionEmail": false}}}, "success": true}),
    );
    env.run_stream(&mut tail, &Publisher::Log).await;
    let before = mails(&env).await.len();
    let at = |lat: &str, lon: &str| {
        Req::new()
            .json(json!({"user": "guester", "password": DEMO_PASSWORD}))
            .header("user-agent", SAFARI_MAC)
            .header("CloudFront-Viewer-Latitude", lat)
            .header("CloudFront-Viewer-Longitude", lon)
    };
    assert_eq!(env.send(Login, at("51.5074", "-0.1278")).await.status, 200);
    env.run_stream(&mut tail, &Publisher::Log).await;
    assert_eq!(mails(&env).await.len(), before, "opted out: a new device is not mailed");
    assert_eq!(env.send(Login, at("-33.8688", "151.2093")).await.status, 200);
    env.run_stream(&mut tail, &Publisher::Log).await;
    assert_eq!(mails(&env).await[before..], ["[Sessions API] - Suspicious login detected"]);
}

#[tokio::test]
async fn a_user_deleted_before_the_mail_gets_none_and_fails_nothing() {
    let (env, mut tail) = streamed().await;
    let before = mails(&env).await.len();
    login(&env, SAFARI_MAC, "203.0.113.9").await;
    env.delete_item(&format!("USER#{GUESTER}"), "PROFILE").await;
    env.run_stream(&mut tail, &Publisher::Log).await;
    assert_eq!(mails(&env).await.len(), before);
}

/// Answers SES v2 SendEmail with the next of `answers` (then 200s); keeps every request body.
#[derive(Clone, Debug, Default)]
struct SesRecorder {
    sent: Arc<Mutex<Vec<Value>>>,
    answers: Arc<Mutex<Vec<(u16, Value)>>>,
}

impl HttpClient for SesRecorder {
    fn http_connector(&self, _: &HttpConnectorSettings, _: &RuntimeComponents) -> SharedHttpConnector {
        SharedHttpConnector::new(self.clone())
    }
}

impl HttpConnector for SesRecorder {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        assert!(request.uri().ends_with("/v2/email/outbound-emails"), "{}", request.uri());
        self.sent.lock().unwrap().push(serde_json::from_slice(request.body().bytes().unwrap()).unwrap());
        let mut answers = self.answers.lock().unwrap();
        let (status, body) = if answers.is_empty() { (200, json!({"MessageId": "m-1"})) } else { answers.remove(0) };
        let mut response = HttpResponse::new(status.try_into().unwrap(), SdkBody::from(body.to_string()));
        if let Some(kind) = body.get("__type").and_then(Value::as_str) {
            response.headers_mut().insert("x-amzn-errortype", kind.to_string());
        }
        HttpConnectorFuture::ready(Ok(response))
    }
}

impl SesRecorder {
    fn mailer(&self) -> AppMailer {
        use aws_sdk_sesv2::config::{BehaviorVersion, Credentials, Region};
        let config = aws_sdk_sesv2::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new("AKIDTEST", "secret", None, None, "test"))
            .http_client(SharedHttpClient::new(self.clone()))
            .build();
        AppMailer::Ses {
            client: LazyClient::built(aws_sdk_sesv2::Client::from_conf(config)),
            from: "no-reply@example.com".into(),
        }
    }
}

/// Through a real SES client: the SendEmail request; a throttled send fails the record and is
/// mailed on the retry; an address SES rejects is logged and passed over.
#[tokio::test]
async fn ses_sends_and_its_refusals_are_read_for_their_reason() {
    let (mut env, mut tail) = streamed().await;
    let ses = SesRecorder::default();
    env.app.mailer = ses.mailer();
    // Throttled on every try the SDK makes (it retries a throttle itself).
    for _ in 0..5 {
        ses.answers.lock().unwrap().push((429, json!({"__type": "TooManyRequestsException", "message": "slow down"})));
    }
    login(&env, SAFARI_MAC, "203.0.113.9").await;
    let batches = tail.next_batches().await.unwrap();
    let (response, _) = sessions_api::stream::on_stream(&env.app, &Publisher::Log, &batches[0]).await;
    assert_eq!(response.batch_item_failures.len(), 1, "a throttled mail is tried again");
    ses.answers.lock().unwrap().clear();
    let (response, _) = sessions_api::stream::on_stream(&env.app, &Publisher::Log, &batches[0]).await;
    assert!(response.batch_item_failures.is_empty());
    let sent = ses.sent.lock().unwrap().clone();
    assert!(sent.len() >= 2, "{sent:?}");
    let last = sent.last().unwrap();
    assert_eq!(last["FromEmailAddress"], json!("no-reply@example.com"));
    assert_eq!(last["Destination"]["ToAddresses"], json!(["guester@example.com"]));
    assert_eq!(last["Content"]["Simple"]["Subject"]["Data"], json!("[Sessions API] - Login Detected"));
    assert!(last["Content"]["Simple"]["Body"]["Text"]["Data"].as_str().unwrap().contains("IP: 203.0.113.9"));
    // A rejected address: logged, not retried, nothing else held up.
    ses.answers
        .lock()
        .unwrap()
        .push((400, json!({"__type": "MessageRejected", "message": "Email address is not verified."})));
    login(&env, FIREFOX_LINUX, "198.51.100.4").await;
    let outcomes = env.run_stream(&mut tail, &Publisher::Log).await;
    assert!(outcomes.iter().all(|o| o.failed_at.is_none()));
}

#[tokio::test]
async fn preferences_take_only_known_keys_with_rocket_chats_errors() {
    let env = TestEnv::seeded().await;
    let me = demo_auth(GUESTER, "W4y9xkjyqFvbjENco");
    let get = env.send(UsersGetPreferences, Req::new().auth(&me)).await;
    assert_reply(
        &get,
        400,
        json!({"success": false, "error": "FAILED TO RETRIEVE USER PREFERENCES BECAUSE THEY HAVEN'T BEEN SET UP BY THE USER YET"}),
    );
    let before = env.snapshot().await;
    let invalid =
        |m: &str| json!({"success": false, "error": format!("{m} [invalid-params]"), "errorType": "invalid-params"});
    for (body, message) in [
        (json!({"data": {"language": "en"}}), "must NOT have additional properties"),
        (json!({"data": {"receiveLoginDetectionEmail": "no"}}), "must be boolean"),
        (json!({}), "must have required property 'data'"),
        (json!({"data": {}, "extra": true}), "must NOT have additional properties"),
    ] {
        let resp = env.send(UsersSetPreferences, Req::new().auth(&me).json(body.clone())).await;
        assert_reply(&resp, 400, invalid(message));
    }
    let other =
        env.send(UsersSetPreferences, Req::new().auth(&me).json(json!({"userId": TEST_USER_ID, "data": {}}))).await;
    assert_reply(
        &other,
        400,
        json!({"success": false, "error": "Editing user is not allowed [error-action-not-allowed]", "errorType": "error-action-not-allowed"}),
    );
    assert_reply(&env.send(UsersSetPreferences, Req::new().json(json!({"data": {}}))).await, 401, unauthorized());
    assert_eq!(env.snapshot().await, before, "refused calls change nothing");
    let set = env
        .send(UsersSetPreferences, Req::new().auth(&me).json(json!({"data": {"receiveLoginDetectionEmail": "false"}})))
        .await;
    assert_eq!(set.status, 200, "{}", set.body);
    let get = env.send(UsersGetPreferences, Req::new().auth(&me)).await;
    assert_reply(&get, 200, json!({"preferences": {"receiveLoginDetectionEmail": false}, "success": true}));
    // Saving sets only the keys given, as Rocket.Chat's does; null is the default again.
    let keep = env.send(UsersSetPreferences, Req::new().auth(&me).json(json!({"data": {}}))).await;
    assert_eq!(keep.json_body()["user"]["settings"]["preferences"], json!({"receiveLoginDetectionEmail": false}));
    let reset = env
        .send(UsersSetPreferences, Req::new().auth(&me).json(json!({"data": {"receiveLoginDetectionEmail": null}})))
        .await;
    assert_eq!(reset.json_body()["user"]["settings"]["preferences"], json!({}));
}
