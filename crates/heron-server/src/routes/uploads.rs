//! Uploads that do not fit one request: resumable uploads (the tus 1.0.0
//! protocol, core + creation, expiration and termination, so any tus
//! client works) and, on S3 deployments, presigned uploads straight into
//! the bucket.
//!
//! **Resumable.** `POST /v1/uploads` declares the file (`Upload-Length`,
//! `Upload-Metadata: filename <base64>`) and answers its URL. Each
//! `PATCH` at the current `Upload-Offset` streams its bytes into a blob
//! (a *part*), kept even when the connection breaks midway, so `HEAD`
//! then tells the client where to resume. Size and extension are checked
//! when the upload is created, and every part is limited to the bytes the
//! declared length leaves. When the last byte lands the parts are joined
//! into the file's blob and it becomes a queued job (`Heron-Job-Id`).
//!
//! **Presigned.** `POST /v1/uploads/presigned` answers a URL that lets
//! the client `PUT` one object at one key for a few minutes;
//! `POST /v1/uploads/{id}/complete` then checks the object's size against
//! the declared one (S3 cannot bind a size to a presigned `PUT`) and its
//! content, moves it into the blob store and queues it. An object of
//! another size is deleted and refused.

use std::time::Duration;

use axum::Extension;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use futures_util::StreamExt;
use heron_store::{
    Completion, NewJob, NewTask, NewUpload, StoreError, StoredBlob, UploadKind, UploadPart,
    UploadRecord,
};
use serde::{Deserialize, Serialize};
use tokio::io::AsyncReadExt;
use utoipa::ToSchema;

use crate::AppState;
use crate::access::auth::Principal;
use crate::error::{ApiError, ErrorEnvelope};
use crate::request_id::RequestId;
use crate::routes::upload::{
    JobAccepted, check_extension, quota_allowance, sanitize_filename, too_large,
};

/// The protocol version spoken.
const TUS_VERSION: &str = "1.0.0";
/// The extensions of tus implemented.
const TUS_EXTENSIONS: &str = "creation,expiration,termination";
/// The media type of a `PATCH` body.
const OFFSET_STREAM: &str = "application/offset+octet-stream";

/// Add the headers every tus answer carries; a refused version also
/// names the one spoken.
fn tus(result: Result<Response, ApiError>) -> Response {
    let refused_version = matches!(result, Err(ApiError::TusVersionUnsupported));
    let mut response = result.unwrap_or_else(IntoResponse::into_response);
    let headers = response.headers_mut();
    headers.insert("tus-resumable", HeaderValue::from_static(TUS_VERSION));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if refused_version {
        headers.insert("tus-version", HeaderValue::from_static(TUS_VERSION));
    }
    response
}

fn require_tus(headers: &HeaderMap) -> Result<(), ApiError> {
    match headers.get("tus-resumable").and_then(|v| v.to_str().ok()) {
        Some(TUS_VERSION) => Ok(()),
        _ => Err(ApiError::TusVersionUnsupported),
    }
}

fn header_number(headers: &HeaderMap, name: &str) -> Result<u64, ApiError> {
    let value = headers
        .get(name)
        .ok_or_else(|| ApiError::InvalidUploadHeader(format!("{name} is required")))?;
    value
        .to_str()
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .ok_or_else(|| ApiError::InvalidUploadHeader(format!("{name}: expected a whole number")))
}

/// The file name from `Upload-Metadata` (`filename` or `name`, base64).
fn metadata_filename(headers: &HeaderMap) -> Result<String, ApiError> {
    let Some(metadata) = headers.get("upload-metadata") else {
        return Ok("upload".to_owned());
    };
    let metadata = metadata
        .to_str()
        .map_err(|_| ApiError::InvalidUploadHeader("Upload-Metadata: not ASCII".to_owned()))?;
    for pair in metadata.split(',') {
        let mut words = pair.trim().splitn(2, ' ');
        let key = words.next().unwrap_or("");
        if key != "filename" && key != "name" {
            continue;
        }
        let value = words.next().unwrap_or("").trim();
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(value)
            .map_err(|_| {
                ApiError::InvalidUploadHeader(format!("Upload-Metadata: {key} is not base64"))
            })?;
        let name = String::from_utf8(bytes).map_err(|_| {
            ApiError::InvalidUploadHeader(format!("Upload-Metadata: {key} is not UTF-8"))
        })?;
        return Ok(sanitize_filename(&name));
    }
    Ok("upload".to_owned())
}

/// An HTTP date (RFC 9110), for `Upload-Expires`.
fn http_date(unix_ms: i64) -> String {
    let format = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    time::OffsetDateTime::from_unix_timestamp(unix_ms / 1000)
        .ok()
        .and_then(|t| t.format(&format).ok())
        .unwrap_or_default()
}

fn header_value(text: impl AsRef<str>) -> HeaderValue {
    HeaderValue::from_str(text.as_ref()).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// Checks shared by both kinds before anything is stored: name, size,
/// quota, the blob store's circuit.
async fn admit(
    state: &AppState,
    principal: &Principal,
    filename: &str,
    length: u64,
) -> Result<(), ApiError> {
    state.breakers.check_blob_store()?;
    if length == 0 {
        return Err(ApiError::InvalidUploadHeader(
            "the file is empty: declare a length of at least one byte".to_owned(),
        ));
    }
    let limit = state.settings.max_file_size_bytes;
    if length > limit {
        return Err(too_large(filename, limit));
    }
    check_extension(state, filename)?;
    quota_allowance(state, principal, length).await.map(drop)
}

async fn find(state: &AppState, principal: &Principal, id: &str) -> Result<UploadRecord, ApiError> {
    state
        .store
        .upload(&principal.tenant, id)
        .await?
        .ok_or_else(|| ApiError::UploadNotFound(id.to_owned()))
}

/// What the server supports (tus discovery).
#[utoipa::path(
    options,
    path = "/v1/uploads",
    tag = "uploads",
    responses((status = 204, description = "`Tus-Version`, `Tus-Extension`, `Tus-Max-Size`"))
)]
pub async fn discover(State(state): State<AppState>) -> Response {
    discovery(&state)
}

/// Answer a tus discovery (`OPTIONS /v1/uploads` that is not a browser's
/// CORS preflight) before the CORS layer, which would take it for one.
pub async fn discovery_outside_cors(
    State(state): State<AppState>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let tus_discovery = request.method() == axum::http::Method::OPTIONS
        && request.uri().path() == "/v1/uploads"
        && !request
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    if tus_discovery {
        return discovery(&state);
    }
    next.run(request).await
}

fn discovery(state: &AppState) -> Response {
    let mut response = StatusCode::NO_CONTENT.into_response();
    let headers = response.headers_mut();
    headers.insert("tus-version", HeaderValue::from_static(TUS_VERSION));
    headers.insert("tus-extension", HeaderValue::from_static(TUS_EXTENSIONS));
    headers.insert(
        "tus-max-size",
        header_value(state.settings.max_file_size_bytes.to_string()),
    );
    tus(Ok(response))
}

/// Start a resumable upload (tus creation).
///
/// Headers: `Tus-Resumable: 1.0.0`, `Upload-Length` (bytes, at most
/// `MAX_FILE_SIZE_MB`), `Upload-Metadata: filename <base64 of the name>`.
/// Answers `201` with `Location` (where to `PATCH`) and `Upload-Expires`.
#[utoipa::path(
    post,
    path = "/v1/uploads",
    tag = "uploads",
    responses(
        (status = 201, description = "Created: `Location`, `Upload-Expires`"),
        (status = 400, description = "Missing or bad `Upload-Length` / `Upload-Metadata` (`invalid_upload_header`)", body = ErrorEnvelope),
        (status = 412, description = "No `Tus-Resumable: 1.0.0` (`tus_version_unsupported`)", body = ErrorEnvelope),
        (status = 413, description = "Declared length over MAX_FILE_SIZE_MB (`file_too_large`)", body = ErrorEnvelope),
        (status = 415, description = "Extension not allowed (`unsupported_extension`)", body = ErrorEnvelope),
        (status = 429, description = "Daily upload quota (`quota_exceeded`)", body = ErrorEnvelope),
    )
)]
pub async fn create(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Extension(RequestId(request_id)): Extension<RequestId>,
    headers: HeaderMap,
) -> Response {
    tus(create_upload(&state, &principal, &request_id, &headers).await)
}

async fn create_upload(
    state: &AppState,
    principal: &Principal,
    request_id: &str,
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    require_tus(headers)?;
    if headers.contains_key("upload-defer-length") {
        return Err(ApiError::InvalidUploadHeader(
            "Upload-Defer-Length is not supported: declare Upload-Length".to_owned(),
        ));
    }
    let length = header_number(headers, "upload-length")?;
    let filename = metadata_filename(headers)?;
    admit(state, principal, &filename, length).await?;
    let id = uuid::Uuid::new_v4().simple().to_string();
    let expires_at =
        crate::routes::admin::now_ms() + state.settings.upload_expiry.as_millis() as i64;
    state
        .store
        .create_upload(&NewUpload {
            id: id.clone(),
            tenant: principal.tenant.clone(),
            actor: principal.actor.clone(),
            kind: UploadKind::Chunked,
            filename,
            length,
            request_id: request_id.to_owned(),
            expires_at,
        })
        .await?;
    metrics::counter!("heron_uploads_created_total", "kind" => "resumable").increment(1);
    let mut response = StatusCode::CREATED.into_response();
    let headers = response.headers_mut();
    headers.insert(header::LOCATION, header_value(format!("/v1/uploads/{id}")));
    headers.insert("upload-expires", header_value(http_date(expires_at)));
    Ok(response)
}

/// Where a resumable upload stands: `Upload-Offset` (bytes stored),
/// `Upload-Length`, and `Heron-Job-Id` once complete.
#[utoipa::path(
    head,
    path = "/v1/uploads/{upload_id}",
    tag = "uploads",
    params(("upload_id" = String, Path)),
    responses(
        (status = 200, description = "`Upload-Offset`, `Upload-Length`, `Upload-Expires`, `Heron-Job-Id` when complete"),
        (status = 404, description = "Unknown, another tenant's, or dropped"),
        (status = 410, description = "Expired before it was complete"),
    )
)]
pub async fn offset(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(upload_id): Path<String>,
    headers: HeaderMap,
) -> Response {
    tus(upload_offset(&state, &principal, &upload_id, &headers).await)
}

async fn upload_offset(
    state: &AppState,
    principal: &Principal,
    id: &str,
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    require_tus(headers)?;
    let upload = find(state, principal, id).await?;
    if !upload.is_complete() && upload.expires_at <= crate::routes::admin::now_ms() {
        return Err(ApiError::UploadExpired(id.to_owned()));
    }
    Ok(position(&upload, upload.received, StatusCode::OK))
}

/// A `200`/`204` carrying the upload's position.
fn position(upload: &UploadRecord, offset: u64, status: StatusCode) -> Response {
    let mut response = status.into_response();
    let headers = response.headers_mut();
    headers.insert("upload-offset", header_value(offset.to_string()));
    headers.insert("upload-length", header_value(upload.length.to_string()));
    if let Some(job) = &upload.job_id {
        headers.insert("heron-job-id", header_value(job));
    } else {
        headers.insert("upload-expires", header_value(http_date(upload.expires_at)));
    }
    response
}

/// Append bytes at `Upload-Offset` (tus `PATCH`).
///
/// Body: the next bytes, `Content-Type: application/offset+octet-stream`.
/// What arrives before a broken connection is kept. Answers `204` with
/// the new `Upload-Offset`; the request that delivers the last byte also
/// gets `Heron-Job-Id`: the file is queued for classification
/// (`GET /v1/jobs/{job_id}`).
#[utoipa::path(
    patch,
    path = "/v1/uploads/{upload_id}",
    tag = "uploads",
    params(("upload_id" = String, Path)),
    request_body(content = Vec<u8>, content_type = "application/offset+octet-stream"),
    responses(
        (status = 204, description = "Stored: `Upload-Offset`; `Heron-Job-Id` when complete"),
        (status = 400, description = "Missing `Upload-Offset` (`invalid_upload_header`)", body = ErrorEnvelope),
        (status = 404, description = "Unknown upload (`upload_not_found`)", body = ErrorEnvelope),
        (status = 409, description = "`Upload-Offset` is not the stored length (`upload_offset_mismatch`)", body = ErrorEnvelope),
        (status = 410, description = "Expired (`upload_expired`)", body = ErrorEnvelope),
        (status = 413, description = "More bytes than declared (`file_too_large`)", body = ErrorEnvelope),
        (status = 415, description = "Wrong Content-Type (`invalid_content_type`)", body = ErrorEnvelope),
    )
)]
pub async fn append(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Extension(RequestId(request_id)): Extension<RequestId>,
    Path(upload_id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    tus(append_bytes(&state, &principal, &request_id, &upload_id, &headers, body).await)
}

async fn append_bytes(
    state: &AppState,
    principal: &Principal,
    request_id: &str,
    id: &str,
    headers: &HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    require_tus(headers)?;
    let media_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if media_type.split(';').next().map(str::trim) != Some(OFFSET_STREAM) {
        return Err(ApiError::InvalidContentType(OFFSET_STREAM));
    }
    let given = header_number(headers, "upload-offset")?;
    let upload = find(state, principal, id).await?;
    if upload.kind != UploadKind::Chunked {
        return Err(ApiError::UploadNotFound(id.to_owned()));
    }
    if upload.is_complete() {
        // A retry of the last request, whose answer was lost.
        if given == upload.length {
            return Ok(position(&upload, upload.length, StatusCode::NO_CONTENT));
        }
        return Err(ApiError::UploadOffsetMismatch {
            expected: upload.length,
            given,
        });
    }
    if upload.expires_at <= crate::routes::admin::now_ms() {
        return Err(ApiError::UploadExpired(id.to_owned()));
    }
    if given != upload.received {
        return Err(ApiError::UploadOffsetMismatch {
            expected: upload.received,
            given,
        });
    }
    state.breakers.check_blob_store()?;
    let (stored, broken) = receive_part(state, &upload, body).await?;
    let mut received = upload.received;
    if let Some(blob) = stored {
        let part = UploadPart {
            first_byte: upload.received,
            sha256: blob.sha256,
            size_bytes: blob.size_bytes,
        };
        if !state.store.append_upload_part(id, &part).await? {
            let now = find(state, principal, id).await?;
            return Err(ApiError::UploadOffsetMismatch {
                expected: now.received,
                given,
            });
        }
        received += part.size_bytes;
        metrics::counter!("heron_upload_bytes_total").increment(part.size_bytes);
    }
    if let Some(error) = broken {
        tracing::info!(upload_id = %id, kept = received - upload.received, error = %error,
            "an upload's connection broke; the bytes received are kept for a resume");
        return Err(ApiError::InvalidBody(format!(
            "the request body broke off after {} bytes (kept: resume at Upload-Offset {received})",
            received - upload.received
        )));
    }
    if received < upload.length {
        return Ok(position(&upload, received, StatusCode::NO_CONTENT));
    }
    let job_id = finish(state, principal, request_id, &upload).await?;
    let done = UploadRecord {
        job_id: Some(job_id),
        ..upload
    };
    Ok(position(&done, done.length, StatusCode::NO_CONTENT))
}

/// Stream a `PATCH` body into a blob, up to the bytes the upload still
/// lacks. Returns the blob (`None` when no byte came) and, when the
/// connection broke, why — the bytes before the break are in the blob.
async fn receive_part(
    state: &AppState,
    upload: &UploadRecord,
    body: Body,
) -> Result<(Option<StoredBlob>, Option<axum::Error>), ApiError> {
    let remaining = upload.length - upload.received;
    let mut writer = state.blobs.writer(remaining).await?;
    let mut stream = body.into_data_stream();
    let mut broken = None;
    while let Some(chunk) = stream.next().await {
        match chunk {
            Ok(bytes) => writer.write(&bytes).await.map_err(|e| match e {
                StoreError::TooLarge { .. } => too_large(&upload.filename, upload.length),
                other => ApiError::from(other),
            })?,
            Err(error) => {
                broken = Some(error);
                break;
            }
        }
    }
    if writer.written() == 0 {
        return Ok((None, broken));
    }
    let blob = writer.commit().await?;
    state.breakers.blob_store.success();
    Ok((Some(blob), broken))
}

/// Join the parts into the file's blob and queue it as a job; the job id
/// (another request's, if it completed the upload first).
async fn finish(
    state: &AppState,
    principal: &Principal,
    request_id: &str,
    upload: &UploadRecord,
) -> Result<String, ApiError> {
    let blob = assemble(state, upload).await?;
    queue(state, principal, request_id, upload, blob).await
}

/// The file's blob from its parts. One part is the file already.
async fn assemble(state: &AppState, upload: &UploadRecord) -> Result<StoredBlob, ApiError> {
    let parts = state.store.upload_parts(&upload.id).await?;
    if let [only] = parts.as_slice()
        && only.size_bytes == upload.length
    {
        return Ok(StoredBlob {
            sha256: only.sha256.clone(),
            size_bytes: only.size_bytes,
        });
    }
    let mut writer = state.blobs.writer(upload.length).await?;
    let mut buffer = vec![0u8; 256 * 1024];
    for part in &parts {
        if part.first_byte != writer.written() {
            return Err(ApiError::Internal(format!(
                "upload {}: part at byte {} where {} was expected",
                upload.id,
                part.first_byte,
                writer.written()
            )));
        }
        let local = state.blobs.fetch(&part.sha256, part.size_bytes).await?;
        let mut file = tokio::fs::File::open(local.path())
            .await
            .map_err(StoreError::from)?;
        loop {
            let n = file.read(&mut buffer).await.map_err(StoreError::from)?;
            if n == 0 {
                break;
            }
            writer.write(&buffer[..n]).await?;
        }
    }
    if writer.written() != upload.length {
        return Err(ApiError::Internal(format!(
            "upload {}: parts hold {} of {} bytes",
            upload.id,
            writer.written(),
            upload.length
        )));
    }
    Ok(writer.commit().await?)
}

/// Create the job classifying a complete upload's file, marking the
/// upload complete in the same transaction.
async fn queue(
    state: &AppState,
    principal: &Principal,
    request_id: &str,
    upload: &UploadRecord,
    blob: StoredBlob,
) -> Result<String, ApiError> {
    let job = NewJob {
        id: uuid::Uuid::new_v4().simple().to_string(),
        tenant: principal.tenant.clone(),
        actor: principal.actor.clone(),
        request_id: request_id.to_owned(),
        synchronous: false,
        lease_owner: None,
        lease: state.settings.task_lease,
        tasks: vec![NewTask {
            id: uuid::Uuid::new_v4().simple().to_string(),
            filename: upload.filename.clone(),
            sha256: blob.sha256,
            size_bytes: blob.size_bytes,
        }],
        callback_url: None,
        trace_context: heron_worker::trace::current_traceparent(),
    };
    let job_id = match state.store.complete_upload(&upload.id, &job).await? {
        Completion::Created => {
            metrics::counter!("heron_files_received_total").increment(1);
            tracing::info!(upload_id = %upload.id, job_id = %job.id, bytes = upload.length, "upload complete, queued");
            job.id
        }
        Completion::AlreadyComplete(job_id) => job_id,
        Completion::Gone => return Err(ApiError::UploadNotFound(upload.id.clone())),
    };
    // The parts are queued for deletion; delete them off the request path.
    let (store, blobs) = (state.store.clone(), state.blobs.clone());
    tokio::spawn(async move {
        if let Err(e) = store.drain_blob_deletions(&blobs).await {
            tracing::warn!(error = %e, "could not delete an upload's parts yet; the retention loop will");
        }
    });
    Ok(job_id)
}

/// Abandon a resumable upload (tus termination): its stored bytes are
/// deleted.
#[utoipa::path(
    delete,
    path = "/v1/uploads/{upload_id}",
    tag = "uploads",
    params(("upload_id" = String, Path)),
    responses(
        (status = 204, description = "Dropped"),
        (status = 404, description = "Unknown, another tenant's, or already complete (`upload_not_found`)", body = ErrorEnvelope),
    )
)]
pub async fn terminate(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Extension(RequestId(request_id)): Extension<RequestId>,
    Path(upload_id): Path<String>,
    headers: HeaderMap,
) -> Response {
    tus(terminate_upload(&state, &principal, &request_id, &upload_id, &headers).await)
}

async fn terminate_upload(
    state: &AppState,
    principal: &Principal,
    request_id: &str,
    id: &str,
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    require_tus(headers)?;
    let upload = find(state, principal, id).await?;
    if upload.kind == UploadKind::Presigned {
        state.blobs.remove_incoming(id).await?;
    }
    let actor = principal.actor(request_id);
    if !state
        .store
        .drop_upload(&principal.tenant, id, &actor)
        .await?
    {
        return Err(ApiError::UploadNotFound(id.to_owned()));
    }
    state.store.drain_blob_deletions(&state.blobs).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// An upload's state, for clients that prefer JSON to tus headers.
#[derive(Debug, Serialize, ToSchema)]
pub struct UploadStatus {
    pub upload_id: String,
    /// `resumable` or `presigned`.
    pub kind: String,
    pub filename: String,
    /// Declared size in bytes.
    pub length: u64,
    /// Bytes stored so far (resumable uploads).
    pub received: u64,
    /// Set once complete: the job classifying the file.
    pub job_id: Option<String>,
    /// RFC 3339; an unfinished upload is dropped then.
    pub expires_at: String,
}

fn status_of(upload: &UploadRecord) -> UploadStatus {
    UploadStatus {
        upload_id: upload.id.clone(),
        kind: match upload.kind {
            UploadKind::Chunked => "resumable",
            UploadKind::Presigned => "presigned",
        }
        .to_owned(),
        filename: upload.filename.clone(),
        length: upload.length,
        received: upload.received,
        job_id: upload.job_id.clone(),
        expires_at: crate::routes::jobs::rfc3339(upload.expires_at),
    }
}

/// An upload's state as JSON.
#[utoipa::path(
    get,
    path = "/v1/uploads/{upload_id}",
    tag = "uploads",
    params(("upload_id" = String, Path)),
    responses(
        (status = 200, description = "The upload", body = UploadStatus),
        (status = 404, description = "Unknown or another tenant's (`upload_not_found`)", body = ErrorEnvelope),
    )
)]
pub async fn status(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(upload_id): Path<String>,
) -> Result<axum::Json<UploadStatus>, ApiError> {
    let upload = find(&state, &principal, &upload_id).await?;
    Ok(axum::Json(status_of(&upload)))
}

/// A file to be put straight into the bucket.
#[derive(Debug, Deserialize, ToSchema)]
pub struct PresignRequest {
    pub filename: String,
    /// Exact size in bytes: completion refuses an object of another size.
    pub size_bytes: u64,
}

/// Where and how to put the file.
#[derive(Debug, Serialize, ToSchema)]
pub struct PresignedUpload {
    pub upload_id: String,
    /// Always `PUT`.
    pub method: String,
    pub url: String,
    /// RFC 3339: the URL stops working then.
    pub url_expires_at: String,
    /// `POST` here once the object is in the bucket.
    pub complete_url: String,
}

/// Ask for a presigned upload URL (S3 deployments).
///
/// The URL allows a `PUT` at one key for `HERON_PRESIGN_EXPIRY_SECS`
/// (300 s). Then `POST` the `complete_url`, which refuses an object of
/// another size than `size_bytes`.
#[utoipa::path(
    post,
    path = "/v1/uploads/presigned",
    tag = "uploads",
    request_body = PresignRequest,
    responses(
        (status = 201, description = "Put the file at `url`", body = PresignedUpload),
        (status = 400, description = "Bad body (`invalid_body`), empty file (`invalid_upload_header`), or not an S3 deployment (`presigned_uploads_unavailable`)", body = ErrorEnvelope),
        (status = 413, description = "Over MAX_FILE_SIZE_MB (`file_too_large`)", body = ErrorEnvelope),
        (status = 415, description = "Extension not allowed (`unsupported_extension`)", body = ErrorEnvelope),
        (status = 429, description = "Daily upload quota (`quota_exceeded`)", body = ErrorEnvelope),
    )
)]
pub async fn presign(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Extension(RequestId(request_id)): Extension<RequestId>,
    body: Result<axum::Json<PresignRequest>, axum::extract::rejection::JsonRejection>,
) -> Result<(StatusCode, axum::Json<PresignedUpload>), ApiError> {
    let axum::Json(body) = body.map_err(|e| ApiError::InvalidBody(e.body_text()))?;
    if !state.blobs.is_remote() {
        return Err(ApiError::PresignUnavailable);
    }
    let filename = sanitize_filename(&body.filename);
    admit(&state, &principal, &filename, body.size_bytes).await?;
    let id = uuid::Uuid::new_v4().simple().to_string();
    let now = crate::routes::admin::now_ms();
    let expiry: Duration = state.settings.presign_expiry;
    let url = state
        .blobs
        .presigned_put(&id, expiry)
        .await?
        .ok_or(ApiError::PresignUnavailable)?;
    state
        .store
        .create_upload(&NewUpload {
            id: id.clone(),
            tenant: principal.tenant.clone(),
            actor: principal.actor.clone(),
            kind: UploadKind::Presigned,
            filename,
            length: body.size_bytes,
            request_id,
            expires_at: now + state.settings.upload_expiry.as_millis() as i64,
        })
        .await?;
    metrics::counter!("heron_uploads_created_total", "kind" => "presigned").increment(1);
    Ok((
        StatusCode::CREATED,
        axum::Json(PresignedUpload {
            complete_url: format!("/v1/uploads/{id}/complete"),
            upload_id: id,
            method: "PUT".to_owned(),
            url,
            url_expires_at: crate::routes::jobs::rfc3339(now + expiry.as_millis() as i64),
        }),
    ))
}

/// Classify a presigned upload's object.
///
/// Heron checks that the object is there with the declared size, reads
/// it into its blob store (hashed, encrypted when configured), checks
/// that its content is a document it reads, deletes the object and
/// queues the file: `202` with the job. A repeat answers the same job.
#[utoipa::path(
    post,
    path = "/v1/uploads/{upload_id}/complete",
    tag = "uploads",
    params(("upload_id" = String, Path)),
    responses(
        (status = 202, description = "Queued", body = JobAccepted),
        (status = 404, description = "Unknown, another tenant's, or not presigned (`upload_not_found`)", body = ErrorEnvelope),
        (status = 409, description = "Nothing was put yet (`upload_incomplete`)", body = ErrorEnvelope),
        (status = 410, description = "Expired (`upload_expired`)", body = ErrorEnvelope),
        (status = 415, description = "The content is not a document (`unsupported_content`)", body = ErrorEnvelope),
        (status = 422, description = "The object's size is not the declared one (`upload_size_mismatch`)", body = ErrorEnvelope),
    )
)]
pub async fn complete(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Extension(RequestId(request_id)): Extension<RequestId>,
    Path(upload_id): Path<String>,
) -> Result<(StatusCode, axum::Json<JobAccepted>), ApiError> {
    let upload = find(&state, &principal, &upload_id).await?;
    if upload.kind != UploadKind::Presigned {
        return Err(ApiError::UploadNotFound(upload_id));
    }
    let accepted = |job_id: String| {
        (
            StatusCode::ACCEPTED,
            axum::Json(JobAccepted {
                job_id,
                status: "queued".to_owned(),
            }),
        )
    };
    if let Some(job_id) = upload.job_id.clone() {
        return Ok(accepted(job_id));
    }
    if upload.expires_at <= crate::routes::admin::now_ms() {
        return Err(ApiError::UploadExpired(upload_id));
    }
    state.breakers.check_blob_store()?;
    let Some(found) = state.blobs.incoming_size(&upload_id).await? else {
        return Err(ApiError::UploadIncomplete {
            upload_id,
            received: 0,
            length: upload.length,
        });
    };
    if found != upload.length {
        state.blobs.remove_incoming(&upload_id).await?;
        return Err(ApiError::UploadSizeMismatch {
            declared: upload.length,
            found,
        });
    }
    let blob = state
        .blobs
        .import_incoming(&upload_id, upload.length)
        .await
        .map_err(|e| match e {
            StoreError::TooLarge { .. } => ApiError::UploadSizeMismatch {
                declared: upload.length,
                found: upload.length + 1,
            },
            other => ApiError::from(other),
        })?;
    check_content(&state, &upload, &blob).await?;
    let job_id = queue(&state, &principal, &request_id, &upload, blob).await?;
    Ok(accepted(job_id))
}

/// Refuse content that is no document at all (an executable renamed
/// `.pdf`); the pipeline deals with everything else, format by format.
async fn check_content(
    state: &AppState,
    upload: &UploadRecord,
    blob: &StoredBlob,
) -> Result<(), ApiError> {
    let local = state.blobs.fetch(&blob.sha256, blob.size_bytes).await?;
    let path = local.path().to_path_buf();
    let extension = std::path::Path::new(&upload.filename)
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_owned);
    let kind =
        tokio::task::spawn_blocking(move || heron_extract::sniff_file(&path, extension.as_deref()))
            .await
            .map_err(|e| ApiError::Internal(e.to_string()))?
            .map_err(StoreError::from)?;
    drop(local);
    if let heron_extract::FileKind::Unknown { description } = kind {
        // No task refers to it: the drain deletes it.
        state.store.queue_unused_blob(&blob.sha256).await?;
        if let Err(e) = state.store.drain_blob_deletions(&state.blobs).await {
            tracing::warn!(error = %e, "could not delete a refused upload yet; the retention loop will");
        }
        return Err(ApiError::UnsupportedContent {
            filename: upload.filename.clone(),
            found: description.to_owned(),
        });
    }
    Ok(())
}
