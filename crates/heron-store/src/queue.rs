//! The task lifecycle: create a job with its tasks, claim a task under a
//! lease, renew it, complete it (or put it back for a later retry, or bury
//! it in the dead-letter state), hand leases back.
//!
//! A claim is one `UPDATE … WHERE id = (SELECT … LIMIT 1) RETURNING`
//! statement. SQLite serialises writers, so it hands each task to exactly
//! one worker; on PostgreSQL the sub-select takes the row with `FOR UPDATE
//! SKIP LOCKED` (concurrent claimers skip each other's rows instead of
//! queueing behind them) and the outer `WHERE` checks the state again, so a
//! row that changed under a claimer is never claimed twice.

use std::path::Path;
use std::time::Duration;

use heron_core::ClassificationResult;
use sqlx::any::AnyRow;
use sqlx::{AnyPool, AssertSqlSafe, Row};

use crate::StoreError;
use crate::audit::AuditEntry;
use crate::clock::{ms, now_ms};
use crate::db::{self, Backend, PoolConfig};

/// The metadata database and queue.
#[derive(Debug, Clone)]
pub struct Store {
    pub(crate) pool: AnyPool,
    backend: Backend,
    /// Set: texts and blobs written from now on are encrypted.
    pub(crate) master: Option<std::sync::Arc<crate::crypto::MasterKey>>,
    /// Set: audit entries written from now on are keyed with it.
    pub(crate) audit_key: Option<std::sync::Arc<crate::audit::AuditKey>>,
}

/// A job to create: one per upload request.
#[derive(Debug, Clone)]
pub struct NewJob {
    pub id: String,
    /// Whose job it is: every read of it is scoped to this tenant.
    pub tenant: String,
    /// Who created it, for the audit log (`job.create`, recorded with it).
    pub actor: String,
    pub request_id: String,
    /// Answered within the request (≤ the sync limit); its tasks are
    /// created already leased by `lease_owner`.
    pub synchronous: bool,
    pub lease_owner: Option<String>,
    pub lease: Duration,
    pub tasks: Vec<NewTask>,
    /// Told when the job finishes (checked by the caller: http(s), not a
    /// link-local or metadata address).
    pub callback_url: Option<String>,
    /// W3C `traceparent` of the creating request, when traces are on.
    pub trace_context: Option<String>,
}

/// One uploaded file of a job.
#[derive(Debug, Clone)]
pub struct NewTask {
    pub id: String,
    pub filename: String,
    pub sha256: String,
    pub size_bytes: u64,
}

/// A document's extracted text, to store with its result.
#[derive(Debug, Clone, Copy)]
pub struct DocumentText<'a> {
    pub text: &'a str,
    /// Personal data was replaced by placeholders before storing.
    pub redacted: bool,
    /// What was read from the text, and its fingerprints.
    pub analysis: Option<&'a crate::DocumentAnalysis>,
}

/// A task handed to a worker under a lease.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimedTask {
    pub id: String,
    pub job_id: String,
    pub position: i64,
    pub filename: String,
    pub sha256: String,
    pub size_bytes: u64,
    /// Including this one.
    pub attempts: u32,
    pub request_id: String,
    /// The job's W3C `traceparent`, if the request was traced.
    pub trace_context: Option<String>,
    pub tenant: String,
}

/// The columns of a [`ClaimedTask`], for every statement that returns one.
const TASK_COLUMNS: &str = "t.id, t.job_id, t.position, t.filename, t.sha256, t.size_bytes, \
                            t.attempts, j.request_id, j.trace_context, j.tenant_id";

impl Store {
    /// Open the database named by `url` (`sqlite://path`,
    /// `postgres://…`), or `<data_dir>/heron.db` when no URL is given; run
    /// migrations.
    pub async fn open(url: Option<&str>, data_dir: &Path) -> Result<Store, StoreError> {
        Self::open_with(url, data_dir, PoolConfig::default()).await
    }

    /// [`Store::open`] with explicit pool limits.
    pub async fn open_with(
        url: Option<&str>,
        data_dir: &Path,
        config: PoolConfig,
    ) -> Result<Store, StoreError> {
        let (url, backend) = db::resolve_url(url, data_dir)?;
        let pool = db::connect(&url, backend, config).await?;
        let store = Store {
            pool,
            backend,
            master: None,
            audit_key: None,
        };
        store.ensure_search_schema().await?;
        Ok(store)
    }

    /// The connection pool, for tests that must write behind the store's
    /// back (tampering with the audit log, ageing rows).
    #[doc(hidden)]
    pub fn pool_for_tests(&self) -> &AnyPool {
        &self.pool
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// A trivial query, for readiness.
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Create a job and all its tasks in one transaction, with its audit
    /// entry: a job exists with every file or not at all.
    pub async fn create_job(&self, job: &NewJob) -> Result<(), StoreError> {
        let mut transaction = self.pool.begin().await?;
        self.insert_job(&mut transaction, job).await?;
        transaction.commit().await?;
        Ok(())
    }

    /// Claim the oldest available task for `owner`: a pending one whose
    /// retry time has come, or one whose lease expired (its worker died).
    /// Tasks that have used up `max_attempts` are left for
    /// [`Store::exhausted_tasks`].
    pub async fn claim(
        &self,
        owner: &str,
        lease: Duration,
        max_attempts: u32,
    ) -> Result<Option<ClaimedTask>, StoreError> {
        const CLAIMABLE: &str = "attempts < $4
             AND ((state = 'pending' AND available_at <= $3)
               OR (state = 'leased' AND lease_expires_at <= $3))";
        let lock = self.backend.row_lock();
        let sql = format!(
            "UPDATE tasks
                SET state = 'leased', lease_owner = $1, lease_expires_at = $2,
                    attempts = attempts + 1, updated_at = $3
              WHERE id = (SELECT id FROM tasks WHERE {CLAIMABLE}
                           ORDER BY created_at, position LIMIT 1 {lock})
                AND {CLAIMABLE}
          RETURNING id, job_id, position, filename, sha256, size_bytes, attempts,
                    (SELECT request_id FROM jobs WHERE jobs.id = tasks.job_id) AS request_id,
                    (SELECT trace_context FROM jobs WHERE jobs.id = tasks.job_id) AS trace_context,
                    (SELECT tenant_id FROM jobs WHERE jobs.id = tasks.job_id) AS tenant_id"
        );
        let now = now_ms();
        // Built from constants only.
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(owner)
            .bind(now + ms(lease))
            .bind(now)
            .bind(i64::from(max_attempts))
            .fetch_optional(&self.pool)
            .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let task = claimed_task(&row)?;
        sqlx::query(
            "UPDATE jobs SET status = 'processing', updated_at = $1 WHERE id = $2 AND status = 'queued'",
        )
        .bind(now)
        .bind(&task.job_id)
        .execute(&self.pool)
        .await?;
        Ok(Some(task))
    }

    /// The tasks of a synchronous job, already leased by `owner`.
    pub async fn leased_tasks(
        &self,
        job_id: &str,
        owner: &str,
    ) -> Result<Vec<ClaimedTask>, StoreError> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {TASK_COLUMNS} FROM tasks t JOIN jobs j ON j.id = t.job_id
              WHERE t.job_id = $1 AND t.lease_owner = $2 AND t.state = 'leased'
              ORDER BY t.position"
        )))
        .bind(job_id)
        .bind(owner)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(claimed_task).collect()
    }

    /// Extend the lease of a task still held by `owner`. False when the
    /// lease was lost (expired and taken by another worker, or the job was
    /// cancelled).
    pub async fn renew(
        &self,
        task_id: &str,
        owner: &str,
        lease: Duration,
    ) -> Result<bool, StoreError> {
        let now = now_ms();
        let done = sqlx::query(
            "UPDATE tasks SET lease_expires_at = $1, updated_at = $2
              WHERE id = $3 AND lease_owner = $4 AND state = 'leased'",
        )
        .bind(now + ms(lease))
        .bind(now)
        .bind(task_id)
        .bind(owner)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Store a task's result and, when it was the job's last open task,
    /// finish the job — in one transaction. Returns false (and stores
    /// nothing) when `owner` no longer holds the lease: another worker has
    /// the task, and its result will be the only one.
    pub async fn complete(
        &self,
        task_id: &str,
        owner: &str,
        result: &ClassificationResult,
    ) -> Result<bool, StoreError> {
        self.complete_reusable(task_id, owner, result, None, None)
            .await
    }

    /// [`Store::complete`], recording `result_key` (see
    /// [`Store::reusable_result`]) and the document's text with the result.
    pub async fn complete_reusable(
        &self,
        task_id: &str,
        owner: &str,
        result: &ClassificationResult,
        result_key: Option<&str>,
        text: Option<DocumentText<'_>>,
    ) -> Result<bool, StoreError> {
        let json = to_json(result)?;
        self.finish_task(task_id, Some(owner), "done", &json, None, result_key, text)
            .await
    }

    /// The latest stored result of `tenant`'s file with these bytes whose
    /// result key is `result_key` (same model, settings and name), if any.
    /// Never another tenant's: whether someone else uploaded a file must
    /// not be observable.
    /// Returns the result and the id of the document it belongs to.
    pub async fn reusable_result(
        &self,
        tenant: &str,
        sha256: &str,
        result_key: &str,
    ) -> Result<Option<(ClassificationResult, String)>, StoreError> {
        let row: Option<(String, String)> = sqlx::query_as(
            "SELECT t.result_json, t.id FROM tasks t JOIN jobs j ON j.id = t.job_id
              WHERE t.sha256 = $1 AND t.result_key = $2 AND t.state = 'done'
                AND t.result_json IS NOT NULL AND j.tenant_id = $3
              ORDER BY t.updated_at DESC LIMIT 1",
        )
        .bind(sha256)
        .bind(result_key)
        .bind(tenant)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|(json, id)| Ok((from_json(&json)?, id)))
            .transpose()
    }

    /// A transient failure (the blob store or database was unreachable, a
    /// pipeline thread died): put the task back, claimable again after
    /// `delay`. False when `owner` no longer held the lease.
    pub async fn retry_later(
        &self,
        task_id: &str,
        owner: &str,
        delay: Duration,
        error: &str,
    ) -> Result<bool, StoreError> {
        let now = now_ms();
        let done = sqlx::query(
            "UPDATE tasks SET state = 'pending', lease_owner = NULL, lease_expires_at = NULL,
                              available_at = $1, last_error = $2, updated_at = $3
              WHERE id = $4 AND lease_owner = $5 AND state = 'leased'",
        )
        .bind(now + ms(delay))
        .bind(error)
        .bind(now)
        .bind(task_id)
        .bind(owner)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Move a task whose attempts ran out to the dead-letter state, with
    /// `result` (which carries the error) so that its job still finishes
    /// with one result per file. An admin may retry it
    /// ([`Store::retry_dead_letter`]). `owner`, when given, must still
    /// hold the lease.
    pub async fn bury(
        &self,
        task_id: &str,
        owner: Option<&str>,
        result: &ClassificationResult,
        reason: &str,
    ) -> Result<bool, StoreError> {
        let json = to_json(result)?;
        self.finish_task(task_id, owner, "dead", &json, Some(reason), None, None)
            .await
    }

    #[allow(clippy::too_many_arguments)]
    async fn finish_task(
        &self,
        task_id: &str,
        owner: Option<&str>,
        state: &str,
        result_json: &str,
        error: Option<&str>,
        result_key: Option<&str>,
        text: Option<DocumentText<'_>>,
    ) -> Result<bool, StoreError> {
        let now = now_ms();
        let mut transaction = self.pool.begin().await?;
        let updated = sqlx::query(
            "UPDATE tasks SET state = $1, result_json = $2, last_error = $3, lease_owner = NULL,
                              lease_expires_at = NULL, updated_at = $4, result_key = $7
              WHERE id = $5 AND state IN ('leased', 'pending') AND ($6 IS NULL OR lease_owner = $6)",
        )
        .bind(state)
        .bind(result_json)
        .bind(error)
        .bind(now)
        .bind(task_id)
        .bind(owner)
        .bind(result_key)
        .execute(&mut *transaction)
        .await?;
        if updated.rows_affected() == 0 {
            return Ok(false);
        }
        if let Some(text) = text {
            self.insert_text(&mut transaction, task_id, text).await?;
        }
        let job_id: String = sqlx::query_scalar("SELECT job_id FROM tasks WHERE id = $1")
            .bind(task_id)
            .fetch_one(&mut *transaction)
            .await?;
        finish_job_if_settled(&mut transaction, &job_id, now).await?;
        transaction.commit().await?;
        Ok(true)
    }

    /// Tasks whose lease expired after their last allowed attempt: their
    /// worker died every time.
    pub async fn exhausted_tasks(&self, max_attempts: u32) -> Result<Vec<ClaimedTask>, StoreError> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {TASK_COLUMNS} FROM tasks t JOIN jobs j ON j.id = t.job_id
              WHERE t.attempts >= $1 AND t.state = 'leased' AND t.lease_expires_at <= $2
              LIMIT 100"
        )))
        .bind(i64::from(max_attempts))
        .bind(now_ms())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(claimed_task).collect()
    }

    /// Return every task leased by `owner` to the queue (graceful shutdown:
    /// another worker picks them up at once). The attempt is not counted.
    pub async fn release(&self, owner: &str) -> Result<u64, StoreError> {
        let done = sqlx::query(
            "UPDATE tasks SET state = 'pending', lease_owner = NULL, lease_expires_at = NULL,
                              attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END,
                              updated_at = $1
              WHERE lease_owner = $2 AND state = 'leased'",
        )
        .bind(now_ms())
        .bind(owner)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }

    /// Hand back every lease whose owner id starts with `prefix` (all of a
    /// process's workers and requests).
    pub async fn release_prefix(&self, prefix: &str) -> Result<u64, StoreError> {
        let done = sqlx::query(
            "UPDATE tasks SET state = 'pending', lease_owner = NULL, lease_expires_at = NULL, updated_at = $1
              WHERE state = 'leased' AND substr(lease_owner, 1, CAST($3 AS INTEGER)) = $2",
        )
        .bind(now_ms())
        .bind(prefix)
        .bind(prefix.chars().count() as i64)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }

    /// Hand back every lease. Only for a process that knows it is the only
    /// one using this database (the embedded SQLite mode holds a lock on the
    /// data directory): leases left by its crashed predecessor are resumed
    /// at once instead of after they expire. The attempt stays counted, so a
    /// file that crashes the process every time is eventually given up.
    pub async fn release_all(&self) -> Result<u64, StoreError> {
        let done = sqlx::query(
            "UPDATE tasks SET state = 'pending', lease_owner = NULL, lease_expires_at = NULL, updated_at = $1
              WHERE state = 'leased'",
        )
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }

    /// Close the pool (SQLite checkpoints its write-ahead log).
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

impl Store {
    /// Insert a job and its tasks within `transaction`.
    pub(crate) async fn insert_job(
        &self,
        transaction: &mut sqlx::Transaction<'_, sqlx::Any>,
        job: &NewJob,
    ) -> Result<(), StoreError> {
        let now = now_ms();
        sqlx::query(
            "INSERT INTO jobs (id, status, total_files, request_id, synchronous, callback_url,
                               trace_context, tenant_id, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $7, $8, $9, $6, $6)",
        )
        .bind(&job.id)
        .bind(if job.synchronous {
            "processing"
        } else {
            "queued"
        })
        .bind(job.tasks.len() as i64)
        .bind(&job.request_id)
        .bind(i64::from(job.synchronous))
        .bind(now)
        .bind(job.callback_url.as_deref())
        .bind(job.trace_context.as_deref())
        .bind(&job.tenant)
        .execute(&mut **transaction)
        .await?;
        let (state, expires) = match &job.lease_owner {
            Some(_) => ("leased", Some(now + ms(job.lease))),
            None => ("pending", None),
        };
        for (position, task) in job.tasks.iter().enumerate() {
            sqlx::query(
                "INSERT INTO tasks (id, job_id, position, filename, sha256, size_bytes, state, attempts,
                                    lease_owner, lease_expires_at, available_at, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11, $11)",
            )
            .bind(&task.id)
            .bind(&job.id)
            .bind(position as i64)
            .bind(&task.filename)
            .bind(&task.sha256)
            .bind(task.size_bytes as i64)
            .bind(state)
            .bind(i64::from(job.lease_owner.is_some()))
            .bind(&job.lease_owner)
            .bind(expires)
            .bind(now)
            .execute(&mut **transaction)
            .await?;
        }
        let entry = AuditEntry {
            tenant: job.tenant.clone(),
            actor: job.actor.clone(),
            action: "job.create".to_owned(),
            resource: format!("job:{}", job.id),
            outcome: "ok".to_owned(),
            request_id: job.request_id.clone(),
            detail: serde_json::json!({
                "files": job.tasks.len(),
                "bytes": job.tasks.iter().map(|t| t.size_bytes).sum::<u64>(),
            })
            .to_string(),
        };
        self.append_audit(transaction, &entry).await?;
        Ok(())
    }
}

/// Mark a job done when none of its tasks is pending or leased any more
/// (a cancelled job stays cancelled), and queue its webhook deliveries.
///
/// The job's row is locked first. On PostgreSQL two workers finishing a
/// job's last two tasks at once would otherwise each see the other's task
/// still leased (uncommitted) and neither would finish the job; with the
/// lock the second waits, and its check — a new statement, so a new
/// snapshot under READ COMMITTED — sees the first one's task done.
pub(crate) async fn finish_job_if_settled(
    transaction: &mut sqlx::Transaction<'_, sqlx::Any>,
    job_id: &str,
    now: i64,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE jobs SET updated_at = $1 WHERE id = $2")
        .bind(now)
        .bind(job_id)
        .execute(&mut **transaction)
        .await?;
    let finished = sqlx::query(
        "UPDATE jobs SET status = 'done', updated_at = $1, finished_at = $1
          WHERE id = $2 AND status IN ('queued', 'processing')
            AND NOT EXISTS (SELECT 1 FROM tasks WHERE job_id = $2 AND state IN ('pending', 'leased'))",
    )
    .bind(now)
    .bind(job_id)
    .execute(&mut **transaction)
    .await?;
    if finished.rows_affected() == 1 {
        crate::webhooks::queue_deliveries(transaction, job_id, "job.completed", now).await?;
    }
    Ok(())
}

pub(crate) fn to_json(result: &ClassificationResult) -> Result<String, StoreError> {
    serde_json::to_string(result).map_err(|e| StoreError::Corrupt(e.to_string()))
}

pub(crate) fn from_json(json: &str) -> Result<ClassificationResult, StoreError> {
    serde_json::from_str(json).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// A task row (with its job's request id) as handed to a worker.
pub(crate) fn claimed_task(row: &AnyRow) -> Result<ClaimedTask, StoreError> {
    Ok(ClaimedTask {
        id: row.try_get("id")?,
        job_id: row.try_get("job_id")?,
        position: row.try_get("position")?,
        filename: row.try_get("filename")?,
        sha256: row.try_get("sha256")?,
        size_bytes: row.try_get::<i64, _>("size_bytes")?.max(0) as u64,
        attempts: row.try_get::<i64, _>("attempts")?.max(0) as u32,
        request_id: row.try_get("request_id")?,
        trace_context: row.try_get("trace_context")?,
        tenant: row.try_get("tenant_id")?,
    })
}
