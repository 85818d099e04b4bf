//! `POST /v1/files`: the original upload contract.
//!
//! Each part named `files` streams into the blob store while it is hashed
//! and measured (a file is never held whole in memory), after its
//! extension was checked. Then one transaction creates the job with every
//! file. Small batches are answered in the request (200 with the results);
//! larger ones get 202 and a job id, and the workers take over.

use std::path::Path;

use axum::Extension;
use axum::extract::multipart::{Field, MultipartRejection};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Multipart, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use heron_core::ClassificationResult;
use heron_store::{BlobWriter, NewJob, NewTask, StoreError};
use serde::Serialize;
use utoipa::ToSchema;

use crate::AppState;
use crate::error::{ApiError, ErrorEnvelope};
use crate::explain::{ExplainQuery, explain, shown};
use crate::request_id::RequestId;

/// The multipart form, for the API description.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct UploadForm {
    /// One or more files, each a part named `files`.
    #[schema(value_type = Vec<String>, format = Binary)]
    files: Vec<Vec<u8>>,
}

/// The answer to a batch that became a job.
#[derive(Debug, Serialize, ToSchema)]
pub struct JobAccepted {
    pub job_id: String,
    /// Always `queued`.
    pub status: String,
}

/// A file written to the blob store, not yet in a job.
struct Received {
    filename: String,
    sha256: String,
    size_bytes: u64,
}

/// Classify files.
///
/// Up to `HERON_SYNC_MAX_FILES` (10) files: 200 with one result per file, in
/// upload order. More, up to `MAX_BATCH_SIZE` (50): 202 with a job id to poll.
#[utoipa::path(
    post,
    path = "/v1/files",
    tag = "classification",
    request_body(content = UploadForm, content_type = "multipart/form-data"),
    params(
        ("x-api-key" = String, Header, description = "One of ALLOWED_API_KEYS"),
        ("x-request-id" = Option<String>, Header, description = "Echoed back as X-Request-ID"),
        ExplainQuery,
    ),
    responses(
        (status = 200, description = "Results, one per file", body = [ClassificationResult]),
        (status = 202, description = "Batch queued as a job", body = JobAccepted),
        (status = 400, description = "No files (`no_files`) or a malformed body (`invalid_multipart`)", body = ErrorEnvelope),
        (status = 401, description = "Missing or unknown key (`unauthorized`)", body = ErrorEnvelope),
        (status = 413, description = "A file over MAX_FILE_SIZE_MB (`file_too_large`) or too many files (`batch_too_large`)", body = ErrorEnvelope),
        (status = 415, description = "Extension not in ALLOWED_EXTENSIONS (`unsupported_extension`)", body = ErrorEnvelope),
    )
)]
pub async fn upload(
    State(state): State<AppState>,
    Extension(RequestId(request_id)): Extension<RequestId>,
    query: Result<Query<ExplainQuery>, QueryRejection>,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, ApiError> {
    let show_explanations = explain(query)?;
    let mut multipart = multipart.map_err(|e| ApiError::InvalidMultipart(e.body_text()))?;
    let mut received: Vec<Received> = Vec::new();
    while let Some(field) = multipart.next_field().await.map_err(multipart_error)? {
        if field.name() != Some("files") {
            continue;
        }
        if received.len() >= state.settings.max_batch_size {
            return Err(ApiError::BatchTooLarge {
                count: received.len() + 1,
                limit: state.settings.max_batch_size,
            });
        }
        received.push(receive_file(&state, field).await?);
    }
    if received.is_empty() {
        return Err(ApiError::NoFiles);
    }
    metrics::counter!("heron_files_received_total").increment(received.len() as u64);

    let synchronous = received.len() <= state.settings.sync_max_files;
    let job_id = uuid::Uuid::new_v4().simple().to_string();
    let owner = format!("{}:request:{request_id}", state.instance_id);
    let job = NewJob {
        id: job_id.clone(),
        request_id: request_id.clone(),
        synchronous,
        lease_owner: synchronous.then(|| owner.clone()),
        lease: state.settings.task_lease,
        tasks: received
            .into_iter()
            .map(|file| NewTask {
                id: uuid::Uuid::new_v4().simple().to_string(),
                filename: file.filename,
                sha256: file.sha256,
                size_bytes: file.size_bytes,
            })
            .collect(),
    };
    state.store.create_job(&job).await?;

    if !synchronous {
        tracing::info!(job_id = %job_id, files = job.tasks.len(), "batch queued");
        let accepted = JobAccepted {
            job_id,
            status: "queued".to_owned(),
        };
        return Ok((StatusCode::ACCEPTED, axum::Json(accepted)).into_response());
    }
    // Each file runs in its own task, so the files of a batch proceed in
    // parallel (bounded by the worker slots) and finish and are stored
    // even if the client hangs up.
    let tasks = state.store.leased_tasks(&job_id, &owner).await?;
    let handles: Vec<_> = tasks
        .into_iter()
        .map(|task| {
            let worker = state.worker.clone();
            let owner = owner.clone();
            tokio::spawn(async move { worker.process(&task, &owner).await })
        })
        .collect();
    let mut results: Vec<ClassificationResult> = Vec::with_capacity(handles.len());
    for handle in handles {
        let result = handle
            .await
            .map_err(|e| ApiError::Internal(e.to_string()))??;
        results.push(result);
    }
    Ok(axum::Json(shown(results, show_explanations)).into_response())
}

async fn receive_file(state: &AppState, mut field: Field<'_>) -> Result<Received, ApiError> {
    let filename = sanitize_filename(field.file_name().unwrap_or("upload"));
    let extension = Path::new(&filename)
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    if !state.settings.extension_allowed(&extension) {
        return Err(ApiError::UnsupportedExtension {
            filename,
            extension,
            allowed: state
                .settings
                .allowed_extensions
                .iter()
                .cloned()
                .collect::<Vec<_>>()
                .join(","),
        });
    }
    let limit = state.settings.max_file_size_bytes;
    let mut writer: BlobWriter = state.blobs.writer(limit).await?;
    while let Some(chunk) = field.chunk().await.map_err(multipart_error)? {
        writer.write(&chunk).await.map_err(|e| match e {
            StoreError::TooLarge { .. } => ApiError::FileTooLarge {
                filename: filename.clone(),
                limit_mb: limit as f64 / (1024.0 * 1024.0),
            },
            other => ApiError::from(other),
        })?;
    }
    let blob = writer.commit().await?;
    Ok(Received {
        filename,
        sha256: blob.sha256,
        size_bytes: blob.size_bytes,
    })
}

fn multipart_error(error: axum::extract::multipart::MultipartError) -> ApiError {
    if error.status() == StatusCode::PAYLOAD_TOO_LARGE {
        return ApiError::BodyTooLarge { limit_bytes: 0 };
    }
    ApiError::InvalidMultipart(error.body_text())
}

/// Keep only the last path component and drop control characters, so a
/// name can never point anywhere or break a log line.
fn sanitize_filename(name: &str) -> String {
    let last = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let clean: String = last.chars().filter(|c| !c.is_control()).take(255).collect();
    if clean.trim().is_empty() || clean == "." || clean == ".." {
        "upload".to_owned()
    } else {
        clean
    }
}

#[cfg(test)]
mod tests {
    use super::sanitize_filename;

    #[test]
    fn file_names_are_made_safe() {
        assert_eq!(sanitize_filename("../../etc/passwd"), "passwd");
        assert_eq!(sanitize_filename("C:\\Users\\me\\scan.pdf"), "scan.pdf");
        assert_eq!(sanitize_filename("a\nb.pdf"), "ab.pdf");
        assert_eq!(sanitize_filename(".."), "upload");
    }
}
