//! Wire types shared by the widget, the agent console and the server: the JSON bodies of the
//! REST API and the frames of the two WebSocket streams. Serde only, so that every side
//! compiles it, the WebAssembly widget included.
//!
//! # Layout
//! - this file: sessions, contacts, messages and the REST bodies around them;
//! - [`frames`]: the visitor and agent WebSocket frames, one enum variant per frame;
//! - [`ErrorBody`] and [`ErrorCode`]: every error the API answers with;
//! - [`limits`]: the bounds both sides check (message length, page sizes).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

mod error;
pub mod frames;
pub mod limits;

pub use error::{ErrorBody, ErrorCode};

/// How a channel treats its visitors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ChannelMode {
    /// Anonymous visitors identified by their contact number; a session lasts a fixed window.
    Live,
    /// Verified visitors whose one conversation stays open until an agent ends it.
    Persistent,
}

/// Where a session stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SessionState {
    /// Started by the visitor; no agent has joined yet.
    Queued,
    /// An agent has joined.
    Active,
    /// Put aside by an agent until the visitor writes again (persistent mode).
    Waiting,
    /// Over: ended by either side, by inactivity, or because its window passed.
    Ended,
}

/// Why a session is over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum EndReason {
    /// The visitor ended the chat.
    Visitor,
    /// An agent ended the chat.
    Agent,
    /// The session's window (24 hours by default) passed.
    Expired,
    /// Nobody wrote for the channel's inactivity timeout.
    Inactivity,
}

/// An agent as others see them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AgentRef {
    pub id: Uuid,
    pub name: String,
}

/// One conversation of one contact on one channel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Session {
    pub id: Uuid,
    pub contact_id: Uuid,
    /// The channel (shown to agents as *Configuration*).
    pub channel: String,
    pub mode: ChannelMode,
    pub state: SessionState,
    pub started_at: DateTime<Utc>,
    /// When the session's window closes (live mode); `None` for sessions without a window.
    pub ends_at: Option<DateTime<Utc>>,
    /// When it actually ended, once it has.
    pub ended_at: Option<DateTime<Utc>>,
    pub end_reason: Option<EndReason>,
    /// An associated record (an order, a ticket), set by an agent or the host page.
    pub regarding: Option<String>,
    /// The agent who joined, if any.
    pub agent: Option<AgentRef>,
    /// The sequence number of the newest message, 0 before the first.
    pub last_seq: i64,
    /// The visitor's place in the queue while no agent has joined (live mode).
    pub queue: Option<QueueStatus>,
}

/// A queued visitor's place and expected wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct QueueStatus {
    /// 1 for the next visitor to be answered.
    pub position: u32,
    pub estimated_wait_seconds: u64,
}

/// The person behind one or more sessions. A live-mode contact is known by its phone number;
/// a persistent-mode contact by the user id its site signed (`user_id`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Contact {
    pub id: Uuid,
    pub name: String,
    /// E.164, e.g. `+442079460958`; always present for live-mode contacts.
    pub phone: Option<String>,
    pub email: Option<String>,
    /// The verified user id (the identity token's `sub`) of a persistent-mode contact.
    pub user_id: Option<String>,
}

/// Who wrote a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Sender {
    Visitor,
    Agent { id: Uuid, name: String },
    System,
}

/// One message of a session; `seq` grows by one per message of the session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Message {
    pub id: Uuid,
    pub session_id: Uuid,
    pub seq: i64,
    /// The sender's own id for the message, which makes a retried send idempotent.
    pub client_msg_id: Option<String>,
    pub sender: Sender,
    /// Plain text, never markup.
    pub body: String,
    pub created_at: DateTime<Utc>,
}

/// `GET /api/v1/channels/{channel}`: what the widget needs before the visitor starts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChannelInfo {
    pub id: String,
    pub name: String,
    pub mode: ChannelMode,
    /// Whether the details form must ask for an email.
    pub require_email: bool,
    /// Whether agents are within operating hours now.
    pub open: bool,
    /// When operating hours next begin, while closed.
    pub next_open_at: Option<DateTime<Utc>>,
}

/// `POST /api/v1/channels/{channel}/sessions`: the visitor's details.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StartSession {
    pub name: String,
    /// Any common notation; the server normalizes it to E.164.
    pub phone: String,
    #[serde(default)]
    pub email: Option<String>,
    /// What the chat is about, when the host page knows (an order, a ticket).
    #[serde(default)]
    pub regarding: Option<String>,
}

/// The answer to [`StartSession`]: the session and the bearer token that opens it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SessionCreated {
    pub token: String,
    pub session: Session,
}

/// `POST /api/v1/channels/{channel}/identify`: a persistent channel's visitor proves who they
/// are with the token their site signed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Identify {
    /// A JWT signed with the channel's key: `sub`, `exp`, and optionally `name`, `email`,
    /// `phone`, `iat`, `nbf`, `iss`, `aud`.
    pub identity_token: String,
}

/// The answer to [`Identify`]: a bearer token for the visitor API that lasts as long as the
/// identity token, and the contact's open conversation on the channel, if there is one.
///
/// With this token, the visitor API always speaks of the open conversation: the first message
/// after an agent ended the last one starts a fresh conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Identified {
    pub token: String,
    /// When the token stops working: the identity token's `exp`.
    pub expires_at: DateTime<Utc>,
    pub contact: Contact,
    pub session: Option<Session>,
}

/// `POST …/messages`: a message to send.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SendMessage {
    /// Generated by the sender (a UUID suits); a retry with the same id returns the original.
    pub client_msg_id: String,
    pub body: String,
}

/// A page of messages in ascending `seq` order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MessagePage {
    pub messages: Vec<Message>,
    /// Whether more messages lie beyond this page in the direction asked for.
    pub has_more: bool,
}

/// `POST /api/v1/agent/login`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AgentLogin {
    pub name: String,
    pub password: String,
}

/// The answer to [`AgentLogin`]: a bearer token for the agent API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AgentToken {
    pub token: String,
    pub agent: AgentRef,
    pub expires_at: DateTime<Utc>,
}

/// An agent with their capacity and what they hold now: `GET /api/v1/agent/me` and
/// `GET /api/v1/agent/agents`, and the `agent` frame of the agent stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AgentStatus {
    pub id: Uuid,
    pub name: String,
    /// How many sessions the agent holds at most at once; routing offers no more.
    pub capacity: u32,
    /// Sessions the agent holds now (`active`; waiting ones do not count).
    pub load: u32,
    /// Whether a console of theirs is connected and they take new chats.
    pub available: bool,
}

/// A session as agents see it: with its contact (*To*).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AgentSession {
    pub session: Session,
    pub to: Contact,
}

/// `PUT /api/v1/agent/sessions/{id}/regarding` and `PUT /api/v1/session/regarding`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SetRegarding {
    /// The record's reference; `null` clears it.
    pub regarding: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn senders_are_tagged_by_kind() {
        let agent = Sender::Agent {
            id: Uuid::nil(),
            name: "Ada".into(),
        };
        let json = serde_json::to_value(&agent).expect("serializes");
        assert_eq!(json["kind"], "agent");
        assert_eq!(json["name"], "Ada");
        assert_eq!(
            serde_json::to_value(Sender::System).expect("serializes"),
            serde_json::json!({"kind": "system"})
        );
    }
}
