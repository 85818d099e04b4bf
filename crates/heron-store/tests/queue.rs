//! The queue's contract on a real SQLite database: one result per file,
//! leases that expire, jobs that finish with their last task.

use std::time::Duration;

use heron_core::{ClassificationResult, DecidedBy, JobStatus};
use heron_store::{NewJob, NewTask, Store};

fn result(name: &str) -> ClassificationResult {
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

fn job(id: &str, files: usize) -> NewJob {
    NewJob {
        id: id.to_owned(),
        request_id: format!("req-{id}"),
        synchronous: false,
        lease_owner: None,
        lease: Duration::from_secs(60),
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

async fn store() -> (Store, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    (Store::open(None, dir.path()).await.unwrap(), dir)
}

#[tokio::test]
async fn a_job_finishes_with_its_last_task_and_keeps_upload_order() {
    let (store, _dir) = store().await;
    store.create_job(&job("j1", 3)).await.unwrap();
    assert_eq!(
        store.job("j1").await.unwrap().unwrap().status,
        JobStatus::Queued
    );
    let mut claimed = Vec::new();
    while let Some(task) = store.claim("w1", Duration::from_secs(60), 3).await.unwrap() {
        claimed.push(task);
    }
    assert_eq!(claimed.len(), 3);
    assert_eq!(
        store.job("j1").await.unwrap().unwrap().status,
        JobStatus::Processing
    );
    for task in claimed.iter().rev() {
        assert!(
            store
                .complete(&task.id, "w1", &result(&task.filename))
                .await
                .unwrap()
        );
    }
    let record = store.job("j1").await.unwrap().unwrap();
    assert_eq!(record.status, JobStatus::Done);
    let names: Vec<_> = record.results.iter().map(|r| r.filename.as_str()).collect();
    assert_eq!(names, ["f0.txt", "f1.txt", "f2.txt"]);
    assert!(store.job("nope").await.unwrap().is_none());
}

#[tokio::test]
async fn an_expired_lease_is_reclaimed_and_the_old_owner_cannot_complete() {
    let (store, _dir) = store().await;
    store.create_job(&job("j2", 1)).await.unwrap();
    let first = store
        .claim("dead-worker", Duration::from_millis(1), 3)
        .await
        .unwrap()
        .unwrap();
    tokio::time::sleep(Duration::from_millis(20)).await;
    let second = store
        .claim("live-worker", Duration::from_secs(60), 3)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(first.id, second.id);
    assert_eq!(second.attempts, 2);
    assert!(
        !store
            .complete(&first.id, "dead-worker", &result("late"))
            .await
            .unwrap()
    );
    assert!(
        store
            .complete(&second.id, "live-worker", &result("f0.txt"))
            .await
            .unwrap()
    );
    // A second completion of the same task is refused: one result per file.
    assert!(
        !store
            .complete(&second.id, "live-worker", &result("again"))
            .await
            .unwrap()
    );
    let record = store.job("j2").await.unwrap().unwrap();
    assert_eq!(record.results.len(), 1);
    assert_eq!(record.results[0].filename, "f0.txt");
}

#[tokio::test]
async fn exhausted_tasks_are_not_claimed_and_can_be_buried() {
    let (store, _dir) = store().await;
    store.create_job(&job("j3", 1)).await.unwrap();
    store
        .claim("w", Duration::from_millis(1), 1)
        .await
        .unwrap()
        .unwrap();
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert!(
        store
            .claim("w2", Duration::from_secs(60), 1)
            .await
            .unwrap()
            .is_none()
    );
    let exhausted = store.exhausted_tasks(1).await.unwrap();
    assert_eq!(exhausted.len(), 1);
    assert!(
        store
            .bury(&exhausted[0].id, &result("f0.txt"), "worker died")
            .await
            .unwrap()
    );
    assert_eq!(
        store.job("j3").await.unwrap().unwrap().status,
        JobStatus::Done
    );
}

#[tokio::test]
async fn released_tasks_go_back_to_the_queue() {
    let (store, _dir) = store().await;
    store.create_job(&job("j4", 2)).await.unwrap();
    store
        .claim("stopping", Duration::from_secs(60), 3)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(store.release("stopping").await.unwrap(), 1);
    let summary = store.summary().await.unwrap();
    assert_eq!((summary.pending_tasks, summary.leased_tasks), (2, 0));
}

#[tokio::test]
async fn data_survives_reopening() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = Store::open(None, dir.path()).await.unwrap();
        store.create_job(&job("j5", 2)).await.unwrap();
        store.close().await;
    }
    let store = Store::open(None, dir.path()).await.unwrap();
    assert_eq!(store.job("j5").await.unwrap().unwrap().total_files, 2);
    assert!(
        store
            .claim("w", Duration::from_secs(5), 3)
            .await
            .unwrap()
            .is_some()
    );
}
