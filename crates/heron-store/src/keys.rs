//! API keys issued by Heron: each belongs to one tenant, carries scopes,
//! may expire and be revoked; a tenant may hold several at once (rotation:
//! create the new key, move clients, revoke the old one).
//!
//! A key reads `hk_<id>_<secret>`. Only the SHA-256 of the secret is
//! stored; the key is shown once, when created. Authentication finds the
//! row by id and compares the secret's digest in constant time, so neither
//! a lookup nor a comparison leaks how close a guess came.

use heron_core::access::Scopes;
use sha2::{Digest, Sha256};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::audit::{Actor, AuditEntry};
use crate::clock::now_ms;
use crate::{Store, StoreError};

/// A key to issue.
#[derive(Debug, Clone)]
pub struct NewApiKey {
    pub tenant: String,
    /// For people: what the key is for.
    pub name: String,
    pub scopes: Scopes,
    pub expires_at_ms: Option<i64>,
}

/// A key as stored (never its secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeyRecord {
    pub id: String,
    pub tenant: String,
    pub name: String,
    pub scopes: Scopes,
    pub created_by: String,
    pub created_at_ms: i64,
    pub expires_at_ms: Option<i64>,
    pub revoked_at_ms: Option<i64>,
    pub last_used_at_ms: Option<i64>,
}

impl ApiKeyRecord {
    /// Not revoked and not expired at `now_ms`.
    pub fn active_at(&self, now_ms: i64) -> bool {
        self.revoked_at_ms.is_none() && self.expires_at_ms.is_none_or(|at| at > now_ms)
    }
}

/// A key just created: the only time its full text exists.
#[derive(Debug, Clone)]
pub struct IssuedKey {
    pub record: ApiKeyRecord,
    pub key: String,
}

/// How often `last_used_at` is written for a busy key.
const LAST_USED_RESOLUTION_MS: i64 = 60_000;

impl Store {
    /// Issue a key, recording `key.create` in the same transaction.
    pub async fn create_api_key(
        &self,
        new: &NewApiKey,
        actor: &Actor,
    ) -> Result<IssuedKey, StoreError> {
        let id = uuid::Uuid::new_v4().simple().to_string()[..16].to_owned();
        let secret = format!(
            "{}{}",
            uuid::Uuid::new_v4().simple(),
            uuid::Uuid::new_v4().simple()
        );
        let now = now_ms();
        let mut transaction = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO api_keys (id, tenant_id, name, secret_sha256, scopes, created_by,
                                   created_at, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&id)
        .bind(&new.tenant)
        .bind(&new.name)
        .bind(secret_digest(&secret))
        .bind(new.scopes.to_string())
        .bind(&actor.id)
        .bind(now)
        .bind(new.expires_at_ms)
        .execute(&mut *transaction)
        .await?;
        let entry = AuditEntry::ok(&new.tenant, actor, "key.create", format!("key:{id}"))
            .with_detail(serde_json::json!({
                "scopes": new.scopes.to_string(),
                "expires_at_ms": new.expires_at_ms,
            }));
        self.commit_audited(transaction, &entry).await?;
        Ok(IssuedKey {
            record: ApiKeyRecord {
                id: id.clone(),
                tenant: new.tenant.clone(),
                name: new.name.clone(),
                scopes: new.scopes,
                created_by: actor.id.clone(),
                created_at_ms: now,
                expires_at_ms: new.expires_at_ms,
                revoked_at_ms: None,
                last_used_at_ms: None,
            },
            key: format!("hk_{id}_{secret}"),
        })
    }

    /// A tenant's keys (all of them with `None`), newest first.
    pub async fn api_keys(&self, tenant: Option<&str>) -> Result<Vec<ApiKeyRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT * FROM api_keys WHERE ($1 IS NULL OR tenant_id = $1) ORDER BY created_at DESC, id",
        )
        .bind(tenant)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(key_record).collect()
    }

    /// Revoke a key of `tenant` and end its web UI sessions, recording
    /// `key.revoke`. False when the tenant has no such active key.
    pub async fn revoke_api_key(
        &self,
        tenant: &str,
        id: &str,
        actor: &Actor,
    ) -> Result<bool, StoreError> {
        let mut transaction = self.pool.begin().await?;
        let done = sqlx::query(
            "UPDATE api_keys SET revoked_at = $1
              WHERE id = $2 AND tenant_id = $3 AND revoked_at IS NULL",
        )
        .bind(now_ms())
        .bind(id)
        .bind(tenant)
        .execute(&mut *transaction)
        .await?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        // The key's web UI sessions end with it.
        sqlx::query("DELETE FROM ui_sessions WHERE tenant_id = $1 AND actor = $2")
            .bind(tenant)
            .bind(format!("key:{id}"))
            .execute(&mut *transaction)
            .await?;
        self.commit_audited(
            transaction,
            &AuditEntry::ok(tenant, actor, "key.revoke", format!("key:{id}")),
        )
        .await?;
        Ok(true)
    }

    /// The active key `presented` is, if any; notes when it was last used.
    pub async fn authenticate_key(
        &self,
        presented: &str,
    ) -> Result<Option<ApiKeyRecord>, StoreError> {
        let Some((id, secret)) = presented
            .strip_prefix("hk_")
            .and_then(|rest| rest.split_once('_'))
        else {
            return Ok(None);
        };
        let Some(row) = sqlx::query("SELECT * FROM api_keys WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
        else {
            return Ok(None);
        };
        let stored: String = row.try_get("secret_sha256")?;
        if !constant_time_eq(stored.as_bytes(), secret_digest(secret).as_bytes()) {
            return Ok(None);
        }
        let record = key_record(&row)?;
        let now = now_ms();
        if !record.active_at(now) {
            return Ok(None);
        }
        if record
            .last_used_at_ms
            .is_none_or(|at| now - at >= LAST_USED_RESOLUTION_MS)
        {
            sqlx::query("UPDATE api_keys SET last_used_at = $1 WHERE id = $2")
                .bind(now)
                .bind(id)
                .execute(&self.pool)
                .await?;
        }
        Ok(Some(record))
    }
}

pub(crate) fn secret_digest(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Equality whose time depends only on the lengths.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |d, (x, y)| d | (x ^ y)) == 0
}

fn key_record(row: &AnyRow) -> Result<ApiKeyRecord, StoreError> {
    let scopes: String = row.try_get("scopes")?;
    Ok(ApiKeyRecord {
        id: row.try_get("id")?,
        tenant: row.try_get("tenant_id")?,
        name: row.try_get("name")?,
        scopes: Scopes::parse_list(&scopes).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        created_by: row.try_get("created_by")?,
        created_at_ms: row.try_get("created_at")?,
        expires_at_ms: row.try_get("expires_at")?,
        revoked_at_ms: row.try_get("revoked_at")?,
        last_used_at_ms: row.try_get("last_used_at")?,
    })
}
