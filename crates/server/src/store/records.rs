//! The records the store speaks: sessions with their raw state and deadlines, what new
//! contacts, sessions and messages start with, and the filters of listings.

use chrono::{DateTime, Utc};
use palaver_protocol::{
    AgentRef, ChannelMode, EndReason, Message, QueueStatus, Session, SessionState,
};
use uuid::Uuid;

use crate::domain::{ClientMsgId, Email, MessageBody, PersonName, PhoneNumber, UserId};

/// A session as stored, with its raw state and deadlines.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionRecord {
    pub id: Uuid,
    pub contact_id: Uuid,
    pub channel: String,
    pub mode: ChannelMode,
    /// The state as last written; see [`SessionRecord::closure`] for deadlines passed since.
    pub state: SessionState,
    pub started_at: DateTime<Utc>,
    pub ends_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    pub end_reason: Option<EndReason>,
    /// When the session closes for inactivity unless someone writes first.
    pub inactive_at: Option<DateTime<Utc>>,
    pub regarding: Option<String>,
    pub agent: Option<AgentRef>,
    pub joined_at: Option<DateTime<Utc>>,
    pub last_seq: i64,
    /// The store-wide change number of the session's last write: every write that changes a
    /// session (a message appended to it included) gives it a number greater than any before.
    pub change: i64,
}

impl SessionRecord {
    /// When and why the session is over as of `now`, if it is.
    pub fn closure(&self, now: DateTime<Utc>) -> Option<(DateTime<Utc>, EndReason)> {
        if let (Some(at), Some(reason)) = (self.ended_at, self.end_reason) {
            return Some((at, reason));
        }
        [
            (self.ends_at, EndReason::Expired),
            (self.inactive_at, EndReason::Inactivity),
        ]
        .into_iter()
        .filter_map(|(deadline, reason)| Some((deadline?, reason)))
        .filter(|(deadline, _)| *deadline <= now)
        .min_by_key(|(deadline, _)| *deadline)
    }

    /// The state as of `now`.
    pub fn state_at(&self, now: DateTime<Utc>) -> SessionState {
        match self.closure(now) {
            Some(_) => SessionState::Ended,
            None => self.state,
        }
    }

    /// The wire form as of `now`.
    pub fn view(&self, now: DateTime<Utc>, queue: Option<QueueStatus>) -> Session {
        let closure = self.closure(now);
        Session {
            id: self.id,
            contact_id: self.contact_id,
            channel: self.channel.clone(),
            mode: self.mode,
            state: self.state_at(now),
            started_at: self.started_at,
            ends_at: self.ends_at,
            ended_at: closure.map(|(at, _)| at),
            end_reason: closure.map(|(_, reason)| reason),
            regarding: self.regarding.clone(),
            agent: self.agent.clone(),
            last_seq: self.last_seq,
            queue,
        }
    }
}

/// What a new session starts with.
#[derive(Debug, Clone)]
pub struct NewSession {
    /// The live visitor's bearer token; persistent sessions are reached through identity
    /// tokens instead.
    pub token_hash: Option<String>,
    pub contact_id: Uuid,
    pub channel: String,
    pub mode: ChannelMode,
    pub started_at: DateTime<Utc>,
    pub ends_at: Option<DateTime<Utc>>,
    pub inactive_at: Option<DateTime<Utc>>,
    pub regarding: Option<String>,
}

/// A visitor's details as given in the form, already parsed.
#[derive(Debug, Clone)]
pub struct ContactDetails {
    pub name: PersonName,
    pub phone: PhoneNumber,
    pub email: Option<Email>,
}

/// What a persistent channel's site signed about its user, already parsed.
#[derive(Debug, Clone)]
pub struct VerifiedDetails {
    /// The channel whose key verified the user id; ids of different channels never meet.
    pub realm: String,
    pub user_id: UserId,
    pub name: PersonName,
    pub email: Option<Email>,
    pub phone: Option<PhoneNumber>,
}

/// What an identity token opens: a contact's conversations on one channel, until it expires.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityGrant {
    pub contact_id: Uuid,
    pub channel: String,
    pub expires_at: DateTime<Utc>,
}

/// Who writes a new message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Author {
    Visitor,
    /// An agent, named so that the stored message can be returned without reading it back.
    Agent(AgentRef),
    System,
}

/// A message to append.
#[derive(Debug, Clone)]
pub struct NewMessage {
    pub session_id: Uuid,
    pub author: Author,
    pub client_msg_id: Option<ClientMsgId>,
    pub body: MessageBody,
    pub at: DateTime<Utc>,
    /// The session's new inactivity deadline, when the channel has one.
    pub inactive_at: Option<DateTime<Utc>>,
}

/// The result of an append: the message, and whether this call created it (`false` for a
/// retry that found the original).
#[derive(Debug, Clone)]
pub struct Appended {
    pub message: Message,
    pub created: bool,
    /// The session's change number after the append (for a retry, the session's current one).
    pub change: i64,
}

/// Which page of a session's messages to read; pages are in ascending `seq` order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageRequest {
    /// The newest `limit` messages.
    Latest { limit: u32 },
    /// Up to `limit` messages with `seq > after`.
    After { after: i64, limit: u32 },
    /// The `limit` messages just before `before`.
    Before { before: i64, limit: u32 },
}

/// Which sessions an agent lists.
#[derive(Debug, Clone, Default)]
pub struct SessionFilter {
    /// The state as of the listing's `now`.
    pub state: Option<SessionState>,
    pub channel: Option<String>,
    pub agent: Option<AgentFilter>,
    /// Part of the contact's name or number.
    pub search: Option<String>,
    /// The last session of the previous page: the listing continues strictly after it, in
    /// its order (`started_at` then storage order, newest first), so pages neither skip nor
    /// repeat sessions that start in the same millisecond. An unknown id gives an empty page.
    pub before: Option<Uuid>,
    pub limit: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AgentFilter {
    Unassigned,
    Agent(Uuid),
}

/// A stored agent.
#[derive(Debug, Clone)]
pub struct AgentRecord {
    pub id: Uuid,
    pub name: String,
    pub password_hash: String,
    /// How many sessions the agent holds at most at once.
    pub capacity: u32,
}

/// An agent's sign-in: who, and until when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentSignIn {
    pub agent: AgentRef,
    pub expires_at: DateTime<Utc>,
}
