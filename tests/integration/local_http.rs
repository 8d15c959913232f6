//! Over HTTP: the local server that `scripts/run-local` starts, on an ephemeral port.

use std::net::SocketAddr;
use std::sync::Arc;

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::support::*;

struct Reply {
    status: u16,
    head: String,
    body: String,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }
}

async fn start(env: &TestEnv) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(sessions_cli::local_api::serve(Arc::new(env.app.clone()), listener));
    addr
}

/// One HTTP/1.1 request on its own connection.
async fn http(addr: SocketAddr, method: &str, target: &str, headers: &[(&str, &str)], body: &str) -> Reply {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let mut req = format!("{method} {target} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    stream.write_all(req.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.unwrap();
    let text = String::from_utf8(raw).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    Reply { status, head: head.to_lowercase(), body: body.to_string() }
}

#[tokio::test]
async fn list_logout_and_errors_over_http() {
    let env = TestEnv::seeded().await;
    let addr = start(&env).await;
    let token = demo_token("QoYYFw2t9oKks2niG");
    let auth = [("X-User-Id", TEST_USER_ID), ("X-Auth-Token", token.as_str())];

    let r = http(addr, "GET", "/api/v1/sessions/list?count=1&sort=%7B%22loginAt%22%3A1%7D", &auth, "").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.head.contains("content-type: application/json"));
    assert_eq!(r.json()["sessions"][0]["sessionId"], "Xm4PqRt7sVw2yZa8B");
    assert_eq!(r.json()["total"], json!(4));

    // curl sends JSON in a query unencoded; the answer is that of the encoded form.
    let r = http(addr, "GET", "/api/v1/sessions/list?count=1&sort={\"loginAt\":1}", &auth, "").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["sessions"][0]["sessionId"], "Xm4PqRt7sVw2yZa8B");

    let r = http(addr, "GET", "/api/v1/sessions/list", &[("X-User-Id", TEST_USER_ID)], "").await;
    assert_eq!((r.status, r.json()), (401, unauthorized()));

    let r = http(addr, "POST", "/api/v1/sessions/logout.me", &auth, r#"{"sessionId":"QoYYFw2t9oKks2niG"}"#).await;
    assert_eq!((r.status, r.json()), (200, json!({"sessionId": "QoYYFw2t9oKks2niG", "success": true})));
    let r = http(addr, "GET", "/api/v1/sessions/list", &auth, "").await;
    assert_eq!(r.status, 401);

    let r = http(addr, "GET", "/api/v1/nothing-here", &[], "").await;
    assert_eq!(r.status, 404);
    assert_eq!(r.json(), json!({"message": "Not Found"}));
    let r = http(addr, "DELETE", "/api/v1/sessions/list", &[], "").await;
    assert_eq!(r.status, 405);
    assert!(r.head.contains("allow: get\r\n"), "{}", r.head);
    assert_eq!(r.json(), json!({"message": "Method Not Allowed"}));
    let r = http(addr, "PATCH", "/api/users/u/sessions", &[], "").await;
    assert!(r.head.contains("allow: get, delete\r\n"), "{}", r.head);

    // Logout answers GET as well as POST.
    let token = demo_token("BdSrCZXNKCbRi8Eqn");
    let other = [("X-User-Id", TEST_USER_ID), ("X-Auth-Token", token.as_str())];
    let r = http(addr, "GET", "/api/v1/logout", &other, "").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(http(addr, "GET", "/api/v1/sessions/list", &other, "").await.status, 401);
}

/// What Rocket.Chat's own clients send, over HTTP: a `username` login, `resume`, and the
/// account-wide logout of the other clients.
#[tokio::test]
async fn rocket_chat_client_calls_over_http() {
    let env = TestEnv::seeded().await;
    let addr = start(&env).await;
    let json_type = [("Content-Type", "application/json")];
    let r =
        http(addr, "POST", "/api/v1/login", &json_type, r#"{"username":"test.test","password":"demo-password"}"#).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let token = r.json()["data"]["authToken"].as_str().unwrap().to_string();
    let body = format!(r#"{{"resume":"{token}"}}"#);
    let r = http(addr, "POST", "/api/v1/login", &json_type, &body).await;
    assert_eq!((r.status, r.json()["data"]["authToken"].as_str()), (200, Some(token.as_str())));

    let auth = [("X-User-Id", TEST_USER_ID), ("X-Auth-Token", token.as_str())];
    let r = http(addr, "POST", "/api/v1/users.logoutOtherClients", &auth, "").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["token"], json!(token));
    let r = http(addr, "GET", "/api/v1/sessions/list", &auth, "").await;
    assert_eq!(r.json()["total"], json!(1));
    let old = demo_token("QoYYFw2t9oKks2niG");
    let r =
        http(addr, "GET", "/api/v1/sessions/list", &[("X-User-Id", TEST_USER_ID), ("X-Auth-Token", old.as_str())], "")
            .await;
    assert_eq!(r.status, 401);
    let r = http(addr, "POST", "/api/v1/users.logout", &auth, "").await;
    assert_eq!(r.json(), json!({"message": format!("User {TEST_USER_ID} has been logged out!"), "success": true}));
    assert_eq!(http(addr, "GET", "/api/v1/sessions/list", &auth, "").await.status, 401);
}
