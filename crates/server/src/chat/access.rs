//! Who a bearer token speaks for: a live visitor's one session, a verified visitor's
//! conversations on one channel, or a signed-in agent. Every visitor lookup is scoped to
//! what the token opens, never to an id the caller names.

use palaver_protocol::AgentRef;

use crate::{
    chat::{conversation::open_conversation, error::ChatError},
    state::AppState,
    store::{IdentityGrant, SessionRecord},
    tokens::{IDENTITY_TOKEN_PREFIX, hash_token},
};

/// Who a visitor token speaks for.
#[derive(Debug, Clone)]
pub enum VisitorAccess {
    /// A live visitor: one session, until its window ends.
    Live(SessionRecord),
    /// A verified visitor of a persistent channel: whichever conversation of theirs is open.
    Verified(IdentityGrant),
}

/// Looks up what a visitor token opens, refusing unknown tokens, live sessions that are over
/// (with the reason) and identity tokens past their expiry.
pub async fn visitor_access(state: &AppState, token: &str) -> Result<VisitorAccess, ChatError> {
    let unknown =
        ChatError::Unauthorized("This chat session is not recognised; please start a new chat.");
    let hash = hash_token(token);
    if token.starts_with(IDENTITY_TOKEN_PREFIX) {
        let grant = state.store.identity_by_token(&hash).await?.ok_or(unknown)?;
        if grant.expires_at <= state.clock.now() {
            return Err(ChatError::IdentityExpired(
                "Your sign-in has expired; the page needs to sign you in again.",
            ));
        }
        return Ok(VisitorAccess::Verified(grant));
    }
    let session = state.store.session_by_token(&hash).await?.ok_or(unknown)?;
    if let Some((_, reason)) = session.closure(state.clock.now()) {
        return Err(ChatError::SessionEnded(reason));
    }
    Ok(VisitorAccess::Live(session))
}

/// The session a visitor token speaks of: a live visitor's own, or a verified visitor's open
/// conversation (`NoConversation` when they have none).
pub async fn visitor_session(state: &AppState, token: &str) -> Result<SessionRecord, ChatError> {
    match visitor_access(state, token).await? {
        VisitorAccess::Live(record) => Ok(record),
        VisitorAccess::Verified(grant) => open_conversation(state, &grant)
            .await?
            .ok_or(ChatError::NoConversation),
    }
}

/// Looks up the agent a token signs in, while it has not expired.
pub async fn signed_in_agent(state: &AppState, token: &str) -> Result<AgentRef, ChatError> {
    state
        .store
        .agent_by_token(&hash_token(token), state.clock.now())
        .await?
        .ok_or(ChatError::Unauthorized(
            "Your sign-in is missing or has expired; please sign in again.",
        ))
}
