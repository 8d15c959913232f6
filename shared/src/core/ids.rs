//! Random ids and login tokens, and the hash under which a token is stored.

use base64::Engine;
use sha2::{Digest, Sha256};

/// Meteor's `Random.id` alphabet, which Rocket.Chat ids use.
const ID_ALPHABET: &[u8] = b"23456789ABCDEFGHJKLMNPQRSTWXYZabcdefghijkmnopqrstuvwxyz";
/// Meteor's `Random.secret` alphabet (URL-safe base64), which login tokens use.
const TOKEN_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Length of user and session ids.
pub const ID_LEN: usize = 17;
/// Length of a login token.
pub const TOKEN_LEN: usize = 43;

/// A new 17-character id from the OS random source.
pub fn new_id() -> String {
    random_string(ID_ALPHABET, ID_LEN)
}

/// A new 43-character login token from the OS random source (about 258 bits).
pub fn new_token() -> String {
    random_string(TOKEN_ALPHABET, TOKEN_LEN)
}

/// The stored form of a token: base64(sha256(token)), as Rocket.Chat's `_hashLoginToken`.
pub fn hash_token(token: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(Sha256::digest(token.as_bytes()))
}

/// Lowercase hex SHA-256, the form in which clients send passwords and 2FA password codes.
pub fn sha256_hex(input: &str) -> String {
    Sha256::digest(input.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// Uniform characters from `alphabet`, by rejection sampling of OS random bytes.
fn random_string(alphabet: &[u8], len: usize) -> String {
    let n = alphabet.len();
    let limit = 256 - (256 % n); // bytes at or above this would bias the result
    let mut out = String::with_capacity(len);
    let mut buf = [0u8; 64];
    while out.len() < len {
        getrandom::fill(&mut buf).expect("the OS random source is unavailable");
        for &b in &buf {
            if (b as usize) < limit && out.len() < len {
                out.push(alphabet[b as usize % n] as char);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn ids_have_rocket_chat_shape() {
        let ids: HashSet<String> = (0..1000).map(|_| new_id()).collect();
        assert_eq!(ids.len(), 1000);
        for id in &ids {
            assert_eq!(id.len(), ID_LEN);
            assert!(id.bytes().all(|b| ID_ALPHABET.contains(&b)), "{id}");
        }
    }

    #[test]
    fn tokens_are_43_url_safe_characters() {
        let t = new_token();
        assert_eq!(t.len(), TOKEN_LEN);
        assert!(t.bytes().all(|b| TOKEN_ALPHABET.contains(&b)));
        assert_ne!(t, new_token());
    }

    #[test]
    fn token_hash_matches_known_vector() {
        // sha256("abc") = ba7816bf..., base64 of those bytes:
        assert_eq!(hash_token("abc"), "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=");
        assert_eq!(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }

    #[test]
    fn every_alphabet_character_can_appear() {
        let mut seen = HashSet::new();
        for _ in 0..200 {
            seen.extend(new_id().bytes());
        }
        assert_eq!(seen.len(), ID_ALPHABET.len());
    }
}
