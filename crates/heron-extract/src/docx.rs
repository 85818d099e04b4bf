//! DOCX: the ZIP container read with size limits, WordprocessingML parsed
//! as a stream with quick-xml (no DOM, so memory follows the text, not the
//! XML). Every part a reader sees is read: the body (text boxes included),
//! headers and footers, footnotes and endnotes, comments, SmartArt and
//! chart text; numbered paragraphs get their labels ("1.2", "a)") from
//! the numbering definitions; documents embedded in the file are
//! extracted in turn ([`crate::embedded`]).

use std::collections::HashMap;
use std::io::Read;
use std::path::Path;

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

use crate::limits::truncate_text;
use crate::{ExtractError, Extraction, ExtractionLimits};
use heron_core::{Notice, NoticeCode};

/// Parts besides the body whose text a reader sees, by name prefix, in
/// the order they are read.
const OTHER_PARTS: [&str; 7] = [
    "word/header",
    "word/footer",
    "word/footnotes",
    "word/endnotes",
    "word/comments",
    "word/diagrams/data",
    "word/charts/chart",
];

pub(crate) fn extract(path: &Path, limits: &ExtractionLimits) -> Result<Extraction, ExtractError> {
    let mut archive = open_archive(path)?;
    let mut budget = limits.max_decompressed_bytes;
    let mut extraction = Extraction::default();

    let names = member_names(&archive);
    let mut parts = vec!["word/document.xml".to_owned()];
    for prefix in OTHER_PARTS {
        parts.extend(parts_under(&names, prefix).into_iter().map(str::to_owned));
    }
    let mut numbering = match read_member(&mut archive, "word/numbering.xml", &mut budget)? {
        Some(xml) => Numbering::parse(&xml),
        None => Numbering::default(),
    };
    // Styles matter only to number paragraphs: without lists, the often
    // large styles part is not even inflated.
    if !numbering.lists.is_empty()
        && let Some(xml) = read_member(&mut archive, "word/styles.xml", &mut budget)?
    {
        numbering.styles = list_styles(&xml);
    }

    let mut text = String::new();
    for part in &parts {
        let Some(xml) = read_member(&mut archive, part, &mut budget)? else {
            if part == "word/document.xml" {
                return Err(ExtractError::Corrupt(format!("missing {part}")));
            }
            continue;
        };
        let part_text = wordprocessing_text(&xml, &mut numbering.counters())?;
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
    crate::embedded::append(
        &mut archive,
        &names,
        "word/",
        &mut budget,
        limits,
        &mut extraction,
    );
    Ok(extraction)
}

/// Open a ZIP container, mapping failures to `Corrupt`.
pub(crate) fn open_archive(path: &Path) -> Result<zip::ZipArchive<std::fs::File>, ExtractError> {
    let file = std::fs::File::open(path)?;
    zip::ZipArchive::new(file).map_err(|e| ExtractError::Corrupt(format!("bad ZIP container: {e}")))
}

/// The names of a container's members.
pub(crate) fn member_names(archive: &zip::ZipArchive<std::fs::File>) -> Vec<String> {
    archive
        .file_names()
        .filter_map(Result::ok)
        .map(|n| n.into_owned())
        .collect()
}

/// The XML parts among `names` that start with `prefix`, in name order
/// (`word/footnotes.xml`; `ppt/comments/comment1.xml`, `comment2.xml`…).
pub(crate) fn parts_under<'a>(names: &'a [String], prefix: &str) -> Vec<&'a str> {
    let mut parts: Vec<&str> = names
        .iter()
        .map(String::as_str)
        .filter(|n| n.starts_with(prefix) && n.ends_with(".xml"))
        .collect();
    parts.sort_unstable();
    parts
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

/// Visible text of a WordprocessingML part: `w:t` runs (and DrawingML
/// `a:t` in shapes, SmartArt and charts), tabs, breaks, paragraphs and
/// table cells; a numbered paragraph starts with its label.
fn wordprocessing_text(xml: &[u8], numbers: &mut Counters<'_>) -> Result<String, ExtractError> {
    let mut reader = Reader::from_reader(xml);
    let mut buffer = Vec::new();
    let mut text = String::new();
    let mut in_text_run = false;
    // The paragraph's list (numId, level) while its properties are read,
    // and its style (whose definition may name the list).
    let mut list: (Option<String>, u8) = (None, 0);
    let mut style: Option<String> = None;
    loop {
        let event = reader
            .read_event_into(&mut buffer)
            .map_err(|e| ExtractError::Corrupt(format!("malformed XML: {e}")))?;
        match event {
            Event::Start(e) if e.local_name().into_inner() == "t" => in_text_run = true,
            Event::Start(e) if e.local_name().into_inner() == "p" => {
                list = (None, 0);
                style = None;
            }
            Event::Empty(e) | Event::Start(e) if e.local_name().into_inner() == "pStyle" => {
                style = value_of(&e);
            }
            Event::Empty(e) | Event::Start(e) if e.local_name().into_inner() == "numId" => {
                list.0 = value_of(&e);
            }
            Event::Empty(e) | Event::Start(e) if e.local_name().into_inner() == "ilvl" => {
                list.1 = value_of(&e).and_then(|v| v.parse().ok()).unwrap_or(0);
            }
            Event::End(e) => match e.local_name().into_inner() {
                "t" => in_text_run = false,
                "p" => text.push('\n'),
                "tc" => text.push('\t'),
                "pPr" => {
                    let styled = style.take().and_then(|s| numbers.style_list(&s));
                    let list = match list.0.take() {
                        Some(id) => Some((id, list.1)),
                        None => styled,
                    };
                    if let Some((id, level)) = list
                        && let Some(label) = numbers.next_label(&id, level)
                    {
                        text.push_str(&label);
                        text.push(' ');
                    }
                }
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

/// The `w:val` attribute of an element.
fn value_of(element: &BytesStart<'_>) -> Option<String> {
    element
        .attributes()
        .filter_map(Result::ok)
        .find(|a| a.key.local_name().into_inner() == "val")
        .map(|a| a.value.to_string())
}

/// One level of a list definition (`w:lvl`).
#[derive(Debug, Clone, Default)]
struct Level {
    start: u32,
    /// `decimal`, `lowerLetter`, `upperRoman`, `bullet`, `none`...
    format: String,
    /// The label with `%1`..`%9` standing for the levels' numbers.
    pattern: String,
}

/// The list definitions of `word/numbering.xml`: each list (`w:num`)
/// names an abstract definition, whose levels say how labels look.
#[derive(Debug, Default)]
struct Numbering {
    abstracts: HashMap<String, Vec<Level>>,
    /// numId → (abstractNumId, start overrides by level).
    lists: HashMap<String, (String, HashMap<u8, u32>)>,
    /// Paragraph styles that number their paragraphs ("List Number"):
    /// styleId → (numId, level).
    styles: HashMap<String, (String, u8)>,
}

impl Numbering {
    fn parse(xml: &[u8]) -> Numbering {
        let mut numbering = Numbering::default();
        let mut reader = Reader::from_reader(xml);
        let mut buffer = Vec::new();
        let mut abstract_id: Option<String> = None;
        let mut num_id: Option<String> = None;
        let mut level: Option<(u8, Level)> = None;
        let mut override_level: Option<u8> = None;
        let attribute = |e: &BytesStart<'_>, name: &str| {
            e.attributes()
                .filter_map(Result::ok)
                .find(|a| a.key.local_name().into_inner() == name)
                .map(|a| a.value.to_string())
        };
        // A malformed part leaves the labels out, not the text.
        while let Ok(event) = reader.read_event_into(&mut buffer) {
            match event {
                Event::Start(e) | Event::Empty(e) => match e.local_name().into_inner() {
                    "abstractNum" => abstract_id = attribute(&e, "abstractNumId"),
                    "num" => num_id = attribute(&e, "numId"),
                    "lvl" if abstract_id.is_some() => {
                        let index = attribute(&e, "ilvl").and_then(|v| v.parse().ok());
                        level = index.map(|i| {
                            (
                                i,
                                Level {
                                    start: 1,
                                    ..Level::default()
                                },
                            )
                        });
                    }
                    "start" => {
                        if let (Some((_, level)), Some(start)) =
                            (&mut level, value_of(&e).and_then(|v| v.parse().ok()))
                        {
                            level.start = start;
                        }
                    }
                    "numFmt" => {
                        if let (Some((_, level)), Some(format)) = (&mut level, value_of(&e)) {
                            level.format = format;
                        }
                    }
                    "lvlText" => {
                        if let (Some((_, level)), Some(pattern)) = (&mut level, value_of(&e)) {
                            level.pattern = pattern;
                        }
                    }
                    "abstractNumId" => {
                        if let (Some(id), Some(target)) = (&num_id, value_of(&e)) {
                            numbering.lists.insert(id.clone(), (target, HashMap::new()));
                        }
                    }
                    "lvlOverride" => {
                        override_level = attribute(&e, "ilvl").and_then(|v| v.parse().ok());
                    }
                    "startOverride" => {
                        if let (Some(id), Some(index), Some(start)) = (
                            &num_id,
                            override_level,
                            value_of(&e).and_then(|v| v.parse().ok()),
                        ) && let Some((_, overrides)) = numbering.lists.get_mut(id)
                        {
                            overrides.insert(index, start);
                        }
                    }
                    _ => {}
                },
                Event::End(e) => match e.local_name().into_inner() {
                    "lvl" => {
                        if let (Some(id), Some((index, done))) = (&abstract_id, level.take()) {
                            let levels = numbering.abstracts.entry(id.clone()).or_default();
                            let index = usize::from(index.min(8));
                            if levels.len() <= index {
                                levels.resize(index + 1, Level::default());
                            }
                            levels[index] = done;
                        }
                    }
                    "abstractNum" => abstract_id = None,
                    "num" => num_id = None,
                    "lvlOverride" => override_level = None,
                    _ => {}
                },
                Event::Eof => break,
                _ => {}
            }
            buffer.clear();
        }
        numbering
    }

    /// Fresh counters for one part.
    fn counters(&self) -> Counters<'_> {
        Counters {
            numbering: self,
            counts: HashMap::new(),
        }
    }
}

/// Where each list's count stands while a part is read.
struct Counters<'a> {
    numbering: &'a Numbering,
    /// By abstract definition (lists sharing one continue each other, as
    /// Word numbers them), the current number of each level.
    counts: HashMap<String, [Option<u32>; 9]>,
}

impl Counters<'_> {
    /// The list a paragraph style numbers its paragraphs in.
    fn style_list(&self, style: &str) -> Option<(String, u8)> {
        self.numbering.styles.get(style).cloned()
    }

    /// Count a paragraph of list `id` at `level` and give its label; `None`
    /// for bullets, unknown lists and labels without a number.
    fn next_label(&mut self, id: &str, level: u8) -> Option<String> {
        let (abstract_id, overrides) = self.numbering.lists.get(id)?;
        let levels = self.numbering.abstracts.get(abstract_id)?;
        let level = usize::from(level.min(8));
        let definition = levels.get(level)?;
        let counts = self.counts.entry(abstract_id.clone()).or_default();
        let start = |index: usize| {
            overrides
                .get(&(index as u8))
                .copied()
                .or_else(|| levels.get(index).map(|l| l.start))
                .unwrap_or(1)
        };
        counts[level] = Some(counts[level].map_or(start(level), |n| n.saturating_add(1)));
        for deeper in counts.iter_mut().skip(level + 1) {
            *deeper = None;
        }
        if matches!(definition.format.as_str(), "bullet" | "none")
            || !definition.pattern.contains('%')
        {
            return None;
        }
        let mut label = definition.pattern.clone();
        for index in (0..=level).rev() {
            let number = counts[index].unwrap_or_else(|| start(index));
            let format = levels.get(index).map_or("decimal", |l| l.format.as_str());
            label = label.replace(&format!("%{}", index + 1), &format_number(number, format));
        }
        Some(label)
    }
}

/// Paragraph styles of `word/styles.xml` with a list in their paragraph
/// properties: styleId → (numId, level). Only the styles that name a list
/// are parsed (a styles part runs to hundreds of kilobytes, a handful of
/// its styles number paragraphs).
fn list_styles(xml: &[u8]) -> HashMap<String, (String, u8)> {
    let mut styles = HashMap::new();
    let style_start = memchr::memmem::FinderRev::new(b"<w:style ");
    let style_end = memchr::memmem::Finder::new(b"</w:style>");
    let mut parsed_to = 0;
    for at in memchr::memmem::find_iter(xml, b"<w:numId") {
        if at < parsed_to {
            continue;
        }
        let Some(start) = style_start
            .rfind(&xml[parsed_to..at])
            .map(|s| parsed_to + s)
        else {
            continue;
        };
        let Some(end) = style_end
            .find(&xml[at..])
            .map(|e| at + e + b"</w:style>".len())
        else {
            break;
        };
        styles.extend(parse_list_styles(&xml[start..end]));
        parsed_to = end;
    }
    styles
}

/// [`list_styles`] of a run of whole `w:style` elements.
fn parse_list_styles(xml: &[u8]) -> HashMap<String, (String, u8)> {
    let mut styles = HashMap::new();
    let mut reader = Reader::from_reader(xml);
    let mut buffer = Vec::new();
    let mut current: Option<(String, Option<String>, u8)> = None;
    while let Ok(event) = reader.read_event_into(&mut buffer) {
        match event {
            Event::Start(e) if e.local_name().into_inner() == "style" => {
                current = e
                    .attributes()
                    .filter_map(Result::ok)
                    .find(|a| a.key.local_name().into_inner() == "styleId")
                    .map(|a| (a.value.to_string(), None, 0));
            }
            Event::Empty(e) | Event::Start(e) => {
                if let Some((_, list, level)) = &mut current {
                    match e.local_name().into_inner() {
                        "numId" => *list = value_of(&e),
                        "ilvl" => *level = value_of(&e).and_then(|v| v.parse().ok()).unwrap_or(0),
                        _ => {}
                    }
                }
            }
            Event::End(e) if e.local_name().into_inner() == "style" => {
                if let Some((id, Some(list), level)) = current.take() {
                    styles.insert(id, (list, level));
                }
            }
            Event::Eof => break,
            _ => {}
        }
        buffer.clear();
    }
    styles
}

/// Above this, letters and roman numerals give way to digits: the labels
/// stay short whatever a crafted start value says (`zzz…` and `MMM…` grow
/// with the number).
const MAX_LETTERED: u32 = 1000;

/// A list number in one of Word's formats.
fn format_number(number: u32, format: &str) -> String {
    if number > MAX_LETTERED {
        return number.to_string();
    }
    match format {
        "lowerLetter" | "upperLetter" => {
            // a..z, then aa..zz, as Word counts.
            let n = number.max(1) - 1;
            let letter = char::from(b'a' + (n % 26) as u8);
            let text: String = std::iter::repeat_n(letter, (n / 26 + 1) as usize).collect();
            if format == "upperLetter" {
                text.to_uppercase()
            } else {
                text
            }
        }
        "lowerRoman" => roman(number).to_lowercase(),
        "upperRoman" => roman(number),
        "decimalZero" => format!("{number:02}"),
        _ => number.to_string(),
    }
}

fn roman(mut number: u32) -> String {
    const NUMERALS: [(u32, &str); 13] = [
        (1000, "M"),
        (900, "CM"),
        (500, "D"),
        (400, "CD"),
        (100, "C"),
        (90, "XC"),
        (50, "L"),
        (40, "XL"),
        (10, "X"),
        (9, "IX"),
        (5, "V"),
        (4, "IV"),
        (1, "I"),
    ];
    let mut text = String::new();
    for (value, numeral) in NUMERALS {
        while number >= value {
            text.push_str(numeral);
            number -= value;
        }
    }
    text
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
            wordprocessing_text(xml, &mut Numbering::default().counters()).unwrap(),
            "Profit & Loss\t2025\nNext\n"
        );
    }

    #[test]
    fn list_numbers_in_words_formats_stay_short() {
        assert_eq!(format_number(3, "lowerLetter"), "c");
        assert_eq!(format_number(28, "upperLetter"), "BB");
        assert_eq!(format_number(14, "lowerRoman"), "xiv");
        assert_eq!(format_number(7, "decimalZero"), "07");
        assert_eq!(format_number(4_000_000_000, "lowerLetter"), "4000000000");
        assert_eq!(format_number(4_000_000_000, "upperRoman"), "4000000000");
    }

    #[test]
    fn numbered_paragraphs_get_their_labels() {
        let numbering = Numbering::parse(
            br#"<w:numbering xmlns:w="x"><w:abstractNum w:abstractNumId="0">
            <w:lvl w:ilvl="0"><w:start w:val="1"/><w:numFmt w:val="decimal"/><w:lvlText w:val="%1."/></w:lvl>
            <w:lvl w:ilvl="1"><w:start w:val="1"/><w:numFmt w:val="lowerLetter"/><w:lvlText w:val="%1.%2)"/></w:lvl>
            </w:abstractNum><w:num w:numId="5"><w:abstractNumId w:val="0"/></w:num></w:numbering>"#,
        );
        let paragraph = |level: u8, text: &str| {
            format!(
                r#"<w:p><w:pPr><w:numPr><w:ilvl w:val="{level}"/><w:numId w:val="5"/></w:numPr></w:pPr><w:r><w:t>{text}</w:t></w:r></w:p>"#
            )
        };
        let body = format!(
            r#"<w:document xmlns:w="x"><w:body>{}{}{}{}</w:body></w:document>"#,
            paragraph(0, "Scope"),
            paragraph(1, "Goods"),
            paragraph(1, "Services"),
            paragraph(0, "Price")
        );
        let text = wordprocessing_text(body.as_bytes(), &mut numbering.counters()).unwrap();
        assert_eq!(text, "1. Scope\n1.a) Goods\n1.b) Services\n2. Price\n");
    }

    #[test]
    fn malformed_xml_is_an_error() {
        assert!(
            wordprocessing_text(
                b"<w:p><w:t>x</w:p></w:t>",
                &mut Numbering::default().counters()
            )
            .is_err()
        );
    }
}
