//! The retention loop: now and then, erase every document past its
//! tenant's retention period (file, results, job), each recorded as
//! `document.purge` in the audit log, delete blobs whose erasure a crash
//! interrupted, drop uploads that were never completed (and forget
//! completed ones a week on), forget expired web UI sessions, and log the
//! audit chains' heads as anchors.

use std::time::Duration;

use heron_store::{Actor, BlobStore, Store, StoreError, UploadKind};
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
        match drop_expired_uploads(&store, &blobs).await {
            Ok(0) => {}
            Ok(dropped) => tracing::info!(dropped, "expired uploads dropped"),
            Err(e) => tracing::warn!(error = %e, "could not drop expired uploads; will try again"),
        }
        if let Err(e) = store.drop_expired_sessions().await {
            tracing::warn!(error = %e, "could not drop expired web UI sessions; will try again");
        }
        // Quota windows are a day long; usage older than two is forgotten.
        let now_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
        let two_days_ago = now_ms - 2 * 24 * 3600 * 1000;
        if let Err(e) = store.forget_usage_before(two_days_ago).await {
            tracing::warn!(error = %e, "could not forget old quota usage; will try again");
        }
        log_audit_anchors(&store).await;
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            _ = stop.changed() => {}
        }
        if *stop.borrow() {
            return;
        }
    }
}

/// Log each audit chain's head as an `anchor` line: shipped with the logs
/// to a store the database's writers cannot reach, they let `heron audit
/// verify --anchors` catch a rewrite of the log.
async fn log_audit_anchors(store: &Store) {
    match store.audit_anchors().await {
        Ok(anchors) => {
            for anchor in anchors {
                tracing::info!(tenant = %anchor.tenant, "{}", anchor.line());
            }
        }
        Err(e) => tracing::warn!(error = %e, "could not read the audit chain heads"),
    }
}

/// Drop unfinished uploads past their expiry (their parts, or the object a
/// presigned URL put), and forget completed ones; how many.
async fn drop_expired_uploads(store: &Store, blobs: &BlobStore) -> Result<u64, StoreError> {
    let actor = Actor::system("retention");
    let mut dropped = 0;
    for (tenant, id, kind) in store.expired_uploads(500).await? {
        if kind == UploadKind::Presigned {
            blobs.remove_incoming(&id).await?;
        }
        if store.drop_upload(&tenant, &id, &actor).await? {
            dropped += 1;
        } else {
            store.forget_upload(&id).await?;
        }
    }
    if dropped > 0 {
        store.drain_blob_deletions(blobs).await?;
    }
    Ok(dropped)
}
