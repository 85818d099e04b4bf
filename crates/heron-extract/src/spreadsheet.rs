//! Spreadsheets (XLSX, XLSM, XLSB, XLS, ODS) through calamine: each sheet
//! becomes a page of rows with cells separated by ` | `, the same shape as
//! delimited text, so the classifier sees headers and value shapes alike.
//! Dates read as dates, numbers as written. An XLSX also gives what
//! calamine leaves out: page headers and footers, cell comments, text of
//! shapes and charts, and the documents embedded in it.

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
    let mut extraction =
        std::panic::catch_unwind(|| read_workbook(path, limits)).unwrap_or_else(|panic| {
            Err(ExtractError::Corrupt(format!(
                "spreadsheet parser failed: {}",
                panic_message(&panic)
            )))
        })?;
    if format == SheetFormat::Xlsx {
        add_workbook_parts(path, limits, &mut extraction)?;
    }
    Ok(extraction)
}

/// Parts of an XLSX besides the cells, by name prefix, in reading order:
/// their text elements (`t` of comments and shapes) and the page headers
/// and footers of the sheets.
const OTHER_PARTS: [&str; 4] = [
    "xl/worksheets/sheet",
    "xl/comments",
    "xl/drawings/drawing",
    "xl/charts/chart",
];

/// Append one page with the text of the XLSX's other parts, then the
/// documents embedded in it.
fn add_workbook_parts(
    path: &Path,
    limits: &ExtractionLimits,
    extraction: &mut Extraction,
) -> Result<(), ExtractError> {
    let mut archive = crate::docx::open_archive(path)?;
    let mut budget = limits.max_decompressed_bytes;
    let names = crate::docx::member_names(&archive);
    let mut text = String::new();
    for prefix in OTHER_PARTS {
        for part in crate::docx::parts_under(&names, prefix) {
            let Some(xml) = crate::docx::read_member(&mut archive, part, &mut budget)? else {
                continue;
            };
            let found = if prefix == "xl/worksheets/sheet" {
                header_footer_text(&xml)
            } else {
                crate::office::runs_text(&xml, "t", &["p", "si", "comment"], &[])?
            };
            if !found.trim().is_empty() {
                text.push_str(found.trim_end());
                text.push('\n');
            }
        }
    }
    if !text.is_empty() {
        crate::limits::truncate_text(&mut text, limits.max_text_bytes);
        extraction.pages.push(text);
    }
    crate::embedded::append(&mut archive, &names, "xl/", &mut budget, limits, extraction);
    Ok(())
}

/// The page headers and footers of a worksheet (`oddHeader`, `evenFooter`…),
/// their formatting codes (`&L`, `&"Arial,Bold"`, `&P`…) left out.
fn header_footer_text(xml: &[u8]) -> String {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_reader(xml);
    let mut buffer = Vec::new();
    // The element's content with its entities resolved: the codes start
    // with `&`, written `&amp;`.
    let mut raw: Option<String> = None;
    let mut text = String::new();
    while let Ok(event) = reader.read_event_into(&mut buffer) {
        match event {
            Event::Start(e) => {
                let name = e.local_name();
                raw = matches!(
                    name.into_inner(),
                    "oddHeader"
                        | "oddFooter"
                        | "evenHeader"
                        | "evenFooter"
                        | "firstHeader"
                        | "firstFooter"
                )
                .then(String::new);
            }
            Event::End(_) => {
                if let Some(content) = raw.take() {
                    text.push_str(&without_codes(&content));
                    text.push('\n');
                }
            }
            Event::Text(e) => {
                if let Some(content) = &mut raw {
                    content.push_str(&e.xml10_content());
                }
            }
            Event::GeneralRef(e) => {
                if let Some(content) = &mut raw {
                    content.push_str(&crate::html::decode_entities(&format!("&{};", &*e)));
                }
            }
            Event::Eof => break,
            _ => {}
        }
        buffer.clear();
    }
    text
}

/// Header and footer text without its `&` codes: `&L`/`&C`/`&R` start a
/// section (a space between), `&"font"` and `&NN` (size) are dropped,
/// `&&` is an ampersand, other codes (page number, date) are left out.
fn without_codes(code: &str) -> String {
    let mut text = String::new();
    let mut chars = code.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '&' {
            text.push(c);
            continue;
        }
        match chars.next() {
            Some('&') => text.push('&'),
            Some('L' | 'C' | 'R') if !text.is_empty() => text.push(' '),
            Some('"') => {
                for c in chars.by_ref() {
                    if c == '"' {
                        break;
                    }
                }
            }
            Some(d) if d.is_ascii_digit() => {
                while chars.peek().is_some_and(char::is_ascii_digit) {
                    chars.next();
                }
            }
            _ => {}
        }
    }
    text.trim().to_owned()
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
        // Cent amounts as money is shown (-82.40); other numbers in the
        // shortest form that reads back the same (3.14159), as the cell
        // holds them (calamine gives no number formats).
        Data::Float(f) if ((f * 100.0).round() - f * 100.0).abs() < 1e-6 => format!("{f:.2}"),
        Data::Float(f) => format!("{f}"),
        Data::Int(i) => i.to_string(),
        Data::Bool(b) => b.to_string(),
        Data::DateTime(d) if d.is_datetime() => date_text(d),
        Data::DateTime(d) => d.to_string(),
        Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Error(e) => format!("#{e:?}"),
    }
}

/// An Excel date as ISO 8601: the date, with the time when it has one, or
/// the time alone for a time of day.
fn date_text(date: &calamine::ExcelDateTime) -> String {
    let (year, month, day, hour, minute, second, _) = date.to_ymd_hms_milli();
    let time = (hour, minute, second) != (0, 0, 0);
    if date.as_f64() < 1.0 && time {
        format!("{hour:02}:{minute:02}:{second:02}")
    } else if time {
        format!("{year:04}-{month:02}-{day:02} {hour:02}:{minute:02}:{second:02}")
    } else {
        format!("{year:04}-{month:02}-{day:02}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_and_footer_codes_are_left_out() {
        assert_eq!(
            without_codes("&L&\"Arial,Bold\"&14Quarterly &&report&CPage &P of &N&RDraft"),
            "Quarterly &report Page  of  Draft"
        );
    }

    #[test]
    fn dates_and_times_read_as_such() {
        use calamine::{ExcelDateTime, ExcelDateTimeType};
        let date = ExcelDateTime::new(45366.0, ExcelDateTimeType::DateTime, false);
        assert_eq!(date_text(&date), "2024-03-15");
        let moment = ExcelDateTime::new(45366.5, ExcelDateTimeType::DateTime, false);
        assert_eq!(date_text(&moment), "2024-03-15 12:00:00");
        let time = ExcelDateTime::new(0.75, ExcelDateTimeType::DateTime, false);
        assert_eq!(date_text(&time), "18:00:00");
    }
}
