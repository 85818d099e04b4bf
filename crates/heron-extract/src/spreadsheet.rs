//! Spreadsheets (XLSX, XLSM, XLSB, XLS, ODS) through calamine: each sheet
//! becomes a page of rows with cells separated by ` | `, the same shape as
//! delimited text, so the classifier sees headers and value shapes alike.

use std::path::Path;

use calamine::{Data, Reader, open_workbook_auto};
use heron_core::{Notice, NoticeCode};

use crate::{ExtractError, Extraction, ExtractionLimits, SheetFormat};

pub(crate) fn extract(
    path: &Path,
    format: SheetFormat,
    limits: &ExtractionLimits,
) -> Result<Extraction, ExtractError> {
    if format != SheetFormat::Xls {
        check_declared_size(path, limits)?;
    }
    // calamine indexes its input without checking every bound (fuzzing
    // found a crafted XLS that panics in its CFB reader). The workbook
    // is dropped with the panic, so nothing half-built survives.
    std::panic::catch_unwind(|| read_workbook(path, limits)).unwrap_or_else(|panic| {
        Err(ExtractError::Corrupt(format!(
            "spreadsheet parser failed: {}",
            panic_message(&panic)
        )))
    })
}

fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> &str {
    panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("panic")
}

/// Refuse a ZIP-based workbook whose members declare more bytes than the
/// decompression budget, before calamine inflates any of them.
fn check_declared_size(path: &Path, limits: &ExtractionLimits) -> Result<(), ExtractError> {
    let mut archive = crate::docx::open_archive(path)?;
    // Sizes from the central directory: present even for members written
    // with data descriptors (LibreOffice does), and read without inflating.
    let mut declared = 0u64;
    for index in 0..archive.len() {
        let member = archive
            .by_index_raw(index)
            .map_err(|e| ExtractError::Corrupt(format!("bad ZIP container: {e}")))?;
        declared = declared.saturating_add(member.size());
    }
    if declared > limits.max_decompressed_bytes {
        return Err(ExtractError::LimitExceeded(format!(
            "the workbook decompresses to {declared} bytes, the limit is {}",
            limits.max_decompressed_bytes
        )));
    }
    Ok(())
}

fn read_workbook(path: &Path, limits: &ExtractionLimits) -> Result<Extraction, ExtractError> {
    let max_cells = limits.max_cells;
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
            if cells > max_cells || text_bytes + page.len() > limits.max_text_bytes {
                extraction.warnings.push(Notice::new(
                    NoticeCode::LimitExceeded,
                    format!("spreadsheet cut after {} cells", cells.min(max_cells)),
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
        if cells > max_cells || text_bytes > limits.max_text_bytes {
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
