//! The queue's contract on real databases — SQLite, and PostgreSQL when
//! `HERON_TEST_DATABASE_URL` names one: one result per file, leases that
//! expire, jobs that finish with their last task, retries, dead letters,
//! cancellation, idempotency keys.

use std::time::Duration;

mod support;

use heron_core::JobStatus;
use heron_store::Store;
use support::{actor, claim, complete, job, result, stores};

#[tokio::test]
async fn a_job_finishes_with_its_last_task_and_keeps_upload_order() {
    for (store, _dir) in stores().await {
        store.create_job(&job("j1", 3)).await.unwrap();
        assert_eq!(
            store.job("t1", "j1").await.unwrap().unwrap().status,
            JobStatus::Queued
        );
        let mut claimed = Vec::new();
        while let Some(task) = claim(&store, "w1", 3).await {
            claimed.push(task);
        }
        assert_eq!(claimed.len(), 3);
        assert_eq!(
            store.job("t1", "j1").await.unwrap().unwrap().status,
            JobStatus::Processing
        );
        for task in claimed.iter().rev() {
            assert!(complete(&store, &task.id, "w1", &task.filename).await);
        }
        let record = store.job("t1", "j1").await.unwrap().unwrap();
        assert_eq!(record.status, JobStatus::Done);
        let names: Vec<_> = record.results.iter().map(|r| r.filename.as_str()).collect();
        assert_eq!(names, ["f0.txt", "f1.txt", "f2.txt"]);
        assert!(store.job("t1", "nope").await.unwrap().is_none());
    }
}

#[tokio::test]
async fn an_expired_lease_is_reclaimed_and_the_old_owner_cannot_complete() {
    for (store, _dir) in stores().await {
        store.create_job(&job("j2", 1)).await.unwrap();
        let first = store
            .claim("dead-worker", Duration::from_millis(1), 3)
            .await
            .unwrap()
            .unwrap();
        tokio::time::sleep(Duration::from_millis(20)).await;
        let second = claim(&store, "live-worker", 3).await.unwrap();
        assert_eq!(first.id, second.id);
        assert_eq!(second.attempts, 2);
        assert!(!complete(&store, &first.id, "dead-worker", "late").await);
        assert!(complete(&store, &second.id, "live-worker", "f0.txt").await);
        // A second completion of the same task is refused: one result per file.
        assert!(!complete(&store, &second.id, "live-worker", "again").await);
        let record = store.job("t1", "j2").await.unwrap().unwrap();
        assert_eq!(record.results.len(), 1);
        assert_eq!(record.results[0].filename, "f0.txt");
    }
}

#[tokio::test]
async fn exhausted_tasks_are_not_claimed_and_can_be_buried() {
    for (store, _dir) in stores().await {
        store.create_job(&job("j3", 1)).await.unwrap();
        store
            .claim("w", Duration::from_millis(1), 1)
            .await
            .unwrap()
            .unwrap();
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(claim(&store, "w2", 1).await.is_none());
        let exhausted = store.exhausted_tasks(1).await.unwrap();
        assert_eq!(exhausted.len(), 1);
        assert!(
            store
                .bury(&exhausted[0].id, None, &result("f0.txt"), "worker died")
                .await
                .unwrap()
        );
        assert_eq!(
            store.job("t1", "j3").await.unwrap().unwrap().status,
            JobStatus::Done
        );
    }
}

#[tokio::test]
async fn released_tasks_go_back_to_the_queue() {
    for (store, _dir) in stores().await {
        store.create_job(&job("j4", 2)).await.unwrap();
        claim(&store, "stopping", 3).await.unwrap();
        assert_eq!(store.release("stopping").await.unwrap(), 1);
        let summary = store.summary().await.unwrap();
        assert_eq!((summary.pending_tasks, summary.leased_tasks), (2, 0));
    }
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
    assert_eq!(store.job("t1", "j5").await.unwrap().unwrap().total_files, 2);
    assert!(
        store
            .claim("w", Duration::from_secs(5), 3)
            .await
            .unwrap()
            .is_some()
    );
}

#[tokio::test]
async fn a_transient_failure_is_retried_after_its_delay_then_dead_lettered_and_retried_by_an_admin()
{
    for (store, _dir) in stores().await {
        store.create_job(&job("j6", 1)).await.unwrap();
        let task = claim(&store, "w", 2).await.unwrap();
        assert!(
            store
                .retry_later(
                    &task.id,
                    "w",
                    Duration::from_millis(300),
                    "object store unreachable"
                )
                .await
                .unwrap()
        );
        // Not claimable before its delay has passed.
        assert!(claim(&store, "w", 2).await.is_none());
        tokio::time::sleep(Duration::from_millis(350)).await;
        let again = claim(&store, "w", 2).await.unwrap();
        assert_eq!((again.id.as_str(), again.attempts), (task.id.as_str(), 2));
        assert!(
            store
                .bury(
                    &again.id,
                    Some("w"),
                    &result("f0.txt"),
                    "object store unreachable"
                )
                .await
                .unwrap()
        );
        let record = store.job("t1", "j6").await.unwrap().unwrap();
        assert_eq!(record.status, JobStatus::Done);
        assert_eq!((record.progress.failed, record.results.len()), (1, 1));
        let dead = store.dead_letters("t1", 10).await.unwrap();
        assert_eq!(dead.len(), 1);
        assert_eq!(
            dead[0].last_error.as_deref(),
            Some("object store unreachable")
        );
        assert_eq!(store.summary().await.unwrap().dead_tasks, 1);

        assert!(
            store
                .retry_dead_letter("t1", &task.id, &actor())
                .await
                .unwrap()
        );
        assert!(
            !store
                .retry_dead_letter("t1", &task.id, &actor())
                .await
                .unwrap()
        );
        let record = store.job("t1", "j6").await.unwrap().unwrap();
        assert_eq!(record.status, JobStatus::Processing);
        assert!(record.results.is_empty());
        let fresh = claim(&store, "w", 2).await.unwrap();
        assert_eq!(fresh.attempts, 1);
    }
}

#[tokio::test]
async fn a_cancelled_job_runs_no_more_tasks_and_discards_late_results() {
    for (store, _dir) in stores().await {
        store.create_job(&job("j7", 3)).await.unwrap();
        let first = claim(&store, "w", 3).await.unwrap();
        assert!(complete(&store, &first.id, "w", "f0.txt").await);
        let second = claim(&store, "w", 3).await.unwrap();
        assert_eq!(
            store.cancel_job("t1", "j7", &actor()).await.unwrap(),
            heron_store::Cancelled::Cancelled { tasks: 2 }
        );
        assert!(
            !store
                .renew(&second.id, "w", Duration::from_secs(60))
                .await
                .unwrap()
        );
        assert!(!complete(&store, &second.id, "w", "late").await);
        assert!(claim(&store, "w", 3).await.is_none());
        let record = store.job("t1", "j7").await.unwrap().unwrap();
        assert_eq!(record.status, JobStatus::Cancelled);
        assert_eq!((record.progress.done, record.progress.cancelled), (1, 2));
        assert_eq!(
            store.cancel_job("t1", "j7", &actor()).await.unwrap(),
            heron_store::Cancelled::AlreadyFinished(JobStatus::Cancelled)
        );
        assert_eq!(
            store.cancel_job("t1", "nope", &actor()).await.unwrap(),
            heron_store::Cancelled::NotFound
        );
    }
}

#[tokio::test]
async fn the_job_list_pages_newest_first_and_filters_by_status() {
    for (store, _dir) in stores().await {
        for n in 0..5 {
            store
                .create_job(&job(&format!("list{n}"), 1))
                .await
                .unwrap();
            tokio::time::sleep(Duration::from_millis(3)).await;
        }
        store.cancel_job("t1", "list1", &actor()).await.unwrap();
        let first = store.jobs("t1", None, 2, None).await.unwrap();
        let ids: Vec<_> = first.jobs.iter().map(|j| j.id.as_str()).collect();
        assert_eq!(ids, ["list4", "list3"]);
        let mut seen = ids.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let mut cursor = first.next_cursor;
        while let Some(after) = cursor {
            let page = store.jobs("t1", None, 2, Some(&after)).await.unwrap();
            seen.extend(page.jobs.iter().map(|j| j.id.clone()));
            cursor = page.next_cursor;
        }
        assert_eq!(seen, ["list4", "list3", "list2", "list1", "list0"]);
        let cancelled = store
            .jobs("t1", Some(JobStatus::Cancelled), 10, None)
            .await
            .unwrap();
        assert_eq!(cancelled.jobs.len(), 1);
        assert_eq!(cancelled.jobs[0].id, "list1");
        assert!(store.jobs("t1", None, 2, Some("garbage")).await.is_err());
    }
}

#[tokio::test]
async fn an_idempotency_key_binds_one_body_and_replays_its_answer() {
    use heron_store::KeyClaim;
    for (store, _dir) in stores().await {
        let day = Duration::from_secs(86_400);
        let key = |key: &'static str, hash: &'static str, ttl: Duration| {
            let store = store.clone();
            async move { store.claim_idempotency_key(key, hash, ttl).await.unwrap() }
        };
        assert_eq!(key("k1", "hash-a", day).await, KeyClaim::New);
        assert_eq!(
            key("k1", "hash-a", day).await,
            KeyClaim::InProgress { job_id: None }
        );
        store
            .create_job_for_key(&job("idem", 1), "k1")
            .await
            .unwrap();
        assert_eq!(
            key("k1", "hash-a", day).await,
            KeyClaim::InProgress {
                job_id: Some("idem".into())
            }
        );
        store
            .record_idempotent_response("k1", 202, "{\"job_id\":\"idem\"}")
            .await
            .unwrap();
        assert_eq!(
            key("k1", "hash-a", day).await,
            KeyClaim::Replay {
                status_code: 202,
                body: "{\"job_id\":\"idem\"}".into()
            }
        );
        assert_eq!(key("k1", "hash-b", day).await, KeyClaim::Mismatch);
        // A key whose request failed before creating a job is given back.
        assert_eq!(key("k2", "h", day).await, KeyClaim::New);
        store.release_idempotency_key("k2").await.unwrap();
        assert_eq!(key("k2", "other", day).await, KeyClaim::New);
        // An expired key binds nothing.
        let short = Duration::from_millis(1);
        assert_eq!(key("k3", "h", short).await, KeyClaim::New);
        tokio::time::sleep(Duration::from_millis(5)).await;
        assert_eq!(key("k3", "other", day).await, KeyClaim::New);
    }
}

#[tokio::test]
async fn concurrent_claimers_never_share_a_task() {
    for (store, _dir) in stores().await {
        store.create_job(&job("race", 40)).await.unwrap();
        let claimers = (0..6).map(|n| {
            let store = store.clone();
            tokio::spawn(async move {
                let owner = format!("w{n}");
                let mut mine = Vec::new();
                while let Some(task) = store
                    .claim(&owner, Duration::from_secs(60), 3)
                    .await
                    .unwrap()
                {
                    assert!(complete(&store, &task.id, &owner, &task.filename).await);
                    mine.push(task.id);
                }
                mine
            })
        });
        let mut all = Vec::new();
        for claimer in claimers {
            all.extend(claimer.await.unwrap());
        }
        let total = all.len();
        all.sort();
        all.dedup();
        assert_eq!((total, all.len()), (40, 40));
        let record = store.job("t1", "race").await.unwrap().unwrap();
        assert_eq!((record.status, record.results.len()), (JobStatus::Done, 40));
    }
}

#[tokio::test]
async fn a_job_finishes_when_its_last_tasks_complete_at_the_same_moment() {
    for (store, _dir) in stores().await {
        for n in 0..20 {
            let id = format!("race{n}");
            store.create_job(&job(&id, 2)).await.unwrap();
            let first = claim(&store, "w1", 3).await.unwrap();
            let second = claim(&store, "w2", 3).await.unwrap();
            let (a, b) = tokio::join!(
                complete(&store, &first.id, "w1", "a"),
                complete(&store, &second.id, "w2", "b"),
            );
            assert!(a && b);
            assert_eq!(
                store.job("t1", &id).await.unwrap().unwrap().status,
                JobStatus::Done,
                "job {id} stayed open"
            );
        }
    }
}
