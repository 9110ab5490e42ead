//! Row mapping for the SQLite store: the columns each record is read from, timestamps as
//! integer milliseconds, ids as text, and enums as the words stored for them.

use anyhow::{Context, anyhow};
use chrono::{DateTime, Utc};
use palaver_protocol::{AgentRef, ChannelMode, Contact, EndReason, Message, Sender, SessionState};
use sqlx::{Row, sqlite::SqliteRow};
use uuid::Uuid;

use crate::store::records::{AgentRecord, Author, SessionRecord};

pub const CONTACT_COLUMNS: &str = "id, name, phone, email, user_id";

pub const MESSAGE_COLUMNS: &str = message_columns!();

pub fn millis(at: DateTime<Utc>) -> i64 {
    at.timestamp_millis()
}

pub fn from_millis(ms: i64) -> anyhow::Result<DateTime<Utc>> {
    DateTime::from_timestamp_millis(ms).ok_or_else(|| anyhow!("timestamp {ms} out of range"))
}

pub fn opt_from_millis(ms: Option<i64>) -> anyhow::Result<Option<DateTime<Utc>>> {
    ms.map(from_millis).transpose()
}

pub fn uuid(text: &str) -> anyhow::Result<Uuid> {
    Uuid::parse_str(text).with_context(|| format!("stored id {text:?} is not a UUID"))
}

pub fn mode_str(mode: ChannelMode) -> &'static str {
    match mode {
        ChannelMode::Live => "live",
        ChannelMode::Persistent => "persistent",
    }
}

pub fn parse_mode(text: &str) -> anyhow::Result<ChannelMode> {
    match text {
        "live" => Ok(ChannelMode::Live),
        "persistent" => Ok(ChannelMode::Persistent),
        other => Err(anyhow!("unknown stored mode {other:?}")),
    }
}

pub fn state_str(state: SessionState) -> &'static str {
    match state {
        SessionState::Queued => "queued",
        SessionState::Active => "active",
        SessionState::Waiting => "waiting",
        SessionState::Ended => "ended",
    }
}

pub fn parse_state(text: &str) -> anyhow::Result<SessionState> {
    match text {
        "queued" => Ok(SessionState::Queued),
        "active" => Ok(SessionState::Active),
        "waiting" => Ok(SessionState::Waiting),
        "ended" => Ok(SessionState::Ended),
        other => Err(anyhow!("unknown stored state {other:?}")),
    }
}

pub fn reason_str(reason: EndReason) -> &'static str {
    match reason {
        EndReason::Visitor => "visitor",
        EndReason::Agent => "agent",
        EndReason::Expired => "expired",
        EndReason::Inactivity => "inactivity",
    }
}

pub fn parse_reason(text: &str) -> anyhow::Result<EndReason> {
    match text {
        "visitor" => Ok(EndReason::Visitor),
        "agent" => Ok(EndReason::Agent),
        "expired" => Ok(EndReason::Expired),
        "inactivity" => Ok(EndReason::Inactivity),
        other => Err(anyhow!("unknown stored end reason {other:?}")),
    }
}

pub fn author_key(author: &Author) -> String {
    match author {
        Author::Visitor => "visitor".into(),
        Author::System => "system".into(),
        Author::Agent(agent) => agent.id.to_string(),
    }
}

pub fn session_from_row(row: &SqliteRow) -> anyhow::Result<SessionRecord> {
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
        change: row.try_get("changed_seq")?,
    })
}

pub fn agent_from_row(row: &SqliteRow) -> anyhow::Result<AgentRecord> {
    Ok(AgentRecord {
        id: uuid(row.try_get("id")?)?,
        name: row.try_get("name")?,
        password_hash: row.try_get("password_hash")?,
        capacity: row.try_get("capacity")?,
    })
}

pub fn contact_from_row(row: &SqliteRow, prefix: &str) -> anyhow::Result<Contact> {
    Ok(Contact {
        id: uuid(row.try_get(format!("{prefix}id").as_str())?)?,
        name: row.try_get(format!("{prefix}name").as_str())?,
        phone: row.try_get(format!("{prefix}phone").as_str())?,
        email: row.try_get(format!("{prefix}email").as_str())?,
        user_id: row.try_get(format!("{prefix}user_id").as_str())?,
    })
}

pub fn message_from_row(row: &SqliteRow) -> anyhow::Result<Message> {
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
