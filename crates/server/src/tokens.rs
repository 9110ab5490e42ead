//! Credentials as data: bearer tokens (random, stored only as a SHA-256 hash) and agent
//! passwords (argon2id). Who a token speaks for is the chat layer's business
//! (`chat::access`); reading it from a request is the HTTP layer's (`http::extract`).

use std::sync::LazyLock;

use argon2::{
    Argon2, PasswordHash, PasswordHasher, PasswordVerifier,
    password_hash::{SaltString, rand_core::OsRng},
};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use rand::RngCore;
use sha2::{Digest, Sha256};

/// The prefix of a live session's bearer token.
pub const SESSION_TOKEN_PREFIX: &str = "pvs";
/// The prefix of the bearer token a persistent channel's verified visitor gets.
pub const IDENTITY_TOKEN_PREFIX: &str = "pvi";
/// The prefix of a signed-in agent's bearer token.
pub const AGENT_TOKEN_PREFIX: &str = "pva";

/// A fresh bearer token: 256 random bits, URL-safe, with a prefix saying what it opens.
pub fn new_token(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    format!("{prefix}_{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// What the database keeps of a token: a stolen database opens no session.
pub fn hash_token(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

pub fn hash_password(password: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|error| anyhow::anyhow!("hashing a password: {error}"))
}

/// A hash no password matches in practice, checked in place of an unknown agent's, so that
/// an unknown name costs what a known one does and sign-in does not tell which names exist.
pub fn unknown_agent_hash() -> &'static str {
    static HASH: LazyLock<String> = LazyLock::new(|| {
        hash_password(&new_token("unknown")).unwrap_or_else(|_| {
            // Hashing only fails on parameters, which are the defaults: unreachable, but an
            // unparsable hash still verifies nothing.
            String::new()
        })
    });
    &HASH
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}
