//! The semantic stage through the API: a type defined with a description
//! and taught with five reviewed examples is recognised on the next
//! uploads, without a training run; results say what the stage thought.
//!
//! Needs `HERON_TEST_EMBEDDING_MODEL` (`.ci/run` sets it); without it the
//! test says so loudly and passes (a failure under `HERON_TEST_REQUIRE=all`).

use std::time::Instant;

use crate::support::{API_KEY, TestServer, json_of, vet_record};

/// Upload one text file; its result.
async fn classify(server: &TestServer, name: &str, text: &str) -> serde_json::Value {
    let response = server
        .upload(&[(name.to_owned(), text.as_bytes().to_vec())])
        .await;
    assert_eq!(response.status(), 200);
    json_of(response).await[0].clone()
}

#[tokio::test]
async fn a_type_taught_with_five_examples_is_recognised_at_once_without_training() {
    let Some(model) = heron_testkit::embedding_model() else {
        return;
    };
    let server = TestServer::start(&[
        ("HERON_EMBEDDING_MODEL", &*model.to_string_lossy()),
        ("HERON_RATE_LIMIT_KEY_RPS", "1000"),
    ])
    .await;
    let ready = server.get_json("/v1/ready").await;
    assert!(
        ready["semantic"]
            .as_str()
            .unwrap_or_default()
            .starts_with("ok"),
        "{ready}"
    );

    // A taxonomy document: the cascade leaves a sure decision alone.
    let invoice = classify(
        &server,
        "scan_0042.txt",
        "INVOICE No. 1001\nDate: 2024-03-01\nBill to: Example Ltd\nItem: consulting 10 h at 100.00\n\
         Subtotal 1000.00\nVAT 20% 200.00\nTotal due 1200.00\nPayment terms: 30 days\n",
    )
    .await;
    assert_eq!(invoice["label"], "invoice");

    // A new type, with a description.
    let defined = server
        .call(
            "POST",
            "/v1/types",
            Some(API_KEY),
            Some(serde_json::json!({
                "name": "Veterinary record",
                "parent": "healthcare/clinical",
                "description": "A vet clinic's record of a pet's vaccinations, weight and check-ups.",
            })),
        )
        .await;
    assert_eq!(
        defined.status(),
        201,
        "{}",
        defined.text().await.unwrap_or_default()
    );

    // Five examples, each uploaded and corrected to the new type.
    let mut last_review_ms = 0.0;
    for i in 0..5 {
        let result = classify(&server, &format!("IMG_{i}.txt"), &vet_record(i)).await;
        let document = result["document_id"].as_str().expect("document id");
        let started = Instant::now();
        let review = server
            .call(
                "POST",
                &format!("/v1/documents/{document}/review"),
                Some(API_KEY),
                Some(serde_json::json!({"action": "correct", "label": "veterinary_record"})),
            )
            .await;
        assert_eq!(review.status(), 201);
        last_review_ms = started.elapsed().as_secs_f64() * 1000.0;
    }
    eprintln!("the fifth verdict (embedding + storing the example) took {last_review_ms:.0} ms");
    assert!(last_review_ms < 1000.0, "{last_review_ms} ms");

    // The next twenty, never seen: recognised, by the semantic stage.
    let mut recognised = 0;
    let mut first = None;
    for i in 100..120 {
        let result = classify(&server, &format!("scan_{i}.txt"), &vet_record(i)).await;
        if result["label"] == "veterinary_record" {
            recognised += 1;
        }
        first.get_or_insert(result);
    }
    let first = first.expect("a result");
    eprintln!("few-shot through the API: {recognised}/20 recognised; e.g. {first}");
    assert!(recognised >= 18, "{recognised}/20");
    assert!(
        first["stage_confidences"]["stage_semantic"]
            .as_f64()
            .is_some()
    );
    assert_eq!(first["decided_by"], "semantic");
    // No training run was involved.
    let models = server.get_json("/v1/models").await;
    assert!(
        models["runs"].as_array().is_none_or(Vec::is_empty),
        "{models}"
    );
}
