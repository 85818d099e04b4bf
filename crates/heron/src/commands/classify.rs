//! `heron classify FILE...`: the pipeline on local files, no server.

use std::fmt::Write as _;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::Context;
use heron_core::understanding::ExtractParts;
use heron_core::{ClassificationResult, Settings};
use heron_pipeline::{FileInput, Pipeline};
use indicatif::{ProgressBar, ProgressStyle};

use crate::cli::ClassifyArgs;
use crate::setup;

pub fn run(settings: Settings, args: &ClassifyArgs) -> anyhow::Result<ExitCode> {
    setup::init_logging(&settings, "warn");
    let model = setup::load_model(&settings)?;
    let pipeline = Arc::new(setup::build_pipeline(&settings, model)?);
    let mut parts = match &args.extract {
        Some(list) => ExtractParts::parse(list).map_err(|part| {
            anyhow::anyhow!(
                "unknown --extract part {part:?}; known: {}, all",
                ExtractParts::NAMES.join(", ")
            )
        })?,
        None => ExtractParts::default(),
    };
    parts.documents |= args.split;
    let progress = progress_bar(args.files.len());
    let mut results = classify_all(
        &pipeline,
        &args.files,
        parts,
        settings.workers.max(1),
        &progress,
    )?;
    progress.finish_and_clear();
    if !args.explain {
        results.iter_mut().for_each(|r| r.explanation = None);
    }

    if args.json {
        crate::output::print(&format!("{}\n", serde_json::to_string_pretty(&results)?))?;
    } else {
        let mut out = table(&results);
        for result in results.iter().filter(|r| r.explanation.is_some()) {
            out.push_str(&explanation(result));
        }
        crate::output::print(&out)?;
    }
    let failed = results.iter().any(|r| !r.errors.is_empty());
    Ok(if failed {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}

fn progress_bar(files: usize) -> ProgressBar {
    if files < 3 {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(files as u64);
    if let Ok(style) = ProgressStyle::with_template("{bar:40} {pos}/{len} files, {eta} left") {
        bar.set_style(style);
    }
    bar
}

/// Classify files on `threads` threads, keeping the input order.
fn classify_all(
    pipeline: &Pipeline,
    files: &[std::path::PathBuf],
    parts: ExtractParts,
    threads: usize,
    progress: &ProgressBar,
) -> anyhow::Result<Vec<ClassificationResult>> {
    let next = AtomicUsize::new(0);
    let mut slots: Vec<Option<anyhow::Result<ClassificationResult>>> =
        (0..files.len()).map(|_| None).collect();
    let slots_lock = std::sync::Mutex::new(&mut slots);
    std::thread::scope(|scope| {
        for _ in 0..threads.min(files.len()) {
            scope.spawn(|| {
                loop {
                    let index = next.fetch_add(1, Ordering::Relaxed);
                    let Some(path) = files.get(index) else { break };
                    let result = classify_one(pipeline, path, parts);
                    progress.inc(1);
                    if let Ok(mut slots) = slots_lock.lock() {
                        slots[index] = Some(result);
                    }
                }
            });
        }
    });
    slots
        .into_iter()
        .map(|slot| slot.unwrap_or_else(|| Err(anyhow::anyhow!("file was not processed"))))
        .collect()
}

fn classify_one(
    pipeline: &Pipeline,
    path: &Path,
    parts: ExtractParts,
) -> anyhow::Result<ClassificationResult> {
    let (sha256, size) = hash_file(path).with_context(|| format!("reading {}", path.display()))?;
    let filename = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let input = FileInput {
        path,
        filename: &filename,
        size_bytes: size,
        sha256: &sha256,
        request_id: "local",
    };
    let classified = pipeline.classify_document(&input);
    let mut result = classified.result;
    if parts.any() && !classified.text.is_empty() {
        let understanding =
            pipeline.understand(&result.label, &classified.text, &classified.layout);
        parts.attach(understanding, &mut result);
    }
    result.filename = path.display().to_string();
    Ok(result)
}

fn hash_file(path: &Path) -> std::io::Result<(String, u64)> {
    use sha2::{Digest, Sha256};
    use std::io::Read;
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 64 * 1024];
    let mut size = 0u64;
    loop {
        let n = file.read(&mut buffer)?;
        if n == 0 {
            break;
        }
        size += n as u64;
        hasher.update(&buffer[..n]);
    }
    Ok((hex::encode(hasher.finalize()), size))
}

fn table(results: &[ClassificationResult]) -> String {
    let mut out = String::new();
    let width = results
        .iter()
        .map(|r| r.filename.chars().count())
        .max()
        .unwrap_or(4)
        .clamp(4, 60);
    let _ = writeln!(
        out,
        "{:<width$}  {:<18}  {:>10}  {:<15}  NOTES",
        "FILE", "LABEL", "CONFIDENCE", "DECIDED BY"
    );
    for result in results {
        let notes: Vec<&str> = result
            .errors
            .iter()
            .chain(&result.warnings)
            .map(|n| n.code.as_str())
            .collect();
        let decided = serde_json::to_value(result.decided_by)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        let label = match result.labels.as_slice() {
            [_, also @ ..] if !also.is_empty() => format!("{}+{}", result.label, also.join("+")),
            _ => result.label.clone(),
        };
        let _ = writeln!(
            out,
            "{:<width$}  {:<18}  {:>10.3}  {:<15}  {}",
            result.filename,
            label,
            result.confidence,
            decided,
            notes.join(",")
        );
        // A packet's documents under its row.
        for document in result.documents.iter().flatten() {
            let pages = match document.pages {
                [first, last] if first == last => format!("  page {first}"),
                [first, last] => format!("  pages {first}-{last}"),
            };
            let _ = writeln!(
                out,
                "{pages:<width$}  {:<18}  {:>10.3}",
                document.label, document.confidence
            );
        }
    }
    out
}

/// The long form of one result's evidence, for `--explain`.
fn explanation(result: &ClassificationResult) -> String {
    let mut out = String::new();
    let Some(explanation) = &result.explanation else {
        return out;
    };
    let _ = writeln!(out, "\n{}: {}", result.filename, result.label);
    for note in result.errors.iter().chain(&result.warnings) {
        let _ = writeln!(out, "  {}: {}", note.code.as_str(), note.message);
    }
    let alternatives: Vec<String> = explanation
        .alternatives
        .iter()
        .map(|a| format!("{} {:.3}", a.label, a.confidence))
        .collect();
    let _ = writeln!(out, "  alternatives: {}", alternatives.join(", "));
    let path: Vec<String> = result
        .label_path
        .iter()
        .map(|l| format!("{} {:.3}", l.id, l.confidence))
        .collect();
    if !path.is_empty() {
        let _ = writeln!(out, "  taxonomy path: {}", path.join(" > "));
    }
    for alternative in &explanation.alternatives {
        let Some(terms) = explanation.terms.get(&alternative.label) else {
            continue;
        };
        let terms: Vec<String> = terms
            .iter()
            .map(|e| match &e.location {
                Some(at) => format!("{} {:.3} (p{} @{})", e.term, e.weight, at.page, at.start),
                None => format!("{} {:.3}", e.term, e.weight),
            })
            .collect();
        let _ = writeln!(out, "  for {}: {}", alternative.label, terms.join(", "));
    }
    let one_vs_rest: Vec<String> = explanation
        .one_vs_rest
        .iter()
        .map(|(label, p)| format!("{label} {p:.3}"))
        .collect();
    let _ = writeln!(out, "  one-vs-rest: {}", one_vs_rest.join(", "));
    let _ = writeln!(out, "  signals: {}", explanation.signals.join(", "));
    let _ = writeln!(
        out,
        "  known words: {} ({:.0}% of its words); model {}, taxonomy {}",
        explanation.known_words,
        explanation.known_word_share * 100.0,
        result.model_version,
        result.taxonomy_version
    );
    out
}
