//! The two event streams. The routes only upgrade; each socket then runs apart, split into a
//! task that sends and a task that receives, and both stop when either ends.
//!
//! The first frame authenticates (browsers cannot set headers on a WebSocket, and tokens
//! stay out of URLs and logs). A visitor socket then replays every message after the
//! sequence number the client names, and from then on sends each new message exactly once
//! and in order, reading from the store whenever the hub signals, so a lagging receiver or a
//! race with the replay can never skip or repeat one.

use std::{sync::Arc, time::Duration};

use axum::{
    extract::{
        State,
        ws::{Message as WsMessage, Utf8Bytes, WebSocket, WebSocketUpgrade},
    },
    response::Response,
};
use futures_util::{
    SinkExt, StreamExt,
    stream::{SplitSink, SplitStream},
};
use palaver_protocol::{
    AgentRef, ErrorBody, Sender, Session, SessionState,
    frames::{AgentEvent, AgentFrame, VisitorEvent, VisitorFrame},
};
use serde::{Serialize, de::DeserializeOwned};
use tokio::sync::{
    broadcast::{Receiver, error::RecvError},
    watch,
};
use uuid::Uuid;

use crate::{
    auth::{self, VisitorAccess},
    chat,
    error::ApiError,
    hub::Event,
    routing,
    startup::AppState,
    store::{IdentityGrant, PageRequest, SessionRecord},
};

/// How long a client has to send its `auth` frame.
const AUTH_TIMEOUT: Duration = Duration::from_secs(10);
/// Messages read from the store per query while catching up.
const REPLAY_PAGE: u32 = 200;

/// The visitor's live stream: messages, agent typing, session changes and queue position.
/// The first frame must be `{"type":"auth","token":…,"after_seq":…}`.
#[utoipa::path(get, path = "/api/v1/session/events", tag = "visitor",
    responses((status = 101, description = "Switching to the WebSocket protocol")))]
pub async fn visitor(State(state): State<AppState>, upgrade: WebSocketUpgrade) -> Response {
    upgrade.on_upgrade(move |socket| visitor_socket(state, socket))
}

/// Every signed-in agent's live stream: sessions, messages and visitor typing.
/// The first frame must be `{"type":"auth","token":…}`.
#[utoipa::path(get, path = "/api/v1/agent/events", tag = "agent",
    responses((status = 101, description = "Switching to the WebSocket protocol")))]
pub async fn agent(State(state): State<AppState>, upgrade: WebSocketUpgrade) -> Response {
    upgrade.on_upgrade(move |socket| agent_socket(state, socket))
}

type Sink = SplitSink<WebSocket, WsMessage>;
type Stream = SplitStream<WebSocket>;

async fn send_json(sink: &mut Sink, frame: &impl Serialize) -> bool {
    match serde_json::to_string(frame) {
        Ok(text) => sink
            .send(WsMessage::Text(Utf8Bytes::from(text)))
            .await
            .is_ok(),
        Err(error) => {
            tracing::error!(?error, "serializing a frame");
            false
        }
    }
}

/// Reads the next text frame as `T`; `None` when the socket closed or timed out.
async fn next_frame<T: DeserializeOwned>(stream: &mut Stream) -> Option<Result<T, ApiError>> {
    loop {
        match stream.next().await? {
            Ok(WsMessage::Text(text)) => {
                return Some(serde_json::from_str(text.as_str()).map_err(|error| {
                    ApiError::BadRequest(format!("That frame is not understood: {error}"))
                }));
            }
            Ok(WsMessage::Close(_)) | Err(_) => return None,
            Ok(_) => {}
        }
    }
}

/// Reads the first frame, which must authenticate: `auth` picks the credentials out of it.
/// Anything else is answered with an error frame (made by `error_frame`) and `None`, as is
/// silence past [`AUTH_TIMEOUT`].
async fn authenticate<F: DeserializeOwned, T, E: Serialize>(
    sink: &mut Sink,
    stream: &mut Stream,
    auth: impl FnOnce(F) -> Option<T>,
    error_frame: impl FnOnce(ErrorBody) -> E,
) -> Option<T> {
    let error = match tokio::time::timeout(AUTH_TIMEOUT, next_frame::<F>(stream)).await {
        Ok(Some(Ok(frame))) => match auth(frame) {
            Some(credentials) => return Some(credentials),
            None => ApiError::Unauthorized("The first frame must be `auth`."),
        },
        Ok(Some(Err(error))) => error,
        Ok(None) | Err(_) => return None,
    };
    send_json(sink, &error_frame(error.body())).await;
    None
}

async fn visitor_socket(state: AppState, socket: WebSocket) {
    let (mut sink, mut stream) = socket.split();
    let first = authenticate(
        &mut sink,
        &mut stream,
        |frame| match frame {
            VisitorFrame::Auth {
                token,
                after_seq,
                session_id,
            } => Some((token, after_seq, session_id)),
            VisitorFrame::Typing { .. } => None,
        },
        |error| VisitorEvent::Error { error },
    )
    .await;
    let Some((token, after_seq, after_session)) = first else {
        return;
    };
    // Subscribe before reading the session, so nothing published in between is missed.
    let events = state.hub.subscribe();
    let access = match auth::visitor_access(&state, &token).await {
        Ok(access) => access,
        Err(error) => {
            send_json(
                &mut sink,
                &VisitorEvent::Error {
                    error: error.body(),
                },
            )
            .await;
            return;
        }
    };
    // The conversation the socket follows, which the visitor's typing is about; a verified
    // visitor's changes when an ended conversation is followed by a fresh one.
    let (following, watching) = watch::channel(None);
    let sending = match access {
        VisitorAccess::Live(record) => {
            following.send_replace(Some(record.id));
            tokio::spawn(visitor_send(state.clone(), sink, events, record, after_seq))
        }
        VisitorAccess::Verified(grant) => {
            let from = Position {
                session_id: after_session,
                after_seq,
            };
            tokio::spawn(verified_send(
                state.clone(),
                sink,
                events,
                grant,
                from,
                following,
            ))
        }
    };
    let state_for_stop = state.clone();
    let receiving = tokio::spawn(async move {
        while let Some(frame) = next_frame::<VisitorFrame>(&mut stream).await {
            let session_id = *watching.borrow();
            if let (Ok(VisitorFrame::Typing { typing }), Some(session_id)) = (frame, session_id) {
                state.hub.publish(Event::Typing {
                    session_id,
                    sender: Sender::Visitor,
                    typing,
                });
            }
        }
    });
    run_until_either_ends(&state_for_stop, sending, receiving).await;
}

/// Waits until the socket's sending or receiving task ends, or the server stops (so that
/// clients reconnect to whichever server runs next), then stops the other.
async fn run_until_either_ends(
    state: &AppState,
    mut sending: tokio::task::JoinHandle<()>,
    mut receiving: tokio::task::JoinHandle<()>,
) {
    let stopping = state.stopping();
    tokio::select! {
        _ = &mut sending => receiving.abort(),
        _ = &mut receiving => sending.abort(),
        () = stopping => {
            sending.abort();
            receiving.abort();
        }
    }
}

/// Sends the messages after `last_seq`, as many pages as there are; `None` when the
/// socket is gone or the store failed.
async fn catch_up(
    state: &AppState,
    sink: &mut Sink,
    session_id: Uuid,
    last_seq: &mut i64,
) -> Option<()> {
    loop {
        let page = PageRequest::After {
            after: *last_seq,
            limit: REPLAY_PAGE,
        };
        let page = match state.store.messages(session_id, page).await {
            Ok(page) => page,
            Err(error) => {
                tracing::error!(?error, %session_id, "catching a socket up");
                return None;
            }
        };
        for message in page.messages {
            *last_seq = message.seq;
            if !send_json(sink, &VisitorEvent::Message { message }).await {
                return None;
            }
        }
        if !page.has_more {
            return Some(());
        }
    }
}

async fn visitor_send(
    state: AppState,
    mut sink: Sink,
    mut events: Receiver<Arc<Event>>,
    record: SessionRecord,
    after_seq: i64,
) {
    let session_id = record.id;
    let session = match chat::view(&state, &record).await {
        Ok(session) => session,
        Err(error) => {
            tracing::error!(?error, %session_id, "reading a session for its socket");
            return;
        }
    };
    if !send_json(
        &mut sink,
        &VisitorEvent::Ready {
            session: Some(session),
        },
    )
    .await
    {
        return;
    }
    let mut last_seq = after_seq.max(0);
    if catch_up(&state, &mut sink, session_id, &mut last_seq)
        .await
        .is_none()
    {
        return;
    }
    loop {
        let event = match events.recv().await {
            Ok(event) => event,
            Err(RecvError::Lagged(_)) => {
                // Fell behind the hub: the store has everything that was missed.
                if catch_up(&state, &mut sink, session_id, &mut last_seq)
                    .await
                    .is_none()
                {
                    return;
                }
                continue;
            }
            Err(RecvError::Closed) => return,
        };
        if event.session_id() != Some(session_id) {
            continue;
        }
        let sent = match &*event {
            Event::Message(_) => catch_up(&state, &mut sink, session_id, &mut last_seq)
                .await
                .is_some(),
            Event::Typing { sender, typing, .. } => {
                *sender == Sender::Visitor
                    || send_json(
                        &mut sink,
                        &VisitorEvent::Typing {
                            sender: sender.clone(),
                            typing: *typing,
                        },
                    )
                    .await
            }
            Event::Queue { queue, .. } => {
                send_json(&mut sink, &VisitorEvent::Queue { queue: *queue }).await
            }
            Event::Session(changed) => {
                // Messages written before the change (a closing note) go first.
                let caught_up = catch_up(&state, &mut sink, session_id, &mut last_seq)
                    .await
                    .is_some();
                let session = changed.session.clone();
                let over = session.ended_at.is_some();
                if !caught_up
                    || !send_json(&mut sink, &VisitorEvent::Session { session }).await
                    || over
                {
                    return;
                }
                true
            }
            // Agents' events have no session, so they never pass the check above.
            Event::Agent(_) | Event::SignedOut { .. } => true,
        };
        if !sent {
            return;
        }
    }
}

/// Where a client's copy of a conversation ends: the last `seq` it holds, and of which
/// conversation (`None`: the open one).
struct Position {
    session_id: Option<Uuid>,
    after_seq: i64,
}

/// A verified visitor's stream follows their open conversation on the channel, and stays
/// open when an agent ends it: the visitor's next message starts a fresh conversation,
/// announced with a `session` frame of a new id and then sent from its first message.
async fn verified_send(
    state: AppState,
    mut sink: Sink,
    mut events: Receiver<Arc<Event>>,
    grant: IdentityGrant,
    from: Position,
    following: watch::Sender<Option<Uuid>>,
) {
    let open = match chat::open_conversation(&state, &grant).await {
        Ok(open) => open,
        Err(error) => {
            tracing::error!(?error, contact = %grant.contact_id, "reading a conversation for its socket");
            return;
        }
    };
    let session = match &open {
        Some(record) => match chat::view(&state, record).await {
            Ok(session) => Some(session),
            Err(error) => {
                tracing::error!(?error, "viewing a conversation for its socket");
                return;
            }
        },
        None => None,
    };
    if !send_json(&mut sink, &VisitorEvent::Ready { session }).await {
        return;
    }
    let mut current = open.map(|record| record.id);
    following.send_replace(current);
    let mut last_seq = if from.session_id.is_none() || from.session_id == current {
        from.after_seq.max(0)
    } else {
        0
    };
    // Whether the store may hold messages of the followed conversation that the client lacks;
    // the hub carries every session's events, and only this socket's are worth a query.
    let mut behind = true;
    loop {
        if behind {
            if let Some(session_id) = current
                && catch_up(&state, &mut sink, session_id, &mut last_seq)
                    .await
                    .is_none()
            {
                return;
            }
            behind = false;
        }
        let changed = match events.recv().await {
            Ok(event) => match &*event {
                Event::Message(message) if Some(message.session_id) == current => {
                    behind = true;
                    None
                }
                Event::Session(changed)
                    if changed.session.contact_id == grant.contact_id
                        && changed.session.channel == grant.channel =>
                {
                    Some(changed.session.clone())
                }
                Event::Typing {
                    session_id,
                    sender,
                    typing,
                } if Some(*session_id) == current && *sender != Sender::Visitor => {
                    let frame = VisitorEvent::Typing {
                        sender: sender.clone(),
                        typing: *typing,
                    };
                    if !send_json(&mut sink, &frame).await {
                        return;
                    }
                    None
                }
                _ => None,
            },
            Err(RecvError::Lagged(_)) => {
                behind = true;
                match reread_conversation(&state, &grant, current).await {
                    Some(changed) => changed,
                    None => return,
                }
            }
            Err(RecvError::Closed) => return,
        };
        let Some(session) = changed else {
            continue;
        };
        if Some(session.id) == current {
            // Messages written before the change (a closing note) go first.
            if catch_up(&state, &mut sink, session.id, &mut last_seq)
                .await
                .is_none()
            {
                return;
            }
            if session.state == SessionState::Ended {
                current = None;
            }
        } else if session.state == SessionState::Ended {
            continue;
        } else {
            current = Some(session.id);
            last_seq = 0;
            behind = true;
        }
        following.send_replace(current);
        if !send_json(&mut sink, &VisitorEvent::Session { session }).await {
            return;
        }
    }
}

/// After falling behind the hub: the conversation to announce when it is not the one the
/// socket follows (a fresh one, or the followed one now over). `None` when the store failed.
async fn reread_conversation(
    state: &AppState,
    grant: &IdentityGrant,
    current: Option<Uuid>,
) -> Option<Option<Session>> {
    let read = async {
        let record = match chat::open_conversation(state, grant).await? {
            Some(open) if Some(open.id) != current => Some(open),
            Some(_) => None,
            None => match current {
                Some(id) => state.store.session(id).await?,
                None => None,
            },
        };
        match record {
            Some(record) => chat::view(state, &record).await.map(Some),
            None => Ok(None),
        }
    };
    match read.await {
        Ok(changed) => Some(changed),
        Err(error) => {
            tracing::error!(?error, "re-reading a conversation after a lag");
            None
        }
    }
}

async fn agent_socket(state: AppState, socket: WebSocket) {
    let (mut sink, mut stream) = socket.split();
    let first = authenticate(
        &mut sink,
        &mut stream,
        |frame| match frame {
            AgentFrame::Auth { token } => Some(token),
            AgentFrame::Typing { .. } | AgentFrame::Presence { .. } => None,
        },
        |error| AgentEvent::Error { error },
    )
    .await;
    let Some(token) = first else {
        return;
    };
    let events = state.hub.subscribe();
    let agent = match auth::signed_in_agent(&state, &token).await {
        Ok(agent) => agent,
        Err(error) => {
            send_json(
                &mut sink,
                &AgentEvent::Error {
                    error: error.body(),
                },
            )
            .await;
            return;
        }
    };
    if !send_json(
        &mut sink,
        &AgentEvent::Ready {
            agent: agent.clone(),
        },
    )
    .await
    {
        return;
    }
    state.presence.arrive(agent.id);
    let state_for_stop = state.clone();
    let sending = tokio::spawn(agent_send(sink, events, auth::hash_token(&token)));
    let agent_id = agent.id;
    let receiving = tokio::spawn(async move {
        while let Some(frame) = next_frame::<AgentFrame>(&mut stream).await {
            match frame {
                Ok(AgentFrame::Typing { session_id, typing }) => {
                    agent_typing(&state, &agent, session_id, typing).await;
                }
                Ok(AgentFrame::Presence { available }) => {
                    agent_presence(&state, agent.id, available).await;
                }
                Ok(AgentFrame::Auth { .. }) | Err(_) => {}
            }
        }
    });
    run_until_either_ends(&state_for_stop, sending, receiving).await;
    if state_for_stop.presence.leave(agent_id)
        && let Err(error) = routing::publish_status(&state_for_stop, agent_id).await
    {
        tracing::error!(?error, "announcing an agent who left");
    }
}

/// The agent takes new chats or stops; when they start, queued sessions are offered.
async fn agent_presence(state: &AppState, agent_id: Uuid, available: bool) {
    if !state.presence.set_available(agent_id, available) {
        return;
    }
    if let Err(error) = routing::publish_status(state, agent_id).await {
        tracing::error!(?error, "announcing an agent's availability");
    }
    if available {
        routing::offer(state).await;
    }
}

async fn agent_typing(state: &AppState, agent: &AgentRef, session_id: Uuid, typing: bool) {
    if chat::open_session(state, session_id).await.is_ok() {
        state.hub.publish(Event::Typing {
            session_id,
            sender: Sender::Agent {
                id: agent.id,
                name: agent.name.clone(),
            },
            typing,
        });
    }
}

async fn agent_send(mut sink: Sink, mut events: Receiver<Arc<Event>>, token_hash: String) {
    loop {
        let event = match events.recv().await {
            Ok(event) => event,
            // Closing makes the client reconnect and reload from the API, rather than show a
            // view with holes in it.
            Err(RecvError::Lagged(missed)) => {
                tracing::warn!(missed, "an agent socket fell behind; closing it");
                return;
            }
            Err(RecvError::Closed) => return,
        };
        let frame = match &*event {
            Event::Message(message) => AgentEvent::Message {
                message: message.clone(),
            },
            Event::Session(session) => AgentEvent::Session {
                session: session.clone(),
            },
            Event::Typing {
                session_id,
                sender: Sender::Visitor,
                typing,
            } => AgentEvent::Typing {
                session_id: *session_id,
                typing: *typing,
            },
            Event::Agent(agent) => AgentEvent::Agent {
                agent: agent.clone(),
            },
            Event::SignedOut { token_hash: gone } if *gone == token_hash => {
                let error = ApiError::Unauthorized("You signed out.").body();
                send_json(&mut sink, &AgentEvent::Error { error }).await;
                return;
            }
            Event::Typing { .. } | Event::Queue { .. } | Event::SignedOut { .. } => continue,
        };
        if !send_json(&mut sink, &frame).await {
            return;
        }
    }
}
