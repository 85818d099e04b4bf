//! `heron classify FILE...`: the pipeline on local files, no server.

use std::fmt::Write as _;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::Context;
use heron_core::{ClassificationResult, Settings};
use heron_pipeline::{FileInput, Pipeline};
use indicatif::{ProgressBar, ProgressStyle};

use crate::cli::ClassifyArgs;
use crate::setup;

pub fn run(settings: Settings, args: &ClassifyArgs) -> anyhow::Result<ExitCode> {
    setup::init_logging(&settings, "warn");
    let model = setup::load_model(&settings)?;
    let pipeline = Arc::new(setup::build_pipeline(&settings, model)?);
    let progress = progress_bar(args.files.len());
    let results = classify_all(&pipeline, &args.files, settings.workers.max(1), &progress)?;
    progress.finish_and_clear();

    if args.json {
        crate::output::print(&format!("{}\n", serde_json::to_string_pretty(&results)?))?;
    } else {
        crate::output::print(&table(&results))?;
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
                    let result = classify_one(pipeline, path);
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

fn classify_one(pipeline: &Pipeline, path: &Path) -> anyhow::Result<ClassificationResult> {
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
    let mut result = pipeline.classify(&input);
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
        let _ = writeln!(
            out,
            "{:<width$}  {:<18}  {:>10.3}  {:<15}  {}",
            result.filename,
            result.label,
            result.confidence,
            decided,
            notes.join(",")
        );
    }
    out
}
