//! Jobs, tasks and the lease-based queue over SQLite.
//!
//! SQLite serialises writers, so the claim — one `UPDATE … WHERE id =
//! (SELECT … LIMIT 1) RETURNING` statement — hands each task to exactly one
//! worker. The PostgreSQL back-end (durable-jobs issue) uses `FOR UPDATE
//! SKIP LOCKED` for the same contract.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use heron_core::{ClassificationResult, JobStatus};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Row, SqlitePool};

use crate::StoreError;
use crate::clock::{ms, now_ms};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// The metadata database and queue.
#[derive(Debug, Clone)]
pub struct Store {
    pool: SqlitePool,
}

/// A job to create: one per upload request.
#[derive(Debug, Clone)]
pub struct NewJob {
    pub id: String,
    pub request_id: String,
    /// Answered within the request (≤ the sync limit); its tasks are
    /// created already leased by `lease_owner`.
    pub synchronous: bool,
    pub lease_owner: Option<String>,
    pub lease: Duration,
    pub tasks: Vec<NewTask>,
}

/// One uploaded file of a job.
#[derive(Debug, Clone)]
pub struct NewTask {
    pub id: String,
    pub filename: String,
    pub sha256: String,
    pub size_bytes: u64,
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
}

/// A job as the API reports it.
#[derive(Debug, Clone)]
pub struct JobRecord {
    pub id: String,
    pub status: JobStatus,
    pub total_files: u64,
    pub completed_files: u64,
    pub error_message: Option<String>,
    /// Results of finished files, in upload order.
    pub results: Vec<ClassificationResult>,
}

/// Counts for metrics and readiness.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct JobSummary {
    pub pending_tasks: i64,
    pub leased_tasks: i64,
}

impl Store {
    /// Open the database named by `url` (`sqlite://path`), or
    /// `<data_dir>/heron.db` when no URL is given; run migrations.
    pub async fn open(url: Option<&str>, data_dir: &Path) -> Result<Store, StoreError> {
        let options = match url {
            None => SqliteConnectOptions::new().filename(data_dir.join("heron.db")),
            Some(url) if url.starts_with("sqlite:") => SqliteConnectOptions::from_str(url)?,
            Some(other) => return Err(StoreError::UnsupportedUrl(other.to_owned())),
        };
        let options = options
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await?;
        MIGRATOR.run(&pool).await?;
        Ok(Store { pool })
    }

    /// A trivial query, for readiness.
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Create a job and all its tasks in one transaction: a job exists with
    /// every file or not at all.
    pub async fn create_job(&self, job: &NewJob) -> Result<(), StoreError> {
        let now = now_ms();
        let mut transaction = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO jobs (id, status, total_files, request_id, synchronous, created_at, updated_at)
             VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&job.id)
        .bind(if job.synchronous { "processing" } else { "queued" })
        .bind(job.tasks.len() as i64)
        .bind(&job.request_id)
        .bind(job.synchronous)
        .bind(now)
        .bind(now)
        .execute(&mut *transaction)
        .await?;
        let (state, expires) = match &job.lease_owner {
            Some(_) => ("leased", Some(now + ms(job.lease))),
            None => ("pending", None),
        };
        for (position, task) in job.tasks.iter().enumerate() {
            sqlx::query(
                "INSERT INTO tasks (id, job_id, position, filename, sha256, size_bytes, state, attempts,
                                    lease_owner, lease_expires_at, available_at, created_at, updated_at)
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
            .bind(now)
            .bind(now)
            .execute(&mut *transaction)
            .await?;
        }
        transaction.commit().await?;
        Ok(())
    }

    /// Claim the oldest available task for `owner`: a pending one, or one
    /// whose lease expired (its worker died). Tasks that have used up
    /// `max_attempts` are left for [`Store::exhausted_tasks`].
    pub async fn claim(
        &self,
        owner: &str,
        lease: Duration,
        max_attempts: u32,
    ) -> Result<Option<ClaimedTask>, StoreError> {
        let now = now_ms();
        let row = sqlx::query(
            "UPDATE tasks
                SET state = 'leased', lease_owner = ?1, lease_expires_at = ?2,
                    attempts = attempts + 1, updated_at = ?3
              WHERE id = (SELECT id FROM tasks
                           WHERE attempts < ?4
                             AND ((state = 'pending' AND available_at <= ?3)
                               OR (state = 'leased' AND lease_expires_at <= ?3))
                           ORDER BY created_at, position
                           LIMIT 1)
          RETURNING id, job_id, position, filename, sha256, size_bytes, attempts,
                    (SELECT request_id FROM jobs WHERE jobs.id = tasks.job_id) AS request_id",
        )
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
        sqlx::query("UPDATE jobs SET status = 'processing', updated_at = ? WHERE id = ? AND status = 'queued'")
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
        let rows = sqlx::query(
            "SELECT t.id, t.job_id, t.position, t.filename, t.sha256, t.size_bytes, t.attempts, j.request_id
               FROM tasks t JOIN jobs j ON j.id = t.job_id
              WHERE t.job_id = ? AND t.lease_owner = ? AND t.state = 'leased'
              ORDER BY t.position",
        )
        .bind(job_id)
        .bind(owner)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(claimed_task).collect()
    }

    /// Extend the lease of a task still held by `owner`. False when the
    /// lease was lost (expired and taken by another worker).
    pub async fn renew(
        &self,
        task_id: &str,
        owner: &str,
        lease: Duration,
    ) -> Result<bool, StoreError> {
        let now = now_ms();
        let done = sqlx::query(
            "UPDATE tasks SET lease_expires_at = ?, updated_at = ?
              WHERE id = ? AND lease_owner = ? AND state = 'leased'",
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
        self.complete_reusable(task_id, owner, result, None).await
    }

    /// [`Store::complete`], recording `result_key` (see
    /// [`Store::reusable_result`]) with the result.
    pub async fn complete_reusable(
        &self,
        task_id: &str,
        owner: &str,
        result: &ClassificationResult,
        result_key: Option<&str>,
    ) -> Result<bool, StoreError> {
        let json = serde_json::to_string(result).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        self.finish_task(task_id, Some(owner), "done", &json, None, result_key)
            .await
    }

    /// The latest stored result of a file with these bytes whose result
    /// key is `result_key` (same model, settings and name), if any.
    pub async fn reusable_result(
        &self,
        sha256: &str,
        result_key: &str,
    ) -> Result<Option<ClassificationResult>, StoreError> {
        let row: Option<(String,)> = sqlx::query_as(
            "SELECT result_json FROM tasks
              WHERE sha256 = ? AND result_key = ? AND state = 'done' AND result_json IS NOT NULL
              ORDER BY updated_at DESC LIMIT 1",
        )
        .bind(sha256)
        .bind(result_key)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|(json,)| {
            serde_json::from_str(&json).map_err(|e| StoreError::Corrupt(e.to_string()))
        })
        .transpose()
    }

    /// Give up on a task that used up its attempts (its worker kept dying):
    /// record `result` (which carries the error) and mark it dead.
    pub async fn bury(
        &self,
        task_id: &str,
        result: &ClassificationResult,
        reason: &str,
    ) -> Result<bool, StoreError> {
        let json = serde_json::to_string(result).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        self.finish_task(task_id, None, "dead", &json, Some(reason), None)
            .await
    }

    async fn finish_task(
        &self,
        task_id: &str,
        owner: Option<&str>,
        state: &str,
        result_json: &str,
        error: Option<&str>,
        result_key: Option<&str>,
    ) -> Result<bool, StoreError> {
        let now = now_ms();
        let mut transaction = self.pool.begin().await?;
        let updated = sqlx::query(
            "UPDATE tasks SET state = ?1, result_json = ?2, last_error = ?3, lease_owner = NULL,
                              lease_expires_at = NULL, updated_at = ?4, result_key = ?7
              WHERE id = ?5 AND state IN ('leased', 'pending') AND (?6 IS NULL OR lease_owner = ?6)",
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
        sqlx::query(
            "UPDATE jobs SET status = 'done', updated_at = ?1, finished_at = ?1
              WHERE id = (SELECT job_id FROM tasks WHERE id = ?2)
                AND NOT EXISTS (SELECT 1 FROM tasks
                                 WHERE job_id = (SELECT job_id FROM tasks WHERE id = ?2)
                                   AND state IN ('pending', 'leased'))",
        )
        .bind(now)
        .bind(task_id)
        .execute(&mut *transaction)
        .await?;
        transaction.commit().await?;
        Ok(true)
    }

    /// Tasks whose lease expired after their last allowed attempt.
    pub async fn exhausted_tasks(&self, max_attempts: u32) -> Result<Vec<ClaimedTask>, StoreError> {
        let rows = sqlx::query(
            "SELECT t.id, t.job_id, t.position, t.filename, t.sha256, t.size_bytes, t.attempts, j.request_id
               FROM tasks t JOIN jobs j ON j.id = t.job_id
              WHERE t.attempts >= ? AND t.state = 'leased' AND t.lease_expires_at <= ?
              LIMIT 100",
        )
        .bind(i64::from(max_attempts))
        .bind(now_ms())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(claimed_task).collect()
    }

    /// Return every task leased by `owner` to the queue (graceful shutdown:
    /// another worker or the next start picks them up at once).
    pub async fn release(&self, owner: &str) -> Result<u64, StoreError> {
        let done = sqlx::query(
            "UPDATE tasks SET state = 'pending', lease_owner = NULL, lease_expires_at = NULL,
                              attempts = MAX(attempts - 1, 0), updated_at = ?
              WHERE lease_owner = ? AND state = 'leased'",
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
            "UPDATE tasks SET state = 'pending', lease_owner = NULL, lease_expires_at = NULL, updated_at = ?
              WHERE state = 'leased' AND substr(lease_owner, 1, length(?2)) = ?2",
        )
        .bind(now_ms())
        .bind(prefix)
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
            "UPDATE tasks SET state = 'pending', lease_owner = NULL, lease_expires_at = NULL, updated_at = ?
              WHERE state = 'leased'",
        )
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }

    /// A job with its finished results, or `None` for an unknown id.
    pub async fn job(&self, id: &str) -> Result<Option<JobRecord>, StoreError> {
        let Some(row) =
            sqlx::query("SELECT id, status, total_files, error_message FROM jobs WHERE id = ?")
                .bind(id)
                .fetch_optional(&self.pool)
                .await?
        else {
            return Ok(None);
        };
        let status: String = row.try_get("status")?;
        let status =
            JobStatus::from_str(&status).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let results: Vec<String> = sqlx::query_scalar(
            "SELECT result_json FROM tasks WHERE job_id = ? AND result_json IS NOT NULL ORDER BY position",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        let results = results
            .iter()
            .map(|json| serde_json::from_str(json).map_err(|e| StoreError::Corrupt(e.to_string())))
            .collect::<Result<Vec<ClassificationResult>, _>>()?;
        Ok(Some(JobRecord {
            id: row.try_get("id")?,
            status,
            total_files: row.try_get::<i64, _>("total_files")?.max(0) as u64,
            completed_files: results.len() as u64,
            error_message: row.try_get("error_message")?,
            results,
        }))
    }

    /// Queue depth, for metrics.
    pub async fn summary(&self) -> Result<JobSummary, StoreError> {
        let row = sqlx::query(
            "SELECT COALESCE(SUM(state = 'pending'), 0) AS pending, COALESCE(SUM(state = 'leased'), 0) AS leased
               FROM tasks WHERE state IN ('pending', 'leased')",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok(JobSummary {
            pending_tasks: row.try_get("pending")?,
            leased_tasks: row.try_get("leased")?,
        })
    }

    /// Close the pool, checkpointing the write-ahead log.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// A task row (with its job's request id) as handed to a worker.
fn claimed_task(row: &sqlx::sqlite::SqliteRow) -> Result<ClaimedTask, StoreError> {
    Ok(ClaimedTask {
        id: row.try_get("id")?,
        job_id: row.try_get("job_id")?,
        position: row.try_get("position")?,
        filename: row.try_get("filename")?,
        sha256: row.try_get("sha256")?,
        size_bytes: row.try_get::<i64, _>("size_bytes")?.max(0) as u64,
        attempts: row.try_get::<i64, _>("attempts")?.max(0) as u32,
        request_id: row.try_get("request_id")?,
    })
}
