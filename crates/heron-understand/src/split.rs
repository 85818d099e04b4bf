//! Packet splitting: where one document of a multi-document PDF ends and
//! the next begins, from a verdict on each page.
//!
//! A page starts a new document when it says so ("page 1 of N"); never
//! when it says it continues ("page 2 of 3", "Page 2"); when its type,
//! read with some confidence, differs from the running document's; and,
//! for the same type, when the labels of fields the running document
//! already showed come again (a second pay slip repeats "Gross pay" and
//! "Net pay"; a statement's second page of transactions does not). Pages
//! read with little confidence join the document before them.

use std::sync::LazyLock;

use regex::Regex;

/// What the classifier made of one page.
#[derive(Debug, Clone, PartialEq)]
pub struct PageVerdict {
    /// Probability of each label (the model's order), from the page's text.
    pub probabilities: Vec<f64>,
    /// Declared fields (of the page's most likely type) whose labels the
    /// page prints.
    pub fields: std::collections::BTreeSet<String>,
    /// The page's text, for page-number markers.
    pub text_chars: usize,
    /// `Some(1)` for "page 1 of N", `Some(n)` for other numbered pages.
    pub page_marker: Option<u32>,
}

/// One document of the packet: 0-based inclusive page range, label index
/// and confidence.
#[derive(Debug, Clone, PartialEq)]
pub struct Part {
    pub first: usize,
    pub last: usize,
    pub label: usize,
    pub confidence: f64,
}

/// How confident a page's reading must be to start a document of another
/// type.
pub const SWITCH_CONFIDENCE: f64 = 0.45;
/// Fields seen again that make a page of the same type a new document.
pub const REPEATED_FIELDS: usize = 2;

static PAGE_OF: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)\b(?:page|seite|página|pagina|p\.)\s*(\d{1,4})\s*(?:of|von|sur|de|/)\s*\d{1,4}\b",
    )
    .expect("valid regex")
});

/// The number in a "page N of M" marker of `text`, if any.
pub fn page_marker(text: &str) -> Option<u32> {
    if let Some(found) = PAGE_OF.captures(text) {
        return found.get(1)?.as_str().parse().ok();
    }
    text.lines()
        .filter(|l| l.len() < 80)
        .find_map(|l| PAGE_ALONE.captures(l.trim())?.get(1)?.as_str().parse().ok())
}

static PAGE_ALONE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(?:page|seite|página|pagina)\s+(\d{1,4})\s*$").expect("valid regex")
});

/// The documents of a packet.
pub fn split(pages: &[PageVerdict]) -> Vec<Part> {
    let mut parts: Vec<Part> = Vec::new();
    let mut sums: Vec<Vec<f64>> = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for (index, page) in pages.iter().enumerate() {
        let (label, confidence) = argmax(&page.probabilities);
        let starts = match parts.last() {
            None => true,
            Some(current) => starts_document(page, label, confidence, current.label, &seen),
        };
        if starts {
            seen.clear();
        }
        seen.extend(page.fields.iter().cloned());
        let weight = (page.text_chars.max(1) as f64).ln().max(1.0);
        if starts {
            parts.push(Part {
                first: index,
                last: index,
                label,
                confidence,
            });
            sums.push(page.probabilities.iter().map(|p| p * weight).collect());
        } else if let (Some(part), Some(sum)) = (parts.last_mut(), sums.last_mut()) {
            part.last = index;
            for (s, p) in sum.iter_mut().zip(&page.probabilities) {
                *s += p * weight;
            }
        }
    }
    // A document's label is its pages' weighted mean reading.
    for (part, sum) in parts.iter_mut().zip(sums) {
        let total: f64 = sum.iter().sum();
        if total > 0.0 {
            let (label, mass) = argmax(&sum);
            part.label = label;
            part.confidence = mass / total;
        }
    }
    parts
}

fn starts_document(
    page: &PageVerdict,
    label: usize,
    confidence: f64,
    current: usize,
    seen: &std::collections::BTreeSet<String>,
) -> bool {
    match page.page_marker {
        Some(1) => return true,
        Some(_) => return false,
        None => {}
    }
    if confidence < SWITCH_CONFIDENCE {
        return false;
    }
    label != current || page.fields.intersection(seen).count() >= REPEATED_FIELDS
}

fn argmax(values: &[f64]) -> (usize, f64) {
    values
        .iter()
        .copied()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .unwrap_or((0, 0.0))
}

/// Page-level accuracy and exact-boundary F1 of a split against the truth,
/// both given as the label index of each page and the first page of each
/// document.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SplitScore {
    pub page_accuracy: f64,
    pub boundary_precision: f64,
    pub boundary_recall: f64,
    pub boundary_f1: f64,
}

/// Score `predicted` parts against `truth` parts of the same packet.
pub fn score(predicted: &[Part], truth: &[Part]) -> SplitScore {
    let label_of = |parts: &[Part], page: usize| {
        parts
            .iter()
            .find(|p| p.first <= page && page <= p.last)
            .map(|p| p.label)
    };
    let pages = truth.last().map_or(0, |p| p.last + 1);
    let right = (0..pages)
        .filter(|&i| label_of(predicted, i) == label_of(truth, i))
        .count();
    let starts = |parts: &[Part]| {
        parts
            .iter()
            .map(|p| p.first)
            .collect::<std::collections::BTreeSet<_>>()
    };
    let (p, t) = (starts(predicted), starts(truth));
    let hits = p.intersection(&t).count() as f64;
    let precision = if p.is_empty() {
        0.0
    } else {
        hits / p.len() as f64
    };
    let recall = if t.is_empty() {
        0.0
    } else {
        hits / t.len() as f64
    };
    SplitScore {
        page_accuracy: if pages == 0 {
            1.0
        } else {
            right as f64 / pages as f64
        },
        boundary_precision: precision,
        boundary_recall: recall,
        boundary_f1: if precision + recall == 0.0 {
            0.0
        } else {
            2.0 * precision * recall / (precision + recall)
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(p: [f64; 3], fields: &[&str], marker: Option<u32>) -> PageVerdict {
        PageVerdict {
            probabilities: p.to_vec(),
            fields: fields.iter().map(|f| (*f).to_owned()).collect(),
            text_chars: 500,
            page_marker: marker,
        }
    }

    #[test]
    fn type_changes_repeated_fields_and_markers_split_a_packet() {
        let pages = vec![
            page(
                [0.9, 0.05, 0.05],
                &["gross_pay", "net_pay", "employee"],
                None,
            ),
            // A second pay slip right after the first: its fields again.
            page([0.85, 0.1, 0.05], &["gross_pay", "net_pay"], None),
            page([0.1, 0.8, 0.1], &["opening_balance"], Some(1)),
            // Continuation: weak on its own, says page 2.
            page([0.4, 0.3, 0.3], &[], Some(2)),
            // Same type, no fields again: still the statement.
            page([0.1, 0.8, 0.1], &[], None),
            page([0.05, 0.05, 0.9], &[], None),
        ];
        let parts = split(&pages);
        let ranges: Vec<(usize, usize, usize)> =
            parts.iter().map(|p| (p.first, p.last, p.label)).collect();
        assert_eq!(ranges, vec![(0, 0, 0), (1, 1, 0), (2, 4, 1), (5, 5, 2)]);
        let s = score(&parts, &parts);
        assert_eq!((s.page_accuracy, s.boundary_f1), (1.0, 1.0));
        assert_eq!(page_marker("Bank 1 - Confidential | Page 2 of 5"), Some(2));
        assert_eq!(
            page_marker("Statement\nBank 1 - Confidential Statement | Page 2\n"),
            Some(2)
        );
        assert_eq!(page_marker("Turn the page 3 times"), None);
    }

    #[test]
    fn scores_count_pages_and_boundaries() {
        let truth = vec![
            Part {
                first: 0,
                last: 1,
                label: 0,
                confidence: 1.0,
            },
            Part {
                first: 2,
                last: 3,
                label: 1,
                confidence: 1.0,
            },
        ];
        let predicted = vec![
            Part {
                first: 0,
                last: 2,
                label: 0,
                confidence: 1.0,
            },
            Part {
                first: 3,
                last: 3,
                label: 1,
                confidence: 1.0,
            },
        ];
        let s = score(&predicted, &truth);
        assert_eq!(s.page_accuracy, 0.75);
        assert_eq!(s.boundary_f1, 0.5);
    }
}
