//! Where words are on a page: what extraction finds (a PDF's text layer,
//! OCR) and the understanding stage reads to find tables and locate
//! values.

/// The words of one page with their boxes.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PageLayout {
    /// 1-based page number.
    pub page: u32,
    /// In reading order as the source gives it.
    pub words: Vec<Word>,
}

/// A word and its box, `[x0, y0, x1, y1]` as fractions of the page's width
/// and height, origin top left.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Word {
    pub text: String,
    pub bbox: [f32; 4],
}
