//! Labelled folders of documents (`DIR/<type id>/<any files>`) turned into
//! extracted texts, for `heron train` and `heron eval`. Extraction (with
//! OCR) runs once per distinct file: texts are cached by the file's
//! SHA-256 under `<data dir>/cache/text/<extraction version>-<OCR
//! engines>/`, so retraining is fast and a Heron that extracts differently
//! starts afresh.
//!
//! A folder with a `manifest.tsv` (columns `sha256`, `type`, `ext`,
//! `split`, `kind` and `repo` among others, one row per file named
//! `<type>/<first 12 hex digits>.<ext>`, as `shared/corpus/real`) can be
//! read by split: [`load_split`] keeps the rows of one split with their
//! kind (photo, scan, digital-pdf, office, other) and source.

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
    /// Extracted text with the format marker the model expects (empty
    /// when nothing could be read, kept only by [`load_split`]).
    pub text: String,
    /// From a manifest: how the file was made (photo, scan, …).
    pub kind: Option<String>,
    /// From a manifest: where it comes from (documents of one source stay
    /// on one side of every split).
    pub source: Option<String>,
    /// Whether the text was read by OCR.
    pub read_by_ocr: bool,
}

/// One row of a `manifest.tsv`.
#[derive(Debug, Clone)]
pub struct ManifestRow {
    pub path: PathBuf,
    pub label: String,
    pub split: String,
    pub kind: String,
    pub source: String,
}

/// The rows of `root/manifest.tsv`.
pub fn manifest(root: &Path) -> anyhow::Result<Vec<ManifestRow>> {
    let path = root.join("manifest.tsv");
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap_or_default().split('\t').collect();
    let column = |name: &str| {
        header
            .iter()
            .position(|h| *h == name)
            .with_context(|| format!("{} has no {name:?} column", path.display()))
    };
    let (sha, label, ext, split, kind, source) = (
        column("sha256")?,
        column("type")?,
        column("ext")?,
        column("split")?,
        column("kind")?,
        column("repo")?,
    );
    let mut rows = Vec::new();
    for (number, line) in lines.enumerate() {
        let fields: Vec<&str> = line.split('\t').collect();
        let field = |i: usize| {
            fields
                .get(i)
                .copied()
                .with_context(|| format!("{} line {}: too few columns", path.display(), number + 2))
        };
        let (digest, type_id) = (field(sha)?, field(label)?);
        Label::parse(type_id).with_context(|| format!("{type_id:?} is not a valid type id"))?;
        let short = digest.get(..12).context("a SHA-256 of 64 hex digits")?;
        rows.push(ManifestRow {
            path: root.join(type_id).join(format!("{short}.{}", field(ext)?)),
            label: type_id.to_owned(),
            split: field(split)?.to_owned(),
            kind: field(kind)?.to_owned(),
            source: field(source)?.to_owned(),
        });
    }
    Ok(rows)
}

/// The documents of one split of a manifest folder, in manifest order,
/// including those no text could be read from (their text is empty: a
/// measurement must count them).
pub fn load_split(settings: &Settings, root: &Path, split: &str) -> anyhow::Result<Vec<Document>> {
    let rows: Vec<ManifestRow> = manifest(root)?
        .into_iter()
        .filter(|r| r.split == split)
        .collect();
    anyhow::ensure!(
        !rows.is_empty(),
        "no {split:?} rows in {}/manifest.tsv",
        root.display()
    );
    let files: Vec<(String, PathBuf)> = rows
        .iter()
        .map(|r| (r.label.clone(), r.path.clone()))
        .collect();
    let mut documents = extract_all(settings, &files, true)?;
    for (document, row) in documents.iter_mut().zip(&rows) {
        document.kind = Some(row.kind.clone());
        document.source = Some(row.source.clone());
    }
    Ok(documents)
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
    let mut documents = extract_all(settings, &files, false)?;
    documents.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(documents)
}

/// Extract `files` (label, path) in their order; with `keep_empty`, files
/// without text stay in as empty documents, else they are left out.
fn extract_all(
    settings: &Settings,
    files: &[(String, PathBuf)],
    keep_empty: bool,
) -> anyhow::Result<Vec<Document>> {
    let (extractor, ocr, limits) = setup::build_extraction(settings)?;
    let engines: String = ocr
        .engines()
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect();
    let cache = settings.data_dir.join("cache").join("text").join(format!(
        "{}-{engines}-{CACHE_LAYOUT}",
        heron_extract::EXTRACTION_VERSION
    ));
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
                    let text = match text_of(&extractor, &ocr, &limits, &cache, path) {
                        Ok(Some(read)) => Ok(read),
                        Ok(None) => Err("no text".to_owned()),
                        Err(e) => Err(format!("{e:#}")),
                    };
                    let text = text.map(Some).unwrap_or_else(|why| {
                        let fate = if keep_empty { "kept" } else { "skipped" };
                        eprintln!("{fate} {}: {why}", path.display());
                        keep_empty.then(|| (String::new(), false))
                    });
                    if let (Some((text, read_by_ocr)), Ok(mut documents)) = (text, documents.lock())
                    {
                        documents.push((
                            index,
                            Document {
                                path: path.clone(),
                                label: label.clone(),
                                text,
                                kind: None,
                                source: None,
                                read_by_ocr,
                            },
                        ));
                    }
                }
            });
        }
    });
    let mut documents = documents
        .into_inner()
        .map_err(|_| anyhow::anyhow!("an extraction thread panicked"))?;
    documents.sort_by_key(|(index, _)| *index);
    Ok(documents.into_iter().map(|(_, d)| d).collect())
}

/// How the text cache's entries are laid out: the first line is the
/// format, then ` ocr` when the text was read by OCR; the text follows.
/// A new layout gets a cache of its own.
const CACHE_LAYOUT: &str = "t2";

/// The text of the file at `path` as the model reads it, and whether it
/// was read by OCR; `None` when the file has no text.
fn text_of(
    extractor: &heron_extract::Extractor,
    ocr: &heron_extract::OcrEngine,
    limits: &heron_extract::ExtractionLimits,
    cache: &Path,
    path: &Path,
) -> anyhow::Result<Option<(String, bool)>> {
    let bytes = std::fs::read(path)?;
    let digest = hex::encode(Sha256::digest(&bytes));
    // The cache holds extraction output (see CACHE_LAYOUT), so a change
    // of features needs no re-extraction and a change of extraction (a new
    // EXTRACTION_VERSION) gets a fresh cache.
    let cached = cache.join(format!("{digest}.txt"));
    if let Ok(entry) = std::fs::read_to_string(&cached) {
        return Ok(entry
            .split_once('\n')
            .filter(|(_, text)| !text.is_empty())
            .map(|(first, text)| {
                let (format, read_by_ocr) = match first.split_once(' ') {
                    Some((format, how)) => (format, how == "ocr"),
                    None => (first, false),
                };
                (
                    heron_classify::features::with_signals(text, format),
                    read_by_ocr,
                )
            }));
    }
    let filename = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let extracted =
        heron_pipeline::extract_file(extractor, || Ok(ocr.clone()), limits, path, &filename)?;
    let format = heron_classify::features::format_of_mime(extracted.kind.mime_type());
    let text = if extracted.extraction.has_text() {
        extracted.extraction.text()
    } else {
        String::new()
    };
    let read_by_ocr = extracted.extraction.ocr_used;
    let how = if read_by_ocr { " ocr" } else { "" };
    heron_core::files::write_atomically(&cached, format!("{format}{how}\n{text}").as_bytes())?;
    Ok((!text.is_empty()).then(|| {
        (
            heron_classify::features::with_signals(&text, format),
            read_by_ocr,
        )
    }))
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
