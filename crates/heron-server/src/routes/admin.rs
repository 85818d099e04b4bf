//! A tenant's administration: its API keys, its settings, its audit log.
//! Every route here needs the `admin` scope and sees only the caller's own
//! tenant (new tenants get their first key from `heron keys create`).

use axum::Extension;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use heron_core::access::{Role, Scope, Scopes};
use heron_store::{ApiKeyRecord, AuditFilter, NewApiKey, TenantSettings};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::access::auth::Principal;
use crate::error::{ApiError, ErrorEnvelope};
use crate::request_id::RequestId;
use crate::routes::jobs::rfc3339;

/// A key to create: give scopes, roles, or both.
#[derive(Debug, Deserialize, ToSchema)]
pub struct NewKey {
    /// What the key is for (shown in listings).
    pub name: String,
    /// Any of `classify`, `read`, `review`, `train`, `admin`.
    #[serde(default)]
    pub scopes: Vec<String>,
    /// Any of `uploader`, `reader`, `reviewer`, `trainer`, `admin`.
    #[serde(default)]
    pub roles: Vec<String>,
    /// Days until the key stops working; none: it never expires.
    pub expires_in_days: Option<u32>,
}

/// A key as listed; `key` only in the answer to its creation.
#[derive(Debug, Serialize, ToSchema)]
pub struct KeyInfo {
    pub key_id: String,
    pub name: String,
    pub tenant: String,
    pub scopes: Vec<String>,
    pub created_by: String,
    pub created_at: String,
    pub expires_at: Option<String>,
    pub revoked_at: Option<String>,
    pub last_used_at: Option<String>,
    /// The key itself: shown once, stored only as a hash.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
}

impl KeyInfo {
    pub(crate) fn new(record: ApiKeyRecord, key: Option<String>) -> KeyInfo {
        KeyInfo {
            key_id: record.id,
            name: record.name,
            tenant: record.tenant,
            scopes: record.scopes.iter().map(|s| s.to_string()).collect(),
            created_by: record.created_by,
            created_at: rfc3339(record.created_at_ms),
            expires_at: record.expires_at_ms.map(rfc3339),
            revoked_at: record.revoked_at_ms.map(rfc3339),
            last_used_at: record.last_used_at_ms.map(rfc3339),
            key,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct KeyList {
    pub keys: Vec<KeyInfo>,
}

/// Create an API key for the caller's tenant (admin).
#[utoipa::path(
    post,
    path = "/v1/admin/keys",
    tag = "admin",
    request_body = NewKey,
    responses(
        (status = 201, description = "Created; the key is shown once", body = KeyInfo),
        (status = 400, description = "Unknown scope or role, no scope at all, bad JSON (`invalid_body`)", body = ErrorEnvelope),
        (status = 401, description = "Missing or unknown credential", body = ErrorEnvelope),
        (status = 403, description = "The credential lacks the admin scope (`forbidden`)", body = ErrorEnvelope),
    )
)]
pub async fn create_key(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Extension(RequestId(request_id)): Extension<RequestId>,
    body: Result<axum::Json<NewKey>, JsonRejection>,
) -> Result<(StatusCode, axum::Json<KeyInfo>), ApiError> {
    let axum::Json(body) = body.map_err(|e| ApiError::InvalidBody(e.body_text()))?;
    let scopes = requested_scopes(&body)?;
    if body.name.trim().is_empty() || body.name.len() > 200 {
        return Err(ApiError::InvalidBody(
            "name must be 1–200 characters".to_owned(),
        ));
    }
    let expires_at_ms = body
        .expires_in_days
        .map(|days| now_ms() + i64::from(days) * 86_400_000);
    let issued = state
        .store
        .create_api_key(
            &NewApiKey {
                tenant: principal.tenant.clone(),
                name: body.name.trim().to_owned(),
                scopes,
                expires_at_ms,
            },
            &principal.actor(&request_id),
        )
        .await?;
    tracing::info!(key_id = %issued.record.id, scopes = %scopes, "API key created");
    Ok((
        StatusCode::CREATED,
        axum::Json(KeyInfo::new(issued.record, Some(issued.key))),
    ))
}

fn requested_scopes(body: &NewKey) -> Result<Scopes, ApiError> {
    let mut scopes = Scopes::NONE;
    for name in &body.scopes {
        let scope: Scope = name
            .parse()
            .map_err(|e: heron_core::access::AccessParseError| {
                ApiError::InvalidBody(e.to_string())
            })?;
        scopes = scopes.union([scope].into_iter().collect());
    }
    for name in &body.roles {
        let role: Role = name
            .parse()
            .map_err(|e: heron_core::access::AccessParseError| {
                ApiError::InvalidBody(e.to_string())
            })?;
        scopes = scopes.union(role.scopes());
    }
    if scopes.is_empty() {
        return Err(ApiError::InvalidBody(
            "give at least one scope or role".to_owned(),
        ));
    }
    Ok(scopes)
}

/// The caller's tenant's keys, newest first (admin). Secrets are never
/// shown.
#[utoipa::path(
    get,
    path = "/v1/admin/keys",
    tag = "admin",
    responses(
        (status = 200, description = "Keys", body = KeyList),
        (status = 401, description = "Missing or unknown credential", body = ErrorEnvelope),
        (status = 403, description = "The credential lacks the admin scope (`forbidden`)", body = ErrorEnvelope),
    )
)]
pub async fn list_keys(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
) -> Result<axum::Json<KeyList>, ApiError> {
    let keys = state.store.api_keys(Some(&principal.tenant)).await?;
    Ok(axum::Json(KeyList {
        keys: keys.into_iter().map(|k| KeyInfo::new(k, None)).collect(),
    }))
}

/// Revoke a key of the caller's tenant (admin); it stops working at once.
#[utoipa::path(
    delete,
    path = "/v1/admin/keys/{key_id}",
    tag = "admin",
    params(("key_id" = String, Path, description = "From POST or GET /v1/admin/keys")),
    responses(
        (status = 204, description = "Revoked"),
        (status = 401, description = "Missing or unknown credential", body = ErrorEnvelope),
        (status = 403, description = "The credential lacks the admin scope (`forbidden`)", body = ErrorEnvelope),
        (status = 404, description = "No such active key (`key_not_found`)", body = ErrorEnvelope),
    )
)]
pub async fn revoke_key(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Extension(RequestId(request_id)): Extension<RequestId>,
    Path(key_id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let actor = principal.actor(&request_id);
    if state
        .store
        .revoke_api_key(&principal.tenant, &key_id, &actor)
        .await?
    {
        tracing::info!(key_id = %key_id, "API key revoked");
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::KeyNotFound(key_id))
    }
}

/// A tenant's settings.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TenantSettingsBody {
    /// Days a document (file and results) is kept; none: the deployment's
    /// `HERON_RETENTION_DAYS`.
    pub retention_days: Option<u32>,
    /// Days the uploaded file is kept, when sooner than the document (the
    /// result stays; the file can no longer be downloaded).
    #[serde(default)]
    pub file_retention_days: Option<u32>,
    /// Days the extracted text is kept, when sooner than the document.
    #[serde(default)]
    pub text_retention_days: Option<u32>,
    /// Keep only the redacted form of documents' extracted text (from the
    /// next upload on).
    #[serde(default)]
    pub store_redacted_text: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TenantInfo {
    pub tenant: String,
    pub retention_days: Option<u32>,
    pub file_retention_days: Option<u32>,
    pub text_retention_days: Option<u32>,
    pub store_redacted_text: bool,
    /// What is in force: the tenant's own value, else the deployment's.
    pub effective_retention_days: Option<u32>,
}

/// The caller's tenant and its settings (admin).
#[utoipa::path(
    get,
    path = "/v1/admin/tenant",
    tag = "admin",
    responses(
        (status = 200, description = "The tenant", body = TenantInfo),
        (status = 401, description = "Missing or unknown credential", body = ErrorEnvelope),
        (status = 403, description = "The credential lacks the admin scope (`forbidden`)", body = ErrorEnvelope),
    )
)]
pub async fn get_tenant(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
) -> Result<axum::Json<TenantInfo>, ApiError> {
    let settings = state.store.tenant_settings(&principal.tenant).await?;
    Ok(axum::Json(tenant_info(&state, principal.tenant, settings)))
}

fn tenant_info(state: &AppState, tenant: String, settings: TenantSettings) -> TenantInfo {
    TenantInfo {
        tenant,
        retention_days: settings.retention_days,
        file_retention_days: settings.file_retention_days,
        text_retention_days: settings.text_retention_days,
        store_redacted_text: settings.store_redacted_text,
        effective_retention_days: settings.retention_days.or(state.settings.retention_days),
    }
}

/// Replace the caller's tenant's settings (admin; audited).
#[utoipa::path(
    put,
    path = "/v1/admin/tenant",
    tag = "admin",
    request_body = TenantSettingsBody,
    responses(
        (status = 200, description = "The tenant as it now is", body = TenantInfo),
        (status = 400, description = "Bad JSON or a retention of 0 days (`invalid_body`)", body = ErrorEnvelope),
        (status = 401, description = "Missing or unknown credential", body = ErrorEnvelope),
        (status = 403, description = "The credential lacks the admin scope (`forbidden`)", body = ErrorEnvelope),
    )
)]
pub async fn put_tenant(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Extension(RequestId(request_id)): Extension<RequestId>,
    body: Result<axum::Json<TenantSettingsBody>, JsonRejection>,
) -> Result<axum::Json<TenantInfo>, ApiError> {
    let axum::Json(body) = body.map_err(|e| ApiError::InvalidBody(e.body_text()))?;
    if [
        body.retention_days,
        body.file_retention_days,
        body.text_retention_days,
    ]
    .contains(&Some(0))
    {
        return Err(ApiError::InvalidBody(
            "retention periods must be at least 1 day (or null)".to_owned(),
        ));
    }
    let settings = TenantSettings {
        retention_days: body.retention_days,
        file_retention_days: body.file_retention_days,
        text_retention_days: body.text_retention_days,
        store_redacted_text: body.store_redacted_text,
    };
    state
        .store
        .set_tenant_settings(&principal.tenant, settings, &principal.actor(&request_id))
        .await?;
    Ok(axum::Json(tenant_info(&state, principal.tenant, settings)))
}

/// Filters of the audit log.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// e.g. `job.create`, `document.erase`, `key.revoke`, `access.denied`.
    pub action: Option<String>,
    pub actor: Option<String>,
    /// e.g. `job:<id>`, `document:<id>`.
    pub resource: Option<String>,
    /// RFC 3339; entries at or after.
    pub from: Option<String>,
    /// RFC 3339; entries before.
    pub to: Option<String>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<i64>,
    /// 1–500 (default 100).
    pub limit: Option<u32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditItem {
    pub seq: i64,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub resource: String,
    pub outcome: String,
    pub request_id: String,
    pub detail: serde_json::Value,
    pub hash: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditPage {
    pub entries: Vec<AuditItem>,
    pub next_cursor: Option<i64>,
}

/// The caller's tenant's audit log, newest first (admin).
#[utoipa::path(
    get,
    path = "/v1/audit",
    tag = "admin",
    params(AuditQuery),
    responses(
        (status = 200, description = "A page of entries", body = AuditPage),
        (status = 400, description = "Bad time or limit (`invalid_query`)", body = ErrorEnvelope),
        (status = 401, description = "Missing or unknown credential", body = ErrorEnvelope),
        (status = 403, description = "The credential lacks the admin scope (`forbidden`)", body = ErrorEnvelope),
    )
)]
pub async fn audit_log(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    query: Result<Query<AuditQuery>, QueryRejection>,
) -> Result<axum::Json<AuditPage>, ApiError> {
    let Query(query) = query.map_err(|e| ApiError::InvalidQuery(e.body_text()))?;
    let limit = query.limit.unwrap_or(100);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::InvalidQuery(format!(
            "limit must be 1–500, not {limit}"
        )));
    }
    let filter = AuditFilter {
        action: query.action,
        actor: query.actor,
        resource: query.resource,
        from_ms: query.from.as_deref().map(parse_time).transpose()?,
        to_ms: query.to.as_deref().map(parse_time).transpose()?,
        before_seq: query.cursor,
        limit,
    };
    let records = state
        .store
        .audit_entries(&principal.tenant, &filter)
        .await?;
    let next_cursor = (records.len() == limit as usize)
        .then(|| records.last().map(|r| r.seq))
        .flatten();
    Ok(axum::Json(AuditPage {
        entries: records
            .into_iter()
            .map(|r| AuditItem {
                seq: r.seq,
                at: rfc3339(r.at_ms),
                actor: r.entry.actor,
                action: r.entry.action,
                resource: r.entry.resource,
                outcome: r.entry.outcome,
                request_id: r.entry.request_id,
                detail: serde_json::from_str(&r.entry.detail).unwrap_or_default(),
                hash: r.hash,
            })
            .collect(),
        next_cursor,
    }))
}

pub(crate) fn parse_time(text: &str) -> Result<i64, ApiError> {
    let time = time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .map_err(|e| ApiError::InvalidQuery(format!("{text:?} is not an RFC 3339 time: {e}")))?;
    Ok((time.unix_timestamp_nanos() / 1_000_000) as i64)
}

pub(crate) fn now_ms() -> i64 {
    (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}
