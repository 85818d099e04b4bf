//! Asynchronous batches: 202, polling, and surviving a restart.

use std::collections::BTreeSet;
use std::time::Duration;

use crate::support::{
    API_KEY, TestServer, assert_error, made, made_picture, shared_storage, tools_available,
};

/// Twenty files, a mix of text and OCR work so that a job takes long
/// enough to be interrupted.
pub fn twenty_files(with_images: bool) -> Vec<(String, Vec<u8>)> {
    files(20, with_images)
}

/// `count` files cycling through made documents (photos among them when
/// `with_images`), named `file_NN.ext`.
pub fn files(count: usize, with_images: bool) -> Vec<(String, Vec<u8>)> {
    let pool: Vec<(&str, Vec<u8>)> = if with_images {
        vec![
            ("jpg", made_picture("drivers_licence")),
            ("txt", made("form", "txt", 0)),
            ("csv", made("bank_statement", "csv", 0)),
            ("pdf", made("invoice", "pdf", 0)),
            ("jpg", made_picture("invoice")),
        ]
    } else {
        vec![
            ("txt", made("form", "txt", 0)),
            ("csv", made("bank_statement", "csv", 0)),
            ("txt", made("form", "txt", 1)),
            ("csv", made("bank_statement", "csv", 1)),
        ]
    };
    (0..count)
        .map(|i| {
            let (extension, bytes) = &pool[i % pool.len()];
            (format!("file_{i:02}.{extension}"), bytes.clone())
        })
        .collect()
}

fn check_results(job: &serde_json::Value, files: &[(String, Vec<u8>)]) {
    assert_eq!(job["status"], "done", "{job:#}");
    assert_eq!(job["total_files"], 20);
    let results = job["results"].as_array().unwrap();
    assert_eq!(results.len(), 20, "{job:#}");
    let names: Vec<&str> = results
        .iter()
        .map(|r| r["filename"].as_str().unwrap())
        .collect();
    let expected: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, expected, "results in upload order, each once");
    let ids: BTreeSet<&str> = results
        .iter()
        .map(|r| r["document_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 20, "one document per file");
}

#[tokio::test]
async fn a_large_batch_becomes_a_job_that_finishes() {
    let server = TestServer::start(&[]).await;
    let files = twenty_files(false);
    let response = server.upload(&files).await;
    assert_eq!(response.status(), 202);
    let accepted: serde_json::Value = response.json().await.unwrap();
    assert_eq!(accepted["status"], "queued");
    let job_id = accepted["job_id"].as_str().unwrap();
    let job = server.wait_for_job(job_id, Duration::from_secs(120)).await;
    check_results(&job, &files);
}

#[tokio::test]
async fn a_job_survives_a_server_killed_mid_way() {
    if !tools_available() {
        return;
    }
    // One worker, so the job is surely unfinished when the server dies. On
    // a shared database the dead process's leases must expire first
    // (another process may own them): a short lease keeps that quick.
    let mut server =
        TestServer::start(&[("HERON_WORKERS", "1"), ("HERON_TASK_LEASE_SECS", "5")]).await;
    let files = twenty_files(true);
    let job_id = server.upload_job(&files).await;
    tokio::time::sleep(Duration::from_millis(700)).await;
    let before: serde_json::Value = server
        .get(&format!("/v1/jobs/{job_id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_ne!(
        before["status"], "done",
        "the job should still be running when the server is killed"
    );

    server.kill();
    server.restart().await;
    let job = server.wait_for_job(&job_id, Duration::from_secs(180)).await;
    check_results(&job, &files);
    if !shared_storage() {
        assert!(
            server.log().contains("resuming tasks left unfinished"),
            "the embedded store's restart should resume leased tasks at once"
        );
    }
}

/// The same bytes under the same name, classified by the same model and
/// settings, reuse the stored result (`cached: true`, a document of their
/// own); under another name they are classified afresh (the name is a
/// hint and part of the result).
#[tokio::test]
async fn an_identical_upload_reuses_the_stored_result() {
    if !tools_available() {
        return;
    }
    let server = TestServer::start(&[]).await;
    let file = || vec![("scan_0042.pdf".to_owned(), made("invoice", "pdf", 0))];
    let first: Vec<serde_json::Value> = server.upload(&file()).await.json().await.unwrap();
    let second: Vec<serde_json::Value> = server.upload(&file()).await.json().await.unwrap();
    assert_eq!(first[0]["cached"], false);
    assert_eq!(second[0]["cached"], true, "{:#}", second[0]);
    assert_eq!(second[0]["label"], first[0]["label"]);
    assert_eq!(
        second[0]["class_confidences"],
        first[0]["class_confidences"]
    );
    assert_ne!(second[0]["document_id"], first[0]["document_id"]);
    assert_ne!(second[0]["request_id"], first[0]["request_id"]);

    let renamed = vec![("other_name.pdf".to_owned(), made("invoice", "pdf", 0))];
    let third: Vec<serde_json::Value> = server.upload(&renamed).await.json().await.unwrap();
    assert_eq!(third[0]["cached"], false, "{:#}", third[0]);
}

/// `DELETE /v1/jobs/{id}` stops a job's remaining files; the list shows
/// it; a finished or unknown job cannot be cancelled.
#[tokio::test]
async fn a_queued_job_can_be_cancelled_and_listed() {
    // No workers: the job stays queued until cancelled.
    let server = TestServer::start(&[("HERON_WORKERS", "0")]).await;
    let job_id = server.upload_job(&twenty_files(false)).await;
    let queued: serde_json::Value = server
        .get(&format!("/v1/jobs/{job_id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(queued["status"], "queued");
    assert_eq!(queued["progress"]["pending"], 20, "{queued:#}");

    let cancelled = server.delete(&format!("/v1/jobs/{job_id}")).await;
    assert_eq!(cancelled.status(), 200);
    let cancelled: serde_json::Value = cancelled.json().await.unwrap();
    assert_eq!(cancelled["status"], "cancelled");
    assert_eq!(cancelled["progress"]["cancelled"], 20, "{cancelled:#}");
    assert!(cancelled["finished_at"].is_string());

    let again = server.delete(&format!("/v1/jobs/{job_id}")).await;
    assert_error(again, 409, "job_not_cancellable").await;
    let unknown = server.delete("/v1/jobs/nope").await;
    assert_error(unknown, 404, "job_not_found").await;

    let list: serde_json::Value = server
        .get("/v1/jobs?status=cancelled")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["jobs"].as_array().unwrap().len(), 1, "{list:#}");
    assert_eq!(list["jobs"][0]["job_id"], job_id.as_str());
    let none: serde_json::Value = server
        .get("/v1/jobs?status=done")
        .await
        .json()
        .await
        .unwrap();
    assert!(none["jobs"].as_array().unwrap().is_empty());
    assert_error(server.get("/v1/jobs?limit=0").await, 400, "invalid_query").await;
    assert_error(
        server.get("/v1/jobs?status=bogus").await,
        400,
        "invalid_query",
    )
    .await;
    assert_error(
        server.get("/v1/jobs?cursor=zzz").await,
        400,
        "invalid_query",
    )
    .await;
}

/// The same `Idempotency-Key` and body returns the first answer without
/// new work; another body under the key is refused.
#[tokio::test]
async fn an_idempotency_key_replays_the_first_answer() {
    let server = TestServer::start(&[]).await;
    let batch = vec![
        ("a.txt".to_owned(), made("form", "txt", 0)),
        ("b.csv".to_owned(), made("bank_statement", "csv", 0)),
    ];
    let key = [("idempotency-key", "order-4711")];
    let first = server.upload_with(&batch, Some(API_KEY), &key).await;
    assert_eq!(first.status(), 200);
    assert!(first.headers().get("idempotent-replayed").is_none());
    let first: serde_json::Value = first.json().await.unwrap();

    let second = server.upload_with(&batch, Some(API_KEY), &key).await;
    assert_eq!(second.status(), 200);
    assert_eq!(second.headers()["idempotent-replayed"], "true");
    let second: serde_json::Value = second.json().await.unwrap();
    assert_eq!(first, second, "the same answer, same document ids");

    let list: serde_json::Value = server.get("/v1/jobs").await.json().await.unwrap();
    assert_eq!(
        list["jobs"].as_array().unwrap().len(),
        1,
        "no new job: {list:#}"
    );

    let other = vec![("a.txt".to_owned(), made("form", "txt", 1))];
    let refused = server.upload_with(&other, Some(API_KEY), &key).await;
    assert_error(refused, 422, "idempotency_key_reused").await;
    let long_key = "k".repeat(300);
    let invalid = server
        .upload_with(
            &other,
            Some(API_KEY),
            &[("idempotency-key", long_key.as_str())],
        )
        .await;
    assert_error(invalid, 400, "invalid_idempotency_key").await;

    // An asynchronous batch replays its job id.
    let many = twenty_files(false);
    let key = [("idempotency-key", "batch-1")];
    let queued: serde_json::Value = server
        .upload_with(&many, Some(API_KEY), &key)
        .await
        .json()
        .await
        .unwrap();
    let replayed: serde_json::Value = server
        .upload_with(&many, Some(API_KEY), &key)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(queued["job_id"], replayed["job_id"]);
}

/// The dead-letter routes need an admin key: an ordinary key is `403`.
#[tokio::test]
async fn dead_letters_are_for_admin_keys_only() {
    let server = TestServer::start(&[("HERON_ADMIN_API_KEYS", "admin-key-0123456789")]).await;
    assert_error(server.get("/v1/admin/dead-letters").await, 403, "forbidden").await;
    let anonymous = server
        .client
        .get(server.url("/v1/admin/dead-letters"))
        .send()
        .await
        .unwrap();
    assert_error(anonymous, 401, "unauthorized").await;
    let admin = server
        .client
        .get(server.url("/v1/admin/dead-letters"))
        .header("x-api-key", "admin-key-0123456789")
        .send()
        .await
        .unwrap();
    assert_eq!(admin.status(), 200);
    let body: serde_json::Value = admin.json().await.unwrap();
    assert_eq!(body["dead_letters"], serde_json::json!([]));
    let retry = server
        .client
        .post(server.url("/v1/admin/dead-letters/nope/retry"))
        .header("x-api-key", "admin-key-0123456789")
        .send()
        .await
        .unwrap();
    assert_error(retry, 404, "dead_letter_not_found").await;
}
