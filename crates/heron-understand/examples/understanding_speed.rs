//! How long reading fields, entities, tables and segments takes per page,
//! against the extraction of the same page (`pdftotext`, text and word
//! boxes) measured in the same run: the machines are shared and noisy, so
//! the ratio is the number to compare between runs.
//!
//! ```sh
//! cargo run --release -p heron-understand --example understanding_speed [DOCS] [SAMPLES_DIR]
//! ```

use std::path::PathBuf;
use std::time::{Duration, Instant};

use heron_classify::{Taxonomy, render};
use heron_extract::{ExtractionLimits, FileKind, extract_in_process};
use heron_understand::{testset, understand};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let documents: usize = args.next().map_or(Ok(20), |n| n.parse())?;
    let samples = args.next().map(PathBuf::from);
    let taxonomy = Taxonomy::default_taxonomy();
    let limits = ExtractionLimits::default();
    let scratch =
        std::env::temp_dir().join(format!("heron-understanding-speed-{}", std::process::id()));
    std::fs::create_dir_all(&scratch)?;

    let mut files: Vec<(PathBuf, String)> = Vec::new();
    for (index, sample) in testset::generate(documents, 5).into_iter().enumerate() {
        let path = scratch.join(format!("doc_{index}.pdf"));
        std::fs::write(&path, render::pdf(&sample.text))?;
        files.push((path, sample.label));
    }
    if let Some(dir) = &samples {
        // The samples with a text layer (the licences are photos).
        for &(name, label) in testset::SAMPLE_FILES
            .iter()
            .filter(|(n, _)| n.ends_with(".pdf"))
        {
            files.push((dir.join(name), label.to_owned()));
        }
    }

    let (mut extracting, mut reading, mut reading_plain) =
        (Duration::ZERO, Duration::ZERO, Duration::ZERO);
    let (mut pages, mut tables, mut words) = (0usize, 0usize, 0usize);
    for (path, label) in &files {
        let started = Instant::now();
        let extraction = extract_in_process(path, FileKind::Pdf, &limits)?;
        extracting += started.elapsed();
        pages += extraction.pages.len();
        words += extraction
            .layout
            .iter()
            .map(|l| l.words.len())
            .sum::<usize>();
        let specs = taxonomy.fields_of(label);
        let started = Instant::now();
        let understanding = understand(&extraction.pages, &extraction.layout, specs);
        reading += started.elapsed();
        tables += understanding.tables.len();
        let started = Instant::now();
        std::hint::black_box(understand(&extraction.pages, &[], specs));
        reading_plain += started.elapsed();
    }
    let per_page = |d: Duration| d.as_secs_f64() * 1000.0 / pages.max(1) as f64;
    println!(
        "{} files, {pages} pages, {words} words with boxes, {tables} tables",
        files.len()
    );
    println!(
        "extraction (pdftotext text + boxes): {:.3} ms/page",
        per_page(extracting)
    );
    println!(
        "fields+entities+tables+segments:      {:.3} ms/page (ratio to extraction {:.2})",
        per_page(reading),
        reading.as_secs_f64() / extracting.as_secs_f64()
    );
    println!(
        "the same from text alone (no boxes):  {:.3} ms/page",
        per_page(reading_plain)
    );
    let _ = std::fs::remove_dir_all(&scratch);
    Ok(())
}
