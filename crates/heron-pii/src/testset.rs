//! A generated evaluation set: realistic document lines with personal
//! data inserted at known spans, mixed with the numbers business documents
//! are full of (invoice and order numbers, amounts, dates, tracking codes,
//! card-like numbers that fail Luhn, IBANs with wrong check digits) so
//! that precision means something. Deterministic for a seed.

use std::collections::BTreeMap;

use crate::checks::{iban_remainder, luhn_valid};
use crate::{PiiKind, detect};

/// One generated text and where its personal data is.
#[derive(Debug, Clone)]
pub struct Sample {
    pub text: String,
    pub truth: Vec<(PiiKind, usize, usize)>,
}

/// Precision and recall counts for one kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Score {
    pub true_positives: u32,
    pub false_positives: u32,
    pub false_negatives: u32,
}

impl Score {
    pub fn precision(&self) -> f64 {
        ratio(
            self.true_positives,
            self.true_positives + self.false_positives,
        )
    }
    pub fn recall(&self) -> f64 {
        ratio(
            self.true_positives,
            self.true_positives + self.false_negatives,
        )
    }
}

fn ratio(a: u32, b: u32) -> f64 {
    if b == 0 {
        1.0
    } else {
        f64::from(a) / f64::from(b)
    }
}

/// Score `detect` on `samples`: a detection counts when it overlaps a
/// true span of the same kind (each true span once).
pub fn evaluate(samples: &[Sample]) -> BTreeMap<PiiKind, Score> {
    let mut scores: BTreeMap<PiiKind, Score> = PiiKind::ALL
        .iter()
        .map(|k| (*k, Score::default()))
        .collect();
    for sample in samples {
        let mut matched = vec![false; sample.truth.len()];
        for found in detect(&sample.text) {
            let hit = sample
                .truth
                .iter()
                .enumerate()
                .position(|(i, (kind, start, end))| {
                    !matched[i] && *kind == found.kind && found.start < *end && found.end > *start
                });
            let score = scores.entry(found.kind).or_default();
            match hit {
                Some(i) => {
                    matched[i] = true;
                    score.true_positives += 1;
                }
                None => score.false_positives += 1,
            }
        }
        for (i, (kind, _, _)) in sample.truth.iter().enumerate() {
            if !matched[i] {
                scores.entry(*kind).or_default().false_negatives += 1;
            }
        }
    }
    scores
}

/// `count` samples from `seed`.
pub fn generate(count: usize, seed: u64) -> Vec<Sample> {
    let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    (0..count).map(|_| sample(&mut rng)).collect()
}

/// splitmix64: enough randomness for test data, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
    fn digits(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| char::from(b'0' + self.below(10) as u8))
            .collect()
    }
}

/// Builds a text piece by piece, recording the spans of inserted values.
#[derive(Default)]
struct Builder {
    text: String,
    truth: Vec<(PiiKind, usize, usize)>,
}

impl Builder {
    fn plain(&mut self, text: &str) {
        self.text.push_str(text);
    }
    fn value(&mut self, kind: PiiKind, value: &str) {
        let start = self.text.len();
        self.text.push_str(value);
        self.truth.push((kind, start, self.text.len()));
    }
}

const FIRST: &[&str] = &[
    "Jane", "John", "Maria", "Ahmed", "Chen", "Olivia", "Lukas", "Sofia",
];
const LAST: &[&str] = &[
    "Doe", "Smith", "Garcia", "Khan", "Wang", "Miller", "Schmidt", "Rossi",
];
const STREETS: &[&str] = &[
    "Main",
    "Oak",
    "Maple",
    "Cedar",
    "Elm",
    "Washington",
    "Lake View",
    "Park",
];
const SUFFIXES: &[&str] = &[
    "Street", "St", "Avenue", "Ave", "Road", "Blvd", "Lane", "Drive",
];
const CITIES: &[(&str, &str)] = &[
    ("Springfield", "IL"),
    ("Austin", "TX"),
    ("Denver", "CO"),
    ("Portland", "OR"),
    ("San Diego", "CA"),
    ("Albany", "NY"),
];
const DOMAINS: &[&str] = &[
    "example.com",
    "mail.example.org",
    "corp.example.net",
    "bank.example.co.uk",
];

fn sample(rng: &mut Rng) -> Sample {
    let mut b = Builder::default();
    let pieces = 2 + rng.below(3);
    for _ in 0..pieces {
        distractor(rng, &mut b);
        personal(rng, &mut b);
    }
    distractor(rng, &mut b);
    Sample {
        text: b.text,
        truth: b.truth,
    }
}

/// A line with one piece of personal data.
fn personal(rng: &mut Rng, b: &mut Builder) {
    match rng.below(11) {
        0 => {
            b.plain(rng.pick(&[
                "Contact: ",
                "E-mail ",
                "Please reply to ",
                "Send statements to ",
            ]));
            let value = format!(
                "{}.{}{}@{}",
                rng.pick(FIRST).to_lowercase(),
                rng.pick(LAST).to_lowercase(),
                rng.below(100),
                rng.pick(DOMAINS)
            );
            b.value(PiiKind::Email, &value);
            b.plain(". ");
        }
        1 => {
            b.plain(rng.pick(&[
                "Phone: ",
                "Tel. ",
                "Call us on ",
                "Mobile ",
                "Customer line ",
            ]));
            b.value(PiiKind::Phone, &phone(rng));
            b.plain("\n");
        }
        2 => {
            b.plain(rng.pick(&[
                "Employee SSN: ",
                "SSN ",
                "Social Security Number: ",
                "Taxpayer ID (SSN) ",
            ]));
            let area = 1 + rng.below(899);
            let area = if area == 666 { 667 } else { area };
            let value = format!(
                "{area:03}-{:02}-{:04}",
                1 + rng.below(99),
                1 + rng.below(9999)
            );
            b.value(PiiKind::Ssn, &value);
            b.plain("\n");
        }
        3 => {
            b.plain(rng.pick(&[
                "Card number ",
                "Paid with card ",
                "Card on file: ",
                "Charged to ",
            ]));
            b.value(PiiKind::CreditCard, &card(rng, true));
            b.plain(rng.pick(&[", exp. 09/27.\n", " (Visa)\n", ".\n"]));
        }
        4 => {
            b.plain(rng.pick(&[
                "IBAN: ",
                "Please transfer to IBAN ",
                "Beneficiary account ",
                "Pay to ",
            ]));
            b.value(PiiKind::Iban, &iban(rng, true));
            b.plain(rng.pick(&[" BIC DEUTDEFF\n", "\n", ", reference INV-2024-0042.\n"]));
        }
        5 => {
            b.plain(rng.pick(&["Routing number: ", "ABA ", "Routing No. ", "RTN: "]));
            b.value(PiiKind::RoutingNumber, &routing(rng));
            b.plain("\n");
        }
        6 => {
            b.plain(rng.pick(&[
                "Account number: ",
                "Account No. ",
                "Acct # ",
                "Checking account ",
            ]));
            let value = if rng.below(3) == 0 {
                format!("****{}", rng.digits(4))
            } else {
                let length = 8 + rng.below(5);
                rng.digits(length)
            };
            b.value(PiiKind::BankAccount, &value);
            b.plain("\n");
        }
        7 => {
            b.plain(rng.pick(&["Date of birth: ", "DOB ", "Born on ", "Birth date: "]));
            let value = match rng.below(3) {
                0 => format!(
                    "{:02}/{:02}/{}",
                    1 + rng.below(12),
                    1 + rng.below(28),
                    1940 + rng.below(65)
                ),
                1 => format!(
                    "{}-{:02}-{:02}",
                    1940 + rng.below(65),
                    1 + rng.below(12),
                    1 + rng.below(28)
                ),
                _ => format!(
                    "{} {} {}",
                    1 + rng.below(28),
                    rng.pick(&["January", "March", "July", "Oct"]),
                    1940 + rng.below(65)
                ),
            };
            b.value(PiiKind::DateOfBirth, &value);
            b.plain("\n");
        }
        8 => {
            b.plain(rng.pick(&["Passport No: ", "Passport number ", "Passport # "]));
            let value = format!("{}{}", rng.pick(&["X", "K", "C", "P", ""]), rng.digits(8));
            b.value(PiiKind::Passport, &value);
            b.plain("\n");
        }
        9 => {
            b.plain(rng.pick(&[
                "Driver's License No: ",
                "DL # ",
                "Driving licence number ",
                "License No. ",
            ]));
            let value = match rng.below(3) {
                0 => format!("D{}", rng.digits(7)),
                1 => format!("S{}-{}-{}", rng.digits(3), rng.digits(4), rng.digits(4)),
                _ => format!("{}{}", rng.pick(&["A", "B", "F"]), rng.digits(8)),
            };
            b.value(PiiKind::DriversLicence, &value);
            b.plain("\n");
        }
        _ => {
            b.plain(rng.pick(&[
                "Ship to: ",
                "Mailing address\n",
                "Billing address: ",
                "Residence: ",
            ]));
            b.value(PiiKind::PostalAddress, &address(rng));
            b.plain("\n");
        }
    }
}

/// A line of business numbers that are not personal data.
fn distractor(rng: &mut Rng, b: &mut Builder) {
    let line = match rng.below(12) {
        // Look-alikes next to the labels the detectors read.
        9 => format!(
            "Invoice date: 0{}/1{}/2024 - License key ABCD-{}-EFGH\n",
            1 + rng.below(9),
            rng.below(9),
            rng.digits(4)
        ),
        10 => format!(
            "Account manager: Sam Lee, service account for plan {}\n",
            rng.digits(3)
        ),
        11 => format!(
            "Ref No. K{} - customer since {}\n",
            rng.digits(8),
            1990 + rng.below(30)
        ),
        0 => format!(
            "Invoice INV-{}-{} dated 2024-0{}-1{}\n",
            2020 + rng.below(6),
            rng.digits(5),
            1 + rng.below(9),
            rng.below(9)
        ),
        1 => format!(
            "Total due: ${},{}.{} (VAT {}%)\n",
            1 + rng.below(9),
            rng.digits(3),
            rng.digits(2),
            5 + rng.below(20)
        ),
        2 => {
            let length = 9 + rng.below(6);
            format!(
                "Order number {} shipped on 03/0{}/2024\n",
                rng.digits(length),
                1 + rng.below(9)
            )
        }
        3 => format!("Reference {}\n", card(rng, false)),
        4 => format!("Old account reference {} (closed)\n", iban(rng, false)),
        5 => format!(
            "Tracking 1Z{}{}\n",
            rng.pick(&["999AA1", "A12B34", "X9Y8Z7"]),
            rng.digits(10)
        ),
        6 => format!(
            "Page {} of {} - printed 10:3{} - batch {}-{}\n",
            1 + rng.below(9),
            10 + rng.below(9),
            rng.below(9),
            rng.digits(4),
            rng.digits(3)
        ),
        7 => format!(
            "Policy no. POL-{} effective 01.0{}.2025, premium EUR {},{}\n",
            rng.digits(7),
            1 + rng.below(9),
            rng.digits(3),
            rng.digits(2)
        ),
        _ => format!(
            "Item {} qty {} @ {}.{} = {}.{}\n",
            rng.digits(6),
            1 + rng.below(20),
            rng.digits(2),
            rng.digits(2),
            rng.digits(3),
            rng.digits(2)
        ),
    };
    b.plain(&line);
}

fn phone(rng: &mut Rng) -> String {
    let (area, mid, last) = (200 + rng.below(800), 200 + rng.below(800), rng.digits(4));
    match rng.below(7) {
        // Written plainly, as people do.
        6 => format!("{area} {mid} {last}"),
        0 => format!("({area}) {mid}-{last}"),
        1 => format!("{area}-{mid}-{last}"),
        2 => format!("+1 {area} {mid} {last}"),
        3 => format!("+44 20 {} {}", rng.digits(4), rng.digits(4)),
        4 => format!("+49 30 {}", rng.digits(8)),
        _ => format!(
            "+33 1 {} {} {} {}",
            rng.digits(2),
            rng.digits(2),
            rng.digits(2),
            rng.digits(2)
        ),
    }
}

/// A card number whose Luhn digit is right (`valid`) or off by one.
fn card(rng: &mut Rng, valid: bool) -> String {
    let (prefix, length) = match rng.below(4) {
        0 => ("4", 16),
        1 => ("5", 16),
        2 => ("37", 15),
        _ => ("6011", 16),
    };
    let mut digits = format!("{prefix}{}", rng.digits(length - prefix.len() - 1));
    if prefix == "5" {
        digits.replace_range(1..2, &(1 + rng.below(5)).to_string());
    }
    let check = (0..10)
        .map(|d| format!("{digits}{d}"))
        .find(|candidate| luhn_valid(candidate) == valid)
        .unwrap_or_default();
    match rng.below(3) {
        0 => check,
        1 => group(&check, ' '),
        _ => group(&check, '-'),
    }
}

fn group(digits: &str, separator: char) -> String {
    digits
        .as_bytes()
        .chunks(4)
        .map(|chunk| String::from_utf8_lossy(chunk).into_owned())
        .collect::<Vec<_>>()
        .join(&separator.to_string())
}

/// An IBAN with right (`valid`) or wrong check digits.
fn iban(rng: &mut Rng, valid: bool) -> String {
    let (country, bban) = match rng.below(5) {
        0 => ("DE", rng.digits(18)),
        1 => (
            "GB",
            format!("{}{}", rng.pick(&["WEST", "BARC", "NWBK"]), rng.digits(14)),
        ),
        2 => ("FR", rng.digits(23)),
        3 => (
            "NL",
            format!("{}{}", rng.pick(&["ABNA", "INGB", "RABO"]), rng.digits(10)),
        ),
        _ => ("ES", rng.digits(20)),
    };
    let remainder = iban_remainder(&bban, &format!("{country}00"));
    let mut check = 98 - remainder;
    if !valid {
        check = (check + 1 + rng.below(90) as u32) % 97 + 2;
        if check == 98 - remainder {
            check = if check > 2 { check - 1 } else { check + 1 };
        }
    }
    let compact = format!("{country}{check:02}{bban}");
    if rng.below(2) == 0 {
        compact
    } else {
        group(&compact, ' ')
    }
}

/// An ABA routing number with a valid checksum.
fn routing(rng: &mut Rng) -> String {
    let mut digits: Vec<u32> = (0..8).map(|_| rng.below(10) as u32).collect();
    let partial = 3 * (digits[0] + digits[3] + digits[6])
        + 7 * (digits[1] + digits[4] + digits[7])
        + (digits[2] + digits[5]);
    digits.push((10 - partial % 10) % 10);
    digits.iter().map(|d| char::from(b'0' + *d as u8)).collect()
}

fn address(rng: &mut Rng) -> String {
    match rng.below(5) {
        4 => format!("PO Box {}, Austin, TX 787{}", rng.digits(4), rng.digits(2)),
        0 => "10 Downing Street, London SW1A 2AA".to_owned(),
        1 => format!(
            "{}straße {}, {} Berlin",
            rng.pick(&["Haupt", "Linden", "Garten"]),
            1 + rng.below(120),
            10_000 + rng.below(5000)
        ),
        _ => {
            let (city, state) = CITIES[rng.below(CITIES.len())];
            let separator = if rng.below(2) == 0 { ", " } else { "\n" };
            format!(
                "{} {} {}{separator}{city}, {state} {}",
                1 + rng.below(9999),
                rng.pick(STREETS),
                rng.pick(SUFFIXES),
                rng.digits(5)
            )
        }
    }
}
