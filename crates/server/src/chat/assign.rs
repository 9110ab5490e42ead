//! Agents taking chats: joining by hand, and the routing pass, which decides who takes
//! which queued chat (`assignment`) and has them join here, so that a routed chat and a
//! hand-picked one read the same to the visitor.

use palaver_protocol::AgentRef;
use uuid::Uuid;

use crate::{
    assignment::pass::{self, Take},
    chat::{
        announce::{publish_change, system_note},
        error::ChatError,
    },
    state::AppState,
    store::SessionRecord,
};

/// Runs a routing pass, logging rather than returning a failure: the change that asked for
/// it is already stored, and the next pass picks up whatever this one left.
pub async fn offer(state: &AppState) {
    if let Err(error) = pass::route(state, &Joiner(state)).await {
        tracing::error!(?error, "routing queued sessions");
    }
}

/// The routing pass's choices carried out by [`join`].
struct Joiner<'a>(&'a AppState);

impl Take for Joiner<'_> {
    async fn take(&self, record: &SessionRecord, agent: &AgentRef) -> anyhow::Result<bool> {
        match join(self.0, record, agent).await {
            Ok(_) => Ok(true),
            // Taken up or ended since the queue was read: nothing to give.
            Err(ChatError::AlreadyJoined(_) | ChatError::SessionEnded(_)) => Ok(false),
            Err(error) => Err(anyhow::Error::new(error)),
        }
    }
}

/// An open session by id, for agents: `NotFound` when unknown, `SessionEnded` when over.
pub async fn open_session(state: &AppState, session_id: Uuid) -> Result<SessionRecord, ChatError> {
    let record = state
        .store
        .session(session_id)
        .await?
        .ok_or(ChatError::NotFound("No such session."))?;
    if let Some((_, reason)) = record.closure(state.clock.now()) {
        return Err(ChatError::SessionEnded(reason));
    }
    Ok(record)
}

/// Why the store refused an agent's hold on a session: it is over, or another agent holds it.
pub async fn refused_hold(state: &AppState, session_id: Uuid) -> ChatError {
    match open_session(state, session_id).await {
        Ok(current) => {
            ChatError::AlreadyJoined(current.agent.map_or_else(String::new, |other| other.name))
        }
        Err(error) => error,
    }
}

/// An agent joins a session; joining again is harmless, joining another agent's is refused,
/// but a waiting conversation is anyone's to take up.
pub async fn join(
    state: &AppState,
    record: &SessionRecord,
    agent: &AgentRef,
) -> Result<SessionRecord, ChatError> {
    let joined = state
        .store
        .assign_agent(record.id, agent.id, state.clock.now())
        .await?;
    let Some(joined) = joined else {
        return Err(refused_hold(state, record.id).await);
    };
    if record.agent.as_ref().map(|held| held.id) != Some(agent.id) {
        system_note(state, record.id, format!("{} joined the chat.", agent.name)).await?;
        publish_change(state, &joined).await?;
    }
    Ok(joined)
}
