//! Health, readiness, version and Prometheus metrics.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::AppState;
use crate::error::ApiError;

#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// Always `ok` while the process serves requests.
    pub status: String,
    pub commit_sha: Option<String>,
}

/// Liveness: the process is up.
#[utoipa::path(get, path = "/v1/health", tag = "operations", responses((status = 200, body = Health)))]
pub async fn health(State(state): State<AppState>) -> axum::Json<Health> {
    axum::Json(Health {
        status: "ok".to_owned(),
        commit_sha: state.settings.commit_sha.clone(),
    })
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Readiness {
    /// `ready` or `not_ready`.
    pub status: String,
    pub database: String,
    pub blob_store: String,
    pub model: String,
    pub ocr: String,
    /// The semantic stage: `ok (model, mode)`, or `off: why`. Never makes
    /// the service unready: the other stages classify without it.
    pub semantic: String,
}

/// Readiness: database, blob store and model usable.
#[utoipa::path(
    get,
    path = "/v1/ready",
    tag = "operations",
    responses((status = 200, body = Readiness), (status = 503, body = Readiness))
)]
pub async fn ready(State(state): State<AppState>) -> Response {
    // An open circuit answers for its dependency without waiting on it;
    // otherwise the dependency is asked, and the answer feeds its breaker.
    let database = match crate::breakers::describe(&state.breakers.database) {
        Some(open) => open,
        None => probe(&state.breakers.database, state.store.ping()).await,
    };
    let blob_store = match crate::breakers::describe(&state.breakers.blob_store) {
        Some(open) => open,
        None => probe(&state.breakers.blob_store, state.blobs.check()).await,
    };
    let model = state.pipeline.model().id().to_owned();
    let engine = state.pipeline.ocr();
    let ocr = match (engine.is_available(), engine.has_ppocr()) {
        (true, true) => format!("ok ({})", engine.engines()),
        (true, false) => format!(
            "ok ({}; PP-OCR off: photos are read less well — scripts/fetch-ocr-models DIR, then HERON_OCR_MODELS=DIR)",
            engine.engines()
        ),
        (false, _) => {
            "unavailable: install tesseract-ocr; images will get an ocr_unavailable error"
                .to_owned()
        }
    };
    let semantic = match state.pipeline.semantic() {
        Some(stage) => format!(
            "ok ({}, {:?}, {})",
            stage.model_id(),
            stage.mode(),
            if stage.model_loaded() {
                "loaded"
            } else {
                "loads on first use"
            }
        ),
        None => "off: no embedding model (scripts/fetch-embedding-model DIR, then \
                 HERON_EMBEDDING_MODEL=DIR), or HERON_SEMANTIC=off; the other stages classify"
            .to_owned(),
    };
    let ready = database == "ok" && blob_store == "ok";
    let body = Readiness {
        status: if ready { "ready" } else { "not_ready" }.to_owned(),
        database,
        blob_store,
        model,
        ocr,
        semantic,
    };
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, axum::Json(body)).into_response()
}

/// Run a dependency check, bounded in time, and tell its breaker.
async fn probe(
    breaker: &heron_core::breaker::CircuitBreaker,
    check: impl std::future::Future<Output = Result<(), heron_store::StoreError>>,
) -> String {
    match tokio::time::timeout(std::time::Duration::from_secs(3), check).await {
        Ok(Ok(())) => {
            breaker.success();
            "ok".to_owned()
        }
        Ok(Err(e)) => {
            breaker.failure();
            format!("down: {e}")
        }
        Err(_) => {
            breaker.failure();
            "down: no answer within 3 s".to_owned()
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Version {
    pub pipeline_version: String,
    pub heron_version: String,
    pub model_id: String,
    pub model_labels: Vec<String>,
    pub model_training_source: String,
    pub commit_sha: Option<String>,
    /// When results are auto-accepted rather than `unsure`.
    pub abstention: AbstentionPolicy,
}

/// The confidence cut-off in force and, under `HERON_TARGET_ERROR_RATE`,
/// what it was chosen to meet and the coverage it keeps.
#[derive(Debug, Serialize, ToSchema)]
pub struct AbstentionPolicy {
    pub confidence_threshold: f64,
    pub target_error_rate: Option<f64>,
    /// Share of documents auto-accepted at the threshold, as measured.
    pub expected_coverage: Option<f64>,
    /// Error rate among them, as measured.
    pub expected_error_rate: Option<f64>,
    /// The documents the risk–coverage curve was measured on.
    pub measured_on: Option<String>,
}

/// Versions of the service, pipeline and model.
#[utoipa::path(get, path = "/v1/version", tag = "operations", responses((status = 200, body = Version)))]
pub async fn version(State(state): State<AppState>) -> axum::Json<Version> {
    let model = state.pipeline.model();
    axum::Json(Version {
        pipeline_version: state.pipeline.version(),
        heron_version: heron_core::HERON_VERSION.to_owned(),
        model_id: model.id().to_owned(),
        model_labels: model
            .labels()
            .iter()
            .map(|l| l.as_str().to_owned())
            .collect(),
        model_training_source: model.header().training_source.clone(),
        commit_sha: state.settings.commit_sha.clone(),
        abstention: {
            let a = state.pipeline.abstention(&model);
            AbstentionPolicy {
                confidence_threshold: a.confidence_threshold,
                target_error_rate: a.target_error_rate,
                expected_coverage: a.expected_coverage,
                expected_error_rate: a.expected_error_rate,
                measured_on: a.measured_on,
            }
        },
    })
}

/// Prometheus metrics in the text exposition format.
#[utoipa::path(get, path = "/metrics", tag = "operations", responses((status = 200, description = "Prometheus text format", body = String)))]
pub async fn metrics(State(state): State<AppState>) -> Result<Response, ApiError> {
    let Some(handle) = &state.metrics else {
        return Err(ApiError::MetricsDisabled);
    };
    if let Ok(summary) = state.store.summary().await {
        metrics::gauge!("heron_queue_pending_tasks").set(summary.pending_tasks as f64);
        metrics::gauge!("heron_queue_leased_tasks").set(summary.leased_tasks as f64);
    }
    Ok((
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        handle.render(),
    )
        .into_response())
}
