//! Asynchronous batches: 202, polling, and surviving a restart.

use std::collections::BTreeSet;
use std::time::Duration;

use crate::support::{TestServer, sample, tools_available};

/// Twenty files, a mix of text and OCR work so that a job takes long
/// enough to be interrupted.
fn twenty_files(with_images: bool) -> Vec<(String, Vec<u8>)> {
    let pool: Vec<&str> = if with_images {
        vec![
            "drivers_license_1.jpg",
            "form_cb775b0e.txt",
            "bank_statement_cb1ec9cf.csv",
            "invoice_1.pdf",
            "drivers_licence_2.jpg",
        ]
    } else {
        vec![
            "form_cb775b0e.txt",
            "bank_statement_cb1ec9cf.csv",
            "form_d18644b3.txt",
            "bank_statement_de915e6e.csv",
        ]
    };
    (0..20)
        .map(|i| {
            let name = pool[i % pool.len()];
            let extension = name.rsplit('.').next().unwrap_or("bin");
            (format!("file_{i:02}.{extension}"), sample(name))
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
    // One worker, so the job is surely unfinished when the server dies.
    let mut server = TestServer::start(&[("HERON_WORKERS", "1")]).await;
    let files = twenty_files(true);
    let response = server.upload(&files).await;
    assert_eq!(response.status(), 202);
    let job_id = response.json::<serde_json::Value>().await.unwrap()["job_id"]
        .as_str()
        .unwrap()
        .to_owned();
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
    assert!(
        server.log().contains("resuming tasks left unfinished"),
        "the restart should resume leased tasks"
    );
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
    let file = || vec![("scan_0042.pdf".to_owned(), sample("invoice_1.pdf"))];
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

    let renamed = vec![("other_name.pdf".to_owned(), sample("invoice_1.pdf"))];
    let third: Vec<serde_json::Value> = server.upload(&renamed).await.json().await.unwrap();
    assert_eq!(third[0]["cached"], false, "{:#}", third[0]);
}
