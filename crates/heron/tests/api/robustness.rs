//! Hostile input: every PDF of the shared robust-pdf corpus (hundreds of
//! real, often deliberately broken files) goes through the API. The server
//! must answer every request, stay up, keep every file within its deadline
//! and keep its memory bounded.

use std::path::Path;

use crate::support::{TestServer, tools_available};

/// Per-file deadline given to the server; a result may not take longer.
const DEADLINE_SECS: u64 = 15;
/// The server process may not grow past this (its own RSS high-water mark;
/// the Poppler and Tesseract children are separate processes).
const MAX_SERVER_RSS_MIB: u64 = 400;

fn corpus() -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/robust-pdf");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|e| e == "pdf"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&path).unwrap())
        })
        .collect()
}

fn rss_high_water_mib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
        .map_or(0, |kib| kib / 1024)
}

#[tokio::test]
async fn every_robust_pdf_gets_a_result_and_the_server_survives() {
    if !tools_available() {
        return;
    }
    let server = TestServer::start(&[
        ("HERON_MAX_OCR_PAGES", "1"),
        ("HERON_OCR_DPI", "150"),
        ("HERON_EXTRACTION_TIMEOUT_SECS", &DEADLINE_SECS.to_string()),
        ("MAX_FILE_SIZE_MB", "50"),
    ])
    .await;
    let files = corpus();
    assert!(
        files.len() >= 300,
        "expected the robust-pdf corpus, found {} files",
        files.len()
    );
    let mut no_text = Vec::new();
    for batch in files.chunks(10) {
        let response = server.upload(batch).await;
        assert_eq!(
            response.status(),
            200,
            "batch starting {}:\n{}",
            batch[0].0,
            server.log()
        );
        let results: Vec<serde_json::Value> = response.json().await.unwrap();
        assert_eq!(results.len(), batch.len());
        for ((name, _), result) in batch.iter().zip(&results) {
            assert_eq!(result["filename"], name.as_str());
            let ms = result["processing_ms"].as_f64().unwrap();
            assert!(
                ms <= (DEADLINE_SECS as f64 + 5.0) * 1000.0,
                "{name} took {ms} ms"
            );
            let codes: Vec<&str> = result["errors"]
                .as_array()
                .unwrap()
                .iter()
                .chain(result["warnings"].as_array().unwrap())
                .filter_map(|n| n["code"].as_str())
                .collect();
            if codes.iter().any(|c| {
                matches!(
                    *c,
                    "no_text" | "extraction_failed" | "encrypted" | "extraction_timeout"
                )
            }) {
                no_text.push(format!("{name}: {}", codes.join(",")));
            }
        }
    }
    assert_eq!(
        server.get("/v1/ready").await.status(),
        200,
        "server unhealthy after the corpus"
    );
    let rss = rss_high_water_mib(server.pid());
    assert!(
        rss <= MAX_SERVER_RSS_MIB,
        "server RSS high-water mark {rss} MiB"
    );
    eprintln!(
        "robust-pdf: {} files, {} without text (server peak RSS {rss} MiB):",
        files.len(),
        no_text.len()
    );
    for line in &no_text {
        eprintln!("  {line}");
    }
}
