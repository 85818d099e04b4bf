//! The HTTP API.
//!
//! Serves the original HeronAI v1 contract (`POST /v1/files`,
//! `GET /v1/jobs/{id}`, health, version, metrics, docs) on axum, plus
//! readiness and the OpenAPI description, and runs the in-process workers
//! beside it. The only crate that knows HTTP or JSON envelopes.
//!
//! Layers, outermost first: panic catcher → request id (and its log span)
//! → security headers → metrics → body limit → routes (→ the access policy
//! of `policy.rs` on every route: authentication, scope, rate limits →
//! the route's body allowance of `body_limit.rs`, read before the handler
//! for every route that does not stream files → circuit breakers on
//! routes that use the database or blob store).

pub mod access;
mod body_limit;
mod breakers;
pub mod charts;
mod docs;
mod error;
mod explain;
mod http_metrics;
mod request_id;
pub mod routes;
mod security_headers;
pub mod tls;
mod ui;

use access::{auth, limits, oidc, policy};
use routes::uploads;
use std::future::Future;
use std::sync::{Arc, OnceLock};

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::Uri;
use axum::middleware;
use axum::response::{IntoResponse, Response};
use heron_core::Settings;
use heron_core::settings::Secret;
use heron_pipeline::Pipeline;
use heron_store::{BlobStore, Store};
use heron_worker::{WebhookConfig, Webhooks, Worker, WorkerConfig};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use utoipa::OpenApi;
use utoipa_swagger_ui::SwaggerUi;

pub use auth::load_or_generate as load_or_generate_api_keys;
pub use docs::ApiDoc;
pub use error::ApiError;

/// Shared by every handler.
#[derive(Clone)]
pub struct AppState {
    settings: Arc<Settings>,
    store: Store,
    blobs: BlobStore,
    pipeline: Arc<Pipeline>,
    worker: Worker,
    auth: auth::Authenticator,
    limits: Arc<Limits>,
    metrics: Option<PrometheusHandle>,
    /// Distinguishes this process's leases from other processes'.
    instance_id: String,
    breakers: breakers::Breakers,
}

/// What the server needs, opened by the caller (the `heron` binary).
pub struct ServerParts {
    pub settings: Arc<Settings>,
    pub store: Store,
    pub blobs: BlobStore,
    pipeline: Arc<Pipeline>,
    pub api_keys: Vec<Secret>,
    followers: Vec<Follower>,
}

/// A background loop the caller adds to the service (`heron serve`
/// following the models directory): started with the workers, handed the
/// stop signal, awaited at shutdown like them.
pub type Follower = Box<
    dyn FnOnce(watch::Receiver<bool>) -> std::pin::Pin<Box<dyn Future<Output = ()> + Send>> + Send,
>;

/// How often every process looks for promoted models and taught examples.
const FOLLOW_INTERVAL: std::time::Duration = std::time::Duration::from_secs(2);

impl ServerParts {
    pub fn new(
        settings: Arc<Settings>,
        store: Store,
        blobs: BlobStore,
        pipeline: Arc<Pipeline>,
        api_keys: Vec<Secret>,
    ) -> Self {
        ServerParts {
            settings,
            store,
            blobs,
            pipeline,
            api_keys,
            followers: Vec::new(),
        }
    }

    /// Run `follower` beside the workers, stopped with them.
    pub fn with_follower(mut self, follower: Follower) -> Self {
        self.followers.push(follower);
        self
    }
}

/// The rate limiters of this process.
struct Limits {
    per_key: limits::Limiter,
    per_tenant: limits::Limiter,
    /// Failed authentications per client address.
    auth_failures: limits::Limiter,
}

impl Limits {
    fn new(settings: &Settings) -> Limits {
        let key = f64::from(settings.rate_limit_key_rps);
        let tenant = f64::from(settings.rate_limit_tenant_rps);
        let failures = f64::from(settings.auth_failures_per_minute);
        Limits {
            per_key: limits::Limiter::new(key, key * 2.0),
            per_tenant: limits::Limiter::new(tenant, tenant * 2.0),
            auth_failures: limits::Limiter::new(failures / 60.0, failures),
        }
    }
}

/// Why the server stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("serving HTTP: {0}")]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Store(#[from] heron_store::StoreError),
    #[error("configuration: {0}")]
    Config(String),
    #[error(transparent)]
    Tls(#[from] tls::TlsError),
}

/// The process-wide Prometheus recorder (a recorder can be installed once).
fn prometheus() -> Option<PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let buckets = [
                0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
            ];
            PrometheusBuilder::new()
                .set_buckets(&buckets)
                .ok()?
                .install_recorder()
                .ok()
        })
        .clone()
}

/// A unique id for this process's leases.
fn new_instance_id() -> String {
    let host = std::fs::read_to_string("/etc/hostname").unwrap_or_default();
    let host = host.trim();
    let short = &uuid::Uuid::new_v4().simple().to_string()[..8];
    format!(
        "{}-{}-{short}",
        if host.is_empty() { "heron" } else { host },
        std::process::id()
    )
}

/// The worker shared by in-process workers and the synchronous upload path.
pub fn build_worker(
    settings: &Settings,
    store: Store,
    blobs: BlobStore,
    pipeline: Arc<Pipeline>,
) -> Worker {
    let slots = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .max(settings.workers);
    Worker::new(
        store,
        blobs,
        pipeline,
        WorkerConfig {
            lease: settings.task_lease,
            max_attempts: settings.max_attempts,
            retry_base: settings.retry_base,
            retry_max: settings.retry_max,
            near_duplicate_threshold: settings.near_duplicate_threshold,
        },
        Arc::new(Semaphore::new(slots)),
    )
}

/// The router with every route and layer.
pub fn router(state: AppState) -> Router {
    // Browsers are told to use HTTPS only when we serve it.
    let hsts = state.settings.tls_cert.is_some();
    // The backstop for extractors; `body_limit::layer` holds each route to
    // its own allowance first.
    let body_limit =
        usize::try_from(body_limit::streamed_limit(&state.settings)).unwrap_or(usize::MAX);
    // Every route, its scope and its handler: `routes`' table.
    let (data, other) = routes::build(|_| true);
    let data = data.route_layer(middleware::from_fn_with_state(
        state.clone(),
        breakers::layer,
    ));
    let routed = Router::new()
        .merge(data)
        .merge(other)
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            body_limit::layer,
        ))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            policy::enforce,
        ));
    Router::new()
        .merge(routed)
        .merge(SwaggerUi::new("/docs").url("/openapi.json", ApiDoc::openapi()))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(middleware::from_fn(http_metrics::layer))
        .layer(cors(&state.settings))
        // Outside the CORS layer, which takes every OPTIONS for a preflight.
        .layer(middleware::from_fn_with_state(
            state.clone(),
            uploads::discovery_outside_cors,
        ))
        .layer(middleware::from_fn(
            move |request: axum::extract::Request, next: middleware::Next| {
                security_headers::layer(request, next, hsts)
            },
        ))
        .layer(middleware::from_fn(request_id::layer))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(
            panic_response,
        ))
        .with_state(state)
}

/// Cross-origin access for the origins of `HERON_CORS_ORIGINS` only
/// (none by default: browsers then refuse cross-origin reads).
fn cors(settings: &Settings) -> tower_http::cors::CorsLayer {
    use axum::http::{HeaderName, HeaderValue, Method, header};
    use tower_http::cors::{AllowOrigin, CorsLayer};
    let origins: Vec<HeaderValue> = settings
        .cors_origins
        .iter()
        .filter_map(|o| HeaderValue::from_str(o).ok())
        .collect();
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_methods([
            Method::GET,
            Method::HEAD,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
        ])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            HeaderName::from_static("x-api-key"),
            HeaderName::from_static("x-request-id"),
            HeaderName::from_static("idempotency-key"),
            // Resumable uploads from a browser's tus client.
            HeaderName::from_static("tus-resumable"),
            HeaderName::from_static("upload-length"),
            HeaderName::from_static("upload-offset"),
            HeaderName::from_static("upload-metadata"),
        ])
        .expose_headers([
            HeaderName::from_static("x-request-id"),
            HeaderName::from_static("ratelimit-limit"),
            HeaderName::from_static("ratelimit-remaining"),
            HeaderName::from_static("ratelimit-reset"),
            header::RETRY_AFTER,
            header::LOCATION,
            HeaderName::from_static("tus-resumable"),
            HeaderName::from_static("tus-version"),
            HeaderName::from_static("tus-extension"),
            HeaderName::from_static("tus-max-size"),
            HeaderName::from_static("upload-offset"),
            HeaderName::from_static("upload-length"),
            HeaderName::from_static("upload-expires"),
            HeaderName::from_static("heron-job-id"),
        ])
        .max_age(std::time::Duration::from_secs(600))
}

/// Liveness, readiness and metrics: all a `heron worker` serves.
/// The router of a `heron worker`: probes only.
fn worker_router(state: AppState) -> Router {
    routes::build(|serves| serves == routes::Serves::Probe)
        .1
        .fallback(not_found)
        .layer(middleware::from_fn(request_id::layer))
        .with_state(state)
}

async fn not_found(uri: Uri) -> ApiError {
    ApiError::NotFound(uri.path().to_owned())
}

async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}

fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    ApiError::Internal("a handler panicked".to_owned()).into_response()
}

/// What `run` and `run_worker` share: the state, and the task loops.
struct Running {
    state: AppState,
    store: Store,
    settings: Arc<Settings>,
    instance_id: String,
    stop_workers: watch::Sender<bool>,
    workers: Vec<tokio::task::JoinHandle<()>>,
}

impl Running {
    /// Build the state and start `settings.workers` task loops (and, in a
    /// process that works, webhook delivery and retention).
    fn start(parts: ServerParts) -> Result<Running, ServerError> {
        let ServerParts {
            settings,
            store,
            blobs,
            pipeline,
            api_keys,
            followers,
        } = parts;
        let instance_id = new_instance_id();
        let worker = build_worker(&settings, store.clone(), blobs.clone(), pipeline.clone());
        let state = AppState {
            settings: settings.clone(),
            store: store.clone(),
            blobs,
            pipeline,
            worker: worker.clone(),
            auth: auth::Authenticator::new(
                &api_keys,
                &settings.admin_api_keys,
                oidc::Verifier::from_settings(&settings).map_err(ServerError::Config)?,
            ),
            limits: Arc::new(Limits::new(&settings)),
            metrics: if settings.prometheus_enabled {
                prometheus()
            } else {
                None
            },
            instance_id: instance_id.clone(),
            breakers: breakers::Breakers::new(),
        };
        let (stop_workers, stop_signal) = watch::channel(false);
        let mut workers: Vec<_> = (0..settings.workers)
            .map(|n| {
                let worker = worker.clone();
                let signal = stop_signal.clone();
                let owner = format!("{instance_id}:worker:{n}");
                tokio::spawn(worker.run(owner, signal))
            })
            .collect();
        // Every process follows the tenants' promoted models and the
        // semantic stage's examples (each loaded once before the first
        // file by the caller), and whatever its caller adds.
        workers.push(tokio::spawn(heron_worker::follow_tenant_models(
            store.clone(),
            state.blobs.clone(),
            state.pipeline.clone(),
            FOLLOW_INTERVAL,
            stop_signal.clone(),
        )));
        workers.push(tokio::spawn(heron_worker::follow_semantic(
            store.clone(),
            state.pipeline.clone(),
            FOLLOW_INTERVAL,
            stop_signal.clone(),
        )));
        for follower in followers {
            workers.push(tokio::spawn(follower(stop_signal.clone())));
        }
        // Processes that work also deliver webhooks, train challengers and
        // purge expired documents (an API-only process leaves them to the
        // workers).
        if settings.workers > 0 {
            let webhooks = Webhooks::new(
                store.clone(),
                WebhookConfig {
                    secret: settings.webhook_secret.clone(),
                    max_attempts: settings.webhook_max_attempts,
                    timeout: settings.webhook_timeout,
                    networks: settings.webhook_networks.clone(),
                    retry_base: settings.retry_base,
                    retry_max: settings.retry_max,
                    lease: settings.webhook_timeout * 3,
                },
            );
            let owner = format!("{instance_id}:webhooks");
            workers.push(tokio::spawn(webhooks.run(owner, stop_signal.clone())));
            workers.push(tokio::spawn(heron_worker::run_training(
                store.clone(),
                state.blobs.clone(),
                state.pipeline.clone(),
                heron_worker::TrainingConfig {
                    per_type: settings.train_per_type,
                    ..heron_worker::TrainingConfig::default()
                },
                format!("{instance_id}:training"),
                stop_signal.clone(),
            )));
            workers.push(tokio::spawn(heron_worker::run_retention(
                store.clone(),
                state.blobs.clone(),
                settings.retention_days,
                settings.purge_interval,
                stop_signal.clone(),
            )));
        }
        Ok(Running {
            state,
            store,
            settings,
            instance_id,
            stop_workers,
            workers,
        })
    }

    /// Stop claiming; let each worker finish its task within the grace
    /// period; hand back every lease this process still holds (tasks cut
    /// short go straight back to the queue); close the database.
    async fn stop(self) {
        tracing::info!("stopping workers");
        let _ = self.stop_workers.send(true);
        let grace = self.settings.shutdown_grace;
        let all_stopped = async {
            for handle in self.workers {
                let _ = handle.await;
            }
        };
        if tokio::time::timeout(grace, all_stopped).await.is_err() {
            tracing::warn!(
                grace_secs = grace.as_secs(),
                "workers still busy after the grace period; handing their tasks back"
            );
        }
        match self.store.release_prefix(&self.instance_id).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(tasks = n, "leases handed back"),
            Err(e) => tracing::warn!(error = %e, "could not hand leases back; they will expire"),
        }
        self.store.close().await;
        tracing::info!("shutdown complete");
    }
}

/// Serve the API on `listener` with `settings.workers` in-process workers
/// until `shutdown` completes; then stop accepting, finish in-flight
/// requests, let workers finish their task within the grace period, hand
/// back leases and close the database.
pub async fn run(
    parts: ServerParts,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServerError> {
    let running = Running::start(parts)?;
    let settings = running.settings.clone();
    let app = router(running.state.clone());
    match (&settings.tls_cert, &settings.tls_key) {
        (Some(cert), Some(key)) => {
            let certificate = Arc::new(tls::ReloadingCertificate::load(cert, key)?);
            tokio::spawn(tls::watch(certificate.clone()));
            tracing::info!(address = %listener.local_addr()?, workers = settings.workers, "heron is listening (HTTPS, HTTP/2)");
            let clients = match &settings.tls_client_ca {
                Some(ca) => tls::ClientAuth::Certificate {
                    ca: ca.clone(),
                    optional: settings.tls_client_auth_optional,
                },
                None => tls::ClientAuth::None,
            };
            let config = tls::server_config(certificate, &clients)?;
            tls::serve(listener, app, config, shutdown).await?;
        }
        _ => {
            tracing::info!(address = %listener.local_addr()?, workers = settings.workers, "heron is listening");
            let app = app.into_make_service_with_connect_info::<std::net::SocketAddr>();
            axum::serve(listener, app)
                .with_graceful_shutdown(shutdown)
                .await?;
        }
    }
    tracing::info!("stopped accepting requests");
    running.stop().await;
    Ok(())
}

/// `heron worker`: process tasks with `settings.workers` loops, serving
/// only health, readiness and metrics on `listener`, until `shutdown`.
pub async fn run_worker(
    parts: ServerParts,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServerError> {
    let running = Running::start(parts)?;
    tracing::info!(address = %listener.local_addr()?, workers = running.settings.workers, "heron worker is running");
    axum::serve(listener, worker_router(running.state.clone()))
        .with_graceful_shutdown(shutdown)
        .await?;
    running.stop().await;
    Ok(())
}

/// Wait for SIGTERM or SIGINT.
pub async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = interrupt => tracing::info!("SIGINT received"),
        _ = terminate => tracing::info!("SIGTERM received"),
    }
}
