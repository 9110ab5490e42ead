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
/// deadline is at or before the message's time, unless the message is the system's.
pub(super) const NEXT_SEQ: &str = concat!(
    "UPDATE sessions SET last_seq = last_seq + 1, inactive_at = COALESCE(?1, inactive_at), \
       changed_seq = ",
    next_change!(),
    " WHERE id = ?2 AND (?3 OR (state != 'ended' AND COALESCE(ends_at > ?4, 1) \
       AND COALESCE(inactive_at > ?4, 1))) \
     RETURNING last_seq, changed_seq"
);

pub(super) const INSERT_MESSAGE: &str = "INSERT INTO messages (id, session_id, seq, author, \
       agent_id, client_msg_id, body, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) \
     ON CONFLICT (session_id, author, client_msg_id) DO NOTHING";

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
        let mut tx = self
            .writer
            .begin()
            .await
            .context("starting a transaction")?;
        let taken = sqlx::query(NEXT_SEQ)
            .bind(new.inactive_at.map(millis))
            .bind(new.session_id.to_string())
            .bind(new.author == Author::System)
            .bind(millis(new.at))
            .fetch_optional(&mut *tx)
            .await
            .context("taking the next sequence number")?;
        if let Some(taken) = taken {
            let (seq, change): (i64, i64) = (taken.try_get(0)?, taken.try_get(1)?);
            let inserted = sqlx::query(INSERT_MESSAGE)
                .bind(id.to_string())
                .bind(new.session_id.to_string())
                .bind(seq)
                .bind(&author)
                .bind(match &new.author {
                    Author::Agent(agent) => Some(agent.id.to_string()),
                    Author::Visitor | Author::System => None,
                })
                .bind(client_msg_id)
                .bind(new.body.as_str())
                .bind(millis(new.at))
                .execute(&mut *tx)
                .await
                .context("inserting a message")?
                .rows_affected();
            if inserted == 1 {
                tx.commit().await.context("committing a message")?;
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
        }
        // A retry, or a session that is over: leave the sequence as it was, and answer a
        // retry with its original even when the session has ended since.
        tx.rollback().await.context("rolling back")?;
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
