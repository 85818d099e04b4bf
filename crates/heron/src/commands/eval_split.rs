//! `heron eval --data DIR --split SPLIT`: the service's answers on one
//! split of a manifest folder (`shared/corpus/real`), measured as a user
//! sees them. Every file goes through the whole pipeline (sniffing,
//! extraction and OCR in the extraction children, every stage, the
//! out-of-distribution test and the confidence threshold in force) under
//! an opaque name, so the name says nothing of its type.
//!
//! Reported overall, per type and per kind (photo, scan, digital-pdf,
//! office, other): accuracy of the answer (`unsure` counts as wrong),
//! coverage (share answered), accuracy among answered documents, accuracy
//! of the best guess, macro-F1 over types with at least five documents,
//! the share wrongly called out-of-distribution (every document of the
//! corpus is a business document of a known type), expected calibration
//! error of the best guess, and the coverage at 1 % error. Written as
//! `report.md` and `report.json` in `--out`.
//!
//! With `--foreign`, DIR holds files that are no business document, one
//! folder per kind (prose, code, photos of no document, broken PDFs):
//! each is expected `unsure`, and "accuracy" is the share rejected.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use anyhow::Context;
use heron_classify::TextModel;
use heron_classify::metrics::Metrics;
use heron_classify::risk::RiskCoverage;
use heron_core::{Label, Settings};
use heron_pipeline::FileInput;
use serde::Serialize;

use crate::cli::EvalArgs;
use crate::dataset::{self, ManifestRow};
use crate::setup;

/// Types with fewer documents are left out of the macro-F1 (too thin to
/// say anything; the corpus README asks for this).
const MACRO_MIN_SUPPORT: usize = 5;

/// One document's outcome.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    pub file: String,
    pub truth: String,
    pub kind: String,
    /// The answer: a type or `unsure`.
    pub label: String,
    /// The best guess, answered or not.
    pub predicted: String,
    pub confidence: f64,
    pub out_of_distribution: bool,
    pub errors: Vec<String>,
    pub seconds: f64,
}

impl Outcome {
    fn right(&self) -> bool {
        self.label == self.truth
    }

    fn answered(&self) -> bool {
        self.label != Label::UNSURE
    }
}

/// The figures of a group of outcomes.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Figures {
    pub documents: usize,
    pub accuracy: f64,
    pub coverage: f64,
    pub accuracy_answered: f64,
    pub best_guess_accuracy: f64,
    pub false_out_of_distribution: f64,
}

impl Figures {
    fn of<'a>(outcomes: impl Iterator<Item = &'a Outcome>) -> Figures {
        let outcomes: Vec<&Outcome> = outcomes.collect();
        let n = outcomes.len();
        let share = |count: usize, of: usize| {
            if of == 0 {
                0.0
            } else {
                count as f64 / of as f64
            }
        };
        let answered = outcomes.iter().filter(|o| o.answered()).count();
        Figures {
            documents: n,
            accuracy: share(outcomes.iter().filter(|o| o.right()).count(), n),
            coverage: share(answered, n),
            accuracy_answered: share(
                outcomes
                    .iter()
                    .filter(|o| o.answered() && o.right())
                    .count(),
                answered,
            ),
            best_guess_accuracy: share(
                outcomes.iter().filter(|o| o.predicted == o.truth).count(),
                n,
            ),
            false_out_of_distribution: share(
                outcomes.iter().filter(|o| o.out_of_distribution).count(),
                n,
            ),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct SplitReport {
    pub model: String,
    pub ocr_engines: String,
    pub split: String,
    pub confidence_threshold: f64,
    pub overall: Figures,
    pub macro_f1: f64,
    pub macro_f1_types: Vec<String>,
    pub expected_calibration_error: f64,
    pub coverage_at_1_percent_error: Option<f64>,
    pub per_type: BTreeMap<String, Figures>,
    pub per_kind: BTreeMap<String, Figures>,
    pub confusion: BTreeMap<String, BTreeMap<String, usize>>,
    pub outcomes: Vec<Outcome>,
    pub seconds: f64,
}

pub fn run(settings: Settings, args: &EvalArgs, split: &str) -> anyhow::Result<ExitCode> {
    setup::init_logging(&settings, "warn");
    let model = match &args.model {
        Some(path) => {
            TextModel::load(path).with_context(|| format!("loading {}", path.display()))?
        }
        None => setup::load_model(&settings)?,
    };
    let rows = if args.foreign {
        foreign_rows(&args.data)?
    } else {
        dataset::manifest(&args.data)?
            .into_iter()
            .filter(|r| r.split == split)
            .collect()
    };
    anyhow::ensure!(
        !rows.is_empty(),
        "no documents of split {split:?} in {}",
        args.data.display()
    );
    let report = evaluate(&settings, rows, split, model)?;
    std::fs::create_dir_all(&args.out)?;
    std::fs::write(
        args.out.join("report.json"),
        serde_json::to_string_pretty(&report)?,
    )?;
    let markdown = markdown(&report);
    std::fs::write(args.out.join("report.md"), &markdown)?;
    println!("{markdown}");
    Ok(ExitCode::SUCCESS)
}

/// Classify every document of `split` through the pipeline of `settings`
/// with `model`, and measure.
pub fn evaluate(
    settings: &Settings,
    rows: Vec<ManifestRow>,
    split: &str,
    model: TextModel,
) -> anyhow::Result<SplitReport> {
    let pipeline = setup::build_pipeline(settings, model)?;
    let model = pipeline.model();
    let threshold = pipeline.abstention(&model).confidence_threshold;
    let started = Instant::now();
    let next = AtomicUsize::new(0);
    let outcomes: Mutex<Vec<(usize, Outcome)>> = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..settings.workers.max(1) {
            scope.spawn(|| {
                while let Some(row) = rows.get(next.fetch_add(1, Ordering::Relaxed)) {
                    let index = rows.iter().position(|r| std::ptr::eq(r, row)).unwrap_or(0);
                    let outcome = classify(&pipeline, row, index);
                    eprintln!(
                        "{} {} → {} ({:.2}{})",
                        row.kind,
                        row.label,
                        outcome.label,
                        outcome.confidence,
                        if outcome.out_of_distribution {
                            ", foreign"
                        } else {
                            ""
                        }
                    );
                    if let Ok(mut outcomes) = outcomes.lock() {
                        outcomes.push((index, outcome));
                    }
                }
            });
        }
    });
    let mut outcomes = outcomes
        .into_inner()
        .map_err(|_| anyhow::anyhow!("a classification thread panicked"))?;
    outcomes.sort_by_key(|(i, _)| *i);
    let outcomes: Vec<Outcome> = outcomes.into_iter().map(|(_, o)| o).collect();
    Ok(measure(
        model.id(),
        &pipeline.ocr().engines(),
        split,
        threshold,
        outcomes,
        started.elapsed().as_secs_f64(),
    ))
}

/// Files that are no business document (`DIR/<kind>/<files>`: prose,
/// code, photos of no document, broken PDFs), each expected `unsure`.
fn foreign_rows(root: &std::path::Path) -> anyhow::Result<Vec<ManifestRow>> {
    let mut rows = Vec::new();
    for folder in std::fs::read_dir(root).with_context(|| format!("reading {}", root.display()))? {
        let folder = folder?;
        if !folder.file_type()?.is_dir() {
            continue;
        }
        let kind = folder.file_name().to_string_lossy().into_owned();
        for file in std::fs::read_dir(folder.path())? {
            let file = file?;
            if file.file_type()?.is_file() {
                rows.push(ManifestRow {
                    path: file.path(),
                    label: Label::UNSURE.to_owned(),
                    split: "foreign".to_owned(),
                    kind: kind.clone(),
                    source: kind.clone(),
                });
            }
        }
    }
    rows.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(rows)
}

fn classify(pipeline: &heron_pipeline::Pipeline, row: &ManifestRow, index: usize) -> Outcome {
    let started = Instant::now();
    let extension = row
        .path
        .extension()
        .map(|e| e.to_string_lossy().into_owned())
        .unwrap_or_default();
    // An opaque name, as real uploads have ("scan_0042.pdf").
    let filename = format!("upload_{index:04}.{extension}");
    let size_bytes = std::fs::metadata(&row.path).map_or(0, |m| m.len());
    let result = pipeline.classify(&FileInput {
        path: &row.path,
        filename: &filename,
        size_bytes,
        sha256: "",
        request_id: "eval",
    });
    Outcome {
        file: display(&row.path),
        truth: row.label.clone(),
        kind: row.kind.clone(),
        label: result.label,
        predicted: result.predicted_label,
        confidence: result.confidence,
        out_of_distribution: result.out_of_distribution,
        errors: result.errors.iter().map(|e| e.message.clone()).collect(),
        seconds: started.elapsed().as_secs_f64(),
    }
}

fn display(path: &std::path::Path) -> String {
    let parts: Vec<String> = path
        .iter()
        .rev()
        .take(2)
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    parts
        .into_iter()
        .rev()
        .collect::<PathBuf>()
        .display()
        .to_string()
}

/// The report of `outcomes`.
pub fn measure(
    model: &str,
    engines: &str,
    split: &str,
    threshold: f64,
    outcomes: Vec<Outcome>,
    seconds: f64,
) -> SplitReport {
    let overall = Figures::of(outcomes.iter());
    let mut per_type: BTreeMap<String, Figures> = BTreeMap::new();
    let mut per_kind: BTreeMap<String, Figures> = BTreeMap::new();
    let types: std::collections::BTreeSet<&str> =
        outcomes.iter().map(|o| o.truth.as_str()).collect();
    for t in types {
        per_type.insert(
            t.to_owned(),
            Figures::of(outcomes.iter().filter(|o| o.truth == t)),
        );
    }
    let kinds: std::collections::BTreeSet<&str> =
        outcomes.iter().map(|o| o.kind.as_str()).collect();
    for k in kinds {
        per_kind.insert(
            k.to_owned(),
            Figures::of(outcomes.iter().filter(|o| o.kind == k)),
        );
    }
    // Macro-F1 of the answers (unsure is a prediction of its own, never
    // right) over the types with enough documents.
    let pairs: Vec<(&str, &str)> = outcomes
        .iter()
        .map(|o| (o.truth.as_str(), o.label.as_str()))
        .collect();
    let metrics = Metrics::measure(&pairs);
    let macro_f1_types: Vec<String> = per_type
        .iter()
        .filter(|(_, f)| f.documents >= MACRO_MIN_SUPPORT)
        .map(|(t, _)| t.clone())
        .collect();
    let macro_f1 = if macro_f1_types.is_empty() {
        0.0
    } else {
        macro_f1_types
            .iter()
            .map(|t| metrics.per_class.get(t).map_or(0.0, |m| m.f1))
            .sum::<f64>()
            / macro_f1_types.len() as f64
    };
    // Calibration of the best guess: its confidence against being right.
    let ece = heron_classify::metrics::expected_calibration_error(
        &outcomes
            .iter()
            .map(|o| (o.confidence, o.predicted == o.truth))
            .collect::<Vec<_>>(),
    );
    let curve = RiskCoverage::measure(
        format!("{split} split"),
        &outcomes
            .iter()
            .filter(|o| !o.out_of_distribution)
            .map(|o| (o.confidence, o.predicted == o.truth))
            .collect::<Vec<_>>(),
    );
    let answered_share = outcomes.iter().filter(|o| !o.out_of_distribution).count() as f64
        / outcomes.len().max(1) as f64;
    SplitReport {
        model: model.to_owned(),
        ocr_engines: engines.to_owned(),
        split: split.to_owned(),
        confidence_threshold: threshold,
        overall,
        macro_f1,
        macro_f1_types,
        expected_calibration_error: ece,
        coverage_at_1_percent_error: curve.cutoff_for(0.01).map(|c| c.coverage * answered_share),
        per_type,
        per_kind,
        confusion: metrics.confusion,
        outcomes,
        seconds,
    }
}

pub fn markdown(report: &SplitReport) -> String {
    let mut out = String::new();
    let o = &report.overall;
    let _ = writeln!(
        out,
        "# Split `{}`: model {} (OCR: {}), threshold {:.2}\n",
        report.split, report.model, report.ocr_engines, report.confidence_threshold
    );
    let _ = writeln!(
        out,
        "{} documents: accuracy **{:.3}**, answered **{:.3}**, accuracy when answered **{:.3}**, best guess {:.3}, \
         macro-F1 **{:.3}** (types with ≥ {MACRO_MIN_SUPPORT} documents: {}), false out-of-distribution **{:.3}**, \
         ECE **{:.3}**, coverage at 1 % error {} ({:.0} s)\n",
        o.documents,
        o.accuracy,
        o.coverage,
        o.accuracy_answered,
        o.best_guess_accuracy,
        report.macro_f1,
        report.macro_f1_types.len(),
        o.false_out_of_distribution,
        report.expected_calibration_error,
        report
            .coverage_at_1_percent_error
            .map_or("—".to_owned(), |c| format!("{c:.3}")),
        report.seconds
    );
    for (title, groups) in [("type", &report.per_type), ("kind", &report.per_kind)] {
        let _ = writeln!(
            out,
            "| {title} | documents | accuracy | answered | accuracy answered | best guess | false OOD |\n|---|---|---|---|---|---|---|"
        );
        for (name, f) in groups {
            let _ = writeln!(
                out,
                "| {name} | {} | {:.3} | {:.3} | {:.3} | {:.3} | {:.3} |",
                f.documents,
                f.accuracy,
                f.coverage,
                f.accuracy_answered,
                f.best_guess_accuracy,
                f.false_out_of_distribution
            );
        }
        out.push('\n');
    }
    let _ = writeln!(out, "## Wrong or unanswered\n");
    for o in report.outcomes.iter().filter(|o| !o.right()) {
        let _ = writeln!(
            out,
            "- {} ({}): {} → {} (best guess {} {:.2}{}){}",
            o.file,
            o.kind,
            o.truth,
            o.label,
            o.predicted,
            o.confidence,
            if o.out_of_distribution {
                ", out of distribution"
            } else {
                ""
            },
            if o.errors.is_empty() {
                String::new()
            } else {
                format!(" — {}", o.errors.join("; "))
            }
        );
    }
    out
}
