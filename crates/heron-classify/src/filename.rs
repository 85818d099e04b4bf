//! The file-name signal: a weak hint, never a verdict.
//!
//! Real uploads are called `scan_0042.pdf` or `IMG_2231.jpg`; when a name
//! does carry a hint ("invoice_march.pdf") it is often wrong (a statement
//! saved under the invoice's name). So the hint's confidence is capped
//! well below the early-exit level and the pipeline weighs it lightly
//! against content.

use std::sync::LazyLock;

use regex::Regex;

/// Confidence given to a single, unambiguous name hint.
pub const NAME_HINT_CONFIDENCE: f64 = 0.85;
/// Confidence when the name hints at several types at once.
pub const AMBIGUOUS_NAME_CONFIDENCE: f64 = 0.5;

/// (label, pattern) pairs. Patterns match within a name whose separators
/// (`_`, `-`, `.`, spaces) were turned into spaces.
static PATTERNS: LazyLock<Vec<(&'static str, Regex)>> = LazyLock::new(|| {
    [
        ("invoice", r"\b(invoice|invoices|inv ?\d+|rechnung|facture|factura|fattura|bill)\b"),
        ("bank_statement", r"\b(bank statement|statement|stmt|kontoauszug|releve|extracto|estratto)\b"),
        ("financial_report", r"\b(financial|annual report|quarterly|report|10 ?k|10 ?q|balance sheet|income statement|p ?l)\b"),
        ("drivers_licence", r"\b(driver|drivers|driving|licen[cs]e|dl|permis|fuhrerschein|führerschein)\b"),
        ("contract", r"\b(contract|agreement|nda|vertrag|contrat|contrato|lease)\b"),
        ("email", r"\b(email|e mail|mail|eml|msg)\b"),
        ("form", r"\b(form|application|formular|formulaire|formulario|antrag)\b"),
    ]
    .into_iter()
    .map(|(label, pattern)| {
        // The patterns are literals checked by the tests below.
        let regex = Regex::new(&format!("(?i){pattern}")).expect("valid built-in pattern");
        (label, regex)
    })
    .collect()
});

/// What a file name suggests: a label id and a confidence, or nothing.
#[derive(Debug, Clone, PartialEq)]
pub struct NameHint {
    pub label: String,
    pub confidence: f64,
}

/// The name patterns of a taxonomy: the built-in multilingual ones of the
/// original seven types, and for every other type its id and display name
/// as words (`pay_slip` and "Pay slip" match `Pay-Slip_March.pdf`), so
/// a type added by a taxonomy file gets its name hint without code.
#[derive(Debug, Clone)]
pub struct NamePatterns {
    patterns: Vec<(String, Regex)>,
}

impl NamePatterns {
    pub fn of(taxonomy: &crate::Taxonomy) -> NamePatterns {
        let mut patterns: Vec<(String, Regex)> = PATTERNS
            .iter()
            .map(|(label, regex)| ((*label).to_owned(), regex.clone()))
            .collect();
        for document_type in &taxonomy.types {
            let id = document_type.id.as_str();
            if patterns.iter().any(|(label, _)| label == id) {
                continue;
            }
            let words = |text: &str| -> String {
                text.split(|c: char| !c.is_alphanumeric())
                    .filter(|w| !w.is_empty())
                    .map(regex::escape)
                    .collect::<Vec<_>>()
                    .join(" ")
            };
            let alternatives = [words(id), words(&document_type.name)];
            let pattern = format!("(?i)\\b({}|{})\\b", alternatives[0], alternatives[1]);
            if let Ok(regex) = Regex::new(&pattern) {
                patterns.push((id.to_owned(), regex));
            }
        }
        NamePatterns { patterns }
    }

    /// The hint carried by `filename`, if any. `known` filters out labels
    /// the active model does not have.
    pub fn hint(&self, filename: &str, known: impl Fn(&str) -> bool) -> Option<NameHint> {
        find(
            self.patterns.iter().map(|(l, r)| (l.as_str(), r)),
            filename,
            known,
        )
    }
}

fn find<'a>(
    patterns: impl Iterator<Item = (&'a str, &'a Regex)>,
    filename: &str,
    known: impl Fn(&str) -> bool,
) -> Option<NameHint> {
    let stem = filename.rsplit_once('.').map_or(filename, |(stem, _)| stem);
    let spaced: String = stem
        .chars()
        .map(|c| {
            if matches!(c, '_' | '-' | '.' | '+') {
                ' '
            } else {
                c
            }
        })
        .collect();
    // "bank statement" would also match "statement" in financial_report's
    // "income statement": take the earliest, longest match per label.
    let mut matches: Vec<(usize, &str)> = patterns
        .filter(|(label, _)| known(label))
        .filter_map(|(label, regex)| regex.find(&spaced).map(|m| (m.start(), label)))
        .collect();
    matches.sort();
    let confidence = match matches.len() {
        0 => return None,
        1 => NAME_HINT_CONFIDENCE,
        _ => AMBIGUOUS_NAME_CONFIDENCE,
    };
    Some(NameHint {
        label: matches[0].1.to_owned(),
        confidence,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hint(name: &str, known: impl Fn(&str) -> bool) -> Option<NameHint> {
        NamePatterns::of(&crate::Taxonomy::default_taxonomy()).hint(name, known)
    }

    fn check(name: &str, expected: Option<&str>) {
        let got = hint(name, |_| true).map(|h| h.label);
        assert_eq!(got.as_deref(), expected, "{name}");
    }

    #[test]
    fn names_give_hints() {
        check("invoice_1.pdf", Some("invoice"));
        check("Rechnung-2024-03.pdf", Some("invoice"));
        check("bank_statement_2.pdf", Some("bank_statement"));
        check("drivers_license_1.jpg", Some("drivers_licence"));
        check("sample_financial_report.docx", Some("financial_report"));
        check("form_cb775b0e.txt", Some("form"));
        check("scan_0042.pdf", None);
        check("IMG_2231.jpg", None);
        check("upload_01.pdf", None);
    }

    #[test]
    fn several_hints_are_ambiguous() {
        let h = hint("invoice_and_contract.pdf", |_| true).unwrap();
        assert_eq!(h.confidence, AMBIGUOUS_NAME_CONFIDENCE);
    }

    #[test]
    fn every_taxonomy_type_has_a_name_hint() {
        let patterns = NamePatterns::of(&crate::Taxonomy::default_taxonomy());
        let of = |name: &str| patterns.hint(name, |_| true).map(|h| h.label);
        assert_eq!(of("Pay-Slip_March.pdf").as_deref(), Some("pay_slip"));
        assert_eq!(
            of("bill_of_lading_77.pdf").as_deref(),
            Some("bill_of_lading")
        );
        assert_eq!(of("Rechnung-2024-03.pdf").as_deref(), Some("invoice"));
        assert_eq!(of("IMG_2231.jpg"), None);
    }

    #[test]
    fn unknown_labels_are_ignored() {
        assert_eq!(hint("invoice.pdf", |l| l != "invoice"), None);
    }
}
