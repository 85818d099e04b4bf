//! Uploads that arrive in pieces, before they become a job.
//!
//! A *chunked* upload (the tus protocol of `heron-server`) declares its
//! length, then receives its bytes in any number of requests; each
//! request's bytes are stored as a blob (a *part*) and the upload's
//! offset moves past them in one conditional update, so two requests
//! racing for the same offset cannot both land. A *presigned* upload is
//! one object that the client puts straight into the bucket. Either is
//! completed by creating the job that classifies the assembled file, in
//! the transaction that marks the upload complete, so an upload becomes
//! at most one job. Unfinished uploads expire; their parts are queued for
//! deletion like any blob no document needs.

use sqlx::Row;

use crate::clock::now_ms;
use crate::documents::queue_blob_deletion;
use crate::queue::NewJob;
use crate::{Actor, AuditEntry, Store, StoreError};

/// How the bytes of an upload arrive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UploadKind {
    /// In parts, through the API (resumable).
    Chunked,
    /// As one object put into the bucket with a presigned URL.
    Presigned,
}

impl UploadKind {
    fn as_str(self) -> &'static str {
        match self {
            UploadKind::Chunked => "chunked",
            UploadKind::Presigned => "presigned",
        }
    }
}

/// An upload to create.
#[derive(Debug, Clone)]
pub struct NewUpload {
    pub id: String,
    pub tenant: String,
    pub actor: String,
    pub kind: UploadKind,
    pub filename: String,
    pub length: u64,
    pub request_id: String,
    /// Unix milliseconds after which an unfinished upload is dropped.
    pub expires_at: i64,
}

/// An upload as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadRecord {
    pub id: String,
    pub tenant: String,
    pub actor: String,
    pub kind: UploadKind,
    pub filename: String,
    pub length: u64,
    pub received: u64,
    /// Set once complete: the job classifying the file.
    pub job_id: Option<String>,
    pub created_at: i64,
    pub expires_at: i64,
}

impl UploadRecord {
    pub fn is_complete(&self) -> bool {
        self.job_id.is_some()
    }
}

/// A stored piece of a chunked upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadPart {
    pub first_byte: u64,
    pub sha256: String,
    pub size_bytes: u64,
}

/// What became of a completion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Completion {
    /// This call created the job.
    Created,
    /// Another request completed the upload first, with this job.
    AlreadyComplete(String),
    /// The upload was dropped (terminated or expired) meanwhile.
    Gone,
}

impl Store {
    /// Record a new upload, with its audit entry.
    pub async fn create_upload(&self, upload: &NewUpload) -> Result<(), StoreError> {
        let mut transaction = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO uploads (id, tenant_id, actor, kind, filename, length, received, state,
                                  request_id, created_at, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6, 0, 'receiving', $7, $8, $9)",
        )
        .bind(&upload.id)
        .bind(&upload.tenant)
        .bind(&upload.actor)
        .bind(upload.kind.as_str())
        .bind(&upload.filename)
        .bind(upload.length as i64)
        .bind(&upload.request_id)
        .bind(now_ms())
        .bind(upload.expires_at)
        .execute(&mut *transaction)
        .await?;
        let actor = Actor {
            id: upload.actor.clone(),
            request_id: upload.request_id.clone(),
        };
        let entry = AuditEntry::ok(
            &upload.tenant,
            &actor,
            "upload.create",
            format!("upload:{}", upload.id),
        )
        .with_detail(serde_json::json!({
            "kind": upload.kind.as_str(),
            "length": upload.length,
            "request_id": upload.request_id,
        }));
        self.commit_audited(transaction, &entry).await
    }

    /// The upload `id` of `tenant` (another tenant's is not found).
    pub async fn upload(&self, tenant: &str, id: &str) -> Result<Option<UploadRecord>, StoreError> {
        let row = sqlx::query(
            "SELECT id, tenant_id, actor, kind, filename, length, received, job_id, created_at,
                    expires_at
               FROM uploads WHERE id = $1 AND tenant_id = $2",
        )
        .bind(id)
        .bind(tenant)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| {
            let kind: String = row.try_get("kind")?;
            Ok(UploadRecord {
                id: row.try_get("id")?,
                tenant: row.try_get("tenant_id")?,
                actor: row.try_get("actor")?,
                kind: if kind == "presigned" {
                    UploadKind::Presigned
                } else {
                    UploadKind::Chunked
                },
                filename: row.try_get("filename")?,
                length: row.try_get::<i64, _>("length")? as u64,
                received: row.try_get::<i64, _>("received")? as u64,
                job_id: row.try_get("job_id")?,
                created_at: row.try_get("created_at")?,
                expires_at: row.try_get("expires_at")?,
            })
        })
        .transpose()
    }

    /// Record a stored part at `first_byte`, moving the upload's offset
    /// past it — only if the offset is still `first_byte` and the upload
    /// is still receiving and unexpired. False when another request got
    /// there first (the caller's part blob is then queued for deletion).
    pub async fn append_upload_part(
        &self,
        id: &str,
        part: &UploadPart,
    ) -> Result<bool, StoreError> {
        let now = now_ms();
        let mut transaction = self.pool.begin().await?;
        let moved = sqlx::query(
            "UPDATE uploads SET received = received + $1
              WHERE id = $2 AND received = $3 AND state = 'receiving'
                AND received + $1 <= length AND expires_at > $4",
        )
        .bind(part.size_bytes as i64)
        .bind(id)
        .bind(part.first_byte as i64)
        .bind(now)
        .execute(&mut *transaction)
        .await?;
        if moved.rows_affected() == 1 {
            sqlx::query(
                "INSERT INTO upload_parts (upload_id, first_byte, sha256, size_bytes)
                 VALUES ($1, $2, $3, $4)",
            )
            .bind(id)
            .bind(part.first_byte as i64)
            .bind(&part.sha256)
            .bind(part.size_bytes as i64)
            .execute(&mut *transaction)
            .await?;
        } else {
            queue_blob_deletion(&mut transaction, &part.sha256, now).await?;
        }
        transaction.commit().await?;
        Ok(moved.rows_affected() == 1)
    }

    /// The parts of an upload in offset order.
    pub async fn upload_parts(&self, id: &str) -> Result<Vec<UploadPart>, StoreError> {
        let rows: Vec<(i64, String, i64)> = sqlx::query_as(
            "SELECT first_byte, sha256, size_bytes FROM upload_parts
              WHERE upload_id = $1 ORDER BY first_byte",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(first_byte, sha256, size_bytes)| UploadPart {
                first_byte: first_byte as u64,
                sha256,
                size_bytes: size_bytes as u64,
            })
            .collect())
    }

    /// Mark the upload complete and create `job` (its one task is the
    /// assembled file) in one transaction; the parts' blobs are queued
    /// for deletion (the drain keeps any a document or another upload
    /// still needs).
    pub async fn complete_upload(&self, id: &str, job: &NewJob) -> Result<Completion, StoreError> {
        let parts = self.upload_parts(id).await?;
        let mut transaction = self.pool.begin().await?;
        let marked = sqlx::query(
            "UPDATE uploads SET state = 'complete', job_id = $1
              WHERE id = $2 AND state = 'receiving'",
        )
        .bind(&job.id)
        .bind(id)
        .execute(&mut *transaction)
        .await?;
        if marked.rows_affected() == 0 {
            transaction.rollback().await?;
            let existing: Option<(Option<String>,)> =
                sqlx::query_as("SELECT job_id FROM uploads WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await?;
            return match existing.and_then(|(job,)| job) {
                Some(job) => Ok(Completion::AlreadyComplete(job)),
                None => Ok(Completion::Gone),
            };
        }
        self.insert_job(&mut transaction, job).await?;
        release_parts(&mut transaction, id, &parts).await?;
        transaction.commit().await?;
        Ok(Completion::Created)
    }

    /// Drop an unfinished upload (the client terminated it, or it
    /// expired), queueing its parts for deletion; with `upload.delete` in
    /// the audit log. False when there was nothing unfinished to drop.
    pub async fn drop_upload(
        &self,
        tenant: &str,
        id: &str,
        actor: &Actor,
    ) -> Result<bool, StoreError> {
        let parts = self.upload_parts(id).await?;
        let mut transaction = self.pool.begin().await?;
        let dropped = sqlx::query(
            "DELETE FROM uploads WHERE id = $1 AND tenant_id = $2 AND state = 'receiving'",
        )
        .bind(id)
        .bind(tenant)
        .execute(&mut *transaction)
        .await?;
        if dropped.rows_affected() == 0 {
            transaction.rollback().await?;
            return Ok(false);
        }
        release_parts(&mut transaction, id, &parts).await?;
        let entry = AuditEntry::ok(tenant, actor, "upload.delete", format!("upload:{id}"));
        self.commit_audited(transaction, &entry).await?;
        Ok(true)
    }

    /// Unfinished uploads past their expiry, and completed ones a week
    /// past it (their record only tells the client its job): (tenant,
    /// id, kind), at most `limit`.
    pub async fn expired_uploads(
        &self,
        limit: u32,
    ) -> Result<Vec<(String, String, UploadKind)>, StoreError> {
        const WEEK_MS: i64 = 7 * 86_400_000;
        let now = now_ms();
        let rows: Vec<(String, String, String)> = sqlx::query_as(
            "SELECT tenant_id, id, kind FROM uploads
              WHERE (state = 'receiving' AND expires_at <= $1)
                 OR (state = 'complete' AND expires_at <= $2)
              ORDER BY expires_at LIMIT $3",
        )
        .bind(now)
        .bind(now - WEEK_MS)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(tenant, id, kind)| {
                let kind = if kind == "presigned" {
                    UploadKind::Presigned
                } else {
                    UploadKind::Chunked
                };
                (tenant, id, kind)
            })
            .collect())
    }

    /// Queue a blob that may be needed by nothing (a refused upload's) for
    /// deletion; the drain keeps it if something does need it.
    pub async fn queue_unused_blob(&self, sha256: &str) -> Result<(), StoreError> {
        let mut transaction = self.pool.begin().await?;
        queue_blob_deletion(&mut transaction, sha256, now_ms()).await?;
        transaction.commit().await?;
        Ok(())
    }

    /// Forget a completed upload's record.
    pub async fn forget_upload(&self, id: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM uploads WHERE id = $1 AND state = 'complete'")
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}

/// Forget an upload's parts within `transaction`, queueing their blobs for
/// deletion (the drain keeps any that a document or another upload needs).
async fn release_parts(
    transaction: &mut sqlx::Transaction<'_, sqlx::Any>,
    id: &str,
    parts: &[UploadPart],
) -> Result<(), StoreError> {
    let now = now_ms();
    for part in parts {
        queue_blob_deletion(transaction, &part.sha256, now).await?;
    }
    sqlx::query("DELETE FROM upload_parts WHERE upload_id = $1")
        .bind(id)
        .execute(&mut **transaction)
        .await?;
    Ok(())
}
