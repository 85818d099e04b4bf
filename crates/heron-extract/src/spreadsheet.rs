//! Spreadsheets (XLSX, XLSM, XLSB, XLS, ODS) through calamine: each sheet
//! becomes a page of rows with cells separated by ` | `, the same shape as
//! delimited text, so the classifier sees headers and value shapes alike.

use std::path::Path;

use calamine::{Data, Reader, open_workbook_auto};
use heron_core::{Notice, NoticeCode};

use crate::{ExtractError, Extraction, ExtractionLimits};

/// Cells read per file; the rest is skipped with a warning.
const MAX_CELLS: usize = 2_000_000;

pub(crate) fn extract(path: &Path, limits: &ExtractionLimits) -> Result<Extraction, ExtractError> {
    let mut workbook =
        open_workbook_auto(path).map_err(|e| ExtractError::Corrupt(format!("spreadsheet: {e}")))?;
    let mut extraction = Extraction::default();
    let names = workbook.sheet_names().to_vec();
    let mut cells = 0usize;
    let mut text_bytes = 0usize;
    for (index, name) in names.iter().enumerate() {
        if index as u32 >= limits.max_pages {
            extraction.warnings.push(Notice::new(
                NoticeCode::LimitExceeded,
                format!("only the first {} sheets were read", limits.max_pages),
            ));
            break;
        }
        let range = match workbook.worksheet_range(name) {
            Ok(range) => range,
            Err(e) => {
                extraction.warnings.push(Notice::new(
                    NoticeCode::ExtractionFailed,
                    format!("sheet {name:?} could not be read: {e}"),
                ));
                continue;
            }
        };
        let mut page = format!("{name}\n");
        for row in range.rows() {
            cells += row.len();
            if cells > MAX_CELLS || text_bytes + page.len() > limits.max_text_bytes {
                extraction.warnings.push(Notice::new(
                    NoticeCode::LimitExceeded,
                    format!("spreadsheet cut after {} cells", cells.min(MAX_CELLS)),
                ));
                break;
            }
            let values: Vec<String> = row.iter().map(cell_text).collect();
            if values.iter().all(String::is_empty) {
                continue;
            }
            page.push_str(values.join(" | ").trim_end_matches([' ', '|']));
            page.push('\n');
        }
        text_bytes += page.len();
        extraction.pages.push(page);
        if cells > MAX_CELLS || text_bytes > limits.max_text_bytes {
            break;
        }
    }
    extraction.page_count = Some(names.len() as u32);
    extraction
        .metadata
        .insert("sheets".to_owned(), names.join(", "));
    Ok(extraction)
}

fn cell_text(cell: &Data) -> String {
    match cell {
        Data::Empty => String::new(),
        Data::String(s) => s.trim().to_owned(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::Float(f) => format!("{f:.2}"),
        Data::Int(i) => i.to_string(),
        Data::Bool(b) => b.to_string(),
        Data::DateTime(d) => d.to_string(),
        Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Error(e) => format!("#{e:?}"),
    }
}
