//! The WebSocket frames: JSON text frames tagged by `type`.
//!
//! Browsers cannot set headers on a WebSocket, so the first frame a client sends is always
//! `auth` with its bearer token; the token never appears in the URL. The database is the
//! truth and the stream an optimisation: a client that reconnects names the last `seq` it
//! holds and the server replays everything after it before going live.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{
    AgentRef, AgentSession, AgentStatus, ErrorBody, Message, QueueStatus, Sender, Session,
};

/// Frames the widget sends on `GET /api/v1/session/events`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum VisitorFrame {
    /// First frame. Answered by `ready`, then every message after `after_seq`, or by `error`
    /// and a close. `session_id` names the conversation `after_seq` counts in; a persistent
    /// visitor whose open conversation is another one is sent all of it.
    Auth {
        token: String,
        after_seq: i64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        session_id: Option<Uuid>,
    },
    /// The visitor started or stopped typing; agents are told.
    Typing { typing: bool },
}

/// Frames the server sends to the widget.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum VisitorEvent {
    /// Authenticated; the session as it stands. `None` for a persistent visitor with no open
    /// conversation: their next message starts one, announced by a `session` frame.
    Ready { session: Option<Session> },
    /// A message of the session, replayed or new, in `seq` order.
    Message { message: Message },
    /// An agent started or stopped typing.
    Typing { sender: Sender, typing: bool },
    /// The session changed: an agent joined, it was put aside or it ended. For a persistent
    /// visitor, a `session` frame with a new id is a fresh conversation replacing an ended one.
    Session { session: Session },
    /// The visitor's place in the queue changed.
    Queue { queue: QueueStatus },
    /// The request failed (bad frame, unknown or ended session); a close follows when fatal.
    Error { error: ErrorBody },
}

/// Frames the console sends on `GET /api/v1/agent/events`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum AgentFrame {
    /// First frame, with the token from `POST /api/v1/agent/login`. Answered by `ready`.
    Auth { token: String },
    /// The agent started or stopped typing in a session; its visitor is told.
    Typing { session_id: Uuid, typing: bool },
    /// The agent takes new chats (`true`) or not. Routing offers sessions only to available
    /// agents with room; an agent is unavailable while none of their consoles is connected,
    /// and each fresh start of their stream begins unavailable until this frame says so.
    Presence { available: bool },
    /// The conversation the console shows (`None`: none). Answered by a `session` frame
    /// with the conversation as it stands; from then on the stream brings its visitor's
    /// typing. Messages and changes of every session come regardless.
    Open { session_id: Option<Uuid> },
}

/// Frames the server sends to every signed-in agent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum AgentEvent {
    /// Authenticated as this agent.
    Ready { agent: AgentRef },
    /// A session started or changed.
    Session { session: AgentSession },
    /// A message in any session.
    Message { message: Message },
    /// A visitor started or stopped typing.
    Typing { session_id: Uuid, typing: bool },
    /// An agent's availability or load changed (routing gave them a session, one ended or
    /// was set waiting, they came or went).
    Agent { agent: AgentStatus },
    /// The request failed; a close follows when fatal.
    Error { error: ErrorBody },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_tagged_by_type() {
        let frame: VisitorFrame =
            serde_json::from_str(r#"{"type":"auth","token":"t","after_seq":3}"#).expect("parses");
        assert_eq!(
            frame,
            VisitorFrame::Auth {
                token: "t".into(),
                after_seq: 3,
                session_id: None,
            }
        );
        let json = serde_json::to_value(AgentFrame::Typing {
            session_id: Uuid::nil(),
            typing: true,
        })
        .expect("serializes");
        assert_eq!(json["type"], "typing");
    }
}
