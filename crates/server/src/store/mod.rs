//! Storage: the [`Store`] trait the rest of the server talks to, one part per entity, and
//! the [`records`] it speaks. SQLite ([`sqlite::SqliteStore`]) is the default implementation;
//! every implementation must pass the conformance suite in `tests/store/`.
//!
//! The database is the truth. Sessions keep their deadlines (window end, inactivity), so the
//! state a reader sees is derived at read time from the clock: a session whose window has
//! passed reads as ended even before the sweeper has written that down.

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use palaver_protocol::{Contact, EndReason, MessagePage};
use uuid::Uuid;

pub mod records;
pub mod sqlite;

pub use records::{
    AgentFilter, AgentRecord, AgentSignIn, Appended, Author, ContactDetails, IdentityGrant,
    NewMessage, NewSession, PageRequest, SessionFilter, SessionRecord, VerifiedDetails,
};

/// Everything the server keeps: a store implements each entity's part.
pub trait Store: ContactStore + SessionStore + MessageStore + AgentStore {}

impl<T: ContactStore + SessionStore + MessageStore + AgentStore> Store for T {}

/// Contacts: live visitors by number, verified visitors by user id, and identity tokens.
#[async_trait]
pub trait ContactStore: Send + Sync {
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
}

/// Sessions: creating, reading, listing, the queue, and the conditional updates of their state.
#[async_trait]
pub trait SessionStore: Send + Sync {
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
    /// Sessions matching `filter` as of `now`, newest first, with their contacts, a page at a
    /// time (see [`SessionFilter::before`]).
    async fn list_sessions(
        &self,
        filter: &SessionFilter,
        now: DateTime<Utc>,
    ) -> anyhow::Result<Vec<(SessionRecord, Contact)>>;
    /// The greatest change number of any session (0 with none): where a reader that
    /// starts following changes now begins.
    async fn last_change(&self) -> anyhow::Result<i64>;
    /// Up to `limit` sessions whose change number is greater than `after`, in ascending change
    /// order, with their contacts: how a console that fell behind catches up.
    async fn changed_sessions(
        &self,
        after: i64,
        limit: u32,
    ) -> anyhow::Result<Vec<(SessionRecord, Contact)>>;
    /// Every session of a contact, newest first.
    async fn contact_sessions(&self, contact_id: Uuid) -> anyhow::Result<Vec<SessionRecord>>;
    /// Sessions still waiting for an agent as of `now`, of every channel, in the order they
    /// joined the queue (a conversation brought back from waiting joins it afresh).
    async fn queued_sessions(&self, now: DateTime<Utc>) -> anyhow::Result<Vec<SessionRecord>>;
    /// A session's place in that queue as of `now`, counting from 1; `None` when it is not
    /// in it.
    async fn queue_place(
        &self,
        session_id: Uuid,
        now: DateTime<Utc>,
    ) -> anyhow::Result<Option<u32>>;
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
}

/// Messages: appends numbered per session, and pages by sequence number.
#[async_trait]
pub trait MessageStore: Send + Sync {
    /// Appends a message with the session's next `seq`; a retry with the same author and
    /// client id returns the original instead. `None` when the session is missing, marked
    /// ended, or past its window or inactivity deadline as of the message's time (system
    /// messages may still be added to a session that is over).
    async fn append_message(&self, new: NewMessage) -> anyhow::Result<Option<Appended>>;
    async fn messages(&self, session_id: Uuid, page: PageRequest) -> anyhow::Result<MessagePage>;
}

/// Agents: accounts, capacities, loads and sign-in tokens.
#[async_trait]
pub trait AgentStore: Send + Sync {
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
    /// The agent a token belongs to and until when, while it has not expired.
    async fn agent_by_token(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> anyhow::Result<Option<AgentSignIn>>;
    async fn delete_agent_token(&self, token_hash: &str) -> anyhow::Result<()>;
}
