//! The SQLite store: one file, no set-up, write-ahead logging so readers never wait for the
//! writer. Migrations are embedded in the binary and run at start. One file per entity
//! implements its part of the [`Store`](crate::store::Store) trait and holds its hot SQL as
//! named constants (checked against the query planner by the `plans` test); [`rows`] maps
//! rows to records.
//!
//! SQLite lets one connection write at a time. Writes go through a pool of exactly one
//! connection, so they queue in-process instead of colliding in SQLite's busy handler (which
//! sleeps); reads use a pool of their own and, under write-ahead logging, see every write
//! committed before they start.

use std::{str::FromStr, time::Duration};

use anyhow::Context;
use sqlx::{
    SqlitePool,
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous},
};

/// The columns of a session and its agent's name, read from `sessions s` joined with
/// `agents a`; a literal, so that `concat!` can build the queries' constants.
macro_rules! session_columns {
    () => {
        "s.id, s.contact_id, s.channel, s.mode, s.state, s.started_at, s.ends_at, s.ended_at, \
         s.end_reason, s.inactive_at, s.regarding, s.agent_id, a.name AS agent_name, \
         s.joined_at, s.last_seq, s.changed_seq"
    };
}

/// The columns of a message and its agent's name, read from `messages m` joined with
/// `agents a`.
macro_rules! message_columns {
    () => {
        "m.id, m.session_id, m.seq, m.author, m.agent_id, a.name AS agent_name, \
         m.client_msg_id, m.body, m.created_at"
    };
}

/// Sessions with their agents: `session_columns!()` are read from here.
macro_rules! sessions_with_agents {
    () => {
        "sessions s LEFT JOIN agents a ON a.id = s.agent_id"
    };
}

/// The change number a write gives a session: one more than the greatest so far, read from
/// the `sessions_by_change` index. It is taken inside the writing statement, and writes are
/// serialized, so no two writes share a number.
macro_rules! next_change {
    () => {
        "(SELECT COALESCE(MAX(changed_seq), 0) + 1 FROM sessions)"
    };
}

mod agents;
mod contacts;
mod messages;
mod rows;
mod sessions;

#[cfg(test)]
mod plans;

#[derive(Debug, Clone)]
pub struct SqliteStore {
    /// Reads; several connections serve concurrent readers.
    reader: SqlitePool,
    /// Every write, and every transaction that writes: one connection, so writers queue here.
    writer: SqlitePool,
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
            // Another process writing, or a checkpoint, can still hold the lock for a moment.
            .busy_timeout(Duration::from_secs(5));
        // A connection to a local file does not go stale, so the pools hand connections out
        // without first asking each whether it is alive (a round trip to its thread).
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .test_before_acquire(false)
            .connect_with(options.clone())
            .await
            .with_context(|| format!("opening database {url}"))?;
        sqlx::migrate!("./migrations")
            .run(&writer)
            .await
            .context("running database migrations")?;
        let reader = SqlitePoolOptions::new()
            .max_connections(8)
            .test_before_acquire(false)
            // A write through the read pool would bypass the writers' queue: refuse it.
            .connect_with(options.read_only(true))
            .await
            .with_context(|| format!("opening database {url} for reading"))?;
        Ok(Self { reader, writer })
    }
}
