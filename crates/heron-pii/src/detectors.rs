//! One detector per kind: a pattern, then the checks that keep look-alikes
//! out. Overlaps between detectors are settled by the caller.

use std::sync::LazyLock;

use regex::Regex;

use crate::checks::{
    aba_valid, card_prefix_plausible, iban_length, iban_valid, luhn_valid, ssn_valid,
};
use crate::{PiiKind, PiiMatch};

fn regex(pattern: &str) -> Regex {
    // The patterns are constants, compiled (and so checked) by the tests.
    Regex::new(pattern).unwrap_or_else(|e| panic!("PII pattern {pattern:?}: {e}"))
}

/// A label and the value it announces: `(label)(separator)(value)`.
/// `value` must be the pattern's only named group.
macro_rules! labelled {
    ($label:expr, $value:expr) => {
        concat!(
            r"(?i)\b(?:",
            $label,
            r")(?:\s+(?:number|num|no\.?|nr\.?|#))?\s*[:#.]?\s*(?P<value>",
            $value,
            r")"
        )
    };
}

static EMAIL: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"(?i)\b[a-z0-9][a-z0-9._%+-]{0,63}@[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?)*\.[a-z]{2,24}\b",
    )
});
static CARD: LazyLock<Regex> = LazyLock::new(|| regex(r"\b\d(?:[ -]?\d){12,18}\b"));
static IBAN: LazyLock<Regex> = LazyLock::new(|| regex(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}\b"));
static SSN: LazyLock<Regex> =
    LazyLock::new(|| regex(r"\b(?P<a>\d{3})-(?P<g>\d{2})-(?P<s>\d{4})\b"));
static SSN_LABELLED: LazyLock<Regex> = LazyLock::new(|| {
    regex(labelled!(
        r"ssn|social\s+security(?:\s+number)?",
        r"\d{3}[ -]?\d{2}[ -]?\d{4}"
    ))
});
static ROUTING: LazyLock<Regex> = LazyLock::new(|| {
    regex(labelled!(
        r"routing|aba|rtn|routing\s+transit|transit",
        r"\d{9}"
    ))
});
static ACCOUNT: LazyLock<Regex> = LazyLock::new(|| {
    regex(labelled!(
        r"(?:bank\s+|checking\s+|savings\s+)?account|acct\.?|a/c",
        r"[0-9*xX•](?:[ -]?[0-9*xX•]){5,19}"
    ))
});
static DOB: LazyLock<Regex> = LazyLock::new(|| {
    regex(labelled!(
        r"date\s+of\s+birth|birth\s*date|d\.?o\.?b\.?|born(?:\s+on)?|geburtsdatum|date\s+de\s+naissance|fecha\s+de\s+nacimiento",
        r"\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}|\d{4}-\d{2}-\d{2}|\d{1,2}\s+[a-z]{3,9}\.?\s+\d{4}|[a-z]{3,9}\.?\s+\d{1,2},?\s+\d{4}"
    ))
});
// Document numbers: a few letters at most, then a digit, so that a word
// after the label ("DRIVER LICENSE / License No. …") is never taken for
// the number and does not hide the label that follows it.
static PASSPORT: LazyLock<Regex> = LazyLock::new(|| {
    regex(labelled!(
        r"passport|reisepass|passeport|pasaporte",
        r"[A-Z]{0,3}\d[A-Z0-9]{4,8}"
    ))
});
static LICENCE: LazyLock<Regex> = LazyLock::new(|| {
    regex(labelled!(
        r"driver'?s?\s+licen[cs]e|driving\s+licen[cs]e|licen[cs]e|dl|f[üu]hrerschein",
        r"[A-Z]{0,4}\d[A-Z0-9-]{3,16}[A-Z0-9]"
    ))
});
static PHONE: LazyLock<Regex> = LazyLock::new(|| {
    regex(concat!(
        // International: +CC and groups.
        r"\+\d{1,3}(?:[ .-]?\(?\d{1,4}\)?){2,5}\d",
        // North American: (212) 555-0147, 212-555-0147, 212.555.0147.
        r"|(?:\b1[ .-]?)?(?:\(\d{3}\)\s?|\b\d{3}[.-])\d{3}[.-]\d{4}\b",
        // National with a trunk zero: 020 7946 0958, 030 12345678.
        r"|\b0\d{2,4} \d{3,4} ?\d{3,4}\b",
        // Plain groups: 212 555 0147 (only after a phone word).
        r"|\b\d{3} \d{3} \d{4}\b"
    ))
});
static PHONE_CONTEXT: LazyLock<Regex> =
    LazyLock::new(|| regex(r"(?i)(?:tel|phone|mobile|cell|fax|call|telefon|t[ée]l[ée]phone)\b"));
static US_ADDRESS: LazyLock<Regex> = LazyLock::new(|| {
    regex(concat!(
        // Words capitalised or in capitals (ID cards print addresses so).
        r"\b\d{1,6}\s+(?:[NSEW]\.?\s+)?(?:[A-Z][A-Za-z]+\.?\s+){1,4}",
        r"(?i:Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|Way|Place|Pl|Terrace|Parkway|Pkwy|Circle|Cir|Highway|Hwy)\b\.?",
        r"(?:,?\s+(?i:Apt|Suite|Ste|Unit|#)\.?\s*[A-Za-z0-9-]+)?",
        r"(?:,?\s+(?:[A-Z][A-Za-z]+\s+){0,2}[A-Z][A-Za-z]+,?\s+[A-Z]{2}\s+\d{5}(?:-\d{4})?)?"
    ))
});
static UK_ADDRESS: LazyLock<Regex> = LazyLock::new(|| {
    regex(concat!(
        r"\b\d{1,4}\s+(?:[A-Z][a-z]+\s+){1,3}(?:Street|Road|Lane|Avenue|Close|Gardens|Square|Crescent|Hill|Row|Mews|Walk)\b",
        r"(?:,?\s+[A-Z][a-z]+(?:\s+[A-Z][a-z]+)?)?,?\s+[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2}\b"
    ))
});
static PO_BOX: LazyLock<Regex> = LazyLock::new(|| {
    regex(concat!(
        r"\b(?:P\.?\s?O\.?\s+Box|Post\s+Office\s+Box)\s+\d{1,6}",
        r"(?:,?\s+(?:[A-Z][a-z]+\s+){0,2}[A-Z][a-z]+,?\s+[A-Z]{2}\s+\d{5}(?:-\d{4})?)?"
    ))
});
static DE_ADDRESS: LazyLock<Regex> = LazyLock::new(|| {
    regex(concat!(
        r"\b[A-ZÄÖÜ][a-zäöüß-]+(?:straße|strasse|str\.|weg|platz|allee|gasse|ring|damm)\s+\d{1,4}\s?[a-z]?",
        r",?\s+\d{5}\s+[A-ZÄÖÜ][a-zäöüß]+"
    ))
});

/// Every candidate of every kind (overlaps included).
pub(crate) fn all(text: &str) -> Vec<PiiMatch> {
    let mut found = Vec::new();
    emails(text, &mut found);
    cards(text, &mut found);
    ibans(text, &mut found);
    ssns(text, &mut found);
    labelled_values(text, &mut found);
    phones(text, &mut found);
    addresses(text, &mut found);
    found
}

fn push(found: &mut Vec<PiiMatch>, kind: PiiKind, start: usize, end: usize, confidence: f32) {
    found.push(PiiMatch {
        kind,
        start,
        end,
        confidence,
    });
}

fn emails(text: &str, found: &mut Vec<PiiMatch>) {
    for m in EMAIL.find_iter(text) {
        push(found, PiiKind::Email, m.start(), m.end(), 0.99);
    }
}

fn cards(text: &str, found: &mut Vec<PiiMatch>) {
    for m in CARD.find_iter(text) {
        let digits: String = m.as_str().chars().filter(char::is_ascii_digit).collect();
        if luhn_valid(&digits) && card_prefix_plausible(&digits) {
            push(found, PiiKind::CreditCard, m.start(), m.end(), 0.97);
        }
    }
}

fn ibans(text: &str, found: &mut Vec<PiiMatch>) {
    for m in IBAN.find_iter(text) {
        // The pattern may run on into following capitals ("… 00 BIC"):
        // take exactly the country's length.
        let Some(length) = iban_length(&m.as_str()[..2]) else {
            continue;
        };
        let mut compact = String::with_capacity(length);
        let mut end = m.start();
        for (offset, c) in m.as_str().char_indices() {
            if compact.len() == length {
                break;
            }
            if c != ' ' {
                compact.push(c);
            }
            end = m.start() + offset + c.len_utf8();
        }
        let followed_by_alnum = text[end..]
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric());
        if compact.len() == length && !followed_by_alnum && iban_valid(&compact) {
            push(found, PiiKind::Iban, m.start(), end, 0.99);
        }
    }
}

fn ssns(text: &str, found: &mut Vec<PiiMatch>) {
    for c in SSN.captures_iter(text) {
        let (Some(all), Some(a), Some(g), Some(s)) = (c.get(0), c.get(1), c.get(2), c.get(3))
        else {
            continue;
        };
        if ssn_valid(a.as_str(), g.as_str(), s.as_str()) {
            push(found, PiiKind::Ssn, all.start(), all.end(), 0.9);
        }
    }
    for c in SSN_LABELLED.captures_iter(text) {
        let Some(value) = c.name("value") else {
            continue;
        };
        let digits: String = value
            .as_str()
            .chars()
            .filter(char::is_ascii_digit)
            .collect();
        if digits.len() == 9 && ssn_valid(&digits[..3], &digits[3..5], &digits[5..]) {
            push(found, PiiKind::Ssn, value.start(), value.end(), 0.99);
        }
    }
}

/// Values that only their label makes personal: routing and account
/// numbers, dates of birth, passport and licence numbers.
fn labelled_values(text: &str, found: &mut Vec<PiiMatch>) {
    for c in ROUTING.captures_iter(text) {
        if let Some(v) = c.name("value").filter(|v| aba_valid(v.as_str())) {
            push(found, PiiKind::RoutingNumber, v.start(), v.end(), 0.97);
        }
    }
    for c in ACCOUNT.captures_iter(text) {
        if let Some(v) = c.name("value") {
            let symbols = v
                .as_str()
                .chars()
                .filter(|c| !matches!(c, ' ' | '-'))
                .count();
            if (6..=17).contains(&symbols) {
                push(found, PiiKind::BankAccount, v.start(), v.end(), 0.85);
            }
        }
    }
    for c in DOB.captures_iter(text) {
        if let Some(v) = c.name("value") {
            push(found, PiiKind::DateOfBirth, v.start(), v.end(), 0.93);
        }
    }
    for (pattern, kind) in [
        (&*PASSPORT, PiiKind::Passport),
        (&*LICENCE, PiiKind::DriversLicence),
    ] {
        for c in pattern.captures_iter(text) {
            let Some(v) = c.name("value") else { continue };
            let value = v.as_str();
            // A value needs digits, and capitals where it has letters (the
            // pattern is case-insensitive for its label's sake).
            let plausible = value.chars().any(|c| c.is_ascii_digit())
                && !value.chars().any(|c| c.is_ascii_lowercase());
            if plausible {
                push(found, kind, v.start(), v.end(), 0.88);
            }
        }
    }
}

fn phones(text: &str, found: &mut Vec<PiiMatch>) {
    for m in PHONE.find_iter(text) {
        let digits = m.as_str().chars().filter(char::is_ascii_digit).count();
        if !(10..=15).contains(&digits) {
            continue;
        }
        // Part of a longer number (an account, a card, grouped digits of
        // an IBAN): not a phone.
        let mut before = text[..m.start()].chars().rev();
        let mut after = text[m.end()..].chars();
        let joined = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric() || c == '-');
        let (b1, b2) = (before.next(), before.next());
        let (a1, a2) = (after.next(), after.next());
        if joined(b1)
            || joined(a1)
            || (b1 == Some(' ') && b2.is_some_and(|c| c.is_ascii_digit()))
            || (a1 == Some(' ') && a2.is_some_and(|c| c.is_ascii_digit()))
        {
            continue;
        }
        let window_start = floor_char_boundary(text, m.start().saturating_sub(24));
        let context = PHONE_CONTEXT.is_match(&text[window_start..m.start()]);
        let plain_groups = m.as_str().bytes().all(|b| b.is_ascii_digit() || b == b' ');
        if plain_groups && !m.as_str().starts_with('0') && !context {
            continue;
        }
        push(
            found,
            PiiKind::Phone,
            m.start(),
            m.end(),
            if context { 0.95 } else { 0.8 },
        );
    }
}

fn addresses(text: &str, found: &mut Vec<PiiMatch>) {
    for m in US_ADDRESS.find_iter(text) {
        // With city, state and ZIP code it is surely an address.
        let full = m.as_str().chars().rev().take(5).all(|c| c.is_ascii_digit());
        push(
            found,
            PiiKind::PostalAddress,
            m.start(),
            m.end(),
            if full { 0.95 } else { 0.8 },
        );
    }
    for pattern in [&*UK_ADDRESS, &*DE_ADDRESS, &*PO_BOX] {
        for m in pattern.find_iter(text) {
            push(found, PiiKind::PostalAddress, m.start(), m.end(), 0.92);
        }
    }
}

fn floor_char_boundary(text: &str, mut index: usize) -> usize {
    while index > 0 && !text.is_char_boundary(index) {
        index -= 1;
    }
    index
}
