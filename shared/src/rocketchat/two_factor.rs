//! Rocket.Chat's two-factor authentication for REST calls (docs/login-and-2fa.md, "Two-factor
//! authentication"): one check every 2FA route and login use.
//!
//! Order: a token trusted for this client → method selection → the wrong-code limit →
//! the code (missing: totp-required, and an email code is sent) → verification.

use serde::Serialize;

use crate::core::clock::Millis;
use crate::core::config::Config;
use crate::core::ids::sha256_hex;
use crate::core::model::User;
use crate::core::totp;
use crate::mailer::Mailer;
use crate::request::{ApiRequest, RequestView};
use crate::rocketchat::auth::Caller;
use crate::rocketchat::errors::ApiError;
use crate::store::{EmailCode, TwoFactorStore};

pub const CODE_HEADER: &str = "x-2fa-code";
pub const METHOD_HEADER: &str = "x-2fa-method";
/// Email codes stay valid for an hour.
pub const EMAIL_CODE_TTL_MS: i64 = 60 * 60 * 1000;
/// Wrong tries one email code survives.
pub const EMAIL_CODE_MAX_ATTEMPTS: u32 = 5;

/// A second factor.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Method {
    Totp,
    Email,
    Password,
}

impl Method {
    pub fn name(self) -> &'static str {
        match self {
            Method::Totp => "totp",
            Method::Email => "email",
            Method::Password => "password",
        }
    }
}

/// The 2FA methods the user has enabled, in preference order (password is not one).
pub fn available_methods(user: &User) -> Vec<Method> {
    let mut methods = Vec::new();
    if user.two_factor.totp_secret.is_some() {
        methods.push(Method::Totp);
    }
    if user.two_factor.email && !user.emails.is_empty() {
        methods.push(Method::Email);
    }
    methods
}

/// The method asked for if the user has it, else the first enabled one, else the
/// password; `None` when the user has no way to answer a challenge.
pub fn select_method(user: &User, requested: Option<&str>) -> Option<Method> {
    let available = available_methods(user);
    let requested = requested.map(|m| m.trim().to_ascii_lowercase());
    if let Some(m) = available.iter().find(|m| Some(m.name()) == requested.as_deref()) {
        return Some(*m);
    }
    available.first().copied().or(user.password_bcrypt.as_ref().map(|_| Method::Password))
}

/// What a token's 2FA trust is bound to: the client's user agent and IP.
pub fn fingerprint(user_agent: &str, ip: &str) -> String {
    sha256_hex(&format!("{user_agent}\n{ip}"))
}

fn email_code_hash(user_id: &str, code: &str) -> String {
    sha256_hex(&format!("sessions-api email code\n{user_id}\n{code}"))
}

/// Checks the request's second factor for `user`; `Ok` lets the route run.
pub async fn require<S: TwoFactorStore, M: Mailer>(
    store: &S,
    mailer: &M,
    config: &Config,
    user: &User,
    caller: &Caller,
    req: &ApiRequest,
    now: Millis,
) -> Result<(), ApiError> {
    let fp = fingerprint(req.user_agent(), &req.client_ip(config.trust_cloudfront_geo));
    if caller.two_factor_trusted_until.is_some_and(|until| until > now)
        && caller.two_factor_fingerprint.as_deref() == Some(fp.as_str())
    {
        return Ok(());
    }
    check_code(store, mailer, config, user, req.header(METHOD_HEADER), req.header(CODE_HEADER), now).await?;
    let until = now + config.two_factor_remember_secs * 1000;
    if config.two_factor_remember_secs > 0 {
        store.trust_token(&caller.token_hash, until, &fp).await?;
    }
    Ok(())
}

/// Verifies a code for `user` without touching any token's trust (2FA routes and login).
///
/// Limit rule: a code is evaluated only under a try reserved beforehand by one conditional
/// write on the user's window (`store::window`), so any number of parallel codes gets at most
/// `config.two_factor_max_failures` evaluations per `config.two_factor_failure_window_ms`. A
/// wrong code keeps its try; a right one gives it back, so only wrong codes count once they
/// are answered. A request without a code evaluates nothing, so it only reads the window
/// (for totp-max-attempts).
pub async fn check_code<S: TwoFactorStore, M: Mailer>(
    store: &S,
    mailer: &M,
    config: &Config,
    user: &User,
    requested_method: Option<&str>,
    code: Option<&str>,
    now: Millis,
) -> Result<(), ApiError> {
    let Some(method) = select_method(user, requested_method) else {
        // Nothing to challenge with (no 2FA and no password), as Rocket.Chat.
        return Ok(());
    };
    let max_attempts = ApiError::TotpMaxAttempts { method: method.name() };
    let window = config.two_factor_failure_window_ms;
    let code = code.map(str::trim).unwrap_or("");
    if code.is_empty() {
        if store.failures(&user.user_id, now, window).await? >= config.two_factor_max_failures {
            return Err(max_attempts);
        }
        let available: Vec<&'static str> = available_methods(user).iter().map(|m| m.name()).collect();
        let code_generated = method == Method::Email && send_email_code(store, mailer, user, now).await?;
        return Err(ApiError::TotpRequired { method: method.name(), code_generated, available });
    }
    let Some(held) = store.reserve_code_try(&user.user_id, now, window, config.two_factor_max_failures).await? else {
        return Err(max_attempts);
    };
    // A store error from here on leaves the try counted, erring on the side of the limit.
    let ok = match method {
        Method::Totp => check_totp(store, user, code, now).await?,
        Method::Email => check_email(store, user, code, now).await?,
        Method::Password => check_password(user, code),
    };
    if ok {
        store.release_code_try(&user.user_id, held).await?;
        Ok(())
    } else {
        Err(ApiError::TotpInvalid { method: method.name() })
    }
}

async fn check_totp<S: TwoFactorStore>(store: &S, user: &User, code: &str, now: Millis) -> Result<bool, ApiError> {
    let Some(secret) = user.two_factor.totp_secret.as_deref() else {
        return Ok(false);
    };
    if let Some(step) = totp::verify(secret, code, now.div_euclid(1000)) {
        // Accepted once: a replay of this step (or an earlier one) fails the condition.
        return Ok(store.use_totp_step(&user.user_id, step).await?);
    }
    if code.len() == 8 {
        let hash = sha256_hex(&code.to_ascii_lowercase());
        if user.two_factor.backup_codes.contains(&hash) {
            return Ok(store.use_backup_code(&user.user_id, &hash).await?);
        }
    }
    Ok(false)
}

async fn check_email<S: TwoFactorStore>(store: &S, user: &User, code: &str, now: Millis) -> Result<bool, ApiError> {
    let hash = email_code_hash(&user.user_id, code);
    Ok(store.consume_email_code(&user.user_id, &hash, now, EMAIL_CODE_MAX_ATTEMPTS).await?)
}

fn check_password(user: &User, code: &str) -> bool {
    let Some(hash) = user.password_bcrypt.as_deref() else { return false };
    // The code is the SHA-256 hex of the password; Rocket.Chat stores bcrypt of that hex.
    code.len() == 64 && bcrypt::verify(code.to_ascii_lowercase(), hash).unwrap_or(false)
}

/// Generates, stores (hashed) and sends a new email code; false if the user has no address.
async fn send_email_code<S: TwoFactorStore, M: Mailer>(
    store: &S,
    mailer: &M,
    user: &User,
    now: Millis,
) -> Result<bool, ApiError> {
    let Some(to) = user.emails.first() else { return Ok(false) };
    let code = totp::random_digits(6);
    let pending = EmailCode {
        code_hash: email_code_hash(&user.user_id, &code),
        expires_at: now + EMAIL_CODE_TTL_MS,
        attempts: 0,
    };
    store.put_email_code(&user.user_id, &pending).await?;
    let body = format!(
        "Your verification code is {code}. It is valid for one hour.\n\nIf you did not ask for it, change your password."
    );
    mailer.send(to, "Sessions API verification code", &body, now).await?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::model::TwoFactor;

    fn user(totp: bool, email: bool, password: bool) -> User {
        User {
            user_id: "u".into(),
            username: "u".into(),
            name: None,
            emails: vec!["u@example.com".into()],
            roles: vec![],
            password_bcrypt: password.then(|| "hash".into()),
            active: true,
            two_factor: TwoFactor {
                totp_secret: totp.then(|| "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ".into()),
                totp_last_step: 0,
                backup_codes: vec![],
                email,
            },
        }
    }

    #[test]
    fn a_second_factor_is_what_lists_a_method() {
        for (totp, email, emails) in
            [(false, false, true), (true, false, true), (false, true, true), (false, true, false)]
        {
            let mut u = user(totp, email, true);
            if !emails {
                u.emails.clear();
            }
            assert_eq!(u.has_second_factor(), !available_methods(&u).is_empty(), "{totp} {email} {emails}");
        }
    }

    #[test]
    fn method_selection() {
        assert_eq!(select_method(&user(true, true, true), None), Some(Method::Totp));
        assert_eq!(select_method(&user(true, true, true), Some("EMAIL")), Some(Method::Email));
        assert_eq!(select_method(&user(true, false, true), Some("email")), Some(Method::Totp));
        assert_eq!(select_method(&user(false, true, true), None), Some(Method::Email));
        assert_eq!(select_method(&user(false, false, true), Some("totp")), Some(Method::Password));
        assert_eq!(select_method(&user(false, false, false), None), None);
        assert_eq!(available_methods(&user(true, true, false)), [Method::Totp, Method::Email]);
        assert!(available_methods(&user(false, false, true)).is_empty());
    }

    #[test]
    fn fingerprints_differ_by_agent_and_ip() {
        assert_eq!(fingerprint("a", "1"), fingerprint("a", "1"));
        assert_ne!(fingerprint("a", "1"), fingerprint("a", "2"));
        assert_ne!(fingerprint("a", "1"), fingerprint("b", "1"));
    }
}
