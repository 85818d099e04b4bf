//! PDF text layer, word boxes and properties through Poppler's `pdftotext`.
//!
//! Poppler runs as a child process: it is GPL (kept out of our address
//! space), it is the reference for text-layer extraction quality, and a
//! crash or hang costs one killed child. One call with `-bbox-layout`
//! yields everything: the properties (the same `<head>` as `-htmlmeta`),
//! and each page's flows, lines and words with their boxes. The page text
//! is rebuilt from those lines the way `pdftotext` prints it (lines of a
//! flow one per line, a blank line after each flow, a hyphen that ends a
//! line joins it to the next), so the text costs no second pass over the
//! file.
//!
//! What a person sees that is not page content — the values of a filled
//! form's fields (a W-9 filled by software keeps them only there) and the
//! notes of comment annotations — comes from `qpdf --json`, run only for
//! files that name a form or annotations.

use std::path::Path;
use std::time::Instant;

use heron_core::{Notice, NoticeCode};

use crate::limits::truncate_text;
use crate::tool;
use crate::{ExtractError, Extraction, ExtractionLimits, PageLayout, Word};

/// How much `-bbox-layout` output is read per byte of text allowed: each
/// word comes with about a hundred bytes of markup.
const MARKUP_PER_TEXT_BYTE: usize = 16;

pub(crate) fn extract_text(
    path: &Path,
    limits: &ExtractionLimits,
    deadline: Instant,
) -> Result<Extraction, ExtractError> {
    // One page past the limit, to tell "exactly at the limit" from "cut".
    let last_page = limits.max_pages.saturating_add(1).to_string();
    let output = tool::run(
        "pdftotext",
        [
            "-bbox-layout".as_ref(),
            "-enc".as_ref(),
            "UTF-8".as_ref(),
            "-l".as_ref(),
            last_page.as_ref(),
            path.as_os_str(),
            "-".as_ref(),
        ],
        deadline,
        limits.max_text_bytes.saturating_mul(MARKUP_PER_TEXT_BYTE),
    )
    .map_err(|e| ExtractError::from_tool(e, limits))?;

    if !output.status.success() {
        return Err(classify_failure(output.status.code(), &output.stderr));
    }
    let html = String::from_utf8_lossy(&output.stdout);
    let mut extraction = parse_bbox_layout(&html);
    let mut cut = output.truncated;
    for page in &mut extraction.pages {
        cut |= truncate_text(page, limits.max_text_bytes);
    }
    if cut {
        extraction.warnings.push(Notice::new(
            NoticeCode::LimitExceeded,
            format!("text cut at {} bytes", limits.max_text_bytes),
        ));
    }
    if mentions_forms_or_notes(path) {
        add_fields_and_notes(path, deadline, limits, &mut extraction);
    }
    if extraction.pages.len() > limits.max_pages as usize {
        extraction.pages.truncate(limits.max_pages as usize);
        extraction.layout.truncate(limits.max_pages as usize);
        extraction.page_count = Some(limits.max_pages);
        extraction.warnings.push(Notice::new(
            NoticeCode::LimitExceeded,
            format!("only the first {} pages were read", limits.max_pages),
        ));
    }
    Ok(extraction)
}

/// Whether the file's bytes name an interactive form or annotations. Both
/// can hide in compressed object streams, where this does not see them:
/// the price of not parsing every PDF twice.
fn mentions_forms_or_notes(path: &Path) -> bool {
    use std::io::Read;
    let Ok(file) = std::fs::File::open(path) else {
        return false;
    };
    let forms = memchr::memmem::Finder::new(b"/AcroForm");
    let notes = memchr::memmem::Finder::new(b"/Annots");
    let mut reader = std::io::BufReader::new(file);
    // Chunks overlap by a marker's length, so none is missed at a seam.
    let mut chunk = vec![0u8; 1 << 20];
    let mut kept = 0;
    loop {
        let Ok(read) = reader.read(&mut chunk[kept..]) else {
            return false;
        };
        if read == 0 {
            return false;
        }
        let filled = kept + read;
        let window = &chunk[..filled];
        if forms.find(window).is_some() || notes.find(window).is_some() {
            return true;
        }
        kept = 16.min(filled);
        chunk.copy_within(filled - kept..filled, 0);
    }
}

/// Annotations whose note is not a person's comment: links, form widgets
/// (their values come from the form) and pop-ups (their note is their
/// parent's).
const NOT_NOTES: [&str; 3] = ["/Link", "/Widget", "/Popup"];

/// Append to each page the values of its form fields and the notes of its
/// annotations that its text does not already show. Best effort: a
/// failure leaves the text as it is.
fn add_fields_and_notes(
    path: &Path,
    deadline: Instant,
    limits: &ExtractionLimits,
    extraction: &mut Extraction,
) {
    let output = tool::run(
        "qpdf",
        [
            "--json=2".as_ref(),
            "--json-key=acroform".as_ref(),
            "--json-key=pages".as_ref(),
            "--json-key=qpdf".as_ref(),
            path.as_os_str(),
            "-".as_ref(),
        ],
        deadline,
        limits.max_text_bytes.saturating_mul(4),
    );
    let Ok(output) = output else { return };
    // qpdf exits 3 for warnings on a damaged file it still read.
    if output.truncated || !matches!(output.status.code(), Some(0 | 3)) {
        return;
    }
    let Ok(json) = serde_json::from_slice::<serde_json::Value>(&output.stdout) else {
        return;
    };
    let mut additions: Vec<(usize, String)> = Vec::new();
    for field in json["acroform"]["fields"].as_array().into_iter().flatten() {
        let page = field["pageposfrom1"].as_u64().unwrap_or(1).max(1) as usize - 1;
        if let Some(value) = field["value"].as_str().and_then(qpdf_text) {
            additions.push((page, value));
        }
    }
    let objects = &json["qpdf"][1];
    for (page, entry) in json["pages"].as_array().into_iter().flatten().enumerate() {
        let object = |reference: &serde_json::Value| {
            reference
                .as_str()
                .map(|r| &objects[format!("obj:{r}")]["value"])
        };
        let Some(page_object) = object(&entry["object"]) else {
            continue;
        };
        // `/Annots` is an array, or a reference to one.
        let annots = &page_object["/Annots"];
        let annots = object(annots).unwrap_or(annots);
        for reference in annots.as_array().into_iter().flatten() {
            let Some(annotation) = object(reference) else {
                continue;
            };
            let subtype = annotation["/Subtype"].as_str().unwrap_or("");
            if NOT_NOTES.contains(&subtype) {
                continue;
            }
            if let Some(note) = annotation["/Contents"].as_str().and_then(qpdf_text) {
                additions.push((page, note));
            }
        }
    }
    for (page, addition) in additions {
        let Some(text) = extraction.pages.get_mut(page) else {
            continue;
        };
        let words = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
        if words(text).contains(&words(&addition)) {
            continue;
        }
        text.push_str(addition.trim());
        text.push('\n');
    }
}

/// The text of a string in qpdf's JSON: `u:` text, `b:` bytes in hex
/// (read as Latin-1); `None` for names (`/Off`), other values and blanks.
fn qpdf_text(value: &str) -> Option<String> {
    let text = if let Some(text) = value.strip_prefix("u:") {
        text.to_owned()
    } else if let Some(hex) = value.strip_prefix("b:") {
        let bytes: Vec<u8> = (0..hex.len() / 2)
            .filter_map(|i| u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok())
            .collect();
        bytes.iter().map(|b| char::from(*b)).collect()
    } else {
        return None;
    };
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_owned())
}

/// Properties, page texts and word boxes of `pdftotext -bbox-layout`
/// output. Output cut short at the cap still yields the pages it holds.
fn parse_bbox_layout(html: &str) -> Extraction {
    let mut extraction = parse_properties(html);
    for (index, page) in html.split("<page ").skip(1).enumerate() {
        let (text, words) = read_page(page);
        extraction.pages.push(text);
        extraction.layout.push(PageLayout {
            page: index as u32 + 1,
            words,
        });
    }
    extraction.page_count = Some(extraction.pages.len() as u32);
    extraction
}

/// The text of one `<page …>` element and its words scaled to the page
/// (no words when the page has no usable size).
fn read_page(page: &str) -> (String, Vec<Word>) {
    let size = |name| number(page, name).filter(|v| *v > 0.0);
    let scale = size("width").zip(size("height"));
    let mut text = String::new();
    let mut words = Vec::new();
    for flow in page.split("<flow>").skip(1) {
        let mut lines = flow.split("<line ").skip(1).peekable();
        while let Some(line) = lines.next() {
            let mut line_text = String::new();
            let mut previous_end: Option<f32> = None;
            for word in line.split("<word ").skip(1) {
                // A word cut off by the output cap has no closing tag.
                let Some(raw) = word
                    .find("</word>")
                    .and_then(|end| word[..end].split_once('>'))
                    .map(|(_, raw)| raw)
                else {
                    continue;
                };
                let content = unescape(raw);
                let box_of = [
                    number(word, "xMin"),
                    number(word, "yMin"),
                    number(word, "xMax"),
                    number(word, "yMax"),
                ];
                if let [Some(x0), Some(y0), Some(x1), Some(y1)] = box_of {
                    if !line_text.is_empty() && !touches(previous_end, x0, y1 - y0) {
                        line_text.push(' ');
                    }
                    previous_end = Some(x1);
                    if let Some((width, height)) = scale
                        && words.len() < crate::MAX_LAYOUT_WORDS_PER_PAGE
                    {
                        words.push(Word {
                            text: content.clone(),
                            bbox: [x0 / width, y0 / height, x1 / width, y1 / height],
                        });
                    }
                } else if !line_text.is_empty() {
                    line_text.push(' ');
                }
                line_text.push_str(&content);
            }
            // pdftotext joins a line ending in a hyphen to the next line of
            // its flow, dropping the hyphen.
            if lines.peek().is_some()
                && let Some(joined) = line_text.strip_suffix('-')
            {
                text.push_str(joined);
            } else {
                text.push_str(&line_text);
                text.push('\n');
            }
        }
        text.push('\n');
    }
    (text, words)
}

/// Whether a word starting at `x0` continues the previous one without a
/// space: `pdftotext` splits words at a change of font (a superscript, a
/// bold letter) without the gap of a space, which is under a fiftieth of
/// the line's height wide.
fn touches(previous_end: Option<f32>, x0: f32, height: f32) -> bool {
    previous_end.is_some_and(|end| x0 - end < 0.02 * height)
}

fn number(tag: &str, name: &str) -> Option<f32> {
    // Attributes of the element itself, not of the ones it contains.
    let head = &tag[..tag.find('>').unwrap_or(tag.len())];
    attribute(head, name)?.parse().ok()
}

/// Map `pdftotext`'s exit code (1: cannot open, 3: permissions) and its
/// message to our error kinds.
fn classify_failure(code: Option<i32>, stderr: &str) -> ExtractError {
    let first_line = stderr.lines().last().unwrap_or("").trim();
    match code {
        Some(3) => ExtractError::Encrypted,
        Some(_) if stderr.contains("Incorrect password") => ExtractError::Encrypted,
        Some(_) => ExtractError::Corrupt(if first_line.is_empty() {
            "the PDF could not be opened".to_owned()
        } else {
            first_line.to_owned()
        }),
        // No exit code: killed by a signal.
        None => ExtractError::Crashed("pdftotext was killed by a signal".to_owned()),
    }
}

/// Title and properties from the `<head>` Poppler writes (the same for
/// `-bbox-layout` as for `-htmlmeta`).
fn parse_properties(html: &str) -> Extraction {
    let mut extraction = Extraction::default();
    let head = between(html, "<head>", "</head>").unwrap_or("");
    if let Some(title) = between(head, "<title>", "</title>") {
        let title = unescape(title.trim());
        if !title.is_empty() {
            extraction.metadata.insert("title".to_owned(), title);
        }
    }
    for meta in head.split("<meta ").skip(1) {
        let name = attribute(meta, "name");
        let content = attribute(meta, "content");
        if let (Some(name), Some(content)) = (name, content) {
            let content = unescape(&content);
            if !content.trim().is_empty() {
                extraction
                    .metadata
                    .insert(name.to_ascii_lowercase(), content);
            }
        }
    }
    extraction
}
fn between<'a>(haystack: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let from = haystack.find(start)? + start.len();
    let to = haystack[from..]
        .find(end)
        .map_or(haystack.len(), |i| from + i);
    Some(&haystack[from..to])
}

fn attribute(tag: &str, name: &str) -> Option<String> {
    let key = format!("{name}=\"");
    let from = tag.find(&key)? + key.len();
    let to = tag[from..].find('"')? + from;
    Some(tag[from..to].to_owned())
}

/// Undo the five XML escapes `pdftotext -htmlmeta` writes.
fn unescape(text: &str) -> String {
    if !text.contains('&') {
        return text.to_owned();
    }
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;

    const OUTPUT: &str = "<!DOCTYPE html><html><head>\n<title>Q1 &amp; Q2</title>\n\
        <meta name=\"Author\" content=\"Ann\"/>\n<meta name=\"Creator\" content=\"Word\"/>\n\
        </head><body><doc>\n\
        <page width=\"200.0\" height=\"100.0\">\n<flow>\n<block xMin=\"1\" yMin=\"1\" xMax=\"2\" yMax=\"2\">\n\
        <line xMin=\"20\" yMin=\"10\" xMax=\"90\" yMax=\"20\">\n\
        <word xMin=\"20.0\" yMin=\"10.0\" xMax=\"40.0\" yMax=\"20.0\">A&amp;B</word>\n\
        <word xMin=\"45.0\" yMin=\"10.0\" xMax=\"60.0\" yMax=\"20.0\">in-</word>\n</line>\n\
        <line xMin=\"20\" yMin=\"22\" xMax=\"90\" yMax=\"32\">\n\
        <word xMin=\"20.0\" yMin=\"22.0\" xMax=\"50.0\" yMax=\"32.0\">voice</word>\n\
        <word xMin=\"50.0\" yMin=\"22.0\" xMax=\"55.0\" yMax=\"27.0\">2</word>\n\
        <word xMin=\"60.0\" yMin=\"22.0\" xMax=\"90.0\" yMax=\"32.0\">&lt;due&gt;</word>\n</line>\n\
        </block>\n</flow>\n<flow>\n<block>\n<line xMin=\"1\" yMin=\"1\" xMax=\"2\" yMax=\"2\">\n\
        <word xMin=\"20.0\" yMin=\"50.0\" xMax=\"40.0\" yMax=\"60.0\">Total-</word>\n</line>\n</block>\n</flow>\n\
        </page>\n<page width=\"100\" height=\"100\">\n</page>\n</doc></body></html>";

    #[test]
    fn properties_pages_and_words_come_from_one_output() {
        let extraction = parse_bbox_layout(OUTPUT);
        assert_eq!(extraction.metadata["title"], "Q1 & Q2");
        assert_eq!(extraction.metadata["author"], "Ann");
        assert_eq!(extraction.metadata["creator"], "Word");
        assert_eq!(extraction.page_count, Some(2));
        assert_eq!(extraction.pages[1], "");
        assert_eq!(extraction.layout.len(), 2);
        assert_eq!(extraction.layout[1].page, 2);
        assert!(extraction.layout[1].words.is_empty());
        let words = &extraction.layout[0].words;
        assert_eq!(words.len(), 6);
        assert_eq!(words[0].text, "A&B");
        assert_eq!(words[0].bbox, [0.1, 0.1, 0.2, 0.2]);
    }

    #[test]
    fn page_text_is_printed_as_pdftotext_prints_it() {
        let extraction = parse_bbox_layout(OUTPUT);
        // A hyphen ending a line joins the next line of its flow; a word
        // set without a gap (the superscript) joins its neighbour; a blank
        // line follows each flow; the last line of a flow keeps its hyphen.
        assert_eq!(extraction.pages[0], "A&B invoice2 <due>\n\nTotal-\n\n");
    }

    #[test]
    fn output_cut_short_still_yields_the_pages_it_holds() {
        let cut = &OUTPUT[..OUTPUT.find("voice").unwrap_or(OUTPUT.len())];
        let extraction = parse_bbox_layout(cut);
        assert_eq!(extraction.pages.len(), 1);
        assert!(extraction.pages[0].starts_with("A&B in"));
        assert_eq!(extraction.layout[0].words.len(), 2);
    }

    #[test]
    fn strings_of_qpdf_json_read_as_text() {
        assert_eq!(qpdf_text("u:Jane Doe").as_deref(), Some("Jane Doe"));
        assert_eq!(qpdf_text("b:4a65e9").as_deref(), Some("Jeé"));
        assert_eq!(qpdf_text("/Off"), None);
        assert_eq!(qpdf_text("u:  "), None);
    }

    #[test]
    fn exit_codes_map_to_errors() {
        assert!(matches!(
            classify_failure(Some(3), ""),
            ExtractError::Encrypted
        ));
        assert!(
            matches!(classify_failure(Some(1), "Syntax Error: x\nCouldn't read xref"), ExtractError::Corrupt(m) if m.contains("xref"))
        );
        assert!(matches!(
            classify_failure(None, ""),
            ExtractError::Crashed(_)
        ));
    }
}
