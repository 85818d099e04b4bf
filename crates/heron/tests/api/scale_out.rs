//! Scale-out on PostgreSQL: an API process with no workers and separate
//! `heron worker` processes sharing one database and one blob store (S3
//! when configured, else a shared folder). Processes are killed with
//! SIGKILL mid-batch; nothing may be lost or done twice.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use crate::jobs::files;
use crate::support::{API_KEY, Role, TestServer, made_picture, tools_available};

/// The environment of one deployment: a fresh PostgreSQL database, a blob
/// store shared by its processes, short leases. `None` (after a loud
/// notice) without a PostgreSQL server to test against.
pub(crate) async fn deployment(blob_dir: &std::path::Path) -> Option<Vec<(String, String)>> {
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

pub(crate) fn with(env: &[(String, String)], extra: &[(&str, &str)]) -> Vec<(String, String)> {
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

    // Pictures only: each takes seconds of OCR, so a worker is almost
    // always in the middle of one when it is killed (with quick text
    // files among them, the kill could fall between two tasks and leave
    // nothing to take over).
    let pictures = [made_picture("drivers_licence"), made_picture("invoice")];
    let batch: Vec<(String, Vec<u8>)> = (0..24)
        .map(|i| (format!("file_{i:02}.jpg"), pictures[i % 2].clone()))
        .collect();
    let job_id = api.upload_job(&batch).await;

    // Kill one worker once both have been at work for a while.
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let current = job(&api, &job_id).await;
        if current["progress"]["done"].as_u64().unwrap_or(0) >= 4 {
            break;
        }
        assert!(Instant::now() < deadline, "no progress: {current}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    doomed.kill();

    let done = api.wait_for_job(&job_id, Duration::from_secs(300)).await;
    assert_eq!(done["status"], "done", "{done:#}");
    let results = done["results"].as_array().unwrap();
    assert_eq!(results.len(), batch.len(), "exactly one result per file");
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
    assert_eq!(
        documents.len(),
        batch.len(),
        "no file processed into two results"
    );
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

/// A PostgreSQL cluster of this test's own, to stop and start: from
/// `HERON_TEST_PG_BIN`, run as `HERON_TEST_PG_USER` (set by
/// scripts/with-test-services).
struct PrivatePostgres {
    bin: std::path::PathBuf,
    user: String,
    dir: tempfile::TempDir,
    port: u16,
}

impl PrivatePostgres {
    fn start() -> Option<PrivatePostgres> {
        let (Ok(bin), Ok(user)) = (
            std::env::var("HERON_TEST_PG_BIN"),
            std::env::var("HERON_TEST_PG_USER"),
        ) else {
            heron_testkit::missing(
                "HERON_TEST_PG_BIN is not set (scripts/with-test-services sets it)",
            );
            return None;
        };
        let dir = tempfile::tempdir().unwrap();
        std::process::Command::new("chown")
            .arg(&user)
            .arg(dir.path())
            .status()
            .unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let server = PrivatePostgres {
            bin: bin.into(),
            user,
            dir,
            port,
        };
        server.pg(&["initdb", "-D", "data", "-U", "heron", "--auth=trust"]);
        server.resume();
        Some(server)
    }

    /// Run a PostgreSQL program as its user, in the cluster's directory.
    fn pg(&self, args: &[&str]) {
        let status = self.command(args).status().unwrap();
        assert!(status.success(), "{args:?} failed");
    }

    /// `args[0]` of the PostgreSQL binaries with the rest as arguments,
    /// as the cluster's user, in its directory.
    fn command(&self, args: &[&str]) -> std::process::Command {
        let program = self.bin.join(args[0]);
        let mut command = if nix_is_root() {
            let mut c = std::process::Command::new("runuser");
            c.args(["-u", &self.user, "--"]).arg(program);
            c
        } else {
            std::process::Command::new(program)
        };
        command
            .args(&args[1..])
            .current_dir(self.dir.path())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        command
    }

    fn resume(&self) {
        let options = format!(
            "-c listen_addresses=127.0.0.1 -p {} -k {}",
            self.port,
            self.dir.path().display()
        );
        self.pg(&[
            "pg_ctl", "-D", "data", "-l", "log", "-w", "-o", &options, "start",
        ]);
    }

    fn stop(&self) {
        self.pg(&["pg_ctl", "-D", "data", "-m", "immediate", "-w", "stop"]);
    }

    fn url(&self) -> String {
        format!("postgres://heron@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        // Already stopped is fine.
        let _ = self
            .command(&["pg_ctl", "-D", "data", "-m", "immediate", "stop"])
            .status();
    }
}

fn nix_is_root() -> bool {
    std::process::Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0\n"))
}

/// Stop PostgreSQL under a running service: requests get `503` quickly
/// (the breaker opens and fails fast), readiness names the database;
/// start it again and the service recovers without a restart.
#[tokio::test]
async fn a_database_outage_answers_503_fast_and_the_service_recovers() {
    let Some(postgres) = PrivatePostgres::start() else {
        return;
    };
    let blob_dir = tempfile::tempdir().unwrap();
    let env = vec![
        ("HERON_DATABASE_URL".to_owned(), postgres.url()),
        (
            "HERON_BLOB_STORE".to_owned(),
            blob_dir.path().display().to_string(),
        ),
        ("HERON_WORKERS".to_owned(), "1".to_owned()),
    ];
    let server = TestServer::start_role(Role::Api, &env).await;
    let files = files(2, false);
    assert_eq!(server.upload(&files).await.status(), 200);
    assert_eq!(server.get("/v1/jobs").await.status(), 200);

    postgres.stop();
    let mut slowest_after_trip = Duration::ZERO;
    for n in 0..8 {
        let started = Instant::now();
        let response = server.get("/v1/jobs").await;
        let took = started.elapsed();
        assert_eq!(response.status(), 503, "request {n} during the outage");
        assert!(response.headers().contains_key("retry-after"));
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], "dependency_unavailable");
        assert!(took < Duration::from_secs(7), "request {n} took {took:?}");
        if n >= 4 {
            slowest_after_trip = slowest_after_trip.max(took);
        }
    }
    assert!(
        slowest_after_trip < Duration::from_millis(500),
        "an open circuit should fail fast, took {slowest_after_trip:?}"
    );
    let ready = server.get("/v1/ready").await;
    assert_eq!(ready.status(), 503);
    let ready: serde_json::Value = ready.json().await.unwrap();
    assert!(
        ready["database"].as_str().unwrap().starts_with("down"),
        "{ready}"
    );
    assert_eq!(ready["blob_store"], "ok", "{ready}");

    postgres.resume();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let status = server.get("/v1/jobs").await.status();
        if status == 200 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "not recovered: {status}\n{}",
            server.log()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert_eq!(server.upload(&files).await.status(), 200);
    let ready = server.get("/v1/ready").await;
    assert_eq!(ready.status(), 200);
}

/// An S3 server of this test's own (s3s-fs from `HERON_TEST_S3S_BIN`), to
/// stop and start on the same port and folder.
struct PrivateS3 {
    bin: String,
    dir: tempfile::TempDir,
    port: u16,
    child: Option<std::process::Child>,
}

impl PrivateS3 {
    fn start() -> Option<PrivateS3> {
        let Ok(bin) = std::env::var("HERON_TEST_S3S_BIN") else {
            heron_testkit::missing(
                "HERON_TEST_S3S_BIN is not set (scripts/with-test-services sets it)",
            );
            return None;
        };
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("bucket")).unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut server = PrivateS3 {
            bin,
            dir,
            port,
            child: None,
        };
        server.resume();
        Some(server)
    }

    fn resume(&mut self) {
        let child = std::process::Command::new(&self.bin)
            .args(["--host", "127.0.0.1", "--port", &self.port.to_string()])
            .args([
                "--access-key",
                "private-key",
                "--secret-key",
                "private-secret",
            ])
            .arg(self.dir.path())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "s3s-fs did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    fn env(&self) -> Vec<(String, String)> {
        [
            ("HERON_BLOB_STORE", "s3://bucket/heron".to_owned()),
            (
                "AWS_ENDPOINT_URL",
                format!("http://127.0.0.1:{}", self.port),
            ),
            ("AWS_ACCESS_KEY_ID", "private-key".to_owned()),
            ("AWS_SECRET_ACCESS_KEY", "private-secret".to_owned()),
            ("AWS_REGION", "us-east-1".to_owned()),
            ("AWS_ALLOW_HTTP", "true".to_owned()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
    }
}

impl Drop for PrivateS3 {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The object store goes away after files were uploaded: the worker's
/// transient failures are retried with backoff, then the files are
/// dead-lettered (their job finishes, each result carrying the error);
/// once the store is back an admin retries them and they are classified.
/// API and worker share one SQLite file here: the lease-based queue is
/// safe across processes on SQLite too.
#[tokio::test]
async fn files_the_blob_store_fails_are_dead_lettered_and_retried_by_an_admin() {
    const ADMIN: &str = "admin-key-dead-letters-0123";
    let Some(mut s3) = PrivateS3::start() else {
        return;
    };
    let shared = tempfile::tempdir().unwrap();
    let mut env = s3.env();
    env.extend(
        [
            (
                "HERON_DATABASE_URL",
                format!("sqlite://{}/heron.db", shared.path().display()),
            ),
            ("HERON_ADMIN_API_KEYS", ADMIN.to_owned()),
            ("HERON_SYNC_MAX_FILES", "0".to_owned()),
            ("HERON_MAX_ATTEMPTS", "2".to_owned()),
            ("HERON_RETRY_BASE_MS", "100".to_owned()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v)),
    );
    let api = TestServer::start_role(Role::Api, &with(&env, &[("HERON_WORKERS", "0")])).await;
    let batch = files(2, false);
    let job_id = api.upload_job(&batch).await;

    s3.stop();
    let _worker =
        TestServer::start_role(Role::Worker, &with(&env, &[("HERON_WORKERS", "1")])).await;
    let failed = api.wait_for_job(&job_id, Duration::from_secs(60)).await;
    assert_eq!(failed["progress"]["failed"], 2, "{failed:#}");
    for result in failed["results"].as_array().unwrap() {
        let errors = crate::support::notice_codes(result, "errors");
        assert_eq!(errors, ["internal_error"], "{result:#}");
    }
    let admin_get = |path: &str| {
        api.client
            .get(api.url(path))
            .header("x-api-key", ADMIN)
            .send()
    };
    let dead: serde_json::Value = admin_get("/v1/admin/dead-letters")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let dead = dead["dead_letters"].as_array().unwrap().clone();
    assert_eq!(dead.len(), 2, "{dead:#?}");
    assert!(
        dead.iter()
            .all(|d| d["attempts"] == 2 && d["job_id"] == job_id.as_str())
    );

    s3.resume();
    for letter in &dead {
        let task = letter["task_id"].as_str().unwrap();
        let retried = api
            .client
            .post(api.url(&format!("/v1/admin/dead-letters/{task}/retry")))
            .header("x-api-key", ADMIN)
            .send()
            .await
            .unwrap();
        assert_eq!(retried.status(), 202);
    }
    // Each retry reopens the job until its file is processed again.
    let deadline = Instant::now() + Duration::from_secs(60);
    let done = loop {
        let current = job(&api, &job_id).await;
        if current["progress"]["done"] == 2 && current["status"] == "done" {
            break current;
        }
        assert!(Instant::now() < deadline, "not reprocessed: {current:#}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    for result in done["results"].as_array().unwrap() {
        assert!(
            result["errors"].as_array().unwrap().is_empty(),
            "{result:#}"
        );
    }
}

/// SIGTERM to a busy worker: it stops claiming, finishes the file in
/// hand, hands back nothing half-done and exits cleanly; another worker
/// then finishes the job at once — without waiting for any lease (they
/// are two minutes long here) to expire.
#[tokio::test]
async fn a_terminated_worker_finishes_its_file_and_leaves_the_rest_to_others() {
    if !tools_available() {
        return;
    }
    let blob_dir = tempfile::tempdir().unwrap();
    let Some(mut env) = deployment(blob_dir.path()).await else {
        return;
    };
    env.retain(|(k, _)| k != "HERON_TASK_LEASE_SECS");
    let api = TestServer::start_role(Role::Api, &with(&env, &[("HERON_WORKERS", "0")])).await;
    let mut first =
        TestServer::start_role(Role::Worker, &with(&env, &[("HERON_WORKERS", "1")])).await;
    let batch = files(20, true);
    let job_id = api.upload_job(&batch).await;
    let deadline = Instant::now() + Duration::from_secs(60);
    while job(&api, &job_id).await["progress"]["done"]
        .as_u64()
        .unwrap_or(0)
        < 2
    {
        assert!(Instant::now() < deadline, "no progress");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let status = first.terminate();
    assert!(status.success(), "worker exit status {status}");
    let after = job(&api, &job_id).await;
    assert_eq!(
        after["progress"]["processing"], 0,
        "nothing left leased: {after:#}"
    );
    assert!(
        after["progress"]["pending"].as_u64().unwrap() > 0,
        "{after:#}"
    );

    // Leases last 120 s: finishing within 60 s means none was left held.
    let _second =
        TestServer::start_role(Role::Worker, &with(&env, &[("HERON_WORKERS", "2")])).await;
    let done = api.wait_for_job(&job_id, Duration::from_secs(60)).await;
    assert_eq!(done["results"].as_array().unwrap().len(), 20);
}

#[tokio::test]
async fn every_api_process_answers_the_same_search_on_postgresql() {
    let blob_dir = tempfile::tempdir().unwrap();
    let Some(env) = deployment(blob_dir.path()).await else {
        return;
    };
    let first = TestServer::start_role(Role::Api, &with(&env, &[("HERON_WORKERS", "1")])).await;
    let second = TestServer::start_role(Role::Api, &with(&env, &[("HERON_WORKERS", "0")])).await;
    let key = first.create_key("acme", "admin");
    let document = first
        .upload_document(
            &key,
            "memo.txt",
            "Quarterly heliotrope procurement memo for the Lisbon office.",
        )
        .await;
    // Indexed in the transaction that stored it: the other process finds it at once.
    let found: serde_json::Value = second
        .call("GET", "/v1/search?q=heliotrope", Some(&key), None)
        .await
        .json()
        .await
        .expect("search JSON");
    assert_eq!(found["total"], 1, "{found}");
    assert_eq!(found["results"][0]["document_id"], document.as_str());
}
