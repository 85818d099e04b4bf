//! `GET /v1/jobs/{job_id}`: a batch's state and its results so far.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use heron_core::{ClassificationResult, JobStatus};
use serde::Serialize;
use utoipa::ToSchema;

use crate::AppState;
use crate::error::{ApiError, ErrorEnvelope};
use crate::explain::{ExplainQuery, explain, shown};

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
}

/// Get a job.
#[utoipa::path(
    get,
    path = "/v1/jobs/{job_id}",
    tag = "classification",
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
    Path(job_id): Path<String>,
    query: Result<Query<ExplainQuery>, QueryRejection>,
) -> Result<axum::Json<JobResponse>, ApiError> {
    let record = state
        .store
        .job(&job_id)
        .await?
        .ok_or_else(|| ApiError::JobNotFound(job_id.clone()))?;
    Ok(axum::Json(JobResponse {
        job_id: record.id,
        status: record.status,
        total_files: record.total_files,
        completed_files: record.completed_files,
        results: shown(record.results, explain(query)?),
        error_message: record.error_message,
    }))
}
