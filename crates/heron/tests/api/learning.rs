//! Learning from reviews without the browser: the review queue, a
//! correction training a tenant's own model from the command line
//! (`heron train --from-reviews`), the export of reviewed documents
//! (`heron dataset export`), models that stay their tenant's, rollback.

use serde_json::json;

use crate::support::{API_KEY, TestServer, UNSURE_RECEIPT, json_of};

const ADMIN_KEY: &str = "learning-admin-key-0123456789";

async fn label_of(server: &TestServer, key: &str, name: &str) -> String {
    let response = server
        .upload_with(
            &[(name.to_owned(), UNSURE_RECEIPT.as_bytes().to_vec())],
            Some(key),
            &[],
        )
        .await;
    assert_eq!(response.status(), 200);
    let results: serde_json::Value = response.json().await.expect("results");
    results[0]["label"].as_str().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn a_correction_trains_the_tenants_own_model_and_nobody_elses() {
    let mut server = TestServer::start(&[("HERON_ADMIN_API_KEYS", ADMIN_KEY)]).await;
    let globex = server.create_key("globex", "admin");
    let document = server
        .upload_document(API_KEY, "scan_0001.txt", UNSURE_RECEIPT)
        .await;
    assert_eq!(label_of(&server, &globex, "scan_0001.txt").await, "unsure");

    // The unsure document waits in the queue, with its reasons.
    let queue = server.get_json("/v1/review/queue").await;
    let item = &queue["items"][0];
    assert_eq!(item["document_id"], document.as_str(), "{queue}");
    assert!(item["reasons"].to_string().contains("unsure"));
    // Bad verdicts are refused with their codes; a good one is recorded.
    let path = format!("/v1/documents/{document}/review");
    let review = |body: serde_json::Value| server.call("POST", &path, Some(API_KEY), Some(body));
    crate::support::assert_error(
        review(json!({ "action": "accept" })).await,
        400,
        "invalid_body",
    )
    .await;
    crate::support::assert_error(
        review(json!({ "action": "correct", "label": "no_such_type" })).await,
        400,
        "unknown_label",
    )
    .await;
    let recorded =
        review(json!({ "action": "correct", "label": "receipt", "fields": { "total": "45.00" } }))
            .await;
    assert_eq!(recorded.status(), 201);
    let queue = server.get_json("/v1/review/queue").await;
    assert!(
        !queue.to_string().contains(&document),
        "reviewed documents leave the queue"
    );

    // The command line trains and promotes the tenant's challenger.
    server.terminate();
    let trained = server.cli(&[
        "train",
        "--from-reviews",
        "--tenant",
        "default",
        "--activate",
    ]);
    let stdout = String::from_utf8_lossy(&trained.stdout);
    assert!(
        trained.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&trained.stderr)
    );
    assert!(stdout.contains("promoted"), "{stdout}");
    let export = tempfile::tempdir().expect("folder");
    let exported = server.cli(&[
        "dataset",
        "export",
        "--tenant",
        "default",
        "--out",
        &export.path().display().to_string(),
    ]);
    assert!(
        exported.status.success(),
        "{}",
        String::from_utf8_lossy(&exported.stderr)
    );
    let text = std::fs::read_to_string(export.path().join(format!("receipt/{document}.txt")))
        .expect("the reviewed document in its type's folder");
    assert!(text.contains("Allotment"));
    let index = std::fs::read_to_string(export.path().join("reviews.jsonl")).expect("index");
    assert_eq!(index.lines().count(), 1);
    assert!(
        index.contains("\"predicted_label\":\"unsure\"") && index.contains("\"total\":\"45.00\"")
    );

    // The tenant's files now get its model; the other tenant's do not.
    server.restart().await;
    assert_eq!(label_of(&server, API_KEY, "IMG_2231.txt").await, "receipt");
    assert_eq!(label_of(&server, &globex, "IMG_2232.txt").await, "unsure");
    let models = server.get_json("/v1/models").await;
    let champion = models["champion"].as_str().expect("a champion").to_owned();
    assert_eq!(models["serving"], champion.as_str());
    let theirs =
        crate::support::json_of(server.call("GET", "/v1/models", Some(&globex), None).await).await;
    assert!(theirs["champion"].is_null() && theirs["models"].as_array().is_some_and(Vec::is_empty));
    // Another tenant cannot promote it; its admin can roll it back.
    let foreign = server
        .call(
            "POST",
            &format!("/v1/models/{champion}/promote"),
            Some(&globex),
            None,
        )
        .await;
    crate::support::assert_error(foreign, 404, "model_not_found").await;
    let back = server
        .call("POST", "/v1/models/rollback", Some(ADMIN_KEY), None)
        .await;
    assert_eq!(back.status(), 200);
    assert!(crate::support::json_of(back).await["champion"].is_null());
    assert_eq!(label_of(&server, API_KEY, "IMG_2233.txt").await, "unsure");
    let audit = crate::support::json_of(
        server
            .call("GET", "/v1/audit?limit=100", Some(ADMIN_KEY), None)
            .await,
    )
    .await
    .to_string();
    for action in [
        "document.review",
        "model.train",
        "model.promote",
        "model.rollback",
        "dataset.export",
    ] {
        assert!(audit.contains(action), "{action} is audited");
    }
}

#[tokio::test]
async fn a_promotion_through_the_api_reaches_the_workers_of_other_processes() {
    let blob_dir = tempfile::tempdir().expect("folder");
    let Some(env) = crate::scale_out::deployment(blob_dir.path()).await else {
        return;
    };
    use crate::scale_out::with;
    use crate::support::Role;
    let api = TestServer::start_role(
        Role::Api,
        &with(
            &env,
            // Every upload a job for the worker process.
            &[
                ("HERON_WORKERS", "0"),
                ("HERON_SYNC_MAX_FILES", "0"),
                ("HERON_ADMIN_API_KEYS", ADMIN_KEY),
            ],
        ),
    )
    .await;
    let _worker =
        TestServer::start_role(Role::Worker, &with(&env, &[("HERON_WORKERS", "1")])).await;
    let classify = async |name: &str| {
        let job = api
            .upload_job(&[(name.to_owned(), UNSURE_RECEIPT.as_bytes().to_vec())])
            .await;
        let done = api
            .wait_for_job(&job, std::time::Duration::from_secs(120))
            .await;
        let result = done["results"][0].clone();
        (
            result["document_id"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
            result["label"].as_str().unwrap_or_default().to_owned(),
        )
    };
    let (document, label) = classify("scan_1.txt").await;
    assert_eq!(label, "unsure");
    let recorded = api
        .call(
            "POST",
            &format!("/v1/documents/{document}/review"),
            Some(API_KEY),
            Some(json!({ "action": "correct", "label": "receipt" })),
        )
        .await;
    assert_eq!(recorded.status(), 201);
    // The API process does not work: the worker process trains.
    let run = json_of(
        api.call("POST", "/v1/models/train", Some(API_KEY), None)
            .await,
    )
    .await;
    let run_id = run["run_id"].as_str().expect("a run").to_owned();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(240);
    let run = loop {
        let run = api.get_json(&format!("/v1/models/runs/{run_id}")).await;
        if run["state"] == "done" || run["state"] == "failed" {
            break run;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "training did not finish: {run}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    };
    assert_eq!(run["state"], "done", "{run}");
    let challenger = run["challenger_id"].as_str().expect("challenger");
    let promoted = api
        .call(
            "POST",
            &format!("/v1/models/{challenger}/promote"),
            Some(ADMIN_KEY),
            None,
        )
        .await;
    assert_eq!(promoted.status(), 200);
    // The worker loads the new champion from the blob store within its
    // poll interval.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let mut attempt = 0;
    loop {
        attempt += 1;
        let (_, label) = classify(&format!("IMG_{attempt}.txt")).await;
        if label == "receipt" {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the worker kept its old model"
        );
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    }
}
