//! POST /api/v1/login and /api/v1/logout: sessions from real sign-ins (docs/login-and-2fa.md,
//! "Login"). The body is parsed in [`crate::rocketchat::login_body`].

use std::sync::OnceLock;

use super::ApiError;
use crate::core::audit::{self, Attempt, Refusal};
use crate::core::clock::Millis;
use crate::core::config::Config;
use crate::core::device::parse_user_agent;
use crate::core::history::{EndReason, Ending};
use crate::core::ids::{hash_token, new_id, new_token, sha256_hex};
use crate::core::model::{Session, User};
use crate::mailer::Mailer;
use crate::request::{ApiRequest, RequestView};
use crate::rocketchat::auth::authenticate;
use crate::rocketchat::errors::Blocked;
use crate::rocketchat::login_body::{Credentials, LoginRequest, MAX_FIELD_LEN, ResumeToken, parse_login};
use crate::rocketchat::two_factor::{self, METHOD_HEADER};
use crate::store::{
    AccountGuard, ActivityRecorder, AuditLogStore, LoginLimit, LoginLimitKey, LoginLimitStore, Reservation,
    SessionCreator, SessionEnder, StoreError, TokenStore, TwoFactorStore, UserSessionReader, UserStore,
};

/// A successful login: the user and the new token (shown once, stored only hashed).
#[derive(Clone, PartialEq, Eq)]
pub struct LoggedIn {
    pub user: User,
    pub token: String,
    pub session_id: String,
}

crate::debug_redacted!(LoggedIn { user, session_id } redacted { token });

/// `{"resume": token}`: the same success body for a live token of an active user, without
/// a new session; anything else (an idle session included) is the one login 401.
pub async fn resume<S: TokenStore + UserStore + ActivityRecorder>(
    store: &S,
    token: &ResumeToken,
    now: Millis,
) -> Result<LoggedIn, ApiError> {
    if token.0.is_empty() || token.0.len() > MAX_FIELD_LEN {
        return Err(ApiError::LoginFailed);
    }
    let record = store.token(&hash_token(&token.0)).await?.filter(|r| r.is_live(now)).ok_or(ApiError::LoginFailed)?;
    if store.activity_policy().idle(record.last_activity_at, now) {
        return Err(ApiError::LoginFailed);
    }
    let user = store.user(&record.user_id).await?.filter(|u| u.active).ok_or(ApiError::LoginFailed)?;
    Ok(LoggedIn { user, token: token.0.clone(), session_id: record.session_id })
}

/// A bcrypt hash to verify against when the user does not exist, so that an unknown
/// user takes as long as a wrong password.
fn decoy_hash(cost: u32) -> &'static str {
    static DECOY: OnceLock<String> = OnceLock::new();
    DECOY.get_or_init(|| bcrypt::hash(sha256_hex("decoy password"), cost).unwrap_or_default())
}

/// Everything login touches in the store.
pub trait LoginStore:
    AuditLogStore
    + UserStore
    + TokenStore
    + SessionCreator
    + UserSessionReader
    + SessionEnder
    + TwoFactorStore
    + LoginLimitStore
    + ActivityRecorder
{
}
impl<T> LoginStore for T where
    T: AuditLogStore
        + UserStore
        + TokenStore
        + SessionCreator
        + UserSessionReader
        + SessionEnder
        + TwoFactorStore
        + LoginLimitStore
        + ActivityRecorder
{
}

/// One failed-login limit: a try reserved before a password check is answered.
///
/// Rule (Rocket.Chat's, docs/login-and-2fa.md "Failed logins"): every password check runs
/// under a try reserved per source address, beside the user's lookup; a wrong password is
/// answered only under a try reserved per account (all its names; a name that matched none
/// counts alone); a right one only if the account is not blocked, checked by the write that
/// clears its count (the session's transaction, or before a second factor). So parallel
/// guesses get at most the limits' answers, and a right password adds no round trip. A success
/// clears both counts, as Rocket.Chat counts failures since the last successful login; a
/// request the account blocks gives the address's try back. A limit of 0 reserves nothing.
struct Limit {
    key: LoginLimitKey,
    held: Option<Reservation>,
}

impl Limit {
    /// `Err` when the limit is reached.
    async fn reserve<S: LoginLimitStore>(
        store: &S,
        key: LoginLimitKey,
        limit: LoginLimit,
        now: Millis,
        blocked: Blocked,
    ) -> Result<Limit, ApiError> {
        if limit.max == 0 {
            return Ok(Limit { key, held: None });
        }
        match store.reserve_login_try(&key, now, limit).await? {
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

    /// After a successful login: every counted failure forgotten. Best effort: a clear that
    /// fails leaves the failures counted (the strict side) and fails no login.
    async fn clear<S: LoginLimitStore>(self, store: &S) {
        if self.held.is_some()
            && let Err(e) = store.clear_login_failures(&self.key).await
        {
            tracing::warn!(error = %e, "a successful login's address count was not cleared");
        }
    }
}

/// The password check, on a blocking thread (bcrypt is CPU work).
async fn check_password_off_thread(
    found: Option<User>,
    creds: &Credentials,
    config: &Config,
) -> Result<User, ApiError> {
    let (digest, cost) = (creds.digest.clone(), config.bcrypt_cost);
    match tokio::task::spawn_blocking(move || check_password(found, &digest, cost)).await {
        Ok(user) => user.ok_or(ApiError::LoginFailed),
        Err(_) => Err(ApiError::Unavailable("the password check did not finish".into())),
    }
}

/// The user if the password is right for an active account with one; an unknown user is
/// checked against a decoy hash, so that it takes as long as a wrong password.
fn check_password(found: Option<User>, digest: &str, bcrypt_cost: u32) -> Option<User> {
    match found {
        Some(u) if u.active && u.password_bcrypt.is_some() => {
            let hash = u.password_bcrypt.as_deref().unwrap_or_default();
            if bcrypt::verify(digest, hash).unwrap_or(false) { Some(u) } else { None }
        }
        _ => {
            let _ = bcrypt::verify(digest, decoy_hash(bcrypt_cost));
            None
        }
    }
}

/// The new session of a login: device and OS from the User-Agent, host, address, its
/// location (request::ApiRequest::location), and the token's lifetime.
fn new_session(req: &ApiRequest, user: &User, client_id: Option<String>, config: &Config, now: Millis) -> Session {
    Session {
        session_id: new_id(),
        user_id: user.user_id.clone(),
        device: parse_user_agent(req.user_agent()),
        host: req.header("host").unwrap_or("").chars().take(MAX_FIELD_LEN).collect(),
        ip: req.client_ip(config.trust_cloudfront_geo),
        user_agent: req.user_agent().chars().take(1024).collect(),
        login_at: now,
        last_activity_at: now,
        last_use: None,
        risk: None,
        expires_at: now.div_euclid(1000) + config.token_lifetime_secs,
        client_ids: client_id.into_iter().collect(),
        geo: req.location(config.trust_cloudfront_geo),
        user: user.as_ref(),
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
    let Checked { ip, user, attempt } = checked_password(store, config, req, &creds, now).await?;
    let guard = AccountGuard::of(&user.user_id, config.login_limit_user(), now);
    let token = new_token();
    let session = new_session(req, &user, creds.client_id.clone(), config, now);
    let written = (&session, hash_token(&token));
    let cap = config.max_sessions_per_user;
    if two_factor::available_methods(&user).is_empty() {
        // The account's guard in the session's transaction; the address cleared once it holds.
        create_capped(store, cap, (written.0, &written.1), guard.as_ref(), Some(ip), &attempt, now).await?;
    } else {
        // Cleared before the code is checked, unless blocked: a wrong code is no failed login.
        let unblocked = match &guard {
            Some(guard) => store.clear_unless_blocked(guard).await,
            None => Ok(true),
        };
        match unblocked {
            Ok(true) => {}
            Ok(false) => return Err(blocked_by_account(store, &attempt, ip, now).await),
            Err(e) => {
                ip.release(store).await?;
                return Err(e.into());
            }
        }
        let code = creds.code.as_deref();
        let ((), checked) = tokio::join!(
            ip.clear(store),
            two_factor::check_code(store, mailer, config, &user, req.header(METHOD_HEADER), code, now)
        );
        refusing(store, &attempt, checked, now).await?;
        create_capped(store, cap, (written.0, &written.1), None, None, &attempt, now).await?;
    }
    Ok(LoggedIn { user, token, session_id: session.session_id })
}

/// A right password: the user, the address's try it was checked under, and the attempt a
/// later refusal (a blocked account, a wrong second factor) records.
struct Checked {
    ip: Limit,
    user: User,
    attempt: Attempt,
}

/// The user whose password is right. The address's try beside the user's lookup (one read
/// when the name's link carries the login copy, store::users), then the password check; a
/// wrong password then reserves the account's try before it is answered.
async fn checked_password<S: LoginStore>(
    store: &S,
    config: &Config,
    req: &ApiRequest,
    creds: &Credentials,
    now: Millis,
) -> Result<Checked, ApiError> {
    let ip_key = LoginLimitKey::ip(&req.client_ip(config.trust_cloudfront_geo));
    let (ip, found) = tokio::join!(
        Limit::reserve(store, ip_key, config.login_limit_ip(), now, Blocked::Ip),
        store.user_for_login(&creds.user, creds.by_email)
    );
    let attempt = attempt_of(req, &creds.user, found.as_ref().ok().and_then(Option::as_ref), config);
    let ip = refusing(store, &attempt, ip, now).await?;
    let found = match found {
        Ok(found) => found,
        Err(e) => {
            ip.release(store).await?;
            return Err(e.into());
        }
    };
    let account = LoginLimitKey::user(found.as_ref().map(|u| u.user_id.as_str()), &creds.user);
    match check_password_off_thread(found, creds, config).await {
        Ok(user) => Ok(Checked { ip, user, attempt }),
        Err(ApiError::LoginFailed) => {
            match Limit::reserve(store, account, config.login_limit_user(), now, Blocked::User).await {
                Ok(_) => refusing(store, &attempt, Err(ApiError::LoginFailed), now).await,
                Err(ApiError::LoginBlocked(_)) => Err(blocked_by_account(store, &attempt, ip, now).await),
                Err(e) => Err(e),
            }
        }
        Err(e) => {
            ip.release(store).await?;
            Err(e)
        }
    }
}

/// A login the account's block refuses: the address's try given back (it was no failure
/// from there), the refusal in the audit log, at once.
async fn blocked_by_account<S: LoginStore>(store: &S, attempt: &Attempt, ip: Limit, now: Millis) -> ApiError {
    let (released, refused) = tokio::join!(ip.release(store), refusing_blocked(store, attempt, now));
    if let Err(e) = released {
        tracing::warn!(error = %e, "a blocked login's address try was not given back");
    }
    refused
}

/// The audit entry of a login the account's block refuses, and its answer.
async fn refusing_blocked(store: &impl AuditLogStore, attempt: &Attempt, now: Millis) -> ApiError {
    match refusing::<()>(store, attempt, Err(ApiError::LoginBlocked(Blocked::User)), now).await {
        Err(e) => e,
        Ok(()) => ApiError::LoginBlocked(Blocked::User),
    }
}

/// The attempt a refused login records: the name as typed, the user it matched, the client.
fn attempt_of(req: &ApiRequest, login: &str, user: Option<&User>, config: &Config) -> Attempt {
    Attempt {
        user_id: user.map(|u| u.user_id.clone()),
        username: user.map(|u| u.username.clone()),
        login: login.chars().take(MAX_FIELD_LEN).collect(),
        ip: req.client_ip(config.trust_cloudfront_geo),
        user_agent: req.user_agent().chars().take(1024).collect(),
        geo: req.location(config.trust_cloudfront_geo),
        request_id: req.request_id(),
    }
}

/// Passes `outcome` on; a refusal (a wrong password, a block, a wrong second-factor code) is
/// first written to the audit log, which the stream publishes as `Login Failed` or `Login
/// Blocked` (docs/audit-log.md). The one write a refused login adds; one that fails is logged
/// and the refusal answered all the same.
async fn refusing<T>(
    store: &impl AuditLogStore,
    attempt: &Attempt,
    outcome: Result<T, ApiError>,
    now: Millis,
) -> Result<T, ApiError> {
    let refusal = match &outcome {
        Err(ApiError::LoginFailed) => Refusal::Password,
        Err(ApiError::LoginBlocked(Blocked::User)) => Refusal::BlockedUser,
        Err(ApiError::LoginBlocked(Blocked::Ip)) => Refusal::BlockedIp,
        Err(ApiError::TotpInvalid { .. } | ApiError::TotpMaxAttempts { .. }) => Refusal::SecondFactor,
        _ => return outcome,
    };
    if let Err(e) = store.put_log(&audit::refused(new_id(), now, attempt, refusal)).await {
        tracing::warn!(error = %e, ?refusal, "a refused login was not written to the audit log");
    }
    outcome
}

/// Writes the session (with the account's `guard`), then caps the user's sessions
/// (`enforce_cap`) beside clearing the address's count (`ip`: a successful login resets it).
/// Written first, capped after: a create that fails wrote nothing, unless every retry lost
/// the answer to a committed try (that session's token was never shown, and the user's next
/// login caps it, or TTL removes it). A create the account's block refuses is `attempt`'s
/// refusal, and gives the address's try back: it was neither a failure nor a success.
async fn create_capped<S: LoginStore>(
    store: &S,
    cap: usize,
    (session, token_hash): (&Session, &str),
    guard: Option<&AccountGuard>,
    ip: Option<Limit>,
    attempt: &Attempt,
    now: Millis,
) -> Result<(), ApiError> {
    match (store.create_session(session, token_hash, guard).await, ip) {
        (Ok(()), ip) => {
            let clear = async {
                if let Some(ip) = ip {
                    ip.clear(store).await;
                }
            };
            let (capped, ()) = tokio::join!(enforce_cap(store, cap, &session.user_id, &session.session_id, now), clear);
            finish_capped(store, session, capped, now).await
        }
        (Err(StoreError::LoginBlocked), Some(ip)) => Err(blocked_by_account(store, attempt, ip, now).await),
        (Err(StoreError::LoginBlocked), None) => Err(refusing_blocked(store, attempt, now).await),
        (Err(e), _) => Err(e.into()),
    }
}

/// The cap's outcome: its own session ended by its own pass is an error, as is a cap that
/// failed, which ends the new session (its token is never shown).
async fn finish_capped<S: LoginStore>(
    store: &S,
    session: &Session,
    capped: Result<bool, ApiError>,
    now: Millis,
) -> Result<(), ApiError> {
    match capped {
        Ok(true) => Ok(()),
        // Its own session was ended by its own pass, like any other past the cap.
        Ok(false) => Err(ApiError::Unavailable("as many newer logins of the user ran at once as the cap".into())),
        Err(e) => {
            end_unanswered(store, session, now).await;
            Err(e)
        }
    }
}

/// Ends the session of a login answered as failed (its token was never shown). Bounded: if
/// DynamoDB still fails, the session stays until the user's next login caps it again, or
/// TTL removes it.
async fn end_unanswered(store: &impl SessionEnder, session: &Session, now: Millis) {
    let unanswered = Ending::by_system(EndReason::LoginUnanswered, now);
    let ending = store.end_session(&session.user_id, &session.session_id, &unanswered);
    if !matches!(tokio::time::timeout(CLEANUP_BUDGET, ending).await, Ok(Ok(_))) {
        tracing::warn!(session_id = %session.session_id, "a failed login's session could not be ended");
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
    let capped = Ending::by_user(EndReason::SessionCap, user_id, now);
    for old in &live[..excess] {
        store.end_session(user_id, &old.session_id, &capped).await?;
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
    store
        .end_session(&caller.user_id, &caller.session_id, &Ending::by_user(EndReason::Logout, &caller.user_id, now))
        .await?;
    Ok(())
}
