//! Classification over HTTP: on documents made by the generator, and (the
//! corpus group) on the original service's labelled samples.

use crate::support::{TestServer, made, notice_codes, tools_available};

/// The labelled samples and their labels.
const LABELLED: &[(&str, &str)] = &[
    ("bank_statement_1.pdf", "bank_statement"),
    ("bank_statement_2.pdf", "bank_statement"),
    ("bank_statement_3.pdf", "bank_statement"),
    ("bank_statement_cb1ec9cf.csv", "bank_statement"),
    ("bank_statement_de915e6e.csv", "bank_statement"),
    ("bank_statement_de9ab9ae.csv", "bank_statement"),
    ("drivers_licence_2.jpg", "drivers_licence"),
    ("drivers_license_1.jpg", "drivers_licence"),
    ("drivers_license_3.jpg", "drivers_licence"),
    ("form_cb775b0e.txt", "form"),
    ("form_d18644b3.txt", "form"),
    ("form_f55537f8.txt", "form"),
    ("invoice_1.pdf", "invoice"),
    ("invoice_2.pdf", "invoice"),
    ("invoice_3.pdf", "invoice"),
    ("sample_financial_report.docx", "financial_report"),
];

fn opaque_name(index: usize, original: &str) -> String {
    let extension = original.rsplit('.').next().unwrap_or("bin");
    format!("upload_{index:02}.{extension}")
}

#[tokio::test]
async fn corpus_every_labelled_sample_is_right_under_an_opaque_name() {
    if !tools_available() || heron_testkit::corpus("samples").is_none() {
        return;
    }
    let server = TestServer::start(&[]).await;
    for chunk in LABELLED.chunks(8) {
        let files: Vec<(String, Vec<u8>)> = chunk
            .iter()
            .enumerate()
            .map(|(i, (name, _))| {
                let bytes = heron_testkit::corpus_sample(name).expect("the samples are there");
                (opaque_name(i, name), bytes)
            })
            .collect();
        let response = server.upload(&files).await;
        assert_eq!(response.status(), 200);
        let results: Vec<serde_json::Value> = response.json().await.unwrap();
        assert_eq!(results.len(), chunk.len());
        for ((name, expected), result) in chunk.iter().zip(&results) {
            assert_eq!(result["label"], *expected, "{name}: {result:#}");
            assert!(
                result["errors"].as_array().unwrap().is_empty(),
                "{name}: {result:#}"
            );
            // The decision comes with its evidence and its place in the
            // taxonomy.
            let evidence = result["evidence"].as_array().unwrap();
            assert!(!evidence.is_empty(), "{name}: {result:#}");
            assert!(evidence[0]["weight"].as_f64().unwrap() > 0.0);
            assert_eq!(result["label_path"][2]["id"], *expected, "{name}");
        }
    }
}

#[tokio::test]
async fn results_carry_every_field_of_the_original() {
    let server = TestServer::start(&[]).await;
    let response = server
        .upload_with(
            &[("a.txt".to_owned(), made("form", "txt", 0))],
            Some(crate::support::API_KEY),
            &[("x-request-id", "my-request-42")],
        )
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["x-request-id"], "my-request-42");
    let results: Vec<serde_json::Value> = response.json().await.unwrap();
    let result = &results[0];
    for field in [
        "filename",
        "mime_type",
        "size_bytes",
        "label",
        "confidence",
        "stage_confidences",
        "pipeline_version",
        "processing_ms",
        "request_id",
        "warnings",
        "errors",
    ] {
        assert!(result.get(field).is_some(), "missing {field}: {result:#}");
    }
    for stage in [
        "stage_filename",
        "stage_metadata",
        "stage_text",
        "stage_ocr",
    ] {
        assert!(
            result["stage_confidences"].get(stage).is_some(),
            "missing {stage}"
        );
    }
    assert_eq!(result["request_id"], "my-request-42");
    assert_eq!(result["filename"], "a.txt");
    assert_eq!(result["mime_type"], "text/plain");
    assert_eq!(result["size_bytes"], made("form", "txt", 0).len());
    let sum: f64 = result["class_confidences"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_f64().unwrap())
        .sum();
    assert!((sum - 1.0).abs() < 0.01, "class confidences sum to {sum}");
}

#[tokio::test]
async fn a_misleading_name_does_not_override_confident_content() {
    if !tools_available() {
        return;
    }
    let server = TestServer::start(&[]).await;
    let files = vec![
        (
            "invoice_march.pdf".to_owned(),
            made("bank_statement", "pdf", 0),
        ),
        ("bank_statement.pdf".to_owned(), made("invoice", "pdf", 0)),
    ];
    let results: Vec<serde_json::Value> = server.upload(&files).await.json().await.unwrap();
    assert_eq!(results[0]["label"], "bank_statement", "{:#}", results[0]);
    assert_eq!(results[1]["label"], "invoice", "{:#}", results[1]);
    let codes = notice_codes(&results[0], "warnings");
    assert!(codes.contains(&"filename_disagrees"), "{codes:?}");
}

#[tokio::test]
async fn a_corrupt_file_gets_an_error_and_the_batch_succeeds() {
    if !tools_available() {
        return;
    }
    let server = TestServer::start(&[]).await;
    let mut truncated = made("invoice", "pdf", 1);
    truncated.truncate(300);
    let files = vec![
        ("good.txt".to_owned(), made("form", "txt", 1)),
        ("broken.pdf".to_owned(), truncated),
        (
            "random.pdf".to_owned(),
            (0..4096u32)
                .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
                .collect(),
        ),
        ("photo.jpg".to_owned(), made("form", "txt", 2)),
    ];
    let response = server.upload(&files).await;
    assert_eq!(response.status(), 200);
    let results: Vec<serde_json::Value> = response.json().await.unwrap();
    assert_eq!(results[0]["label"], "form");
    for broken in &results[1..3] {
        assert_eq!(broken["label"], "unsure", "{broken:#}");
        assert!(
            !broken["errors"].as_array().unwrap().is_empty(),
            "{broken:#}"
        );
    }
    let random_codes = notice_codes(&results[2], "errors");
    assert_eq!(random_codes, ["unsupported_type"]);
    // Text under a .jpg name: content wins, with a type_mismatch warning.
    assert_eq!(results[3]["mime_type"], "text/plain");
    assert_eq!(results[3]["label"], "form");
    let codes = notice_codes(&results[3], "warnings");
    assert!(codes.contains(&"type_mismatch"), "{codes:?}");
}

#[tokio::test]
async fn office_mail_and_markup_formats_are_read_through_the_api() {
    let server = TestServer::start(&[]).await;
    let fixtures =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../heron-extract/tests/fixtures");
    let names = [
        "statement.xlsx",
        "ledger.xls",
        "review.pptx",
        "agreement.odt",
        "message.eml",
        "page.html",
        "order.json",
        "memo.rtf",
        "bundle.zip",
    ];
    let files: Vec<(String, Vec<u8>)> = names
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let extension = name.rsplit('.').next().unwrap();
            (
                format!("upload_{i}.{extension}"),
                std::fs::read(fixtures.join(name)).unwrap(),
            )
        })
        .collect();
    let response = server.upload(&files).await;
    assert_eq!(response.status(), 200);
    let results: Vec<serde_json::Value> = response.json().await.unwrap();
    let expected_mime = [
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/vnd.ms-excel",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "application/vnd.oasis.opendocument.text",
        "message/rfc822",
        "text/html",
        "application/json",
        "application/rtf",
        "application/zip",
    ];
    for ((name, mime), result) in names.iter().zip(expected_mime).zip(&results) {
        assert_eq!(result["mime_type"], mime, "{name}: {result:#}");
        assert!(
            result["errors"].as_array().unwrap().is_empty(),
            "{name}: {result:#}"
        );
    }
    // The e-mail's text includes its attached statement, so both types are
    // plausible (multi-label results arrive with the classifier issue).
    let label = results[4]["label"].as_str().unwrap();
    assert!(
        matches!(label, "email" | "bank_statement"),
        "{:#}",
        results[4]
    );
}

#[tokio::test]
async fn scans_in_other_languages_are_read_in_their_language() {
    if !tools_available() {
        return;
    }
    let server = TestServer::start(&[]).await;
    let fixtures =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../heron-extract/tests/fixtures");
    let files: Vec<(String, Vec<u8>)> = ["rechnung_scan.png", "facture_scan.png"]
        .iter()
        .enumerate()
        .map(|(i, name)| {
            (
                format!("IMG_{i:04}.png"),
                std::fs::read(fixtures.join(name)).unwrap(),
            )
        })
        .collect();
    let results: Vec<serde_json::Value> = server.upload(&files).await.json().await.unwrap();
    assert_eq!(results[0]["language"], "deu", "{:#}", results[0]);
    assert_eq!(results[1]["language"], "fra", "{:#}", results[1]);
    // The default model has few non-English examples yet (the classifier
    // issue's multilingual generator fixes that): its best guess must be
    // right, its confidence may still be below the threshold.
    for result in &results {
        assert_eq!(result["predicted_label"], "invoice", "{result:#}");
    }
}
