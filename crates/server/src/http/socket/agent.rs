//! Every signed-in agent's stream: sessions, messages, visitor typing and agents' status;
//! from the console, typing and presence (whether the agent takes new chats).

use axum::{
    extract::{State, WebSocketUpgrade, ws::WebSocket},
    response::Response,
};
use futures_util::StreamExt;
use palaver_protocol::{
    AgentRef, Sender,
    frames::{AgentEvent, AgentFrame},
};
use tokio::sync::watch;
use uuid::Uuid;

use crate::{
    assignment::status::publish_status,
    chat::{
        access::signed_in_agent,
        assign::{offer, open_session},
        view::agent_view,
    },
    http::{
        error::ApiError,
        socket::common::{
            Sink, TypingThrottle, admit, authenticate, next_frame, run_until_either_ends,
            send_json, small,
        },
    },
    hub::{Event, Next, Subscription, Topic},
    state::AppState,
    tokens::hash_token,
};

/// Every signed-in agent's live stream: sessions, messages and visitor typing.
/// The first frame must be `{"type":"auth","token":…}`.
#[utoipa::path(get, path = "/api/v1/agent/events", tag = "agent",
    responses((status = 101, description = "Switching to the WebSocket protocol")))]
pub async fn upgrade(State(state): State<AppState>, upgrade: WebSocketUpgrade) -> Response {
    small(upgrade).on_upgrade(move |socket| agent_socket(state, socket))
}

async fn agent_socket(state: AppState, socket: WebSocket) {
    let (mut sink, mut stream) = socket.split();
    let first = authenticate(
        &mut sink,
        &mut stream,
        |frame| match frame {
            AgentFrame::Auth { token } => Some(token),
            AgentFrame::Typing { .. } | AgentFrame::Presence { .. } | AgentFrame::Open { .. } => {
                None
            }
        },
        |error| AgentEvent::Error { error },
    )
    .await;
    let Some(token) = first else {
        return;
    };
    // Subscribed before the agent is admitted, so nothing published after `ready` is missed.
    let inbox = state.hub.subscribe(Topic::Inbox);
    let checked = signed_in_agent(&state, &token).await;
    let Some(agent) = admit(&mut sink, checked, |error| AgentEvent::Error { error }).await else {
        return;
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
    let (opening, opened) = watch::channel(None);
    let stream_of = Stream {
        state: state.clone(),
        sink,
        token_hash: hash_token(&token),
    };
    let sending = tokio::spawn(stream_of.run(inbox, opened));
    let agent_id = agent.id;
    let receiving = tokio::spawn(async move {
        let mut typing = TypingThrottle::default();
        loop {
            let frame = tokio::select! {
                frame = next_frame::<AgentFrame>(&mut stream) => match frame {
                    Some(frame) => frame,
                    None => return,
                },
                () = typing.due() => {
                    if let Some((session_id, now)) = typing.pass(None) {
                        agent_typing(&state, &agent, session_id, now).await;
                    }
                    continue;
                }
            };
            match frame {
                Ok(AgentFrame::Typing {
                    session_id,
                    typing: now,
                }) => {
                    if let Some((session_id, now)) = typing.pass(Some((session_id, now))) {
                        agent_typing(&state, &agent, session_id, now).await;
                    }
                }
                Ok(AgentFrame::Presence { available }) => {
                    agent_presence(&state, agent.id, available).await;
                }
                Ok(AgentFrame::Open { session_id }) => {
                    opening.send_replace(session_id);
                }
                Ok(AgentFrame::Auth { .. }) | Err(_) => {}
            }
        }
    });
    run_until_either_ends(&state_for_stop, sending, receiving).await;
    if state_for_stop.presence.leave(agent_id)
        && let Err(error) = publish_status(&state_for_stop, agent_id).await
    {
        tracing::error!(?error, "announcing an agent who left");
    }
}

/// The agent takes new chats or stops; when they start, queued sessions are offered.
async fn agent_presence(state: &AppState, agent_id: Uuid, available: bool) {
    if !state.presence.set_available(agent_id, available) {
        return;
    }
    if let Err(error) = publish_status(state, agent_id).await {
        tracing::error!(?error, "announcing an agent's availability");
    }
    if available {
        offer(state).await;
    }
}

async fn agent_typing(state: &AppState, agent: &AgentRef, session_id: Uuid, typing: bool) {
    if open_session(state, session_id).await.is_ok() {
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

/// One console's stream: the inbox, and the typing of the conversation it shows.
struct Stream {
    state: AppState,
    sink: Sink,
    /// The sign-in the stream was opened with; signing out closes it.
    token_hash: String,
}

/// What wakes a console's stream.
enum Wake {
    Inbox(Next),
    Open(Next),
    /// The console shows another conversation, or none (`None` when the console is gone).
    Opened(Option<Option<Uuid>>),
}

impl Stream {
    async fn run(mut self, mut inbox: Subscription, mut opened: watch::Receiver<Option<Uuid>>) {
        let mut open: Option<Subscription> = None;
        loop {
            let wake = tokio::select! {
                next = inbox.next() => Wake::Inbox(next),
                next = async {
                    match &mut open {
                        Some(open) => open.next().await,
                        None => std::future::pending().await,
                    }
                } => Wake::Open(next),
                changed = opened.changed() => {
                    Wake::Opened(changed.ok().map(|()| *opened.borrow_and_update()))
                }
            };
            let event = match wake {
                Wake::Inbox(Next::Event(event)) | Wake::Open(Next::Event(event)) => event,
                // Typing is news only as it happens: what was missed is gone, harmlessly.
                Wake::Open(Next::Behind) => continue,
                Wake::Inbox(Next::Behind) => {
                    tracing::warn!("an agent socket fell behind; closing it");
                    return;
                }
                Wake::Opened(None) => return,
                Wake::Opened(Some(session_id)) => {
                    open = session_id.map(|id| self.state.hub.subscribe(Topic::Open(id)));
                    // The conversation as it stands, from the moment its typing is followed.
                    if let Some(id) = session_id
                        && !self.send_session(id).await
                    {
                        return;
                    }
                    continue;
                }
            };
            if !self.send(&event).await {
                return;
            }
        }
    }

    /// Sends a session as it stands; `false` when the stream ends.
    async fn send_session(&mut self, session_id: Uuid) -> bool {
        let read = async {
            match self.state.store.session(session_id).await? {
                Some(record) => agent_view(&self.state, &record).await.map(Some),
                None => Ok(None),
            }
        };
        match read.await {
            Ok(Some(session)) => send_json(&mut self.sink, &AgentEvent::Session { session }).await,
            // An unknown id opens nothing; the console learns of it from the API.
            Ok(None) => true,
            Err(error) => {
                tracing::error!(?error, %session_id, "reading an opened session");
                false
            }
        }
    }

    /// Sends an event as its frame; `false` when the stream ends.
    async fn send(&mut self, event: &Event) -> bool {
        let frame = match event {
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
            Event::SignedOut { token_hash } if *token_hash == self.token_hash => {
                let error = ApiError::Unauthorized("You signed out.").body();
                send_json(&mut self.sink, &AgentEvent::Error { error }).await;
                return false;
            }
            Event::Typing { .. } | Event::Queue { .. } | Event::SignedOut { .. } => return true,
        };
        send_json(&mut self.sink, &frame).await
    }
}
