//! Webhook routes: a job's deliveries and their attempts, and the admin
//! routes that register and remove a tenant's endpoints (each receives
//! its own tenant's finished jobs only).

use axum::Extension;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::access::auth::Principal;
use crate::error::{ApiError, ErrorEnvelope};
use crate::request_id::RequestId;
use crate::routes::jobs::rfc3339;

/// One delivery of a job's notification. Its attempts (the receiver's
/// status, error text, timing) are shown to admins only: to the uploader
/// who chose the URL they would make Heron a port scanner of its own
/// networks.
#[derive(Debug, Serialize, ToSchema)]
pub struct Delivery {
    pub delivery_id: String,
    pub url: String,
    /// `job.completed` or `job.cancelled`.
    pub event: String,
    /// `pending`, `delivered` or `failed` (attempts used up).
    pub state: String,
    /// Every attempt; for callers with the `admin` scope only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attempts: Option<Vec<DeliveryAttempt>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryAttempt {
    pub attempt: u32,
    pub attempted_at: String,
    /// The receiver's HTTP status, when it answered.
    pub status_code: Option<u16>,
    pub error: Option<String>,
    pub duration_ms: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryList {
    pub deliveries: Vec<Delivery>,
}

/// The webhook deliveries of a job.
#[utoipa::path(
    get,
    path = "/v1/jobs/{job_id}/deliveries",
    tag = "jobs",
    params(("job_id" = String, Path, description = "Id returned by POST /v1/files")),
    responses(
        (status = 200, description = "Deliveries and their attempts", body = DeliveryList),
        (status = 401, description = "Missing or unknown key", body = ErrorEnvelope),
        (status = 404, description = "Unknown job (`job_not_found`)", body = ErrorEnvelope),
    )
)]
pub async fn job_deliveries(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(job_id): Path<String>,
) -> Result<axum::Json<DeliveryList>, ApiError> {
    if state.store.job(&principal.tenant, &job_id).await?.is_none() {
        return Err(ApiError::JobNotFound(job_id));
    }
    let deliveries = state.store.deliveries(&job_id).await?;
    let diagnostics = principal.scopes.contains(heron_core::access::Scope::Admin);
    Ok(axum::Json(DeliveryList {
        deliveries: deliveries
            .into_iter()
            .map(|d| Delivery {
                delivery_id: d.id,
                url: d.url,
                event: d.event,
                state: d.state,
                attempts: diagnostics.then(|| {
                    d.attempts
                        .into_iter()
                        .map(|a| DeliveryAttempt {
                            attempt: a.attempt,
                            attempted_at: rfc3339(a.attempted_at_ms),
                            status_code: a.status_code,
                            error: a.error,
                            duration_ms: a.duration_ms,
                        })
                        .collect()
                }),
            })
            .collect(),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewEndpoint {
    /// http(s) URL that receives every finished job.
    pub url: String,
}

/// A registered endpoint; `secret` only in the answer to its creation.
#[derive(Debug, Serialize, ToSchema)]
pub struct Endpoint {
    pub endpoint_id: String,
    pub url: String,
    pub created_at: String,
    /// Verifies `Heron-Signature`; shown once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EndpointList {
    pub endpoints: Vec<Endpoint>,
}

/// Register a webhook endpoint (admin). Every job that finishes from now
/// on is POSTed to it, signed with the secret in this answer.
#[utoipa::path(
    post,
    path = "/v1/admin/webhooks",
    tag = "admin",
    request_body = NewEndpoint,
    responses(
        (status = 201, description = "Registered; the secret is shown once", body = Endpoint),
        (status = 400, description = "Not an allowed http(s) URL (`invalid_callback_url`) or bad JSON (`invalid_body`)", body = ErrorEnvelope),
        (status = 401, description = "Missing or unknown key", body = ErrorEnvelope),
        (status = 403, description = "The credential lacks the admin scope (`forbidden`)", body = ErrorEnvelope),
    )
)]
pub async fn add_endpoint(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Extension(RequestId(request_id)): Extension<RequestId>,
    body: Result<axum::Json<NewEndpoint>, JsonRejection>,
) -> Result<(StatusCode, axum::Json<Endpoint>), ApiError> {
    let axum::Json(body) = body.map_err(|e| ApiError::InvalidBody(e.body_text()))?;
    let url = state
        .settings
        .webhook_networks
        .check_url(&body.url)
        .map_err(|e| ApiError::InvalidCallbackUrl(e.to_string()))?;
    let id = uuid::Uuid::new_v4().simple().to_string();
    let secret = new_secret();
    let endpoint = state
        .store
        .add_webhook_endpoint(
            &principal.tenant,
            &id,
            url.as_str(),
            &secret,
            &principal.actor(&request_id),
        )
        .await?;
    tracing::info!(endpoint = %id, url = %url, "webhook endpoint registered");
    Ok((
        StatusCode::CREATED,
        axum::Json(Endpoint {
            endpoint_id: endpoint.id,
            url: endpoint.url,
            created_at: rfc3339(endpoint.created_at_ms),
            secret: Some(secret),
        }),
    ))
}

/// A tenant's new callback secret.
#[derive(Debug, Serialize, ToSchema)]
pub struct CallbackSecret {
    /// Verifies the `Heron-Signature` of the tenant's jobs' callbacks from
    /// now on; shown once.
    pub secret: String,
    pub created_at: String,
}

/// Give the caller's tenant a new secret for its jobs' callbacks (admin),
/// replacing the one before (derived from the deployment's secret until
/// the first call). Deliveries still queued are signed with the new one.
#[utoipa::path(
    post,
    path = "/v1/admin/callback-secret",
    tag = "admin",
    responses(
        (status = 201, description = "The new secret, shown once", body = CallbackSecret),
        (status = 401, description = "Missing or unknown key", body = ErrorEnvelope),
        (status = 403, description = "The credential lacks the admin scope (`forbidden`)", body = ErrorEnvelope),
    )
)]
pub async fn rotate_callback_secret(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Extension(RequestId(request_id)): Extension<RequestId>,
) -> Result<(StatusCode, axum::Json<CallbackSecret>), ApiError> {
    let secret = new_secret();
    let created_at_ms = state
        .store
        .set_callback_secret(&principal.tenant, &secret, &principal.actor(&request_id))
        .await?;
    tracing::info!("callback secret rotated");
    Ok((
        StatusCode::CREATED,
        axum::Json(CallbackSecret {
            secret,
            created_at: rfc3339(created_at_ms),
        }),
    ))
}

/// A new signing secret: `whsec_` and 256 random bits.
fn new_secret() -> String {
    format!(
        "whsec_{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

/// The registered webhook endpoints (admin).
#[utoipa::path(
    get,
    path = "/v1/admin/webhooks",
    tag = "admin",
    responses(
        (status = 200, description = "Endpoints", body = EndpointList),
        (status = 401, description = "Missing or unknown key", body = ErrorEnvelope),
        (status = 403, description = "The credential lacks the admin scope (`forbidden`)", body = ErrorEnvelope),
    )
)]
pub async fn list_endpoints(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
) -> Result<axum::Json<EndpointList>, ApiError> {
    let endpoints = state.store.webhook_endpoints(&principal.tenant).await?;
    Ok(axum::Json(EndpointList {
        endpoints: endpoints
            .into_iter()
            .map(|e| Endpoint {
                endpoint_id: e.id,
                url: e.url,
                created_at: rfc3339(e.created_at_ms),
                secret: None,
            })
            .collect(),
    }))
}

/// Remove a webhook endpoint (admin); pending deliveries to it still go.
#[utoipa::path(
    delete,
    path = "/v1/admin/webhooks/{endpoint_id}",
    tag = "admin",
    params(("endpoint_id" = String, Path, description = "From POST /v1/admin/webhooks")),
    responses(
        (status = 204, description = "Removed"),
        (status = 401, description = "Missing or unknown key", body = ErrorEnvelope),
        (status = 403, description = "The credential lacks the admin scope (`forbidden`)", body = ErrorEnvelope),
        (status = 404, description = "No such endpoint (`endpoint_not_found`)", body = ErrorEnvelope),
    )
)]
pub async fn remove_endpoint(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Extension(RequestId(request_id)): Extension<RequestId>,
    Path(endpoint_id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let actor = principal.actor(&request_id);
    if state
        .store
        .remove_webhook_endpoint(&principal.tenant, &endpoint_id, &actor)
        .await?
    {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::EndpointNotFound(endpoint_id))
    }
}
