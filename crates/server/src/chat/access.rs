//! Who a bearer token speaks for: a live visitor's one session, a verified visitor's
//! conversations on one channel, or a signed-in agent. Every visitor lookup is scoped to
//! what the token opens, never to an id the caller names.

use palaver_protocol::AgentRef;

use crate::{
    bearers::VisitorBearer,
    chat::{assign::open_session, conversation::open_conversation, error::ChatError},
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

/// What a visitor token opens, from memory when it was met before: unknown tokens and
/// identity tokens past their expiry are refused; a live session is not checked for being
/// over (whatever writes to it is refused by the store when it is).
pub async fn visitor_bearer(state: &AppState, token: &str) -> Result<VisitorBearer, ChatError> {
    let hash = hash_token(token);
    let bearer = match state.bearers.visitor(&hash) {
        Some(bearer) => bearer,
        None => {
            let bearer = stored_visitor_bearer(state, token, &hash).await?.ok_or(
                ChatError::Unauthorized(
                    "This chat session is not recognised; please start a new chat.",
                ),
            )?;
            state.bearers.remember_visitor(&hash, bearer.clone());
            bearer
        }
    };
    if let VisitorBearer::Verified(grant) = &bearer
        && grant.expires_at <= state.clock.now()
    {
        return Err(ChatError::IdentityExpired(
            "Your sign-in has expired; the page needs to sign you in again.",
        ));
    }
    Ok(bearer)
}

async fn stored_visitor_bearer(
    state: &AppState,
    token: &str,
    hash: &str,
) -> anyhow::Result<Option<VisitorBearer>> {
    if token.starts_with(IDENTITY_TOKEN_PREFIX) {
        let grant = state.store.identity_by_token(hash).await?;
        return Ok(grant.map(VisitorBearer::Verified));
    }
    let session = state.store.session_by_token(hash).await?;
    Ok(session.map(|record| VisitorBearer::Live {
        session_id: record.id,
        channel: record.channel,
    }))
}

/// Looks up what a visitor token opens, refusing unknown tokens, live sessions that are over
/// (with the reason) and identity tokens past their expiry.
pub async fn visitor_access(state: &AppState, token: &str) -> Result<VisitorAccess, ChatError> {
    match visitor_bearer(state, token).await? {
        VisitorBearer::Verified(grant) => Ok(VisitorAccess::Verified(grant)),
        VisitorBearer::Live { session_id, .. } => {
            Ok(VisitorAccess::Live(open_session(state, session_id).await?))
        }
    }
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

/// Looks up the agent a token signs in, while it has not expired; from memory when the
/// token was met before and nobody signed it out since.
pub async fn signed_in_agent(state: &AppState, token: &str) -> Result<AgentRef, ChatError> {
    let hash = hash_token(token);
    let now = state.clock.now();
    let bearer = match state.bearers.agent(&hash) {
        Some(bearer) => Some(bearer),
        None => {
            let lookup = state.bearers.lookup();
            let found = state.store.agent_by_token(&hash, now).await?;
            if let Some(sign_in) = &found {
                state.bearers.remember_agent(&hash, sign_in.clone(), lookup);
            }
            found
        }
    };
    bearer
        .filter(|bearer| bearer.expires_at > now)
        .map(|bearer| bearer.agent)
        .ok_or(ChatError::Unauthorized(
            "Your sign-in is missing or has expired; please sign in again.",
        ))
}
