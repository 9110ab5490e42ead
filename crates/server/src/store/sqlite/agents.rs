//! Agents in SQLite: their names, password hashes and capacities, their loads, and the
//! tokens of their sign-ins.

use std::collections::HashMap;

use anyhow::Context;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use palaver_protocol::AgentRef;
use sqlx::Row;
use uuid::Uuid;

use crate::store::{
    AgentStore,
    records::{AgentRecord, AgentSignIn},
    sqlite::{
        SqliteStore,
        rows::{agent_from_row, from_millis, millis, uuid},
    },
};

/// The active sessions each agent holds whose deadlines have not passed.
pub(super) const AGENT_LOADS: &str = "SELECT agent_id, COUNT(*) FROM sessions \
     WHERE state = 'active' AND agent_id IS NOT NULL \
       AND COALESCE(ends_at > ?1, 1) AND COALESCE(inactive_at > ?1, 1) \
     GROUP BY agent_id";

#[async_trait]
impl AgentStore for SqliteStore {
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
        .execute(&self.writer)
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
                .fetch_optional(&self.reader)
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
        .fetch_optional(&self.writer)
        .await
        .context("setting an agent's capacity")?;
        row.as_ref().map(agent_from_row).transpose()
    }

    async fn agents(&self) -> anyhow::Result<Vec<AgentRecord>> {
        let rows =
            sqlx::query("SELECT id, name, password_hash, capacity FROM agents ORDER BY name")
                .fetch_all(&self.reader)
                .await
                .context("reading the agents")?;
        rows.iter().map(agent_from_row).collect()
    }

    async fn agent_loads(&self, now: DateTime<Utc>) -> anyhow::Result<HashMap<Uuid, u32>> {
        let rows: Vec<(String, u32)> = sqlx::query_as(AGENT_LOADS)
            .bind(millis(now))
            .fetch_all(&self.reader)
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
            .execute(&self.writer)
            .await
            .context("saving an agent token")?;
        Ok(())
    }

    async fn agent_by_token(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> anyhow::Result<Option<AgentSignIn>> {
        let row = sqlx::query(
            "SELECT a.id, a.name, t.expires_at FROM agent_tokens t \
             JOIN agents a ON a.id = t.agent_id WHERE t.token_hash = ? AND t.expires_at > ?",
        )
        .bind(token_hash)
        .bind(millis(now))
        .fetch_optional(&self.reader)
        .await
        .context("reading an agent token")?;
        row.map(|row| {
            Ok(AgentSignIn {
                agent: AgentRef {
                    id: uuid(row.try_get("id")?)?,
                    name: row.try_get("name")?,
                },
                expires_at: from_millis(row.try_get("expires_at")?)?,
            })
        })
        .transpose()
    }

    async fn delete_agent_token(&self, token_hash: &str) -> anyhow::Result<()> {
        sqlx::query("DELETE FROM agent_tokens WHERE token_hash = ?")
            .bind(token_hash)
            .execute(&self.writer)
            .await
            .context("deleting an agent token")?;
        Ok(())
    }
}
