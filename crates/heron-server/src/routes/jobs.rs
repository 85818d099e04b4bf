//! Jobs: `GET /v1/jobs/{job_id}` (a batch's state and results so far),
//! `GET /v1/jobs` (the list), `DELETE /v1/jobs/{job_id}` (cancel), and the
//! admin routes of the dead-letter queue.

use axum::Extension;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use heron_core::{ClassificationResult, JobStatus};
use heron_store::{AuditEntry, Cancelled, JobRecord};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::access::auth::Principal;
use crate::error::{ApiError, ErrorEnvelope};
use crate::explain::{ExplainQuery, View, explain, shown};
use crate::request_id::RequestId;

/// A job as the original API reports it, plus progress.
#[derive(Debug, Serialize, ToSchema)]
pub struct JobResponse {
    pub job_id: String,
    pub status: JobStatus,
    pub total_files: u64,
    /// Results of the files finished so far, in upload order.
    pub results: Vec<ClassificationResult>,
    pub error_message: Option<String>,
    /// Files finished so far (Heron addition).
    pub completed_files: u64,
    /// Files per state (Heron addition).
    pub progress: JobProgress,
    /// RFC 3339 (Heron addition).
    pub created_at: String,
    pub finished_at: Option<String>,
}

/// How many of a job's files are in each state.
#[derive(Debug, Serialize, ToSchema)]
pub struct JobProgress {
    pub pending: u64,
    pub processing: u64,
    pub done: u64,
    /// Gave up after repeated transient failures: the result carries the
    /// error and the file is in the dead-letter queue.
    pub failed: u64,
    pub cancelled: u64,
}

impl JobResponse {
    fn new(record: JobRecord, results: Vec<heron_core::ClassificationResult>) -> JobResponse {
        let progress = record.progress;
        JobResponse {
            job_id: record.id,
            status: record.status,
            total_files: record.total_files,
            completed_files: record.completed_files,
            results,
            error_message: record.error_message,
            progress: JobProgress {
                pending: progress.pending,
                processing: progress.processing,
                done: progress.done,
                failed: progress.failed,
                cancelled: progress.cancelled,
            },
            created_at: rfc3339(record.created_at_ms),
            finished_at: record.finished_at_ms.map(rfc3339),
        }
    }
}

/// Get a job.
#[utoipa::path(
    get,
    path = "/v1/jobs/{job_id}",
    tag = "jobs",
    params(
        ("job_id" = String, Path, description = "Id returned by POST /v1/files"),
        ExplainQuery,
    ),
    responses(
        (status = 200, description = "The job", body = JobResponse),
        (status = 401, description = "Missing or unknown key", body = ErrorEnvelope),
        (status = 404, description = "Unknown job (`job_not_found`)", body = ErrorEnvelope),
    )
)]
pub async fn get_job(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Extension(RequestId(request_id)): Extension<RequestId>,
    Path(job_id): Path<String>,
    query: Result<Query<ExplainQuery>, QueryRejection>,
) -> Result<axum::Json<JobResponse>, ApiError> {
    let show_explanations = explain(query)?;
    let record = state
        .store
        .job(&principal.tenant, &job_id)
        .await?
        .ok_or_else(|| ApiError::JobNotFound(job_id.clone()))?;
    // Results are document data: reading them is audited. Polls of a job
    // with no result yet read none and write nothing (clients poll often).
    if !record.results.is_empty() {
        let entry = AuditEntry::ok(
            &principal.tenant,
            &principal.actor(&request_id),
            "job.read",
            format!("job:{job_id}"),
        )
        .with_detail(serde_json::json!({ "results": record.results.len() }));
        state.store.audit(&entry).await?;
    }
    let results = shown(&state.store, record.results.clone(), show_explanations).await?;
    Ok(axum::Json(JobResponse::new(record, results)))
}

/// Cancel a job that has not finished.
///
/// Files not yet started will not run; results of files being processed
/// are discarded; results already stored stay. Answers the job as it now
/// is.
#[utoipa::path(
    delete,
    path = "/v1/jobs/{job_id}",
    tag = "jobs",
    params(("job_id" = String, Path, description = "Id returned by POST /v1/files")),
    responses(
        (status = 200, description = "The cancelled job", body = JobResponse),
        (status = 401, description = "Missing or unknown key", body = ErrorEnvelope),
        (status = 404, description = "Unknown job (`job_not_found`)", body = ErrorEnvelope),
        (status = 409, description = "The job already finished (`job_not_cancellable`)", body = ErrorEnvelope),
    )
)]
pub async fn cancel_job(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Extension(RequestId(request_id)): Extension<RequestId>,
    Path(job_id): Path<String>,
) -> Result<axum::Json<JobResponse>, ApiError> {
    let actor = principal.actor(&request_id);
    match state
        .store
        .cancel_job(&principal.tenant, &job_id, &actor)
        .await?
    {
        Cancelled::Cancelled { tasks } => {
            tracing::info!(job_id = %job_id, tasks, "job cancelled");
        }
        Cancelled::AlreadyFinished(status) => {
            return Err(ApiError::JobNotCancellable {
                job_id,
                status: status.to_string(),
            });
        }
        Cancelled::NotFound => return Err(ApiError::JobNotFound(job_id)),
    }
    let record = state
        .store
        .job(&principal.tenant, &job_id)
        .await?
        .ok_or_else(|| ApiError::JobNotFound(job_id.clone()))?;
    let results = shown(&state.store, record.results.clone(), View::default()).await?;
    Ok(axum::Json(JobResponse::new(record, results)))
}

/// Query of the job list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Only jobs in this state.
    pub status: Option<JobStatus>,
    /// Jobs per page, 1–200 (default 50).
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// A page of the job list.
#[derive(Debug, Serialize, ToSchema)]
pub struct JobList {
    pub jobs: Vec<JobSummaryItem>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct JobSummaryItem {
    pub job_id: String,
    pub status: JobStatus,
    pub total_files: u64,
    pub created_at: String,
    pub finished_at: Option<String>,
}

/// List jobs, newest first.
#[utoipa::path(
    get,
    path = "/v1/jobs",
    tag = "jobs",
    params(ListQuery),
    responses(
        (status = 200, description = "A page of jobs", body = JobList),
        (status = 400, description = "Bad status, limit or cursor (`invalid_query`)", body = ErrorEnvelope),
        (status = 401, description = "Missing or unknown key", body = ErrorEnvelope),
    )
)]
pub async fn list_jobs(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Result<axum::Json<JobList>, ApiError> {
    let Query(query) = query.map_err(|e| ApiError::InvalidQuery(e.body_text()))?;
    let limit = query.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(ApiError::InvalidQuery(format!(
            "limit must be 1–200, not {limit}"
        )));
    }
    let page = state
        .store
        .jobs(
            &principal.tenant,
            query.status,
            limit,
            query.cursor.as_deref(),
        )
        .await?;
    Ok(axum::Json(JobList {
        jobs: page
            .jobs
            .into_iter()
            .map(|job| JobSummaryItem {
                job_id: job.id,
                status: job.status,
                total_files: job.total_files,
                created_at: rfc3339(job.created_at_ms),
                finished_at: job.finished_at_ms.map(rfc3339),
            })
            .collect(),
        next_cursor: page.next_cursor,
    }))
}

/// A file whose processing failed transiently until its attempts ran out.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeadLetterItem {
    pub task_id: String,
    pub job_id: String,
    pub filename: String,
    pub attempts: u32,
    pub last_error: Option<String>,
    pub failed_at: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeadLetterList {
    pub dead_letters: Vec<DeadLetterItem>,
}

/// The dead-letter queue (admin), most recent first, up to 500.
#[utoipa::path(
    get,
    path = "/v1/admin/dead-letters",
    tag = "admin",
    responses(
        (status = 200, description = "Dead-lettered files", body = DeadLetterList),
        (status = 401, description = "Missing or unknown key", body = ErrorEnvelope),
        (status = 403, description = "The credential lacks the admin scope (`forbidden`)", body = ErrorEnvelope),
    )
)]
pub async fn dead_letters(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
) -> Result<axum::Json<DeadLetterList>, ApiError> {
    let dead = state.store.dead_letters(&principal.tenant, 500).await?;
    Ok(axum::Json(DeadLetterList {
        dead_letters: dead
            .into_iter()
            .map(|d| DeadLetterItem {
                task_id: d.task_id,
                job_id: d.job_id,
                filename: d.filename,
                attempts: d.attempts,
                last_error: d.last_error,
                failed_at: rfc3339(d.updated_at_ms),
            })
            .collect(),
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RetryAccepted {
    pub task_id: String,
    /// Always `queued`.
    pub status: String,
}

/// Send a dead-lettered file back to the queue with fresh attempts (admin).
/// Its job is reopened until the file is processed again.
#[utoipa::path(
    post,
    path = "/v1/admin/dead-letters/{task_id}/retry",
    tag = "admin",
    params(("task_id" = String, Path, description = "From GET /v1/admin/dead-letters")),
    responses(
        (status = 202, description = "Queued again", body = RetryAccepted),
        (status = 401, description = "Missing or unknown key", body = ErrorEnvelope),
        (status = 403, description = "The credential lacks the admin scope (`forbidden`)", body = ErrorEnvelope),
        (status = 404, description = "Not a dead letter (`dead_letter_not_found`)", body = ErrorEnvelope),
    )
)]
pub async fn retry_dead_letter(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Extension(RequestId(request_id)): Extension<RequestId>,
    Path(task_id): Path<String>,
) -> Result<(axum::http::StatusCode, axum::Json<RetryAccepted>), ApiError> {
    let actor = principal.actor(&request_id);
    if !state
        .store
        .retry_dead_letter(&principal.tenant, &task_id, &actor)
        .await?
    {
        return Err(ApiError::DeadLetterNotFound(task_id));
    }
    tracing::info!(task_id = %task_id, "dead letter queued again by an admin");
    Ok((
        axum::http::StatusCode::ACCEPTED,
        axum::Json(RetryAccepted {
            task_id,
            status: "queued".to_owned(),
        }),
    ))
}

/// Milliseconds since the epoch as RFC 3339 (UTC).
pub(crate) fn rfc3339(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}
