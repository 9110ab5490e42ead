//! Messages in SQLite: appends numbered by a per-session sequence that only grows, retries
//! answered with the original, and pages read by sequence number.

use anyhow::Context;
use async_trait::async_trait;
use palaver_protocol::MessagePage;
use uuid::Uuid;

use crate::store::{
    MessageStore,
    records::{Appended, Author, NewMessage, PageRequest},
    sqlite::{
        SqliteStore,
        rows::{MESSAGE_COLUMNS, author_key, message_from_row, millis},
    },
};

#[async_trait]
impl MessageStore for SqliteStore {
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
}
