//! Telling everyone watching: system notes in a session's transcript, and a changed session
//! announced to agents, its visitor, its agent's load and the queue. Every change is written
//! to the store first and announced after.

use uuid::Uuid;

use crate::{
    assignment::status::publish_status,
    chat::view::agent_view,
    domain::MessageBody,
    hub::Event,
    state::AppState,
    store::{Author, NewMessage, SessionRecord},
};

/// Announces a changed session to agents and its visitor, and the load of its agent; the
/// queue it may have joined or left tells its visitors their places.
pub async fn publish_change(state: &AppState, record: &SessionRecord) -> anyhow::Result<()> {
    state.hub.publish(Event::Session {
        session: agent_view(state, record).await?,
        change: record.change,
    });
    if let Some(agent) = &record.agent {
        publish_status(state, agent.id).await?;
    }
    state.queue_changed.notify_one();
    Ok(())
}

/// Writes a system message into the session's transcript and announces it.
pub async fn system_note(state: &AppState, session_id: Uuid, text: String) -> anyhow::Result<()> {
    let appended = state
        .store
        .append_message(NewMessage {
            session_id,
            author: Author::System,
            client_msg_id: None,
            body: MessageBody::system(text),
            at: state.clock.now(),
            inactive_at: None,
        })
        .await?;
    if let Some(appended) = appended {
        state.hub.publish(Event::Message {
            message: appended.message,
            change: appended.change,
        });
    }
    Ok(())
}
