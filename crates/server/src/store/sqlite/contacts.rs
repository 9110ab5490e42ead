//! Contacts in SQLite: live visitors keyed by their number, verified visitors by the user id
//! their site signed, and the identity tokens that open a verified visitor's conversations.

use anyhow::Context;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use palaver_protocol::Contact;
use sqlx::Row;
use uuid::Uuid;

use crate::store::{
    ContactStore,
    records::{ContactDetails, IdentityGrant, VerifiedDetails},
    sqlite::{
        SqliteStore,
        rows::{CONTACT_COLUMNS, contact_from_row, from_millis, millis, uuid},
    },
};

/// How long expired identity tokens are kept, so that a late caller hears "expired" rather
/// than "unknown" before they are swept away.
const EXPIRED_TOKENS_KEPT_MS: i64 = 7 * 24 * 60 * 60 * 1000;

#[async_trait]
impl ContactStore for SqliteStore {
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
        .fetch_one(&self.writer)
        .await
        .context("saving a contact")?;
        contact_from_row(&row, "")
    }

    async fn contact(&self, id: Uuid) -> anyhow::Result<Option<Contact>> {
        let row = sqlx::query(&format!(
            "SELECT {CONTACT_COLUMNS} FROM contacts WHERE id = ?"
        ))
        .bind(id.to_string())
        .fetch_optional(&self.reader)
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
        .fetch_one(&self.writer)
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
        let mut tx = self
            .writer
            .begin()
            .await
            .context("starting a transaction")?;
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
        .fetch_optional(&self.reader)
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
}
