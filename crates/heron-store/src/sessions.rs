//! Web UI sessions: opened by signing in with a key or a token, kept only
//! as the SHA-256 of their cookie, ended by signing out, by expiry, or
//! with the key they came from.

use sqlx::Row;

use crate::clock::now_ms;
use crate::{Store, StoreError};

/// A web UI session.
#[derive(Debug, Clone)]
pub struct UiSession {
    pub tenant: String,
    pub actor: String,
    /// Comma-separated scope names.
    pub scopes: String,
    /// The token pages send back with every change (`X-CSRF-Token`).
    pub csrf: String,
    pub expires_at_ms: i64,
}

impl Store {
    /// Open a web UI session; returns the cookie's token (shown once,
    /// stored only as its SHA-256).
    pub async fn create_session(&self, session: &UiSession) -> Result<String, StoreError> {
        let token = format!(
            "{}{}",
            uuid::Uuid::new_v4().simple(),
            uuid::Uuid::new_v4().simple()
        );
        sqlx::query(
            "INSERT INTO ui_sessions (token_sha256, tenant_id, actor, scopes, csrf, created_at,
                                      expires_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(crate::keys::secret_digest(&token))
        .bind(&session.tenant)
        .bind(&session.actor)
        .bind(&session.scopes)
        .bind(&session.csrf)
        .bind(now_ms())
        .bind(session.expires_at_ms)
        .execute(&self.pool)
        .await?;
        Ok(token)
    }

    /// The unexpired session of `token`.
    pub async fn session(&self, token: &str) -> Result<Option<UiSession>, StoreError> {
        let row = sqlx::query(
            "SELECT tenant_id, actor, scopes, csrf, expires_at FROM ui_sessions
              WHERE token_sha256 = $1 AND expires_at > $2",
        )
        .bind(crate::keys::secret_digest(token))
        .bind(now_ms())
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| {
            Ok(UiSession {
                tenant: row.try_get("tenant_id")?,
                actor: row.try_get("actor")?,
                scopes: row.try_get("scopes")?,
                csrf: row.try_get("csrf")?,
                expires_at_ms: row.try_get("expires_at")?,
            })
        })
        .transpose()
    }

    /// Forget expired sessions; how many there were.
    pub async fn drop_expired_sessions(&self) -> Result<u64, StoreError> {
        Ok(
            sqlx::query("DELETE FROM ui_sessions WHERE expires_at <= $1")
                .bind(now_ms())
                .execute(&self.pool)
                .await?
                .rows_affected(),
        )
    }

    /// End a session (and forget expired ones).
    pub async fn end_session(&self, token: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM ui_sessions WHERE token_sha256 = $1 OR expires_at <= $2")
            .bind(crate::keys::secret_digest(token))
            .bind(now_ms())
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
