//! How sessions end and pause: either side ends a live chat, only an agent ends a persistent
//! conversation or sets it waiting, deadlines close what nobody ended, and *Regarding* is
//! set along the way.

use chrono::{DateTime, Utc};
use palaver_protocol::{AgentRef, ChannelMode, EndReason, SessionState};

use crate::{
    chat::{
        announce::{publish_change, system_note},
        assign::{offer, refused_hold},
        error::ChatError,
        messages::ended,
    },
    domain::Regarding,
    state::AppState,
    store::SessionRecord,
};

/// Live mode rule 5: either side ends the chat; persistent mode rule 3: only an agent ends a
/// persistent conversation. The first end wins; a second is refused as ended.
pub async fn end(
    state: &AppState,
    record: &SessionRecord,
    reason: EndReason,
    by: Option<&AgentRef>,
) -> Result<SessionRecord, ChatError> {
    if reason == EndReason::Visitor && record.mode == ChannelMode::Persistent {
        return Err(ChatError::VisitorCannotEnd);
    }
    if !close(state, record, reason, state.clock.now(), by).await? {
        return Err(ended(state, record.id).await);
    }
    state
        .store
        .session(record.id)
        .await?
        .ok_or(ChatError::NotFound("No such session."))
}

/// Persistent mode rule 4: an agent sets the conversation aside until the visitor writes
/// again, which frees their capacity; the visitor reads that it is on hold. Setting it aside
/// again is harmless.
pub async fn set_waiting(
    state: &AppState,
    record: &SessionRecord,
    agent: &AgentRef,
) -> Result<SessionRecord, ChatError> {
    if record.mode != ChannelMode::Persistent {
        return Err(ChatError::NotPersistent(
            "Only persistent conversations can wait; end a live chat instead.",
        ));
    }
    let Some(waiting) = state.store.set_waiting(record.id, agent.id).await? else {
        return Err(refused_hold(state, record.id).await);
    };
    if record.state != SessionState::Waiting {
        system_note(
            state,
            record.id,
            format!(
                "{} put the conversation on hold. Write here whenever you like, and we'll pick it up.",
                agent.name
            ),
        )
        .await?;
        publish_change(state, &waiting).await?;
        offer(state).await;
    }
    Ok(waiting)
}

/// Sets or clears the session's *Regarding*.
pub async fn set_regarding(
    state: &AppState,
    record: &SessionRecord,
    regarding: Option<String>,
) -> Result<SessionRecord, ChatError> {
    let regarding = match regarding.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(text) => {
            Some(Regarding::parse(text).map_err(|error| ChatError::field("regarding", error))?)
        }
    };
    let updated = state
        .store
        .set_regarding(record.id, regarding.as_ref().map(Regarding::as_str))
        .await?
        .ok_or(ChatError::NotFound("No such session."))?;
    publish_change(state, &updated).await?;
    Ok(updated)
}

/// Live mode rules 3 and 7: writes down the end of sessions whose window or inactivity
/// deadline has passed, and tells everyone watching. Returns how many it closed.
pub async fn close_due(state: &AppState) -> anyhow::Result<usize> {
    let now = state.clock.now();
    let mut closed = 0;
    for record in state.store.due_sessions(now).await? {
        let Some((at, reason)) = record.closure(now) else {
            continue;
        };
        if close(state, &record, reason, at, None).await? {
            closed += 1;
        }
    }
    Ok(closed)
}

/// Writes down a session's end with its note and tells everyone; `false` when something
/// else ended it first.
pub async fn close(
    state: &AppState,
    record: &SessionRecord,
    reason: EndReason,
    at: DateTime<Utc>,
    by: Option<&AgentRef>,
) -> anyhow::Result<bool> {
    let Some(ended) = state.store.end_session(record.id, reason, at).await? else {
        return Ok(false);
    };
    system_note(state, record.id, end_note(reason, by)).await?;
    publish_change(state, &ended).await?;
    if record.agent.is_some() {
        offer(state).await;
    }
    Ok(true)
}

/// The system message that records how a session ended.
fn end_note(reason: EndReason, by: Option<&AgentRef>) -> String {
    match reason {
        EndReason::Visitor => "The visitor ended the chat.".to_owned(),
        EndReason::Agent => format!(
            "{} ended the chat.",
            by.map_or("The agent", |agent| agent.name.as_str())
        ),
        EndReason::Expired => "This chat's time is up.".to_owned(),
        EndReason::Inactivity => "This chat was closed after a while without messages.".to_owned(),
    }
}
