//! Credentials: bearer tokens (random, stored only as a SHA-256 hash), agent passwords
//! (argon2id), and the extractors that turn an `Authorization` header into a caller.

use argon2::{
    Argon2, PasswordHash, PasswordHasher, PasswordVerifier,
    password_hash::{SaltString, rand_core::OsRng},
};
use axum::{extract::FromRequestParts, http::request::Parts};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use palaver_protocol::AgentRef;
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::{
    chat,
    error::ApiError,
    startup::AppState,
    store::{IdentityGrant, SessionRecord},
};

/// The prefix of a live session's bearer token.
pub const SESSION_TOKEN_PREFIX: &str = "pvs";
/// The prefix of the bearer token a persistent channel's verified visitor gets.
pub const IDENTITY_TOKEN_PREFIX: &str = "pvi";

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

pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

fn bearer(parts: &Parts) -> Option<&str> {
    parts
        .headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

/// Who a visitor token speaks for.
#[derive(Debug, Clone)]
pub enum VisitorAccess {
    /// A live visitor: one session, until its window ends.
    Live(SessionRecord),
    /// A verified visitor of a persistent channel: whichever conversation of theirs is open.
    Verified(IdentityGrant),
}

/// Looks up what a visitor token opens, refusing unknown tokens (401), live sessions that
/// are over (410, with the reason) and identity tokens past their expiry (401).
pub async fn visitor_access(state: &AppState, token: &str) -> Result<VisitorAccess, ApiError> {
    let unknown =
        ApiError::Unauthorized("This chat session is not recognised; please start a new chat.");
    let hash = hash_token(token);
    if token.starts_with(IDENTITY_TOKEN_PREFIX) {
        let grant = state.store.identity_by_token(&hash).await?.ok_or(unknown)?;
        if grant.expires_at <= state.clock.now() {
            return Err(chat::identity_expired(
                "Your sign-in has expired; the page needs to sign you in again.",
            ));
        }
        return Ok(VisitorAccess::Verified(grant));
    }
    let session = state.store.session_by_token(&hash).await?.ok_or(unknown)?;
    if let Some((_, reason)) = session.closure(state.clock.now()) {
        return Err(ApiError::SessionEnded(reason));
    }
    Ok(VisitorAccess::Live(session))
}

/// The session a visitor token speaks of: a live visitor's own, or a verified visitor's open
/// conversation (404 `no_conversation` when they have none).
pub async fn visitor_session(state: &AppState, token: &str) -> Result<SessionRecord, ApiError> {
    match visitor_access(state, token).await? {
        VisitorAccess::Live(record) => Ok(record),
        VisitorAccess::Verified(grant) => chat::open_conversation(state, &grant)
            .await?
            .ok_or(ApiError::NoConversation),
    }
}

/// Looks up the agent a token signs in, while it has not expired.
pub async fn signed_in_agent(state: &AppState, token: &str) -> Result<AgentRef, ApiError> {
    state
        .store
        .agent_by_token(&hash_token(token), state.clock.now())
        .await?
        .ok_or(ApiError::Unauthorized(
            "Your sign-in is missing or has expired; please sign in again.",
        ))
}

fn visitor_bearer(parts: &Parts) -> Result<&str, ApiError> {
    bearer(parts).ok_or(ApiError::Unauthorized(
        "Send the session token as `Authorization: Bearer <token>`.",
    ))
}

/// The caller's open session, from `Authorization: Bearer <session token>`.
pub struct Visitor(pub SessionRecord);

impl FromRequestParts<AppState> for Visitor {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        visitor_session(state, visitor_bearer(parts)?)
            .await
            .map(Self)
    }
}

/// The caller's access, for the requests that differ between live and verified visitors.
pub struct VisitorCaller(pub VisitorAccess);

impl FromRequestParts<AppState> for VisitorCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        visitor_access(state, visitor_bearer(parts)?)
            .await
            .map(Self)
    }
}

/// The signed-in agent, from `Authorization: Bearer <agent token>`.
pub struct Agent {
    pub agent: AgentRef,
    pub token_hash: String,
}

impl FromRequestParts<AppState> for Agent {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = bearer(parts).ok_or(ApiError::Unauthorized(
            "Send the agent token as `Authorization: Bearer <token>`.",
        ))?;
        let agent = signed_in_agent(state, token).await?;
        Ok(Self {
            agent,
            token_hash: hash_token(token),
        })
    }
}
