//! Hostile input: every PDF of the shared robust-pdf corpus (hundreds of
//! real, often deliberately broken files) goes through the API. The server
//! must answer every request, stay up, keep every file within its deadline
//! and keep its memory bounded.

use std::path::Path;

use crate::support::{TestServer, notice_codes, tools_available};

/// Per-file deadline given to the server; a result may not take longer.
const DEADLINE_SECS: u64 = 15;
/// The server process may not grow past this (its own RSS high-water mark;
/// the Poppler and Tesseract children are separate processes).
const MAX_SERVER_RSS_MIB: u64 = 400;

/// The robust PDFs of the corpus group, each read whole.
fn robust_pdfs(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
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
async fn corpus_every_robust_pdf_gets_a_result_and_the_server_survives() {
    if !tools_available() {
        return;
    }
    let Some(dir) = heron_testkit::corpus("robust-pdf") else {
        return;
    };
    let server = TestServer::start(&[
        ("HERON_MAX_OCR_PAGES", "1"),
        ("HERON_OCR_DPI", "150"),
        ("HERON_EXTRACTION_TIMEOUT_SECS", &DEADLINE_SECS.to_string()),
        ("MAX_FILE_SIZE_MB", "50"),
    ])
    .await;
    let files = robust_pdfs(&dir);
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
            let mut codes = notice_codes(result, "errors");
            codes.extend(notice_codes(result, "warnings"));
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

/// A 5 KB XLS found by fuzzing makes calamine allocate gigabytes. The
/// sniffer already refuses it (its OLE directory is corrupt), so it is
/// handed straight to the spreadsheet parser here, in a real extraction
/// child of the heron binary under a 512 MiB address-space limit: the
/// child dies, that file gets `extraction_crashed`, and the pool serves
/// the next file with a fresh child.
#[test]
fn a_parser_allocation_storm_costs_one_file_not_the_pool() {
    use heron_extract::{ExtractError, ExtractionLimits, FileKind, IsolatedExtractor, SheetFormat};
    let pool = IsolatedExtractor::new(
        Path::new(env!("CARGO_BIN_EXE_heron")),
        &["extract-worker", "--memory-limit-mb", "512"],
        1,
    );
    let storm = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../heron-extract/tests/fuzz-regressions-memory/xls/calamine-unbounded-allocation");
    let limits = ExtractionLimits::default();
    let result = pool.extract(&storm, FileKind::Spreadsheet(SheetFormat::Xls), &limits);
    assert!(
        matches!(
            result,
            Err(ExtractError::Crashed(_) | ExtractError::LimitExceeded(_))
        ),
        "{result:?}"
    );
    let fine =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../heron-extract/tests/fixtures/ledger.xls");
    let extraction = pool
        .extract(&fine, FileKind::Spreadsheet(SheetFormat::Xls), &limits)
        .unwrap();
    assert!(extraction.text().contains("Blue Ridge LLC"));
}

/// Page previews and PDF stamping, which people ask for and hostile files
/// reach, are made in a real extraction child of the heron binary under its
/// address-space limit — the same bytes as made in the process, and a
/// file the renderer cannot read costs that request only.
#[test]
fn previews_and_stamps_are_made_in_a_fenced_child() {
    use heron_extract::{ExtractionLimits, Extractor, IsolatedExtractor};
    let pool = Extractor::Isolated(IsolatedExtractor::new(
        Path::new(env!("CARGO_BIN_EXE_heron")),
        &["extract-worker", "--memory-limit-mb", "512"],
        1,
    ));
    let limits = ExtractionLimits::default();
    let dir = tempfile::tempdir().unwrap();
    let pdf = dir.path().join("invoice.pdf");
    std::fs::write(
        &pdf,
        heron_classify::render::pdf("INVOICE\nInvoice number INV-0042\nTotal due 1,250.00"),
    )
    .unwrap();

    let png = pool
        .render_page(&pdf, 1, 400, &limits)
        .unwrap()
        .expect("page 1");
    assert!(png.starts_with(b"\x89PNG"), "a PNG");
    let in_process = Extractor::InProcess
        .render_page(&pdf, 1, 400, &limits)
        .unwrap()
        .unwrap();
    assert_eq!(png, in_process);
    assert_eq!(pool.render_page(&pdf, 7, 400, &limits).unwrap(), None);

    let line = "exported by Heron for key:abc (tenant acme)";
    let stamped = pool.stamp_pdf(&pdf, line, &limits).unwrap();
    assert!(stamped.starts_with(b"%PDF"));
    let out = dir.path().join("stamped.pdf");
    std::fs::write(&out, &stamped).unwrap();
    let text = std::process::Command::new("pdftotext")
        .arg(&out)
        .arg("-")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&text.stdout).contains(line));

    // Not a PDF: a clear error for this request, and the child serves on.
    let junk = dir.path().join("junk.pdf");
    std::fs::write(&junk, b"%PDF-1.7 this is not a PDF").unwrap();
    assert!(pool.stamp_pdf(&junk, line, &limits).is_err());
    assert!(pool.render_page(&pdf, 1, 400, &limits).unwrap().is_some());
}
