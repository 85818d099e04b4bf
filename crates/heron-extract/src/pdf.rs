//! PDF text layer and properties through Poppler's `pdftotext`.
//!
//! Poppler runs as a child process: it is GPL (kept out of our address
//! space), it is the reference for text-layer extraction quality, and a
//! crash or hang costs one killed child. One call with `-htmlmeta` yields
//! both the properties and the text, pages separated by form feeds.

use std::path::Path;
use std::time::Instant;

use heron_core::{Notice, NoticeCode};

use crate::limits::truncate_text;
use crate::tool;
use crate::{ExtractError, Extraction, ExtractionLimits};

pub(crate) fn extract_text(
    path: &Path,
    limits: &ExtractionLimits,
    deadline: Instant,
) -> Result<Extraction, ExtractError> {
    // One page past the limit, to tell "exactly at the limit" from "cut".
    let last_page = limits.max_pages.saturating_add(1).to_string();
    let output = pdftotext(
        "-htmlmeta",
        path,
        &last_page,
        deadline,
        limits.max_text_bytes * 2,
    )
    .map_err(|e| ExtractError::from_tool(e, limits))?;

    if !output.status.success() {
        return Err(classify_failure(output.status.code(), &output.stderr));
    }
    let html = String::from_utf8_lossy(&output.stdout);
    let mut extraction = parse_htmlmeta(&html);
    if output.truncated {
        extraction.warnings.push(Notice::new(
            NoticeCode::LimitExceeded,
            format!("text cut at {} bytes", limits.max_text_bytes),
        ));
    }
    for page in &mut extraction.pages {
        truncate_text(page, limits.max_text_bytes);
    }
    if extraction.pages.len() > limits.max_pages as usize {
        extraction.pages.truncate(limits.max_pages as usize);
        extraction.page_count = Some(limits.max_pages);
        extraction.warnings.push(Notice::new(
            NoticeCode::LimitExceeded,
            format!("only the first {} pages were read", limits.max_pages),
        ));
    }
    extraction.layout = word_boxes(path, limits, deadline);
    Ok(extraction)
}

/// `pdftotext <mode> -enc UTF-8 -l <last_page> <path> -`, output capped.
fn pdftotext(
    mode: &str,
    path: &Path,
    last_page: &str,
    deadline: Instant,
    max_output: usize,
) -> Result<tool::ToolOutput, tool::ToolError> {
    tool::run(
        "pdftotext",
        [
            mode.as_ref(),
            "-enc".as_ref(),
            "UTF-8".as_ref(),
            "-l".as_ref(),
            last_page.as_ref(),
            path.as_os_str(),
            "-".as_ref(),
        ],
        deadline,
        max_output,
    )
}

/// The word boxes of the text layer (`pdftotext -bbox`), for tables and
/// located values. Best effort: the text is what matters, so a failure
/// here leaves the layout empty rather than failing the file.
fn word_boxes(path: &Path, limits: &ExtractionLimits, deadline: Instant) -> Vec<crate::PageLayout> {
    let last_page = limits.max_pages.to_string();
    let output = pdftotext(
        "-bbox",
        path,
        &last_page,
        deadline,
        limits.max_text_bytes * 8,
    );
    match output {
        Ok(output) if output.status.success() && !output.truncated => {
            parse_bbox(&String::from_utf8_lossy(&output.stdout))
        }
        _ => Vec::new(),
    }
}

/// Pages and words of `pdftotext -bbox` output, boxes scaled to the page.
fn parse_bbox(html: &str) -> Vec<crate::PageLayout> {
    let mut pages = Vec::new();
    for (index, page) in html.split("<page ").skip(1).enumerate() {
        let size = |name| attribute(page, name).and_then(|v| v.parse::<f32>().ok());
        let (Some(width), Some(height)) = (size("width"), size("height")) else {
            continue;
        };
        if width <= 0.0 || height <= 0.0 {
            continue;
        }
        let mut words = Vec::new();
        for word in page
            .split("<word ")
            .skip(1)
            .take(crate::MAX_LAYOUT_WORDS_PER_PAGE)
        {
            let coordinate = |name| attribute(word, name).and_then(|v| v.parse::<f32>().ok());
            let (Some(x0), Some(y0), Some(x1), Some(y1)) = (
                coordinate("xMin"),
                coordinate("yMin"),
                coordinate("xMax"),
                coordinate("yMax"),
            ) else {
                continue;
            };
            let Some(text) = between(word, ">", "</word>") else {
                continue;
            };
            words.push(crate::Word {
                text: unescape(text),
                bbox: [x0 / width, y0 / height, x1 / width, y1 / height],
            });
        }
        pages.push(crate::PageLayout {
            page: index as u32 + 1,
            words,
        });
    }
    pages
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

fn parse_htmlmeta(html: &str) -> Extraction {
    let mut extraction = Extraction::default();
    if let Some(title) = between(html, "<title>", "</title>") {
        let title = unescape(title.trim());
        if !title.is_empty() {
            extraction.metadata.insert("title".to_owned(), title);
        }
    }
    for meta in html.split("<meta ").skip(1) {
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
    let body = between(html, "<pre>", "</pre>").unwrap_or("");
    let body = unescape(body);
    let mut pages: Vec<String> = body.split('\u{c}').map(str::to_owned).collect();
    // pdftotext ends every page with a form feed, leaving an empty tail.
    if pages.last().is_some_and(|p| p.trim().is_empty()) && pages.len() > 1 {
        pages.pop();
    }
    extraction.page_count = Some(pages.len() as u32);
    extraction.pages = pages;
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

    #[test]
    fn parses_properties_and_pages() {
        let html = "<html><head>\n<title>Q1 &amp; Q2</title>\n<meta name=\"Author\" content=\"Ann\"/>\n\
                    <meta name=\"Creator\" content=\"Word\"/>\n</head><body><pre>\nPage one &lt;a&gt;\u{c}Page two\u{c}</pre></body></html>";
        let extraction = parse_htmlmeta(html);
        assert_eq!(extraction.metadata["title"], "Q1 & Q2");
        assert_eq!(extraction.metadata["author"], "Ann");
        assert_eq!(extraction.page_count, Some(2));
        assert_eq!(extraction.pages[0].trim(), "Page one <a>");
        assert_eq!(extraction.pages[1], "Page two");
    }

    #[test]
    fn word_boxes_are_scaled_to_the_page() {
        let html = "<doc><page width=\"200.0\" height=\"100.0\">\n<word xMin=\"20.0\" yMin=\"10.0\" xMax=\"40.0\" yMax=\"20.0\">A&amp;B</word>\n</page>\n<page width=\"100\" height=\"100\"></page></doc>";
        let pages = parse_bbox(html);
        assert_eq!(pages.len(), 2);
        assert_eq!(pages[0].words[0].text, "A&B");
        assert_eq!(pages[0].words[0].bbox, [0.1, 0.1, 0.2, 0.2]);
        assert_eq!(pages[1].page, 2);
        assert!(pages[1].words.is_empty());
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
