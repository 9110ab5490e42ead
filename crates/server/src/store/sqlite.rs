//! The SQLite store: one file, no set-up, write-ahead logging so readers never wait for the
//! writer. Migrations are embedded in the binary and run at start.

use std::{collections::HashMap, str::FromStr, time::Duration};

use anyhow::{Context, anyhow};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use palaver_protocol::{
    AgentRef, ChannelMode, Contact, EndReason, Message, MessagePage, Sender, SessionState,
};
use sqlx::{
    QueryBuilder, Row, Sqlite, SqlitePool,
    sqlite::{
        SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow, SqliteSynchronous,
    },
};
use uuid::Uuid;

use super::{
    AgentFilter, AgentRecord, Appended, Author, ContactDetails, IdentityGrant, NewMessage,
    NewSession, PageRequest, SessionFilter, SessionRecord, Store, VerifiedDetails,
};

#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
}

impl SqliteStore {
    /// Opens (creating when missing) the database at `url` and brings its schema up to date.
    pub async fn connect(url: &str) -> anyhow::Result<Self> {
        let options = SqliteConnectOptions::from_str(url)
            .with_context(|| format!("parsing database URL {url}"))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            // Writers queue behind each other instead of failing at once.
            .busy_timeout(Duration::from_secs(5));
        let pool = SqlitePoolOptions::new()
            // SQLite has one writer at a time; a few connections serve concurrent readers.
            .max_connections(8)
            .connect_with(options)
            .await
            .with_context(|| format!("opening database {url}"))?;
        sqlx::migrate!("./migrations")
            .run(&pool)
            .await
            .context("running database migrations")?;
        Ok(Self { pool })
    }
}

// Sessions that start in the same millisecond keep the order they were stored in (`rowid`),
// so queue places and listings never swap between reads.
const SESSION_COLUMNS: &str = "s.id, s.contact_id, s.channel, s.mode, s.state, s.started_at, \
     s.ends_at, s.ended_at, s.end_reason, s.inactive_at, s.regarding, s.agent_id, \
     a.name AS agent_name, s.joined_at, s.last_seq";

const CONTACT_COLUMNS: &str = "id, name, phone, email, user_id";

/// How long expired identity tokens are kept, so that a late caller hears "expired" rather
/// than "unknown" before they are swept away.
const EXPIRED_TOKENS_KEPT_MS: i64 = 7 * 24 * 60 * 60 * 1000;

const MESSAGE_COLUMNS: &str = "m.id, m.session_id, m.seq, m.author, m.agent_id, \
     a.name AS agent_name, m.client_msg_id, m.body, m.created_at";

fn millis(at: DateTime<Utc>) -> i64 {
    at.timestamp_millis()
}

fn from_millis(ms: i64) -> anyhow::Result<DateTime<Utc>> {
    DateTime::from_timestamp_millis(ms).ok_or_else(|| anyhow!("timestamp {ms} out of range"))
}

fn opt_from_millis(ms: Option<i64>) -> anyhow::Result<Option<DateTime<Utc>>> {
    ms.map(from_millis).transpose()
}

fn uuid(text: &str) -> anyhow::Result<Uuid> {
    Uuid::parse_str(text).with_context(|| format!("stored id {text:?} is not a UUID"))
}

fn mode_str(mode: ChannelMode) -> &'static str {
    match mode {
        ChannelMode::Live => "live",
        ChannelMode::Persistent => "persistent",
    }
}

fn parse_mode(text: &str) -> anyhow::Result<ChannelMode> {
    match text {
        "live" => Ok(ChannelMode::Live),
        "persistent" => Ok(ChannelMode::Persistent),
        other => Err(anyhow!("unknown stored mode {other:?}")),
    }
}

fn state_str(state: SessionState) -> &'static str {
    match state {
        SessionState::Queued => "queued",
        SessionState::Active => "active",
        SessionState::Waiting => "waiting",
        SessionState::Ended => "ended",
    }
}

fn parse_state(text: &str) -> anyhow::Result<SessionState> {
    match text {
        "queued" => Ok(SessionState::Queued),
        "active" => Ok(SessionState::Active),
        "waiting" => Ok(SessionState::Waiting),
        "ended" => Ok(SessionState::Ended),
        other => Err(anyhow!("unknown stored state {other:?}")),
    }
}

fn reason_str(reason: EndReason) -> &'static str {
    match reason {
        EndReason::Visitor => "visitor",
        EndReason::Agent => "agent",
        EndReason::Expired => "expired",
        EndReason::Inactivity => "inactivity",
    }
}

fn parse_reason(text: &str) -> anyhow::Result<EndReason> {
    match text {
        "visitor" => Ok(EndReason::Visitor),
        "agent" => Ok(EndReason::Agent),
        "expired" => Ok(EndReason::Expired),
        "inactivity" => Ok(EndReason::Inactivity),
        other => Err(anyhow!("unknown stored end reason {other:?}")),
    }
}

fn author_key(author: Author) -> String {
    match author {
        Author::Visitor => "visitor".into(),
        Author::System => "system".into(),
        Author::Agent(id) => id.to_string(),
    }
}

fn session_from_row(row: &SqliteRow) -> anyhow::Result<SessionRecord> {
    let agent = match row.try_get::<Option<String>, _>("agent_id")? {
        Some(id) => Some(AgentRef {
            id: uuid(&id)?,
            name: row.try_get("agent_name")?,
        }),
        None => None,
    };
    Ok(SessionRecord {
        id: uuid(row.try_get("id")?)?,
        contact_id: uuid(row.try_get("contact_id")?)?,
        channel: row.try_get("channel")?,
        mode: parse_mode(row.try_get("mode")?)?,
        state: parse_state(row.try_get("state")?)?,
        started_at: from_millis(row.try_get("started_at")?)?,
        ends_at: opt_from_millis(row.try_get("ends_at")?)?,
        ended_at: opt_from_millis(row.try_get("ended_at")?)?,
        end_reason: row
            .try_get::<Option<&str>, _>("end_reason")?
            .map(parse_reason)
            .transpose()?,
        inactive_at: opt_from_millis(row.try_get("inactive_at")?)?,
        regarding: row.try_get("regarding")?,
        agent,
        joined_at: opt_from_millis(row.try_get("joined_at")?)?,
        last_seq: row.try_get("last_seq")?,
    })
}

fn agent_from_row(row: &SqliteRow) -> anyhow::Result<AgentRecord> {
    Ok(AgentRecord {
        id: uuid(row.try_get("id")?)?,
        name: row.try_get("name")?,
        password_hash: row.try_get("password_hash")?,
        capacity: row.try_get("capacity")?,
    })
}

fn contact_from_row(row: &SqliteRow, prefix: &str) -> anyhow::Result<Contact> {
    Ok(Contact {
        id: uuid(row.try_get(format!("{prefix}id").as_str())?)?,
        name: row.try_get(format!("{prefix}name").as_str())?,
        phone: row.try_get(format!("{prefix}phone").as_str())?,
        email: row.try_get(format!("{prefix}email").as_str())?,
        user_id: row.try_get(format!("{prefix}user_id").as_str())?,
    })
}

fn message_from_row(row: &SqliteRow) -> anyhow::Result<Message> {
    let sender = match row.try_get::<&str, _>("author")? {
        "visitor" => Sender::Visitor,
        "system" => Sender::System,
        _ => Sender::Agent {
            id: uuid(row.try_get("agent_id")?)?,
            name: row.try_get("agent_name")?,
        },
    };
    Ok(Message {
        id: uuid(row.try_get("id")?)?,
        session_id: uuid(row.try_get("session_id")?)?,
        seq: row.try_get("seq")?,
        client_msg_id: row.try_get("client_msg_id")?,
        sender,
        body: row.try_get("body")?,
        created_at: from_millis(row.try_get("created_at")?)?,
    })
}

impl SqliteStore {
    /// The session after a conditional update, or `None` when the update matched no row.
    async fn updated(&self, session_id: Uuid, rows: u64) -> anyhow::Result<Option<SessionRecord>> {
        if rows == 0 {
            return Ok(None);
        }
        self.session(session_id).await
    }

    /// Inserts a queued session; `Ok(None)` when the database refused it as a second open
    /// conversation of the contact on the channel.
    async fn insert_session(&self, new: &NewSession) -> anyhow::Result<Option<Uuid>> {
        let id = Uuid::new_v4();
        let inserted = sqlx::query(
            "INSERT INTO sessions (id, token_hash, contact_id, channel, mode, state, started_at, \
               queued_at, ends_at, inactive_at, regarding) \
             VALUES (?, ?, ?, ?, ?, 'queued', ?, ?, ?, ?, ?) \
             ON CONFLICT (contact_id, channel) WHERE mode = 'persistent' AND state != 'ended' \
             DO NOTHING",
        )
        .bind(id.to_string())
        .bind(&new.token_hash)
        .bind(new.contact_id.to_string())
        .bind(&new.channel)
        .bind(mode_str(new.mode))
        .bind(millis(new.started_at))
        .bind(millis(new.started_at))
        .bind(new.ends_at.map(millis))
        .bind(new.inactive_at.map(millis))
        .bind(&new.regarding)
        .execute(&self.pool)
        .await
        .context("creating a session")?
        .rows_affected();
        Ok((inserted == 1).then_some(id))
    }

    async fn session_where(
        &self,
        condition: &str,
        value: String,
    ) -> anyhow::Result<Option<SessionRecord>> {
        let sql = format!(
            "SELECT {SESSION_COLUMNS} FROM sessions s LEFT JOIN agents a ON a.id = s.agent_id \
             WHERE {condition}"
        );
        let row = sqlx::query(&sql)
            .bind(value)
            .fetch_optional(&self.pool)
            .await
            .context("reading a session")?;
        row.as_ref().map(session_from_row).transpose()
    }

    async fn sessions_where(
        &self,
        condition: &str,
        binds: &[i64],
    ) -> anyhow::Result<Vec<SessionRecord>> {
        let sql = format!(
            "SELECT {SESSION_COLUMNS} FROM sessions s LEFT JOIN agents a ON a.id = s.agent_id \
             WHERE {condition}"
        );
        let mut query = sqlx::query(&sql);
        for value in binds {
            query = query.bind(value);
        }
        let rows = query
            .fetch_all(&self.pool)
            .await
            .context("reading sessions")?;
        rows.iter().map(session_from_row).collect()
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn upsert_contact(
        &self,
        details: &ContactDetails,
        now: DateTime<Utc>,
    ) -> anyhow::Result<Contact> {
        let row = sqlx::query(
            "INSERT INTO contacts (id, phone, name, email, created_at, updated_at) \
             VALUES (?, ?, ?, ?, ?, ?) \
             ON CONFLICT (phone) WHERE user_id IS NULL DO UPDATE SET name = excluded.name, \
               email = COALESCE(excluded.email, contacts.email), updated_at = excluded.updated_at \
             RETURNING id, name, phone, email, user_id",
        )
        .bind(Uuid::new_v4().to_string())
        .bind(details.phone.as_str())
        .bind(details.name.as_str())
        .bind(details.email.as_ref().map(|email| email.as_str()))
        .bind(millis(now))
        .bind(millis(now))
        .fetch_one(&self.pool)
        .await
        .context("saving a contact")?;
        contact_from_row(&row, "")
    }

    async fn contact(&self, id: Uuid) -> anyhow::Result<Option<Contact>> {
        let row = sqlx::query(&format!(
            "SELECT {CONTACT_COLUMNS} FROM contacts WHERE id = ?"
        ))
        .bind(id.to_string())
        .fetch_optional(&self.pool)
        .await
        .context("reading a contact")?;
        row.as_ref()
            .map(|row| contact_from_row(row, ""))
            .transpose()
    }

    async fn upsert_verified_contact(
        &self,
        details: &VerifiedDetails,
        now: DateTime<Utc>,
    ) -> anyhow::Result<Contact> {
        let row = sqlx::query(&format!(
            "INSERT INTO contacts (id, realm, user_id, phone, name, email, created_at, updated_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?) \
             ON CONFLICT (realm, user_id) WHERE user_id IS NOT NULL DO UPDATE SET \
               name = excluded.name, email = COALESCE(excluded.email, contacts.email), \
               phone = COALESCE(excluded.phone, contacts.phone), updated_at = excluded.updated_at \
             RETURNING {CONTACT_COLUMNS}"
        ))
        .bind(Uuid::new_v4().to_string())
        .bind(&details.realm)
        .bind(details.user_id.as_str())
        .bind(details.phone.as_ref().map(|phone| phone.as_str()))
        .bind(details.name.as_str())
        .bind(details.email.as_ref().map(|email| email.as_str()))
        .bind(millis(now))
        .bind(millis(now))
        .fetch_one(&self.pool)
        .await
        .context("saving a verified contact")?;
        contact_from_row(&row, "")
    }

    async fn create_identity_token(
        &self,
        token_hash: &str,
        grant: &IdentityGrant,
        now: DateTime<Utc>,
    ) -> anyhow::Result<()> {
        let mut tx = self.pool.begin().await.context("starting a transaction")?;
        sqlx::query("DELETE FROM identity_tokens WHERE expires_at < ?")
            .bind(millis(now) - EXPIRED_TOKENS_KEPT_MS)
            .execute(&mut *tx)
            .await
            .context("sweeping old identity tokens")?;
        sqlx::query(
            "INSERT INTO identity_tokens (token_hash, contact_id, channel, expires_at) \
             VALUES (?, ?, ?, ?)",
        )
        .bind(token_hash)
        .bind(grant.contact_id.to_string())
        .bind(&grant.channel)
        .bind(millis(grant.expires_at))
        .execute(&mut *tx)
        .await
        .context("saving an identity token")?;
        tx.commit().await.context("committing an identity token")
    }

    async fn identity_by_token(&self, token_hash: &str) -> anyhow::Result<Option<IdentityGrant>> {
        let row = sqlx::query(
            "SELECT contact_id, channel, expires_at FROM identity_tokens WHERE token_hash = ?",
        )
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await
        .context("reading an identity token")?;
        row.map(|row| {
            Ok(IdentityGrant {
                contact_id: uuid(row.try_get("contact_id")?)?,
                channel: row.try_get("channel")?,
                expires_at: from_millis(row.try_get("expires_at")?)?,
            })
        })
        .transpose()
    }

    async fn create_session(&self, new: NewSession) -> anyhow::Result<SessionRecord> {
        let id = self
            .insert_session(&new)
            .await?
            .context("the contact already has an open conversation on this channel")?;
        self.session(id)
            .await?
            .context("a created session is missing")
    }

    async fn start_conversation(&self, new: NewSession) -> anyhow::Result<(SessionRecord, bool)> {
        if let Some(id) = self.insert_session(&new).await? {
            let created = self.session(id).await?;
            return Ok((created.context("a created session is missing")?, true));
        }
        let open = self.open_conversation(new.contact_id, &new.channel).await?;
        Ok((
            open.context("the conversation in the way is missing")?,
            false,
        ))
    }

    async fn open_conversation(
        &self,
        contact_id: Uuid,
        channel: &str,
    ) -> anyhow::Result<Option<SessionRecord>> {
        let sql = format!(
            "SELECT {SESSION_COLUMNS} FROM sessions s LEFT JOIN agents a ON a.id = s.agent_id \
             WHERE s.contact_id = ? AND s.channel = ? AND s.mode = 'persistent' \
               AND s.state != 'ended'"
        );
        let row = sqlx::query(&sql)
            .bind(contact_id.to_string())
            .bind(channel)
            .fetch_optional(&self.pool)
            .await
            .context("reading an open conversation")?;
        row.as_ref().map(session_from_row).transpose()
    }

    async fn session(&self, id: Uuid) -> anyhow::Result<Option<SessionRecord>> {
        self.session_where("s.id = ?", id.to_string()).await
    }

    async fn session_by_token(&self, token_hash: &str) -> anyhow::Result<Option<SessionRecord>> {
        self.session_where("s.token_hash = ?", token_hash.to_owned())
            .await
    }

    async fn list_sessions(
        &self,
        filter: &SessionFilter,
        now: DateTime<Utc>,
    ) -> anyhow::Result<Vec<(SessionRecord, Contact)>> {
        let mut query: QueryBuilder<Sqlite> = QueryBuilder::new(format!(
            "SELECT {SESSION_COLUMNS}, c.id AS c_id, c.name AS c_name, c.phone AS c_phone, \
             c.email AS c_email, c.user_id AS c_user_id FROM sessions s JOIN contacts c ON c.id = s.contact_id \
             LEFT JOIN agents a ON a.id = s.agent_id WHERE 1 = 1"
        ));
        if let Some(state) = filter.state {
            // Deadlines that have passed read as ended, as in `SessionRecord::state_at`.
            query
                .push(" AND CASE WHEN s.state = 'ended' OR s.ends_at <= ")
                .push_bind(millis(now))
                .push(" OR s.inactive_at <= ")
                .push_bind(millis(now))
                .push(" THEN 'ended' ELSE s.state END = ")
                .push_bind(state_str(state));
        }
        if let Some(channel) = &filter.channel {
            query.push(" AND s.channel = ").push_bind(channel.clone());
        }
        match filter.agent {
            Some(AgentFilter::Unassigned) => {
                query.push(" AND s.agent_id IS NULL");
            }
            Some(AgentFilter::Agent(id)) => {
                query.push(" AND s.agent_id = ").push_bind(id.to_string());
            }
            None => {}
        }
        if let Some(search) = &filter.search {
            let pattern = format!(
                "%{}%",
                search
                    .replace('\\', "\\\\")
                    .replace('%', "\\%")
                    .replace('_', "\\_")
            );
            query
                .push(" AND (c.name LIKE ")
                .push_bind(pattern.clone())
                .push(" ESCAPE '\\' OR c.phone LIKE ")
                .push_bind(pattern.clone())
                .push(" ESCAPE '\\' OR c.user_id LIKE ")
                .push_bind(pattern)
                .push(" ESCAPE '\\')");
        }
        query
            .push(" ORDER BY s.started_at DESC, s.rowid DESC LIMIT ")
            .push_bind(i64::from(filter.limit));
        let rows = query
            .build()
            .fetch_all(&self.pool)
            .await
            .context("listing sessions")?;
        rows.iter()
            .map(|row| Ok((session_from_row(row)?, contact_from_row(row, "c_")?)))
            .collect()
    }

    async fn contact_sessions(&self, contact_id: Uuid) -> anyhow::Result<Vec<SessionRecord>> {
        let sql = format!(
            "SELECT {SESSION_COLUMNS} FROM sessions s LEFT JOIN agents a ON a.id = s.agent_id \
             WHERE s.contact_id = ? ORDER BY s.started_at DESC, s.rowid DESC"
        );
        let rows = sqlx::query(&sql)
            .bind(contact_id.to_string())
            .fetch_all(&self.pool)
            .await
            .context("reading a contact's sessions")?;
        rows.iter().map(session_from_row).collect()
    }

    async fn queued_sessions(&self, now: DateTime<Utc>) -> anyhow::Result<Vec<SessionRecord>> {
        self.sessions_where(
            "s.state = 'queued' AND COALESCE(s.ends_at > ?, 1) \
             AND COALESCE(s.inactive_at > ?, 1) ORDER BY s.queued_at, s.rowid",
            &[millis(now), millis(now)],
        )
        .await
    }

    async fn affinity_agent(
        &self,
        contact_id: Uuid,
        channel: &str,
    ) -> anyhow::Result<Option<Uuid>> {
        let agent: Option<String> = sqlx::query_scalar(
            "SELECT handled_by FROM sessions \
             WHERE contact_id = ? AND channel = ? AND handled_by IS NOT NULL \
             ORDER BY started_at DESC, rowid DESC LIMIT 1",
        )
        .bind(contact_id.to_string())
        .bind(channel)
        .fetch_optional(&self.pool)
        .await
        .context("reading the contact's last agent")?;
        agent.as_deref().map(uuid).transpose()
    }

    async fn recent_waits(
        &self,
        channel: &str,
        limit: u32,
    ) -> anyhow::Result<Vec<chrono::Duration>> {
        let waits: Vec<i64> = sqlx::query_scalar(
            "SELECT joined_at - queued_at FROM sessions \
             WHERE channel = ? AND joined_at IS NOT NULL ORDER BY joined_at DESC LIMIT ?",
        )
        .bind(channel)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .context("reading recent waits")?;
        Ok(waits
            .into_iter()
            .map(chrono::Duration::milliseconds)
            .collect())
    }

    async fn due_sessions(&self, now: DateTime<Utc>) -> anyhow::Result<Vec<SessionRecord>> {
        self.sessions_where(
            "s.state != 'ended' AND (s.ends_at <= ? OR s.inactive_at <= ?)",
            &[millis(now), millis(now)],
        )
        .await
    }

    async fn append_message(&self, new: NewMessage) -> anyhow::Result<Option<Appended>> {
        let author = author_key(new.author);
        let client_msg_id = new.client_msg_id.as_ref().map(|id| id.as_str());
        let mut tx = self.pool.begin().await.context("starting a transaction")?;
        // The write comes first, so the transaction takes the write lock at once and waits
        // its turn behind other writers instead of failing on an upgrade.
        let seq: Option<i64> = sqlx::query_scalar(
            "UPDATE sessions SET last_seq = last_seq + 1, inactive_at = COALESCE(?, inactive_at) \
             WHERE id = ? AND (state != 'ended' OR ?) RETURNING last_seq",
        )
        .bind(new.inactive_at.map(millis))
        .bind(new.session_id.to_string())
        .bind(new.author == Author::System)
        .fetch_optional(&mut *tx)
        .await
        .context("taking the next sequence number")?;
        let inserted =
            match seq {
                Some(seq) => sqlx::query(
                    "INSERT INTO messages (id, session_id, seq, author, agent_id, client_msg_id, \
                   body, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) \
                 ON CONFLICT (session_id, author, client_msg_id) DO NOTHING",
                )
                .bind(Uuid::new_v4().to_string())
                .bind(new.session_id.to_string())
                .bind(seq)
                .bind(&author)
                .bind(match new.author {
                    Author::Agent(id) => Some(id.to_string()),
                    Author::Visitor | Author::System => None,
                })
                .bind(client_msg_id)
                .bind(new.body.as_str())
                .bind(millis(new.at))
                .execute(&mut *tx)
                .await
                .context("inserting a message")?
                .rows_affected()
                    == 1,
                None => false,
            };
        if let (true, Some(seq)) = (inserted, seq) {
            tx.commit().await.context("committing a message")?;
            let page = PageRequest::After {
                after: seq - 1,
                limit: 1,
            };
            let message = self.messages(new.session_id, page).await?.messages.pop();
            let message = message.context("an appended message is missing")?;
            return Ok(Some(Appended {
                message,
                created: true,
            }));
        }
        // A retry, or a session that is over: leave the sequence as it was, and answer a
        // retry with its original even when the session has ended since.
        tx.rollback().await.context("rolling back")?;
        let Some(client_msg_id) = client_msg_id else {
            return Ok(None);
        };
        let sql = format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages m LEFT JOIN agents a ON a.id = m.agent_id \
             WHERE m.session_id = ? AND m.author = ? AND m.client_msg_id = ?"
        );
        let original = sqlx::query(&sql)
            .bind(new.session_id.to_string())
            .bind(&author)
            .bind(client_msg_id)
            .fetch_optional(&self.pool)
            .await
            .context("reading the original of a retried message")?;
        original
            .map(|row| {
                Ok(Appended {
                    message: message_from_row(&row)?,
                    created: false,
                })
            })
            .transpose()
    }

    async fn messages(&self, session_id: Uuid, page: PageRequest) -> anyhow::Result<MessagePage> {
        let (condition, order, bound, limit) = match page {
            PageRequest::Latest { limit } => ("m.seq < ?", "DESC", i64::MAX, limit),
            PageRequest::After { after, limit } => ("m.seq > ?", "ASC", after, limit),
            PageRequest::Before { before, limit } => ("m.seq < ?", "DESC", before, limit),
        };
        let sql = format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages m LEFT JOIN agents a ON a.id = m.agent_id \
             WHERE m.session_id = ? AND ({condition}) ORDER BY m.seq {order} LIMIT ?"
        );
        let rows = sqlx::query(&sql)
            .bind(session_id.to_string())
            .bind(bound)
            .bind(i64::from(limit) + 1)
            .fetch_all(&self.pool)
            .await
            .context("reading messages")?;
        let has_more = rows.len() > limit as usize;
        let mut messages = rows
            .iter()
            .take(limit as usize)
            .map(message_from_row)
            .collect::<anyhow::Result<Vec<_>>>()?;
        if order == "DESC" {
            messages.reverse();
        }
        Ok(MessagePage { messages, has_more })
    }

    async fn assign_agent(
        &self,
        session_id: Uuid,
        agent_id: Uuid,
        now: DateTime<Utc>,
    ) -> anyhow::Result<Option<SessionRecord>> {
        let updated = sqlx::query(
            "UPDATE sessions SET agent_id = ?1, handled_by = ?1, joined_at = COALESCE(joined_at, ?2), \
               state = CASE WHEN state = 'queued' OR state = 'waiting' THEN 'active' ELSE state END \
             WHERE id = ?3 AND state != 'ended' \
               AND (agent_id IS NULL OR agent_id = ?1 OR state = 'waiting')",
        )
        .bind(agent_id.to_string())
        .bind(millis(now))
        .bind(session_id.to_string())
        .execute(&self.pool)
        .await
        .context("assigning an agent")?
        .rows_affected();
        self.updated(session_id, updated).await
    }

    async fn set_waiting(
        &self,
        session_id: Uuid,
        agent_id: Uuid,
    ) -> anyhow::Result<Option<SessionRecord>> {
        let updated = sqlx::query(
            "UPDATE sessions SET state = 'waiting', agent_id = ?1, handled_by = ?1 \
             WHERE id = ?2 AND state != 'ended' AND (agent_id IS NULL OR agent_id = ?1)",
        )
        .bind(agent_id.to_string())
        .bind(session_id.to_string())
        .execute(&self.pool)
        .await
        .context("setting a session waiting")?
        .rows_affected();
        self.updated(session_id, updated).await
    }

    async fn reopen(
        &self,
        session_id: Uuid,
        now: DateTime<Utc>,
    ) -> anyhow::Result<Option<SessionRecord>> {
        let updated = sqlx::query(
            "UPDATE sessions SET state = 'queued', agent_id = NULL, joined_at = NULL, \
               queued_at = ? WHERE id = ? AND state = 'waiting'",
        )
        .bind(millis(now))
        .bind(session_id.to_string())
        .execute(&self.pool)
        .await
        .context("reopening a session")?
        .rows_affected();
        self.updated(session_id, updated).await
    }

    async fn end_session(
        &self,
        session_id: Uuid,
        reason: EndReason,
        at: DateTime<Utc>,
    ) -> anyhow::Result<Option<SessionRecord>> {
        let updated = sqlx::query(
            "UPDATE sessions SET state = 'ended', ended_at = ?, end_reason = ? \
             WHERE id = ? AND state != 'ended'",
        )
        .bind(millis(at))
        .bind(reason_str(reason))
        .bind(session_id.to_string())
        .execute(&self.pool)
        .await
        .context("ending a session")?
        .rows_affected();
        self.updated(session_id, updated).await
    }

    async fn set_regarding(
        &self,
        session_id: Uuid,
        regarding: Option<&str>,
    ) -> anyhow::Result<Option<SessionRecord>> {
        sqlx::query("UPDATE sessions SET regarding = ? WHERE id = ?")
            .bind(regarding)
            .bind(session_id.to_string())
            .execute(&self.pool)
            .await
            .context("setting regarding")?;
        self.session(session_id).await
    }

    async fn create_agent(
        &self,
        name: &str,
        password_hash: &str,
        capacity: u32,
        now: DateTime<Utc>,
    ) -> anyhow::Result<Option<AgentRecord>> {
        let id = Uuid::new_v4();
        let inserted = sqlx::query(
            "INSERT INTO agents (id, name, password_hash, capacity, created_at) \
             VALUES (?, ?, ?, ?, ?) ON CONFLICT (name) DO NOTHING",
        )
        .bind(id.to_string())
        .bind(name)
        .bind(password_hash)
        .bind(capacity)
        .bind(millis(now))
        .execute(&self.pool)
        .await
        .context("creating an agent")?
        .rows_affected();
        Ok((inserted == 1).then(|| AgentRecord {
            id,
            name: name.to_owned(),
            password_hash: password_hash.to_owned(),
            capacity,
        }))
    }

    async fn agent_by_name(&self, name: &str) -> anyhow::Result<Option<AgentRecord>> {
        let row =
            sqlx::query("SELECT id, name, password_hash, capacity FROM agents WHERE name = ?")
                .bind(name)
                .fetch_optional(&self.pool)
                .await
                .context("reading an agent")?;
        row.as_ref().map(agent_from_row).transpose()
    }

    async fn set_agent_capacity(
        &self,
        name: &str,
        capacity: u32,
    ) -> anyhow::Result<Option<AgentRecord>> {
        let row = sqlx::query(
            "UPDATE agents SET capacity = ? WHERE name = ? \
             RETURNING id, name, password_hash, capacity",
        )
        .bind(capacity)
        .bind(name)
        .fetch_optional(&self.pool)
        .await
        .context("setting an agent's capacity")?;
        row.as_ref().map(agent_from_row).transpose()
    }

    async fn agents(&self) -> anyhow::Result<Vec<AgentRecord>> {
        let rows =
            sqlx::query("SELECT id, name, password_hash, capacity FROM agents ORDER BY name")
                .fetch_all(&self.pool)
                .await
                .context("reading the agents")?;
        rows.iter().map(agent_from_row).collect()
    }

    async fn agent_loads(&self, now: DateTime<Utc>) -> anyhow::Result<HashMap<Uuid, u32>> {
        let rows: Vec<(String, u32)> = sqlx::query_as(
            "SELECT agent_id, COUNT(*) FROM sessions \
             WHERE state = 'active' AND agent_id IS NOT NULL \
               AND COALESCE(ends_at > ?1, 1) AND COALESCE(inactive_at > ?1, 1) \
             GROUP BY agent_id",
        )
        .bind(millis(now))
        .fetch_all(&self.pool)
        .await
        .context("reading the agents' loads")?;
        rows.into_iter()
            .map(|(agent, load)| Ok((uuid(&agent)?, load)))
            .collect()
    }

    async fn create_agent_token(
        &self,
        token_hash: &str,
        agent_id: Uuid,
        expires_at: DateTime<Utc>,
    ) -> anyhow::Result<()> {
        sqlx::query("INSERT INTO agent_tokens (token_hash, agent_id, expires_at) VALUES (?, ?, ?)")
            .bind(token_hash)
            .bind(agent_id.to_string())
            .bind(millis(expires_at))
            .execute(&self.pool)
            .await
            .context("saving an agent token")?;
        Ok(())
    }

    async fn agent_by_token(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> anyhow::Result<Option<AgentRef>> {
        let row = sqlx::query(
            "SELECT a.id, a.name FROM agent_tokens t JOIN agents a ON a.id = t.agent_id \
             WHERE t.token_hash = ? AND t.expires_at > ?",
        )
        .bind(token_hash)
        .bind(millis(now))
        .fetch_optional(&self.pool)
        .await
        .context("reading an agent token")?;
        row.map(|row| {
            Ok(AgentRef {
                id: uuid(row.try_get("id")?)?,
                name: row.try_get("name")?,
            })
        })
        .transpose()
    }

    async fn delete_agent_token(&self, token_hash: &str) -> anyhow::Result<()> {
        sqlx::query("DELETE FROM agent_tokens WHERE token_hash = ?")
            .bind(token_hash)
            .execute(&self.pool)
            .await
            .context("deleting an agent token")?;
        Ok(())
    }
}
