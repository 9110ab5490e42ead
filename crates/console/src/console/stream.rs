//! The agent event stream: one WebSocket to `/api/v1/agent/events`, kept up by the client
//! crate's [`keep_connected`] (jittered backoff whenever it drops, and at once when the
//! browser comes back online or the tab becomes visible). Every `ready` (the first one and
//! each after a reconnect) says whether the agent takes chats, then loads again what may
//! have changed unseen; each event goes to its handler in [`super::events`].

use leptos::prelude::*;
use palaver_client::{
    Link,
    reconnect::{Ended, keep_connected},
    socket,
};
use palaver_protocol::{
    ErrorCode,
    frames::{AgentEvent, AgentFrame},
};

use super::Console;

impl Console {
    /// Starts the connection loop, and the listeners that wake it early.
    pub(super) fn connect(&self) {
        let wake_up = self.inner.with_value(|inner| inner.wake_up.clone());
        wake_up.on_return();
        let pause = wake_up.start();
        let console = *self;
        // The console starts one loop for the page's life: it is always the current one.
        self.spawn(keep_connected(
            self.link,
            pause,
            || true,
            move || console.connect_once(),
        ));
    }

    /// Writes a frame to the stream; without one, it is dropped: presence is said again on
    /// the next `ready`, and typing is only worth saying now.
    pub(super) fn send_frame(&self, frame: AgentFrame) {
        self.inner.with_value(|inner| {
            if let Some(socket) = &inner.socket {
                socket.send(&frame);
            }
        });
    }

    /// One connection, from the `auth` frame until the stream drops.
    async fn connect_once(self) -> Ended {
        let ended = self.follow_stream().await;
        self.inner.update_value(|inner| inner.socket = None);
        if ended == Ended::Stop {
            self.auth.expire();
        }
        ended
    }

    /// Reads the stream until it drops ([`Ended::Dropped`]) or the server refuses the token
    /// ([`Ended::Stop`]).
    async fn follow_stream(self) -> Ended {
        let Some((frames, mut events)) =
            socket::open::<AgentFrame, AgentEvent>(&self.api().events_url())
        else {
            return Ended::Dropped { was_online: false };
        };
        let token = self.inner.with_value(|inner| inner.api.token().to_owned());
        if !frames.send(&AgentFrame::Auth { token }) {
            return Ended::Dropped { was_online: false };
        }
        let mut was_online = false;
        while let Some(event) = events.next().await {
            match event {
                AgentEvent::Ready { .. } => {
                    was_online = true;
                    self.inner
                        .update_value(|inner| inner.socket = Some(frames.clone()));
                    self.link.set(Link::Online);
                    self.send_frame(AgentFrame::Presence {
                        available: self.available.get_untracked(),
                    });
                    self.send_frame(AgentFrame::Open {
                        session_id: self.main.id.get_untracked(),
                    });
                    self.resync();
                }
                AgentEvent::Session { session } => self.on_session(session),
                AgentEvent::Message { message } => self.on_message(message),
                AgentEvent::Typing { session_id, typing } => self.on_typing(session_id, typing),
                AgentEvent::Agent { agent } => self.on_agent(agent),
                AgentEvent::Error { error } if error.error == ErrorCode::Unauthorized => {
                    return Ended::Stop;
                }
                AgentEvent::Error { error } => {
                    leptos::logging::warn!("palaver console: the event stream: {}", error.message);
                }
            }
        }
        Ended::Dropped { was_online }
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
