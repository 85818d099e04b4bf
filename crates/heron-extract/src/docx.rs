//! DOCX: the ZIP container read with size limits, WordprocessingML parsed
//! as a stream with quick-xml (no DOM, so memory follows the text, not the
//! XML).

use std::io::Read;
use std::path::Path;

use quick_xml::Reader;
use quick_xml::events::Event;

use crate::limits::truncate_text;
use crate::{ExtractError, Extraction, ExtractionLimits};
use heron_core::{Notice, NoticeCode};

pub(crate) fn extract(path: &Path, limits: &ExtractionLimits) -> Result<Extraction, ExtractError> {
    let file = std::fs::File::open(path)?;
    let mut archive = zip::ZipArchive::new(file)
        .map_err(|e| ExtractError::Corrupt(format!("bad ZIP container: {e}")))?;
    let mut budget = limits.max_decompressed_bytes;
    let mut extraction = Extraction::default();

    let mut parts: Vec<String> = archive
        .file_names()
        .filter_map(Result::ok)
        .filter(|n| n.starts_with("word/header") || n.starts_with("word/footer"))
        .map(|n| n.into_owned())
        .collect();
    parts.sort();
    parts.insert(0, "word/document.xml".to_owned());

    let mut text = String::new();
    for part in &parts {
        let xml = read_member(&mut archive, part, &mut budget)?
            .ok_or_else(|| ExtractError::Corrupt(format!("missing {part}")))?;
        let part_text = wordprocessing_text(&xml)?;
        if !text.is_empty() && !part_text.trim().is_empty() {
            text.push_str("\n\n");
        }
        text.push_str(&part_text);
    }
    if truncate_text(&mut text, limits.max_text_bytes) {
        extraction.warnings.push(Notice::new(
            NoticeCode::LimitExceeded,
            format!("text cut at {} bytes", limits.max_text_bytes),
        ));
    }
    if let Some(core) = read_member(&mut archive, "docProps/core.xml", &mut budget)? {
        extraction.metadata = core_properties(&core);
    }
    extraction.pages = vec![text];
    Ok(extraction)
}

/// Open a ZIP container, mapping failures to `Corrupt`.
pub(crate) fn open_archive(path: &Path) -> Result<zip::ZipArchive<std::fs::File>, ExtractError> {
    let file = std::fs::File::open(path)?;
    zip::ZipArchive::new(file).map_err(|e| ExtractError::Corrupt(format!("bad ZIP container: {e}")))
}

/// Read one member, counting its real decompressed size against `budget`
/// (declared sizes in a ZIP can lie, so the read itself is capped).
pub(crate) fn read_member(
    archive: &mut zip::ZipArchive<std::fs::File>,
    name: &str,
    budget: &mut u64,
) -> Result<Option<Vec<u8>>, ExtractError> {
    let member = match archive.by_name(name) {
        Ok(member) => member,
        Err(zip::result::ZipError::FileNotFound) => return Ok(None),
        Err(e) => return Err(ExtractError::Corrupt(format!("{name}: {e}"))),
    };
    let mut data = Vec::new();
    member
        .take(*budget + 1)
        .read_to_end(&mut data)
        .map_err(|e| ExtractError::Corrupt(format!("{name}: {e}")))?;
    if data.len() as u64 > *budget {
        return Err(ExtractError::LimitExceeded(
            "the container decompresses to more than the allowed size".to_owned(),
        ));
    }
    *budget -= data.len() as u64;
    Ok(Some(data))
}

/// Visible text of a WordprocessingML part: `w:t` runs, tabs, breaks,
/// paragraphs and table cells.
fn wordprocessing_text(xml: &[u8]) -> Result<String, ExtractError> {
    let mut reader = Reader::from_reader(xml);
    let mut buffer = Vec::new();
    let mut text = String::new();
    let mut in_text_run = false;
    loop {
        let event = reader
            .read_event_into(&mut buffer)
            .map_err(|e| ExtractError::Corrupt(format!("malformed XML: {e}")))?;
        match event {
            Event::Start(e) if e.local_name().into_inner() == "t" => in_text_run = true,
            Event::End(e) => match e.local_name().into_inner() {
                "t" => in_text_run = false,
                "p" => text.push('\n'),
                "tc" => text.push('\t'),
                _ => {}
            },
            Event::Empty(e) => match e.local_name().into_inner() {
                "tab" => text.push('\t'),
                "br" | "cr" => text.push('\n'),
                _ => {}
            },
            Event::Text(e) if in_text_run => {
                text.push_str(&e.xml10_content());
            }
            Event::GeneralRef(e) if in_text_run => {
                if let Some(resolved) = resolve_reference(&e) {
                    text.push(resolved);
                }
            }
            Event::Eof => break,
            _ => {}
        }
        buffer.clear();
    }
    Ok(text)
}

fn resolve_reference(reference: &quick_xml::events::BytesRef<'_>) -> Option<char> {
    if let Ok(Some(c)) = reference.resolve_char_ref() {
        return Some(c);
    }
    match reference.as_ref() {
        "amp" => Some('&'),
        "lt" => Some('<'),
        "gt" => Some('>'),
        "quot" => Some('"'),
        "apos" => Some('\''),
        _ => None,
    }
}

/// Title, creator and dates from `docProps/core.xml`.
pub(crate) fn core_properties(xml: &[u8]) -> std::collections::BTreeMap<String, String> {
    let mut properties = std::collections::BTreeMap::new();
    let mut reader = Reader::from_reader(xml);
    let mut buffer = Vec::new();
    let mut current: Option<String> = None;
    while let Ok(event) = reader.read_event_into(&mut buffer) {
        match event {
            Event::Start(e) => {
                let name = e.local_name().into_inner().to_owned();
                current = Some(match name.as_str() {
                    "creator" => "author".to_owned(),
                    "created" => "creationdate".to_owned(),
                    "modified" => "moddate".to_owned(),
                    _ => name,
                });
            }
            Event::Text(e) => {
                if let Some(key) = &current {
                    let content = e.xml10_content();
                    let value = content.trim();
                    if !value.is_empty() {
                        properties.insert(key.clone(), value.to_owned());
                    }
                }
            }
            Event::End(_) => current = None,
            Event::Eof => break,
            _ => {}
        }
        buffer.clear();
    }
    properties
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paragraphs_tabs_and_entities() {
        let xml = br#"<w:document xmlns:w="x"><w:body><w:p><w:r><w:t>Profit &amp; Loss</w:t></w:r><w:r><w:tab/><w:t>2025</w:t></w:r></w:p><w:p><w:r><w:instrText>PAGE</w:instrText><w:t>Next</w:t></w:r></w:p></w:body></w:document>"#;
        assert_eq!(
            wordprocessing_text(xml).unwrap(),
            "Profit & Loss\t2025\nNext\n"
        );
    }

    #[test]
    fn malformed_xml_is_an_error() {
        assert!(wordprocessing_text(b"<w:p><w:t>x</w:p></w:t>").is_err());
    }
}
