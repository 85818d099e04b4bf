//! The one error type of the API and its JSON envelope.
//!
//! Every error answers with the original service's envelope:
//! `{"error": {"code", "message", "request_id"}, "detail"}`, where `code` is
//! a stable snake_case string clients can match on. Client errors echo their
//! cause; server errors log it and answer a generic message.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
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
    #[error("internal error")]
    Internal(String),
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
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
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The stable machine code. Never renamed.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::Unauthorized => "unauthorized",
            ApiError::NoFiles => "no_files",
            ApiError::BatchTooLarge { .. } => "batch_too_large",
            ApiError::FileTooLarge { .. } => "file_too_large",
            ApiError::BodyTooLarge { .. } => "body_too_large",
            ApiError::UnsupportedExtension { .. } => "unsupported_extension",
            ApiError::InvalidMultipart(_) => "invalid_multipart",
            ApiError::InvalidQuery(_) => "invalid_query",
            ApiError::JobNotFound(_) => "job_not_found",
            ApiError::NotFound(_) => "not_found",
            ApiError::MethodNotAllowed => "method_not_allowed",
            ApiError::MetricsDisabled => "metrics_disabled",
            ApiError::Unavailable(_) => "service_unavailable",
            ApiError::Internal(_) => "internal_error",
        }
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
    pub code: String,
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
                code: self.code().to_owned(),
                message: message.clone(),
                request_id: request_id::current(),
            },
            detail: message,
        };
        let mut response = (status, axum::Json(envelope)).into_response();
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("ApiKey header=\"x-api-key\""),
            );
        }
        if status == StatusCode::SERVICE_UNAVAILABLE {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
        }
        response
    }
}

impl From<heron_store::StoreError> for ApiError {
    fn from(error: heron_store::StoreError) -> Self {
        ApiError::Internal(error.to_string())
    }
}

impl From<heron_worker::WorkerError> for ApiError {
    fn from(error: heron_worker::WorkerError) -> Self {
        ApiError::Internal(error.to_string())
    }
}
