//! Typed fields, as the taxonomy declares them for a document type.
//!
//! A field is found after one of its printed labels (`hints`): on the same
//! line, or alone on the next one when the label heads a column. Where
//! labels of several fields overlap ("Due date" holds "date"), the longest
//! wins, so each printed label belongs to one field. The value runs to the
//! next label on the line, a wide gap or the line's end, and its kind
//! decides how much of that is taken and how it is normalised. Among
//! several candidates the most confident wins; amounts prefer the last
//! (totals close a document), everything else the first.

use std::collections::{BTreeMap, HashMap};
use std::sync::{LazyLock, Mutex};

use heron_core::fields::{FieldKind, FieldSpec};
use heron_core::understanding::{Check, FieldValue, Fields, Table};
use regex::Regex;

use crate::normalise::{DateOrder, date_at, date_order_of, money_at, period_at};
use crate::page::Page;
use heron_core::layout::Word;

/// A label printed on a line.
#[derive(Debug, Clone)]
struct LabelMatch {
    spec: usize,
    page: usize,
    line: usize,
    /// Byte range in the page's text.
    start: usize,
    end: usize,
}

/// A candidate value of a field.
#[derive(Debug, Clone)]
struct Candidate {
    value: FieldValue,
    position: (usize, usize),
}

/// Read the fields `specs` declares from `pages`; `tables` are those
/// already found in the document.
pub fn extract(pages: &[Page<'_>], tables: &[Table], specs: &[FieldSpec]) -> Fields {
    let mut fields = Fields::default();
    if specs.is_empty() {
        return fields;
    }
    let whole: String = pages.iter().map(|p| p.text).collect::<Vec<_>>().join("\n");
    let order = date_order_of(&whole);
    let labels = label_matches(pages, specs);
    for (index, spec) in specs.iter().enumerate() {
        if spec.kind == FieldKind::Table {
            if let Some(table) = table_field(spec, tables, order) {
                fields.tables.insert(spec.name.clone(), table);
            }
            continue;
        }
        let mut candidates: Vec<Candidate> = labels
            .iter()
            .filter(|m| m.spec == index)
            .filter_map(|m| read_after_label(pages, &labels, m, spec.kind, order))
            .collect();
        if candidates.is_empty() && spec.fallback.as_deref() == Some("letterhead") {
            candidates.extend(letterhead(pages));
        }
        let best = if spec.kind == FieldKind::Money {
            candidates
                .into_iter()
                .rev()
                .max_by(|a, b| a.value.confidence.total_cmp(&b.value.confidence))
        } else {
            candidates.into_iter().max_by(|a, b| {
                a.value
                    .confidence
                    .total_cmp(&b.value.confidence)
                    .then(b.position.cmp(&a.position))
            })
        };
        if let Some(mut best) = best {
            if spec.mask {
                mask(&mut best.value);
            }
            fields.values.insert(spec.name.clone(), best.value);
        }
    }
    fill_currency(specs, &mut fields);
    for spec in specs.iter().filter(|s| s.required) {
        let found =
            fields.values.contains_key(&spec.name) || fields.tables.contains_key(&spec.name);
        if !found {
            fields.missing_required.push(spec.name.clone());
        }
    }
    fields.checks = checks(&fields);
    fields
}

/// The declared fields (of `specs`) whose labels are printed in `text`:
/// what makes a page look like the first page of another document of
/// the same type when fields already seen come again.
pub fn labelled_fields(text: &str, specs: &[FieldSpec]) -> std::collections::BTreeSet<String> {
    let page = Page::new(1, text, &[]);
    label_matches(std::slice::from_ref(&page), specs)
        .into_iter()
        .filter(|m| specs[m.spec].kind != FieldKind::Table)
        .map(|m| specs[m.spec].name.clone())
        .collect()
}

/// The case-insensitive pattern of one printed label, at a word start;
/// compiled once per label for the process.
fn label_pattern(hint: &str) -> Option<Regex> {
    static CACHE: LazyLock<Mutex<HashMap<String, Option<Regex>>>> =
        LazyLock::new(|| Mutex::new(HashMap::new()));
    let mut cache = CACHE.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(found) = cache.get(hint) {
        return found.clone();
    }
    // Letters of a word may come apart (a letter-spaced heading read as
    // "Invoice Dat e :"): a single space is allowed inside words.
    let words: Vec<String> = hint
        .split_whitespace()
        .map(|word| {
            word.chars()
                .map(|c| regex::escape(&c.to_string()))
                .collect::<Vec<_>>()
                .join(" ?")
        })
        .collect();
    let pattern = (!words.is_empty())
        .then(|| Regex::new(&format!(r"(?i)(?:^|[\W_])({})", words.join(r"\s+"))).ok())
        .flatten();
    // Taxonomies are small; the cache stays bounded by their labels.
    if cache.len() < 10_000 {
        cache.insert(hint.to_owned(), pattern.clone());
    }
    pattern
}

/// Every label of every field on every line, overlaps resolved in favour
/// of the longer label.
fn label_matches(pages: &[Page<'_>], specs: &[FieldSpec]) -> Vec<LabelMatch> {
    // One pattern per label, so that where labels overlap ("c Employer's
    // name" and "Employer's name, address, and ZIP code") each is found
    // and the longest wins, not the leftmost.
    let patterns: Vec<(usize, Regex)> = specs
        .iter()
        .enumerate()
        .flat_map(|(spec, s)| {
            s.hints
                .iter()
                .filter_map(move |h| Some((spec, label_pattern(h)?)))
        })
        .collect();
    let mut found = Vec::new();
    for (page_index, page) in pages.iter().enumerate() {
        for (line_index, line) in page.lines.iter().enumerate() {
            let text = &page.text[line.start..line.end];
            for (spec, pattern) in &patterns {
                let spec = *spec;
                for captures in pattern.captures_iter(text) {
                    let Some(label) = captures.get(1) else {
                        continue;
                    };
                    let after = &text[label.end()..];
                    let next = after.chars().next();
                    let last = label.as_str().chars().last();
                    // A label ending in a letter or digit must end a word,
                    // and not be a possessive ("Employee's").
                    let possessive = after.starts_with("'s") || after.starts_with("’s");
                    let ends_word = (next.is_none_or(|c| !c.is_alphanumeric())
                        || last.is_some_and(|c| !c.is_alphanumeric()))
                        && !possessive;
                    if ends_word {
                        found.push(LabelMatch {
                            spec,
                            page: page_index,
                            line: line_index,
                            start: line.start + label.start(),
                            end: line.start + label.end(),
                        });
                    }
                }
            }
        }
    }
    found.sort_by_key(|m| std::cmp::Reverse(m.end - m.start));
    let mut kept: Vec<LabelMatch> = Vec::new();
    for candidate in found {
        let overlaps = kept.iter().any(|k| {
            k.page == candidate.page && candidate.start < k.end && k.start < candidate.end
        });
        if !overlaps {
            kept.push(candidate);
        }
    }
    kept.sort_by_key(|m| (m.page, m.start));
    kept
}

static LEADING_NOISE: LazyLock<Regex> = LazyLock::new(|| {
    // Separators between a label and its value: colons, underscores
    // (blanks of forms), "No."/"#", and parentheses such as "(EIN)" or
    // "(8%)" or a bare rate "20%" before an amount.
    Regex::new(
        r"^(?:[\s:#=_.]+|\([^)]{0,20}\)|\d{1,2}(?:[.,]\d{1,3})?\s?%|(?i:no\.?|nr\.?|n°|#)\s)*",
    )
    .expect("valid regex")
});

/// The value after label `m`: on its line up to the next label, else on
/// the next non-empty line.
fn read_after_label(
    pages: &[Page<'_>],
    labels: &[LabelMatch],
    m: &LabelMatch,
    kind: FieldKind,
    order: DateOrder,
) -> Option<Candidate> {
    let page = &pages[m.page];
    let line = page.lines[m.line];
    let region_end = labels
        .iter()
        .filter(|o| o.page == m.page && o.line == m.line && o.start >= m.end)
        .map(|o| o.start)
        .min()
        .unwrap_or(line.end);
    let skip = LEADING_NOISE
        .find(&page.text[m.end..region_end])
        .map_or(0, |s| s.end());
    let start = m.end + skip;
    // Free text after a label and a single space may be the rest of a
    // heading ("Customer Company Name"), unless the label ends in a
    // connecting word ("by and between"). Where the page has word
    // positions, only a real gap separates (see `read_beside`); in plain
    // text (HTML collapses spaces) it is read, with less confidence.
    let between = &page.text[m.end..start];
    let separated = between.contains([':', '_', '#', '='])
        || between.contains("  ")
        || between.contains('\t')
        || ends_with_connector(&page.text[m.start..m.end]);
    let free_text = matches!(
        kind,
        FieldKind::String | FieldKind::Name | FieldKind::Organisation
    );
    let base = match (separated || !free_text, page.rows.is_empty()) {
        (true, _) => Some(0.92),
        (false, true) => Some(0.7),
        (false, false) => None,
    };
    if let Some(base) = base
        && let Some(found) = read_value(page, start, region_end, kind, order)
    {
        return Some(candidate(page, found, base, m));
    }
    // Nothing usable on the label's line: the value may stand beside it
    // on the page (a column of its own), or below it.
    if let Some(found) = read_beside(page, m, kind, order) {
        return Some(candidate(page, found, 0.88, m));
    }
    let rest = page.text[m.end..region_end].trim();
    if !rest.is_empty() && !rest.chars().all(|c| ":_#.".contains(c)) {
        return None;
    }
    // A label closing a line of other words ("ANY STATE") heads nothing
    // below it unless a colon says so.
    let opens_line = page.text[line.start..m.start].trim().is_empty();
    if !opens_line && !rest.contains(':') {
        return None;
    }
    if let Some(found) = read_below(page, m, kind, order) {
        return Some(candidate(page, found, 0.85, m));
    }
    if !page.rows.is_empty() {
        // The page's geometry said what is below; the next line of text
        // may be another column's.
        return None;
    }
    let next = (m.line + 1..page.lines.len().min(m.line + 3))
        .find(|&i| !page.line(i).trim().is_empty())?;
    let next_line = page.lines[next];
    let next_end = labels
        .iter()
        .filter(|o| o.page == m.page && o.line == next && o.start > next_line.start)
        .map(|o| o.start)
        .min()
        .unwrap_or(next_line.end);
    if labels.iter().any(|o| {
        o.page == m.page
            && o.line == next
            && o.start <= next_line.start + leading_space(page.line(next))
    }) {
        return None;
    }
    let found = read_value(page, next_line.start, next_end, kind, order)?;
    Some(candidate(page, found, 0.8, m))
}

/// Whether a label ends in a word that joins it to what follows.
fn ends_with_connector(label: &str) -> bool {
    let last = label.split_whitespace().last().unwrap_or("").to_lowercase();
    [
        "between", "by", "of", "to", "from", "for", "on", "at", "zwischen", "von", "entre", "de",
    ]
    .contains(&last.as_str())
}

fn leading_space(text: &str) -> usize {
    text.len() - text.trim_start().len()
}

/// A value read: byte span, normalised value, currency, quality 0..=1.
struct Read {
    start: usize,
    end: usize,
    value: String,
    currency: Option<String>,
    quality: f64,
}

fn candidate(page: &Page<'_>, read: Read, base: f64, label: &LabelMatch) -> Candidate {
    // Short, generic labels ("date", "total", "name") are weaker evidence.
    let specific = if label.end - label.start <= 5 {
        0.92
    } else {
        1.0
    };
    Candidate {
        value: FieldValue {
            raw: page.text[read.start..read.end].to_owned(),
            value: read.value,
            currency: read.currency,
            confidence: round(base * specific * read.quality),
            source: page.source(read.start, read.end),
        },
        position: (label.page, label.start),
    }
}

fn round(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// Read a value of `kind` from `text[start..end]` of `page`.
fn read_value(
    page: &Page<'_>,
    start: usize,
    end: usize,
    kind: FieldKind,
    order: DateOrder,
) -> Option<Read> {
    let mut read = read_in(&page.text[start..end], kind, order)?;
    read.start += start;
    read.end += start;
    Some(read)
}

/// Read a value of `kind` at the start of `region` (after spaces); the
/// span is relative to `region`.
fn read_in(region: &str, kind: FieldKind, order: DateOrder) -> Option<Read> {
    let at = leading_space(region);
    let region = &region[at..];
    if region.is_empty() {
        return None;
    }
    let read = |used: usize, value: String, currency: Option<String>, quality: f64| Read {
        start: at,
        end: at + region[..used].trim_end().len(),
        value,
        currency,
        quality,
    };
    match kind {
        FieldKind::Date => {
            let (date, used) = date_at(region, order)?;
            Some(read(used, date.iso(), None, 1.0))
        }
        FieldKind::Period => {
            let (period, used) = period_at(region, order)?;
            Some(read(used, period, None, 1.0))
        }
        FieldKind::Money => {
            let (money, used) = money_at(region)?;
            // A bare integer is weaker than an amount with cents or a currency.
            let text = &region[..used];
            let quality = if money.currency.is_some() || text.contains(['.', ',']) {
                1.0
            } else {
                0.7
            };
            Some(read(used, money.decimal(), money.currency, quality))
        }
        FieldKind::Id => {
            let used = id_length(region)?;
            let value = region[..used].trim_end_matches(['.', ',', ';']).to_owned();
            Some(read(value.len(), value, None, 1.0))
        }
        FieldKind::Currency => {
            let code: String = region.chars().take(3).collect::<String>().to_uppercase();
            let known = [
                "USD", "EUR", "GBP", "CAD", "AUD", "CHF", "JPY", "INR", "SEK", "NOK", "DKK", "PLN",
            ];
            known
                .contains(&code.as_str())
                .then(|| read(3, code, None, 1.0))
        }
        FieldKind::String | FieldKind::Name | FieldKind::Organisation => {
            let used = phrase_length(region);
            let value = region[..used]
                .trim()
                .trim_end_matches([',', ';', ':', '.'])
                .trim()
                .to_owned();
            // A value starts with a letter or digit: "'s FEDERAL…" after
            // "Employee" is the rest of a word, not a value.
            let starts_well = value.chars().next().is_some_and(char::is_alphanumeric);
            if !starts_well || !value.chars().any(char::is_alphabetic) {
                return None;
            }
            let quality = match kind {
                FieldKind::Name if value.chars().any(|c| c.is_ascii_digit()) => 0.7,
                FieldKind::Name if value.split_whitespace().count() > 6 => 0.6,
                _ => 1.0,
            };
            Some(read(value.len(), value, None, quality))
        }
        FieldKind::Table => None,
    }
}

/// The value under a label (a form's column of label over value): of the
/// next visual row's phrases (words apart by less than a wide gap), the
/// one under the label — left-, centre- or right-aligned with it.
fn read_below(page: &Page<'_>, m: &LabelMatch, kind: FieldKind, order: DateOrder) -> Option<Read> {
    let label = page.locate(m.start, m.end)?;
    let centre = (label[1] + label[3]) / 2.0;
    let index = page
        .rows
        .iter()
        .position(|r| r.top <= centre && centre <= r.bottom)?;
    let height = label[3] - label[1];
    let below = page.rows.get(index + 1)?;
    if below.top - label[3] > height * 4.0 {
        return None;
    }
    let mut phrases: Vec<Vec<&Word>> = Vec::new();
    for word in &below.words {
        match phrases.last_mut() {
            Some(phrase)
                if phrase
                    .last()
                    .is_some_and(|last| word.bbox[0] - last.bbox[2] <= height * 1.5) =>
            {
                phrase.push(word);
            }
            _ => phrases.push(vec![word]),
        }
    }
    let overlap = |phrase: &[&Word]| {
        let (x0, x1) = (phrase[0].bbox[0], phrase[phrase.len() - 1].bbox[2]);
        x1.min(label[2]) - x0.max(label[0])
    };
    let phrase = phrases
        .iter()
        .filter(|p| overlap(p) > 0.0)
        .max_by(|a, b| overlap(a).total_cmp(&overlap(b)))?;
    let words: Vec<&str> = phrase.iter().map(|w| w.text.as_str()).collect();
    read_words(page, m, &words, kind, order)
}

/// Read a value of `kind` from `words` found by position, and locate it
/// in the page's text (first after the label, else anywhere).
fn read_words(
    page: &Page<'_>,
    m: &LabelMatch,
    words: &[&str],
    kind: FieldKind,
    order: DateOrder,
) -> Option<Read> {
    let joined = words.join(" ");
    let found = read_in(&joined, kind, order)?;
    let raw = &joined[found.start..found.end];
    let start = page.text[m.end..]
        .find(raw)
        .map(|i| m.end + i)
        .or_else(|| page.text.find(raw))?;
    Some(Read {
        start,
        end: start + raw.len(),
        ..found
    })
}

/// The value beside a label whose line holds none, found by position:
/// the words right of the label on its visual row (a label column and a
/// value column come out of a PDF as two runs of lines), located back in
/// the page's text.
fn read_beside(page: &Page<'_>, m: &LabelMatch, kind: FieldKind, order: DateOrder) -> Option<Read> {
    let label = page.locate(m.start, m.end)?;
    let centre = (label[1] + label[3]) / 2.0;
    let row = page
        .rows
        .iter()
        .find(|r| r.top <= centre && centre <= r.bottom)?;
    let right: Vec<&Word> = row
        .words
        .iter()
        .copied()
        .filter(|w| w.bbox[0] >= label[2] - 0.002)
        .collect();
    // Words right after the label continue its phrase ("Customer Company
    // Name"); a value in a column of its own stands apart.
    let height = label[3] - label[1];
    let first = right.first()?;
    if first.bbox[0] - label[2] < height * 0.8 && !page.text[m.end..].starts_with(':') {
        return None;
    }
    let right: Vec<&str> = right.iter().map(|w| w.text.as_str()).collect();
    read_words(page, m, &right, kind, order)
}

/// Bytes of an identifier at the start of `text`: a token with a digit
/// (or masking `X`/`*`), followed by space-separated digit groups
/// ("DE89 3704 0044").
fn id_length(text: &str) -> Option<usize> {
    let token_end = |from: usize| {
        text[from..]
            .find(|c: char| c.is_whitespace() || c == ',' || c == ';')
            .map_or(text.len(), |i| from + i)
    };
    let first = token_end(0);
    let token = &text[..first];
    let marked = token.chars().any(|c| c.is_ascii_digit())
        || (token.len() >= 4
            && token
                .chars()
                .filter(|c| matches!(c, 'X' | 'x' | '*'))
                .count()
                >= 3);
    if !marked || token.len() > 40 {
        return None;
    }
    let mut end = first;
    loop {
        let rest = &text[end..];
        let spaces = rest.len() - rest.trim_start_matches(' ').len();
        if spaces != 1 {
            break;
        }
        let next_end = token_end(end + 1);
        let group = &text[end + 1..next_end];
        if (2..=4).contains(&group.len())
            && group.chars().all(|c| c.is_ascii_alphanumeric())
            && group.chars().any(|c| c.is_ascii_digit())
        {
            end = next_end;
        } else {
            break;
        }
    }
    Some(end)
}

/// Bytes of a free-text value: to a wide gap, a form blank or a sentence end.
fn phrase_length(text: &str) -> usize {
    let mut end = text.len();
    for stop in ["   ", "\t", " ____", " | "] {
        if let Some(i) = text.find(stop) {
            end = end.min(i);
        }
    }
    // A full stop ends a sentence when a capital follows ("Corp. and"
    // goes on).
    let bytes = text.as_bytes();
    for (i, _) in text.match_indices(". ") {
        let next = text[i + 2..].chars().next();
        if i < end && next.is_none_or(|c| c.is_uppercase()) && bytes.get(i + 2).is_some() {
            end = end.min(i);
            break;
        }
    }
    end
}

static ORGANISATION_SUFFIX: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(inc|llc|ltd|limited|plc|gmbh|ag|kg|sa|sas|sarl|sl|bv|nv|llp|corp|corporation|company|co|bank|credit union|savings|group|partners|associates|industries|services|solutions|studio|energy|power|gas|water|utilities|insurance|market|grocers|depot|café|cafe|store|shop)\b\.?")
        .expect("valid regex")
});

/// The organisation at the top of the first page: the first of its first
/// lines that names one, else its first short line that is not a title.
fn letterhead(pages: &[Page<'_>]) -> Option<Candidate> {
    let page = pages.first()?;
    // E-mail headers, contact lines and table rows are no letterhead.
    let header = |line: &str| {
        let lower = line.trim().to_lowercase();
        line.contains('@')
            || line.contains('|')
            || line.contains('\t')
            || lower.contains("://")
            || ["from:", "to:", "subject:", "date:", "cc:", "sent:"]
                .iter()
                .any(|h| lower.starts_with(h))
    };
    let lines: Vec<usize> = (0..page.lines.len())
        .filter(|&i| !page.line(i).trim().is_empty() && !header(page.line(i)))
        .take(6)
        .collect();
    let with_suffix = lines
        .iter()
        .find(|&&i| ORGANISATION_SUFFIX.is_match(page.line(i)));
    let (index, confidence) = match with_suffix {
        Some(&i) => (i, 0.75),
        None => (
            *lines.iter().find(|&&i| {
                let text = page.line(i).trim();
                let words = text.split_whitespace().count();
                (2..=6).contains(&words)
                    && !text.contains(':')
                    && text.chars().filter(|c| c.is_ascii_digit()).count() < 3
            })?,
            0.5,
        ),
    };
    let line = page.lines[index];
    let text = page.line(index);
    let lead = leading_space(text);
    let used = phrase_length(&text[lead..]);
    let value = text[lead..lead + used].trim().to_owned();
    let start = line.start + lead;
    Some(Candidate {
        value: FieldValue {
            raw: value.clone(),
            value,
            currency: None,
            confidence,
            source: page.source(start, start + used.min(text.len() - lead)),
        },
        position: (0, start),
    })
}

/// Keep the last four characters of a masked value.
fn mask(value: &mut FieldValue) {
    let digits: Vec<char> = value
        .value
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect();
    let tail: String = digits[digits.len().saturating_sub(4)..].iter().collect();
    value.value = format!("****{tail}");
    value.raw = value.value.clone();
}

/// A `currency` field not printed with a label: the currency of the
/// document's amounts.
fn fill_currency(specs: &[FieldSpec], fields: &mut Fields) {
    for spec in specs.iter().filter(|s| s.kind == FieldKind::Currency) {
        if fields.values.contains_key(&spec.name) {
            continue;
        }
        let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
        let mut source = None;
        for value in fields.values.values() {
            if let Some(code) = &value.currency {
                *counts.entry(code.as_str()).or_default() += 1;
                source.get_or_insert_with(|| value.source.clone());
            }
        }
        let Some((code, _)) = counts.into_iter().max_by_key(|(_, n)| *n) else {
            continue;
        };
        let Some(source) = source else { continue };
        let code = code.to_owned();
        fields.values.insert(
            spec.name.clone(),
            FieldValue {
                raw: code.clone(),
                value: code,
                currency: None,
                confidence: 0.7,
                source,
            },
        );
    }
}

/// The table of a `table` field: the document's table whose header names
/// most of the wanted columns, with those columns normalised (ISO dates,
/// decimal amounts; `debit`/`credit` folded into a signed `amount`).
fn table_field(spec: &FieldSpec, tables: &[Table], order: DateOrder) -> Option<Table> {
    let wanted: Vec<(String, Vec<String>)> = spec
        .columns
        .iter()
        .filter_map(|c| {
            let (name, headers) = c.split_once('=')?;
            Some((
                name.trim().to_owned(),
                headers
                    .split('|')
                    .map(|h| h.trim().to_lowercase())
                    .collect(),
            ))
        })
        .collect();
    let mapping = |table: &Table| -> BTreeMap<String, usize> {
        let mut map = BTreeMap::new();
        for (index, header) in table.header.iter().enumerate() {
            let header = header.to_lowercase();
            let header = header.trim().trim_end_matches(':');
            for (name, names) in &wanted {
                let hit = names.iter().any(|n| {
                    header == n
                        || header.starts_with(&format!("{n} "))
                        || header.starts_with(&format!("{n}("))
                });
                if hit && !map.contains_key(name) {
                    map.insert(name.clone(), index);
                    break;
                }
            }
        }
        map
    };
    // Tables split across pages with the same header continue one another.
    let (best_index, best_map) = tables
        .iter()
        .enumerate()
        .map(|(i, t)| (i, mapping(t)))
        .filter(|(_, m)| m.len() >= 2)
        .max_by_key(|(i, m)| (m.len(), std::cmp::Reverse(*i)))?;
    let best = &tables[best_index];
    let mut rows: Vec<&Vec<String>> = Vec::new();
    for table in &tables[best_index..] {
        if table.header == best.header {
            rows.extend(table.rows.iter());
        }
    }
    let mut header: Vec<String> = Vec::new();
    for (name, _) in &wanted {
        let folded = name == "debit" || name == "credit";
        if best_map.contains_key(name) && !folded {
            header.push(name.clone());
        }
    }
    let signed = best_map.contains_key("debit") || best_map.contains_key("credit");
    if signed && !header.iter().any(|h| h == "amount") {
        let at = header
            .iter()
            .position(|h| h == "balance")
            .unwrap_or(header.len());
        header.insert(at, "amount".to_owned());
    }
    fn cell<'r>(map: &BTreeMap<String, usize>, row: &'r [String], name: &str) -> Option<&'r str> {
        map.get(name).and_then(|&i| row.get(i)).map(|s| s.trim())
    }
    let cell = |row: &'_ Vec<String>, name: &str| -> Option<String> {
        cell(&best_map, row, name).map(str::to_owned)
    };
    let cents = |text: Option<&str>| {
        text.filter(|t| !t.is_empty())
            .and_then(|t| money_at(t).map(|(m, _)| m.cents))
    };
    let mut out_rows = Vec::new();
    for row in rows {
        let mut out = Vec::new();
        for name in &header {
            let value = match name.as_str() {
                "date" => cell(row, "date")
                    .map(|t| date_at(&t, order).map_or_else(|| t.clone(), |(d, _)| d.iso())),
                "amount" if signed && !best_map.contains_key("amount") => {
                    let credit = cents(cell(row, "credit").as_deref()).unwrap_or(0);
                    let debit = cents(cell(row, "debit").as_deref()).unwrap_or(0);
                    Some(format_cents(credit - debit.abs()))
                }
                "amount" | "balance" | "quantity" => {
                    cell(row, name).map(|t| cents(Some(&t)).map_or(t, format_cents))
                }
                _ => cell(row, name),
            };
            out.push(value.unwrap_or_default());
        }
        out_rows.push(out);
    }
    Some(Table {
        header,
        rows: out_rows,
        ..best.clone()
    })
}

fn format_cents(cents: i64) -> String {
    crate::normalise::Money {
        cents,
        currency: None,
    }
    .decimal()
}

fn cents_of_value(fields: &Fields, name: &str) -> Option<i64> {
    let value = fields.values.get(name)?;
    money_at(&value.value).map(|(m, _)| m.cents)
}

/// Consistency checks between what was read.
fn checks(fields: &Fields) -> Vec<Check> {
    let mut checks = Vec::new();
    if let Some(table) = fields.tables.get("transactions") {
        let column = |name: &str| table.header.iter().position(|h| h == name);
        let amounts: Vec<Option<i64>> = match column("amount") {
            Some(i) => table
                .rows
                .iter()
                .map(|r| r.get(i).and_then(|t| money_at(t).map(|(m, _)| m.cents)))
                .collect(),
            None => Vec::new(),
        };
        let sum: i64 = amounts.iter().flatten().sum();
        if let (Some(opening), Some(closing), false) = (
            cents_of_value(fields, "opening_balance"),
            cents_of_value(fields, "closing_balance"),
            amounts.is_empty(),
        ) {
            checks.push(Check {
                name: "balances_reconcile".to_owned(),
                passed: opening + sum == closing,
                detail: format!(
                    "opening {} + transactions {} = {} (closing {})",
                    format_cents(opening),
                    format_cents(sum),
                    format_cents(opening + sum),
                    format_cents(closing)
                ),
            });
        }
        if let (Some(b), false) = (column("balance"), amounts.is_empty()) {
            let balances: Vec<Option<i64>> = table
                .rows
                .iter()
                .map(|r| r.get(b).and_then(|t| money_at(t).map(|(m, _)| m.cents)))
                .collect();
            let broken =
                (1..balances.len()).find(|&i| match (balances[i - 1], amounts[i], balances[i]) {
                    (Some(previous), Some(amount), Some(balance)) => previous + amount != balance,
                    _ => false,
                });
            checks.push(Check {
                name: "running_balance".to_owned(),
                passed: broken.is_none(),
                detail: match broken {
                    None => format!(
                        "each of {} rows' balance follows from the previous",
                        balances.len()
                    ),
                    Some(i) => format!("row {} does not follow from row {i}", i + 1),
                },
            });
        }
    }
    if let (Some(subtotal), Some(tax), Some(total)) = (
        cents_of_value(fields, "subtotal"),
        cents_of_value(fields, "tax"),
        cents_of_value(fields, "total"),
    ) {
        checks.push(Check {
            name: "total_equals_subtotal_plus_tax".to_owned(),
            passed: subtotal + tax == total,
            detail: format!(
                "{} + {} vs {}",
                format_cents(subtotal),
                format_cents(tax),
                format_cents(total)
            ),
        });
    }
    checks
}

#[cfg(test)]
mod tests {
    use super::*;
    use heron_classify::Taxonomy;

    fn fields_of(label: &str, text: &str) -> Fields {
        let taxonomy = Taxonomy::default_taxonomy();
        let pages = vec![text.to_owned()];
        crate::understand(&pages, &[], taxonomy.fields_of(label)).fields
    }

    fn value<'a>(fields: &'a Fields, name: &str) -> Option<&'a str> {
        fields.values.get(name).map(|v| v.value.as_str())
    }

    #[test]
    fn invoice_fields_after_labels_are_normalised() {
        let text = "ACME Supplies Ltd\n12 High Street\nINVOICE\nInvoice Number: INV-2024-0042    Invoice Date: 03/15/2024\nDue Date: April 14, 2024\nBill To: Globex Corporation\n\nSubtotal $1,200.00\nTax (8%) $96.00\nTotal Due $1,296.00";
        let fields = fields_of("invoice", text);
        assert_eq!(value(&fields, "invoice_number"), Some("INV-2024-0042"));
        assert_eq!(value(&fields, "issue_date"), Some("2024-03-15"));
        assert_eq!(value(&fields, "due_date"), Some("2024-04-14"));
        assert_eq!(value(&fields, "customer"), Some("Globex Corporation"));
        assert_eq!(value(&fields, "vendor"), Some("ACME Supplies Ltd"));
        assert_eq!(value(&fields, "subtotal"), Some("1200.00"));
        assert_eq!(value(&fields, "tax"), Some("96.00"));
        assert_eq!(value(&fields, "total"), Some("1296.00"));
        assert_eq!(value(&fields, "currency"), Some("USD"));
        assert!(
            fields.checks.iter().all(|c| c.passed),
            "{:?}",
            fields.checks
        );
        let total = &fields.values["total"];
        assert_eq!(total.raw, "$1,296.00");
        let start = total.source.start as usize;
        let chars: String = text
            .chars()
            .skip(start)
            .take(total.raw.chars().count())
            .collect();
        assert_eq!(chars, total.raw);
    }

    #[test]
    fn a_value_below_its_label_is_read() {
        let text = "Invoice Date :\n15 December 2023\nSUBTOTAL :   $170";
        let fields = fields_of("invoice", text);
        assert_eq!(value(&fields, "issue_date"), Some("2023-12-15"));
        assert_eq!(value(&fields, "subtotal"), Some("170.00"));
    }

    #[test]
    fn statement_transactions_reconcile_with_balances() {
        let text = "First Bank\nAccount Holder: Jane Roe\nAccount Number: 12345678\nStatement Period: 01/02/2024 to 29/02/2024\nOpening Balance: 1,000.00\nDate  Description  Amount  Balance\n01/02/2024  Card purchase  -50.00  950.00\n15/02/2024  Salary  2,000.00  2,950.00\n20/02/2024  Rent  -900.00  2,050.00\nClosing Balance: 2,050.00";
        let fields = fields_of("bank_statement", text);
        assert_eq!(value(&fields, "account_holder"), Some("Jane Roe"));
        assert_eq!(value(&fields, "account_number"), Some("****5678"));
        assert_eq!(value(&fields, "period"), Some("2024-02-01/2024-02-29"));
        let table = &fields.tables["transactions"];
        assert_eq!(
            table.header,
            vec!["date", "description", "amount", "balance"]
        );
        assert_eq!(
            table.rows[1],
            vec!["2024-02-15", "Salary", "2000.00", "2950.00"]
        );
        assert_eq!(fields.checks.len(), 2);
        assert!(
            fields.checks.iter().all(|c| c.passed),
            "{:?}",
            fields.checks
        );
        assert!(
            fields.missing_required.is_empty(),
            "{:?}",
            fields.missing_required
        );
    }

    #[test]
    fn missing_required_fields_are_named() {
        let fields = fields_of("invoice", "Just some words");
        assert!(fields.missing_required.contains(&"total".to_owned()));
    }
}
