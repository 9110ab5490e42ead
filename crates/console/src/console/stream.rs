//! The agent event stream: one WebSocket to `/api/v1/agent/events`, opened again with
//! jittered backoff whenever it drops (and at once when the browser comes back online or the
//! tab becomes visible). Every `ready` (the first one and each after a reconnect) says
//! whether the agent takes chats, then loads again what may have changed unseen.

use std::fmt;

use futures::{SinkExt, StreamExt, channel::mpsc::unbounded, future::select};
use gloo_net::websocket::{Message as WsMessage, futures::WebSocket};
use leptos::prelude::*;
use palaver_protocol::{
    ErrorCode,
    frames::{AgentEvent, AgentFrame},
};

use super::Console;
use crate::auth::backoff;

/// The state of the event stream, as the header shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Link {
    Connecting,
    Online,
    /// Disconnected; retrying in the background.
    Offline,
}

impl fmt::Display for Link {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Connecting => "Connecting…",
            Self::Online => "Live",
            Self::Offline => "Reconnecting…",
        })
    }
}

/// How one connection ended.
enum Ended {
    /// The server refused the token.
    Unauthorized,
    /// The stream dropped; `was_ready` when it had been working.
    Dropped { was_ready: bool },
}

impl Console {
    /// Starts the connection loop, and the listeners that wake it early.
    pub(super) fn connect(&self) {
        let (kick, mut wake) = unbounded::<()>();
        self.inner.update_value(|inner| inner.kick = Some(kick));
        let console = *self;
        let online = window_event_listener_untyped("online", move |_| console.kick());
        let visible = window_event_listener_untyped("visibilitychange", move |_| {
            if document().visibility_state() == web_sys::VisibilityState::Visible {
                console.kick();
            }
        });
        on_cleanup(move || {
            online.remove();
            visible.remove();
        });
        self.spawn(async move {
            let mut attempt = 0;
            loop {
                console.link.set(Link::Connecting);
                match console.connect_once().await {
                    Ended::Unauthorized => {
                        console.auth.expire();
                        return;
                    }
                    Ended::Dropped { was_ready } if was_ready => attempt = 0,
                    Ended::Dropped { .. } => {}
                }
                console.link.set(Link::Offline);
                console.inner.update_value(|inner| inner.socket = None);
                let timer = gloo_timers::future::sleep(backoff(attempt));
                select(Box::pin(timer), wake.next()).await;
                attempt += 1;
            }
        });
    }

    /// Wakes the reconnection loop, if it is waiting.
    fn kick(&self) {
        self.inner.with_value(|inner| {
            if let Some(kick) = &inner.kick {
                // A full or closed channel means the loop is awake already.
                let _ = kick.unbounded_send(());
            }
        });
    }

    /// Writes a frame to the stream; without one, it is dropped: presence is said again on
    /// the next `ready`, and typing is only worth saying now.
    pub(super) fn send_frame(&self, frame: AgentFrame) {
        self.inner.with_value(|inner| {
            if let Some(socket) = &inner.socket {
                let _ = socket.unbounded_send(frame);
            }
        });
    }

    /// One connection, from the `auth` frame until the stream drops.
    async fn connect_once(self) -> Ended {
        let Ok(socket) = WebSocket::open(&self.api().events_url()) else {
            return Ended::Dropped { was_ready: false };
        };
        let (mut write, mut read) = socket.split();
        let (frames, mut outgoing) = unbounded::<AgentFrame>();
        let token = self.inner.with_value(|inner| inner.api.token().to_owned());
        if frames.unbounded_send(AgentFrame::Auth { token }).is_err() {
            return Ended::Dropped { was_ready: false };
        }
        // The writer ends when the frames' sender is dropped with the connection.
        self.spawn(async move {
            while let Some(frame) = outgoing.next().await {
                let Ok(text) = serde_json::to_string(&frame) else {
                    continue;
                };
                if write.send(WsMessage::Text(text)).await.is_err() {
                    break;
                }
            }
        });
        let mut was_ready = false;
        while let Some(Ok(message)) = read.next().await {
            let WsMessage::Text(text) = message else {
                continue;
            };
            let Ok(event) = serde_json::from_str::<AgentEvent>(&text) else {
                continue;
            };
            match event {
                AgentEvent::Ready { .. } => {
                    was_ready = true;
                    self.inner
                        .update_value(|inner| inner.socket = Some(frames.clone()));
                    self.link.set(Link::Online);
                    self.send_frame(AgentFrame::Presence {
                        available: self.available.get_untracked(),
                    });
                    self.resync();
                }
                AgentEvent::Session { session } => self.on_session(session),
                AgentEvent::Message { message } => self.on_message(message),
                AgentEvent::Typing { session_id, typing } => self.on_typing(session_id, typing),
                AgentEvent::Agent { agent } => self.on_agent(agent),
                AgentEvent::Error { error } if error.error == ErrorCode::Unauthorized => {
                    return Ended::Unauthorized;
                }
                AgentEvent::Error { error } => {
                    leptos::logging::warn!("palaver console: the event stream: {}", error.message);
                }
            }
        }
        Ended::Dropped { was_ready }
    }

    /// What may have changed while the stream was away: the agent's status and the team's,
    /// the inbox, and the open conversation's news.
    fn resync(&self) {
        self.load_team();
        self.load_inbox();
        self.spawn(self.catch_up(self.main));
    }
}

#[cfg(test)]
mod tests {
    use palaver_protocol::Sender;
    use serde_json::json;
    use wasm_bindgen_test::wasm_bindgen_test;

    use crate::test_support::{
        Agent, Mounted, drop_stream, eventually, held, message, push, requests, row, sent_frames,
    };

    #[wasm_bindgen_test]
    async fn every_ready_says_whether_the_agent_takes_chats_as_they_chose() {
        let agent = Agent::new("Ada", chrono::Duration::hours(1));
        let console = Mounted::console(Some(&agent), "");
        console.wait_for("availability").await;
        agent.stream_ready().await;
        assert!(
            sent_frames().contains(&json!({"type": "presence", "available": true})),
            "available by default"
        );
        assert_eq!(console.text("availability"), "Available");

        console.find("availability").expect("the toggle").click();
        eventually("away is sent", || {
            sent_frames().contains(&json!({"type": "presence", "available": false}))
        })
        .await;
        assert_eq!(console.text("availability"), "Away");

        // The load follows the agent events.
        let mut busier = agent.status.clone();
        busier.load = 2;
        push(json!({"type": "agent", "agent": busier}));
        eventually("the load shows", || console.text("agent-load") == "2 / 5").await;
        drop(console);

        let console = Mounted::console(Some(&agent), "");
        console.wait_for("availability").await;
        assert_eq!(
            console.text("availability"),
            "Away",
            "the choice is remembered"
        );
        agent.stream_ready().await;
        assert!(
            sent_frames().contains(&json!({"type": "presence", "available": false})),
            "away is said again"
        );
    }

    #[wasm_bindgen_test]
    async fn a_stream_that_refuses_the_token_ends_the_sign_in_with_the_notice() {
        let agent = Agent::new("Ada", chrono::Duration::hours(1));
        let console = Mounted::console(Some(&agent), "");
        console.wait_for("availability").await;
        eventually("the stream authenticates", || !sent_frames().is_empty()).await;
        push(json!({"type": "error",
                    "error": {"error": "unauthorized", "message": "Sign in to continue."}}));
        console.wait_for("sign-in-expired").await;
        assert!(console.find("inbox").is_none());
    }

    #[wasm_bindgen_test]
    async fn after_a_reconnect_the_open_conversation_catches_up_without_doubles() {
        let agent = Agent::new("Ada", chrono::Duration::hours(1));
        let chat = held(row(0), &agent);
        let id = chat.session.id;
        let first = [
            message(id, 1, Sender::System, "Ada joined the chat."),
            message(id, 2, Sender::Visitor, "Hello"),
        ];
        let console = Mounted::open(&agent, &chat, &first).await;
        agent.stream_ready().await;
        let inbox = "GET /api/v1/agent/sessions?limit=200";
        eventually("ready loads the inbox again", || requests(inbox).len() >= 2).await;
        let loads = requests(inbox).len();

        let missed = message(id, 3, Sender::Visitor, "Are you there?");
        agent.answer(
            "GET",
            &format!("/sessions/{id}/messages?after=2&limit=200"),
            200,
            json!({"messages": [missed], "has_more": false}),
        );
        drop_stream();
        agent.stream_ready().await;
        eventually("what was missed arrives", || console.messages().len() == 3).await;
        assert!(requests(inbox).len() > loads, "the inbox was loaded again");

        // The stream replays it too: still once.
        push(json!({"type": "message", "message": missed}));
        push(json!({"type": "message", "message": message(id, 4, Sender::Visitor, "Hello?")}));
        eventually("the next one follows", || console.messages().len() == 4).await;
        let bodies: Vec<String> = console
            .messages()
            .into_iter()
            .map(|(_, body)| body)
            .collect();
        assert_eq!(
            bodies,
            ["Ada joined the chat.", "Hello", "Are you there?", "Hello?"]
        );
    }
}
