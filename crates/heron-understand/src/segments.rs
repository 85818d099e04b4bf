//! Segmentation of each page into blocks — header, title, key-value list,
//! table, paragraph, footer — in reading order (the order of the page's
//! text). Blocks are runs of non-empty lines; their kind comes from their
//! place on the page and their lines' shape.

use std::collections::BTreeSet;
use std::sync::LazyLock;

use heron_core::understanding::{Segment, Table};
use regex::Regex;

use crate::page::Page;

static PAGE_NUMBER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(?:page|seite|p\.|página|pagina)\s*\d+(?:\s*(?:of|von|sur|de|/)\s*\d+)?\b|^\s*-?\s*\d{1,3}\s*-?\s*$")
        .expect("valid regex")
});
static KEY_VALUE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^\s*[^\W\d_][\w ./#'()-]{0,40}(?::|\s_{2,}|\s{2,})\s*\S").expect("valid regex")
});

/// The blocks of every page.
pub fn find(pages: &[Page<'_>], tables: &[Table]) -> Vec<Segment> {
    let repeated = repeated_lines(pages);
    let mut segments = Vec::new();
    for page in pages {
        let blocks = blocks(page);
        let table_lines: BTreeSet<usize> = tables
            .iter()
            .filter(|t| t.page == page.number && t.bbox.is_none())
            .flat_map(|t| t.lines[0] as usize..=t.lines[1] as usize)
            .collect();
        let count = blocks.len();
        let mut kinds: Vec<&str> = blocks
            .iter()
            .enumerate()
            .map(|(order, &(first, last))| {
                let lines: Vec<&str> = (first..=last).map(|i| page.line(i).trim()).collect();
                kind_of(&lines, order, count, first..=last, &table_lines, &repeated)
            })
            .collect();
        // Of two title-like lines opening a page, the first is the
        // letterhead.
        if kinds.len() > 1 && kinds[0] == "title" && kinds[1] == "title" {
            kinds[0] = "header";
        }
        for (order, (&(first, last), kind)) in blocks.iter().zip(kinds).enumerate() {
            let start = page.lines[first].start;
            let end = page.lines[last].end;
            segments.push(Segment {
                kind: kind.to_owned(),
                page: page.number,
                order: order as u32,
                start: crate::page::char_offset(page.text, start),
                end: crate::page::char_offset(page.text, end),
                bbox: page.locate(start, end),
            });
        }
    }
    segments
}

/// Runs of non-empty lines, as (first, last) line indices.
fn blocks(page: &Page<'_>) -> Vec<(usize, usize)> {
    let mut blocks = Vec::new();
    let mut start: Option<usize> = None;
    for i in 0..page.lines.len() {
        let empty = page.line(i).trim().is_empty();
        match (empty, start) {
            (false, None) => start = Some(i),
            (true, Some(s)) => {
                blocks.push((s, i - 1));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        blocks.push((s, page.lines.len() - 1));
    }
    blocks
}

/// Lines that appear on more than half the pages of a multi-page
/// document: running headers and footers.
fn repeated_lines(pages: &[Page<'_>]) -> BTreeSet<String> {
    if pages.len() < 2 {
        return BTreeSet::new();
    }
    let mut counts = std::collections::BTreeMap::<String, usize>::new();
    for page in pages {
        let lines: BTreeSet<String> = (0..page.lines.len())
            .map(|i| normalise(page.line(i)))
            .filter(|l| !l.is_empty())
            .collect();
        for line in lines {
            *counts.entry(line).or_default() += 1;
        }
    }
    counts
        .into_iter()
        .filter(|(_, n)| *n * 2 > pages.len())
        .map(|(line, _)| line)
        .collect()
}

/// A line without digits or spacing, so "Page 1" and "Page 2" compare equal.
fn normalise(line: &str) -> String {
    line.chars()
        .filter(|c| c.is_alphabetic())
        .flat_map(char::to_lowercase)
        .collect()
}

fn kind_of(
    lines: &[&str],
    order: usize,
    count: usize,
    range: std::ops::RangeInclusive<usize>,
    table_lines: &BTreeSet<usize>,
    repeated: &BTreeSet<String>,
) -> &'static str {
    let first = order == 0;
    let last = order + 1 == count;
    let is_repeated = lines
        .iter()
        .all(|l| repeated.contains(&normalise(l)) || normalise(l).is_empty());
    if (last || order + 2 == count)
        && lines.iter().any(|l| PAGE_NUMBER.is_match(l))
        && lines.len() <= 3
    {
        return "footer";
    }
    if is_repeated && lines.len() <= 4 {
        return if order * 2 < count {
            "header"
        } else {
            "footer"
        };
    }
    let in_table = range.clone().filter(|i| table_lines.contains(i)).count();
    if in_table * 2 > lines.len() {
        return "table";
    }
    if lines.len() == 1 && is_title(lines[0]) && order <= 2 {
        return "title";
    }
    let key_values = lines.iter().filter(|l| KEY_VALUE.is_match(l)).count();
    if key_values * 2 > lines.len() && lines.iter().all(|l| l.len() < 120) {
        return "key_value";
    }
    if first && lines.len() <= 4 && lines.iter().all(|l| l.split_whitespace().count() <= 6) {
        return "header";
    }
    "paragraph"
}

/// A short line, mostly capitals or without a closing full stop.
fn is_title(line: &str) -> bool {
    let words = line.split_whitespace().count();
    let letters: Vec<char> = line.chars().filter(|c| c.is_alphabetic()).collect();
    let upper = letters.iter().filter(|c| c.is_uppercase()).count();
    (1..=8).contains(&words)
        && !letters.is_empty()
        && !line.contains(':')
        && (upper * 10 >= letters.len() * 7 || !line.ends_with('.'))
        && !line.chars().any(|c| c.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_get_kinds_in_reading_order() {
        let text = "ACME BANK\n\nACCOUNT STATEMENT\n\nAccount Holder: Jane Roe\nAccount Number: 1234\n\ndate | description | amount\n2024-01-01 | Rent | -5.00\n2024-01-02 | Pay | 9.00\n\nThank you for banking with us. We value your custom.\n\nPage 1 of 2";
        let pages = vec![text.to_owned()];
        let pages = Page::all(&pages, &[]);
        let tables = crate::tables::find(&pages);
        let segments = find(&pages, &tables);
        let kinds: Vec<&str> = segments.iter().map(|s| s.kind.as_str()).collect();
        assert_eq!(
            kinds,
            vec![
                "header",
                "title",
                "key_value",
                "table",
                "paragraph",
                "footer"
            ]
        );
        assert_eq!(segments[2].order, 2);
        let chars: String = text
            .chars()
            .skip(segments[1].start as usize)
            .take((segments[1].end - segments[1].start) as usize)
            .collect();
        assert_eq!(chars, "ACCOUNT STATEMENT");
    }
}
