//! Personal data in extracted text: detection and redaction.
//!
//! [`detect`] finds e-mail addresses, phone numbers, US social security
//! numbers, payment card numbers (Luhn-checked), IBANs (mod-97-checked),
//! bank account and ABA routing numbers (checksum), dates of birth,
//! passport and driver's licence numbers, and postal addresses. Each match
//! has its kind, its byte span in the text and a confidence. Numbers that
//! carry check digits are reported only when the digits check; the others
//! need the words that announce them ("Account number", "DOB",
//! "Passport No."), because a bare run of digits is more often an invoice
//! or order number than personal data.
//!
//! [`redact`] replaces every match with its placeholder (`[EMAIL]`,
//! `[SSN]`…). [`summary`] counts matches by kind: what a result may carry,
//! since it never holds the values themselves.
//!
//! Measured on generated text (`examples/pii_eval.rs`, and the
//! thresholds asserted by `tests`): see `testset`.

mod checks;
mod detectors;
pub mod testset;

use std::collections::BTreeMap;

pub use checks::{aba_valid, iban_remainder, iban_valid, luhn_valid, ssn_valid};
use serde::Serialize;

/// A kind of personal data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PiiKind {
    Email,
    Phone,
    Ssn,
    CreditCard,
    Iban,
    BankAccount,
    RoutingNumber,
    DateOfBirth,
    Passport,
    DriversLicence,
    PostalAddress,
}

impl PiiKind {
    pub const ALL: [PiiKind; 11] = [
        PiiKind::Email,
        PiiKind::Phone,
        PiiKind::Ssn,
        PiiKind::CreditCard,
        PiiKind::Iban,
        PiiKind::BankAccount,
        PiiKind::RoutingNumber,
        PiiKind::DateOfBirth,
        PiiKind::Passport,
        PiiKind::DriversLicence,
        PiiKind::PostalAddress,
    ];

    /// The name in summaries: `credit_card`, `iban`…
    pub fn as_str(self) -> &'static str {
        match self {
            PiiKind::Email => "email",
            PiiKind::Phone => "phone",
            PiiKind::Ssn => "ssn",
            PiiKind::CreditCard => "credit_card",
            PiiKind::Iban => "iban",
            PiiKind::BankAccount => "bank_account",
            PiiKind::RoutingNumber => "routing_number",
            PiiKind::DateOfBirth => "date_of_birth",
            PiiKind::Passport => "passport",
            PiiKind::DriversLicence => "drivers_licence",
            PiiKind::PostalAddress => "postal_address",
        }
    }

    /// What redacted text shows instead of the value.
    pub fn placeholder(self) -> &'static str {
        match self {
            PiiKind::Email => "[EMAIL]",
            PiiKind::Phone => "[PHONE]",
            PiiKind::Ssn => "[SSN]",
            PiiKind::CreditCard => "[CARD]",
            PiiKind::Iban => "[IBAN]",
            PiiKind::BankAccount => "[ACCOUNT]",
            PiiKind::RoutingNumber => "[ROUTING]",
            PiiKind::DateOfBirth => "[DOB]",
            PiiKind::Passport => "[PASSPORT]",
            PiiKind::DriversLicence => "[LICENCE]",
            PiiKind::PostalAddress => "[ADDRESS]",
        }
    }

    /// Which kind wins where two matches overlap: check-digit kinds first,
    /// then those announced by a label, then the pattern-only ones.
    fn priority(self) -> u8 {
        match self {
            PiiKind::Iban => 10,
            PiiKind::CreditCard => 9,
            PiiKind::RoutingNumber => 8,
            PiiKind::Ssn => 7,
            PiiKind::Email => 6,
            PiiKind::DateOfBirth => 5,
            PiiKind::Passport | PiiKind::DriversLicence => 4,
            PiiKind::BankAccount => 3,
            PiiKind::PostalAddress => 2,
            PiiKind::Phone => 1,
        }
    }
}

/// One piece of personal data found in a text.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PiiMatch {
    pub kind: PiiKind,
    /// Byte offsets into the text: `text[start..end]` is the value.
    pub start: usize,
    pub end: usize,
    /// How sure the detector is, 0–1.
    pub confidence: f32,
}

/// Every piece of personal data in `text`, in text order, without
/// overlaps.
pub fn detect(text: &str) -> Vec<PiiMatch> {
    let mut found = detectors::all(text);
    // Greedy by priority, then length: the better explanation of a span
    // wins, and a span is reported once.
    found.sort_by(|a, b| {
        b.kind
            .priority()
            .cmp(&a.kind.priority())
            .then((b.end - b.start).cmp(&(a.end - a.start)))
            .then(a.start.cmp(&b.start))
    });
    let mut kept: Vec<PiiMatch> = Vec::new();
    for candidate in found {
        if kept
            .iter()
            .all(|k| candidate.end <= k.start || candidate.start >= k.end)
        {
            kept.push(candidate);
        }
    }
    kept.sort_by_key(|m| m.start);
    kept
}

/// `text` with every match replaced by its placeholder.
pub fn redact(text: &str, matches: &[PiiMatch]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for m in matches {
        if m.start < at || m.end > text.len() {
            continue;
        }
        out.push_str(&text[at..m.start]);
        out.push_str(m.kind.placeholder());
        at = m.end;
    }
    out.push_str(&text[at..]);
    out
}

/// Detect and redact in one go.
pub fn redact_text(text: &str) -> String {
    redact(text, &detect(text))
}

/// How many matches of each kind (the values are never included).
pub fn summary(matches: &[PiiMatch]) -> BTreeMap<String, u32> {
    let mut counts = BTreeMap::new();
    for m in matches {
        *counts.entry(m.kind.as_str().to_owned()).or_insert(0) += 1;
    }
    counts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<(PiiKind, &str)> {
        detect(text)
            .into_iter()
            .map(|m| (m.kind, &text[m.start..m.end]))
            .collect()
    }

    #[test]
    fn checked_numbers_are_found_and_look_alikes_are_not() {
        let text = "Card 4111 1111 1111 1111, order 4111 1111 1111 1112. \
                    IBAN DE89 3704 0044 0532 0130 00 and DE89 3704 0044 0532 0130 01. \
                    SSN 123-45-6789, not 666-45-6789.";
        assert_eq!(
            kinds(text),
            [
                (PiiKind::CreditCard, "4111 1111 1111 1111"),
                (PiiKind::Iban, "DE89 3704 0044 0532 0130 00"),
                (PiiKind::Ssn, "123-45-6789"),
            ]
        );
    }

    #[test]
    fn labelled_values_are_found() {
        let text = "Routing number: 021000021\nAccount No. 000123456789\n\
                    Date of birth: 04/12/1986\nPassport No: X12345678\n\
                    Driver's License No: D1234567\nEmail: jane.doe@example.com\n\
                    Phone: (212) 555-0147\nShip to: 1600 Pennsylvania Avenue, Washington, DC 20500";
        let found: Vec<PiiKind> = kinds(text).into_iter().map(|(k, _)| k).collect();
        assert_eq!(
            found,
            [
                PiiKind::RoutingNumber,
                PiiKind::BankAccount,
                PiiKind::DateOfBirth,
                PiiKind::Passport,
                PiiKind::DriversLicence,
                PiiKind::Email,
                PiiKind::Phone,
                PiiKind::PostalAddress,
            ]
        );
    }

    #[test]
    fn an_ocr_read_licence_card_is_found() {
        // Text Tesseract reads from the shared sample drivers_license_1.jpg.
        let text = "ANY STATE\n\nDRIVER LICENSE\n\nLicense No. P99999999 Expires 00-00-00\n\n\
                    JOE A SAMPLE\n\n123 ANY STREET\n\nANYTOWN, ANY STATE 99999\n\
                    Sex: M Hair: Black\nEyes: Brown DOB: 01-01-81\n";
        let found: Vec<(PiiKind, &str)> = kinds(text);
        assert_eq!(
            found,
            [
                (PiiKind::DriversLicence, "P99999999"),
                (PiiKind::PostalAddress, "123 ANY STREET"),
                (PiiKind::DateOfBirth, "01-01-81"),
            ]
        );
    }

    #[test]
    fn redaction_replaces_values_and_summary_counts_kinds() {
        let text = "Write to jane@example.com or john@example.org; SSN 123-45-6789.";
        let matches = detect(text);
        assert_eq!(
            redact(text, &matches),
            "Write to [EMAIL] or [EMAIL]; SSN [SSN]."
        );
        let counts = summary(&matches);
        assert_eq!(counts["email"], 2);
        assert_eq!(counts["ssn"], 1);
    }

    #[test]
    fn business_numbers_are_not_personal_data() {
        let text = "Invoice INV-2024-00123 dated 2024-03-01, total $1,234.56 (VAT 20%). \
                    Order 982734651 shipped; tracking 1Z999AA10123456784. Page 3 of 12.";
        assert_eq!(kinds(text), []);
    }

    #[test]
    fn the_generated_set_meets_the_goals() {
        let report = testset::evaluate(&testset::generate(400, 7));
        for kind in [
            PiiKind::CreditCard,
            PiiKind::Iban,
            PiiKind::Ssn,
            PiiKind::RoutingNumber,
        ] {
            let score = &report[&kind];
            assert!(
                score.precision() >= 0.95 && score.recall() >= 0.95,
                "{kind:?}: {score:?}"
            );
        }
        for (kind, score) in &report {
            assert!(
                score.precision() >= 0.85 && score.recall() >= 0.85,
                "{kind:?}: {score:?}"
            );
        }
    }
}
