//! PowerPoint 97–2003 (`.ppt`): the records of the `PowerPoint Document`
//! stream (MS-PPT), walked for their text atoms.
//!
//! Placeholder text (titles, bullet bodies) sits in the document's
//! `SlideListWithText` list, one group per slide; text of free shapes sits
//! in each slide's drawing. `catppt` reads the first only, so it returns
//! nothing for decks whose text is all in shapes (LibreOffice writes
//! them so); both are read here. Master slides (template prompts such as
//! "Click to edit the title") are skipped. Records are walked in stream
//! order, not through the persist directory: text of superseded slides of
//! an incrementally saved file may appear too.

use std::io::Read;
use std::path::Path;

use crate::{ExtractError, Extraction, ExtractionLimits};

const DOCUMENT_STREAM: &str = "/PowerPoint Document";
const SLIDE: u16 = 0x03EE;
const MAIN_MASTER: u16 = 0x03F8;
const NOTES: u16 = 0x03F0;
const SLIDE_LIST_WITH_TEXT: u16 = 0x0FF0;
const SLIDE_PERSIST: u16 = 0x03F3;
const TEXT_CHARS: u16 = 0x0FA0;
const TEXT_BYTES: u16 = 0x0FA8;

/// Containers nested deeper than this are not followed (a crafted file
/// could nest without end).
const MAX_DEPTH: usize = 32;

pub(crate) fn extract(path: &Path, limits: &ExtractionLimits) -> Result<Extraction, ExtractError> {
    let mut file =
        cfb::open(path).map_err(|e| ExtractError::Corrupt(format!("PowerPoint file: {e}")))?;
    let stream = file
        .open_stream(DOCUMENT_STREAM)
        .map_err(|_| ExtractError::Corrupt("no PowerPoint Document stream".to_owned()))?;
    let mut bytes = Vec::new();
    stream
        .take(limits.max_decompressed_bytes + 1)
        .read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limits.max_decompressed_bytes {
        return Err(ExtractError::LimitExceeded(
            "the PowerPoint stream is larger than the allowed size".to_owned(),
        ));
    }
    let mut deck = Deck::default();
    deck.walk(&bytes, 0, Context::Other);
    let pages = deck.pages(limits.max_pages as usize);
    if pages.iter().all(|p| p.trim().is_empty()) && deck.records == 0 {
        return Err(ExtractError::Corrupt("no PowerPoint records".to_owned()));
    }
    Ok(Extraction {
        page_count: Some(pages.len() as u32),
        pages,
        ..Extraction::default()
    })
}

/// Where a text atom was found.
#[derive(Clone, Copy, PartialEq)]
enum Context {
    /// The slide list's group for slide n.
    Outline,
    /// The drawing of the current slide.
    Slide,
    /// Masters and notes: not read.
    Skipped,
    Other,
}

#[derive(Default)]
struct Deck {
    /// Placeholder text per slide, from the slide list.
    outline: Vec<String>,
    /// Shape text per slide, in stream order.
    slides: Vec<String>,
    records: usize,
}

impl Deck {
    fn walk(&mut self, mut data: &[u8], depth: usize, context: Context) {
        while data.len() >= 8 {
            let version_instance = u16::from_le_bytes([data[0], data[1]]);
            let kind = u16::from_le_bytes([data[2], data[3]]);
            let length = u32::from_le_bytes([data[4], data[5], data[6], data[7]]) as usize;
            let body = &data[8..];
            let Some(content) = body.get(..length) else {
                // A truncated record ends the walk of this level.
                return;
            };
            self.records += 1;
            let is_container = version_instance & 0x000F == 0x000F;
            if is_container && depth < MAX_DEPTH {
                let inner = match kind {
                    MAIN_MASTER | NOTES => Context::Skipped,
                    SLIDE_LIST_WITH_TEXT if version_instance >> 4 == 0 => Context::Outline,
                    SLIDE_LIST_WITH_TEXT => Context::Skipped,
                    SLIDE if context != Context::Skipped => {
                        self.slides.push(String::new());
                        Context::Slide
                    }
                    _ => context,
                };
                self.walk(content, depth + 1, inner);
            } else {
                self.atom(kind, content, context);
            }
            data = &body[length..];
        }
    }

    fn atom(&mut self, kind: u16, content: &[u8], context: Context) {
        let target = match context {
            Context::Outline if kind == SLIDE_PERSIST => {
                self.outline.push(String::new());
                return;
            }
            Context::Outline => self.outline.last_mut(),
            Context::Slide => self.slides.last_mut(),
            Context::Skipped | Context::Other => None,
        };
        let Some(target) = target else { return };
        let text = match kind {
            TEXT_CHARS => {
                let units: Vec<u16> = content
                    .chunks_exact(2)
                    .map(|pair| u16::from_le_bytes([pair[0], pair[1]]))
                    .collect();
                String::from_utf16_lossy(&units)
            }
            // 8-bit text stores the low byte of each UTF-16 unit: Latin-1.
            TEXT_BYTES => content.iter().map(|&b| char::from(b)).collect(),
            _ => return,
        };
        // Paragraphs and vertical tabs inside a text body are CR / VT.
        let text = text.replace(['\r', '\u{0b}'], "\n");
        target.push_str(text.trim_end());
        target.push('\n');
    }

    /// One page per slide: its placeholder text, then shape text not
    /// already there.
    fn pages(&self, max_pages: usize) -> Vec<String> {
        let count = self
            .outline
            .len()
            .max(self.slides.len())
            .min(max_pages.max(1));
        (0..count)
            .map(|i| {
                let outline = self.outline.get(i).map(String::as_str).unwrap_or("");
                let mut page = outline.to_owned();
                let shapes = self.slides.get(i).map(String::as_str).unwrap_or("");
                for line in shapes.lines().filter(|l| !outline.contains(l)) {
                    page.push_str(line);
                    page.push('\n');
                }
                page
            })
            .collect()
    }
}
