//! One page as the readers see it: its text split into lines (byte
//! ranges), and, when the source had geometry, its words grouped into
//! visual rows.

use heron_core::layout::{PageLayout, Word};
use heron_core::understanding::Source;

/// A line of a page's text: `text[start..end]`, without the newline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Line {
    pub start: usize,
    pub end: usize,
}

/// Words that sit on one visual line, left to right.
#[derive(Debug, Clone)]
pub struct Row<'a> {
    pub words: Vec<&'a Word>,
    pub top: f32,
    pub bottom: f32,
}

/// A page of a document.
#[derive(Debug, Clone)]
pub struct Page<'a> {
    /// 1-based.
    pub number: u32,
    pub text: &'a str,
    pub lines: Vec<Line>,
    pub words: &'a [Word],
    /// `words` grouped into visual rows, top to bottom.
    pub rows: Vec<Row<'a>>,
}

impl<'a> Page<'a> {
    /// Pages of a document, with the layout of those that have one.
    pub fn all(pages: &'a [String], layout: &'a [PageLayout]) -> Vec<Page<'a>> {
        pages
            .iter()
            .enumerate()
            .map(|(index, text)| {
                let number = index as u32 + 1;
                let words = layout
                    .iter()
                    .find(|l| l.page == number)
                    .map_or(&[][..], |l| l.words.as_slice());
                Page::new(number, text, words)
            })
            .collect()
    }

    pub fn new(number: u32, text: &'a str, words: &'a [Word]) -> Page<'a> {
        let mut lines = Vec::new();
        let mut start = 0;
        for piece in text.split_inclusive('\n') {
            let end = start + piece.trim_end_matches(['\n', '\r']).len();
            lines.push(Line { start, end });
            start += piece.len();
        }
        Page {
            number,
            text,
            lines,
            words,
            rows: rows_of(words),
        }
    }

    pub fn line(&self, index: usize) -> &'a str {
        let line = self.lines[index];
        &self.text[line.start..line.end]
    }

    /// The span `start..end` (bytes) as a located source: character
    /// offsets, and the box of the words that spell it when known.
    pub fn source(&self, start: usize, end: usize) -> Source {
        Source {
            page: self.number,
            start: char_offset(self.text, start),
            end: char_offset(self.text, end),
            bbox: self.locate(start, end),
        }
    }

    /// The box around the words that spell `text[start..end]`, choosing
    /// the same occurrence as the span's among equal ones.
    pub fn locate(&self, start: usize, end: usize) -> Option<[f32; 4]> {
        let needle: String = self.text.get(start..end)?.split_whitespace().collect();
        if needle.is_empty() || self.words.is_empty() {
            return None;
        }
        let wanted = self.text[..start].matches(&self.text[start..end]).count();
        let mut seen = 0;
        for first in 0..self.words.len() {
            let mut joined = String::new();
            for (last, word) in self.words.iter().enumerate().skip(first) {
                joined.push_str(&word.text);
                if joined.len() >= needle.len() || !needle.starts_with(&joined) {
                    // The last word may run on past the span ("Number:"
                    // for the label "Number").
                    if joined.starts_with(&needle) {
                        if seen == wanted {
                            return Some(union(&self.words[first..=last]));
                        }
                        seen += 1;
                    }
                    break;
                }
            }
        }
        None
    }
}

/// The box around `words`.
pub fn union<'w>(words: impl IntoIterator<Item = &'w Word>) -> [f32; 4] {
    let mut bbox = [f32::MAX, f32::MAX, f32::MIN, f32::MIN];
    for word in words {
        bbox[0] = bbox[0].min(word.bbox[0]);
        bbox[1] = bbox[1].min(word.bbox[1]);
        bbox[2] = bbox[2].max(word.bbox[2]);
        bbox[3] = bbox[3].max(word.bbox[3]);
    }
    bbox
}

/// Character offset of byte `byte` of `text`.
pub fn char_offset(text: &str, byte: usize) -> u32 {
    let byte = byte.min(text.len());
    let byte = (0..=byte)
        .rev()
        .find(|&b| text.is_char_boundary(b))
        .unwrap_or(0);
    text[..byte].chars().count() as u32
}

/// Group words into rows: a word joins the row its vertical centre falls
/// in; rows are ordered top to bottom and their words left to right.
fn rows_of(words: &[Word]) -> Vec<Row<'_>> {
    let mut sorted: Vec<&Word> = words.iter().filter(|w| !w.text.trim().is_empty()).collect();
    sorted.sort_by(|a, b| centre(a).total_cmp(&centre(b)));
    let mut rows: Vec<Row<'_>> = Vec::new();
    for word in sorted {
        let y = centre(word);
        match rows.last_mut() {
            Some(row) if y <= row.bottom && y >= row.top => {
                row.words.push(word);
                row.top = row.top.min(word.bbox[1]);
                row.bottom = row.bottom.max(word.bbox[3]);
            }
            _ => rows.push(Row {
                words: vec![word],
                top: word.bbox[1],
                bottom: word.bbox[3],
            }),
        }
    }
    for row in &mut rows {
        row.words.sort_by(|a, b| a.bbox[0].total_cmp(&b.bbox[0]));
    }
    rows
}

fn centre(word: &Word) -> f32 {
    (word.bbox[1] + word.bbox[3]) / 2.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn word(text: &str, x0: f32, y0: f32) -> Word {
        Word {
            text: text.to_owned(),
            bbox: [x0, y0, x0 + 0.05, y0 + 0.02],
        }
    }

    #[test]
    fn spans_are_located_on_the_right_occurrence() {
        let words = vec![
            word("Total", 0.1, 0.1),
            word("5.00", 0.3, 0.1),
            word("Total", 0.1, 0.5),
            word("5.00", 0.3, 0.5),
        ];
        let text = "Total 5.00\nTotal 5.00";
        let page = Page::new(1, text, &words);
        let second = text.rfind("5.00").unwrap();
        let bbox = page.locate(second, second + 4).unwrap();
        assert_eq!(bbox[1], 0.5);
        assert_eq!(page.source(second, second + 4).start, 17);
        assert_eq!(page.rows.len(), 2);
        assert_eq!(page.rows[1].words[0].text, "Total");
    }

    #[test]
    fn offsets_count_characters() {
        assert_eq!(char_offset("né le 1", 4), 3);
    }
}
