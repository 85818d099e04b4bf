//! Plain text, Markdown and delimited text in any common encoding.

use std::path::Path;

use encoding_rs::{Encoding, UTF_8, UTF_16BE, UTF_16LE, WINDOWS_1252};
use heron_core::{Notice, NoticeCode};

use crate::limits::truncate_text;
use crate::{ExtractError, Extraction, ExtractionLimits};

/// Rows of a delimited file read for classification; the rest is counted only.
const MAX_ROWS: usize = 100_000;

pub(crate) fn extract_plain(
    path: &Path,
    limits: &ExtractionLimits,
) -> Result<Extraction, ExtractError> {
    let bytes = std::fs::read(path)?;
    let (mut text, encoding) = decode(&bytes);
    let mut extraction = Extraction::default();
    extraction
        .metadata
        .insert("encoding".to_owned(), encoding.name().to_owned());
    if truncate_text(&mut text, limits.max_text_bytes) {
        extraction.warnings.push(Notice::new(
            NoticeCode::LimitExceeded,
            format!("text cut at {} bytes", limits.max_text_bytes),
        ));
    }
    extraction.pages = vec![text];
    Ok(extraction)
}

/// Delimited text becomes one line per row with cells separated by ` | `,
/// so the classifier sees header words and values as words.
pub(crate) fn extract_csv(
    path: &Path,
    delimiter: u8,
    limits: &ExtractionLimits,
) -> Result<Extraction, ExtractError> {
    let bytes = std::fs::read(path)?;
    let (decoded, encoding) = decode(&bytes);
    let mut extraction = Extraction::default();
    extraction
        .metadata
        .insert("encoding".to_owned(), encoding.name().to_owned());
    extraction
        .metadata
        .insert("delimiter".to_owned(), char::from(delimiter).to_string());
    let mut text = String::with_capacity(decoded.len());
    let mut rows = 0usize;
    for line in decoded.lines() {
        if rows == MAX_ROWS || text.len() > limits.max_text_bytes {
            extraction.warnings.push(Notice::new(
                NoticeCode::LimitExceeded,
                format!("only the first {rows} rows were read"),
            ));
            break;
        }
        let cells = split_row(line, char::from(delimiter));
        text.push_str(&cells.join(" | "));
        text.push('\n');
        rows += 1;
    }
    truncate_text(&mut text, limits.max_text_bytes);
    extraction
        .metadata
        .insert("rows".to_owned(), rows.to_string());
    extraction.pages = vec![text];
    Ok(extraction)
}

/// Decode bytes: a BOM decides; otherwise UTF-8 when valid, else Windows-1252
/// (a superset of Latin-1 for printable text, and what Excel writes).
pub(crate) fn decode(bytes: &[u8]) -> (String, &'static Encoding) {
    if let Some((encoding, bom_length)) = Encoding::for_bom(bytes) {
        let (text, _) = encoding.decode_without_bom_handling(&bytes[bom_length..]);
        return (text.into_owned(), encoding);
    }
    if let Ok(text) = std::str::from_utf8(bytes) {
        return (text.to_owned(), UTF_8);
    }
    if looks_like_utf16(bytes) {
        let encoding = if bytes.first() == Some(&0) {
            UTF_16BE
        } else {
            UTF_16LE
        };
        let (text, _) = encoding.decode_without_bom_handling(bytes);
        return (text.into_owned(), encoding);
    }
    let (text, _) = WINDOWS_1252.decode_without_bom_handling(bytes);
    (text.into_owned(), WINDOWS_1252)
}

/// UTF-16 without BOM: every other byte is zero for ASCII-range text.
fn looks_like_utf16(bytes: &[u8]) -> bool {
    let sample = &bytes[..bytes.len().min(512)];
    sample.len() >= 4
        && sample.iter().step_by(2).filter(|&&b| b == 0).count() * 2 > sample.len() / 2
        || sample
            .iter()
            .skip(1)
            .step_by(2)
            .filter(|&&b| b == 0)
            .count()
            * 2
            > sample.len() / 2
}

/// Split one row on `delimiter`, honouring double quotes.
fn split_row(line: &str, delimiter: char) -> Vec<String> {
    let mut cells = Vec::new();
    let mut cell = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                cell.push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            c if c == delimiter && !quoted => {
                cells.push(std::mem::take(&mut cell).trim().to_owned())
            }
            c => cell.push(c),
        }
    }
    cells.push(cell.trim().to_owned());
    cells
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodings_are_detected() {
        assert_eq!(decode("café".as_bytes()).0, "café");
        assert_eq!(decode(b"caf\xe9").0, "café");
        let mut utf16 = vec![0xFF, 0xFE];
        for unit in "Rechnung".encode_utf16() {
            utf16.extend_from_slice(&unit.to_le_bytes());
        }
        assert_eq!(decode(&utf16).0, "Rechnung");
        let mut bom8 = vec![0xEF, 0xBB, 0xBF];
        bom8.extend_from_slice(b"x");
        assert_eq!(decode(&bom8).0, "x");
    }

    #[test]
    fn quoted_cells_keep_their_delimiters() {
        assert_eq!(
            split_row(r#"a,"b, c","say ""hi""""#, ','),
            vec!["a", "b, c", r#"say "hi""#]
        );
    }
}
