//! Databases prepared before the server starts, written through the server's own
//! [`Store`]: agents, many stored sessions, one long conversation.

use std::sync::Arc;

use anyhow::{Context, Result, anyhow};
use chrono::{Duration, Utc};
use palaver_protocol::{AgentRef, ChannelMode, EndReason};
use palaver_server::{
    chat::agents::add_agent,
    clock::SystemClock,
    domain::{MessageBody, PersonName, PhoneNumber},
    startup::connect_store,
    store::{Author, ContactDetails, NewMessage, NewSession, Store},
    tokens::{SESSION_TOKEN_PREFIX, hash_token, new_token},
};

use crate::{
    palaver::{AGENT_PASSWORD, Visitor, phone},
    target::CHANNEL,
};

/// Sessions left open (queued) among the stored ones, the same number at every size, so
/// that the queue a new session joins is as long whatever the history behind it.
const OPEN_STORED_SESSIONS: usize = 20;

/// Stored sessions share this many contacts, as returning visitors do.
const STORED_CONTACTS: usize = 1000;

pub struct Seeder {
    store: Arc<dyn Store>,
}

impl Seeder {
    /// Opens (creating) the database; the server may open it alongside.
    pub async fn open(database_url: &str) -> Result<Self> {
        Ok(Self {
            store: connect_store(database_url).await?,
        })
    }

    /// Creates agents named `agent-0` … holding up to `capacity` sessions each.
    pub async fn agents(&self, count: usize, capacity: u32) -> Result<Vec<AgentRef>> {
        let mut agents = Vec::with_capacity(count);
        for n in 0..count {
            let name = format!("agent-{n}");
            agents.push(
                add_agent(
                    self.store.as_ref(),
                    &SystemClock,
                    &name,
                    AGENT_PASSWORD,
                    capacity,
                )
                .await?,
            );
        }
        Ok(agents)
    }

    /// Stores `count` open live sessions started now, each of a contact of its own: held by
    /// `holder` (as if routing had given them) or, without one, waiting in the queue.
    pub async fn open_sessions(
        &self,
        count: usize,
        holder: Option<&AgentRef>,
    ) -> Result<Vec<Visitor>> {
        let now = Utc::now();
        let mut visitors = Vec::with_capacity(count);
        for n in 0..count {
            let visitor = self.open_session(n, &format!("Visitor {n}")).await?;
            if let Some(agent) = holder {
                self.store
                    .assign_agent(visitor.session_id, agent.id, now)
                    .await?
                    .context("an open session is assigned")?;
            }
            visitors.push(visitor);
        }
        Ok(visitors)
    }

    /// Stores one open live session of the contact with number `n`, started now.
    async fn open_session(&self, n: usize, name: &str) -> Result<Visitor> {
        let now = Utc::now();
        let details = ContactDetails {
            name: PersonName::parse(name).map_err(|e| anyhow!(e))?,
            phone: PhoneNumber::parse(&phone(n), None).map_err(|e| anyhow!(e))?,
            email: None,
        };
        let contact = self.store.upsert_contact(&details, now).await?;
        let token = new_token(SESSION_TOKEN_PREFIX);
        let session = self
            .store
            .create_session(NewSession {
                token_hash: Some(hash_token(&token)),
                contact_id: contact.id,
                channel: CHANNEL.to_owned(),
                mode: ChannelMode::Live,
                started_at: now,
                ends_at: Some(now + Duration::hours(24)),
                inactive_at: None,
                regarding: None,
            })
            .await?;
        Ok(Visitor {
            token,
            session_id: session.id,
        })
    }

    /// Stores `count` live sessions, one a minute up to now, all ended by their visitor but
    /// the newest [`OPEN_STORED_SESSIONS`].
    pub async fn stored_sessions(&self, count: usize) -> Result<()> {
        let now = Utc::now();
        let mut contacts = Vec::with_capacity(STORED_CONTACTS.min(count));
        for n in 0..STORED_CONTACTS.min(count) {
            let details = ContactDetails {
                name: PersonName::parse(&format!("Stored visitor {n}")).map_err(|e| anyhow!(e))?,
                phone: PhoneNumber::parse(&phone(n), None).map_err(|e| anyhow!(e))?,
                email: None,
            };
            contacts.push(self.store.upsert_contact(&details, now).await?.id);
        }
        for n in 0..count {
            let started_at = now - Duration::minutes((count - n) as i64);
            let record = self
                .store
                .create_session(NewSession {
                    token_hash: Some(hash_token(&new_token(SESSION_TOKEN_PREFIX))),
                    contact_id: contacts[n % contacts.len()],
                    channel: CHANNEL.to_owned(),
                    mode: ChannelMode::Live,
                    started_at,
                    ends_at: Some(started_at + Duration::hours(24)),
                    inactive_at: None,
                    regarding: None,
                })
                .await?;
            if n + OPEN_STORED_SESSIONS < count {
                self.store
                    .end_session(record.id, EndReason::Visitor, started_at)
                    .await?
                    .context("a stored session ends")?;
            }
        }
        Ok(())
    }

    /// Stores one open live session holding `count` visitor messages; returns its visitor.
    pub async fn conversation(&self, count: usize) -> Result<Visitor> {
        let now = Utc::now();
        let visitor = self.open_session(0, "Talkative visitor").await?;
        for n in 0..count {
            self.store
                .append_message(NewMessage {
                    session_id: visitor.session_id,
                    author: Author::Visitor,
                    client_msg_id: None,
                    body: MessageBody::parse(&format!("Stored message number {n}"))
                        .map_err(|e| anyhow!(e))?,
                    at: now,
                    inactive_at: None,
                })
                .await?
                .context("a message is stored")?;
        }
        Ok(visitor)
    }
}
