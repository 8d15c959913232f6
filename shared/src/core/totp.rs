//! TOTP (RFC 6238: SHA-1, 6 digits, 30 s, via totp-rs) with base32 secrets and
//! `otpauth://` URIs, plus the other one-time codes: backup codes and email codes.

use totp_rs::{Builder, Secret, Totp};

/// Seconds per TOTP step.
pub const STEP_SECS: u64 = 30;
/// Steps either side of now that still verify (clock skew).
pub const SKEW_STEPS: u16 = 1;
/// Bytes in a new secret (160 bits, as RFC 4226 recommends).
const SECRET_BYTES: usize = 20;

/// Decodes a base32 secret, tolerating lowercase, spaces and `=` padding as typed by people.
fn parse_secret(secret_b32: &str) -> Option<Secret> {
    let cleaned: String =
        secret_b32.chars().filter(|c| *c != ' ' && *c != '=').map(|c| c.to_ascii_uppercase()).collect();
    Secret::try_from_base32(cleaned).ok()
}

/// Our TOTP parameters around `secret`. Not `build()`: that rejects secrets under 128 bits,
/// and enrolment has accepted 80-bit ones.
fn totp(secret: Secret) -> Totp {
    Builder::new().with_secret(secret).with_step_duration(STEP_SECS).with_skew(SKEW_STEPS).build_noncompliant()
}

/// Bytes in a base32 secret, or `None` if it is not base32.
pub fn secret_len(secret_b32: &str) -> Option<usize> {
    parse_secret(secret_b32).map(|s| s.as_bytes().len())
}

/// The code at a Unix time, zero-padded; `None` if the secret is not base32.
pub fn code_at(secret_b32: &str, unix_secs: i64) -> Option<String> {
    let totp = totp(parse_secret(secret_b32)?);
    Some(totp.generate(unix_secs.max(0) as u64).to_string())
}

/// The step within ±[`SKEW_STEPS`] of `unix_secs` whose code is `code`, if any, so the caller
/// can accept each step only once.
pub fn verify(secret_b32: &str, code: &str, unix_secs: i64) -> Option<i64> {
    let totp = totp(parse_secret(secret_b32)?);
    totp.check(code, unix_secs.max(0) as u64).and_then(|step| i64::try_from(step).ok())
}

/// A new 160-bit secret, base32-encoded without padding.
pub fn new_secret() -> String {
    let mut bytes = [0u8; SECRET_BYTES];
    getrandom::fill(&mut bytes).expect("the OS random source is unavailable");
    Secret::new_stack(bytes).to_base32()
}

/// The URI authenticator apps import (usually from a QR code); `None` if the secret is not
/// base32 or the account name is empty or has a `:`.
pub fn otpauth_uri(secret_b32: &str, account: &str, issuer: &str) -> Option<String> {
    let secret = parse_secret(secret_b32)?;
    let totp = Builder::new()
        .with_secret(secret)
        .with_step_duration(STEP_SECS)
        .with_account_name(account)
        .with_issuer(Some(issuer))
        .build_noncompliant();
    totp.to_url().ok()
}

/// `n` uniformly random digits.
pub fn random_digits(n: usize) -> String {
    let mut out = String::with_capacity(n);
    let mut buf = [0u8; 32];
    while out.len() < n {
        getrandom::fill(&mut buf).expect("the OS random source is unavailable");
        for &b in &buf {
            if b < 250 && out.len() < n {
                out.push((b'0' + b % 10) as char);
            }
        }
    }
    out
}

/// Ten 8-character backup codes (lowercase letters and digits).
pub fn new_backup_codes() -> Vec<String> {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyz23456789";
    (0..10)
        .map(|_| {
            let mut buf = [0u8; 8];
            getrandom::fill(&mut buf).expect("the OS random source is unavailable");
            buf.iter().map(|b| ALPHABET[(*b as usize) % ALPHABET.len()] as char).collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238's SHA-1 key, "12345678901234567890", in base32.
    const RFC_SECRET: &str = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";

    #[test]
    fn rfc4226_vectors() {
        let expected =
            ["755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583", "399871", "520489"];
        for (counter, want) in expected.iter().enumerate() {
            assert_eq!(code_at(RFC_SECRET, counter as i64 * 30).as_deref(), Some(*want), "counter={counter}");
        }
    }

    #[test]
    fn rfc6238_sha1_vectors_last_six_digits() {
        for (t, want) in [
            (59, "287082"),
            (1111111109, "081804"),
            (1111111111, "050471"),
            (1234567890, "005924"),
            (2000000000, "279037"),
        ] {
            assert_eq!(code_at(RFC_SECRET, t).as_deref(), Some(want), "t={t}");
        }
    }

    #[test]
    fn accepts_one_step_of_skew_and_no_more() {
        let now = 1_700_000_000;
        let step = now / 30;
        let code = |dt: i64| code_at(RFC_SECRET, now + dt).unwrap();
        assert_eq!(verify(RFC_SECRET, &code(0), now), Some(step));
        assert_eq!(verify(RFC_SECRET, &code(-30), now), Some(step - 1));
        assert_eq!(verify(RFC_SECRET, &code(30), now), Some(step + 1));
        assert_eq!(verify(RFC_SECRET, &code(-90), now), None);
        assert_eq!(verify(RFC_SECRET, "12345", now), None);
        assert_eq!(verify(RFC_SECRET, "abcdef", now), None);
        assert_eq!(verify("1!", &code(0), now), None);
    }

    #[test]
    fn secrets_are_base32_as_people_type_it() {
        assert_eq!(secret_len("MZXW6YTBOI"), Some(6));
        assert_eq!(secret_len("MZXW6YTBOI======"), Some(6));
        assert_eq!(secret_len("mzxw 6ytb oi"), Some(6));
        assert_eq!(secret_len("1!"), None);
        assert_eq!(code_at(&RFC_SECRET.to_lowercase(), 59).as_deref(), Some("287082"));
        let s = new_secret();
        assert_eq!(s.len(), 32);
        assert_eq!(secret_len(&s), Some(20));
    }

    #[test]
    fn uri_and_codes() {
        let uri = otpauth_uri(RFC_SECRET, "test user", "Sessions API").unwrap();
        assert_eq!(uri, format!("otpauth://totp/Sessions%20API:test%20user?secret={RFC_SECRET}&issuer=Sessions%20API"));
        assert_eq!(otpauth_uri(RFC_SECRET, "a:b", "Sessions API"), None);
        let d = random_digits(6);
        assert!(d.len() == 6 && d.bytes().all(|b| b.is_ascii_digit()));
        let codes = new_backup_codes();
        assert_eq!(codes.len(), 10);
        assert!(codes.iter().all(|c| c.len() == 8));
    }
}
