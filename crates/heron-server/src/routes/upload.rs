//! `POST /v1/files`: the original upload contract.
//!
//! Each part named `files` streams into the blob store while it is hashed
//! and measured (a file is never held whole in memory), after its
//! extension was checked. Then one transaction creates the job with every
//! file. Small batches are answered in the request (200 with the results);
//! larger ones get 202 and a job id, and the workers take over.
//!
//! With an `Idempotency-Key` header, the key is bound to a hash of the
//! request (each file's name and SHA-256, and the query): a repeat gets
//! the first answer again without new work, a different body under the
//! same key `422`.

use std::path::Path;

use axum::Extension;
use axum::extract::multipart::{Field, MultipartRejection};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Multipart, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use heron_core::ClassificationResult;
use heron_store::{BlobWriter, KeyClaim, NewJob, NewTask, StoreError};
use serde::Serialize;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use crate::AppState;
use crate::access::auth::Principal;
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
    /// Optional http(s) URL told when the job finishes (or header
    /// `X-Callback-Url`); deliveries are signed (`Heron-Signature`).
    callback_url: Option<String>,
}

/// The answer to a batch that became a job.
#[derive(Debug, Serialize, ToSchema)]
pub struct JobAccepted {
    pub job_id: String,
    /// Always `queued`.
    pub status: String,
}

/// An upload request once its body is read.
struct Request {
    principal: Principal,
    request_id: String,
    received: Vec<Received>,
    show_explanations: crate::explain::View,
    /// Checked: an allowed http(s) URL.
    callback: Option<String>,
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
        ("Idempotency-Key" = Option<String>, Header, description = "Up to 255 visible ASCII characters; a repeat of the same request within HERON_IDEMPOTENCY_TTL_HOURS gets the first answer again (header `Idempotent-Replayed: true`)"),
        ExplainQuery,
    ),
    responses(
        (status = 200, description = "Results, one per file", body = [ClassificationResult]),
        (status = 202, description = "Batch queued as a job", body = JobAccepted),
        (status = 400, description = "No files (`no_files`), a malformed body (`invalid_multipart`), a refused callback URL (`invalid_callback_url`, `callbacks_not_configured`)", body = ErrorEnvelope),
        (status = 401, description = "Missing or unknown key (`unauthorized`)", body = ErrorEnvelope),
        (status = 413, description = "A file over MAX_FILE_SIZE_MB (`file_too_large`) or too many files (`batch_too_large`)", body = ErrorEnvelope),
        (status = 409, description = "The first request with this Idempotency-Key is still being answered (`idempotency_key_in_use`)", body = ErrorEnvelope),
        (status = 415, description = "Extension not in ALLOWED_EXTENSIONS (`unsupported_extension`)", body = ErrorEnvelope),
        (status = 422, description = "Idempotency-Key reused with a different body (`idempotency_key_reused`)", body = ErrorEnvelope),
        (status = 503, description = "Database or blob store unavailable (`dependency_unavailable`)", body = ErrorEnvelope),
    )
)]
pub async fn upload(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Extension(RequestId(request_id)): Extension<RequestId>,
    headers: HeaderMap,
    query: Result<Query<ExplainQuery>, QueryRejection>,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, ApiError> {
    let show_explanations = explain(query)?;
    // Keys are the client's names: two tenants may pick the same one.
    let key = idempotency_key(&headers)?.map(|key| format!("{}/{key}", principal.tenant));
    state.breakers.check_blob_store()?;
    let mut multipart = multipart.map_err(|e| ApiError::InvalidMultipart(e.body_text()))?;
    // The request's `Content-Length` counts as its size.
    let incoming = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(0);
    // What the tenant may still upload today; the files' real bytes are
    // counted against it as they stream in (a chunked body declares no
    // length).
    let allowance = match quota_allowance(&state, &principal, incoming).await {
        Ok(allowance) => allowance,
        Err(refused) => {
            drain(&mut multipart).await;
            return Err(refused);
        }
    };
    let mut callback = header_text(&headers, "x-callback-url");
    let received = match receive_files(&state, &mut multipart, allowance, &mut callback).await {
        Ok(received) => received,
        Err(refused) => {
            // A file refused early (its extension, its size) leaves the
            // client sending the rest: read it, so the answer reaches it.
            drain(&mut multipart).await;
            return Err(refused);
        }
    };
    let callback = callback_url(&state, callback)?;
    metrics::counter!("heron_files_received_total").increment(received.len() as u64);
    let request = Request {
        principal,
        request_id,
        received,
        show_explanations,
        callback,
    };

    let Some(key) = key else {
        let (status, body) = answer(&state, request, None).await?;
        return Ok(json_response(status, body, false));
    };
    let hash = request_hash(&request);
    let ttl = state.settings.idempotency_ttl;
    match state.store.claim_idempotency_key(&key, &hash, ttl).await? {
        KeyClaim::New => {}
        KeyClaim::Replay { status_code, body } => {
            metrics::counter!("heron_idempotent_replays_total").increment(1);
            let status = StatusCode::from_u16(status_code).unwrap_or(StatusCode::OK);
            return Ok(json_response(status, body, true));
        }
        KeyClaim::InProgress { job_id } => return Err(ApiError::IdempotencyKeyInUse { job_id }),
        KeyClaim::Mismatch => return Err(ApiError::IdempotencyKeyReused),
    }
    match answer(&state, request, Some(&key)).await {
        Ok((status, body)) => {
            state
                .store
                .record_idempotent_response(&key, status.as_u16(), &body)
                .await?;
            Ok(json_response(status, body, false))
        }
        Err(error) => {
            // Failed before a job existed: the client's retry must not be
            // refused. (After, the key stays bound to the job.)
            if let Err(e) = state.store.release_idempotency_key(&key).await {
                tracing::warn!(error = %e, "could not release an idempotency key");
            }
            Err(error)
        }
    }
}

/// The files of an upload form, each stored as it streams in (and the
/// `callback_url` field, into `callback`).
async fn receive_files(
    state: &AppState,
    multipart: &mut Multipart,
    mut allowance: Option<u64>,
    callback: &mut Option<String>,
) -> Result<Vec<Received>, ApiError> {
    let mut received: Vec<Received> = Vec::new();
    while let Some(field) = multipart.next_field().await.map_err(multipart_error)? {
        if field.name() == Some("callback_url") {
            *callback = Some(field.text().await.map_err(multipart_error)?);
            continue;
        }
        if field.name() != Some("files") {
            continue;
        }
        if received.len() >= state.settings.max_batch_size {
            return Err(ApiError::BatchTooLarge {
                count: received.len() + 1,
                limit: state.settings.max_batch_size,
            });
        }
        let file = receive_file(state, field, allowance).await;
        if file.is_ok() {
            state.breakers.blob_store.success();
        }
        let file = file?;
        allowance = allowance.map(|left| left.saturating_sub(file.size_bytes));
        received.push(file);
    }
    if received.is_empty() {
        return Err(ApiError::NoFiles);
    }
    Ok(received)
}

/// Create the job and answer: the results (200) for a small batch, the
/// job id (202) for a larger one. The body is JSON text, so that an
/// idempotent request can store it as sent.
async fn answer(
    state: &AppState,
    request: Request,
    idempotency_key: Option<&str>,
) -> Result<(StatusCode, String), ApiError> {
    let Request {
        principal,
        request_id,
        received,
        show_explanations,
        callback,
    } = request;
    let synchronous = received.len() <= state.settings.sync_max_files;
    let job_id = uuid::Uuid::new_v4().simple().to_string();
    let owner = format!("{}:request:{request_id}", state.instance_id);
    let job = NewJob {
        id: job_id.clone(),
        tenant: principal.tenant.clone(),
        actor: principal.actor.clone(),
        request_id,
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
        callback_url: callback,
        trace_context: heron_worker::trace::current_traceparent(),
    };
    match idempotency_key {
        Some(key) => state.store.create_job_for_key(&job, key).await?,
        None => state.store.create_job(&job).await?,
    }

    if !synchronous {
        tracing::info!(job_id = %job_id, files = job.tasks.len(), "batch queued");
        let accepted = JobAccepted {
            job_id,
            status: "queued".to_owned(),
        };
        return Ok((StatusCode::ACCEPTED, to_json(&accepted)?));
    }
    // Each file runs in its own task, so the files of a batch proceed in
    // parallel (bounded by the worker slots) and finish and are stored
    // even if the client hangs up. A file that fails transiently goes back
    // to the queue, where a worker finishes it; the client is told to
    // retry (the job exists).
    let tasks = state.store.leased_tasks(&job_id, &owner).await?;
    let handles: Vec<_> = tasks
        .into_iter()
        .map(|task| {
            let worker = state.worker.clone();
            let owner = owner.clone();
            tokio::spawn(async move { worker.process_or_requeue(&task, &owner).await })
        })
        .collect();
    let mut results: Vec<ClassificationResult> = Vec::with_capacity(handles.len());
    for handle in handles {
        let result = handle
            .await
            .map_err(|e| ApiError::Internal(e.to_string()))??;
        results.push(result);
    }
    let results = shown(&state.store, results, show_explanations).await?;
    Ok((StatusCode::OK, to_json(&results)?))
}

fn to_json(value: &impl Serialize) -> Result<String, ApiError> {
    serde_json::to_string(value).map_err(|e| ApiError::Internal(e.to_string()))
}

fn json_response(status: StatusCode, body: String, replayed: bool) -> Response {
    let mut response = (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response();
    if replayed {
        response
            .headers_mut()
            .insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    response
}

fn header_text(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// Read a refused form to its end, keeping nothing, so that the client,
/// still sending, gets the answer rather than a reset connection (a
/// server that closes a socket with unread bytes makes the kernel reset
/// it, and the client may lose the answer it was sent). At most
/// [`DRAIN_LIMIT`] bytes: past that the connection is closed anyway.
pub(crate) async fn drain(form: &mut Multipart) {
    let mut drained = 0u64;
    while let Ok(Some(mut field)) = form.next_field().await {
        while let Ok(Some(chunk)) = field.chunk().await {
            drained += chunk.len() as u64;
            if drained > DRAIN_LIMIT {
                return;
            }
        }
    }
}

/// The most [`drain`] reads of a refused body.
const DRAIN_LIMIT: u64 = 256 * 1024 * 1024;

/// Refuse an upload of `incoming` bytes that would take the tenant past
/// its bytes-per-day quota, before any byte is stored; else what the
/// tenant may still upload today (`None`: no quota), against which the
/// bytes really received are counted.
pub(crate) async fn quota_allowance(
    state: &AppState,
    principal: &Principal,
    incoming: u64,
) -> Result<Option<u64>, ApiError> {
    let quota = state.settings.quota_tenant_bytes_per_day;
    if quota == 0 {
        return Ok(None);
    }
    let day_ago = time::OffsetDateTime::now_utc().unix_timestamp() * 1000 - 86_400_000;
    let used = state
        .store
        .tenant_upload_bytes_since(&principal.tenant, day_ago)
        .await?;
    if used.saturating_add(incoming) > quota {
        return Err(quota_exceeded(quota));
    }
    Ok(Some(quota - used))
}

/// The refusal of an upload past the daily quota of `quota` bytes.
pub(crate) fn quota_exceeded(quota: u64) -> ApiError {
    metrics::counter!("heron_quota_refusals_total").increment(1);
    ApiError::QuotaExceeded {
        limit_mb: quota / (1024 * 1024),
        retry_after_secs: 3600,
    }
}

/// The job's callback URL (form field `callback_url` or header
/// `X-Callback-Url`), checked against the webhook address policy; refused
/// when there is no secret to sign deliveries with.
fn callback_url(state: &AppState, given: Option<String>) -> Result<Option<String>, ApiError> {
    let Some(given) = given.filter(|u| !u.trim().is_empty()) else {
        return Ok(None);
    };
    if given.len() > 2048 {
        return Err(ApiError::InvalidCallbackUrl(
            "longer than 2048 characters".to_owned(),
        ));
    }
    let url = state
        .settings
        .webhook_networks
        .check_url(&given)
        .map_err(|e| ApiError::InvalidCallbackUrl(e.to_string()))?;
    if state.settings.webhook_secret.is_none() {
        return Err(ApiError::CallbacksNotConfigured);
    }
    Ok(Some(url.to_string()))
}

/// The `Idempotency-Key` header, if sent: 1–255 visible ASCII characters.
fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(value) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    let key = value
        .to_str()
        .map_err(|_| ApiError::InvalidIdempotencyKey("not visible ASCII".to_owned()))?
        .trim();
    if key.is_empty() || key.len() > 255 || !key.chars().all(|c| c.is_ascii_graphic()) {
        return Err(ApiError::InvalidIdempotencyKey(
            "expected 1–255 visible ASCII characters".to_owned(),
        ));
    }
    Ok(Some(key.to_owned()))
}

/// What makes two uploads "the same request": every file's name and
/// content, in order, the query and the callback URL.
fn request_hash(request: &Request) -> String {
    let mut hasher = Sha256::new();
    hasher.update(if request.show_explanations.explain {
        &b"explain\n"[..]
    } else {
        &b"plain\n"[..]
    });
    hasher.update(format!("{:?}\n", request.show_explanations.parts).as_bytes());
    hasher.update(request.callback.as_deref().unwrap_or("").as_bytes());
    hasher.update(b"\n");
    for file in &request.received {
        hasher.update(file.filename.as_bytes());
        hasher.update(b"\0");
        hasher.update(file.sha256.as_bytes());
        hasher.update(b"\n");
    }
    hex::encode(hasher.finalize())
}

/// Refuse a file whose extension is not in `ALLOWED_EXTENSIONS`.
pub(crate) fn check_extension(state: &AppState, filename: &str) -> Result<(), ApiError> {
    let extension = Path::new(filename)
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    if state.settings.extension_allowed(&extension) {
        return Ok(());
    }
    Err(ApiError::UnsupportedExtension {
        filename: filename.to_owned(),
        extension,
        allowed: state
            .settings
            .allowed_extensions
            .iter()
            .cloned()
            .collect::<Vec<_>>()
            .join(","),
    })
}

/// The error for a file over the size limit.
pub(crate) fn too_large(filename: &str, limit: u64) -> ApiError {
    ApiError::FileTooLarge {
        filename: filename.to_owned(),
        limit_mb: limit as f64 / (1024.0 * 1024.0),
    }
}

/// Store one file field, refusing it past the file size limit or past
/// what is left of the tenant's daily quota (`allowance`).
async fn receive_file(
    state: &AppState,
    mut field: Field<'_>,
    allowance: Option<u64>,
) -> Result<Received, ApiError> {
    let filename = sanitize_filename(field.file_name().unwrap_or("upload"));
    check_extension(state, &filename)?;
    let file_limit = state.settings.max_file_size_bytes;
    let limit = allowance.map_or(file_limit, |left| left.min(file_limit));
    let mut writer: BlobWriter = state.blobs.writer(limit).await?;
    while let Some(chunk) = field.chunk().await.map_err(multipart_error)? {
        writer.write(&chunk).await.map_err(|e| match e {
            StoreError::TooLarge { .. } if limit < file_limit => {
                quota_exceeded(state.settings.quota_tenant_bytes_per_day)
            }
            StoreError::TooLarge { .. } => too_large(&filename, file_limit),
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
pub(crate) fn sanitize_filename(name: &str) -> String {
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
