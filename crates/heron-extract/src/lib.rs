//! Content sniffing and text extraction.
//!
//! Bytes on disk → [`Extraction`]: text per page, metadata, whether OCR was
//! used, and per-file warnings. Types are decided from the content, never the
//! name ([`sniff`]); the name is only compared to the content to warn about a
//! mismatch.
//!
//! External tools (Poppler's `pdftotext`/`pdftoppm`, `tesseract`) run as
//! child processes under a deadline ([`tool`]), so a hostile file can at
//! worst cost one killed child. In-process parsers (DOCX, CSV, text) enforce
//! size limits before decompressing or decoding.
//!
//! What this crate does not do: classify, store, or know about HTTP.

mod archive;
mod docx;
mod email;
mod embedded;
mod html;
pub mod isolation;
pub mod language;
mod legacy;
mod limits;
mod markup;
mod msg;
mod ocr;
mod office;
pub mod page_detect;
mod pdf;
pub mod ppocr;
mod ppt;
pub mod preprocess;
pub mod preview;
mod rtf;
mod sniff;
mod spreadsheet;
pub mod stamp;
mod text;
pub mod tool;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

use heron_core::{Notice, NoticeCode};

pub use isolation::{Extractor, IsolatedExtractor};
pub use limits::ExtractionLimits;
pub use ocr::{OcrEngine, OcrText};

/// Names what extraction produces for a file. Caches of extracted text
/// (`heron train`'s) are kept per version: change it whenever a change
/// makes extraction give other text for some file (a parser, OCR
/// preparation, a limit's default). `e2`: light evened out and noise smoothed before OCR; the scan inside an
/// image-only PDF page OCR'd as it is. `e3`: pictures read by PP-OCR
/// where its models are installed (the cache folder also names the
/// engines on). `e4`: a PDF's text rebuilt from the one `pdftotext
/// -bbox-layout` pass that also gives its word boxes; form field values
/// and annotation notes of PDFs; Office headers, notes, comments, list
/// labels and embedded documents; every e-mail body part; an HTML title.
pub const EXTRACTION_VERSION: &str = "e4";
pub use sniff::{FileKind, SheetFormat, sniff, sniff_file};

/// What extraction found in one file.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Extraction {
    /// Text of each page (PDF, multi-page TIFF) or one entry for the whole file.
    pub pages: Vec<String>,
    /// Document properties: title, author, creator, producer, created...
    pub metadata: BTreeMap<String, String>,
    /// Number of pages of the document, where the format has pages.
    pub page_count: Option<u32>,
    /// Whether any text came from OCR.
    pub ocr_used: bool,
    /// Mean OCR word confidence in 0..=1, where OCR ran.
    pub ocr_confidence: Option<f64>,
    /// Mean OCR word confidence of each page (`None` for pages not OCR'd
    /// or without words); empty when OCR did not run.
    pub ocr_page_confidences: Vec<Option<f64>>,
    /// ISO 639-3 code of the text's language, when it could be told.
    pub language: Option<String>,
    /// Problems that did not stop extraction (limits hit, pages skipped).
    pub warnings: Vec<Notice>,
    /// Word positions of pages that have them (a PDF text layer, OCR);
    /// empty for formats without geometry. Used to find tables and to
    /// locate values; not stored.
    pub layout: Vec<PageLayout>,
}

/// Word boxes are `heron-core`'s (the understanding stage reads them
/// without depending on extraction).
pub use heron_core::layout::{PageLayout, Word};

/// Words kept per page at most: layout serves tables and locating values,
/// which a page beyond this many words does not need to be exact for.
pub const MAX_LAYOUT_WORDS_PER_PAGE: usize = 20_000;

impl Extraction {
    /// All text, pages separated by a blank line.
    pub fn text(&self) -> String {
        self.pages.join("\n\n")
    }

    /// Whether there is enough text to classify.
    pub fn has_text(&self) -> bool {
        self.pages.iter().any(|p| has_meaningful_text(p))
    }

    /// Detect and record the language of the text, when the detection is
    /// reliable (garbled OCR of an ID card is no language at all).
    pub fn detect_language(&mut self) {
        self.language = language::detect(&self.text())
            .filter(|d| d.reliable)
            .map(|d| d.code.to_owned());
    }
}

/// Why a file's text could not be extracted. Each variant maps to a stable
/// notice code the API reports.
#[derive(Debug, thiserror::Error)]
pub enum ExtractError {
    #[error("content type not supported: {detected}")]
    Unsupported { detected: String },
    #[error("the file is corrupt or malformed: {0}")]
    Corrupt(String),
    #[error("the file is encrypted")]
    Encrypted,
    #[error("extraction did not finish within {seconds:.0} s")]
    Timeout { seconds: f64 },
    #[error("the parser process failed: {0}")]
    Crashed(String),
    #[error("limit exceeded: {0}")]
    LimitExceeded(String),
    #[error("a required tool is missing: {0}")]
    ToolMissing(String),
    #[error("could not read the file: {0}")]
    Io(#[from] std::io::Error),
}

impl ExtractError {
    /// The stable code reported for this failure.
    pub fn code(&self) -> NoticeCode {
        match self {
            ExtractError::Unsupported { .. } => NoticeCode::UnsupportedType,
            ExtractError::Corrupt(_) | ExtractError::Io(_) => NoticeCode::ExtractionFailed,
            ExtractError::Encrypted => NoticeCode::Encrypted,
            ExtractError::Timeout { .. } => NoticeCode::ExtractionTimeout,
            ExtractError::Crashed(_) => NoticeCode::ExtractionCrashed,
            ExtractError::LimitExceeded(_) => NoticeCode::LimitExceeded,
            ExtractError::ToolMissing(_) => NoticeCode::OcrUnavailable,
        }
    }

    /// The error for a tool that could not finish.
    pub(crate) fn from_tool(error: tool::ToolError, limits: &ExtractionLimits) -> ExtractError {
        match error {
            tool::ToolError::Missing(program) => ExtractError::ToolMissing(program),
            tool::ToolError::Timeout { .. } => ExtractError::Timeout {
                seconds: limits.timeout.as_secs_f64(),
            },
            tool::ToolError::Io { source, .. } => ExtractError::Io(source),
        }
    }

    pub fn to_notice(&self) -> Notice {
        Notice::new(self.code(), self.to_string())
    }
}

/// Extract the text that needs no OCR: a PDF's text layer and properties,
/// Office and text formats. Images yield an empty extraction (use [`OcrEngine`]).
/// Runs in this process: callers that face hostile files use an
/// [`Extractor::Isolated`] pool, whose children call this.
pub fn extract_in_process(
    path: &Path,
    kind: FileKind,
    limits: &ExtractionLimits,
) -> Result<Extraction, ExtractError> {
    let deadline = limits.deadline_from(Instant::now());
    let size = std::fs::metadata(path)?.len();
    if size > limits.max_bytes {
        return Err(ExtractError::LimitExceeded(format!(
            "file is {size} bytes, the limit is {}",
            limits.max_bytes
        )));
    }
    let mut extraction = match kind {
        FileKind::Pdf => pdf::extract_text(path, limits, deadline),
        FileKind::Docx => docx::extract(path, limits),
        FileKind::Doc => legacy::extract("catdoc", path, limits, deadline),
        FileKind::Ppt => ppt::extract(path, limits),
        FileKind::Spreadsheet(format) => spreadsheet::extract(path, format, limits),
        FileKind::Pptx => office::extract_pptx(path, limits),
        FileKind::Odt | FileKind::Odp => office::extract_opendocument(path, limits),
        FileKind::Csv { delimiter } => text::extract_csv(path, delimiter, limits),
        FileKind::Text | FileKind::Markdown => text::extract_plain(path, limits),
        FileKind::Rtf => single_page(rtf::rtf_text(&std::fs::read(path)?)),
        FileKind::Html => {
            let (decoded, _) = text::decode(&std::fs::read(path)?);
            let (mut visible, metadata) = html::visible_text(&decoded);
            // The title is seen too (in the tab, in search results).
            if let Some(title) = metadata.get("title")
                && !visible.trim_start().starts_with(title.as_str())
            {
                visible = format!("{title}\n\n{visible}");
            }
            Ok(Extraction {
                pages: vec![visible],
                metadata,
                page_count: Some(1),
                ..Extraction::default()
            })
        }
        FileKind::Xml => single_page(markup::xml_text(&std::fs::read(path)?)),
        FileKind::Json => single_page(markup::json_text(
            &std::fs::read(path)?,
            limits.max_text_bytes,
        )),
        FileKind::Email => email::extract(&std::fs::read(path)?, limits),
        FileKind::Msg => msg::extract(path, limits),
        FileKind::Zip => archive::extract(path, limits),
        FileKind::Image(_) => Ok(Extraction::default()),
        FileKind::EncryptedOffice => Err(ExtractError::Encrypted),
        FileKind::Unknown { description } => Err(ExtractError::Unsupported {
            detected: description.to_owned(),
        }),
    }?;
    let mut total = 0usize;
    for page in &mut extraction.pages {
        let room = limits.max_text_bytes.saturating_sub(total);
        if limits::truncate_text(page, room) {
            extraction.warnings.push(Notice::new(
                NoticeCode::LimitExceeded,
                format!("text cut at {} bytes", limits.max_text_bytes),
            ));
        }
        total += page.len();
    }
    extraction.detect_language();
    Ok(extraction)
}

/// Whether a file needs OCR after its text layer was read: images always,
/// PDFs when the text layer as a whole is not enough.
pub fn needs_ocr(kind: FileKind, extraction: &Extraction) -> bool {
    match kind {
        FileKind::Image(_) => !extraction.ocr_used,
        // Any page without text: a scan among text pages (a packet with a
        // licence photo) is read too; `ocr_in_process` skips blank pages.
        FileKind::Pdf => {
            !extraction.ocr_used && extraction.pages.iter().any(|p| !has_meaningful_text(p))
        }
        _ => false,
    }
}

/// OCR what the text layer lacked, in this process: the whole image, or a
/// PDF's pages without usable text. Extraction children call this; others
/// go through [`Extractor::ocr`].
pub fn ocr_in_process(
    path: &Path,
    kind: FileKind,
    mut extraction: Extraction,
    engine: &OcrEngine,
    limits: &ExtractionLimits,
) -> Result<Extraction, ExtractError> {
    if !needs_ocr(kind, &extraction) {
        return Ok(extraction);
    }
    let deadline = limits.deadline_from(Instant::now());
    match kind {
        FileKind::Image(_) => {
            let text = engine.recognise_image(path, limits, deadline)?;
            extraction.page_count = Some(text.pages.len().max(1) as u32);
            extraction.pages = text.pages;
            extraction.ocr_used = true;
            extraction.ocr_confidence = text.confidence;
            extraction.ocr_page_confidences = text.page_confidences;
            extraction.layout = text.layout;
            extraction
                .metadata
                .insert("ocr_languages".to_owned(), text.languages);
            if !text.steps.is_empty() {
                extraction
                    .metadata
                    .insert("ocr_preprocessing".to_owned(), text.steps.join(","));
            }
        }
        FileKind::Pdf => {
            // In a document with a text layer elsewhere, a page without
            // text is OCR'd only when it holds an image (a blank or
            // vector-drawn page is not a scan).
            let mixed = extraction.has_text();
            let pages: Vec<u32> = extraction
                .pages
                .iter()
                .enumerate()
                .filter(|(_, text)| !has_meaningful_text(text))
                .map(|(i, _)| i as u32 + 1)
                .filter(|&page| !mixed || ocr::page_has_images(path, page, deadline))
                .collect();
            if pages.is_empty() {
                return Ok(extraction);
            }
            engine.recognise_pdf_pages(path, &pages, &mut extraction, limits, deadline)?;
        }
        _ => {}
    }
    extraction.detect_language();
    Ok(extraction)
}

fn single_page(text: Result<String, ExtractError>) -> Result<Extraction, ExtractError> {
    Ok(Extraction {
        pages: vec![text?],
        page_count: Some(1),
        ..Extraction::default()
    })
}

/// Extract a file found inside another (an e-mail attachment, an archive
/// member): written to a private temporary file, sniffed, extracted with
/// one nesting level less. Images inside are not OCR'd here.
pub(crate) fn extract_nested(
    bytes: &[u8],
    name: &str,
    limits: &ExtractionLimits,
) -> Result<Extraction, ExtractError> {
    if limits.max_depth == 0 {
        return Err(ExtractError::LimitExceeded(format!(
            "{name}: nested deeper than the limit"
        )));
    }
    let mut inner = limits.clone();
    inner.max_depth -= 1;
    let directory = ocr::ScratchDir::new()?;
    let extension = Path::new(name)
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("bin");
    let path = directory.path().join(format!("nested.{extension}"));
    std::fs::write(&path, bytes)?;
    let kind = sniff_file(&path, Some(extension))?;
    extract_in_process(&path, kind, &inner)
}

/// Extract a file found inside another ([`extract_nested`]) and append
/// its pages, each marked `[what name]` ("attachment", "embedded"). A
/// failure is a warning: the host's own text stands.
pub(crate) fn append_nested(
    extraction: &mut Extraction,
    what: &str,
    name: &str,
    bytes: &[u8],
    limits: &ExtractionLimits,
) {
    match extract_nested(bytes, name, limits) {
        Ok(nested) => {
            for page in nested.pages {
                extraction.pages.push(format!("[{what} {name}]\n{page}"));
            }
            extraction.ocr_used |= nested.ocr_used;
            extraction.warnings.extend(nested.warnings);
        }
        Err(e) => warn_nested(extraction, what, name, &e),
    }
}

/// The warning of a nested file that could not be read.
pub(crate) fn warn_nested(
    extraction: &mut Extraction,
    what: &str,
    name: &str,
    error: &ExtractError,
) {
    extraction.warnings.push(Notice::new(
        NoticeCode::ExtractionFailed,
        format!("{what} {name:?}: {error}"),
    ));
}

/// A page holds meaningful text when it has a few letters, not only stray
/// marks left by a scanner's text layer.
pub fn has_meaningful_text(text: &str) -> bool {
    text.chars().filter(|c| c.is_alphabetic()).take(12).count() >= 12
}
