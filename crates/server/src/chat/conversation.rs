//! Persistent mode rules 2, 4, 6 and 7: a verified visitor's one open conversation, which
//! their messages go into, bring back from waiting, or start afresh after an agent's end.

use palaver_protocol::{ChannelMode, SendMessage, SessionState};

use crate::{
    chat::{
        announce::publish_change,
        assign::offer,
        error::ChatError,
        lifecycle::close,
        messages::{parse_message, send},
        view::agent_view,
    },
    config::Channel,
    hub::Event,
    state::AppState,
    store::{Appended, Author, IdentityGrant, NewSession, SessionRecord},
};

/// The contact's open conversation as of now: one whose inactivity deadline has passed is
/// over, even before the sweeper writes that down.
pub async fn open_conversation(
    state: &AppState,
    grant: &IdentityGrant,
) -> anyhow::Result<Option<SessionRecord>> {
    let open = state
        .store
        .open_conversation(grant.contact_id, &grant.channel)
        .await?;
    Ok(open.filter(|record| record.closure(state.clock.now()).is_none()))
}

/// A verified visitor's message goes into their open conversation, bringing it back from
/// waiting, or starts a fresh one when there is none (an agent ended the last, or it closed
/// for inactivity). Operating hours do not matter: the message waits for agents.
pub async fn send_verified(
    state: &AppState,
    grant: &IdentityGrant,
    message: SendMessage,
) -> Result<Appended, ChatError> {
    // Checked first: a refused message must not start or reopen anything.
    parse_message(&message)?;
    let channel = state
        .channels
        .get(&grant.channel)
        .ok_or(ChatError::NotFound("No such channel."))?;
    // An agent may end the conversation between finding it and writing to it; the message
    // is then the visitor's first after the end, and starts a fresh conversation.
    let target = destination(state, channel, grant, &message).await?;
    let sent = match deliver(state, target, &message).await {
        Err(ChatError::SessionEnded(_)) => {
            let target = destination(state, channel, grant, &message).await?;
            deliver(state, target, &message).await
        }
        sent => sent,
    };
    // After the message, so that an agent given the conversation finds it there.
    let (appended, queued) = sent?;
    if queued {
        offer(state).await;
    }
    Ok(appended)
}

/// Where a verified visitor's message goes.
enum Destination {
    /// The open conversation, brought back from waiting to the queue, or a fresh one.
    Conversation(SessionRecord),
    /// Nowhere: it is a retry of a message that went into a conversation an agent has ended
    /// since, answered with the original rather than stored again in a fresh conversation.
    AlreadySent(Appended),
}

/// Sends the message where it goes; `true` with it when the conversation waits in the
/// queue (fresh, or brought back from waiting) and routing should offer it.
async fn deliver(
    state: &AppState,
    destination: Destination,
    message: &SendMessage,
) -> Result<(Appended, bool), ChatError> {
    match destination {
        Destination::Conversation(record) => {
            let appended = send(
                state,
                record.id,
                &record.channel,
                Author::Visitor,
                message.clone(),
            )
            .await?;
            Ok((appended, record.state == SessionState::Queued))
        }
        Destination::AlreadySent(original) => Ok((original, false)),
    }
}

async fn destination(
    state: &AppState,
    channel: &Channel,
    grant: &IdentityGrant,
    message: &SendMessage,
) -> Result<Destination, ChatError> {
    let now = state.clock.now();
    let open = state
        .store
        .open_conversation(grant.contact_id, &grant.channel)
        .await?;
    if let Some(record) = &open
        && let Some((at, reason)) = record.closure(now)
    {
        close(state, record, reason, at, None).await?;
    }
    let record = match open.filter(|record| record.closure(now).is_none()) {
        Some(record) if record.state == SessionState::Waiting => {
            match state.store.reopen(record.id, now).await? {
                Some(reopened) => {
                    publish_change(state, &reopened).await?;
                    reopened
                }
                None => record,
            }
        }
        Some(record) => record,
        None => {
            if let Some(original) = retried_after_the_end(state, grant, message).await? {
                return Ok(Destination::AlreadySent(original));
            }
            let (record, created) = state
                .store
                .start_conversation(NewSession {
                    token_hash: None,
                    contact_id: grant.contact_id,
                    channel: channel.id.clone(),
                    mode: ChannelMode::Persistent,
                    started_at: now,
                    ends_at: None,
                    inactive_at: channel.inactive_at(now),
                    regarding: None,
                })
                .await?;
            if created {
                state.hub.publish(Event::Session {
                    session: agent_view(state, &record).await?,
                    change: record.change,
                });
            }
            record
        }
    };
    Ok(Destination::Conversation(record))
}

/// The original of a retried message, when the contact has no open conversation and the
/// latest one, ended, holds it; `None` for a new message.
async fn retried_after_the_end(
    state: &AppState,
    grant: &IdentityGrant,
    message: &SendMessage,
) -> Result<Option<Appended>, ChatError> {
    let latest = state
        .store
        .contact_sessions(grant.contact_id)
        .await?
        .into_iter()
        .find(|record| record.channel == grant.channel);
    // Only a conversation marked ended: the store then answers retries and refuses the rest.
    let Some(latest) = latest.filter(|record| record.state == SessionState::Ended) else {
        return Ok(None);
    };
    match send(
        state,
        latest.id,
        &latest.channel,
        Author::Visitor,
        message.clone(),
    )
    .await
    {
        Ok(original) if !original.created => Ok(Some(original)),
        Ok(_) | Err(ChatError::SessionEnded(_)) => Ok(None),
        Err(error) => Err(error),
    }
}
