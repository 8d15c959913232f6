//! No type that holds a secret prints it with `{:?}`.

use sessions_api::core::model::{ApiKey, Session, TokenRecord, TwoFactor, User};
use sessions_api::request::ApiRequest;
use sessions_api::rocketchat::auth::Caller;
use sessions_api::rocketchat::handlers::Reply;
use sessions_api::rocketchat::handlers::login::LoggedIn;
use sessions_api::rocketchat::login_body::{Credentials, ResumeToken};
use sessions_api::store::{EmailCode, SessionUse};
use sessions_cli::admin::{IssuedLogin, LoginSpec, NewUser};

const SECRET: &str = "s3cr3t-VALUE-never-printed";

fn secret(tag: &str) -> String {
    format!("{SECRET}-{tag}")
}

#[track_caller]
fn assert_hidden(what: &str, debug: String) {
    assert!(!debug.contains(SECRET), "{what} leaks a secret: {debug}");
    assert!(debug.contains("<redacted>") || what == "ApiRequest", "{what}: {debug}");
}

fn user() -> User {
    User {
        user_id: "u1".into(),
        username: "alice".into(),
        name: Some("Alice".into()),
        emails: vec!["alice@example.com".into()],
        roles: vec!["admin".into()],
        password_bcrypt: Some(secret("bcrypt")),
        active: true,
        two_factor: TwoFactor {
            totp_secret: Some(secret("totp")),
            totp_last_step: 7,
            backup_codes: vec![secret("backup")],
            email: true,
        },
    }
}

fn session() -> Session {
    Session {
        session_id: "s1".into(),
        user_id: "u1".into(),
        device: Default::default(),
        host: String::new(),
        ip: String::new(),
        user_agent: String::new(),
        login_at: 0,
        last_activity_at: 0,
        last_use: None,
        risk: None,
        expires_at: 0,
        client_ids: vec![],
        geo: Default::default(),
        user: Default::default(),
    }
}

#[test]
fn secrets_never_print_with_debug() {
    let u = user();
    let debug = format!("{u:?}");
    assert_hidden("User", debug.clone());
    assert!(debug.contains("alice") && debug.contains("totp_last_step: 7"), "{debug}");
    assert_hidden("TwoFactor", format!("{:?}", u.two_factor));
    assert_hidden(
        "TokenRecord",
        format!(
            "{:?}",
            TokenRecord {
                token_hash: secret("token-hash"),
                user_id: "u1".into(),
                session_id: "s1".into(),
                expires_at: 1,
                two_factor_trusted_until: None,
                two_factor_fingerprint: Some(secret("fp")),
                last_activity_at: Some(5),
            }
        ),
    );
    assert_hidden(
        "ApiKey",
        format!(
            "{:?}",
            ApiKey {
                key_hash: secret("key-hash"),
                key_id: "k1".into(),
                name: "billing".into(),
                created_at: "now".into(),
                disabled: false,
                scopes: None,
            }
        ),
    );
    assert_hidden(
        "Caller",
        format!(
            "{:?}",
            Caller {
                user_id: "u1".into(),
                session_id: "s1".into(),
                token_hash: secret("token-hash"),
                two_factor_trusted_until: None,
                two_factor_fingerprint: Some(secret("fp")),
                token_expires_at: 1,
                user: user(),
                due_use: Some(SessionUse {
                    user_id: "u1".into(),
                    session_id: "s1".into(),
                    token_hash: secret("token-hash-of-the-use"),
                    at: 1,
                    last: Default::default(),
                }),
            }
        ),
    );
    assert_hidden(
        "EmailCode",
        format!("{:?}", EmailCode { code_hash: secret("email-code"), expires_at: 1, attempts: 0 }),
    );
    let logged_in = LoggedIn { user: user(), token: secret("token"), session_id: "s1".into() };
    assert_hidden("LoggedIn", format!("{logged_in:?}"));
    assert_hidden("Reply::LoggedIn", format!("{:?}", Reply::LoggedIn(Box::new(logged_in))));
    assert_hidden(
        "Credentials",
        format!(
            "{:?}",
            Credentials {
                user: "alice".into(),
                by_email: false,
                digest: secret("digest"),
                code: Some(secret("code")),
                client_id: None
            }
        ),
    );
    assert_hidden(
        "NewUser",
        format!("{:?}", NewUser { username: "alice".into(), password: Some(secret("password")), ..Default::default() }),
    );
    assert_hidden("ResumeToken", format!("{:?}", ResumeToken(secret("token"))));
    assert_hidden("LoginSpec", format!("{:?}", LoginSpec { token: Some(secret("token")), ..Default::default() }));
    assert_hidden("IssuedLogin", format!("{:?}", IssuedLogin { session: session(), token: secret("token") }));
}

#[test]
fn a_request_prints_no_header_value_or_body() {
    let req = http::Request::builder()
        .method("POST")
        .uri("/api/v1/login")
        .header("x-auth-token", secret("token"))
        .header("x-2fa-code", secret("code"))
        .header("x-api-key", secret("api-key"))
        .header("content-type", "application/json")
        .body(lambda_http::Body::from(format!(r#"{{"user":"alice","password":"{}"}}"#, secret("password"))))
        .unwrap();
    let req = ApiRequest::new(req);
    let debug = format!("{req:?}");
    assert_hidden("ApiRequest", debug.clone());
    assert!(debug.contains("x-auth-token") && debug.contains("/api/v1/login"), "{debug}");
    // The inner http::Request marks secret headers sensitive, so even it hides them.
    let inner = format!("{:?}", req.headers());
    assert!(!inner.contains(SECRET), "{inner}");
}
