//! Documents (one uploaded file each; its id is the result's
//! `document_id`): read everything stored about one, erase one.

use axum::Extension;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use heron_core::ClassificationResult;
use heron_store::AuditEntry;
use serde::Serialize;
use utoipa::ToSchema;

use crate::AppState;
use crate::auth::Principal;
use crate::error::{ApiError, ErrorEnvelope};
use crate::jobs::rfc3339;
use crate::request_id::RequestId;

/// Everything stored about a document.
#[derive(Debug, Serialize, ToSchema)]
pub struct DocumentResponse {
    pub document_id: String,
    pub job_id: String,
    pub filename: String,
    pub sha256: String,
    pub size_bytes: u64,
    /// `pending`, `processing`, `done`, `failed`, `cancelled`.
    pub state: String,
    pub result: Option<ClassificationResult>,
    pub created_at: String,
    pub updated_at: String,
}

/// Get a document of the caller's tenant (audited as `document.read`).
#[utoipa::path(
    get,
    path = "/v1/documents/{document_id}",
    tag = "documents",
    params(("document_id" = String, Path, description = "A result's document_id")),
    responses(
        (status = 200, description = "The document", body = DocumentResponse),
        (status = 401, description = "Missing or unknown credential", body = ErrorEnvelope),
        (status = 404, description = "Unknown document, or another tenant's (`document_not_found`)", body = ErrorEnvelope),
    )
)]
pub async fn get_document(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Extension(RequestId(request_id)): Extension<RequestId>,
    Path(document_id): Path<String>,
) -> Result<axum::Json<DocumentResponse>, ApiError> {
    let record = state
        .store
        .document(&principal.tenant, &document_id)
        .await?
        .ok_or_else(|| ApiError::DocumentNotFound(document_id.clone()))?;
    let entry = AuditEntry::ok(
        &principal.tenant,
        &principal.actor(&request_id),
        "document.read",
        format!("document:{document_id}"),
    );
    state.store.audit(&entry).await?;
    let state_name = match record.state.as_str() {
        "leased" => "processing",
        "dead" => "failed",
        other => other,
    }
    .to_owned();
    Ok(axum::Json(DocumentResponse {
        document_id: record.id,
        job_id: record.job_id,
        filename: record.filename,
        sha256: record.sha256,
        size_bytes: record.size_bytes,
        state: state_name,
        result: record.result,
        created_at: rfc3339(record.created_at_ms),
        updated_at: rfc3339(record.updated_at_ms),
    }))
}

/// Erase a document everywhere: its file (unless another document of any
/// tenant has the same bytes), its result, its job when it was the job's
/// last file, stored answers that contain it (admin; audited as
/// `document.erase`). The right to erasure.
#[utoipa::path(
    delete,
    path = "/v1/documents/{document_id}",
    tag = "documents",
    params(("document_id" = String, Path, description = "A result's document_id")),
    responses(
        (status = 204, description = "Erased"),
        (status = 401, description = "Missing or unknown credential", body = ErrorEnvelope),
        (status = 403, description = "The credential lacks the admin scope (`forbidden`)", body = ErrorEnvelope),
        (status = 404, description = "Unknown document, or another tenant's (`document_not_found`)", body = ErrorEnvelope),
    )
)]
pub async fn erase_document(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Extension(RequestId(request_id)): Extension<RequestId>,
    Path(document_id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let erased = state
        .store
        .erase_document(
            &state.blobs,
            &principal.tenant,
            &document_id,
            &principal.actor(&request_id),
            "document.erase",
        )
        .await?;
    if !erased {
        return Err(ApiError::DocumentNotFound(document_id));
    }
    tracing::info!(document_id = %document_id, "document erased");
    Ok(StatusCode::NO_CONTENT)
}
