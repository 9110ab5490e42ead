//! Sessions in SQLite: creating them, at most one open persistent conversation per contact
//! and channel, the listings, the queue, and the conditional updates that join, hold, reopen
//! and end them. Every write gives the session the next change number and returns the row
//! it wrote, so no write reads the session back.

use anyhow::Context;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use palaver_protocol::{Contact, EndReason, SessionState};
use sqlx::{
    QueryBuilder, Sqlite, SqlitePool,
    query::Query,
    sqlite::{SqliteArguments, SqliteRow},
};
use uuid::Uuid;

use crate::store::{
    SessionStore,
    records::{AgentFilter, NewSession, SessionFilter, SessionRecord},
    sqlite::{
        SqliteStore,
        rows::{contact_from_row, millis, mode_str, reason_str, session_from_row, state_str, uuid},
    },
};

/// What a session write returns: the row as written, with its agent's name.
macro_rules! returning_session {
    () => {
        " RETURNING id, contact_id, channel, mode, state, started_at, ends_at, ended_at, \
         end_reason, inactive_at, regarding, agent_id, \
         (SELECT name FROM agents WHERE agents.id = sessions.agent_id) AS agent_name, \
         joined_at, last_seq, changed_seq"
    };
}

/// Sessions with their contacts and agents, as listings read them.
macro_rules! select_listed {
    () => {
        concat!(
            "SELECT ",
            session_columns!(),
            ", c.id AS c_id, c.name AS c_name, c.phone AS c_phone, c.email AS c_email, \
             c.user_id AS c_user_id \
             FROM sessions s JOIN contacts c ON c.id = s.contact_id \
             LEFT JOIN agents a ON a.id = s.agent_id"
        )
    };
}

/// A queued session, unless the database refuses it as a second open conversation of the
/// contact on the channel (then no row is returned).
pub(super) const INSERT_SESSION: &str = concat!(
    "INSERT INTO sessions (id, token_hash, contact_id, channel, mode, state, started_at, \
       queued_at, ends_at, inactive_at, regarding, changed_seq) \
     VALUES (?1, ?2, ?3, ?4, ?5, 'queued', ?6, ?6, ?7, ?8, ?9, ",
    next_change!(),
    ") ON CONFLICT (contact_id, channel) WHERE mode = 'persistent' AND state != 'ended' \
     DO NOTHING",
    returning_session!()
);

pub(super) const SESSION_BY_ID: &str = concat!(
    "SELECT ",
    session_columns!(),
    " FROM ",
    sessions_with_agents!(),
    " WHERE s.id = ?"
);

pub(super) const SESSION_BY_TOKEN: &str = concat!(
    "SELECT ",
    session_columns!(),
    " FROM ",
    sessions_with_agents!(),
    " WHERE s.token_hash = ?"
);

pub(super) const OPEN_CONVERSATION: &str = concat!(
    "SELECT ",
    session_columns!(),
    " FROM ",
    sessions_with_agents!(),
    " WHERE s.contact_id = ? AND s.channel = ? AND s.mode = 'persistent' \
       AND s.state != 'ended'"
);

pub(super) const CONTACT_SESSIONS: &str = concat!(
    "SELECT ",
    session_columns!(),
    " FROM ",
    sessions_with_agents!(),
    " WHERE s.contact_id = ? ORDER BY s.started_at DESC, s.rowid DESC"
);

/// Where a session stands in the inbox's order, for the next page to start after it.
pub(super) const INBOX_CURSOR: &str = "SELECT started_at, rowid FROM sessions WHERE id = ?";

pub(super) const CHANGED_SESSIONS: &str = concat!(
    select_listed!(),
    " WHERE s.changed_seq > ? ORDER BY s.changed_seq LIMIT ?"
);

pub(super) const LAST_CHANGE: &str = "SELECT COALESCE(MAX(changed_seq), 0) FROM sessions";

// Sessions that join the queue in the same millisecond keep the order they were stored in
// (`rowid`), so queue places never swap between reads.
pub(super) const QUEUE: &str = concat!(
    "SELECT ",
    session_columns!(),
    " FROM ",
    sessions_with_agents!(),
    " WHERE s.state = 'queued' AND COALESCE(s.ends_at > ?1, 1) \
       AND COALESCE(s.inactive_at > ?1, 1) ORDER BY s.queued_at, s.rowid"
);

// A session's place: the queued sessions ahead of it, and itself, as `QUEUE` orders them.
pub(super) const QUEUE_PLACE: &str = "SELECT COUNT(*) FROM sessions me, sessions q \
     WHERE me.id = ?1 AND me.state = 'queued' AND COALESCE(me.ends_at > ?2, 1) \
       AND COALESCE(me.inactive_at > ?2, 1) \
       AND q.state = 'queued' AND (q.queued_at, q.rowid) <= (me.queued_at, me.rowid) \
       AND COALESCE(q.ends_at > ?2, 1) AND COALESCE(q.inactive_at > ?2, 1)";

pub(super) const AFFINITY: &str = "SELECT handled_by FROM sessions \
     WHERE contact_id = ? AND channel = ? AND handled_by IS NOT NULL \
     ORDER BY started_at DESC, rowid DESC LIMIT 1";

pub(super) const RECENT_WAITS: &str = "SELECT joined_at - queued_at FROM sessions \
     WHERE channel = ? AND joined_at IS NOT NULL ORDER BY joined_at DESC LIMIT ?";

pub(super) const DUE: &str = concat!(
    "SELECT ",
    session_columns!(),
    " FROM ",
    sessions_with_agents!(),
    " WHERE s.state != 'ended' AND (s.ends_at <= ?1 OR s.inactive_at <= ?1)"
);

// Joining again, or setting aside again, by the agent who holds the session changes nothing,
// so it keeps its change number.
pub(super) const ASSIGN: &str = concat!(
    "UPDATE sessions SET agent_id = ?1, handled_by = ?1, joined_at = COALESCE(joined_at, ?2), \
       state = CASE WHEN state = 'queued' OR state = 'waiting' THEN 'active' ELSE state END, \
       changed_seq = CASE WHEN agent_id IS ?1 AND state = 'active' THEN changed_seq ELSE ",
    next_change!(),
    " END WHERE id = ?3 AND state != 'ended' \
       AND (agent_id IS NULL OR agent_id = ?1 OR state = 'waiting')",
    returning_session!()
);

pub(super) const SET_WAITING: &str = concat!(
    "UPDATE sessions SET state = 'waiting', agent_id = ?1, handled_by = ?1, \
       changed_seq = CASE WHEN agent_id IS ?1 AND state = 'waiting' THEN changed_seq ELSE ",
    next_change!(),
    " END WHERE id = ?2 AND state != 'ended' AND (agent_id IS NULL OR agent_id = ?1)",
    returning_session!()
);

pub(super) const REOPEN: &str = concat!(
    "UPDATE sessions SET state = 'queued', agent_id = NULL, joined_at = NULL, queued_at = ?1, \
       changed_seq = ",
    next_change!(),
    " WHERE id = ?2 AND state = 'waiting'",
    returning_session!()
);

pub(super) const END: &str = concat!(
    "UPDATE sessions SET state = 'ended', ended_at = ?1, end_reason = ?2, changed_seq = ",
    next_change!(),
    " WHERE id = ?3 AND state != 'ended'",
    returning_session!()
);

pub(super) const SET_REGARDING: &str = concat!(
    "UPDATE sessions SET regarding = ?1, \
       changed_seq = CASE WHEN regarding IS ?1 THEN changed_seq ELSE ",
    next_change!(),
    " END WHERE id = ?2",
    returning_session!()
);

/// The inbox's query for `filter` as of `now`, starting strictly after `cursor` (a session's
/// `started_at` and `rowid`; `(i64::MAX, i64::MAX)` for the first page). The cursor is always
/// bound, so that every page, the first included, is a range search of an index in the
/// listing's order that stops after `limit` rows.
pub(super) fn listing(
    filter: &SessionFilter,
    now: DateTime<Utc>,
    cursor: (i64, i64),
) -> QueryBuilder<'static, Sqlite> {
    let (started_at, rowid) = cursor;
    let mut query = QueryBuilder::new(select_listed!());
    query
        .push(" WHERE s.started_at <= ")
        .push_bind(started_at)
        .push(" AND (s.started_at < ")
        .push_bind(started_at)
        .push(" OR s.rowid < ")
        .push_bind(rowid)
        .push(")");
    // Deadlines that have passed read as ended, as in `SessionRecord::state_at`.
    match filter.state {
        // Most of history is ended: walking the inbox's order finds a page quickly.
        Some(SessionState::Ended) => {
            query
                .push(" AND (s.state = 'ended' OR s.ends_at <= ")
                .push_bind(millis(now))
                .push(" OR s.inactive_at <= ")
                .push_bind(millis(now))
                .push(")");
        }
        // The literal `s.state != 'ended'` lets the planner use `open_sessions_by_state`, a
        // partial index of open sessions alone.
        Some(state) => {
            query
                .push(" AND s.state = ")
                .push_bind(state_str(state))
                .push(" AND s.state != 'ended' AND COALESCE(s.ends_at > ")
                .push_bind(millis(now))
                .push(", 1) AND COALESCE(s.inactive_at > ")
                .push_bind(millis(now))
                .push(", 1)");
        }
        None => {}
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
    query
}

fn listed_from_row(row: &SqliteRow) -> anyhow::Result<(SessionRecord, Contact)> {
    Ok((session_from_row(row)?, contact_from_row(row, "c_")?))
}

/// A statement with its parameters bound.
type Bound<'q> = Query<'q, Sqlite, SqliteArguments<'q>>;

/// Runs a query for at most one session on `pool`: a read, or a write that returns the row
/// as written (`None` when it matched none).
async fn one_session(
    pool: &SqlitePool,
    query: Bound<'_>,
    what: &'static str,
) -> anyhow::Result<Option<SessionRecord>> {
    let row = query.fetch_optional(pool).await.context(what)?;
    row.as_ref().map(session_from_row).transpose()
}

impl SqliteStore {
    async fn sessions_as_of(
        &self,
        sql: &str,
        now: DateTime<Utc>,
    ) -> anyhow::Result<Vec<SessionRecord>> {
        let rows = sqlx::query(sql)
            .bind(millis(now))
            .fetch_all(&self.reader)
            .await
            .context("reading sessions")?;
        rows.iter().map(session_from_row).collect()
    }

    /// Inserts a queued session; `Ok(None)` when the database refused it as a second open
    /// conversation of the contact on the channel.
    async fn insert_session(&self, new: &NewSession) -> anyhow::Result<Option<SessionRecord>> {
        let query = sqlx::query(INSERT_SESSION)
            .bind(Uuid::new_v4().to_string())
            .bind(&new.token_hash)
            .bind(new.contact_id.to_string())
            .bind(&new.channel)
            .bind(mode_str(new.mode))
            .bind(millis(new.started_at))
            .bind(new.ends_at.map(millis))
            .bind(new.inactive_at.map(millis))
            .bind(&new.regarding);
        one_session(&self.writer, query, "creating a session").await
    }
}

#[async_trait]
impl SessionStore for SqliteStore {
    async fn create_session(&self, new: NewSession) -> anyhow::Result<SessionRecord> {
        self.insert_session(&new)
            .await?
            .context("the contact already has an open conversation on this channel")
    }

    async fn start_conversation(&self, new: NewSession) -> anyhow::Result<(SessionRecord, bool)> {
        if let Some(created) = self.insert_session(&new).await? {
            return Ok((created, true));
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
        let query = sqlx::query(OPEN_CONVERSATION)
            .bind(contact_id.to_string())
            .bind(channel);
        one_session(&self.reader, query, "reading an open conversation").await
    }

    async fn session(&self, id: Uuid) -> anyhow::Result<Option<SessionRecord>> {
        let query = sqlx::query(SESSION_BY_ID).bind(id.to_string());
        one_session(&self.reader, query, "reading a session").await
    }

    async fn session_by_token(&self, token_hash: &str) -> anyhow::Result<Option<SessionRecord>> {
        let query = sqlx::query(SESSION_BY_TOKEN).bind(token_hash);
        one_session(&self.reader, query, "reading a session by token").await
    }

    async fn list_sessions(
        &self,
        filter: &SessionFilter,
        now: DateTime<Utc>,
    ) -> anyhow::Result<Vec<(SessionRecord, Contact)>> {
        let cursor = match filter.before {
            None => (i64::MAX, i64::MAX),
            Some(before) => {
                let cursor = sqlx::query_as(INBOX_CURSOR)
                    .bind(before.to_string())
                    .fetch_optional(&self.reader)
                    .await
                    .context("reading where the inbox page starts")?;
                match cursor {
                    Some(cursor) => cursor,
                    None => return Ok(Vec::new()),
                }
            }
        };
        let rows = listing(filter, now, cursor)
            .build()
            .fetch_all(&self.reader)
            .await
            .context("listing sessions")?;
        rows.iter().map(listed_from_row).collect()
    }

    async fn changed_sessions(
        &self,
        after: i64,
        limit: u32,
    ) -> anyhow::Result<Vec<(SessionRecord, Contact)>> {
        let rows = sqlx::query(CHANGED_SESSIONS)
            .bind(after)
            .bind(i64::from(limit))
            .fetch_all(&self.reader)
            .await
            .context("reading changed sessions")?;
        rows.iter().map(listed_from_row).collect()
    }

    async fn last_change(&self) -> anyhow::Result<i64> {
        sqlx::query_scalar(LAST_CHANGE)
            .fetch_one(&self.reader)
            .await
            .context("reading the last change number")
    }

    async fn contact_sessions(&self, contact_id: Uuid) -> anyhow::Result<Vec<SessionRecord>> {
        let rows = sqlx::query(CONTACT_SESSIONS)
            .bind(contact_id.to_string())
            .fetch_all(&self.reader)
            .await
            .context("reading a contact's sessions")?;
        rows.iter().map(session_from_row).collect()
    }

    async fn queued_sessions(&self, now: DateTime<Utc>) -> anyhow::Result<Vec<SessionRecord>> {
        self.sessions_as_of(QUEUE, now).await
    }

    async fn queue_place(
        &self,
        session_id: Uuid,
        now: DateTime<Utc>,
    ) -> anyhow::Result<Option<u32>> {
        let place: i64 = sqlx::query_scalar(QUEUE_PLACE)
            .bind(session_id.to_string())
            .bind(millis(now))
            .fetch_one(&self.reader)
            .await
            .context("reading a session's place in the queue")?;
        Ok(u32::try_from(place).ok().filter(|place| *place > 0))
    }

    async fn affinity_agent(
        &self,
        contact_id: Uuid,
        channel: &str,
    ) -> anyhow::Result<Option<Uuid>> {
        let agent: Option<String> = sqlx::query_scalar(AFFINITY)
            .bind(contact_id.to_string())
            .bind(channel)
            .fetch_optional(&self.reader)
            .await
            .context("reading the contact's last agent")?;
        agent.as_deref().map(uuid).transpose()
    }

    async fn recent_waits(
        &self,
        channel: &str,
        limit: u32,
    ) -> anyhow::Result<Vec<chrono::Duration>> {
        let waits: Vec<i64> = sqlx::query_scalar(RECENT_WAITS)
            .bind(channel)
            .bind(i64::from(limit))
            .fetch_all(&self.reader)
            .await
            .context("reading recent waits")?;
        Ok(waits
            .into_iter()
            .map(chrono::Duration::milliseconds)
            .collect())
    }

    async fn due_sessions(&self, now: DateTime<Utc>) -> anyhow::Result<Vec<SessionRecord>> {
        self.sessions_as_of(DUE, now).await
    }

    async fn assign_agent(
        &self,
        session_id: Uuid,
        agent_id: Uuid,
        now: DateTime<Utc>,
    ) -> anyhow::Result<Option<SessionRecord>> {
        let query = sqlx::query(ASSIGN)
            .bind(agent_id.to_string())
            .bind(millis(now))
            .bind(session_id.to_string());
        one_session(&self.writer, query, "assigning an agent").await
    }

    async fn set_waiting(
        &self,
        session_id: Uuid,
        agent_id: Uuid,
    ) -> anyhow::Result<Option<SessionRecord>> {
        let query = sqlx::query(SET_WAITING)
            .bind(agent_id.to_string())
            .bind(session_id.to_string());
        one_session(&self.writer, query, "setting a session waiting").await
    }

    async fn reopen(
        &self,
        session_id: Uuid,
        now: DateTime<Utc>,
    ) -> anyhow::Result<Option<SessionRecord>> {
        let query = sqlx::query(REOPEN)
            .bind(millis(now))
            .bind(session_id.to_string());
        one_session(&self.writer, query, "reopening a session").await
    }

    async fn end_session(
        &self,
        session_id: Uuid,
        reason: EndReason,
        at: DateTime<Utc>,
    ) -> anyhow::Result<Option<SessionRecord>> {
        let query = sqlx::query(END)
            .bind(millis(at))
            .bind(reason_str(reason))
            .bind(session_id.to_string());
        one_session(&self.writer, query, "ending a session").await
    }

    async fn set_regarding(
        &self,
        session_id: Uuid,
        regarding: Option<&str>,
    ) -> anyhow::Result<Option<SessionRecord>> {
        let query = sqlx::query(SET_REGARDING)
            .bind(regarding)
            .bind(session_id.to_string());
        one_session(&self.writer, query, "setting regarding").await
    }
}
