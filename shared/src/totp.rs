//! RFC 6238 TOTP (SHA-1, 6 digits, 30 s) and the one-time codes around it: base32
//! secrets, `otpauth://` URIs, backup codes and email codes.

use hmac::{Hmac, Mac};
use sha1::Sha1;

/// Seconds per TOTP step.
pub const STEP_SECS: i64 = 30;
/// Steps either side of now that still verify (clock skew).
pub const SKEW_STEPS: i64 = 1;
const DIGITS: u32 = 6;
const BASE32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// RFC 4226 HOTP value for `counter`, reduced to six digits.
pub fn hotp(secret: &[u8], counter: u64) -> u32 {
    let mut mac = Hmac::<Sha1>::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(&counter.to_be_bytes());
    let digest = mac.finalize().into_bytes();
    let offset = (digest[19] & 0x0f) as usize;
    let bin = u32::from_be_bytes([digest[offset] & 0x7f, digest[offset + 1], digest[offset + 2], digest[offset + 3]]);
    bin % 10u32.pow(DIGITS)
}

/// The step a Unix time falls in.
pub fn step_at(unix_secs: i64) -> i64 {
    unix_secs.div_euclid(STEP_SECS)
}

/// The code for a step, zero-padded.
pub fn code_for_step(secret: &[u8], step: i64) -> String {
    format!("{:06}", hotp(secret, step.max(0) as u64))
}

/// The step within ±[`SKEW_STEPS`] of `unix_secs` whose code is `code`, if any. Compares
/// every candidate so timing does not tell which step matched.
pub fn matching_step(secret: &[u8], code: &str, unix_secs: i64) -> Option<i64> {
    if code.len() != DIGITS as usize || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let now = step_at(unix_secs);
    let mut found = None;
    for step in (now - SKEW_STEPS)..=(now + SKEW_STEPS) {
        if constant_time_eq(code_for_step(secret, step).as_bytes(), code.as_bytes()) && found.is_none() {
            found = Some(step);
        }
    }
    found
}

/// Equality that takes the same time wherever the inputs differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// RFC 4648 base32 without padding, as authenticator apps expect secrets.
pub fn base32_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(5) * 8);
    for chunk in bytes.chunks(5) {
        let mut buf = [0u8; 5];
        buf[..chunk.len()].copy_from_slice(chunk);
        let n = u64::from_be_bytes([0, 0, 0, buf[0], buf[1], buf[2], buf[3], buf[4]]);
        let chars = (chunk.len() * 8).div_ceil(5);
        for i in 0..chars {
            out.push(BASE32[((n >> (35 - 5 * i)) & 31) as usize] as char);
        }
    }
    out
}

/// Decodes base32 (case-insensitive, spaces and padding ignored).
pub fn base32_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 5 / 8);
    let (mut acc, mut bits) = (0u64, 0u32);
    for c in text.bytes().filter(|c| *c != b'=' && *c != b' ') {
        let v = BASE32.iter().position(|b| *b == c.to_ascii_uppercase())? as u64;
        acc = (acc << 5) | v;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

/// A new 160-bit secret, base32-encoded.
pub fn new_secret() -> String {
    let mut bytes = [0u8; 20];
    getrandom::fill(&mut bytes).expect("the OS random source is unavailable");
    base32_encode(&bytes)
}

/// The URI authenticator apps import (usually from a QR code).
pub fn otpauth_uri(secret_b32: &str, account: &str, issuer: &str) -> String {
    let enc =
        |s: &str| -> String { form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>().replace('+', "%20") };
    format!(
        "otpauth://totp/{}:{}?secret={secret_b32}&issuer={}&algorithm=SHA1&digits=6&period=30",
        enc(issuer),
        enc(account),
        enc(issuer)
    )
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

    const RFC_SECRET: &[u8] = b"12345678901234567890";

    #[test]
    fn rfc4226_vectors() {
        let expected = [755224, 287082, 359152, 969429, 338314, 254676, 287922, 162583, 399871, 520489];
        for (counter, want) in expected.iter().enumerate() {
            assert_eq!(hotp(RFC_SECRET, counter as u64), *want);
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
            assert_eq!(code_for_step(RFC_SECRET, step_at(t)), want, "t={t}");
        }
    }

    #[test]
    fn accepts_one_step_of_skew_and_no_more() {
        let now = 1_700_000_000;
        let code = |dt: i64| code_for_step(RFC_SECRET, step_at(now + dt));
        assert_eq!(matching_step(RFC_SECRET, &code(0), now), Some(step_at(now)));
        assert_eq!(matching_step(RFC_SECRET, &code(-30), now), Some(step_at(now) - 1));
        assert_eq!(matching_step(RFC_SECRET, &code(30), now), Some(step_at(now) + 1));
        assert_eq!(matching_step(RFC_SECRET, &code(-90), now), None);
        assert_eq!(matching_step(RFC_SECRET, "12345", now), None);
        assert_eq!(matching_step(RFC_SECRET, "abcdef", now), None);
    }

    #[test]
    fn base32_round_trips_and_matches_rfc4648() {
        assert_eq!(base32_encode(b"foobar"), "MZXW6YTBOI");
        assert_eq!(base32_decode("MZXW6YTBOI======").unwrap(), b"foobar");
        assert_eq!(base32_decode("mzxw 6ytb oi").unwrap(), b"foobar");
        assert_eq!(base32_decode("1!"), None);
        let s = new_secret();
        assert_eq!(s.len(), 32);
        assert_eq!(base32_decode(&s).unwrap().len(), 20);
    }

    #[test]
    fn uri_and_codes() {
        let uri = otpauth_uri("ABC", "test user", "Sessions API");
        assert_eq!(
            uri,
            "otpauth://totp/Sessions%20API:test%20user?secret=ABC&issuer=Sessions%20API&algorithm=SHA1&digits=6&period=30"
        );
        let d = random_digits(6);
        assert!(d.len() == 6 && d.bytes().all(|b| b.is_ascii_digit()));
        let codes = new_backup_codes();
        assert_eq!(codes.len(), 10);
        assert!(codes.iter().all(|c| c.len() == 8));
    }

    #[test]
    fn constant_time_equality() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
