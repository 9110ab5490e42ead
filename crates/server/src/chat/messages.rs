//! Sending a message into an open session. Each send carries the client's id, so a retry
//! returns the original instead of storing the message twice.

use palaver_protocol::SendMessage;
use uuid::Uuid;

use crate::{
    chat::error::{ChatError, FieldErrors, field},
    domain::{ClientMsgId, MessageBody},
    hub::Event,
    state::AppState,
    store::{Appended, Author, NewMessage},
};

/// Sends a message into an open session of `channel`; a retry with the same client id
/// returns the original (`created: false`) and publishes nothing. A session that is over,
/// by an end or a deadline, refuses it with the reason.
pub async fn send(
    state: &AppState,
    session_id: Uuid,
    channel: &str,
    author: Author,
    message: SendMessage,
) -> Result<Appended, ChatError> {
    let (client_msg_id, body) = parse_message(&message)?;
    let now = state.clock.now();
    let inactive_at = state
        .channels
        .get(channel)
        .and_then(|channel| channel.inactive_at(now));
    let appended = state
        .store
        .append_message(NewMessage {
            session_id,
            author,
            client_msg_id: Some(client_msg_id),
            body,
            at: now,
            inactive_at,
        })
        .await?;
    let Some(appended) = appended else {
        return Err(ended(state, session_id).await);
    };
    if appended.created {
        state.hub.publish(Event::Message {
            message: appended.message.clone(),
            change: appended.change,
        });
    }
    Ok(appended)
}

/// The message's client id and text, or what needs fixing in them.
pub fn parse_message(message: &SendMessage) -> Result<(ClientMsgId, MessageBody), ChatError> {
    let mut fields = FieldErrors::new();
    let client_msg_id = field(
        &mut fields,
        "client_msg_id",
        ClientMsgId::parse(&message.client_msg_id),
    );
    let body = field(&mut fields, "body", MessageBody::parse(&message.body));
    match (client_msg_id, body) {
        (Some(client_msg_id), Some(body)) => Ok((client_msg_id, body)),
        _ => Err(ChatError::fields(fields)),
    }
}

/// The refusal for a session found ended, with its reason.
pub async fn ended(state: &AppState, session_id: Uuid) -> ChatError {
    match state.store.session(session_id).await {
        Ok(Some(record)) => match record.closure(state.clock.now()) {
            Some((_, reason)) => ChatError::SessionEnded(reason),
            None => ChatError::Unexpected(anyhow::anyhow!("session {session_id} refused a write")),
        },
        Ok(None) => ChatError::NotFound("No such session."),
        Err(error) => ChatError::Unexpected(error),
    }
}
