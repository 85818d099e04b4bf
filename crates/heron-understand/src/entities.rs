//! Entities in any document: dates, amounts, percentages, and the
//! personal and financial identifiers `heron-pii` detects (e-mail, phone,
//! IBAN, routing and account numbers, postal addresses), plus
//! organisation and person names by heuristics (a legal-form suffix; a
//! courtesy title or a name label before capitalised words). Where two
//! overlap, the more specific reading wins.

use std::sync::LazyLock;

use heron_core::understanding::Entity;
use heron_pii::PiiKind;
use regex::Regex;

use crate::normalise::{date_at, date_order_of, money_at};
use crate::page::Page;

static MONEY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:[$€£¥]|\b(?:USD|EUR|GBP|CAD|AUD|CHF)\s?)-?\s?\d[\d,.' ]*\d|\b\d{1,3}(?:[,.' ]\d{3})*[.,]\d{2}\b(?:\s?(?:€|EUR\b|USD\b|GBP\b))?")
        .expect("valid regex")
});
static PERCENT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b\d{1,3}(?:[.,]\d{1,3})?\s?%").expect("valid regex"));
static DATE_START: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(?:\d{1,4}[./-]\d|\d{1,2}(?:st|nd|rd|th|er)?\.?\s+(?:de\s+)?[^\W\d_]{3}|[^\W\d_]{3,9}\.?\s+\d{1,2}\b)")
        .expect("valid regex")
});
static ORGANISATION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(?:[A-Z][\w&'-]*\s+){0,4}[A-Z][\w&'-]*,?\s+(?:Inc\.?|LLC|Ltd\.?|Limited|PLC|plc|GmbH|AG|KG|S\.A\.|SA|SARL|SAS|S\.L\.|B\.V\.|N\.V\.|Corp\.?|Corporation|Company|Co\.|Bank|Group|Partners|Associates|Industries)(?:\s|$|[,.;)])")
        .expect("valid regex")
});
static PERSON: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:\b(?:Mr|Mrs|Ms|Miss|Dr|Prof|Herr|Frau|Mme|Sr|Sra)\.?\s+|(?i:\b(?:name|account holder|employee|payee|applicant|holder|recipient|dear|customer|patient|insured|policyholder|tenant|landlord)\b)\s*:?\s+)([A-Z][a-zà-ÿ'-]+(?:\s+[A-Z][a-zà-ÿ'-]+){1,2})")
        .expect("valid regex")
});

/// A found entity with its byte span, before overlaps are resolved.
struct Found {
    kind: &'static str,
    start: usize,
    end: usize,
    value: Option<String>,
    confidence: f64,
    priority: u8,
}

/// Every entity on every page, in reading order.
pub fn find(pages: &[Page<'_>]) -> Vec<Entity> {
    let mut entities = Vec::new();
    for page in pages {
        let mut found = Vec::new();
        pii(page.text, &mut found);
        dates(page.text, &mut found);
        money(page.text, &mut found);
        for m in PERCENT.find_iter(page.text) {
            found.push(simple("percent", m.start(), m.end(), 0.9, 3));
        }
        for m in ORGANISATION.find_iter(page.text) {
            let text = m.as_str().trim_end_matches([' ', ',', ';', ')', '\n']);
            found.push(simple(
                "organisation",
                m.start(),
                m.start() + text.len(),
                0.7,
                2,
            ));
        }
        for c in PERSON.captures_iter(page.text) {
            if let Some(name) = c.get(1) {
                found.push(simple("person", name.start(), name.end(), 0.7, 2));
            }
        }
        for f in resolve(found) {
            entities.push(Entity {
                kind: f.kind.to_owned(),
                text: page.text[f.start..f.end].to_owned(),
                value: f.value,
                confidence: f.confidence,
                source: page.source(f.start, f.end),
            });
        }
    }
    entities
}

fn simple(kind: &'static str, start: usize, end: usize, confidence: f64, priority: u8) -> Found {
    Found {
        kind,
        start,
        end,
        value: None,
        confidence,
        priority,
    }
}

fn pii(text: &str, found: &mut Vec<Found>) {
    for m in heron_pii::detect(text) {
        let kind = match m.kind {
            PiiKind::Email => "email",
            PiiKind::Phone => "phone",
            PiiKind::Iban => "iban",
            PiiKind::RoutingNumber => "routing_number",
            PiiKind::BankAccount => "account_number",
            PiiKind::PostalAddress => "address",
            // Dates of birth are dates; the others are not asked for as
            // entities (they are counted under `pii`).
            _ => continue,
        };
        found.push(simple(kind, m.start, m.end, f64::from(m.confidence), 6));
    }
}

fn dates(text: &str, found: &mut Vec<Found>) {
    let order = date_order_of(text);
    let mut after = 0;
    for m in DATE_START.find_iter(text) {
        if m.start() < after {
            continue;
        }
        if let Some((date, used)) = date_at(&text[m.start()..], order) {
            let end = m.start() + text[m.start()..m.start() + used].trim_end().len();
            found.push(Found {
                kind: "date",
                start: m.start(),
                end,
                value: Some(date.iso()),
                confidence: 0.95,
                priority: 5,
            });
            after = end;
        }
    }
}

fn money(text: &str, found: &mut Vec<Found>) {
    for m in MONEY.find_iter(text) {
        let Some((amount, used)) = money_at(m.as_str()) else {
            continue;
        };
        let end = m.start() + m.as_str()[..used].trim_end().len();
        found.push(Found {
            kind: "money",
            start: m.start(),
            end,
            value: Some(match &amount.currency {
                Some(code) => format!("{} {code}", amount.decimal()),
                None => amount.decimal(),
            }),
            confidence: if amount.currency.is_some() { 0.95 } else { 0.8 },
            priority: 4,
        });
    }
}

/// Greedy by priority, then length: each span is reported once.
fn resolve(mut found: Vec<Found>) -> Vec<Found> {
    found.sort_by(|a, b| {
        b.priority
            .cmp(&a.priority)
            .then((b.end - b.start).cmp(&(a.end - a.start)))
            .then(a.start.cmp(&b.start))
    });
    let mut kept: Vec<Found> = Vec::new();
    for f in found {
        if f.end > f.start && kept.iter().all(|k| f.end <= k.start || f.start >= k.end) {
            kept.push(f);
        }
    }
    kept.sort_by_key(|f| f.start);
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<(String, String)> {
        find(&[Page::new(1, text, &[])])
            .into_iter()
            .map(|e| (e.kind, e.text))
            .collect()
    }

    #[test]
    fn entities_of_every_kind_are_found() {
        let text = "Acme Holdings Inc. billed Mr John Smith on 15 March 2024 for $1,250.00 at 7.5% interest.\nContact billing@acme.example or +1 (415) 555-0100.\nIBAN DE89 3704 0044 0532 0130 00";
        let found = kinds(text);
        let has = |kind: &str, text: &str| found.iter().any(|(k, t)| k == kind && t == text);
        assert!(has("organisation", "Acme Holdings Inc."), "{found:?}");
        assert!(has("person", "John Smith"), "{found:?}");
        assert!(has("date", "15 March 2024"), "{found:?}");
        assert!(has("money", "$1,250.00"), "{found:?}");
        assert!(has("percent", "7.5%"), "{found:?}");
        assert!(has("email", "billing@acme.example"), "{found:?}");
        assert!(found.iter().any(|(k, _)| k == "phone"), "{found:?}");
        assert!(found.iter().any(|(k, _)| k == "iban"), "{found:?}");
    }

    #[test]
    fn a_date_is_not_also_an_amount() {
        let found = kinds("Paid on 15.03.2024");
        assert_eq!(found, vec![("date".to_owned(), "15.03.2024".to_owned())]);
    }
}
