//! Scale-out on PostgreSQL: an API process with no workers and separate
//! `heron worker` processes sharing one database and one blob store (S3
//! when configured, else a shared folder). Processes are killed with
//! SIGKILL mid-batch; nothing may be lost or done twice.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use crate::jobs::files;
use crate::support::{API_KEY, Role, TestServer, tools_available};

/// The environment of one deployment: a fresh PostgreSQL database, a blob
/// store shared by its processes, short leases. `None` (after a loud
/// notice) without a PostgreSQL server to test against.
async fn deployment(blob_dir: &std::path::Path) -> Option<Vec<(String, String)>> {
    let admin = heron_store::testing::postgres_admin_url()?;
    let database = heron_store::testing::fresh_postgres_database(&admin)
        .await
        .expect("creating a PostgreSQL test database");
    let blobs =
        heron_store::testing::s3_test_location().unwrap_or_else(|| blob_dir.display().to_string());
    Some(vec![
        ("HERON_DATABASE_URL".to_owned(), database),
        ("HERON_BLOB_STORE".to_owned(), blobs),
        ("HERON_TASK_LEASE_SECS".to_owned(), "5".to_owned()),
    ])
}

fn with(env: &[(String, String)], extra: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut env = env.to_vec();
    env.extend(
        extra
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    );
    env
}

async fn job(api: &TestServer, job_id: &str) -> serde_json::Value {
    api.get(&format!("/v1/jobs/{job_id}"))
        .await
        .json()
        .await
        .expect("job JSON")
}

#[tokio::test]
async fn a_worker_killed_mid_batch_loses_no_file_and_doubles_none() {
    if !tools_available() {
        return;
    }
    let blob_dir = tempfile::tempdir().unwrap();
    let Some(env) = deployment(blob_dir.path()).await else {
        return;
    };
    let api = TestServer::start_role(Role::Api, &with(&env, &[("HERON_WORKERS", "0")])).await;
    let worker_env = with(&env, &[("HERON_WORKERS", "1")]);
    let mut doomed = TestServer::start_role(Role::Worker, &worker_env).await;
    let survivor = TestServer::start_role(Role::Worker, &worker_env).await;

    let batch = files(50, true);
    let response = api.upload(&batch).await;
    assert_eq!(response.status(), 202);
    let job_id = response.json::<serde_json::Value>().await.unwrap()["job_id"]
        .as_str()
        .unwrap()
        .to_owned();

    // Kill one worker once both have been at work for a while.
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let current = job(&api, &job_id).await;
        if current["progress"]["done"].as_u64().unwrap_or(0) >= 6 {
            break;
        }
        assert!(Instant::now() < deadline, "no progress: {current}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    doomed.kill();

    let done = api.wait_for_job(&job_id, Duration::from_secs(300)).await;
    assert_eq!(done["status"], "done", "{done:#}");
    let results = done["results"].as_array().unwrap();
    assert_eq!(results.len(), 50, "exactly one result per file");
    let names: Vec<&str> = results
        .iter()
        .map(|r| r["filename"].as_str().unwrap())
        .collect();
    let expected: Vec<&str> = batch.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, expected);
    let documents: BTreeSet<&str> = results
        .iter()
        .map(|r| r["document_id"].as_str().unwrap())
        .collect();
    assert_eq!(documents.len(), 50, "no file processed into two results");
    assert!(
        results
            .iter()
            .all(|r| r["errors"].as_array().unwrap().is_empty()),
        "{done:#}"
    );
    // The task the killed worker held was taken over after its lease
    // expired: the survivor finished a second attempt.
    let log = survivor.log();
    assert!(
        log.lines()
            .any(|l| l.contains("file classified") && l.contains("\"attempt\":2")),
        "the surviving worker should have retried the dead worker's task:\n{log}"
    );
}

#[tokio::test]
async fn an_api_killed_mid_upload_leaves_no_partial_job() {
    let blob_dir = tempfile::tempdir().unwrap();
    let Some(env) = deployment(blob_dir.path()).await else {
        return;
    };
    let api_env = with(&env, &[("HERON_WORKERS", "0")]);
    let mut api = TestServer::start_role(Role::Api, &api_env).await;

    // A first batch is accepted whole.
    let first = api.upload(&files(12, false)).await;
    assert_eq!(first.status(), 202);

    // A second batch whose body trickles in: the API dies mid-upload.
    let (sender, mut receiver) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(4);
    let body = reqwest::Body::wrap_stream(futures_util::stream::poll_fn(move |cx| {
        receiver.poll_recv(cx)
    }));
    let boundary = "heron-test-boundary";
    let request = api
        .client
        .post(api.url("/v1/files"))
        .header("x-api-key", API_KEY)
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(body)
        .send();
    let upload = tokio::spawn(request);
    for i in 0..5 {
        let part = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"part{i}.txt\"\r\n\
             Content-Type: text/plain\r\n\r\nINVOICE number {i} total due 100.00\r\n"
        );
        sender.send(Ok(part.into_bytes())).await.unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    api.kill();
    drop(sender);
    let outcome = upload.await.unwrap();
    assert!(
        outcome.is_err() || !outcome.as_ref().unwrap().status().is_success(),
        "the cut upload must fail for the client: {outcome:?}"
    );

    // After a restart only the first batch exists, complete.
    api.restart().await;
    let list: serde_json::Value = api.get("/v1/jobs").await.json().await.unwrap();
    let jobs = list["jobs"].as_array().unwrap();
    assert_eq!(jobs.len(), 1, "{list:#}");
    assert_eq!(jobs[0]["total_files"], 12);
}
