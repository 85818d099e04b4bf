//! `heron serve`.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use heron_core::Settings;
use heron_pipeline::Pipeline;
use heron_server::ServerParts;
use heron_store::{BlobStore, PoolConfig, Store, redact_url};

use crate::setup;

pub fn run(settings: Settings) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let _telemetry = setup::init_logging_and_traces(&settings, "info", "heron-api")?;
    let _lock = setup::lock_data_dir(&settings.data_dir)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(serve(settings, started))?;
    Ok(ExitCode::SUCCESS)
}

async fn serve(settings: Settings, started: Instant) -> anyhow::Result<()> {
    let (settings, store, blobs, pipeline) = open_service(settings).await?;
    let data_dir = settings.data_dir.clone();
    let (api_keys, key_file) =
        heron_server::load_or_generate_api_keys(&settings.allowed_api_keys, &data_dir)
            .context("preparing API keys")?;
    if let Some(path) = key_file {
        tracing::info!(path = %path.display(), "ALLOWED_API_KEYS is empty: using the key stored in this file");
    }
    let listener = tokio::net::TcpListener::bind(settings.bind)
        .await
        .with_context(|| format!("listening on {} (HERON_BIND)", settings.bind))?;
    tracing::info!(
        startup_ms = started.elapsed().as_secs_f64() * 1000.0,
        model = pipeline.model().id(),
        data_dir = %data_dir.display(),
        "ready"
    );
    let parts = service_parts(settings, store, blobs, pipeline, api_keys);
    heron_server::run(parts, listener, heron_server::shutdown_signal()).await?;
    Ok(())
}

/// What `serve` and `worker` share: the database, the blob store and the
/// pipeline with its model (switched when another model is activated).
pub(super) async fn open_service(
    settings: Settings,
) -> anyhow::Result<(Arc<Settings>, Store, BlobStore, Arc<Pipeline>)> {
    let settings = Arc::new(settings);
    let data_dir = settings.data_dir.clone();
    let pool = PoolConfig {
        max_connections: settings.db_max_connections,
        acquire_timeout: settings.db_timeout,
        statement_timeout: settings.db_timeout * 6,
    };
    let store = Store::open_with(settings.database_url.as_deref(), &data_dir, pool)
        .await
        .with_context(|| {
            format!(
                "opening the database {}",
                settings
                    .database_url
                    .as_deref()
                    .map_or_else(|| "(embedded SQLite)".to_owned(), redact_url)
            )
        })?;
    let store = setup::with_keys(store, &settings).await?;
    if store.encrypts() {
        tracing::info!("encryption at rest is on: files and texts are sealed under the master key");
    }
    if settings.database_url.is_none() {
        // The embedded database: we hold the data directory's lock, so any
        // lease in it belongs to a predecessor that stopped; resume its
        // tasks now. (A shared database's leases may belong to live
        // processes elsewhere: they are left to expire.)
        let resumed = store
            .release_all()
            .await
            .context("resuming unfinished tasks")?;
        if resumed > 0 {
            tracing::info!(
                tasks = resumed,
                "resuming tasks left unfinished by the previous run"
            );
        }
    }
    let blobs = BlobStore::open(settings.blob_store.as_deref(), &data_dir)
        .await
        .context("opening the blob store")?
        .with_encryption(&store);
    tracing::info!(database = store.backend().as_str(), blobs = %blobs.describe(), "storage opened");
    let model_settings = settings.clone();
    let model = tokio::task::spawn_blocking(move || setup::load_model(&model_settings)).await??;
    let pipeline_settings = settings.clone();
    let pipeline =
        tokio::task::spawn_blocking(move || setup::build_pipeline(&pipeline_settings, model))
            .await??;
    let pipeline = Arc::new(pipeline);
    // Tenants' own promoted models and the semantic stage's examples and
    // described types: loaded before the first file; the service follows
    // them after (a promotion or a lesson in any process reaches this one).
    heron_worker::refresh_tenant_models(&store, &blobs, &pipeline)
        .await
        .context("loading the tenants' promoted models")?;
    heron_worker::refresh_semantic(&store, &pipeline, &mut None)
        .await
        .context("loading the semantic stage's examples")?;
    Ok((settings, store, blobs, pipeline))
}

/// What `heron_server` runs for `serve` and `worker`: the opened service,
/// and — unless a model file is pinned — the loop that switches to the
/// model the models directory names active.
pub(super) fn service_parts(
    settings: Arc<Settings>,
    store: Store,
    blobs: BlobStore,
    pipeline: Arc<Pipeline>,
    api_keys: Vec<heron_core::settings::Secret>,
) -> ServerParts {
    let parts = ServerParts::new(
        settings.clone(),
        store,
        blobs,
        Arc::clone(&pipeline),
        api_keys,
    );
    if settings.model.is_some() {
        return parts;
    }
    let settings = settings.as_ref().clone();
    parts.with_follower(Box::new(move |stop| {
        Box::pin(watch_active_model(settings, pipeline, stop))
    }))
}

/// Switch models without a restart: every few seconds, look at the models
/// directory's `active` file (written by `heron models activate`, `heron
/// train --activate`, `heron models rollback`) and load the model it names
/// when that changed. A model that fails to load is logged and skipped;
/// the current one stays.
async fn watch_active_model(
    settings: heron_core::Settings,
    pipeline: Arc<heron_pipeline::Pipeline>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let directory = setup::models_dir(&settings);
    let active = directory.join("active");
    let mut seen = tokio::fs::read_to_string(&active).await.ok();
    let mut ticker = tokio::time::interval(std::time::Duration::from_secs(2));
    loop {
        tokio::select! {
            _ = ticker.tick() => {}
            _ = stop.wait_for(|stopping| *stopping) => return,
        }
        let current = tokio::fs::read_to_string(&active).await.ok();
        if current == seen {
            continue;
        }
        seen.clone_from(&current);
        let name = current
            .map(|n| n.trim().to_owned())
            .filter(|n| !n.is_empty());
        let path = name.as_ref().map(|n| directory.join(n));
        let settings = settings.clone();
        // No active model any more (rolled back past the first activation):
        // the default model again.
        let load = move || match path {
            Some(path) => heron_classify::TextModel::load(&path).map_err(anyhow::Error::from),
            None => setup::load_or_train_model(&settings),
        };
        let name = name.unwrap_or_else(|| "the default model".to_owned());
        match tokio::task::spawn_blocking(load).await {
            Ok(Ok(model)) => {
                tracing::info!(model = model.id(), "active model changed; switching");
                pipeline.set_model(model);
            }
            Ok(Err(e)) => {
                tracing::error!(model = %name, error = %e, "the newly activated model cannot be loaded; keeping the current one")
            }
            Err(e) => tracing::error!(error = %e, "loading the activated model failed"),
        }
    }
}
