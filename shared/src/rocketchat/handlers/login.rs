//! POST /api/v1/login and /api/v1/logout: sessions from real sign-ins (docs/login-and-2fa.md, "Login").

use std::sync::OnceLock;

use serde_json::Value;

use super::ApiError;
use crate::core::clock::Millis;
use crate::core::config::Config;
use crate::core::device::parse_user_agent;
use crate::core::ids::{hash_token, new_id, new_token, sha256_hex};
use crate::core::model::{Geo, Session, User};
use crate::mailer::Mailer;
use crate::request::{ApiRequest, RequestView};
use crate::rocketchat::auth::authenticate;
use crate::rocketchat::errors::Blocked;
use crate::rocketchat::two_factor::{self, CODE_HEADER, METHOD_HEADER};
use crate::store::{
    LoginLimitKey, LoginLimitStore, Reservation, SessionCreator, SessionEnder, TokenStore, TwoFactorStore,
    UserSessionReader, UserStore,
};

/// Largest login body read; a login is a few hundred bytes.
pub const MAX_LOGIN_BODY: usize = 64 * 1024;
const MAX_FIELD_LEN: usize = 256;

/// A successful login: the user and the new token (shown once, stored only hashed).
#[derive(Clone, PartialEq, Eq)]
pub struct LoggedIn {
    pub user: User,
    pub token: String,
    pub session_id: String,
}

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

crate::debug_redacted!(LoggedIn { user, session_id } redacted { token });
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

/// `{"resume": token}`: the same success body for a live token of an active user, without
/// a new session; anything else is the one login 401.
pub async fn resume<S: TokenStore + UserStore>(
    store: &S,
    token: &ResumeToken,
    now: Millis,
) -> Result<LoggedIn, ApiError> {
    if token.0.is_empty() || token.0.len() > MAX_FIELD_LEN {
        return Err(ApiError::LoginFailed);
    }
    let record = store.token(&hash_token(&token.0)).await?.filter(|r| r.is_live(now)).ok_or(ApiError::LoginFailed)?;
    let user = store.user(&record.user_id).await?.filter(|u| u.active).ok_or(ApiError::LoginFailed)?;
    Ok(LoggedIn { user, token: token.0.clone(), session_id: record.session_id })
}

/// A bcrypt hash to verify against when the user does not exist, so that an unknown
/// user takes as long as a wrong password.
fn decoy_hash(cost: u32) -> &'static str {
    static DECOY: OnceLock<String> = OnceLock::new();
    DECOY.get_or_init(|| bcrypt::hash(sha256_hex("decoy password"), cost).unwrap_or_default())
}

/// The geo fields CloudFront adds when configured to forward viewer location headers; none
/// unless the deployment says it sits behind CloudFront, as any client can send them.
fn geo(req: &ApiRequest, trusted: bool) -> Geo {
    if !trusted {
        return Geo::default();
    }
    let h =
        |name: &str| req.header(name).map(str::trim).filter(|v| !v.is_empty() && v.len() <= 128).map(str::to_string);
    Geo {
        country: h("cloudfront-viewer-country-name").or_else(|| h("cloudfront-viewer-country")),
        region: h("cloudfront-viewer-country-region-name").or_else(|| h("cloudfront-viewer-country-region")),
        city: h("cloudfront-viewer-city"),
        latitude: h("cloudfront-viewer-latitude"),
        longitude: h("cloudfront-viewer-longitude"),
    }
}

/// Everything login touches in the store.
pub trait LoginStore:
    UserStore + TokenStore + SessionCreator + UserSessionReader + SessionEnder + TwoFactorStore + LoginLimitStore
{
}
impl<T: UserStore + TokenStore + SessionCreator + UserSessionReader + SessionEnder + TwoFactorStore + LoginLimitStore>
    LoginStore for T
{
}

/// One failed-login limit: reserves a try before the password is checked.
///
/// Rule (Rocket.Chat counts failures only): every password check runs under a try reserved
/// per source address and per login name, so parallel guesses get at most the limit's checks
/// per window. A wrong password keeps both tries; a right one gives the address's back and
/// clears the name's count (other users' failures from the address stay counted); a request
/// blocked by the name gives the address's back. A limit of 0 reserves nothing.
struct Limit {
    key: LoginLimitKey,
    held: Option<Reservation>,
}

impl Limit {
    /// `Err` when the limit is reached.
    async fn reserve<S: LoginLimitStore>(
        store: &S,
        key: LoginLimitKey,
        max: u32,
        config: &Config,
        now: Millis,
        blocked: Blocked,
    ) -> Result<Limit, ApiError> {
        if max == 0 {
            return Ok(Limit { key, held: None });
        }
        match store.reserve_login_try(&key, now, config.login_block_ms, max).await? {
            Some(held) => Ok(Limit { key, held: Some(held) }),
            None => Err(ApiError::LoginBlocked(blocked)),
        }
    }

    async fn release<S: LoginLimitStore>(self, store: &S) -> Result<(), ApiError> {
        if let Some(held) = self.held {
            store.release_login_try(&self.key, held).await?;
        }
        Ok(())
    }
}

/// POST /api/v1/login
pub async fn login<S: LoginStore, M: Mailer>(
    store: &S,
    mailer: &M,
    config: &Config,
    req: &ApiRequest,
    now: Millis,
) -> Result<LoggedIn, ApiError> {
    let creds = match parse_login(req)? {
        LoginRequest::Resume(token) => return resume(store, &token, now).await,
        LoginRequest::Password(creds) => creds,
    };
    // Both tries are reserved before any password check, in one round trip with the user's
    // lookup (reading the user checks nothing). The address is answered first, as Rocket.Chat
    // checks it first; a try taken by a request that is then blocked is given back.
    let ip_key = LoginLimitKey::ip(&req.source_ip());
    // The login as typed (lowercased): unknown names count too, and no name is confirmed.
    let user_key = LoginLimitKey::user(&creds.user);
    // One read when the name's link carries the login copy (store::users).
    let lookup = store.user_for_login(&creds.user, creds.by_email);
    let (ip, by_user, found) = tokio::join!(
        Limit::reserve(store, ip_key, config.login_failures_per_ip, config, now, Blocked::Ip),
        Limit::reserve(store, user_key, config.login_failures_per_user, config, now, Blocked::User),
        lookup
    );
    let (ip, by_user) = match (ip, by_user) {
        (Ok(ip), Ok(by_user)) => (ip, by_user),
        (Ok(ip), Err(e)) => {
            ip.release(store).await?;
            return Err(e);
        }
        (Err(e), Ok(by_user)) => {
            by_user.release(store).await?;
            return Err(e);
        }
        (Err(e), Err(_)) => return Err(e),
    };
    let found = found?;
    let user = match found {
        Some(u) if u.active && u.password_bcrypt.is_some() => {
            let hash = u.password_bcrypt.as_deref().unwrap_or_default();
            if bcrypt::verify(&creds.digest, hash).unwrap_or(false) { Some(u) } else { None }
        }
        _ => {
            let _ = bcrypt::verify(&creds.digest, decoy_hash(config.bcrypt_cost));
            None
        }
    };
    let user = user.ok_or(ApiError::LoginFailed)?;
    // The right password gives the address's try back and clears the name's count.
    let release = async {
        let clear =
            async { if by_user.held.is_some() { store.clear_login_failures(&by_user.key).await } else { Ok(()) } };
        tokio::try_join!(ip.release(store), async { clear.await.map_err(ApiError::from) }).map(|_| ())
    };
    let two_factor = !two_factor::available_methods(&user).is_empty();
    let release = if two_factor {
        // Released before the code is checked: a wrong code is no failed login.
        release.await?;
        two_factor::check_code(store, mailer, &user, req.header(METHOD_HEADER), creds.code.as_deref(), now).await?;
        None
    } else {
        Some(release)
    };
    let token = new_token();
    let session = Session {
        session_id: new_id(),
        user_id: user.user_id.clone(),
        device: parse_user_agent(req.user_agent()),
        host: req.header("host").unwrap_or("").chars().take(MAX_FIELD_LEN).collect(),
        ip: req.source_ip(),
        user_agent: req.user_agent().chars().take(1024).collect(),
        login_at: now,
        last_activity_at: now,
        expires_at: now.div_euclid(1000) + config.token_lifetime_secs,
        client_ids: creds.client_id.into_iter().collect(),
        geo: geo(req, config.trust_cloudfront_geo),
        user: user.as_ref(),
    };
    // Written first, capped after: see `enforce_cap`. A create that fails wrote nothing,
    // unless every retry lost the answer to a committed try: that session's token was
    // never shown, and the user's next login caps it (or TTL removes it).
    // Without 2FA the tries are given back in the same round trip as the write; the cap
    // waits for both, so a login that fails there ends nothing.
    let token_hash = hash_token(&token);
    let created = store.create_session(&session, &token_hash);
    let released = match release {
        Some(release) => {
            let (released, created) = tokio::join!(release, created);
            created?;
            released
        }
        None => created.await.map_err(ApiError::from),
    };
    let capped = match released {
        Ok(()) => enforce_cap(store, config.max_sessions_per_user, &user.user_id, &session.session_id, now).await,
        Err(e) => Err(e),
    };
    match capped {
        Ok(true) => Ok(LoggedIn { user, token, session_id: session.session_id }),
        // Its own session was ended by its own pass, like any other past the cap.
        Ok(false) => Err(ApiError::Unavailable("as many newer logins of the user ran at once as the cap".into())),
        Err(e) => {
            // Answered as failed, so its session goes too (its token was never shown).
            // Bounded: if DynamoDB still fails, the session stays until the user's next
            // login caps it again, or TTL removes it.
            let ending = store.end_session(&user.user_id, &session.session_id, now);
            if !matches!(tokio::time::timeout(CLEANUP_BUDGET, ending).await, Ok(Ok(_))) {
                tracing::warn!(session_id = %session.session_id, "a failed login's session could not be ended");
            }
            Err(e)
        }
    }
}

/// Longest a failed login spends ending its own new session.
const CLEANUP_BUDGET: std::time::Duration = std::time::Duration::from_millis(1500);

/// Ends the user's live sessions past the `cap` newest (by loginAt, then sessionId),
/// oldest first; false if `new_session` was one of them. Every login runs it after
/// writing its own session, from a consistent query: the last login to query sees every
/// other login's session, so once all have finished at most `cap` are live, and they are
/// the newest — the same as if the logins had run one after another. (Sparing the new
/// session instead would let parallel logins end each other's sessions.) A session
/// another call ended meanwhile counts as ended; one that cannot be ended is an error.
async fn enforce_cap(
    store: &(impl UserSessionReader + SessionEnder),
    cap: usize,
    user_id: &str,
    new_session: &str,
    now: Millis,
) -> Result<bool, ApiError> {
    let mut live: Vec<Session> = store.user_sessions(user_id).await?.into_iter().filter(|s| s.is_live(now)).collect();
    live.sort_by(|a, b| a.login_at.cmp(&b.login_at).then_with(|| a.session_id.cmp(&b.session_id)));
    let excess = live.len().saturating_sub(cap);
    for old in &live[..excess] {
        store.end_session(user_id, &old.session_id, now).await?;
    }
    Ok(live[..excess].iter().all(|s| s.session_id != new_session))
}

/// POST /api/v1/logout: ends the calling token's session; the token gets 401 at once.
pub async fn logout<S: crate::rocketchat::auth::AuthStore + SessionEnder>(
    store: &S,
    req: &ApiRequest,
    now: Millis,
) -> Result<(), ApiError> {
    let caller = authenticate(store, req, now).await?;
    store.end_session(&caller.user_id, &caller.session_id, now).await?;
    Ok(())
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
