//! `heron eval-understanding`: how well Heron reads inside documents.
//!
//! Fields: documents of `heron_understand::testset` (known values) are
//! rendered as PDF, DOCX, HTML, EML and text files, and a share of them
//! scanned or photographed (image files and image-only PDFs, read by
//! OCR); extraction runs as in the service and each declared field is
//! scored against the truth (precision, recall, F1 per field, text layer
//! and scans apart), with the share of statements whose transactions
//! reconcile.
//!
//! Packets: generated documents (some scanned) and the shared sample PDFs
//! and licence photos are concatenated in random order into PDFs (`qpdf`);
//! the pipeline classifies and splits each, and page-level accuracy and
//! exact-boundary F1 are reported.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use heron_classify::render;
use heron_classify::rng::Rng;
use heron_core::Settings;
use heron_pipeline::{FileInput, Pipeline};
use heron_understand::split::{Part, SplitScore, score};
use heron_understand::testset::{self, FieldSample};

use crate::cli::EvalUnderstandingArgs;
use crate::commands::generate::{image_pdf, scan_file, scan_picture, tempfile_dir};
use crate::setup;

/// A scratch folder removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Text-layer formats documents are rendered in, in turn.
const FORMATS: &[&str] = &["pdf", "docx", "html", "eml", "txt"];

/// Counts of one field.
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
struct Tally {
    true_positives: u32,
    false_positives: u32,
    false_negatives: u32,
}

impl Tally {
    fn add(&mut self, other: Tally) {
        self.true_positives += other.true_positives;
        self.false_positives += other.false_positives;
        self.false_negatives += other.false_negatives;
    }

    fn precision(&self) -> f64 {
        ratio(
            self.true_positives,
            self.true_positives + self.false_positives,
        )
    }

    fn recall(&self) -> f64 {
        ratio(
            self.true_positives,
            self.true_positives + self.false_negatives,
        )
    }

    fn f1(&self) -> f64 {
        let (p, r) = (self.precision(), self.recall());
        if p + r == 0.0 {
            0.0
        } else {
            2.0 * p * r / (p + r)
        }
    }
}

fn ratio(a: u32, b: u32) -> f64 {
    if b == 0 {
        1.0
    } else {
        f64::from(a) / f64::from(b)
    }
}

/// Field tallies by "type.field", and statements reconciled / read.
#[derive(Debug, Default, serde::Serialize)]
struct FieldReport {
    documents: u32,
    fields: BTreeMap<String, Tally>,
    statements: u32,
    reconciled: u32,
    failures: Vec<String>,
    /// Wrong or missing values, for `--mistakes`.
    mistakes: Vec<String>,
}

pub fn run(settings: Settings, args: &EvalUnderstandingArgs) -> anyhow::Result<ExitCode> {
    setup::init_logging(&settings, "warn");
    let model = setup::load_model(&settings)?;
    let pipeline = setup::build_pipeline(&settings, model)?;
    let taxonomy = setup::load_taxonomy(&settings)?;
    let scratch = Scratch(tempfile_dir().context("creating a scratch folder")?);
    let samples = testset::generate(args.per_type, args.seed);
    let mut rng = Rng::new(args.seed ^ 0x5CA7);
    let mut text = FieldReport::default();
    let mut scans = FieldReport::default();
    let started = std::time::Instant::now();
    for (index, sample) in samples.iter().enumerate() {
        let format = FORMATS[index % FORMATS.len()];
        let bytes = render::render(&sample.text, &sample.label, format);
        let path = scratch.path().join(format!("doc_{index:05}.{format}"));
        std::fs::write(&path, bytes)?;
        score_fields(&pipeline, &taxonomy, sample, &path, &mut text);
        if rng.chance(args.scan_share) {
            let (extension, bytes) = scan_file(&sample.text, &mut rng)?;
            let path = scratch.path().join(format!("scan_{index:05}.{extension}"));
            std::fs::write(&path, bytes)?;
            score_fields(&pipeline, &taxonomy, sample, &path, &mut scans);
        }
    }
    let fields_seconds = started.elapsed().as_secs_f64();
    let started = std::time::Instant::now();
    let packets = evaluate_packets(&pipeline, args, scratch.path(), &mut rng)?;
    let packet_seconds = started.elapsed().as_secs_f64();

    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Understanding evaluation\n\nseed {}, {} per type; fields {:.0} s, packets {:.0} s\n",
        args.seed, args.per_type, fields_seconds, packet_seconds
    );
    report_fields(
        &mut out,
        "Text-layer documents (PDF, DOCX, HTML, EML, TXT)",
        &text,
        args.mistakes,
    );
    report_fields(&mut out, "Scans and photos (OCR)", &scans, args.mistakes);
    report_packets(&mut out, &packets);
    std::fs::create_dir_all(&args.out)?;
    std::fs::write(args.out.join("understanding.md"), &out)?;
    let json = serde_json::json!({
        "text_layer": text,
        "scans": scans,
        "packets": {
            "count": packets.count,
            "pages": packets.pages,
            "page_accuracy": packets.total.page_accuracy,
            "boundary_precision": packets.total.boundary_precision,
            "boundary_recall": packets.total.boundary_recall,
            "boundary_f1": packets.total.boundary_f1,
        },
    });
    std::fs::write(
        args.out.join("understanding.json"),
        serde_json::to_string_pretty(&json)?,
    )?;
    crate::output::print(&out)?;
    Ok(ExitCode::SUCCESS)
}

/// Extract `path` as the service would and score its fields against the
/// sample's truth.
fn score_fields(
    pipeline: &Pipeline,
    taxonomy: &heron_classify::Taxonomy,
    sample: &FieldSample,
    path: &Path,
    report: &mut FieldReport,
) {
    report.documents += 1;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let extracted = match pipeline.extract(path, &name) {
        Ok(extracted) => extracted,
        Err(e) => {
            report.failures.push(format!("{name}: {e}"));
            for field in sample.truth.keys() {
                let tally = report
                    .fields
                    .entry(format!("{}.{field}", sample.label))
                    .or_default();
                tally.false_negatives += 1;
            }
            return;
        }
    };
    let understanding = heron_understand::understand(
        &extracted.extraction.pages,
        &extracted.extraction.layout,
        taxonomy.fields_of(&sample.label),
    );
    let fields = &understanding.fields;
    for spec in taxonomy.fields_of(&sample.label) {
        if spec.kind == heron_classify::FieldKind::Table {
            continue;
        }
        let key = format!("{}.{}", sample.label, spec.name);
        let truth = sample.truth.get(&spec.name);
        let found = fields.values.get(&spec.name).map(|v| v.value.as_str());
        let tally = report.fields.entry(key).or_default();
        match (truth, found) {
            (Some(t), Some(f)) if same(t, f) => tally.true_positives += 1,
            (Some(t), Some(f)) => {
                tally.false_positives += 1;
                tally.false_negatives += 1;
                report
                    .mistakes
                    .push(format!("{name} {}: {t:?} read as {f:?}", spec.name));
            }
            (Some(t), None) => {
                tally.false_negatives += 1;
                report
                    .mistakes
                    .push(format!("{name} {}: {t:?} not found", spec.name));
            }
            (None, Some(_)) => tally.false_positives += 1,
            (None, None) => {}
        }
    }
    if sample.has_transactions {
        report.statements += 1;
        let reconciled = fields
            .checks
            .iter()
            .any(|c| c.name == "balances_reconcile" && c.passed);
        report.reconciled += u32::from(reconciled);
        if !reconciled {
            let detail: Vec<&str> = fields.checks.iter().map(|c| c.detail.as_str()).collect();
            let rows = fields
                .tables
                .get("transactions")
                .map_or(0, |t| t.rows.len());
            report.mistakes.push(format!(
                "{name}: transactions do not reconcile ({rows} rows; {detail:?})"
            ));
        }
    }
}

/// Equal after case, spacing and trailing punctuation.
fn same(truth: &str, found: &str) -> bool {
    let norm = |s: &str| -> String {
        s.split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .trim_end_matches(['.', ',', ';'])
            .to_lowercase()
    };
    norm(truth) == norm(found)
}

fn report_fields(out: &mut String, title: &str, report: &FieldReport, show_mistakes: bool) {
    let mut total = Tally::default();
    for tally in report.fields.values() {
        total.add(*tally);
    }
    let _ = writeln!(
        out,
        "## {title}\n\n{} documents; micro precision {:.3}, recall {:.3}, F1 {:.3}; statements reconciled {}/{}\n",
        report.documents,
        total.precision(),
        total.recall(),
        total.f1(),
        report.reconciled,
        report.statements
    );
    let _ = writeln!(
        out,
        "| field | precision | recall | F1 | n |\n|---|---|---|---|---|"
    );
    for (field, tally) in &report.fields {
        let _ = writeln!(
            out,
            "| {field} | {:.3} | {:.3} | {:.3} | {} |",
            tally.precision(),
            tally.recall(),
            tally.f1(),
            tally.true_positives + tally.false_negatives
        );
    }
    for failure in report.failures.iter().take(10) {
        let _ = writeln!(out, "- failed: {failure}");
    }
    if show_mistakes {
        for mistake in &report.mistakes {
            let _ = writeln!(out, "- {mistake}");
        }
    }
    out.push('\n');
}

/// Packet results.
struct PacketReport {
    count: usize,
    pages: usize,
    total: SplitScore,
    examples: Vec<String>,
}

/// One document that goes into packets: its PDF bytes, page count and label.
struct Piece {
    label: String,
    pdf: PathBuf,
    pages: usize,
}

fn evaluate_packets(
    pipeline: &Pipeline,
    args: &EvalUnderstandingArgs,
    scratch: &Path,
    rng: &mut Rng,
) -> anyhow::Result<PacketReport> {
    let pieces = packet_pieces(pipeline, args, scratch, rng)?;
    let labels: Vec<String> = pipeline
        .model()
        .labels()
        .iter()
        .map(|l| l.as_str().to_owned())
        .collect();
    let index_of = |label: &str| labels.iter().position(|l| l == label).unwrap_or(usize::MAX);
    let (mut right_pages, mut pages) = (0.0, 0usize);
    let (mut hits, mut predicted_starts, mut true_starts) = (0.0, 0usize, 0usize);
    let mut examples = Vec::new();
    for packet in 0..args.packets {
        let size = 3 + rng.below(4);
        let chosen: Vec<&Piece> = (0..size).map(|_| rng.pick(&pieces)).collect();
        let path = scratch.join(format!("packet_{packet:03}.pdf"));
        let mut command = std::process::Command::new("qpdf");
        command.arg("--empty").arg("--pages");
        for piece in &chosen {
            command.arg(&piece.pdf);
        }
        command.arg("--").arg(&path);
        let status = command
            .status()
            .context("running qpdf (apt-get install qpdf)")?;
        anyhow::ensure!(
            status.success() || status.code() == Some(3),
            "qpdf failed to join a packet"
        );
        let mut truth = Vec::new();
        let mut first = 0;
        for piece in &chosen {
            truth.push(Part {
                first,
                last: first + piece.pages - 1,
                label: index_of(&piece.label),
                confidence: 1.0,
            });
            first += piece.pages;
        }
        let predicted = split_file(pipeline, &path, &index_of)?;
        let s = score(&predicted, &truth);
        let n = first;
        right_pages += s.page_accuracy * n as f64;
        pages += n;
        hits += s.boundary_recall * truth.len() as f64;
        true_starts += truth.len();
        predicted_starts += predicted.len();
        if s.boundary_f1 < 1.0 && examples.len() < 8 {
            let show = |parts: &[Part]| {
                parts
                    .iter()
                    .map(|p| {
                        format!(
                            "{}-{}:{}",
                            p.first + 1,
                            p.last + 1,
                            labels.get(p.label).map_or("?", String::as_str)
                        )
                    })
                    .collect::<Vec<_>>()
                    .join(" ")
            };
            examples.push(format!(
                "truth {} / split {}",
                show(&truth),
                show(&predicted)
            ));
        }
    }
    let precision = if predicted_starts == 0 {
        0.0
    } else {
        hits / predicted_starts as f64
    };
    let recall = if true_starts == 0 {
        0.0
    } else {
        hits / true_starts as f64
    };
    Ok(PacketReport {
        count: args.packets,
        pages,
        total: SplitScore {
            page_accuracy: if pages == 0 {
                0.0
            } else {
                right_pages / pages as f64
            },
            boundary_precision: precision,
            boundary_recall: recall,
            boundary_f1: if precision + recall == 0.0 {
                0.0
            } else {
                2.0 * precision * recall / (precision + recall)
            },
        },
        examples,
    })
}

/// Classify and split one packet file into parts with label indices.
fn split_file(
    pipeline: &Pipeline,
    path: &Path,
    index_of: &dyn Fn(&str) -> usize,
) -> anyhow::Result<Vec<Part>> {
    let size = std::fs::metadata(path)?.len();
    let input = FileInput {
        path,
        filename: "packet.pdf",
        size_bytes: size,
        sha256: "",
        request_id: "eval",
    };
    let classified = pipeline.classify_document(&input);
    let understanding = pipeline.understand(
        &classified.result.label,
        &classified.text,
        &classified.layout,
    );
    Ok(understanding
        .documents
        .iter()
        .map(|d| Part {
            first: d.pages[0] as usize - 1,
            last: d.pages[1] as usize - 1,
            label: index_of(&d.label),
            confidence: d.confidence,
        })
        .collect())
}

/// Generated documents as text-layer PDFs and scans, plus the samples'
/// PDFs and licence photos.
fn packet_pieces(
    pipeline: &Pipeline,
    args: &EvalUnderstandingArgs,
    scratch: &Path,
    rng: &mut Rng,
) -> anyhow::Result<Vec<Piece>> {
    let mut pieces = Vec::new();
    for (index, sample) in testset::generate(4, args.seed ^ 0xFACE)
        .into_iter()
        .enumerate()
    {
        let pdf = scratch.join(format!("piece_{index:03}.pdf"));
        if rng.chance(0.2) {
            let picture = scan_picture(&sample.text, rng)?;
            std::fs::write(&pdf, image_pdf(&picture, 80)?)?;
        } else {
            std::fs::write(&pdf, render::pdf(&sample.text))?;
        }
        let pages = page_count(pipeline, &pdf)?;
        pieces.push(Piece {
            label: sample.label,
            pdf,
            pages,
        });
    }
    let Some(samples) = &args.samples else {
        return Ok(pieces);
    };
    for &(name, label) in testset::SAMPLE_FILES {
        let source = samples.join(name);
        if !source.exists() {
            continue;
        }
        let pdf = scratch.join(format!("sample_{name}.pdf"));
        if name.ends_with(".jpg") {
            let picture =
                image::open(&source).with_context(|| format!("reading {}", source.display()))?;
            std::fs::write(&pdf, image_pdf(&picture, 85)?)?;
        } else {
            std::fs::copy(&source, &pdf)?;
        }
        let pages = page_count(pipeline, &pdf)?;
        pieces.push(Piece {
            label: label.to_owned(),
            pdf,
            pages,
        });
    }
    Ok(pieces)
}

fn page_count(pipeline: &Pipeline, pdf: &Path) -> anyhow::Result<usize> {
    let extracted = pipeline.extract(pdf, "piece.pdf")?;
    Ok(extracted.extraction.page_count.unwrap_or(1).max(1) as usize)
}

fn report_packets(out: &mut String, report: &PacketReport) {
    let s = report.total;
    let _ = writeln!(
        out,
        "## Packets\n\n{} packets, {} pages: page-level accuracy {:.3}; boundaries precision {:.3}, recall {:.3}, F1 {:.3}\n",
        report.count,
        report.pages,
        s.page_accuracy,
        s.boundary_precision,
        s.boundary_recall,
        s.boundary_f1
    );
    for example in &report.examples {
        let _ = writeln!(out, "- {example}");
    }
}
