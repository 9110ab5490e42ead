//! How a session looks now, to its visitor and to agents: state derived from the clock, and
//! a live visitor's place in the queue while they wait.

use palaver_protocol::{AgentSession, Contact, Session};

use crate::{
    assignment::queue::{Queue, is_queued, place},
    state::AppState,
    store::SessionRecord,
};

/// The session as a visitor or agent sees it now, with the queue position while queued.
pub async fn view(state: &AppState, record: &SessionRecord) -> anyhow::Result<Session> {
    let queue = place(state, record).await?;
    Ok(record.view(state.clock.now(), queue))
}

/// The session with its contact, as agents see it.
pub async fn agent_view(state: &AppState, record: &SessionRecord) -> anyhow::Result<AgentSession> {
    let session = view(state, record).await?;
    let to = state
        .store
        .contact(record.contact_id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("session {} has no contact", record.id))?;
    Ok(AgentSession { session, to })
}

/// Many sessions with their contacts, as agents list them; the queue is read at most once.
pub async fn agent_views(
    state: &AppState,
    rows: Vec<(SessionRecord, Contact)>,
) -> anyhow::Result<Vec<AgentSession>> {
    let mut queue: Option<Queue> = None;
    let now = state.clock.now();
    let mut views = Vec::with_capacity(rows.len());
    for (record, to) in rows {
        let queue = if is_queued(state, &record) {
            if queue.is_none() {
                queue = Some(Queue::load(state).await?);
            }
            queue.as_ref().and_then(|queue| queue.status(&record))
        } else {
            None
        };
        views.push(AgentSession {
            session: record.view(now, queue),
            to,
        });
    }
    Ok(views)
}
