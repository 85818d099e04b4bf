//! `heron worker`: process queued files, serve only health, readiness and
//! metrics. Run any number against one PostgreSQL database and one blob
//! store shared by every process (S3, or a directory on one machine).

use std::process::ExitCode;

use anyhow::Context;
use heron_core::Settings;

use crate::commands::serve::{open_service, service_parts};
use crate::setup;

pub fn run(settings: Settings) -> anyhow::Result<ExitCode> {
    let _telemetry = setup::init_logging_and_traces(&settings, "info", "heron-worker")?;
    if settings.database_url.is_none() {
        anyhow::bail!(
            "heron worker needs a database shared with the API: pass --database-url \
             (postgres://... for several machines, or the sqlite:// file of `heron serve` \
             on this one) and a shared --blob-store"
        );
    }
    if settings.workers == 0 {
        anyhow::bail!("--concurrency must be at least 1");
    }
    let _lock = setup::lock_data_dir(&settings.data_dir)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async move {
        let (settings, store, blobs, pipeline) = open_service(settings).await?;
        let listener = tokio::net::TcpListener::bind(settings.bind)
            .await
            .with_context(|| format!("listening on {} (--bind)", settings.bind))?;
        let parts = service_parts(settings, store, blobs, pipeline, Vec::new());
        heron_server::run_worker(parts, listener, heron_server::shutdown_signal()).await?;
        anyhow::Ok(())
    })?;
    Ok(ExitCode::SUCCESS)
}
