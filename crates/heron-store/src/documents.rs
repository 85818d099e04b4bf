//! Documents (one uploaded file: a task row and its blob), their erasure,
//! and retention.
//!
//! Erasing a document deletes its task row (with its result), its job when
//! it was the job's last file (with the job's webhook deliveries and
//! idempotency record, which hold results too), and queues its blob for
//! deletion when no other document has the same bytes — all in one
//! transaction with its audit entry. The blob goes just after the commit;
//! [`Store::drain_blob_deletions`] retries any a crash left behind.

use heron_core::ClassificationResult;
use sqlx::{AssertSqlSafe, Row};

use crate::audit::{Actor, AuditEntry};
use crate::clock::now_ms;
use crate::crypto::{destroy_data_keys, destroy_text_key, shred_document_texts};
use crate::queue::{DocumentText, finish_job_if_settled, from_json};
use crate::{BlobStore, Store, StoreError};

const DAY_MS: i64 = 86_400_000;

/// Everything stored about one document.
#[derive(Debug, Clone)]
pub struct DocumentRecord {
    pub id: String,
    pub job_id: String,
    pub tenant: String,
    pub filename: String,
    pub sha256: String,
    pub size_bytes: u64,
    /// `pending`, `leased`, `done`, `dead`, `cancelled`.
    pub state: String,
    pub result: Option<ClassificationResult>,
    /// The file was removed by the tenant's file retention.
    pub file_purged: bool,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
}

/// A tenant's own settings; `None` fields follow the deployment's.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TenantSettings {
    pub retention_days: Option<u32>,
    /// Days the uploaded file is kept (sooner than the document).
    pub file_retention_days: Option<u32>,
    /// Days the extracted text is kept (sooner than the document).
    pub text_retention_days: Option<u32>,
    /// Keep only the redacted form of extracted text.
    pub store_redacted_text: bool,
}

impl Store {
    /// A document of `tenant`; `None` for an unknown id and for another
    /// tenant's (the two must be indistinguishable).
    pub async fn document(
        &self,
        tenant: &str,
        id: &str,
    ) -> Result<Option<DocumentRecord>, StoreError> {
        let Some(row) = sqlx::query(
            "SELECT t.id, t.job_id, j.tenant_id, t.filename, t.sha256, t.size_bytes, t.state,
                    t.result_json, t.created_at, t.updated_at, t.file_purged_at
               FROM tasks t JOIN jobs j ON j.id = t.job_id
              WHERE t.id = $1 AND j.tenant_id = $2",
        )
        .bind(id)
        .bind(tenant)
        .fetch_optional(&self.pool)
        .await?
        else {
            return Ok(None);
        };
        let result: Option<String> = row.try_get("result_json")?;
        Ok(Some(DocumentRecord {
            id: row.try_get("id")?,
            job_id: row.try_get("job_id")?,
            tenant: row.try_get("tenant_id")?,
            filename: row.try_get("filename")?,
            sha256: row.try_get("sha256")?,
            size_bytes: row.try_get::<i64, _>("size_bytes")?.max(0) as u64,
            state: row.try_get("state")?,
            result: result.as_deref().map(from_json).transpose()?,
            file_purged: row.try_get::<Option<i64>, _>("file_purged_at")?.is_some(),
            created_at_ms: row.try_get("created_at")?,
            updated_at_ms: row.try_get("updated_at")?,
        }))
    }

    /// Erase a document of `tenant` everywhere (see the module docs),
    /// recording `action` (`document.erase` or `document.purge`). False
    /// when the tenant has no such document. The blob is deleted from
    /// `blobs` before this returns, unless another document shares it.
    pub async fn erase_document(
        &self,
        blobs: &BlobStore,
        tenant: &str,
        id: &str,
        actor: &Actor,
        action: &str,
    ) -> Result<bool, StoreError> {
        let mut transaction = self.pool.begin().await?;
        // A write first: SQLite takes its write lock before anything is
        // read. The search rows of another tenant's id are left alone.
        sqlx::query(
            "DELETE FROM document_field_values WHERE task_id = $1
               AND task_id IN (SELECT t.id FROM tasks t JOIN jobs j ON j.id = t.job_id WHERE j.tenant_id = $2)",
        )
        .bind(id)
        .bind(tenant)
        .execute(&mut *transaction)
        .await?;
        let owned: Option<String> = sqlx::query_scalar(
            "SELECT t.id FROM tasks t JOIN jobs j ON j.id = t.job_id WHERE t.id = $1 AND j.tenant_id = $2",
        )
        .bind(id)
        .bind(tenant)
        .fetch_optional(&mut *transaction)
        .await?;
        if owned.is_some() {
            self.unindex_document(&mut transaction, id).await?;
            shred_document_texts(&mut transaction, id).await?;
        }
        let Some((job_id, sha256, size_bytes, created_at)): Option<(String, String, i64, i64)> =
            sqlx::query_as(
                "DELETE FROM tasks
                  WHERE id = $1 AND job_id IN (SELECT id FROM jobs WHERE tenant_id = $2)
              RETURNING job_id, sha256, size_bytes, created_at",
            )
            .bind(id)
            .bind(tenant)
            .fetch_optional(&mut *transaction)
            .await?
        else {
            return Ok(false);
        };
        // Its bytes stay counted by the quota for the day they came in.
        sqlx::query("INSERT INTO tenant_usage (tenant_id, bytes, at) VALUES ($1, $2, $3)")
            .bind(tenant)
            .bind(size_bytes)
            .bind(created_at)
            .execute(&mut *transaction)
            .await?;
        // A stored answer to an idempotent request carries the result.
        sqlx::query("DELETE FROM idempotency_keys WHERE job_id = $1")
            .bind(&job_id)
            .execute(&mut *transaction)
            .await?;
        let remaining: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM tasks WHERE job_id = $1")
            .bind(&job_id)
            .fetch_one(&mut *transaction)
            .await?;
        let now = now_ms();
        if remaining == 0 {
            sqlx::query("DELETE FROM jobs WHERE id = $1")
                .bind(&job_id)
                .execute(&mut *transaction)
                .await?;
        } else {
            sqlx::query(
                "UPDATE jobs SET total_files = total_files - 1, updated_at = $1 WHERE id = $2",
            )
            .bind(now)
            .bind(&job_id)
            .execute(&mut *transaction)
            .await?;
            finish_job_if_settled(&mut transaction, &job_id, now).await?;
        }
        let shared: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM tasks WHERE sha256 = $1 AND file_purged_at IS NULL",
        )
        .bind(&sha256)
        .fetch_one(&mut *transaction)
        .await?;
        if shared == 0 {
            queue_blob_deletion(&mut transaction, &sha256, now).await?;
        }
        let entry = AuditEntry::ok(tenant, actor, action, format!("document:{id}"))
            .with_detail(serde_json::json!({ "job_id": job_id, "job_erased": remaining == 0 }));
        self.commit_audited(transaction, &entry).await?;
        if shared == 0 {
            self.drain_blob_deletions(blobs).await?;
        }
        Ok(true)
    }

    /// Delete the queued blobs that still no task or unfinished upload
    /// refers to (a new upload of the same bytes keeps its blob). Returns how many were deleted.
    pub async fn drain_blob_deletions(&self, blobs: &BlobStore) -> Result<u64, StoreError> {
        let queued: Vec<(String,)> =
            sqlx::query_as("SELECT sha256 FROM blob_deletions ORDER BY queued_at LIMIT 500")
                .fetch_all(&self.pool)
                .await?;
        let mut deleted = 0;
        for (sha256,) in queued {
            // A document's file, or a piece of an upload still arriving.
            let used: i64 = sqlx::query_scalar(
                "SELECT (SELECT COUNT(*) FROM tasks WHERE sha256 = $1 AND file_purged_at IS NULL)
                      + (SELECT COUNT(*) FROM upload_parts WHERE sha256 = $1)",
            )
            .bind(&sha256)
            .fetch_one(&self.pool)
            .await?;
            if used == 0 {
                // Its data key first: were the deletion to fail, or the
                // object to live on in a bucket's old versions or a copy of
                // the files, it can no longer be opened.
                if let Some(key) = blobs.data_key_id(&sha256).await? {
                    let mut transaction = self.pool.begin().await?;
                    destroy_data_keys(&mut transaction, [key.as_str()]).await?;
                    transaction.commit().await?;
                }
                blobs.remove(&sha256).await?;
                deleted += 1;
            }
            sqlx::query("DELETE FROM blob_deletions WHERE sha256 = $1")
                .bind(&sha256)
                .execute(&self.pool)
                .await?;
        }
        Ok(deleted)
    }

    /// Documents past their tenant's retention (or `default_days` for
    /// tenants without one) whose processing is over, oldest first: (tenant,
    /// document id).
    pub async fn expired_documents(
        &self,
        default_days: Option<u32>,
        limit: u32,
    ) -> Result<Vec<(String, String)>, StoreError> {
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT j.tenant_id, t.id
               FROM tasks t JOIN jobs j ON j.id = t.job_id
               LEFT JOIN tenant_settings s ON s.tenant_id = j.tenant_id
              WHERE t.state IN ('done', 'dead', 'cancelled')
                AND COALESCE(s.retention_days, $1) IS NOT NULL
                AND t.created_at < $2 - COALESCE(s.retention_days, $1) * $3
              ORDER BY t.created_at LIMIT $4",
        )
        .bind(default_days.map(i64::from))
        .bind(now_ms())
        .bind(DAY_MS)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows)
    }

    /// Erase every expired document (`document.purge` in the audit log);
    /// returns how many.
    pub async fn purge_expired(
        &self,
        blobs: &BlobStore,
        default_days: Option<u32>,
    ) -> Result<u64, StoreError> {
        let actor = Actor::system("retention");
        let mut purged = 0;
        loop {
            let expired = self.expired_documents(default_days, 200).await?;
            if expired.is_empty() {
                break;
            }
            for (tenant, id) in &expired {
                if self
                    .erase_document(blobs, tenant, id, &actor, "document.purge")
                    .await?
                {
                    purged += 1;
                }
            }
        }
        purged += self.purge_expired_parts(&actor).await?;
        self.drain_blob_deletions(blobs).await?;
        Ok(purged)
    }

    /// Files and texts past their tenant's shorter retention: the text row
    /// deleted (`document.text_purge`), the file marked purged and queued
    /// for deletion when no other document needs it (`document.file_purge`).
    /// The documents and results stay.
    async fn purge_expired_parts(&self, actor: &Actor) -> Result<u64, StoreError> {
        let mut purged = 0;
        let now = now_ms();
        for (part, days_column, pending) in [
            (
                "text",
                "text_retention_days",
                "EXISTS (SELECT 1 FROM document_texts d WHERE d.task_id = t.id)",
            ),
            ("file", "file_retention_days", "t.file_purged_at IS NULL"),
        ] {
            // Built from the constants above only.
            let sql = format!(
                "SELECT j.tenant_id, t.id, t.sha256
                   FROM tasks t JOIN jobs j ON j.id = t.job_id
                   JOIN tenant_settings s ON s.tenant_id = j.tenant_id
                  WHERE s.{days_column} IS NOT NULL
                    AND t.created_at < $1 - s.{days_column} * $2
                    AND t.state IN ('done', 'dead', 'cancelled') AND {pending}
                  ORDER BY t.created_at LIMIT 500"
            );
            let due: Vec<(String, String, String)> = sqlx::query_as(AssertSqlSafe(sql))
                .bind(now)
                .bind(DAY_MS)
                .fetch_all(&self.pool)
                .await?;
            for (tenant, id, sha256) in due {
                let mut transaction = self.pool.begin().await?;
                if part == "text" {
                    self.unindex_document(&mut transaction, &id).await?;
                    // What was read from the text goes with it.
                    shred_document_texts(&mut transaction, &id).await?;
                } else {
                    sqlx::query("UPDATE tasks SET file_purged_at = $1 WHERE id = $2")
                        .bind(now)
                        .bind(&id)
                        .execute(&mut *transaction)
                        .await?;
                    queue_blob_deletion(&mut transaction, &sha256, now).await?;
                }
                let action = format!("document.{part}_purge");
                let entry = AuditEntry::ok(&tenant, actor, &action, format!("document:{id}"));
                self.commit_audited(transaction, &entry).await?;
                purged += 1;
            }
        }
        Ok(purged)
    }

    /// How many documents `tenant` has stored now.
    pub async fn stored_documents(&self, tenant: &str) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT COUNT(*) FROM tasks t JOIN jobs j ON j.id = t.job_id WHERE j.tenant_id = $1",
        )
        .bind(tenant)
        .fetch_one(&self.pool)
        .await?)
    }

    /// Personal data found in `tenant`'s documents uploaded in `[from,
    /// to)` and still stored, summed by kind (read from their results, a
    /// page at a time).
    pub async fn pii_totals(
        &self,
        tenant: &str,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<std::collections::BTreeMap<String, u64>, StoreError> {
        let mut totals = std::collections::BTreeMap::new();
        let mut after = String::new();
        loop {
            let page: Vec<(String, String)> = sqlx::query_as(
                "SELECT t.id, t.result_json FROM tasks t JOIN jobs j ON j.id = t.job_id
                  WHERE j.tenant_id = $1 AND t.created_at >= $2 AND t.created_at < $3
                    AND t.result_json IS NOT NULL AND t.id > $4
                  ORDER BY t.id LIMIT 500",
            )
            .bind(tenant)
            .bind(from_ms)
            .bind(to_ms)
            .bind(&after)
            .fetch_all(&self.pool)
            .await?;
            let Some((last, _)) = page.last() else {
                break;
            };
            after = last.clone();
            for (_, json) in &page {
                for (kind, count) in from_json(json)?.pii {
                    *totals.entry(kind).or_insert(0) += u64::from(count);
                }
            }
        }
        Ok(totals)
    }

    /// Bytes `tenant` uploaded since `since_ms` (the daily quota): the
    /// files of its jobs, and the declared length of each resumable or
    /// presigned upload it opened and has not finished or let expire (so
    /// that many uploads opened at once cannot each pass the quota alone;
    /// a finished one counts once, as its job's file).
    pub async fn tenant_upload_bytes_since(
        &self,
        tenant: &str,
        since_ms: i64,
    ) -> Result<u64, StoreError> {
        let total: i64 = sqlx::query_scalar(
            "SELECT CAST(
                (SELECT COALESCE(SUM(t.size_bytes), 0) FROM tasks t JOIN jobs j ON j.id = t.job_id
                  WHERE j.tenant_id = $1 AND j.created_at >= $2)
              + (SELECT COALESCE(SUM(u.length), 0) FROM uploads u
                  WHERE u.tenant_id = $1 AND u.state = 'receiving'
                    AND u.created_at >= $2 AND u.expires_at > $3)
              + (SELECT COALESCE(SUM(g.bytes), 0) FROM tenant_usage g
                  WHERE g.tenant_id = $1 AND g.at >= $2)
              AS BIGINT)",
        )
        .bind(tenant)
        .bind(since_ms)
        .bind(now_ms())
        .fetch_one(&self.pool)
        .await?;
        Ok(total.max(0) as u64)
    }

    /// Count `bytes` against `tenant`'s upload quota without a stored
    /// document: files read by `/v1/compare`.
    pub async fn record_usage(&self, tenant: &str, bytes: u64) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO tenant_usage (tenant_id, bytes, at) VALUES ($1, $2, $3)")
            .bind(tenant)
            .bind(i64::try_from(bytes).unwrap_or(i64::MAX))
            .bind(now_ms())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Forget usage recorded before `before_ms` (past every quota window).
    pub async fn forget_usage_before(&self, before_ms: i64) -> Result<u64, StoreError> {
        Ok(sqlx::query("DELETE FROM tenant_usage WHERE at < $1")
            .bind(before_ms)
            .execute(&self.pool)
            .await?
            .rows_affected())
    }

    pub async fn tenant_settings(&self, tenant: &str) -> Result<TenantSettings, StoreError> {
        let Some(row) = sqlx::query(
            "SELECT retention_days, file_retention_days, text_retention_days, store_redacted_text
               FROM tenant_settings WHERE tenant_id = $1",
        )
        .bind(tenant)
        .fetch_optional(&self.pool)
        .await?
        else {
            return Ok(TenantSettings::default());
        };
        let days = |column: &str| -> Result<Option<u32>, StoreError> {
            Ok(row
                .try_get::<Option<i64>, _>(column)?
                .map(|d| u32::try_from(d).unwrap_or(u32::MAX)))
        };
        Ok(TenantSettings {
            retention_days: days("retention_days")?,
            file_retention_days: days("file_retention_days")?,
            text_retention_days: days("text_retention_days")?,
            store_redacted_text: row.try_get::<i64, _>("store_redacted_text")? != 0,
        })
    }

    /// Store a document's text within `transaction` (sealed when a master
    /// key is configured).
    pub(crate) async fn insert_text(
        &self,
        transaction: &mut sqlx::Transaction<'_, sqlx::Any>,
        task_id: &str,
        text: DocumentText<'_>,
    ) -> Result<(), StoreError> {
        destroy_text_key(transaction, "document_texts", task_id).await?;
        let body = self.seal_text(transaction, text.text).await?;
        sqlx::query(
            "INSERT INTO document_texts (task_id, body, redacted) VALUES ($1, $2, $3)
             ON CONFLICT (task_id) DO UPDATE SET body = $2, redacted = $3",
        )
        .bind(task_id)
        .bind(body)
        .bind(i64::from(text.redacted))
        .execute(&mut **transaction)
        .await?;
        if let Some(analysis) = text.analysis {
            self.insert_analysis(transaction, task_id, analysis).await?;
        }
        Ok(())
    }

    /// The stored text of a document, whoever's it is: for the worker that
    /// reuses a result of the same tenant (never for answering a request).
    pub async fn text_of_task(&self, id: &str) -> Result<Option<(String, bool)>, StoreError> {
        let row: Option<(String, i64)> =
            sqlx::query_as("SELECT body, redacted FROM document_texts WHERE task_id = $1")
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
        match row {
            Some((body, redacted)) => Ok(Some((self.open_text(&body).await?, redacted != 0))),
            None => Ok(None),
        }
    }

    /// The stored text of `tenant`'s document and whether it was stored
    /// redacted; `None` for an unknown or foreign document or one without
    /// text.
    pub async fn document_text(
        &self,
        tenant: &str,
        id: &str,
    ) -> Result<Option<(String, bool)>, StoreError> {
        let row: Option<(String, i64)> = sqlx::query_as(
            "SELECT d.body, d.redacted FROM document_texts d
               JOIN tasks t ON t.id = d.task_id JOIN jobs j ON j.id = t.job_id
              WHERE d.task_id = $1 AND j.tenant_id = $2",
        )
        .bind(id)
        .bind(tenant)
        .fetch_optional(&self.pool)
        .await?;
        let Some((body, redacted)) = row else {
            return Ok(None);
        };
        Ok(Some((self.open_text(&body).await?, redacted != 0)))
    }

    /// Replace a tenant's settings, recording `tenant.settings`.
    pub async fn set_tenant_settings(
        &self,
        tenant: &str,
        settings: TenantSettings,
        actor: &Actor,
    ) -> Result<(), StoreError> {
        let mut transaction = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO tenant_settings (tenant_id, retention_days, store_redacted_text, updated_at,
                                         file_retention_days, text_retention_days)
             VALUES ($1, $2, $4, $3, $5, $6)
             ON CONFLICT (tenant_id) DO UPDATE
                SET retention_days = $2, store_redacted_text = $4, updated_at = $3,
                    file_retention_days = $5, text_retention_days = $6",
        )
        .bind(tenant)
        .bind(settings.retention_days.map(i64::from))
        .bind(now_ms())
        .bind(i64::from(settings.store_redacted_text))
        .bind(settings.file_retention_days.map(i64::from))
        .bind(settings.text_retention_days.map(i64::from))
        .execute(&mut *transaction)
        .await?;
        let entry = AuditEntry::ok(tenant, actor, "tenant.settings", format!("tenant:{tenant}"))
            .with_detail(serde_json::json!({
                "retention_days": settings.retention_days,
                "file_retention_days": settings.file_retention_days,
                "text_retention_days": settings.text_retention_days,
                "store_redacted_text": settings.store_redacted_text,
            }));
        self.commit_audited(transaction, &entry).await?;
        Ok(())
    }
}

/// Queue a blob for deletion within `transaction`; the drain re-checks
/// that no document needs it before deleting.
pub(crate) async fn queue_blob_deletion(
    transaction: &mut sqlx::Transaction<'_, sqlx::Any>,
    sha256: &str,
    now: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO blob_deletions (sha256, queued_at) VALUES ($1, $2)
         ON CONFLICT (sha256) DO NOTHING",
    )
    .bind(sha256)
    .bind(now)
    .execute(&mut **transaction)
    .await?;
    Ok(())
}
