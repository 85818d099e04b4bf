//! Extraction conformance: fixtures made with the tools that write each
//! format (`tests/conformance/make_fixtures.py`: python-docx, openpyxl,
//! python-pptx, reportlab and pikepdf, Python's email package) hold text
//! in every place a reader sees it — headers, footnotes, comments, text
//! boxes, speaker notes, embedded documents, form fields… — each a string
//! of its own, listed in `expected.tsv`. Every string must be found in
//! what Heron extracts; the report gives the pass rate per format.

use std::collections::BTreeMap;
use std::path::Path;

use heron_extract::{ExtractionLimits, extract_in_process, sniff_file};

#[test]
fn every_place_a_reader_sees_text_is_extracted() {
    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conformance");
    let expected = std::fs::read_to_string(folder.join("expected.tsv")).expect("expected.tsv");
    let limits = ExtractionLimits::default();
    let mut texts: BTreeMap<String, String> = BTreeMap::new();
    let mut by_format: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let mut missing = Vec::new();
    for line in expected.lines().skip(1) {
        let mut fields = line.split('\t');
        let (Some(fixture), Some(content), Some(wanted)) =
            (fields.next(), fields.next(), fields.next())
        else {
            panic!("a malformed line in expected.tsv: {line:?}");
        };
        let text = texts.entry(fixture.to_owned()).or_insert_with(|| {
            let path = folder.join(fixture);
            let extension = path.extension().and_then(|e| e.to_str());
            let kind = sniff_file(&path, extension).expect("a known format");
            let extraction = extract_in_process(&path, kind, &limits)
                .unwrap_or_else(|e| panic!("{fixture}: {e}"));
            // Compared with whitespace evened out: layout is not the point.
            extraction
                .text()
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
        });
        let format = fixture.rsplit('.').next().unwrap_or(fixture).to_owned();
        let counts = by_format.entry(format).or_default();
        counts.1 += 1;
        if text.contains(wanted) {
            counts.0 += 1;
        } else {
            missing.push(format!("{fixture}: {content}: {wanted:?}"));
        }
    }
    println!("| format | found | expected | pass rate |\n|---|---|---|---|");
    for (format, (found, total)) in &by_format {
        println!(
            "| {format} | {found} | {total} | {:.0} % |",
            100.0 * *found as f64 / *total as f64
        );
    }
    assert!(
        missing.is_empty(),
        "text not extracted:\n{}",
        missing.join("\n")
    );
}

#[test]
fn a_password_protected_office_file_is_an_encrypted_error() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conformance/encrypted.docx");
    let kind = sniff_file(&path, Some("docx")).expect("sniffed");
    let result = extract_in_process(&path, kind, &ExtractionLimits::default());
    assert!(
        matches!(result, Err(heron_extract::ExtractError::Encrypted)),
        "{kind:?}: {result:?}"
    );
}
