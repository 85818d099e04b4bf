//! PowerPoint (PPTX) and OpenDocument text and presentations (ODT, ODP):
//! ZIP containers read with a decompression budget, XML parsed as a stream.

use std::path::Path;

use quick_xml::Reader;
use quick_xml::events::Event;

use crate::docx::{member_names, open_archive, parts_under, read_member};
use crate::{ExtractError, Extraction, ExtractionLimits};

/// PPTX: one page per slide, in slide order: text of `a:t` runs (titles,
/// bodies, tables, shapes), then the slide's speaker notes. A last page
/// holds comments, SmartArt and chart text; documents embedded in the
/// file follow.
pub(crate) fn extract_pptx(
    path: &Path,
    limits: &ExtractionLimits,
) -> Result<Extraction, ExtractError> {
    let mut archive = open_archive(path)?;
    let mut budget = limits.max_decompressed_bytes;
    let names = member_names(&archive);
    let mut slides: Vec<(u32, &str)> = names
        .iter()
        .filter_map(|name| {
            let number = name
                .strip_prefix("ppt/slides/slide")?
                .strip_suffix(".xml")?
                .parse()
                .ok()?;
            Some((number, name.as_str()))
        })
        .collect();
    slides.sort();
    let mut extraction = Extraction::default();
    for (_, name) in slides.iter().take(limits.max_pages as usize) {
        let Some(xml) = read_member(&mut archive, name, &mut budget)? else {
            continue;
        };
        let mut page = runs_text(&xml, "t", &["p"], &[])?;
        if let Some(notes) = notes_of(&mut archive, name, &mut budget)? {
            page.push('\n');
            page.push_str(&notes);
        }
        extraction.pages.push(page);
    }
    extraction.page_count = Some(slides.len() as u32);
    let mut other = String::new();
    for prefix in ["ppt/comments/", "ppt/diagrams/data", "ppt/charts/chart"] {
        for part in parts_under(&names, prefix) {
            let Some(xml) = read_member(&mut archive, part, &mut budget)? else {
                continue;
            };
            // Legacy comments keep their words in `p:text`, the rest in `a:t`.
            let element = if prefix == "ppt/comments/" && !xml.windows(4).any(|w| w == b"<a:t") {
                "text"
            } else {
                "t"
            };
            let text = runs_text(&xml, element, &["p", "cm", "text"], &[])?;
            if !text.trim().is_empty() {
                other.push_str(text.trim_end());
                other.push('\n');
            }
        }
    }
    if !other.is_empty() {
        extraction.pages.push(other);
    }
    crate::embedded::append(
        &mut archive,
        &names,
        "ppt/",
        &mut budget,
        limits,
        &mut extraction,
    );
    Ok(extraction)
}

/// The speaker notes of the slide part `slide`, found through the
/// slide's relationships.
fn notes_of(
    archive: &mut zip::ZipArchive<std::fs::File>,
    slide: &str,
    budget: &mut u64,
) -> Result<Option<String>, ExtractError> {
    let Some((folder, file)) = slide.rsplit_once('/') else {
        return Ok(None);
    };
    let Some(rels) = read_member(archive, &format!("{folder}/_rels/{file}.rels"), budget)? else {
        return Ok(None);
    };
    let rels = String::from_utf8_lossy(&rels);
    let Some(target) = rels
        .split("<Relationship ")
        .find(|r| r.contains("/relationships/notesSlide\""))
        .and_then(|r| r.split("Target=\"").nth(1))
        .and_then(|t| t.split('"').next())
    else {
        return Ok(None);
    };
    // Targets are relative to the slide's folder ("../notesSlides/…").
    let mut path: Vec<&str> = folder.split('/').collect();
    for step in target.split('/') {
        match step {
            ".." => {
                path.pop();
            }
            "." | "" => {}
            step => path.push(step),
        }
    }
    let Some(xml) = read_member(archive, &path.join("/"), budget)? else {
        return Ok(None);
    };
    let notes = runs_text(&xml, "t", &["p"], &[])?;
    Ok((!notes.trim().is_empty()).then_some(notes))
}

/// ODT and ODP: `content.xml` (notes and annotations included); ODP pages
/// are `draw:page` elements; the page headers and footers of `styles.xml`
/// follow the first page.
pub(crate) fn extract_opendocument(
    path: &Path,
    limits: &ExtractionLimits,
) -> Result<Extraction, ExtractError> {
    let mut archive = open_archive(path)?;
    let mut budget = limits.max_decompressed_bytes;
    let xml = read_member(&mut archive, "content.xml", &mut budget)?
        .ok_or_else(|| ExtractError::Corrupt("missing content.xml".to_owned()))?;
    let text = runs_text(&xml, "", &["p", "h"], &["page"])?;
    let mut extraction = Extraction {
        pages: text
            .split('\u{c}')
            .map(str::to_owned)
            .filter(|p| !p.trim().is_empty())
            .collect(),
        ..Extraction::default()
    };
    if extraction.pages.is_empty() {
        extraction.pages.push(String::new());
    }
    extraction.page_count = Some(extraction.pages.len() as u32);
    // Page headers and footers live with the page styles.
    if let Some(styles) = read_member(&mut archive, "styles.xml", &mut budget)? {
        let headers = runs_text(&styles, "", &["p", "h"], &[])?;
        if !headers.trim().is_empty()
            && let Some(first) = extraction.pages.first_mut()
        {
            first.push('\n');
            first.push_str(headers.trim());
            first.push('\n');
        }
    }
    if let Some(meta) = read_member(&mut archive, "meta.xml", &mut budget)? {
        extraction.metadata = crate::docx::core_properties(&meta);
    }
    Ok(extraction)
}

/// Text of an XML part: inside elements named `text_element` (or every text
/// node when it is empty), a line break after each `paragraphs` element and
/// a form feed after each `pages` element. Tabs, line breaks and ODF's
/// `text:s` (spaces) are honoured.
pub(crate) fn runs_text(
    xml: &[u8],
    text_element: &str,
    paragraphs: &[&str],
    pages: &[&str],
) -> Result<String, ExtractError> {
    let mut reader = Reader::from_reader(xml);
    let mut buffer = Vec::new();
    let mut text = String::new();
    let mut inside = text_element.is_empty();
    loop {
        let event = reader
            .read_event_into(&mut buffer)
            .map_err(|e| ExtractError::Corrupt(format!("malformed XML: {e}")))?;
        match event {
            Event::Start(e)
                if !text_element.is_empty() && e.local_name().into_inner() == text_element =>
            {
                inside = true
            }
            Event::End(e) => {
                let name = e.local_name();
                let name = name.into_inner();
                if !text_element.is_empty() && name == text_element {
                    inside = false;
                } else if paragraphs.contains(&name) {
                    text.push('\n');
                } else if pages.contains(&name) {
                    text.push('\u{c}');
                }
            }
            Event::Empty(e) => match e.local_name().into_inner() {
                "tab" => text.push('\t'),
                "br" | "line-break" => text.push('\n'),
                "s" => text.push(' '),
                _ => {}
            },
            Event::Text(e) if inside => text.push_str(&e.xml10_content()),
            Event::GeneralRef(e) if inside => {
                if let Ok(Some(c)) = e.resolve_char_ref() {
                    text.push(c);
                } else {
                    text.push_str(&crate::html::decode_entities(&format!("&{};", &*e)));
                }
            }
            Event::Eof => break,
            _ => {}
        }
        buffer.clear();
    }
    Ok(text)
}
