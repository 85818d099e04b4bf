//! Queue overhead: tasks claimed and completed per second for no-op tasks,
//! on SQLite and (with `HERON_TEST_DATABASE_URL`) on PostgreSQL, with 1
//! and 4 concurrent claimers.
//!
//! ```sh
//! cargo run --release -p heron-store --example queue_overhead -- 2000
//! ```

use std::time::{Duration, Instant};

use heron_core::ClassificationResult;
use heron_store::{NewJob, NewTask, Store};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let tasks: usize = std::env::args()
        .nth(1)
        .map(|n| n.parse())
        .transpose()?
        .unwrap_or(2000);
    let mut backends = vec![("sqlite", None)];
    if let Some(admin) = heron_store::testing::postgres_admin_url() {
        backends.push(("postgres", Some(admin)));
    }
    println!("backend   claimers  tasks  seconds  tasks/s");
    for (name, admin) in backends {
        for claimers in [1usize, 4] {
            let dir = tempfile::tempdir()?;
            let url = match &admin {
                Some(admin) => Some(heron_store::testing::fresh_postgres_database(admin).await?),
                None => None,
            };
            let store = Store::open(url.as_deref(), dir.path()).await?;
            store.create_job(&job(tasks)).await?;
            let started = Instant::now();
            let handles: Vec<_> = (0..claimers)
                .map(|n| {
                    let store = store.clone();
                    tokio::spawn(async move { drain(store, format!("w{n}")).await })
                })
                .collect();
            let mut done = 0;
            for handle in handles {
                done += handle.await??;
            }
            let seconds = started.elapsed().as_secs_f64();
            assert_eq!(done, tasks);
            println!(
                "{name:<9} {claimers:>8} {tasks:>6} {seconds:>8.2} {:>8.0}",
                tasks as f64 / seconds
            );
            store.close().await;
        }
    }
    Ok(())
}

/// Claim and complete until the queue is empty; how many this claimer did.
async fn drain(store: Store, owner: String) -> Result<usize, heron_store::StoreError> {
    let result = ClassificationResult {
        label: "invoice".to_owned(),
        ..ClassificationResult::default()
    };
    let mut done = 0;
    while let Some(task) = store.claim(&owner, Duration::from_secs(60), 3).await? {
        store.complete(&task.id, &owner, &result).await?;
        done += 1;
    }
    Ok(done)
}

fn job(tasks: usize) -> NewJob {
    NewJob {
        tenant: "bench".to_owned(),
        actor: "bench".to_owned(),
        id: "bench".to_owned(),
        request_id: "bench".to_owned(),
        synchronous: false,
        lease_owner: None,
        lease: Duration::from_secs(60),
        callback_url: None,
        trace_context: None,
        tasks: (0..tasks)
            .map(|i| NewTask {
                id: format!("t{i:06}"),
                filename: format!("f{i}.txt"),
                sha256: format!("{i:064}"),
                size_bytes: 1,
            })
            .collect(),
    }
}
