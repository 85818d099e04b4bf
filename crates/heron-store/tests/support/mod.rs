//! What the store's test files share: fresh stores on every back-end,
//! jobs, results and actors.
#![allow(dead_code)]

use std::time::Duration;

use heron_core::{ClassificationResult, DecidedBy};
use heron_store::{NewJob, NewTask, Store};

pub fn result(name: &str) -> ClassificationResult {
    ClassificationResult {
        filename: name.to_owned(),
        mime_type: "text/plain".to_owned(),
        size_bytes: 1,
        label: "form".to_owned(),
        confidence: 0.9,
        pipeline_version: "test".to_owned(),
        processing_ms: 1.0,
        request_id: "r".to_owned(),
        sha256: "00".to_owned(),
        predicted_label: "form".to_owned(),
        decided_by: DecidedBy::TextModel,
        ..ClassificationResult::default()
    }
}

pub fn job(id: &str, files: usize) -> NewJob {
    NewJob {
        id: id.to_owned(),
        tenant: "t1".to_owned(),
        actor: "test".to_owned(),
        request_id: format!("req-{id}"),
        synchronous: false,
        lease_owner: None,
        lease: Duration::from_secs(60),
        callback_url: None,
        trace_context: None,
        tasks: (0..files)
            .map(|i| NewTask {
                id: format!("{id}-t{i}"),
                filename: format!("f{i}.txt"),
                sha256: format!("{i:064}"),
                size_bytes: 10,
            })
            .collect(),
    }
}

pub fn actor() -> heron_store::Actor {
    heron_store::Actor {
        id: "test".to_owned(),
        request_id: "req".to_owned(),
    }
}

/// Claim for `owner` with a one-minute lease.
pub async fn claim(
    store: &Store,
    owner: &str,
    max_attempts: u32,
) -> Option<heron_store::ClaimedTask> {
    store
        .claim(owner, Duration::from_secs(60), max_attempts)
        .await
        .unwrap()
}

/// Complete `task_id` as `owner` with a result for `filename`; whether it
/// was accepted.
pub async fn complete(store: &Store, task_id: &str, owner: &str, filename: &str) -> bool {
    store
        .complete(task_id, owner, &result(filename))
        .await
        .unwrap()
}

/// A fresh store on every back-end available: SQLite always, PostgreSQL
/// when configured.
pub async fn stores() -> Vec<(Store, tempfile::TempDir)> {
    let dir = tempfile::tempdir().unwrap();
    let mut stores = vec![(Store::open(None, dir.path()).await.unwrap(), dir)];
    if let Some(admin) = heron_store::testing::postgres_admin_url() {
        let url = heron_store::testing::fresh_postgres_database(&admin)
            .await
            .expect("creating a PostgreSQL test database");
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(Some(&url), dir.path()).await.unwrap();
        assert_eq!(store.backend(), heron_store::Backend::Postgres);
        stores.push((store, dir));
    }
    stores
}
