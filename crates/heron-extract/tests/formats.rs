//! Every parsed format on fixtures made with real document libraries
//! (`fixtures/make_fixtures.py`): the type is detected from the content and
//! the known phrases are found in the extracted text.

use std::path::{Path, PathBuf};

use heron_extract::{ExtractionLimits, extract_in_process, sniff_file};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// Sniff and extract a fixture with default limits.
fn extract_fixture(name: &str) -> heron_extract::Extraction {
    let path = fixture(name);
    extract_in_process(
        &path,
        sniff_file(&path, None).unwrap(),
        &ExtractionLimits::default(),
    )
    .unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Sniff `name` (under a misleading `.bin` name too) and extract it.
fn check(name: &str, mime: &str, phrases: &[&str]) {
    let path = fixture(name);
    let extension = Path::new(name).extension().and_then(|e| e.to_str());
    let kind = sniff_file(&path, extension).unwrap();
    assert_eq!(kind.mime_type(), mime, "{name}: detected type");
    let anonymous = sniff_file(&path, Some("bin")).unwrap();
    if !matches!(name.rsplit('.').next(), Some("tsv")) {
        assert_eq!(
            anonymous, kind,
            "{name}: the content, not the name, decides"
        );
    }
    let extraction = extract_in_process(&path, kind, &ExtractionLimits::default())
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    let text = extraction.text();
    for phrase in phrases {
        assert!(text.contains(phrase), "{name}: {phrase:?} not in\n{text}");
    }
}

#[test]
fn office_documents() {
    check(
        "letter.docx",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        &["Employment Letter", "Maria Lopez", "85,000 EUR"],
    );
    check(
        "agreement.odt",
        "application/vnd.oasis.opendocument.text",
        &["Service Agreement", "Northwind Ltd", "laws of England"],
    );
    check(
        "review.pptx",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        &["Loan application review", "Approved with conditions"],
    );
    check(
        "results.odp",
        "application/vnd.oasis.opendocument.presentation",
        &["Quarterly results", "Outlook for next year"],
    );
    check(
        "memo.rtf",
        "application/rtf",
        &["Power of Attorney", "José García"],
    );
}

#[test]
fn legacy_office_documents() {
    check(
        "order.doc",
        "application/msword",
        &["Purchase Order PO-8812", "Acme Industrial Supply Co."],
    );
    check(
        "claim.ppt",
        "application/vnd.ms-powerpoint",
        &[
            "Claim assessment",
            "Policy number HX-55120",
            "Claim approved for repair",
        ],
    );
    let extraction = extract_fixture("claim.ppt");
    assert_eq!(extraction.page_count, Some(2), "{:?}", extraction.pages);
    assert!(extraction.pages[1].contains("Outcome"));
    assert!(
        !extraction.text().contains("Click to edit"),
        "master slide prompts are not document text"
    );
}

#[test]
fn presentations_have_a_page_per_slide() {
    let extraction = extract_fixture("review.pptx");
    assert_eq!(extraction.page_count, Some(2));
    assert!(extraction.pages[1].contains("Decision"));
}

#[test]
fn spreadsheets() {
    check(
        "statement.xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        &[
            "Date | Description | Amount | Balance",
            "Grocery Mart purchase | -82.40",
            "Closing balance | 1438.35",
        ],
    );
    check(
        "ledger.xls",
        "application/vnd.ms-excel",
        &[
            "Invoice | Customer | Total",
            "INV-7781 | Blue Ridge LLC | 990.50",
        ],
    );
    check(
        "budget.ods",
        "application/vnd.oasis.opendocument.spreadsheet",
        &["Quarter | Revenue", "Q1 | 125000"],
    );
    check(
        "payroll.xlsm",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        &["Employee | Gross pay | Net pay", "Karen Wu | 6100 | 4620"],
    );
    check(
        "payments.csv",
        "text/csv",
        &["date | payee | amount", "2024-05-09 | Metro Power | 88.75"],
    );
    check(
        "rows.tsv",
        "text/tab-separated-values",
        &["Employee | Gross | Net", "A. Smith | 5000 | 3900"],
    );
}

#[test]
fn markup_and_data() {
    check(
        "page.html",
        "text/html",
        &["Electricity bill", "Amount due: €84.10", "Meter | 44817"],
    );
    check(
        "feed.xml",
        "application/xml",
        &["Export declaration", "Machine parts & tools"],
    );
    check(
        "order.json",
        "application/json",
        &["number: PO-5521", "item: Steel bolts", "qty: 400"],
    );
    let extraction = extract_fixture("page.html");
    assert!(
        !extraction.text().contains("secret"),
        "scripts are not visible text"
    );
    assert_eq!(extraction.metadata["title"], "Utility bill");
}

#[test]
fn markdown_is_read_as_text() {
    check(
        "notes.md",
        "text/markdown",
        &["Lab report", "Haemoglobin", "13.9 g/dL", "Dr. Patel"],
    );
}

#[test]
fn text_encodings() {
    check(
        "utf16.txt",
        "text/plain",
        &["Lieferschein für Bestellung 991"],
    );
    check("latin1.txt", "text/plain", &["Reçu de caisse: café 3,50 €"]);
}

#[test]
fn email_with_an_attachment() {
    check(
        "message.eml",
        "message/rfc822",
        &[
            "Subject: Your statement for March",
            "From: Accounts Payable <ap@example.com>",
            "please find your March statement attached",
            "[attachment statement.xlsx]",
            "Grocery Mart purchase",
        ],
    );
    let extraction = extract_fixture("message.eml");
    assert_eq!(extraction.metadata["attachments"], "statement.xlsx");
}

#[test]
fn outlook_message_with_an_attachment() {
    check(
        "invoice.msg",
        "application/vnd.ms-outlook",
        &[
            "Subject: Invoice INV-2291 for October services",
            "From: Billing Department <billing@example.com>",
            "To: Anna Schmidt",
            "Amount due: 4,250.00 EUR",
            "[attachment letter.docx]",
            "Maria Lopez",
        ],
    );
    let extraction = extract_fixture("invoice.msg");
    assert_eq!(extraction.metadata["attachments"], "letter.docx");
    assert_eq!(extraction.metadata["creationdate"], "2024-11-05T09:30:00Z");
}

#[test]
fn archives_are_opened_recursively() {
    check(
        "bundle.zip",
        "application/zip",
        &[
            "[docs/letter.docx]",
            "Maria Lopez",
            "Packing list for shipment 4471",
        ],
    );
    let path = fixture("bundle.zip");
    let shallow = ExtractionLimits {
        max_depth: 0,
        ..ExtractionLimits::default()
    };
    let extraction = extract_in_process(&path, sniff_file(&path, None).unwrap(), &shallow).unwrap();
    assert!(
        !extraction.text().contains("Maria Lopez"),
        "depth limit respected"
    );
    assert!(
        extraction
            .warnings
            .iter()
            .any(|w| w.message.contains("nested deeper"))
    );
}

#[test]
fn a_zip_bomb_is_stopped_by_the_decompression_budget() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bomb.zip");
    {
        let file = std::fs::File::create(&path).unwrap();
        let mut zip = zip::ZipWriter::new(file);
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        zip.start_file("zeros.txt", options).unwrap();
        let block = vec![b'0'; 1 << 20];
        for _ in 0..64 {
            std::io::Write::write_all(&mut zip, &block).unwrap();
        }
        zip.finish().unwrap();
    }
    let limits = ExtractionLimits {
        max_decompressed_bytes: 8 << 20,
        ..ExtractionLimits::default()
    };
    let extraction = extract_in_process(&path, sniff_file(&path, None).unwrap(), &limits).unwrap();
    assert!(
        extraction
            .warnings
            .iter()
            .any(|w| w.code.as_str() == "limit_exceeded"),
        "{:?}",
        extraction.warnings
    );
}
