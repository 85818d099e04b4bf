//! `Idempotency-Key` records: the first request with a key claims it with
//! the hash of its body; a repeat with the same hash gets the stored
//! answer, a repeat with another body is refused, and a repeat while the
//! first is still being answered is told so.

use std::time::Duration;

use sqlx::Row;

use crate::clock::{ms, now_ms};
use crate::{NewJob, Store, StoreError};

/// What a request carrying an idempotency key should do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyClaim {
    /// First use of the key (or the earlier use expired): do the work.
    New,
    /// The same request was answered before: send this answer again.
    Replay { status_code: u16, body: String },
    /// The same request is still being answered (or its answer was lost
    /// with a crashed process after its job was created).
    InProgress { job_id: Option<String> },
    /// The key was used with a different body.
    Mismatch,
}

impl Store {
    /// Claim `key` for a request whose body hashes to `request_hash`, for
    /// `ttl`.
    pub async fn claim_idempotency_key(
        &self,
        key: &str,
        request_hash: &str,
        ttl: Duration,
    ) -> Result<KeyClaim, StoreError> {
        let now = now_ms();
        // An expired record no longer binds its key.
        sqlx::query("DELETE FROM idempotency_keys WHERE key = $1 AND expires_at <= $2")
            .bind(key)
            .bind(now)
            .execute(&self.pool)
            .await?;
        let inserted = sqlx::query(
            "INSERT INTO idempotency_keys (key, request_hash, created_at, expires_at)
             VALUES ($1, $2, $3, $4) ON CONFLICT (key) DO NOTHING",
        )
        .bind(key)
        .bind(request_hash)
        .bind(now)
        .bind(now + ms(ttl))
        .execute(&self.pool)
        .await?;
        if inserted.rows_affected() == 1 {
            return Ok(KeyClaim::New);
        }
        let Some(row) = sqlx::query(
            "SELECT request_hash, job_id, status_code, response_json FROM idempotency_keys WHERE key = $1",
        )
        .bind(key)
        .fetch_optional(&self.pool)
        .await?
        else {
            // Deleted between the two statements (expired, or abandoned by
            // a failed first request): the caller may simply try again.
            return Ok(KeyClaim::InProgress { job_id: None });
        };
        if row.try_get::<String, _>("request_hash")? != request_hash {
            return Ok(KeyClaim::Mismatch);
        }
        let status: Option<i64> = row.try_get("status_code")?;
        let body: Option<String> = row.try_get("response_json")?;
        Ok(match (status, body) {
            (Some(status), Some(body)) => KeyClaim::Replay {
                status_code: u16::try_from(status)
                    .map_err(|_| StoreError::Corrupt(format!("status code {status}")))?,
                body,
            },
            _ => KeyClaim::InProgress {
                job_id: row.try_get("job_id")?,
            },
        })
    }

    /// [`Store::create_job`], recording the job on the claimed `key` in the
    /// same transaction.
    /// Keys are global: callers scope them (the server prefixes the tenant).
    pub async fn create_job_for_key(&self, job: &NewJob, key: &str) -> Result<(), StoreError> {
        let mut transaction = self.pool.begin().await?;
        self.insert_job(&mut transaction, job).await?;
        sqlx::query("UPDATE idempotency_keys SET job_id = $1 WHERE key = $2")
            .bind(&job.id)
            .bind(key)
            .execute(&mut *transaction)
            .await?;
        transaction.commit().await?;
        Ok(())
    }

    /// Record the answer given to the request that claimed `key`.
    pub async fn record_idempotent_response(
        &self,
        key: &str,
        status_code: u16,
        body: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE idempotency_keys SET status_code = $1, response_json = $2 WHERE key = $3",
        )
        .bind(i64::from(status_code))
        .bind(body)
        .bind(key)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Give a key back after its request failed before creating a job, so
    /// that the client's retry is not refused.
    pub async fn release_idempotency_key(&self, key: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM idempotency_keys WHERE key = $1 AND job_id IS NULL")
            .bind(key)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Forget expired keys (run now and then by workers).
    pub async fn purge_idempotency_keys(&self) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM idempotency_keys WHERE expires_at <= $1")
            .bind(now_ms())
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }
}
