//! The hot queries against SQLite's query planner, on a database that holds thousands of
//! ended sessions with their messages and a few open ones: none reads the sessions or
//! messages table whole, none sorts them, and each is served by the index meant for it. A
//! scan is allowed only through a partial index of open sessions, whose size does not grow
//! with history. Every index on sessions must serve one of these queries, so an index that is
//! dropped, or one that nothing uses, fails here.

use chrono::Utc;
use palaver_protocol::SessionState;
use sqlx::{Row, SqlitePool};
use tempfile::TempDir;
use uuid::Uuid;

use crate::store::{
    AgentFilter, PageRequest, SessionFilter,
    sqlite::{SqliteStore, agents, messages, sessions},
};

/// Sessions in history (ended) and open ones (queued, active, waiting in turn).
const ENDED: u32 = 5_000;
const OPEN: u32 = 60;
const MESSAGES_PER_SESSION: u32 = 4;

/// One hot query: what it is, its SQL, and the index that must serve it.
struct Hot {
    name: String,
    sql: String,
    index: &'static str,
}

/// The store's fixed statements: what each is, its SQL, the index that must serve it.
#[rustfmt::skip] // A table reads best one row a line.
const STATEMENTS: &[(&str, &str, &str)] = &[
    ("session insert", sessions::INSERT_SESSION, "sessions_by_change"),
    ("session by id", sessions::SESSION_BY_ID, "sqlite_autoindex_sessions_1"),
    ("session by token", sessions::SESSION_BY_TOKEN, "sqlite_autoindex_sessions_2"),
    ("open conversation", sessions::OPEN_CONVERSATION, "one_open_conversation"),
    ("contact's sessions", sessions::CONTACT_SESSIONS, "sessions_by_contact"),
    ("inbox cursor", sessions::INBOX_CURSOR, "sqlite_autoindex_sessions_1"),
    ("changed sessions", sessions::CHANGED_SESSIONS, "sessions_by_change"),
    ("last change", sessions::LAST_CHANGE, "sessions_by_change"),
    ("queue", sessions::QUEUE, "queued_sessions"),
    ("queue place", sessions::QUEUE_PLACE, "queued_sessions"),
    ("affinity", sessions::AFFINITY, "sessions_by_handler"),
    ("recent waits", sessions::RECENT_WAITS, "sessions_by_join"),
    ("sweep", sessions::DUE, "open_sessions_by_deadline"),
    ("assign", sessions::ASSIGN, "sqlite_autoindex_sessions_1"),
    ("set waiting", sessions::SET_WAITING, "sqlite_autoindex_sessions_1"),
    ("reopen", sessions::REOPEN, "sqlite_autoindex_sessions_1"),
    ("end", sessions::END, "sqlite_autoindex_sessions_1"),
    ("set regarding", sessions::SET_REGARDING, "sqlite_autoindex_sessions_1"),
    ("agent loads", agents::AGENT_LOADS, "active_sessions_by_agent"),
    ("next seq", messages::NEXT_SEQ, "sqlite_autoindex_sessions_1"),
    ("next change", messages::NEXT_SEQ, "sessions_by_change"),
    ("retry check", messages::NEXT_SEQ, "sqlite_autoindex_messages_3"),
    ("message insert", messages::INSERT_MESSAGE, "sqlite_autoindex_sessions_1"),
    ("retried message", messages::ORIGINAL, "sqlite_autoindex_messages_3"),
];

fn hot(name: impl Into<String>, sql: impl Into<String>, index: &'static str) -> Hot {
    Hot {
        name: name.into(),
        sql: sql.into(),
        index,
    }
}

/// Every hot query of the store. Parameters are left unbound: without statistics the
/// planner does not look at their values.
fn hot_queries() -> Vec<Hot> {
    let mut queries: Vec<Hot> = STATEMENTS
        .iter()
        .map(|&(name, sql, index)| hot(name, sql, index))
        .collect();
    for (name, page) in [
        ("latest messages", PageRequest::Latest { limit: 50 }),
        (
            "messages after",
            PageRequest::After {
                after: 1,
                limit: 50,
            },
        ),
        (
            "messages before",
            PageRequest::Before {
                before: 9,
                limit: 50,
            },
        ),
    ] {
        queries.push(hot(
            name,
            messages::page_query(page).0,
            "sqlite_autoindex_messages_2",
        ));
    }
    let inbox = |state, channel: Option<&str>, agent, search: Option<&str>| SessionFilter {
        state,
        channel: channel.map(str::to_owned),
        agent,
        search: search.map(str::to_owned),
        before: None,
        limit: 50,
    };
    let agent = Some(AgentFilter::Agent(Uuid::new_v4()));
    let unassigned = Some(AgentFilter::Unassigned);
    let filters = [
        ("inbox", inbox(None, None, None, None), "sessions_by_start"),
        (
            "inbox, search",
            inbox(None, None, None, Some("ada")),
            "sessions_by_start",
        ),
        (
            "inbox, channel",
            inbox(None, Some("support"), None, None),
            "sessions_by_channel",
        ),
        (
            "inbox, agent",
            inbox(None, None, agent, None),
            "sessions_by_agent",
        ),
        (
            "inbox, nobody's",
            inbox(None, None, unassigned, None),
            "sessions_by_agent",
        ),
        (
            "inbox, queued",
            inbox(Some(SessionState::Queued), None, None, None),
            "open_sessions_by_state",
        ),
        (
            "inbox, active",
            inbox(Some(SessionState::Active), None, None, None),
            "open_sessions_by_state",
        ),
        (
            "inbox, waiting",
            inbox(Some(SessionState::Waiting), None, None, None),
            "open_sessions_by_state",
        ),
        (
            "inbox, queued on a channel, nobody's",
            inbox(
                Some(SessionState::Queued),
                Some("support"),
                unassigned,
                None,
            ),
            "open_sessions_by_state",
        ),
        (
            "inbox, ended",
            inbox(Some(SessionState::Ended), None, None, None),
            "sessions_by_start",
        ),
        (
            "inbox, ended on a channel",
            inbox(Some(SessionState::Ended), Some("support"), None, None),
            "sessions_by_channel",
        ),
        (
            "inbox, an agent's ended",
            inbox(Some(SessionState::Ended), None, agent, None),
            "sessions_by_agent",
        ),
    ];
    for (name, filter, index) in filters {
        let sql = sessions::listing(&filter, Utc::now(), (i64::MAX, i64::MAX)).into_sql();
        queries.push(hot(name, sql, index));
    }
    queries
}

/// Thousands of ended sessions of many contacts on two channels with their messages, and
/// a few open ones, written in bulk.
async fn fill(pool: &SqlitePool) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO agents (id, name, password_hash, created_at) VALUES ('agent', 'grace', '', 0)",
    )
    .execute(pool)
    .await?;
    sqlx::query(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 500) \
         INSERT INTO contacts (id, phone, name, created_at, updated_at) \
         SELECT 'contact-' || i, '+44207946' || i, 'Contact ' || i, 0, 0 FROM n",
    )
    .execute(pool)
    .await?;
    sqlx::query(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1 + ?2) \
         INSERT INTO sessions (id, token_hash, contact_id, channel, mode, state, started_at, \
           queued_at, ends_at, ended_at, end_reason, agent_id, handled_by, joined_at, \
           last_seq, changed_seq) \
         SELECT 'session-' || i, 'token-' || i, 'contact-' || (i % 500 + 1), \
           CASE i % 2 WHEN 0 THEN 'support' ELSE 'sales' END, 'live', \
           CASE WHEN i <= ?1 THEN 'ended' \
             ELSE CASE i % 3 WHEN 0 THEN 'queued' WHEN 1 THEN 'active' ELSE 'waiting' END END, \
           i * 60000, i * 60000, i * 60000 + 86400000, \
           CASE WHEN i <= ?1 THEN i * 60000 + 600000 END, \
           CASE WHEN i <= ?1 THEN 'agent' END, \
           CASE WHEN i > ?1 AND i % 3 = 1 THEN 'agent' END, \
           CASE WHEN i <= ?1 OR i % 3 = 1 THEN 'agent' END, \
           CASE WHEN i <= ?1 OR i % 3 = 1 THEN i * 60000 + 30000 END, ?3, i \
         FROM n",
    )
    .bind(ENDED)
    .bind(OPEN)
    .bind(MESSAGES_PER_SESSION)
    .execute(pool)
    .await?;
    sqlx::query(
        "WITH RECURSIVE k(seq) AS (SELECT 1 UNION ALL SELECT seq + 1 FROM k WHERE seq < ?1) \
         INSERT INTO messages (id, session_id, seq, author, client_msg_id, body, created_at) \
         SELECT s.id || '-' || k.seq, s.id, k.seq, 'visitor', 'client-' || k.seq, 'Hello', \
           s.started_at + k.seq FROM sessions s, k",
    )
    .bind(MESSAGES_PER_SESSION)
    .execute(pool)
    .await?;
    Ok(())
}

/// The lines of a query's plan.
async fn plan(pool: &SqlitePool, sql: &str) -> anyhow::Result<Vec<String>> {
    let rows = sqlx::query(&format!("EXPLAIN QUERY PLAN {sql}"))
        .fetch_all(pool)
        .await?;
    rows.iter()
        .map(|row| Ok(row.try_get::<String, _>("detail")?))
        .collect()
}

/// Whether a plan line reads the sessions or messages table whole (a scan not confined to
/// one of `open_only`), or sorts rows in a temporary b-tree.
fn reads_history(line: &str, open_only: &[String]) -> bool {
    if line.contains("TEMP B-TREE") {
        return true;
    }
    let words: Vec<&str> = line.split_whitespace().collect();
    match words.as_slice() {
        ["SCAN", "sessions" | "s" | "messages" | "m", rest @ ..] => match rest {
            ["USING", "INDEX" | "COVERING", ..] => !rest
                .iter()
                .any(|word| open_only.iter().any(|index| index == word)),
            _ => true,
        },
        _ => false,
    }
}

#[tokio::test]
async fn no_hot_query_reads_history_whole_and_every_index_serves_one() -> anyhow::Result<()> {
    let dir = TempDir::new()?;
    let url = format!("sqlite://{}", dir.path().join("plans.db").display());
    let store = SqliteStore::connect(&url).await?;
    fill(&store.writer).await?;
    let pool = &store.reader;

    // The partial indexes that hold open sessions alone, read from the schema.
    let indexes: Vec<(String, String)> = sqlx::query_as(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' \
           AND tbl_name IN ('sessions', 'messages') AND sql IS NOT NULL",
    )
    .fetch_all(pool)
    .await?;
    let open_only: Vec<String> = indexes
        .iter()
        .filter(|(_, sql)| {
            [
                "WHERE state = 'queued'",
                "WHERE state = 'active'",
                "WHERE state != 'ended'",
            ]
            .iter()
            .any(|condition| sql.contains(condition))
        })
        .map(|(name, _)| name.clone())
        .collect();

    let mut failures = Vec::new();
    let mut used = Vec::new();
    for query in hot_queries() {
        let lines = plan(pool, &query.sql).await?;
        let whole: Vec<&String> = lines
            .iter()
            .filter(|line| reads_history(line, &open_only))
            .collect();
        if !whole.is_empty() {
            failures.push(format!("{} reads history whole: {whole:?}", query.name));
        }
        let served = lines
            .iter()
            .any(|line| line.split_whitespace().any(|word| word == query.index));
        if served {
            used.push(query.index);
        } else {
            failures.push(format!(
                "{} is not served by {}: {lines:?}",
                query.name, query.index
            ));
        }
    }
    for (index, _) in &indexes {
        if !used.contains(&index.as_str()) {
            failures.push(format!("the index {index} serves no hot query"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    Ok(())
}
