//! `heron backup` while the service runs and is being written to, and
//! `heron restore` into a new data directory: every document, result,
//! audit entry and registered model comes back, the audit chain still
//! verifies, and corrupt or unfinished backups are refused.

use std::time::Duration;

use crate::support::{API_KEY, TestServer, shared_storage};

fn cli_ok(server: &TestServer, args: &[&str]) -> String {
    let output = server.cli(args);
    assert!(
        output.status.success(),
        "heron {args:?}: {}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[tokio::test]
async fn a_backup_under_load_restores_everything_elsewhere_and_bad_backups_are_refused() {
    if shared_storage() {
        eprintln!("backup and restore are for the embedded store: skipped on PostgreSQL + S3");
        return;
    }
    let mut server = TestServer::start(&[]).await;
    for i in 0..6 {
        server
            .upload_document(
                API_KEY,
                &format!("before_{i}.txt"),
                &format!("Invoice {i}\nTotal due {i}00.00 EUR\nPayment terms 30 days"),
            )
            .await;
    }
    // Uploads keep coming while the backup is taken.
    let base = server.base.clone();
    let client = server.client.clone();
    let load = tokio::spawn(async move {
        let mut done = 0;
        for i in 0..40 {
            let part = reqwest::multipart::Part::bytes(
                format!("Payslip {i}\nNet pay 2,480.00").into_bytes(),
            )
            .file_name(format!("during_{i}.txt"));
            let form = reqwest::multipart::Form::new().part("files", part);
            if let Ok(response) = client
                .post(format!("{base}/v1/files"))
                .header("x-api-key", API_KEY)
                .multipart(form)
                .send()
                .await
                && response.status() == 200
            {
                done += 1;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        done
    });
    tokio::time::sleep(Duration::from_millis(150)).await;
    let folder = tempfile::tempdir().expect("folder");
    let backup = folder.path().join("backup");
    let backup_arg = backup.display().to_string();
    let said = cli_ok(&server, &["backup", "--to", &backup_arg]);
    assert!(said.contains("backup of"), "{said}");
    assert!(load.await.expect("load") > 0);
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(backup.join("manifest.json")).expect("manifest"))
            .expect("JSON");
    let documents = manifest["counts"]["documents"].as_i64().expect("count");
    assert!(documents >= 6, "{manifest}");

    // Restore into a new data directory and serve from it.
    let restored = folder.path().join("restored");
    let original = std::mem::replace(&mut server.data_dir, restored.clone());
    let said = cli_ok(&server, &["restore", "--from", &backup_arg]);
    assert!(
        said.contains(&format!("restored {documents} documents")),
        "{said}"
    );
    let verify = cli_ok(&server, &["audit", "verify"]);
    assert!(verify.contains("intact"), "{verify}");
    server.restart().await;
    let jobs = server.get_json("/v1/jobs?limit=100").await;
    let listed = jobs["jobs"].as_array().map_or(0, Vec::len) as i64;
    assert_eq!(
        listed,
        manifest["counts"]["jobs"].as_i64().unwrap_or(-1),
        "{jobs}"
    );
    for job in jobs["jobs"].as_array().into_iter().flatten() {
        let id = job["job_id"].as_str().expect("id");
        let full = server.get_json(&format!("/v1/jobs/{id}")).await;
        if full["status"] == "done" {
            let result = &full["results"][0];
            let document = result["document_id"].as_str().expect("document id");
            // The original file came back too.
            let file = server
                .call(
                    "GET",
                    &format!("/v1/documents/{document}/file"),
                    Some(API_KEY),
                    None,
                )
                .await;
            assert_eq!(file.status(), 200, "{result}");
        }
    }
    // Classification goes on in the restored directory.
    server
        .upload_document(API_KEY, "after.txt", "Invoice 99\nTotal due 10.00 EUR")
        .await;
    server.data_dir = original;

    // A corrupt file, or no manifest, and nothing is restored.
    let blob = std::fs::read_dir(backup.join("blobs"))
        .expect("blobs")
        .filter_map(Result::ok)
        .flat_map(|shard| {
            std::fs::read_dir(shard.path())
                .into_iter()
                .flatten()
                .filter_map(Result::ok)
        })
        .next()
        .expect("a blob")
        .path();
    let mut bytes = std::fs::read(&blob).expect("blob");
    bytes[0] ^= 0xff;
    std::fs::write(&blob, bytes).expect("corrupting");
    let elsewhere = folder.path().join("elsewhere");
    let refusal = || {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_heron"))
            .arg("--data-dir")
            .arg(&elsewhere)
            .args(["restore", "--from", &backup_arg])
            .output()
            .expect("heron restore");
        assert!(!output.status.success());
        String::from_utf8_lossy(&output.stderr).into_owned()
    };
    assert!(refusal().contains("corrupt"));
    assert!(!elsewhere.join("heron.db").exists(), "nothing written");
    std::fs::remove_file(backup.join("manifest.json")).expect("removing the manifest");
    assert!(refusal().contains("not a complete backup"));
}

/// The same backup, kept in a bucket: uploaded with its manifest last,
/// downloaded and checked before anything is restored.
#[tokio::test]
async fn a_backup_in_a_bucket_restores_into_a_new_data_directory() {
    if crate::support::shared_storage() {
        eprintln!("backup and restore are for the embedded store: skipped on PostgreSQL + S3");
        return;
    }
    let Some(bucket) = heron_store::testing::s3_test_location() else {
        return;
    };
    let mut server = TestServer::start(&[]).await;
    for i in 0..3 {
        server
            .upload_document(
                API_KEY,
                &format!("note{i}.txt"),
                &format!("Invoice {i}\nTotal due 1{i}.00 EUR"),
            )
            .await;
    }
    let said = cli_ok(&server, &["backup", "--to", &bucket]);
    assert!(
        said.contains("backup of 3 documents") && said.contains(&bucket),
        "{said}"
    );
    // A prefix that holds something is not written over.
    let again = server.cli(&["backup", "--to", &bucket]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("not empty"));

    let folder = tempfile::tempdir().expect("folder");
    let original = std::mem::replace(&mut server.data_dir, folder.path().join("restored"));
    let said = cli_ok(&server, &["restore", "--from", &bucket]);
    assert!(said.contains("restored 3 documents"), "{said}");
    let verify = cli_ok(&server, &["audit", "verify"]);
    assert!(verify.contains("intact"), "{verify}");
    server.restart().await;
    let jobs = server.get_json("/v1/jobs?limit=10").await;
    assert_eq!(jobs["jobs"].as_array().map_or(0, Vec::len), 3, "{jobs}");
    server.data_dir = original;

    // A prefix without a manifest is no backup; nothing is restored.
    let empty = format!("{bucket}-none");
    server.data_dir = folder.path().join("elsewhere");
    let refused = server.cli(&["restore", "--from", &empty]);
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("not a complete backup"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    assert!(!folder.path().join("elsewhere").join("heron.db").exists());
}
