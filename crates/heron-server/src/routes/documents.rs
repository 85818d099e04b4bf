//! Documents (one uploaded file each; its id is the result's
//! `document_id`): read everything stored about one, its text (redacted
//! by default), erase one.

use axum::Extension;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use heron_core::ClassificationResult;
use heron_core::access::Scope;
use heron_store::AuditEntry;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::access::auth::Principal;
use crate::error::{ApiError, ErrorEnvelope};
use crate::request_id::RequestId;
use crate::routes::jobs::rfc3339;

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
    /// The tenant's file retention removed the file (the result stays).
    pub file_purged: bool,
    /// What was read inside the document: typed fields, entities, tables,
    /// segments, packet documents. Absent before processing and after the
    /// text was purged. Spans are character offsets into the page's text
    /// (`/text` joins pages with form feeds).
    pub understanding: Option<heron_core::understanding::Understanding>,
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
    let understanding = state
        .store
        .document_understanding(&principal.tenant, &document_id)
        .await?
        .and_then(|json| serde_json::from_str(&json).ok());
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
        file_purged: record.file_purged,
        understanding,
        created_at: rfc3339(record.created_at_ms),
        updated_at: rfc3339(record.updated_at_ms),
    }))
}

/// Query of the text route.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TextQuery {
    /// Replace personal data by placeholders (`[EMAIL]`, `[SSN]`…).
    /// Default `true`; `false` needs the `review` scope.
    pub redact: Option<bool>,
}

/// A document's extracted text (pages separated by form feeds), as
/// `text/plain`. The first line names who exported it, for whom and when
/// (provenance; also in the `Heron-Provenance` header). Redacted unless
/// `redact=false` is asked by a caller with the `review` scope; a tenant
/// that stores only redacted text has nothing else to give. Audited as
/// `document.text`.
#[utoipa::path(
    get,
    path = "/v1/documents/{document_id}/text",
    tag = "documents",
    params(("document_id" = String, Path, description = "A result's document_id"), TextQuery),
    responses(
        (status = 200, description = "The text", body = String, content_type = "text/plain"),
        (status = 400, description = "Bad query (`invalid_query`)", body = ErrorEnvelope),
        (status = 401, description = "Missing or unknown credential", body = ErrorEnvelope),
        (status = 403, description = "Unredacted text needs the review scope (`forbidden`)", body = ErrorEnvelope),
        (status = 404, description = "Unknown document, another tenant's, or no text (`document_not_found`)", body = ErrorEnvelope),
    )
)]
pub async fn get_text(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Extension(RequestId(request_id)): Extension<RequestId>,
    Path(document_id): Path<String>,
    query: Result<Query<TextQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(query) = query.map_err(|e| ApiError::InvalidQuery(e.body_text()))?;
    let redact = query.redact.unwrap_or(true);
    // Part of the access policy that depends on the query: seeing
    // personal data takes more than reading.
    if !redact && !principal.scopes.contains(Scope::Review) {
        return Err(ApiError::Forbidden(Scope::Review.as_str()));
    }
    let (text, stored_redacted) = state
        .store
        .document_text(&principal.tenant, &document_id)
        .await?
        .ok_or_else(|| ApiError::DocumentNotFound(document_id.clone()))?;
    let entry = AuditEntry::ok(
        &principal.tenant,
        &principal.actor(&request_id),
        "document.text",
        format!("document:{document_id}"),
    )
    .with_detail(serde_json::json!({ "redacted": redact || stored_redacted }));
    state.store.audit(&entry).await?;
    let body = if redact && !stored_redacted {
        heron_pii::redact_text(&text)
    } else {
        text
    };
    let note = if redact || stored_redacted {
        ", redacted"
    } else {
        ""
    };
    let provenance = provenance(&principal, &request_id, &document_id, note);
    let mut response = (
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        format!("[{provenance}]\n{body}"),
    )
        .into_response();
    if let Ok(value) = HeaderValue::from_str(&provenance) {
        response.headers_mut().insert("heron-provenance", value);
    }
    Ok(response)
}

/// The original file as uploaded (decrypted when stored encrypted), for a
/// caller with the `review` scope; audited as `document.download`. The
/// `Heron-Provenance` header names who downloaded it, for which tenant,
/// when; a text file also starts with that line.
#[utoipa::path(
    get,
    path = "/v1/documents/{document_id}/file",
    tag = "documents",
    params(("document_id" = String, Path, description = "A result's document_id")),
    responses(
        (status = 200, description = "The file", content_type = "application/octet-stream"),
        (status = 401, description = "Missing or unknown credential", body = ErrorEnvelope),
        (status = 403, description = "The credential lacks the review scope (`forbidden`)", body = ErrorEnvelope),
        (status = 404, description = "Unknown document, another tenant's, or its file was purged (`document_not_found`)", body = ErrorEnvelope),
    )
)]
pub async fn get_file(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Extension(RequestId(request_id)): Extension<RequestId>,
    Path(document_id): Path<String>,
) -> Result<Response, ApiError> {
    let (record, blob) = stored_file(&state, &principal, &document_id).await?;
    // At most MAX_FILE_SIZE_MB: read whole.
    let bytes = tokio::fs::read(blob.path())
        .await
        .map_err(|e| ApiError::Internal(format!("reading a spooled blob: {e}")))?;
    let entry = AuditEntry::ok(
        &principal.tenant,
        &principal.actor(&request_id),
        "document.download",
        format!("document:{document_id}"),
    );
    state.store.audit(&entry).await?;
    let provenance = provenance(&principal, &request_id, &document_id, "");
    let mime = record
        .result
        .as_ref()
        .map(|r| r.mime_type.clone())
        .filter(|m| !m.is_empty())
        .unwrap_or_else(|| "application/octet-stream".to_owned());
    let (body, stamped) = if mime.starts_with("text/plain") {
        let mut stamped = format!("[{provenance}]\n").into_bytes();
        stamped.extend_from_slice(&bytes);
        (stamped, true)
    } else if mime == "application/pdf" {
        match stamp_pdf(&state, blob, &provenance).await {
            Ok(stamped) => (stamped, true),
            Err(e) => {
                // An encrypted or broken PDF qpdf cannot rewrite: the
                // original goes out with the header only, and says so.
                tracing::warn!(document_id = %document_id, error = %e, "could not stamp a PDF");
                (bytes, false)
            }
        }
    } else {
        (bytes, false)
    };
    let disposition = format!(
        "attachment; filename=\"{}\"",
        record.filename.replace(['"', '\\'], "_")
    );
    let mut response = body.into_response();
    let headers = response.headers_mut();
    for (name, value) in [
        (header::CONTENT_TYPE, mime.as_str()),
        (header::CONTENT_DISPOSITION, disposition.as_str()),
        (
            HeaderName::from_static("heron-provenance"),
            provenance.as_str(),
        ),
        (
            HeaderName::from_static("heron-stamp"),
            if stamped { "stamped" } else { "header-only" },
        ),
    ] {
        if let Ok(value) = HeaderValue::from_str(value) {
            headers.insert(name, value);
        }
    }
    Ok(response)
}

/// The PDF with its provenance as a footer on every page and in its
/// information dictionary (qpdf, in an extraction child under its deadline
/// and memory limit).
async fn stamp_pdf(
    state: &AppState,
    blob: heron_store::LocalBlob,
    line: &str,
) -> Result<Vec<u8>, String> {
    let line = line.to_owned();
    let pipeline = state.pipeline.clone();
    tokio::task::spawn_blocking(move || {
        pipeline
            .stamp_pdf(blob.path(), &line)
            .map_err(|e| e.to_string())
    })
    .await
    .map_err(|e| e.to_string())?
}

/// Who exported a document, for whom, when.
fn provenance(principal: &Principal, request_id: &str, document_id: &str, note: &str) -> String {
    format!(
        "exported by Heron for {} of tenant {} at {} (request {request_id}, document {document_id}{note})",
        principal.actor,
        principal.tenant,
        rfc3339(crate::routes::admin::now_ms()),
    )
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

/// Longest side of a page picture, in pixels.
const PREVIEW_SIDE: u32 = 1100;

/// A picture of one page (1-based) of a PDF or image document, as PNG, for
/// a caller with the `review` scope (it shows every piece of personal
/// data); audited as `document.preview`. Rendered on the server (Poppler
/// for PDFs, under the extraction deadline), so browsers need no PDF
/// viewer and nothing but pixels leaves.
#[utoipa::path(
    get,
    path = "/v1/documents/{document_id}/pages/{page}",
    tag = "documents",
    params(
        ("document_id" = String, Path, description = "A result's document_id"),
        ("page" = u32, Path, description = "1-based page number"),
    ),
    responses(
        (status = 200, description = "The page as PNG", content_type = "image/png"),
        (status = 403, description = "The credential lacks the review scope (`forbidden`)", body = ErrorEnvelope),
        (status = 404, description = "Unknown or foreign document, purged file (`document_not_found`), or no picture of that page (`page_not_found`)", body = ErrorEnvelope),
    )
)]
pub async fn get_page(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Extension(RequestId(request_id)): Extension<RequestId>,
    Path((document_id, page)): Path<(String, u32)>,
) -> Result<Response, ApiError> {
    let missing = || ApiError::PageNotFound {
        document_id: document_id.clone(),
        page,
    };
    if page == 0 || page > state.settings.max_pages {
        return Err(missing());
    }
    let (_, blob) = stored_file(&state, &principal, &document_id).await?;
    let pipeline = state.pipeline.clone();
    let rendered =
        tokio::task::spawn_blocking(move || pipeline.render_page(blob.path(), page, PREVIEW_SIDE))
            .await
            .map_err(|e| ApiError::Internal(format!("the preview thread failed: {e}")))?;
    let png = match rendered {
        Ok(Some(png)) => png,
        Ok(None) => return Err(missing()),
        Err(e) => {
            tracing::warn!(document_id = %document_id, page, error = %e, "no preview");
            return Err(missing());
        }
    };
    let entry = AuditEntry::ok(
        &principal.tenant,
        &principal.actor(&request_id),
        "document.preview",
        format!("document:{document_id}"),
    )
    .with_detail(serde_json::json!({ "page": page }));
    state.store.audit(&entry).await?;
    Ok(([(header::CONTENT_TYPE, "image/png")], png).into_response())
}

/// A document of the caller's tenant with its file, fetched (decrypted)
/// from the blob store; `document_not_found` for an unknown or foreign
/// document and for one whose file was purged or lost.
async fn stored_file(
    state: &AppState,
    principal: &Principal,
    document_id: &str,
) -> Result<(heron_store::DocumentRecord, heron_store::LocalBlob), ApiError> {
    let not_found = || ApiError::DocumentNotFound(document_id.to_owned());
    let record = state
        .store
        .document(&principal.tenant, document_id)
        .await?
        .ok_or_else(not_found)?;
    // The same bytes may be stored again for another document: this
    // document's file is gone all the same.
    if record.file_purged {
        return Err(not_found());
    }
    match state.blobs.fetch(&record.sha256, record.size_bytes).await {
        Ok(blob) => Ok((record, blob)),
        Err(heron_store::StoreError::MissingBlob(_)) => Err(not_found()),
        Err(other) => Err(other.into()),
    }
}
