//! Labelled folders of documents (`DIR/<type id>/<any files>`) turned into
//! extracted texts, for `heron train` and `heron eval`. Extraction (with
//! OCR) runs once per distinct file: texts are cached by the file's
//! SHA-256 under `<data dir>/cache/text/<extraction version>/`, so
//! retraining is fast and a Heron that extracts differently starts afresh.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::Context;
use heron_core::{Label, Settings};
use sha2::{Digest, Sha256};

use crate::setup;

/// One labelled, extracted document.
pub struct Document {
    pub path: PathBuf,
    pub label: String,
    /// Extracted text with the format marker the model expects.
    pub text: String,
}

/// The labelled files under `root`: one sub-folder per type id.
pub fn list(root: &Path) -> anyhow::Result<Vec<(String, PathBuf)>> {
    let mut files = Vec::new();
    for folder in std::fs::read_dir(root).with_context(|| format!("reading {}", root.display()))? {
        let folder = folder?;
        if !folder.file_type()?.is_dir() {
            continue;
        }
        let label = folder.file_name().to_string_lossy().into_owned();
        Label::parse(&label).with_context(|| format!("folder {label:?} is not a valid type id"))?;
        for file in std::fs::read_dir(folder.path())? {
            let file = file?;
            if file.file_type()?.is_file() {
                files.push((label.clone(), file.path()));
            }
        }
    }
    files.sort();
    anyhow::ensure!(
        !files.is_empty(),
        "no files under {}/<type id>/",
        root.display()
    );
    Ok(files)
}

/// Extract every file (from the cache when it was seen before) on
/// `settings.workers` threads. Files that yield no text are skipped with a
/// message on stderr.
pub fn load(settings: &Settings, root: &Path) -> anyhow::Result<Vec<Document>> {
    let files = list(root)?;
    let (extractor, ocr, limits) = setup::build_extraction(settings)?;
    let cache = settings
        .data_dir
        .join("cache")
        .join("text")
        .join(heron_extract::EXTRACTION_VERSION);
    std::fs::create_dir_all(&cache).context("creating the text cache")?;
    let next = AtomicUsize::new(0);
    let documents = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..settings.workers.max(1) {
            scope.spawn(|| {
                loop {
                    let index = next.fetch_add(1, Ordering::Relaxed);
                    let Some((label, path)) = files.get(index) else {
                        break;
                    };
                    match text_of(&extractor, &ocr, &limits, &cache, path) {
                        Ok(Some(text)) => {
                            if let Ok(mut documents) = documents.lock() {
                                documents.push(Document {
                                    path: path.clone(),
                                    label: label.clone(),
                                    text,
                                });
                            }
                        }
                        Ok(None) => eprintln!("skipped {}: no text", path.display()),
                        Err(e) => eprintln!("skipped {}: {e:#}", path.display()),
                    }
                }
            });
        }
    });
    let mut documents = documents
        .into_inner()
        .map_err(|_| anyhow::anyhow!("an extraction thread panicked"))?;
    documents.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(documents)
}

fn text_of(
    extractor: &heron_extract::Extractor,
    ocr: &heron_extract::OcrEngine,
    limits: &heron_extract::ExtractionLimits,
    cache: &Path,
    path: &Path,
) -> anyhow::Result<Option<String>> {
    let bytes = std::fs::read(path)?;
    let digest = hex::encode(Sha256::digest(&bytes));
    // The cache holds extraction output (the format on the first line,
    // then the text), so a change of features needs no re-extraction and a
    // change of extraction (a new EXTRACTION_VERSION) gets a fresh cache.
    let cached = cache.join(format!("{digest}.txt"));
    if let Ok(entry) = std::fs::read_to_string(&cached) {
        return Ok(entry
            .split_once('\n')
            .filter(|(_, text)| !text.is_empty())
            .map(|(format, text)| heron_classify::features::with_signals(text, format)));
    }
    let filename = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let extracted = heron_pipeline::extract_file(extractor, ocr, limits, path, &filename)?;
    let format = heron_classify::features::format_of_mime(extracted.kind.mime_type());
    let text = if extracted.extraction.has_text() {
        extracted.extraction.text()
    } else {
        String::new()
    };
    let temporary = cache.join(format!("{digest}.tmp"));
    std::fs::write(&temporary, format!("{format}\n{text}"))?;
    std::fs::rename(&temporary, &cached)?;
    Ok((!text.is_empty()).then(|| heron_classify::features::with_signals(&text, format)))
}

/// SHA-256 over the labels and texts, recorded with a trained model.
pub fn fingerprint(documents: &[Document]) -> String {
    let mut hasher = Sha256::new();
    for document in documents {
        hasher.update(document.label.as_bytes());
        hasher.update([0]);
        hasher.update(document.text.as_bytes());
        hasher.update([0]);
    }
    hex::encode(hasher.finalize())
}
