//! Extraction throughput against the reference tool, in one run.
//!
//! `cargo run --release -p heron-extract --example extract_throughput -- [PDF DIR]`
//!
//! 1. Text-layer PDFs (default: the shared samples and the robust-pdf
//!    corpus, only files `pdftotext` reads with text): pages/s of the
//!    `pdftotext` command alone, of Heron's in-process extractor, and of
//!    Heron's isolated extractor (child processes, as the service runs it),
//!    and the word agreement of Heron's text with `pdftotext`'s.
//! 2. Office, markup and e-mail fixtures: files/s per format, in process.
//!
//! The isolated extractor needs the `heron` binary: it is looked for beside
//! this example in the target directory (`cargo build --release -p heron`).

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use heron_extract::{
    ExtractionLimits, Extractor, IsolatedExtractor, extract_in_process, sniff_file,
};

fn pdfs(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| entries.filter_map(Result::ok).map(|e| e.path()).collect())
        .unwrap_or_default();
    files.retain(|p| p.extension().is_some_and(|e| e == "pdf"));
    files.sort();
    files
}

fn pdftotext(path: &Path) -> Option<String> {
    let output = Command::new("pdftotext")
        .args(["-enc", "UTF-8", "-q"])
        .arg(path)
        .arg("-")
        .output()
        .ok()?;
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).into_owned())
}

fn words(text: &str) -> HashSet<&str> {
    text.split_whitespace().collect()
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus");
    let dirs: Vec<PathBuf> = match std::env::args().nth(1) {
        Some(dir) => vec![PathBuf::from(dir)],
        None => vec![root.join("samples"), root.join("robust-pdf")],
    };
    let limits = ExtractionLimits {
        timeout: std::time::Duration::from_secs(20),
        ..ExtractionLimits::default()
    };
    // Keep the PDFs with a real text layer, as pdftotext sees it.
    let mut corpus: Vec<(PathBuf, String, u32)> = Vec::new();
    for path in dirs.iter().flat_map(|d| pdfs(d)) {
        if let Some(text) = pdftotext(&path)
            && text.split_whitespace().count() >= 20
        {
            let pages = text.matches('\u{c}').count().max(1) as u32;
            corpus.push((path, text, pages));
        }
    }
    let pages: u32 = corpus.iter().map(|(_, _, p)| p).sum();
    println!("text-layer PDFs: {} files, {pages} pages", corpus.len());

    let started = Instant::now();
    for (path, _, _) in &corpus {
        let _ = pdftotext(path);
    }
    let reference = started.elapsed().as_secs_f64();

    let started = Instant::now();
    let mut agreement = 0.0;
    for (path, reference_text, _) in &corpus {
        let text = extract_in_process(path, heron_extract::FileKind::Pdf, &limits)
            .map(|e| e.text())
            .unwrap_or_default();
        let ours = words(&text);
        let theirs = words(reference_text);
        let common = ours.intersection(&theirs).count() as f64;
        agreement += if theirs.is_empty() {
            1.0
        } else {
            common / theirs.len() as f64
        };
    }
    let in_process = started.elapsed().as_secs_f64();

    let heron = std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.parent()?.join("heron")))
        .filter(|p| p.exists());
    let isolated = heron.map(|heron| {
        let pool = Extractor::Isolated(IsolatedExtractor::new(&heron, &["extract-worker"], 1));
        let started = Instant::now();
        for (path, _, _) in &corpus {
            let _ = pool.extract(path, heron_extract::FileKind::Pdf, &limits);
        }
        started.elapsed().as_secs_f64()
    });

    println!("| extractor | pages/s | ratio to pdftotext |");
    println!("|---|---|---|");
    println!(
        "| pdftotext command | {:.0} | 1.00 |",
        f64::from(pages) / reference
    );
    println!(
        "| Heron in process | {:.0} | {:.2} |",
        f64::from(pages) / in_process,
        reference / in_process
    );
    match isolated {
        Some(seconds) => println!(
            "| Heron isolated (service) | {:.0} | {:.2} |",
            f64::from(pages) / seconds,
            reference / seconds
        ),
        None => println!("| Heron isolated | (build the heron binary first) | |"),
    }
    println!(
        "word agreement with pdftotext: {:.3}",
        agreement / corpus.len().max(1) as f64
    );

    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    println!("\n| format | file | files/s |");
    println!("|---|---|---|");
    for name in [
        "letter.docx",
        "statement.xlsx",
        "ledger.xls",
        "review.pptx",
        "agreement.odt",
        "page.html",
        "message.eml",
        "memo.rtf",
        "bundle.zip",
    ] {
        let path = fixtures.join(name);
        let kind = sniff_file(&path, None).expect("fixture");
        let rounds = 200;
        let started = Instant::now();
        for _ in 0..rounds {
            let _ = extract_in_process(&path, kind, &limits);
        }
        println!(
            "| {} | {name} | {:.0} |",
            kind.mime_type(),
            f64::from(rounds) / started.elapsed().as_secs_f64()
        );
    }
}
