//! Storage: the [`Store`] trait the rest of the server talks to, and the records it speaks.
//! SQLite ([`sqlite::SqliteStore`]) is the default implementation; every implementation must
//! pass the conformance suite in `tests/api/store.rs`.
//!
//! The database is the truth. Sessions keep their deadlines (window end, inactivity), so the
//! state a reader sees is derived at read time from the clock: a session whose window has
//! passed reads as ended even before the sweeper has written that down.

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use palaver_protocol::{
    AgentRef, ChannelMode, Contact, EndReason, Message, MessagePage, QueueStatus, Session,
    SessionState,
};
use uuid::Uuid;

use crate::domain::{ClientMsgId, Email, MessageBody, PersonName, PhoneNumber, UserId};

pub mod sqlite;

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
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Author {
    Visitor,
    Agent(Uuid),
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

#[async_trait]
pub trait Store: Send + Sync {
    /// Finds the contact with this number, updating name and (when given) email, or creates it.
    async fn upsert_contact(
        &self,
        details: &ContactDetails,
        now: DateTime<Utc>,
    ) -> anyhow::Result<Contact>;
    async fn contact(&self, id: Uuid) -> anyhow::Result<Option<Contact>>;
    /// Finds the contact a persistent channel's site knows as `user_id`, updating its name
    /// and (when given) email and phone, or creates it.
    async fn upsert_verified_contact(
        &self,
        details: &VerifiedDetails,
        now: DateTime<Utc>,
    ) -> anyhow::Result<Contact>;
    async fn create_identity_token(
        &self,
        token_hash: &str,
        grant: &IdentityGrant,
        now: DateTime<Utc>,
    ) -> anyhow::Result<()>;
    /// What an identity token opens, expired or not (so that callers can say which).
    async fn identity_by_token(&self, token_hash: &str) -> anyhow::Result<Option<IdentityGrant>>;

    async fn create_session(&self, new: NewSession) -> anyhow::Result<SessionRecord>;
    /// Starts a persistent conversation unless the contact has one open on the channel
    /// already; the database allows only one. Returns the open conversation and whether this
    /// call created it.
    async fn start_conversation(&self, new: NewSession) -> anyhow::Result<(SessionRecord, bool)>;
    /// The contact's persistent conversation on `channel` not yet marked ended.
    async fn open_conversation(
        &self,
        contact_id: Uuid,
        channel: &str,
    ) -> anyhow::Result<Option<SessionRecord>>;
    async fn session(&self, id: Uuid) -> anyhow::Result<Option<SessionRecord>>;
    async fn session_by_token(&self, token_hash: &str) -> anyhow::Result<Option<SessionRecord>>;
    /// Sessions matching `filter` as of `now`, newest first, with their contacts.
    async fn list_sessions(
        &self,
        filter: &SessionFilter,
        now: DateTime<Utc>,
    ) -> anyhow::Result<Vec<(SessionRecord, Contact)>>;
    /// Every session of a contact, newest first.
    async fn contact_sessions(&self, contact_id: Uuid) -> anyhow::Result<Vec<SessionRecord>>;
    /// Sessions still waiting for an agent as of `now`, of every channel, in the order they
    /// joined the queue (a conversation brought back from waiting joins it afresh).
    async fn queued_sessions(&self, now: DateTime<Utc>) -> anyhow::Result<Vec<SessionRecord>>;
    /// The agent who last held any of the contact's sessions on `channel`, for affinity.
    async fn affinity_agent(&self, contact_id: Uuid, channel: &str)
    -> anyhow::Result<Option<Uuid>>;
    /// How long the channel's most recently joined sessions waited in the queue, newest first.
    async fn recent_waits(
        &self,
        channel: &str,
        limit: u32,
    ) -> anyhow::Result<Vec<chrono::Duration>>;
    /// Sessions not yet marked ended whose window or inactivity deadline is at or before `now`.
    async fn due_sessions(&self, now: DateTime<Utc>) -> anyhow::Result<Vec<SessionRecord>>;

    /// Appends a message with the session's next `seq`; a retry with the same author and
    /// client id returns the original instead. `None` when the session is missing or marked
    /// ended (system messages may still be added to an ended session).
    async fn append_message(&self, new: NewMessage) -> anyhow::Result<Option<Appended>>;
    async fn messages(&self, session_id: Uuid, page: PageRequest) -> anyhow::Result<MessagePage>;

    /// Assigns an agent to a session that is not marked ended and that no other agent holds
    /// (a `waiting` session is held by nobody: any agent may take it up); `None` otherwise.
    async fn assign_agent(
        &self,
        session_id: Uuid,
        agent_id: Uuid,
        now: DateTime<Utc>,
    ) -> anyhow::Result<Option<SessionRecord>>;
    /// Puts a session not marked ended aside as `waiting`, assigning `agent_id` when nobody
    /// holds it; `None` when it is over or another agent holds it.
    async fn set_waiting(
        &self,
        session_id: Uuid,
        agent_id: Uuid,
    ) -> anyhow::Result<Option<SessionRecord>>;
    /// Brings a `waiting` session back to the queue as of `now`, held by nobody, for routing
    /// to offer again. `None` when it was not waiting.
    async fn reopen(
        &self,
        session_id: Uuid,
        now: DateTime<Utc>,
    ) -> anyhow::Result<Option<SessionRecord>>;
    /// Marks a session ended; `None` when it already was (the first end wins).
    async fn end_session(
        &self,
        session_id: Uuid,
        reason: EndReason,
        at: DateTime<Utc>,
    ) -> anyhow::Result<Option<SessionRecord>>;
    async fn set_regarding(
        &self,
        session_id: Uuid,
        regarding: Option<&str>,
    ) -> anyhow::Result<Option<SessionRecord>>;

    /// Creates an agent; `None` when the name is taken.
    async fn create_agent(
        &self,
        name: &str,
        password_hash: &str,
        capacity: u32,
        now: DateTime<Utc>,
    ) -> anyhow::Result<Option<AgentRecord>>;
    async fn agent_by_name(&self, name: &str) -> anyhow::Result<Option<AgentRecord>>;
    /// Changes an agent's capacity; `None` when there is no such agent.
    async fn set_agent_capacity(
        &self,
        name: &str,
        capacity: u32,
    ) -> anyhow::Result<Option<AgentRecord>>;
    /// Every agent, by name.
    async fn agents(&self) -> anyhow::Result<Vec<AgentRecord>>;
    /// How many sessions each agent holds as of `now`: active ones whose deadlines have not
    /// passed. Agents holding none are left out.
    async fn agent_loads(&self, now: DateTime<Utc>) -> anyhow::Result<HashMap<Uuid, u32>>;
    async fn create_agent_token(
        &self,
        token_hash: &str,
        agent_id: Uuid,
        expires_at: DateTime<Utc>,
    ) -> anyhow::Result<()>;
    /// The agent a token belongs to, while it has not expired.
    async fn agent_by_token(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> anyhow::Result<Option<AgentRef>>;
    async fn delete_agent_token(&self, token_hash: &str) -> anyhow::Result<()>;
}
