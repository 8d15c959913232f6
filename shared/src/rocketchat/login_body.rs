//! The login body (`POST /api/v1/login`) in every form Rocket.Chat accepts, parsed into a
//! password login or a `resume`; every failure is a 400 that names the problem. (The list
//! query is [`super::query`].)

use serde_json::Value;

use super::errors::ApiError;
use super::two_factor::CODE_HEADER;
use crate::core::ids::sha256_hex;
use crate::request::{ApiRequest, RequestView};

/// Largest login body read; a login is a few hundred bytes.
pub const MAX_LOGIN_BODY: usize = 64 * 1024;
/// Longest string field read from a login body.
pub(crate) const MAX_FIELD_LEN: usize = 256;

/// What a login body asks for: a password login, or `resume` with a token already held.
#[derive(Debug, PartialEq, Eq)]
pub enum LoginRequest {
    Password(Credentials),
    Resume(ResumeToken),
}

/// The token of a `{"resume": ...}` login.
#[derive(PartialEq, Eq)]
pub struct ResumeToken(pub String);

impl std::fmt::Debug for ResumeToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ResumeToken(<redacted>)")
    }
}

/// What a password login body says.
#[derive(PartialEq, Eq)]
pub struct Credentials {
    /// The username or email address, as sent.
    pub user: String,
    /// Look the user up by email (`email`, `user.email`, or a `user` string with an `@`).
    pub by_email: bool,
    /// Lowercase SHA-256 hex of the password, however it was sent.
    pub digest: String,
    pub code: Option<String>,
    pub client_id: Option<String>,
}

crate::debug_redacted!(Credentials { user, by_email, client_id } redacted { digest, code });

fn invalid(m: impl Into<String>) -> ApiError {
    ApiError::InvalidParams(m.into())
}

fn string_field(map: &serde_json::Map<String, Value>, name: &str, required: bool) -> Result<Option<String>, ApiError> {
    match map.get(name) {
        None | Some(Value::Null) if required => Err(invalid(format!("must have required property '{name}'"))),
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.len() > MAX_FIELD_LEN => {
            Err(invalid(format!("/{name} must NOT have more than {MAX_FIELD_LEN} characters")))
        }
        Some(Value::String(s)) if required && s.trim().is_empty() => Err(invalid(format!("/{name} must not be empty"))),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(invalid(format!("/{name} must be string"))),
    }
}

/// Who signs in, in any form Rocket.Chat accepts: `user` (a username, or an email when it
/// has an `@`), `username`, `email`, `user: {username}` or `user: {email}`.
fn login_name(map: &serde_json::Map<String, Value>) -> Result<(String, bool), ApiError> {
    if let Some(Value::Object(o)) = map.get("user") {
        for (field, by_email) in [("username", false), ("email", true)] {
            if let Some(name) = string_field(o, field, false)? {
                return non_empty(format!("/user/{field}"), name, by_email);
            }
        }
        return Err(invalid("/user must have property 'username' or 'email'"));
    }
    if let Some(user) = string_field(map, "user", false)? {
        let by_email = user.contains('@');
        return non_empty("/user".into(), user, by_email);
    }
    for (field, by_email) in [("username", false), ("email", true)] {
        if let Some(name) = string_field(map, field, false)? {
            return non_empty(format!("/{field}"), name, by_email);
        }
    }
    Err(invalid("must have required property 'user'"))
}

fn non_empty(path: String, name: String, by_email: bool) -> Result<(String, bool), ApiError> {
    if name.trim().is_empty() { Err(invalid(format!("{path} must not be empty"))) } else { Ok((name, by_email)) }
}

/// Validates the request as a JSON login; every failure is a 400 that names the problem.
/// Fields Rocket.Chat ignores are ignored.
pub fn parse_login(req: &ApiRequest) -> Result<LoginRequest, ApiError> {
    let content_type = req.header("content-type").unwrap_or("").to_ascii_lowercase();
    if content_type.split(';').next().map(str::trim) != Some("application/json") {
        return Err(invalid("Content-Type must be application/json"));
    }
    if req.body_bytes().len() > MAX_LOGIN_BODY {
        return Err(invalid(format!("request body must NOT be larger than {MAX_LOGIN_BODY} bytes")));
    }
    let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(req.body_bytes()) else {
        return Err(invalid("request body must be a JSON object"));
    };
    if let Some(token) = string_field(&map, "resume", false)? {
        return Ok(LoginRequest::Resume(ResumeToken(token)));
    }
    let (user, by_email) = login_name(&map)?;
    let digest = match map.get("password") {
        None | Some(Value::Null) => return Err(invalid("must have required property 'password'")),
        Some(Value::String(p)) if p.is_empty() => return Err(invalid("/password must not be empty")),
        Some(Value::String(p)) if p.len() > 1024 => {
            return Err(invalid("/password must NOT have more than 1024 characters"));
        }
        Some(Value::String(p)) => sha256_hex(p),
        Some(Value::Object(o)) => {
            let digest = o.get("digest").and_then(Value::as_str).unwrap_or("");
            let algorithm = o.get("algorithm").and_then(Value::as_str).unwrap_or("");
            if !algorithm.eq_ignore_ascii_case("sha-256") {
                return Err(invalid("/password/algorithm must be \"sha-256\""));
            }
            if digest.len() != 64 || !digest.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(invalid("/password/digest must be 64 hexadecimal characters"));
            }
            digest.to_ascii_lowercase()
        }
        Some(_) => return Err(invalid("/password must be string or {\"digest\", \"algorithm\": \"sha-256\"}")),
    };
    let code = string_field(&map, "code", false)?.or_else(|| req.header(CODE_HEADER).map(str::to_string));
    let client_id = string_field(&map, "client_id", false)?.filter(|c| !c.is_empty());
    Ok(LoginRequest::Password(Credentials { user, by_email, digest, code, client_id }))
}

/// The password-login part of [`parse_login`] (a `resume` body is refused as a 400 here).
pub fn parse_credentials(req: &ApiRequest) -> Result<Credentials, ApiError> {
    match parse_login(req)? {
        LoginRequest::Password(creds) => Ok(creds),
        LoginRequest::Resume(_) => Err(invalid("must have required property 'password'")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(content_type: &str, body: &str) -> ApiRequest {
        ApiRequest::new(
            http::Request::builder()
                .header("content-type", content_type)
                .body(lambda_http::Body::from(body.to_string()))
                .unwrap(),
        )
    }

    fn err(r: &ApiRequest) -> String {
        match parse_credentials(r).unwrap_err() {
            ApiError::InvalidParams(m) => m,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn plain_and_digest_passwords_give_the_same_digest() {
        let plain = parse_credentials(&req("application/json", r#"{"user":"a","password":"pw"}"#)).unwrap();
        let digest = format!(
            r#"{{"user":"a","password":{{"digest":"{}","algorithm":"sha-256"}}}}"#,
            sha256_hex("pw").to_uppercase()
        );
        let hashed = parse_credentials(&req("application/json; charset=utf-8", &digest)).unwrap();
        assert_eq!(plain.digest, hashed.digest);
        assert_eq!(plain.digest, sha256_hex("pw"));
    }

    #[test]
    fn every_rocket_chat_login_form_names_the_same_user() {
        let forms = [
            (r#"{"user":"alice","password":"pw"}"#, "alice", false),
            (r#"{"user":"alice@example.com","password":"pw"}"#, "alice@example.com", true),
            (r#"{"username":"alice","password":"pw"}"#, "alice", false),
            (r#"{"email":"alice@example.com","password":"pw"}"#, "alice@example.com", true),
            (r#"{"user":{"username":"alice"},"password":"pw"}"#, "alice", false),
            (r#"{"user":{"email":"alice@example.com"},"password":"pw"}"#, "alice@example.com", true),
            (r#"{"user":"alice","password":"pw","totp":{"x":1},"ldap":true,"extra":[1]}"#, "alice", false),
        ];
        for (body, user, by_email) in forms {
            let c = parse_credentials(&req("application/json", body)).unwrap();
            assert_eq!((c.user.as_str(), c.by_email, c.digest.as_str()), (user, by_email, sha256_hex("pw").as_str()));
        }
        assert_eq!(
            parse_login(&req("application/json", r#"{"resume":"tok"}"#)).unwrap(),
            LoginRequest::Resume(ResumeToken("tok".into()))
        );
        assert_eq!(
            err(&req("application/json", r#"{"user":{},"password":"x"}"#)),
            "/user must have property 'username' or 'email'"
        );
        assert_eq!(err(&req("application/json", r#"{"username":"","password":"x"}"#)), "/username must not be empty");
        assert_eq!(err(&req("application/json", r#"{"user":{"email":1},"password":"x"}"#)), "/email must be string");
    }

    #[test]
    fn bad_bodies_are_named() {
        assert_eq!(err(&req("text/plain", "{}")), "Content-Type must be application/json");
        assert_eq!(err(&req("application/json", "{")), "request body must be a JSON object");
        assert_eq!(err(&req("application/json", r#"{"password":"x"}"#)), "must have required property 'user'");
        assert_eq!(err(&req("application/json", r#"{"user":"a"}"#)), "must have required property 'password'");
        assert_eq!(err(&req("application/json", r#"{"user":1,"password":"x"}"#)), "/user must be string");
        assert_eq!(
            err(&req("application/json", r#"{"user":"a","password":{"digest":"abc","algorithm":"sha-256"}}"#)),
            "/password/digest must be 64 hexadecimal characters"
        );
        assert_eq!(
            err(&req("application/json", r#"{"user":"a","password":{"digest":"abc","algorithm":"md5"}}"#)),
            "/password/algorithm must be \"sha-256\""
        );
        let big = format!(r#"{{"user":"a","password":"{}"}}"#, "x".repeat(1_000_000));
        assert!(err(&req("application/json", &big)).contains("larger than"));
    }
}
