//! `heron serve`.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use heron_core::Settings;
use heron_server::ServerParts;
use heron_store::{BlobStore, Store};

use crate::setup;

pub fn run(settings: Settings) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    setup::init_logging(&settings, "info");
    let _lock = setup::lock_data_dir(&settings.data_dir)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(serve(settings, started))?;
    Ok(ExitCode::SUCCESS)
}

async fn serve(settings: Settings, started: Instant) -> anyhow::Result<()> {
    let settings = Arc::new(settings);
    let data_dir = settings.data_dir.clone();
    let store = Store::open(settings.database_url.as_deref(), &data_dir)
        .await
        .context("opening the database")?;
    // We hold the data directory's lock: any lease in the database belongs
    // to a predecessor that stopped, so resume its tasks now.
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
    let blobs = BlobStore::open(&data_dir.join("blobs"))
        .await
        .context("opening the blob store")?;
    let model_settings = settings.clone();
    let model = tokio::task::spawn_blocking(move || setup::load_model(&model_settings)).await??;
    let pipeline_settings = settings.clone();
    let pipeline =
        tokio::task::spawn_blocking(move || setup::build_pipeline(&pipeline_settings, model))
            .await??;
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
    let parts = ServerParts::new(settings, store, blobs, Arc::new(pipeline), api_keys);
    heron_server::run(parts, listener, heron_server::shutdown_signal()).await?;
    Ok(())
}
