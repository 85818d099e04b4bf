//! The one error type of the API and its JSON envelope.
//!
//! Every error answers with the original service's envelope:
//! `{"error": {"code", "message", "request_id"}, "detail"}`, where `code` is
//! a stable snake_case string clients can match on. Client errors echo their
//! cause; server errors log it and answer a generic message.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::request_id;

/// Everything a handler can fail with, one variant per stable code.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("missing or unknown API key: send it in the x-api-key header")]
    Unauthorized,
    #[error("no files were uploaded: send one or more multipart parts named \"files\"")]
    NoFiles,
    #[error("too many files: {count} or more in one request, the limit is {limit}")]
    BatchTooLarge { count: usize, limit: usize },
    #[error("file {filename:?} is larger than the limit of {limit_mb} MB")]
    FileTooLarge { filename: String, limit_mb: f64 },
    #[error("the request body is larger than the limit of {limit_bytes} bytes")]
    BodyTooLarge { limit_bytes: u64 },
    #[error("file {filename:?}: extension {extension:?} is not allowed (allowed: {allowed})")]
    UnsupportedExtension {
        filename: String,
        extension: String,
        allowed: String,
    },
    #[error("invalid multipart body: {0}")]
    InvalidMultipart(String),
    #[error("invalid query string: {0}")]
    InvalidQuery(String),
    #[error("job {0} not found")]
    JobNotFound(String),
    #[error("no route for {0}")]
    NotFound(String),
    #[error("method not allowed for this route")]
    MethodNotAllowed,
    #[error("metrics are disabled (PROMETHEUS_ENABLED=false)")]
    MetricsDisabled,
    #[error("the service is not ready: {0}")]
    Unavailable(String),
    #[error("the {dependency} is unavailable; nothing was lost, try again shortly")]
    DependencyUnavailable {
        dependency: &'static str,
        /// Set when an open circuit refused the call (no new failure).
        retry_after: Option<std::time::Duration>,
    },
    #[error("this credential lacks the {0:?} scope this route needs")]
    Forbidden(&'static str),
    #[error("invalid bearer token: {0}")]
    InvalidToken(String),
    #[error("too many requests for this {scope}; retry in {retry_after_secs} s")]
    RateLimited {
        scope: &'static str,
        retry_after_secs: u64,
    },
    #[error(
        "the tenant's upload quota of {limit_mb} MB per day is used up; retry in {retry_after_secs} s"
    )]
    QuotaExceeded {
        limit_mb: u64,
        retry_after_secs: u64,
    },
    #[error("document {0} not found")]
    DocumentNotFound(String),
    #[error("API key {0} not found")]
    KeyNotFound(String),
    #[error("invalid Idempotency-Key: {0}")]
    InvalidIdempotencyKey(String),
    #[error("this Idempotency-Key was used with a different request body within its lifetime")]
    IdempotencyKeyReused,
    #[error("a request with this Idempotency-Key is still being answered{}", .job_id.as_ref().map(|j| format!(" (job {j})")).unwrap_or_default())]
    IdempotencyKeyInUse { job_id: Option<String> },
    #[error("job {job_id} is already {status} and cannot be cancelled")]
    JobNotCancellable { job_id: String, status: String },
    #[error("task {0} is not in the dead-letter queue")]
    DeadLetterNotFound(String),
    #[error("invalid callback URL: {0}")]
    InvalidCallbackUrl(String),
    #[error(
        "callback_url needs HERON_WEBHOOK_SECRET to sign deliveries; ask the operator to set it"
    )]
    CallbacksNotConfigured,
    #[error("invalid JSON body: {0}")]
    InvalidBody(String),
    #[error("webhook endpoint {0} not found")]
    EndpointNotFound(String),
    #[error("unknown document type {0:?}: see GET /v1/types, or define it with POST /v1/types")]
    UnknownLabel(String),
    #[error("document type {0:?} exists already")]
    TypeExists(String),
    #[error("training run {0} not found")]
    TrainingRunNotFound(String),
    #[error("model {0} not found")]
    ModelNotFound(String),
    #[error(
        "page {page} of document {document_id} has no preview (not a PDF or image, or no such page)"
    )]
    PageNotFound { document_id: String, page: u32 },
    #[error("the form's CSRF token is missing or stale: reload the page and try again")]
    CsrfRejected,
    #[error("this server speaks tus 1.0.0: send `Tus-Resumable: 1.0.0`")]
    TusVersionUnsupported,
    #[error("invalid upload header: {0}")]
    InvalidUploadHeader(String),
    #[error("Content-Type must be {0}")]
    InvalidContentType(&'static str),
    #[error("upload {0} not found")]
    UploadNotFound(String),
    #[error("upload {0} expired before it was complete; start a new one")]
    UploadExpired(String),
    #[error(
        "Upload-Offset {given} does not match the {expected} bytes stored: resume from {expected} (HEAD the upload)"
    )]
    UploadOffsetMismatch { expected: u64, given: u64 },
    #[error("upload {upload_id} has {received} of its {length} bytes: put the rest first")]
    UploadIncomplete {
        upload_id: String,
        received: u64,
        length: u64,
    },
    #[error("the uploaded object is {found} bytes, but {declared} were declared")]
    UploadSizeMismatch { declared: u64, found: u64 },
    #[error(
        "presigned uploads need an S3 blob store (HERON_BLOB_STORE=s3://...); use POST /v1/uploads or POST /v1/files"
    )]
    PresignUnavailable,
    #[error("file {filename:?} is not a kind of document Heron reads ({found})")]
    UnsupportedContent { filename: String, found: String },
    #[error("internal error")]
    Internal(String),
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Unauthorized | ApiError::InvalidToken(_) => StatusCode::UNAUTHORIZED,
            ApiError::RateLimited { .. } | ApiError::QuotaExceeded { .. } => {
                StatusCode::TOO_MANY_REQUESTS
            }
            ApiError::DocumentNotFound(_) | ApiError::KeyNotFound(_) => StatusCode::NOT_FOUND,
            ApiError::NoFiles | ApiError::InvalidMultipart(_) | ApiError::InvalidQuery(_) => {
                StatusCode::BAD_REQUEST
            }
            ApiError::BatchTooLarge { .. }
            | ApiError::FileTooLarge { .. }
            | ApiError::BodyTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedExtension { .. } => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::JobNotFound(_) | ApiError::NotFound(_) | ApiError::MetricsDisabled => {
                StatusCode::NOT_FOUND
            }
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Unavailable(_) | ApiError::DependencyUnavailable { .. } => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::InvalidIdempotencyKey(_)
            | ApiError::InvalidCallbackUrl(_)
            | ApiError::CallbacksNotConfigured
            | ApiError::InvalidBody(_) => StatusCode::BAD_REQUEST,
            ApiError::EndpointNotFound(_) => StatusCode::NOT_FOUND,
            ApiError::IdempotencyKeyReused => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::IdempotencyKeyInUse { .. } | ApiError::JobNotCancellable { .. } => {
                StatusCode::CONFLICT
            }
            ApiError::DeadLetterNotFound(_) => StatusCode::NOT_FOUND,
            ApiError::UnknownLabel(_) => StatusCode::BAD_REQUEST,
            ApiError::TypeExists(_) => StatusCode::CONFLICT,
            ApiError::TrainingRunNotFound(_)
            | ApiError::ModelNotFound(_)
            | ApiError::PageNotFound { .. } => StatusCode::NOT_FOUND,
            ApiError::CsrfRejected => StatusCode::FORBIDDEN,
            ApiError::TusVersionUnsupported => StatusCode::PRECONDITION_FAILED,
            ApiError::InvalidUploadHeader(_) | ApiError::PresignUnavailable => {
                StatusCode::BAD_REQUEST
            }
            ApiError::InvalidContentType(_) | ApiError::UnsupportedContent { .. } => {
                StatusCode::UNSUPPORTED_MEDIA_TYPE
            }
            ApiError::UploadNotFound(_) => StatusCode::NOT_FOUND,
            ApiError::UploadExpired(_) => StatusCode::GONE,
            ApiError::UploadOffsetMismatch { .. } | ApiError::UploadIncomplete { .. } => {
                StatusCode::CONFLICT
            }
            ApiError::UploadSizeMismatch { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The stable machine code. Never renamed.
    pub fn code(&self) -> ErrorCode {
        match self {
            ApiError::Unauthorized => ErrorCode::Unauthorized,
            ApiError::NoFiles => ErrorCode::NoFiles,
            ApiError::BatchTooLarge { .. } => ErrorCode::BatchTooLarge,
            ApiError::FileTooLarge { .. } => ErrorCode::FileTooLarge,
            ApiError::BodyTooLarge { .. } => ErrorCode::BodyTooLarge,
            ApiError::UnsupportedExtension { .. } => ErrorCode::UnsupportedExtension,
            ApiError::InvalidMultipart(_) => ErrorCode::InvalidMultipart,
            ApiError::InvalidQuery(_) => ErrorCode::InvalidQuery,
            ApiError::JobNotFound(_) => ErrorCode::JobNotFound,
            ApiError::NotFound(_) => ErrorCode::NotFound,
            ApiError::MethodNotAllowed => ErrorCode::MethodNotAllowed,
            ApiError::MetricsDisabled => ErrorCode::MetricsDisabled,
            ApiError::Unavailable(_) => ErrorCode::ServiceUnavailable,
            ApiError::DependencyUnavailable { .. } => ErrorCode::DependencyUnavailable,
            ApiError::Forbidden(_) => ErrorCode::Forbidden,
            ApiError::InvalidToken(_) => ErrorCode::InvalidToken,
            ApiError::RateLimited { .. } => ErrorCode::RateLimited,
            ApiError::QuotaExceeded { .. } => ErrorCode::QuotaExceeded,
            ApiError::DocumentNotFound(_) => ErrorCode::DocumentNotFound,
            ApiError::KeyNotFound(_) => ErrorCode::KeyNotFound,
            ApiError::InvalidIdempotencyKey(_) => ErrorCode::InvalidIdempotencyKey,
            ApiError::IdempotencyKeyReused => ErrorCode::IdempotencyKeyReused,
            ApiError::IdempotencyKeyInUse { .. } => ErrorCode::IdempotencyKeyInUse,
            ApiError::JobNotCancellable { .. } => ErrorCode::JobNotCancellable,
            ApiError::DeadLetterNotFound(_) => ErrorCode::DeadLetterNotFound,
            ApiError::InvalidCallbackUrl(_) => ErrorCode::InvalidCallbackUrl,
            ApiError::CallbacksNotConfigured => ErrorCode::CallbacksNotConfigured,
            ApiError::InvalidBody(_) => ErrorCode::InvalidBody,
            ApiError::EndpointNotFound(_) => ErrorCode::EndpointNotFound,
            ApiError::UnknownLabel(_) => ErrorCode::UnknownLabel,
            ApiError::TypeExists(_) => ErrorCode::TypeExists,
            ApiError::TrainingRunNotFound(_) => ErrorCode::TrainingRunNotFound,
            ApiError::ModelNotFound(_) => ErrorCode::ModelNotFound,
            ApiError::PageNotFound { .. } => ErrorCode::PageNotFound,
            ApiError::CsrfRejected => ErrorCode::CsrfRejected,
            ApiError::TusVersionUnsupported => ErrorCode::TusVersionUnsupported,
            ApiError::InvalidUploadHeader(_) => ErrorCode::InvalidUploadHeader,
            ApiError::InvalidContentType(_) => ErrorCode::InvalidContentType,
            ApiError::UploadNotFound(_) => ErrorCode::UploadNotFound,
            ApiError::UploadExpired(_) => ErrorCode::UploadExpired,
            ApiError::UploadOffsetMismatch { .. } => ErrorCode::UploadOffsetMismatch,
            ApiError::UploadIncomplete { .. } => ErrorCode::UploadIncomplete,
            ApiError::UploadSizeMismatch { .. } => ErrorCode::UploadSizeMismatch,
            ApiError::PresignUnavailable => ErrorCode::PresignedUploadsUnavailable,
            ApiError::UnsupportedContent { .. } => ErrorCode::UnsupportedContent,
            ApiError::Internal(_) => ErrorCode::InternalError,
        }
    }
}

heron_core::wire_enum! {
serde;
/// The stable machine codes of API errors: each named once here, never
/// renamed (this module's test pins them); the OpenAPI document lists
/// them as the `code` enum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum ErrorCode {
    Unauthorized = "unauthorized",
    NoFiles = "no_files",
    BatchTooLarge = "batch_too_large",
    FileTooLarge = "file_too_large",
    BodyTooLarge = "body_too_large",
    UnsupportedExtension = "unsupported_extension",
    InvalidMultipart = "invalid_multipart",
    InvalidQuery = "invalid_query",
    JobNotFound = "job_not_found",
    NotFound = "not_found",
    MethodNotAllowed = "method_not_allowed",
    MetricsDisabled = "metrics_disabled",
    ServiceUnavailable = "service_unavailable",
    DependencyUnavailable = "dependency_unavailable",
    Forbidden = "forbidden",
    InvalidToken = "invalid_token",
    RateLimited = "rate_limited",
    QuotaExceeded = "quota_exceeded",
    DocumentNotFound = "document_not_found",
    KeyNotFound = "key_not_found",
    InvalidIdempotencyKey = "invalid_idempotency_key",
    IdempotencyKeyReused = "idempotency_key_reused",
    IdempotencyKeyInUse = "idempotency_key_in_use",
    JobNotCancellable = "job_not_cancellable",
    DeadLetterNotFound = "dead_letter_not_found",
    InvalidCallbackUrl = "invalid_callback_url",
    CallbacksNotConfigured = "callbacks_not_configured",
    InvalidBody = "invalid_body",
    EndpointNotFound = "endpoint_not_found",
    UnknownLabel = "unknown_label",
    TypeExists = "type_exists",
    TrainingRunNotFound = "training_run_not_found",
    ModelNotFound = "model_not_found",
    PageNotFound = "page_not_found",
    CsrfRejected = "csrf_rejected",
    TusVersionUnsupported = "tus_version_unsupported",
    InvalidUploadHeader = "invalid_upload_header",
    InvalidContentType = "invalid_content_type",
    UploadNotFound = "upload_not_found",
    UploadExpired = "upload_expired",
    UploadOffsetMismatch = "upload_offset_mismatch",
    UploadIncomplete = "upload_incomplete",
    UploadSizeMismatch = "upload_size_mismatch",
    PresignedUploadsUnavailable = "presigned_uploads_unavailable",
    UnsupportedContent = "unsupported_content",
    InternalError = "internal_error",
}
}

/// The error envelope, as documented in the OpenAPI description.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorEnvelope {
    pub error: ErrorBody,
    /// The message again, where FastAPI clients of the original look for it.
    pub detail: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// Stable snake_case code, e.g. `unauthorized`, `file_too_large`.
    pub code: ErrorCode,
    pub message: String,
    pub request_id: String,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        if let ApiError::Internal(cause) = &self {
            tracing::error!(cause = %cause, "internal error");
        }
        let message = self.to_string();
        let envelope = ErrorEnvelope {
            error: ErrorBody {
                code: self.code(),
                message: message.clone(),
                request_id: request_id::current(),
            },
            detail: message,
        };
        let mut response = (status, axum::Json(envelope)).into_response();
        if status == StatusCode::UNAUTHORIZED {
            let challenge = if matches!(self, ApiError::InvalidToken(_)) {
                "Bearer error=\"invalid_token\""
            } else {
                "ApiKey header=\"x-api-key\""
            };
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(challenge),
            );
        }
        let retry_later = status == StatusCode::SERVICE_UNAVAILABLE
            || status == StatusCode::TOO_MANY_REQUESTS
            || matches!(self, ApiError::IdempotencyKeyInUse { .. });
        let failure = match &self {
            ApiError::DependencyUnavailable {
                dependency,
                retry_after: None,
            } => Some(DependencyFailed(dependency)),
            _ => None,
        };
        let retry_after = match &self {
            ApiError::DependencyUnavailable {
                retry_after: Some(wait),
                ..
            } => wait.as_secs().max(1),
            ApiError::RateLimited {
                retry_after_secs, ..
            }
            | ApiError::QuotaExceeded {
                retry_after_secs, ..
            } => (*retry_after_secs).max(1),
            _ => 5,
        };
        if retry_later {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
        }
        if let Some(failure) = failure {
            response.extensions_mut().insert(failure);
        }
        response
    }
}

/// An unreachable database or object store is `503` with `Retry-After`
/// (the client may simply retry); anything else is an internal error.
impl From<heron_store::StoreError> for ApiError {
    fn from(error: heron_store::StoreError) -> Self {
        match error {
            heron_store::StoreError::InvalidCursor(cursor) => {
                ApiError::InvalidQuery(format!("unknown cursor {cursor:?}"))
            }
            error if error.is_transient() => {
                tracing::warn!(error = %error, "a dependency is unavailable");
                ApiError::DependencyUnavailable {
                    dependency: dependency_name(&error),
                    retry_after: None,
                }
            }
            error => ApiError::Internal(error.to_string()),
        }
    }
}

fn dependency_name(error: &heron_store::StoreError) -> &'static str {
    match error {
        heron_store::StoreError::Database(_) => DATABASE,
        _ => BLOB_STORE,
    }
}

pub const DATABASE: &str = "database";
pub const BLOB_STORE: &str = "blob store";

/// Marks a response caused by a failing dependency, for the circuit
/// breakers (`breakers::layer`).
#[derive(Debug, Clone, Copy)]
pub struct DependencyFailed(pub &'static str);

impl From<heron_worker::WorkerError> for ApiError {
    fn from(error: heron_worker::WorkerError) -> Self {
        match error {
            heron_worker::WorkerError::Store(error) => error.into(),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::ErrorCode;

    /// Every error code, written out by hand: clients match on them, so a
    /// renamed or removed code fails here, and a new one is added here on
    /// purpose.
    #[test]
    fn error_codes_are_pinned() {
        let expected = [
            "unauthorized",
            "no_files",
            "batch_too_large",
            "file_too_large",
            "body_too_large",
            "unsupported_extension",
            "invalid_multipart",
            "invalid_query",
            "job_not_found",
            "not_found",
            "method_not_allowed",
            "metrics_disabled",
            "service_unavailable",
            "dependency_unavailable",
            "forbidden",
            "invalid_token",
            "rate_limited",
            "quota_exceeded",
            "document_not_found",
            "key_not_found",
            "invalid_idempotency_key",
            "idempotency_key_reused",
            "idempotency_key_in_use",
            "job_not_cancellable",
            "dead_letter_not_found",
            "invalid_callback_url",
            "callbacks_not_configured",
            "invalid_body",
            "endpoint_not_found",
            "unknown_label",
            "type_exists",
            "training_run_not_found",
            "model_not_found",
            "page_not_found",
            "csrf_rejected",
            "tus_version_unsupported",
            "invalid_upload_header",
            "invalid_content_type",
            "upload_not_found",
            "upload_expired",
            "upload_offset_mismatch",
            "upload_incomplete",
            "upload_size_mismatch",
            "presigned_uploads_unavailable",
            "unsupported_content",
            "internal_error",
        ];
        let names: Vec<&str> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(names, expected);
        for code in ErrorCode::ALL {
            let json = serde_json::to_string(code).expect("serialized");
            assert_eq!(json, format!("\"{}\"", code.as_str()));
            assert_eq!(ErrorCode::from_wire(code.as_str()), Some(*code));
        }
    }
}
