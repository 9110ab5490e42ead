//! The chat rules of PRODUCT.md, between the HTTP handlers and the store: starting a live
//! session, sending, joining, ending, the queue, and closing sessions whose time is up.
//! Every change is written to the store first and published to the hub after.

use std::collections::HashMap;

use palaver_protocol::{
    AgentRef, AgentSession, ChannelMode, Contact, EndReason, QueueStatus, SendMessage, Session,
    SessionCreated, SessionState, StartSession,
};
use uuid::Uuid;

use crate::{
    auth,
    config::Channel,
    domain::{ClientMsgId, Email, MessageBody, PersonName, PhoneNumber, Regarding},
    error::{ApiError, FieldErrors},
    hub::Event,
    startup::AppState,
    store::{Appended, Author, ContactDetails, NewMessage, NewSession, SessionRecord},
};

/// How many recent waits the queue's estimate averages.
const RECENT_WAITS: u32 = 20;

/// Live mode rule 1: a visitor starts a chat by giving their details.
pub async fn start_session(
    state: &AppState,
    channel: &Channel,
    details: StartSession,
) -> Result<SessionCreated, ApiError> {
    let now = state.clock.now();
    let mut fields = FieldErrors::new();
    let name = field(&mut fields, "name", PersonName::parse(&details.name));
    let phone = field(
        &mut fields,
        "phone",
        PhoneNumber::parse(&details.phone, channel.default_region.as_deref()),
    );
    let email = match details.email.as_deref().map(str::trim) {
        None | Some("") if channel.require_email => field(
            &mut fields,
            "email",
            Err::<Email, _>("Please enter your email address.".to_owned()),
        ),
        None | Some("") => None,
        Some(email) => field(&mut fields, "email", Email::parse(email)),
    };
    let regarding = match details.regarding.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(text) => field(&mut fields, "regarding", Regarding::parse(text)),
    };
    let (Some(name), Some(phone)) = (name, phone) else {
        return Err(ApiError::fields(fields));
    };
    if !fields.is_empty() {
        return Err(ApiError::fields(fields));
    }
    if let Some(hours) = &channel.operating_hours
        && !hours.is_open(now)
    {
        return Err(outside_hours(hours.next_open(now)));
    }

    let contact = state
        .store
        .upsert_contact(&ContactDetails { name, phone, email }, now)
        .await?;
    let token = auth::new_token("pvs");
    let record = state
        .store
        .create_session(NewSession {
            token_hash: auth::hash_token(&token),
            contact_id: contact.id,
            channel: channel.id.clone(),
            mode: ChannelMode::Live,
            started_at: now,
            ends_at: now.checked_add_signed(channel.window()),
            inactive_at: channel.inactive_at(now),
            regarding: regarding.map(|regarding| regarding.as_str().to_owned()),
        })
        .await?;
    let session = view(state, &record).await?;
    state.hub.publish(Event::Session(AgentSession {
        session: session.clone(),
        to: contact,
    }));
    Ok(SessionCreated { token, session })
}

/// Keeps a parsed value, or files its message under the field's name.
fn field<T>(fields: &mut FieldErrors, name: &str, parsed: Result<T, String>) -> Option<T> {
    parsed
        .map_err(|message| fields.insert(name.to_owned(), message))
        .ok()
}

fn outside_hours(next_open: Option<chrono::DateTime<chrono::Utc>>) -> ApiError {
    let message = match next_open {
        Some(at) => format!(
            "No agent is available right now. We're back at {} UTC.",
            at.format("%a %-d %b %H:%M")
        ),
        None => "No agent is available right now.".to_owned(),
    };
    ApiError::Conflict {
        code: "outside_operating_hours",
        message,
    }
}

/// The session as a visitor or agent sees it now, with the queue position while queued.
pub async fn view(state: &AppState, record: &SessionRecord) -> anyhow::Result<Session> {
    let queue = queue_status(state, record).await?;
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

/// Live mode rule 6: a channel's queue as of now, oldest first, and the wait per place.
struct ChannelQueue {
    order: Vec<SessionRecord>,
    per_visitor: u64,
}

impl ChannelQueue {
    async fn load(state: &AppState, channel_id: &str) -> anyhow::Result<Self> {
        let now = state.clock.now();
        Ok(Self {
            order: state.store.queued_sessions(channel_id, now).await?,
            per_visitor: wait_per_visitor(state, channel_id).await?,
        })
    }

    /// Where a session stands, and how long its visitor may wait.
    fn status(&self, session_id: Uuid) -> Option<QueueStatus> {
        let index = self
            .order
            .iter()
            .position(|queued| queued.id == session_id)?;
        let position = u32::try_from(index + 1).unwrap_or(u32::MAX);
        Some(QueueStatus {
            position,
            estimated_wait_seconds: self.per_visitor.saturating_mul(u64::from(position)),
        })
    }
}

/// Whether a session has a place in the queue as of now.
fn is_queued(state: &AppState, record: &SessionRecord) -> bool {
    record.mode == ChannelMode::Live && record.state_at(state.clock.now()) == SessionState::Queued
}

async fn queue_status(
    state: &AppState,
    record: &SessionRecord,
) -> anyhow::Result<Option<QueueStatus>> {
    if !is_queued(state, record) {
        return Ok(None);
    }
    Ok(ChannelQueue::load(state, &record.channel)
        .await?
        .status(record.id))
}

/// Many sessions with their contacts, as agents list them; each channel's queue is read once.
pub async fn agent_views(
    state: &AppState,
    rows: Vec<(SessionRecord, Contact)>,
) -> anyhow::Result<Vec<AgentSession>> {
    let mut queues: HashMap<String, ChannelQueue> = HashMap::new();
    let now = state.clock.now();
    let mut views = Vec::with_capacity(rows.len());
    for (record, to) in rows {
        let queue = if is_queued(state, &record) {
            if !queues.contains_key(&record.channel) {
                let queue = ChannelQueue::load(state, &record.channel).await?;
                queues.insert(record.channel.clone(), queue);
            }
            queues
                .get(&record.channel)
                .and_then(|queue| queue.status(record.id))
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

/// The mean wait of the channel's recently joined sessions, or the channel's assumption
/// before it has any.
async fn wait_per_visitor(state: &AppState, channel_id: &str) -> anyhow::Result<u64> {
    let waits = state.store.recent_waits(channel_id, RECENT_WAITS).await?;
    if waits.is_empty() {
        let assumed = state
            .channels
            .get(channel_id)
            .map_or(120, |channel| channel.estimated_wait_per_visitor.as_secs());
        return Ok(assumed);
    }
    let total: i64 = waits.iter().map(chrono::Duration::num_seconds).sum();
    Ok(u64::try_from(total / waits.len() as i64).unwrap_or(0))
}

/// Tells every visitor still queued on `channel_id` their new place.
async fn publish_queue(state: &AppState, channel_id: &str) -> anyhow::Result<()> {
    let queue = ChannelQueue::load(state, channel_id).await?;
    for record in &queue.order {
        if let Some(status) = queue.status(record.id) {
            state.hub.publish(Event::Queue {
                session_id: record.id,
                queue: status,
            });
        }
    }
    Ok(())
}

/// Announces a changed session to agents and its visitor, and the queue it left.
async fn publish_change(state: &AppState, record: &SessionRecord) -> anyhow::Result<()> {
    state
        .hub
        .publish(Event::Session(agent_view(state, record).await?));
    publish_queue(state, &record.channel).await
}

/// Sends a message into an open session; a retry with the same client id returns the
/// original (`created: false`) and publishes nothing.
pub async fn send(
    state: &AppState,
    record: &SessionRecord,
    author: Author,
    message: SendMessage,
) -> Result<Appended, ApiError> {
    let mut fields = FieldErrors::new();
    let client_msg_id = field(
        &mut fields,
        "client_msg_id",
        ClientMsgId::parse(&message.client_msg_id),
    );
    let body = field(&mut fields, "body", MessageBody::parse(&message.body));
    let (Some(client_msg_id), Some(body)) = (client_msg_id, body) else {
        return Err(ApiError::fields(fields));
    };
    let now = state.clock.now();
    let inactive_at = state
        .channels
        .get(&record.channel)
        .and_then(|channel| channel.inactive_at(now));
    let appended = state
        .store
        .append_message(NewMessage {
            session_id: record.id,
            author,
            client_msg_id: Some(client_msg_id),
            body,
            at: now,
            inactive_at,
        })
        .await?;
    let Some(appended) = appended else {
        return Err(ended(state, record.id).await);
    };
    if appended.created {
        state.hub.publish(Event::Message(appended.message.clone()));
    }
    Ok(appended)
}

/// The 410 for a session found ended, with its reason.
async fn ended(state: &AppState, session_id: Uuid) -> ApiError {
    match state.store.session(session_id).await {
        Ok(Some(record)) => match record.closure(state.clock.now()) {
            Some((_, reason)) => ApiError::SessionEnded(reason),
            None => ApiError::Unexpected(anyhow::anyhow!("session {session_id} refused a write")),
        },
        Ok(None) => ApiError::NotFound("No such session."),
        Err(error) => ApiError::Unexpected(error),
    }
}

async fn system_note(state: &AppState, session_id: Uuid, text: String) -> anyhow::Result<()> {
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
        state.hub.publish(Event::Message(appended.message));
    }
    Ok(())
}

/// Live mode rule 5: either side ends the chat. The first end wins; a second gets a 410.
pub async fn end(
    state: &AppState,
    record: &SessionRecord,
    reason: EndReason,
    by: Option<&AgentRef>,
) -> Result<SessionRecord, ApiError> {
    let ended_record = state
        .store
        .end_session(record.id, reason, state.clock.now())
        .await?;
    let Some(ended_record) = ended_record else {
        return Err(ended(state, record.id).await);
    };
    system_note(state, record.id, end_note(reason, by)).await?;
    publish_change(state, &ended_record).await?;
    Ok(ended_record)
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

/// An open session by id, for agents: 404 when unknown, 410 when over.
pub async fn open_session(state: &AppState, session_id: Uuid) -> Result<SessionRecord, ApiError> {
    let record = state
        .store
        .session(session_id)
        .await?
        .ok_or(ApiError::NotFound("No such session."))?;
    if let Some((_, reason)) = record.closure(state.clock.now()) {
        return Err(ApiError::SessionEnded(reason));
    }
    Ok(record)
}

/// An agent joins a session; joining again is harmless, joining another agent's is a 409.
pub async fn join(
    state: &AppState,
    record: &SessionRecord,
    agent: &AgentRef,
) -> Result<SessionRecord, ApiError> {
    let joined = state
        .store
        .assign_agent(record.id, agent.id, state.clock.now())
        .await?;
    let Some(joined) = joined else {
        let current = open_session(state, record.id).await?;
        let other = current.agent.map_or_else(String::new, |other| other.name);
        return Err(ApiError::Conflict {
            code: "already_joined",
            message: format!("{other} has already joined this chat."),
        });
    };
    if record.agent.is_none() {
        system_note(state, record.id, format!("{} joined the chat.", agent.name)).await?;
        publish_change(state, &joined).await?;
    }
    Ok(joined)
}

/// Sets or clears the session's *Regarding*.
pub async fn set_regarding(
    state: &AppState,
    record: &SessionRecord,
    regarding: Option<String>,
) -> Result<SessionRecord, ApiError> {
    let regarding = match regarding.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(text) => {
            Some(Regarding::parse(text).map_err(|error| ApiError::field("regarding", error))?)
        }
    };
    let updated = state
        .store
        .set_regarding(record.id, regarding.as_ref().map(Regarding::as_str))
        .await?
        .ok_or(ApiError::NotFound("No such session."))?;
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
        let Some(ended) = state.store.end_session(record.id, reason, at).await? else {
            continue;
        };
        system_note(state, record.id, end_note(reason, None)).await?;
        publish_change(state, &ended).await?;
        closed += 1;
    }
    Ok(closed)
}
