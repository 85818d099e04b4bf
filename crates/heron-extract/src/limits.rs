//! Limits that bound the work spent on one file.

use std::time::{Duration, Instant};

/// Limits enforced before and during extraction of one file.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct ExtractionLimits {
    /// Largest file accepted, in bytes.
    pub max_bytes: u64,
    /// Pages read from a paged document; later pages are skipped with a warning.
    pub max_pages: u32,
    /// Pages sent to OCR per document.
    pub max_ocr_pages: u32,
    /// Largest total size of the parts read from a ZIP container (DOCX...).
    pub max_decompressed_bytes: u64,
    /// How deep attachments and archive members are followed.
    pub max_depth: u32,
    /// Spreadsheet cells read per file.
    pub max_cells: usize,
    /// Longest text kept per file, in bytes.
    pub max_text_bytes: usize,
    /// Wall-clock time allowed for the whole file.
    pub timeout: Duration,
    /// Resolution at which PDF pages are rendered for OCR.
    pub ocr_dpi: u32,
    /// Tesseract languages, e.g. `eng` or `eng+deu`.
    pub ocr_languages: String,
}

impl Default for ExtractionLimits {
    fn default() -> Self {
        ExtractionLimits {
            max_bytes: 10 * 1024 * 1024,
            max_pages: 500,
            max_ocr_pages: 20,
            max_decompressed_bytes: 200 * 1024 * 1024,
            max_depth: 3,
            max_cells: 2_000_000,
            max_text_bytes: 4 * 1024 * 1024,
            timeout: Duration::from_secs(60),
            ocr_dpi: 300,
            ocr_languages: "eng".to_owned(),
        }
    }
}

impl ExtractionLimits {
    pub fn deadline_from(&self, start: Instant) -> Instant {
        start + self.timeout
    }
}

/// Cut `text` to at most `max` bytes on a character boundary. Returns whether
/// anything was cut.
pub(crate) fn truncate_text(text: &mut String, max: usize) -> bool {
    if text.len() <= max {
        return false;
    }
    let mut cut = max;
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    text.truncate(cut);
    true
}
