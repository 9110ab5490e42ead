//! The chat rules of PRODUCT.md, between the HTTP handlers and the store: starting a live
//! session, a persistent channel's verified visitors and their one open conversation,
//! sending, joining, waiting, ending, the queue, and closing sessions whose time is up.
//! Every change is written to the store first and published to the hub after.

use palaver_protocol::{
    AgentRef, AgentSession, ChannelMode, Contact, EndReason, Identified, SendMessage, Session,
    SessionCreated, SessionState, StartSession,
};
use uuid::Uuid;

use crate::{
    auth,
    config::Channel,
    domain::{ClientMsgId, Email, MessageBody, PersonName, PhoneNumber, Regarding, UserId},
    error::{ApiError, FieldErrors},
    hub::Event,
    identity::{Claims, Refusal},
    routing::{self, Queue},
    startup::AppState,
    store::{
        Appended, Author, ContactDetails, IdentityGrant, NewMessage, NewSession, SessionRecord,
        VerifiedDetails,
    },
};

/// Live mode rule 1: a visitor starts a chat by giving their details.
pub async fn start_session(
    state: &AppState,
    channel: &Channel,
    details: StartSession,
) -> Result<SessionCreated, ApiError> {
    if channel.mode == ChannelMode::Persistent {
        return Err(ApiError::Conflict {
            code: "identity_required",
            message: "This chat is for signed-in visitors; the page signs you in.".into(),
        });
    }
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
    let token = auth::new_token(auth::SESSION_TOKEN_PREFIX);
    let record = state
        .store
        .create_session(NewSession {
            token_hash: Some(auth::hash_token(&token)),
            contact_id: contact.id,
            channel: channel.id.clone(),
            mode: ChannelMode::Live,
            started_at: now,
            ends_at: channel.window_end(now),
            inactive_at: channel.inactive_at(now),
            regarding: regarding.map(|regarding| regarding.as_str().to_owned()),
        })
        .await?;
    state.hub.publish(Event::Session(AgentSession {
        session: view(state, &record).await?,
        to: contact,
    }));
    routing::offer(state).await;
    // Routing may have given it to an agent already.
    let record = state.store.session(record.id).await?.unwrap_or(record);
    let session = view(state, &record).await?;
    Ok(SessionCreated { token, session })
}

/// Persistent mode rule 1: a visitor proves who they are with the token their site signed,
/// and gets a bearer token for their conversations on the channel that lasts as long.
/// Nothing is written for a refused token.
pub async fn identify(
    state: &AppState,
    channel: &Channel,
    identity_token: &str,
) -> Result<Identified, ApiError> {
    let Some(key) = channel.identity.as_ref() else {
        return Err(ApiError::Conflict {
            code: "not_persistent",
            message: "This chat is not for signed-in visitors; start it with your details.".into(),
        });
    };
    let now = state.clock.now();
    let claims = key
        .verify(identity_token, now)
        .map_err(|refusal| match refusal {
            Refusal::Expired => identity_expired("The identity token has expired."),
            Refusal::Invalid(message) => ApiError::IdentityRefused {
                code: "identity_invalid",
                message,
            },
        })?;
    let expires_at = claims
        .expires_at()
        .ok_or_else(|| identity_expired("The identity token has expired."))?;
    let details = verified_details(channel, &claims)?;
    let contact = state.store.upsert_verified_contact(&details, now).await?;
    let token = auth::new_token(auth::IDENTITY_TOKEN_PREFIX);
    let grant = IdentityGrant {
        contact_id: contact.id,
        channel: channel.id.clone(),
        expires_at,
    };
    state
        .store
        .create_identity_token(&auth::hash_token(&token), &grant, now)
        .await?;
    let session = match open_conversation(state, &grant).await? {
        Some(record) => Some(view(state, &record).await?),
        None => None,
    };
    Ok(Identified {
        token,
        expires_at,
        contact,
        session,
    })
}

/// The 401 that tells the widget to ask its site for a fresh identity token.
pub fn identity_expired(message: &str) -> ApiError {
    ApiError::IdentityRefused {
        code: "identity_expired",
        message: message.to_owned(),
    }
}

/// The signed claims, checked like anything a visitor types: a site's bug must not put
/// markup in front of agents. Without a name, the email or the user id stands in.
fn verified_details(channel: &Channel, claims: &Claims) -> Result<VerifiedDetails, ApiError> {
    let mut fields = FieldErrors::new();
    let sub = claims.sub.as_deref().unwrap_or_default();
    let user_id = field(&mut fields, "sub", UserId::parse(sub));
    let email = claims
        .email
        .as_deref()
        .filter(|email| !email.trim().is_empty())
        .and_then(|email| field(&mut fields, "email", Email::parse(email)));
    let phone = claims
        .phone
        .as_deref()
        .filter(|phone| !phone.trim().is_empty())
        .and_then(|phone| {
            field(
                &mut fields,
                "phone",
                PhoneNumber::parse(phone, channel.default_region.as_deref()),
            )
        });
    let shown_name = claims
        .name
        .as_deref()
        .filter(|name| !name.trim().is_empty())
        .or(claims.email.as_deref())
        .unwrap_or(sub);
    let name = field(&mut fields, "name", PersonName::parse(shown_name));
    match (user_id, name) {
        (Some(user_id), Some(name)) if fields.is_empty() => Ok(VerifiedDetails {
            realm: channel.id.clone(),
            user_id,
            name,
            email,
            phone,
        }),
        _ => Err(ApiError::Validation {
            message: "The identity token's details need fixing by the site.".into(),
            fields,
        }),
    }
}

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

/// Persistent mode rules 2, 4, 6 and 7: a verified visitor's message goes into their open
/// conversation, bringing it back from waiting, or starts a fresh one when there is none
/// (an agent ended the last, or it closed for inactivity). Operating hours do not matter:
/// the message waits for agents.
pub async fn send_verified(
    state: &AppState,
    grant: &IdentityGrant,
    message: SendMessage,
) -> Result<Appended, ApiError> {
    // Checked first: a refused message must not start or reopen anything.
    parse_message(&message)?;
    let channel = state
        .channels
        .get(&grant.channel)
        .ok_or(ApiError::NotFound("No such channel."))?;
    // An agent may end the conversation between finding it and writing to it; the message
    // is then the visitor's first after the end, and starts a fresh conversation.
    let target = destination(state, channel, grant, &message).await?;
    let sent = match deliver(state, target, &message).await {
        Err(ApiError::SessionEnded(_)) => {
            let target = destination(state, channel, grant, &message).await?;
            deliver(state, target, &message).await
        }
        sent => sent,
    };
    // After the message, so that an agent given the conversation finds it there.
    let (appended, queued) = sent?;
    if queued {
        routing::offer(state).await;
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
) -> Result<(Appended, bool), ApiError> {
    match destination {
        Destination::Conversation(record) => {
            let appended = send(state, &record, Author::Visitor, message.clone()).await?;
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
) -> Result<Destination, ApiError> {
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
                state
                    .hub
                    .publish(Event::Session(agent_view(state, &record).await?));
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
) -> Result<Option<Appended>, ApiError> {
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
    match send(state, &latest, Author::Visitor, message.clone()).await {
        Ok(original) if !original.created => Ok(Some(original)),
        Ok(_) | Err(ApiError::SessionEnded(_)) => Ok(None),
        Err(error) => Err(error),
    }
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
    let queue = if routing::is_queued(state, record) {
        Queue::load(state).await?.status(record)
    } else {
        None
    };
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
        let queue = if routing::is_queued(state, &record) {
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

/// Announces a changed session to agents and its visitor, the load of its agent, and the
/// queue it joined or left.
async fn publish_change(state: &AppState, record: &SessionRecord) -> anyhow::Result<()> {
    state
        .hub
        .publish(Event::Session(agent_view(state, record).await?));
    if let Some(agent) = &record.agent {
        routing::publish_status(state, agent.id).await?;
    }
    Queue::load(state).await?.publish(state);
    Ok(())
}

/// Sends a message into an open session; a retry with the same client id returns the
/// original (`created: false`) and publishes nothing.
pub async fn send(
    state: &AppState,
    record: &SessionRecord,
    author: Author,
    message: SendMessage,
) -> Result<Appended, ApiError> {
    let (client_msg_id, body) = parse_message(&message)?;
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

fn parse_message(message: &SendMessage) -> Result<(ClientMsgId, MessageBody), ApiError> {
    let mut fields = FieldErrors::new();
    let client_msg_id = field(
        &mut fields,
        "client_msg_id",
        ClientMsgId::parse(&message.client_msg_id),
    );
    let body = field(&mut fields, "body", MessageBody::parse(&message.body));
    match (client_msg_id, body) {
        (Some(client_msg_id), Some(body)) => Ok((client_msg_id, body)),
        _ => Err(ApiError::fields(fields)),
    }
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

/// Live mode rule 5: either side ends the chat; persistent mode rule 3: only an agent ends a
/// persistent conversation. The first end wins; a second gets a 410.
pub async fn end(
    state: &AppState,
    record: &SessionRecord,
    reason: EndReason,
    by: Option<&AgentRef>,
) -> Result<SessionRecord, ApiError> {
    if reason == EndReason::Visitor && record.mode == ChannelMode::Persistent {
        return Err(visitor_cannot_end());
    }
    if !close(state, record, reason, state.clock.now(), by).await? {
        return Err(ended(state, record.id).await);
    }
    state
        .store
        .session(record.id)
        .await?
        .ok_or(ApiError::NotFound("No such session."))
}

/// The 403 for a persistent visitor who tries to end their conversation.
pub fn visitor_cannot_end() -> ApiError {
    ApiError::Forbidden {
        code: "agent_ends_conversation",
        message: "This conversation stays open for you; only an agent can close it.".into(),
    }
}

/// Persistent mode rule 4: an agent sets the conversation aside until the visitor writes
/// again, which frees their capacity; the visitor reads that it is on hold. Setting it aside
/// again is harmless.
pub async fn set_waiting(
    state: &AppState,
    record: &SessionRecord,
    agent: &AgentRef,
) -> Result<SessionRecord, ApiError> {
    if record.mode != ChannelMode::Persistent {
        return Err(ApiError::Conflict {
            code: "not_persistent",
            message: "Only persistent conversations can wait; end a live chat instead.".into(),
        });
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
        routing::offer(state).await;
    }
    Ok(waiting)
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

/// Why the store refused an agent's hold on a session: it is over (410), or another agent
/// holds it (409).
async fn refused_hold(state: &AppState, session_id: Uuid) -> ApiError {
    match open_session(state, session_id).await {
        Ok(current) => ApiError::Conflict {
            code: "already_joined",
            message: format!(
                "{} has already joined this chat.",
                current.agent.map_or_else(String::new, |other| other.name)
            ),
        },
        Err(error) => error,
    }
}

/// An agent joins a session; joining again is harmless, joining another agent's is a 409,
/// but a waiting conversation is anyone's to take up.
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
        return Err(refused_hold(state, record.id).await);
    };
    if record.agent.as_ref().map(|held| held.id) != Some(agent.id) {
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
        if close(state, &record, reason, at, None).await? {
            closed += 1;
        }
    }
    Ok(closed)
}

/// Writes down a session's end with its note and tells everyone; `false` when something
/// else ended it first.
async fn close(
    state: &AppState,
    record: &SessionRecord,
    reason: EndReason,
    at: chrono::DateTime<chrono::Utc>,
    by: Option<&AgentRef>,
) -> anyhow::Result<bool> {
    let Some(ended) = state.store.end_session(record.id, reason, at).await? else {
        return Ok(false);
    };
    system_note(state, record.id, end_note(reason, by)).await?;
    publish_change(state, &ended).await?;
    if record.agent.is_some() {
        routing::offer(state).await;
    }
    Ok(true)
}
