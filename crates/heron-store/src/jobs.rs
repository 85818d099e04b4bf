//! Reading and steering jobs: a job with its results and progress, the
//! paginated job list, cancellation, the dead-letter queue and its retry,
//! queue depth.

use std::str::FromStr;

use heron_core::{ClassificationResult, JobStatus};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::audit::{Actor, AuditEntry};
use crate::clock::now_ms;
use crate::queue::{finish_job_if_settled, from_json};
use crate::{Store, StoreError};

/// A job as the API reports it.
#[derive(Debug, Clone)]
pub struct JobRecord {
    pub id: String,
    pub status: JobStatus,
    pub total_files: u64,
    pub completed_files: u64,
    pub error_message: Option<String>,
    pub progress: Progress,
    pub created_at_ms: i64,
    pub finished_at_ms: Option<i64>,
    /// Results of finished files, in upload order.
    pub results: Vec<ClassificationResult>,
}

/// How many of a job's files are in each state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Progress {
    pub pending: u64,
    pub processing: u64,
    pub done: u64,
    /// In the dead-letter state (their result carries the error).
    pub failed: u64,
    pub cancelled: u64,
}

/// One line of the job list (no results).
#[derive(Debug, Clone)]
pub struct JobListing {
    pub id: String,
    pub status: JobStatus,
    pub total_files: u64,
    pub created_at_ms: i64,
    pub finished_at_ms: Option<i64>,
}

/// A page of the job list, newest first.
#[derive(Debug, Clone)]
pub struct JobPage {
    pub jobs: Vec<JobListing>,
    /// Pass back as `after` for the next page; `None` on the last.
    pub next_cursor: Option<String>,
}

/// What cancelling a job did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cancelled {
    /// The job is now cancelled; this many tasks will not run.
    Cancelled {
        tasks: u64,
    },
    /// The job had already finished; nothing changed.
    AlreadyFinished(JobStatus),
    NotFound,
}

/// A task in the dead-letter state.
#[derive(Debug, Clone)]
pub struct DeadLetter {
    pub task_id: String,
    pub job_id: String,
    pub filename: String,
    pub attempts: u32,
    pub last_error: Option<String>,
    pub updated_at_ms: i64,
}

/// Counts for metrics and readiness.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct JobSummary {
    pub pending_tasks: i64,
    pub leased_tasks: i64,
    pub dead_tasks: i64,
}

impl Store {
    /// A job of `tenant` with its finished results, or `None` for an
    /// unknown id or another tenant's job (indistinguishable).
    pub async fn job(&self, tenant: &str, id: &str) -> Result<Option<JobRecord>, StoreError> {
        let Some(row) = sqlx::query(
            "SELECT id, status, total_files, error_message, created_at, finished_at FROM jobs
              WHERE id = $1 AND tenant_id = $2",
        )
        .bind(id)
        .bind(tenant)
        .fetch_optional(&self.pool)
        .await?
        else {
            return Ok(None);
        };
        let results: Vec<String> = sqlx::query_scalar(
            "SELECT result_json FROM tasks WHERE job_id = $1 AND result_json IS NOT NULL ORDER BY position",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        let results = results
            .iter()
            .map(|json| from_json(json))
            .collect::<Result<Vec<_>, _>>()?;
        let counts: Vec<(String, i64)> =
            sqlx::query_as("SELECT state, COUNT(*) FROM tasks WHERE job_id = $1 GROUP BY state")
                .bind(id)
                .fetch_all(&self.pool)
                .await?;
        let mut progress = Progress::default();
        for (state, count) in counts {
            let count = count.max(0) as u64;
            match state.as_str() {
                "pending" => progress.pending = count,
                "leased" => progress.processing = count,
                "done" => progress.done = count,
                "dead" => progress.failed = count,
                "cancelled" => progress.cancelled = count,
                other => return Err(StoreError::Corrupt(format!("task state {other:?}"))),
            }
        }
        Ok(Some(JobRecord {
            id: row.try_get("id")?,
            status: status_of(&row)?,
            total_files: row.try_get::<i64, _>("total_files")?.max(0) as u64,
            completed_files: results.len() as u64,
            error_message: row.try_get("error_message")?,
            progress,
            created_at_ms: row.try_get("created_at")?,
            finished_at_ms: row.try_get("finished_at")?,
            results,
        }))
    }

    /// `tenant`'s jobs newest first, optionally of one status, `limit` per
    /// page, continuing after `cursor` (from the previous page).
    pub async fn jobs(
        &self,
        tenant: &str,
        status: Option<JobStatus>,
        limit: u32,
        cursor: Option<&str>,
    ) -> Result<JobPage, StoreError> {
        let (before_time, before_id) = match cursor {
            Some(cursor) => parse_cursor(cursor)?,
            None => (i64::MAX, String::new()),
        };
        let rows = sqlx::query(
            "SELECT id, status, total_files, created_at, finished_at FROM jobs
              WHERE ($1 IS NULL OR status = $1) AND tenant_id = $5
                AND (created_at < $2 OR (created_at = $2 AND id < $3))
              ORDER BY created_at DESC, id DESC
              LIMIT $4",
        )
        .bind(status.map(JobStatus::as_str))
        .bind(before_time)
        .bind(&before_id)
        .bind(i64::from(limit) + 1)
        .bind(tenant)
        .fetch_all(&self.pool)
        .await?;
        let mut jobs = rows
            .iter()
            .map(|row| {
                Ok(JobListing {
                    id: row.try_get("id")?,
                    status: status_of(row)?,
                    total_files: row.try_get::<i64, _>("total_files")?.max(0) as u64,
                    created_at_ms: row.try_get("created_at")?,
                    finished_at_ms: row.try_get("finished_at")?,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        let next_cursor = if jobs.len() > limit as usize {
            jobs.truncate(limit as usize);
            jobs.last()
                .map(|last| format!("{}.{}", last.created_at_ms, last.id))
        } else {
            None
        };
        Ok(JobPage { jobs, next_cursor })
    }

    /// Cancel a job that has not finished: its pending tasks will not run,
    /// and results of tasks being processed now are discarded (their
    /// workers lose the lease). Results already stored stay.
    /// Recorded as `job.cancel` in the same transaction.
    pub async fn cancel_job(
        &self,
        tenant: &str,
        id: &str,
        actor: &Actor,
    ) -> Result<Cancelled, StoreError> {
        let now = now_ms();
        let mut transaction = self.pool.begin().await?;
        // A write first (the job's own row, unchanged): SQLite takes its
        // write lock before the status is read.
        let current: Option<String> = sqlx::query_scalar(
            "UPDATE jobs SET updated_at = updated_at WHERE id = $1 AND tenant_id = $2 RETURNING status",
        )
        .bind(id)
        .bind(tenant)
        .fetch_optional(&mut *transaction)
        .await?;
        let Some(current) = current else {
            return Ok(Cancelled::NotFound);
        };
        let current = parse_status(&current)?;
        if current.is_final() {
            return Ok(Cancelled::AlreadyFinished(current));
        }
        let tasks = sqlx::query(
            "UPDATE tasks SET state = 'cancelled', lease_owner = NULL, lease_expires_at = NULL, updated_at = $1
              WHERE job_id = $2 AND state IN ('pending', 'leased')",
        )
        .bind(now)
        .bind(id)
        .execute(&mut *transaction)
        .await?
        .rows_affected();
        sqlx::query(
            "UPDATE jobs SET status = 'cancelled', updated_at = $1, finished_at = $1 WHERE id = $2",
        )
        .bind(now)
        .bind(id)
        .execute(&mut *transaction)
        .await?;
        crate::webhooks::queue_deliveries(&mut transaction, id, "job.cancelled", now).await?;
        let entry = AuditEntry::ok(tenant, actor, "job.cancel", format!("job:{id}"))
            .with_detail(serde_json::json!({ "tasks": tasks }));
        self.commit_audited(transaction, &entry).await?;
        Ok(Cancelled::Cancelled { tasks })
    }

    /// `tenant`'s dead-letter queue, most recent first.
    pub async fn dead_letters(
        &self,
        tenant: &str,
        limit: u32,
    ) -> Result<Vec<DeadLetter>, StoreError> {
        let rows = sqlx::query(
            "SELECT t.id, t.job_id, t.filename, t.attempts, t.last_error, t.updated_at
               FROM tasks t JOIN jobs j ON j.id = t.job_id
              WHERE t.state = 'dead' AND j.tenant_id = $2 ORDER BY t.updated_at DESC LIMIT $1",
        )
        .bind(i64::from(limit))
        .bind(tenant)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(DeadLetter {
                    task_id: row.try_get("id")?,
                    job_id: row.try_get("job_id")?,
                    filename: row.try_get("filename")?,
                    attempts: row.try_get::<i64, _>("attempts")?.max(0) as u32,
                    last_error: row.try_get("last_error")?,
                    updated_at_ms: row.try_get("updated_at")?,
                })
            })
            .collect()
    }

    /// Send a dead-lettered task back to the queue with fresh attempts; its
    /// error result is dropped and its job reopened. False when the task is
    /// not in the dead-letter state.
    /// Recorded as `dead_letter.retry`.
    pub async fn retry_dead_letter(
        &self,
        tenant: &str,
        task_id: &str,
        actor: &Actor,
    ) -> Result<bool, StoreError> {
        let now = now_ms();
        let mut transaction = self.pool.begin().await?;
        let job_id: Option<String> = sqlx::query_scalar(
            "UPDATE tasks SET state = 'pending', attempts = 0, result_json = NULL, result_key = NULL,
                              available_at = $1, updated_at = $1
              WHERE id = $2 AND state = 'dead'
                AND job_id IN (SELECT id FROM jobs WHERE tenant_id = $3)
          RETURNING job_id",
        )
        .bind(now)
        .bind(task_id)
        .bind(tenant)
        .fetch_optional(&mut *transaction)
        .await?;
        let Some(job_id) = job_id else {
            return Ok(false);
        };
        sqlx::query(
            "UPDATE jobs SET status = 'processing', finished_at = NULL, updated_at = $1
              WHERE id = $2 AND status IN ('done', 'failed')",
        )
        .bind(now)
        .bind(&job_id)
        .execute(&mut *transaction)
        .await?;
        // A job cancelled meanwhile stays cancelled; settle it again in
        // case the retried task was its last.
        finish_job_if_settled(&mut transaction, &job_id, now).await?;
        let entry = AuditEntry::ok(
            tenant,
            actor,
            "dead_letter.retry",
            format!("document:{task_id}"),
        );
        self.commit_audited(transaction, &entry).await?;
        Ok(true)
    }

    /// Queue depth, for metrics and autoscaling.
    pub async fn summary(&self) -> Result<JobSummary, StoreError> {
        let row = sqlx::query(
            "SELECT COALESCE(SUM(CASE WHEN state = 'pending' THEN 1 ELSE 0 END), 0) AS pending,
                    COALESCE(SUM(CASE WHEN state = 'leased' THEN 1 ELSE 0 END), 0) AS leased,
                    COALESCE(SUM(CASE WHEN state = 'dead' THEN 1 ELSE 0 END), 0) AS dead
               FROM tasks WHERE state IN ('pending', 'leased', 'dead')",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok(JobSummary {
            pending_tasks: row.try_get("pending")?,
            leased_tasks: row.try_get("leased")?,
            dead_tasks: row.try_get("dead")?,
        })
    }
}

fn status_of(row: &AnyRow) -> Result<JobStatus, StoreError> {
    parse_status(&row.try_get::<String, _>("status")?)
}

fn parse_status(text: &str) -> Result<JobStatus, StoreError> {
    JobStatus::from_str(text).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// `"<created_at ms>.<job id>"`: where the previous page ended.
fn parse_cursor(cursor: &str) -> Result<(i64, String), StoreError> {
    cursor
        .split_once('.')
        .and_then(|(time, id)| Some((time.parse().ok()?, id.to_owned())))
        .filter(|(_, id)| !id.is_empty())
        .ok_or_else(|| StoreError::InvalidCursor(cursor.to_owned()))
}
