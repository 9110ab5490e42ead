//! Sessions in SQLite: creating them, at most one open persistent conversation per contact
//! and channel, the listings, the queue, and the conditional updates that join, hold, reopen
//! and end them.

use anyhow::Context;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use palaver_protocol::{Contact, EndReason};
use sqlx::{QueryBuilder, Sqlite};
use uuid::Uuid;

use crate::store::{
    SessionStore,
    records::{AgentFilter, NewSession, SessionFilter, SessionRecord},
    sqlite::{
        SqliteStore,
        rows::{
            SESSION_COLUMNS, contact_from_row, millis, mode_str, reason_str, session_from_row,
            state_str, uuid,
        },
    },
};

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
impl SessionStore for SqliteStore {
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
}
