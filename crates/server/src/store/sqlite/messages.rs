//! Messages in SQLite: appends numbered by a per-session sequence that only grows, retries
//! answered with the original, and pages read by sequence number.

use anyhow::Context;
use async_trait::async_trait;
use palaver_protocol::{Message, MessagePage, Sender};
use sqlx::Row;
use uuid::Uuid;

use crate::store::{
    MessageStore,
    records::{Appended, Author, NewMessage, PageRequest},
    sqlite::{
        SqliteStore,
        rows::{MESSAGE_COLUMNS, author_key, from_millis, message_from_row, millis},
    },
};

/// Takes the session's next sequence number and change number, and moves its inactivity
/// deadline. Nothing is taken from a session marked ended or whose window or inactivity
/// deadline is at or before the message's time, unless the message is the system's, nor
/// for a retry of a message the session holds already.
macro_rules! next_seq {
    () => {
        concat!(
            "UPDATE sessions SET last_seq = last_seq + 1, inactive_at = COALESCE(?1, inactive_at), \
               changed_seq = ",
            next_change!(),
            " WHERE id = ?2 AND (?3 OR (state != 'ended' AND COALESCE(ends_at > ?4, 1) \
               AND COALESCE(inactive_at > ?4, 1))) \
               AND NOT EXISTS (SELECT 1 FROM messages \
                 WHERE session_id = ?2 AND author = ?5 AND client_msg_id = ?6) \
             RETURNING last_seq, changed_seq"
        )
    };
}

/// Stores the message with the number just taken, when one was (`changes()` counts the rows
/// the statement before changed).
macro_rules! insert_message {
    () => {
        "INSERT INTO messages (id, session_id, seq, author, agent_id, client_msg_id, body, \
           created_at) SELECT ?7, id, last_seq, ?5, ?8, ?6, ?9, ?4 FROM sessions \
         WHERE id = ?2 AND changes() = 1"
    };
}

/// The append's two statements, each on its own, for their query plans.
#[cfg(test)]
pub(super) const NEXT_SEQ: &str = next_seq!();
#[cfg(test)]
pub(super) const INSERT_MESSAGE: &str = insert_message!();

/// An append in one round trip to the database: one transaction that takes the number and
/// stores the message, or changes nothing.
const APPEND: &str = concat!(
    "BEGIN IMMEDIATE; ",
    next_seq!(),
    "; ",
    insert_message!(),
    "; COMMIT"
);

/// The original of a retried message, with its session's current change number.
pub(super) const ORIGINAL: &str = concat!(
    "SELECT ",
    message_columns!(),
    ", s.changed_seq FROM messages m LEFT JOIN agents a ON a.id = m.agent_id \
     JOIN sessions s ON s.id = m.session_id \
     WHERE m.session_id = ? AND m.author = ? AND m.client_msg_id = ?"
);

/// A page's SQL, the bound of its `seq` condition, its limit, and whether it reads newest
/// first (to be turned around: pages are in ascending order).
pub(super) fn page_query(page: PageRequest) -> (String, i64, u32, bool) {
    let (condition, order, bound, limit) = match page {
        PageRequest::Latest { limit } => ("m.seq < ?", "DESC", i64::MAX, limit),
        PageRequest::After { after, limit } => ("m.seq > ?", "ASC", after, limit),
        PageRequest::Before { before, limit } => ("m.seq < ?", "DESC", before, limit),
    };
    let sql = format!(
        "SELECT {MESSAGE_COLUMNS} FROM messages m LEFT JOIN agents a ON a.id = m.agent_id \
         WHERE m.session_id = ? AND ({condition}) ORDER BY m.seq {order} LIMIT ?"
    );
    (sql, bound, limit, order == "DESC")
}

#[async_trait]
impl MessageStore for SqliteStore {
    async fn append_message(&self, new: NewMessage) -> anyhow::Result<Option<Appended>> {
        let author = author_key(&new.author);
        let client_msg_id = new.client_msg_id.as_ref().map(|id| id.as_str());
        let id = Uuid::new_v4();
        let mut writer = self.writer.acquire().await.context("taking the writer")?;
        let appended = sqlx::query(APPEND)
            .bind(new.inactive_at.map(millis))
            .bind(new.session_id.to_string())
            .bind(new.author == Author::System)
            .bind(millis(new.at))
            .bind(&author)
            .bind(client_msg_id)
            .bind(id.to_string())
            .bind(match &new.author {
                Author::Agent(agent) => Some(agent.id.to_string()),
                Author::Visitor | Author::System => None,
            })
            .bind(new.body.as_str())
            // Every statement runs: the transaction ends however many rows there are.
            .fetch_all(&mut *writer)
            .await;
        let taken = match appended {
            Ok(rows) => rows.into_iter().next(),
            Err(error) => {
                // Whatever failed, the writer leaves no transaction open behind it.
                let _ = sqlx::query("ROLLBACK").execute(&mut *writer).await;
                return Err(error).context("appending a message");
            }
        };
        drop(writer);
        if let Some(taken) = taken {
            let (seq, change): (i64, i64) = (taken.try_get(0)?, taken.try_get(1)?);
            let message = Message {
                id,
                session_id: new.session_id,
                seq,
                client_msg_id: client_msg_id.map(str::to_owned),
                sender: match new.author {
                    Author::Visitor => Sender::Visitor,
                    Author::System => Sender::System,
                    Author::Agent(agent) => Sender::Agent {
                        id: agent.id,
                        name: agent.name,
                    },
                },
                body: new.body.as_str().to_owned(),
                // As stored: to the millisecond.
                created_at: from_millis(millis(new.at))?,
            };
            return Ok(Some(Appended {
                message,
                created: true,
                change,
            }));
        }
        // A retry, or a session that is over: the sequence is as it was; a retry is answered
        // with its original even when the session has ended since.
        let Some(client_msg_id) = client_msg_id else {
            return Ok(None);
        };
        let original = sqlx::query(ORIGINAL)
            .bind(new.session_id.to_string())
            .bind(&author)
            .bind(client_msg_id)
            .fetch_optional(&self.reader)
            .await
            .context("reading the original of a retried message")?;
        original
            .map(|row| {
                Ok(Appended {
                    message: message_from_row(&row)?,
                    created: false,
                    change: row.try_get("changed_seq")?,
                })
            })
            .transpose()
    }

    async fn messages(&self, session_id: Uuid, page: PageRequest) -> anyhow::Result<MessagePage> {
        let (sql, bound, limit, newest_first) = page_query(page);
        let rows = sqlx::query(&sql)
            .bind(session_id.to_string())
            .bind(bound)
            .bind(i64::from(limit) + 1)
            .fetch_all(&self.reader)
            .await
            .context("reading messages")?;
        let has_more = rows.len() > limit as usize;
        let mut messages = rows
            .iter()
            .take(limit as usize)
            .map(message_from_row)
            .collect::<anyhow::Result<Vec<_>>>()?;
        if newest_first {
            messages.reverse();
        }
        Ok(MessagePage { messages, has_more })
    }
}
