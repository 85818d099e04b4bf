//! The retention loop: now and then, erase every document past its
//! tenant's retention period (file, results, job), each recorded as
//! `document.purge` in the audit log, delete blobs whose erasure a crash
//! interrupted, and forget expired web UI sessions.

use std::time::Duration;

use heron_store::{BlobStore, Store};
use tokio::sync::watch;

/// Purge every `interval` until `stop` turns true. `default_days` applies
/// to tenants without a retention setting of their own.
pub async fn run_retention(
    store: Store,
    blobs: BlobStore,
    default_days: Option<u32>,
    interval: Duration,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        match store.purge_expired(&blobs, default_days).await {
            Ok(0) => {}
            Ok(purged) => {
                metrics::counter!("heron_documents_purged_total").increment(purged);
                tracing::info!(purged, "expired documents purged");
            }
            Err(e) => tracing::warn!(error = %e, "retention purge failed; will try again"),
        }
        if let Err(e) = store.drop_expired_sessions().await {
            tracing::warn!(error = %e, "could not drop expired web UI sessions; will try again");
        }
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            _ = stop.changed() => {}
        }
        if *stop.borrow() {
            return;
        }
    }
}
