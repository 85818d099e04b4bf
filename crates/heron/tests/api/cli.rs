//! The local commands: `heron classify` and `heron extract`.

use std::process::Command;

use crate::support::{made, made_text};

fn heron(data_dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_heron"))
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .env("HERON_LOG_FORMAT", "pretty")
        .env(
            "HERON_MODELS_DIR",
            std::env::temp_dir().join("heron-test-models"),
        )
        .output()
        .expect("running heron")
}

#[test]
fn classify_prints_a_table_and_json() {
    let data_dir = tempfile::tempdir().unwrap();
    let form = data_dir.path().join("form_cb775b0e.txt");
    std::fs::write(&form, made("form", "txt", 0)).unwrap();
    let csv = data_dir.path().join("bank_statement_cb1ec9cf.csv");
    std::fs::write(&csv, made("bank_statement", "csv", 0)).unwrap();
    let form = form.to_str().unwrap();
    let csv = csv.to_str().unwrap();

    let output = heron(data_dir.path(), &["classify", form, csv]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let table = String::from_utf8_lossy(&output.stdout);
    assert!(table.starts_with("FILE"), "{table}");
    assert!(
        table
            .lines()
            .any(|l| l.contains("form_cb775b0e.txt") && l.contains(" form ")),
        "{table}"
    );

    let output = heron(data_dir.path(), &["classify", "--json", csv]);
    assert!(output.status.success());
    let results: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(results[0]["label"], "bank_statement");
    assert_eq!(results[0]["mime_type"], "text/csv");
}

#[test]
fn classify_exits_non_zero_when_a_file_has_errors() {
    let data_dir = tempfile::tempdir().unwrap();
    let junk = data_dir.path().join("junk.bin");
    std::fs::write(&junk, [0u8, 1, 2, 3, 255, 254, 0, 7]).unwrap();
    let output = heron(data_dir.path(), &["classify", junk.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stdout).contains("unsupported_type"));
}

#[test]
fn extract_prints_text_and_metadata() {
    let data_dir = tempfile::tempdir().unwrap();
    let docx = data_dir.path().join("sample_financial_report.docx");
    let bytes = made("financial_report", "docx", 0);
    std::fs::write(&docx, &bytes).unwrap();
    let output = heron(data_dir.path(), &["extract", docx.to_str().unwrap()]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("wordprocessingml"), "{text}");
    // Every paragraph of the document, as written.
    let written = made_text("financial_report", 0);
    for line in written.lines().filter(|l| !l.trim().is_empty()).take(12) {
        assert!(
            text.contains(line.trim()),
            "{line:?} is missing from {text}"
        );
    }
}
