//! Every signed-in agent's stream: sessions, messages, visitor typing and agents' status;
//! from the console, typing and presence (whether the agent takes new chats).

use std::sync::Arc;

use axum::{
    extract::{State, WebSocketUpgrade, ws::WebSocket},
    response::Response,
};
use futures_util::StreamExt;
use palaver_protocol::{
    AgentRef, Sender,
    frames::{AgentEvent, AgentFrame},
};
use tokio::sync::broadcast::{Receiver, error::RecvError};
use uuid::Uuid;

use crate::{
    assignment::status::publish_status,
    chat::{
        access::signed_in_agent,
        assign::{offer, open_session},
    },
    http::{
        error::ApiError,
        socket::common::{Sink, admit, authenticate, next_frame, run_until_either_ends, send_json},
    },
    hub::Event,
    state::AppState,
    tokens::hash_token,
};

/// Every signed-in agent's live stream: sessions, messages and visitor typing.
/// The first frame must be `{"type":"auth","token":…}`.
#[utoipa::path(get, path = "/api/v1/agent/events", tag = "agent",
    responses((status = 101, description = "Switching to the WebSocket protocol")))]
pub async fn upgrade(State(state): State<AppState>, upgrade: WebSocketUpgrade) -> Response {
    upgrade.on_upgrade(move |socket| agent_socket(state, socket))
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
    let sending = tokio::spawn(agent_send(sink, events, hash_token(&token)));
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
