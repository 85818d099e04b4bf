//! A generated evaluation set for field extraction: documents of the
//! types whose fields the default taxonomy declares, written from values
//! drawn at random, with those values (normalised) as the truth.
//!
//! Documents vary what real ones vary: label wording (several per field,
//! English and German), where the value stands (after a colon, after a
//! wide gap, on the next line, two fields a line), date and amount
//! formats, and the order of the fields. Names and companies come from
//! lists of their own, not the classifier's training generator. `heron
//! eval-fields` renders them in every format, scans some, and scores what
//! extraction reads back.

use std::collections::BTreeMap;

use heron_classify::rng::Rng;
use heron_classify::synth::MONTHS;

/// One generated document and what it says.
#[derive(Debug, Clone)]
pub struct FieldSample {
    /// Taxonomy type id.
    pub label: String,
    pub text: String,
    /// Field name → normalised value, as extraction should report it.
    pub truth: BTreeMap<String, String>,
    /// Whether the statement's transactions must reconcile.
    pub has_transactions: bool,
}

/// The original service's sample documents (`../shared/corpus/samples`)
/// with their types, for packets and benchmarks.
pub const SAMPLE_FILES: &[(&str, &str)] = &[
    ("bank_statement_1.pdf", "bank_statement"),
    ("bank_statement_2.pdf", "bank_statement"),
    ("bank_statement_3.pdf", "bank_statement"),
    ("invoice_1.pdf", "invoice"),
    ("invoice_2.pdf", "invoice"),
    ("invoice_3.pdf", "invoice"),
    ("drivers_license_1.jpg", "drivers_licence"),
    ("drivers_licence_2.jpg", "drivers_licence"),
    ("drivers_license_3.jpg", "drivers_licence"),
];

/// The types generated, in order.
pub const TYPES: &[&str] = &[
    "invoice",
    "bank_statement",
    "drivers_licence",
    "id_card",
    "pay_slip",
    "w2",
    "form_1099",
    "utility_bill",
    "receipt",
    "contract",
];

const GIVEN: &[&str] = &[
    "Amelia",
    "Jonas",
    "Priya",
    "Mateo",
    "Hannah",
    "Oluwaseun",
    "Chloé",
    "Viktor",
    "Sofia",
    "Kenji",
    "Grace",
    "Lukas",
    "Inés",
    "Daniel",
    "Fatima",
    "Henrik",
];
const FAMILY: &[&str] = &[
    "Whitfield",
    "Brandt",
    "Raman",
    "Ortega",
    "Keller",
    "Adeyemi",
    "Moreau",
    "Novak",
    "Lindqvist",
    "Tanaka",
    "Okafor",
    "Fischer",
    "Castillo",
    "Murphy",
    "Haddad",
    "Berg",
];
const ORG_WORDS: &[&str] = &[
    "Northwind",
    "Bluestone",
    "Harbor",
    "Summit",
    "Alder",
    "Crescent",
    "Pinecrest",
    "Ironbridge",
    "Meridian",
    "Foxglove",
    "Granite",
    "Silverline",
];
const ORG_KINDS: &[&str] = &[
    "Supplies Ltd",
    "Consulting LLC",
    "Industries Inc.",
    "Logistics GmbH",
    "Partners LLP",
    "Trading Co.",
    "Systems Corp.",
];
const BANKS: &[&str] = &[
    "Riverside Savings Bank",
    "First Meridian Bank",
    "Harbor Federal Credit Union",
    "Kreissparkasse Nordtal",
    "Union Commerce Bank",
];
const UTILITIES: &[&str] = &[
    "Brightwater Energy",
    "Cityline Power & Gas",
    "Stadtwerke Elbtal",
    "Clearspring Water Services",
];
const MERCHANTS: &[&str] = &[
    "Corner Market",
    "Bean & Leaf Café",
    "Hardware Depot",
    "Green Basket Grocers",
];
const STATES: &[&str] = &[
    "California",
    "Texas",
    "New York",
    "Ontario",
    "Bavaria",
    "Victoria",
];
const COUNTRIES: &[&str] = &[
    "Germany",
    "France",
    "Spain",
    "Netherlands",
    "Ireland",
    "Italy",
];
const MONATE: &[&str] = &[
    "Januar",
    "Februar",
    "März",
    "April",
    "Mai",
    "Juni",
    "Juli",
    "August",
    "September",
    "Oktober",
    "November",
    "Dezember",
];

/// How a document writes dates and amounts.
#[derive(Debug, Clone, Copy)]
struct Style {
    german: bool,
    date_format: usize,
    currency: &'static str,
}

/// `per_type` documents of each of [`TYPES`], deterministic for `seed`.
pub fn generate(per_type: usize, seed: u64) -> Vec<FieldSample> {
    let mut rng = Rng::new(seed);
    let mut out = Vec::new();
    for (index, label) in TYPES.iter().enumerate() {
        let mut type_rng = rng.fork(index as u64);
        for _ in 0..per_type {
            let mut doc = type_rng.fork(1);
            out.push(document(label, &mut doc));
        }
    }
    out
}

fn document(label: &str, rng: &mut Rng) -> FieldSample {
    // German wording only where the taxonomy's labels cover it.
    let german_ok = matches!(
        label,
        "invoice" | "bank_statement" | "pay_slip" | "utility_bill"
    );
    let german = german_ok && rng.chance(0.25);
    let style = Style {
        german,
        date_format: if german { 4 } else { rng.below(4) },
        currency: if german {
            "EUR"
        } else {
            rng.pick_str(&["USD", "USD", "GBP", "EUR"])
        },
    };
    let mut w = Writer::new(style, rng.below(4));
    let mut truth = BTreeMap::new();
    let mut has_transactions = false;
    match label {
        "invoice" => invoice(&mut w, &mut truth, rng),
        "bank_statement" => {
            bank_statement(&mut w, &mut truth, rng);
            has_transactions = true;
        }
        "drivers_licence" => licence(&mut w, &mut truth, rng),
        "id_card" => id_card(&mut w, &mut truth, rng),
        "pay_slip" => pay_slip(&mut w, &mut truth, rng),
        "w2" => w2(&mut w, &mut truth, rng),
        "form_1099" => form_1099(&mut w, &mut truth, rng),
        "utility_bill" => utility_bill(&mut w, &mut truth, rng),
        "receipt" => receipt(&mut w, &mut truth, rng),
        _ => contract(&mut w, &mut truth, rng),
    }
    FieldSample {
        label: label.to_owned(),
        text: w.finish(rng),
        truth,
        has_transactions,
    }
}

/// Writes labelled fields in one of four placements, shuffled within the
/// document's body.
struct Writer {
    style: Style,
    placement: usize,
    head: Vec<String>,
    fields: Vec<(String, String)>,
    tail: Vec<String>,
}

impl Writer {
    fn new(style: Style, placement: usize) -> Writer {
        Writer {
            style,
            placement,
            head: Vec::new(),
            fields: Vec::new(),
            tail: Vec::new(),
        }
    }

    /// A field: one of `labels` (English | German pairs) and its value.
    fn field(&mut self, labels: &[(&str, &str)], value: String, rng: &mut Rng) {
        let (english, german) = *rng.pick(labels);
        let label = if self.style.german { german } else { english };
        self.fields.push((label.to_owned(), value));
    }

    fn finish(mut self, rng: &mut Rng) -> String {
        rng.shuffle(&mut self.fields);
        let mut lines = self.head;
        lines.push(String::new());
        match self.placement {
            0 => lines.extend(self.fields.iter().map(|(l, v)| format!("{l}: {v}"))),
            1 => lines.extend(self.fields.iter().map(|(l, v)| format!("{l:<28}    {v}"))),
            2 => {
                for (l, v) in &self.fields {
                    lines.push(format!("{l}:"));
                    lines.push(v.clone());
                }
            }
            _ => {
                for pair in self.fields.chunks(2) {
                    let cells: Vec<String> =
                        pair.iter().map(|(l, v)| format!("{l}: {v}")).collect();
                    lines.push(cells.join("        "));
                }
            }
        }
        lines.push(String::new());
        lines.extend(self.tail);
        lines.join("\n")
    }

    fn date(&self, rng: &mut Rng) -> (String, String) {
        let year = 2019 + rng.below(7) as i32;
        let month = 1 + rng.below(12);
        let day = 1 + rng.below(28);
        (
            self.format_date(year, month, day),
            format!("{year:04}-{month:02}-{day:02}"),
        )
    }

    fn format_date(&self, year: i32, month: usize, day: usize) -> String {
        match self.style.date_format {
            0 => format!("{year:04}-{month:02}-{day:02}"),
            1 => format!("{} {day}, {year}", MONTHS[month - 1]),
            2 => format!("{day} {} {year}", MONTHS[month - 1]),
            3 => format!("{month:02}/{day:02}/{year}"),
            _ => {
                if day.is_multiple_of(2) {
                    format!("{day:02}.{month:02}.{year}")
                } else {
                    format!("{day}. {} {year}", MONATE[month - 1])
                }
            }
        }
    }

    /// An amount as the document writes it, and its decimal.
    fn money(&self, cents: i64) -> (String, String) {
        let decimal = format!("{}.{:02}", cents / 100, cents % 100);
        let grouped = group(cents / 100, if self.style.german { '.' } else { ',' });
        let text = if self.style.german {
            format!("{grouped},{:02} €", cents % 100)
        } else {
            match self.style.currency {
                "USD" => format!("${grouped}.{:02}", cents % 100),
                "GBP" => format!("£{grouped}.{:02}", cents % 100),
                _ => format!("EUR {grouped}.{:02}", cents % 100),
            }
        };
        (text, decimal)
    }
}

fn group(whole: i64, separator: char) -> String {
    let digits = whole.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(separator);
        }
        out.push(c);
    }
    out
}

fn person(rng: &mut Rng) -> String {
    format!("{} {}", rng.pick_str(GIVEN), rng.pick_str(FAMILY))
}

fn company(rng: &mut Rng) -> String {
    format!("{} {}", rng.pick_str(ORG_WORDS), rng.pick_str(ORG_KINDS))
}

fn put(truth: &mut BTreeMap<String, String>, name: &str, value: impl Into<String>) {
    truth.insert(name.to_owned(), value.into());
}

fn invoice(w: &mut Writer, truth: &mut BTreeMap<String, String>, rng: &mut Rng) {
    let vendor = company(rng);
    let customer = company(rng);
    w.head.push(vendor.clone());
    w.head.push(format!(
        "{} Commerce Street, Suite {}",
        10 + rng.below(900),
        1 + rng.below(40)
    ));
    w.head.push(String::new());
    w.head.push(
        if w.style.german {
            "RECHNUNG"
        } else {
            "INVOICE"
        }
        .to_owned(),
    );
    put(truth, "vendor", &vendor);
    let number = format!(
        "{}-{}",
        rng.pick_str(&["INV", "RE", "2024", "F"]),
        1000 + rng.below(90_000)
    );
    w.field(
        &[
            ("Invoice Number", "Rechnungsnummer"),
            ("Invoice No.", "Rechnung Nr."),
            ("Invoice #", "Rechnungsnummer"),
        ],
        number.clone(),
        rng,
    );
    put(truth, "invoice_number", number);
    let (text, iso) = w.date(rng);
    w.field(
        &[
            ("Invoice Date", "Rechnungsdatum"),
            ("Date of Issue", "Rechnungsdatum"),
            ("Issue Date", "Datum"),
        ],
        text,
        rng,
    );
    put(truth, "issue_date", iso);
    let (text, iso) = w.date(rng);
    w.field(
        &[
            ("Due Date", "Fälligkeitsdatum"),
            ("Payment Due", "Fällig am"),
        ],
        text,
        rng,
    );
    put(truth, "due_date", iso);
    w.field(
        &[
            ("Bill To", "Rechnungsempfänger"),
            ("Customer", "Kunde"),
            ("Billed To", "Kunde"),
        ],
        customer.clone(),
        rng,
    );
    put(truth, "customer", customer);
    let subtotal = 5_000 + rng.below(2_000_000) as i64;
    let rate = *rng.pick(&[0_i64, 7, 19, 20]);
    let tax = subtotal * rate / 100;
    let total = subtotal + tax;
    let (text, decimal) = w.money(subtotal);
    w.tail.push(format!(
        "{}  {text}",
        if w.style.german {
            "Zwischensumme"
        } else {
            "Subtotal"
        }
    ));
    put(truth, "subtotal", decimal);
    let (text, decimal) = w.money(tax);
    w.tail.push(format!(
        "{} ({rate}%)  {text}",
        if w.style.german { "MwSt" } else { "Tax" }
    ));
    put(truth, "tax", decimal);
    let (text, decimal) = w.money(total);
    let total_label = if w.style.german {
        "Gesamtbetrag"
    } else {
        rng.pick_str(&["Total Due", "Total", "Amount Due", "Balance Due"])
    };
    w.tail.push(format!("{total_label}  {text}"));
    put(truth, "total", decimal);
    put(truth, "currency", w.style.currency);
    w.tail.push(
        if w.style.german {
            "Zahlbar innerhalb von 30 Tagen ohne Abzug."
        } else {
            "Payment is due within 30 days. Thank you for your business."
        }
        .to_owned(),
    );
}

fn bank_statement(w: &mut Writer, truth: &mut BTreeMap<String, String>, rng: &mut Rng) {
    let bank = rng.pick_str(BANKS).to_owned();
    w.head.push(bank.clone());
    w.head.push(
        if w.style.german {
            "Kontoauszug"
        } else {
            "Account Statement"
        }
        .to_owned(),
    );
    put(truth, "bank", bank);
    let holder = person(rng);
    w.field(
        &[
            ("Account Holder", "Kontoinhaber"),
            ("Account Name", "Kontoinhaber"),
        ],
        holder.clone(),
        rng,
    );
    put(truth, "account_holder", holder);
    let account: String = (0..10)
        .map(|_| char::from(b'0' + rng.below(10) as u8))
        .collect();
    w.field(
        &[
            ("Account Number", "Kontonummer"),
            ("Account No.", "Kontonummer"),
        ],
        account.clone(),
        rng,
    );
    put(truth, "account_number", format!("****{}", &account[6..]));
    let year = 2020 + rng.below(6) as i32;
    let month = 1 + rng.below(12);
    let last = match month {
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    let period = format!(
        "{} {} {}",
        w.format_date(year, month, 1),
        if w.style.german { "bis" } else { "to" },
        w.format_date(year, month, last)
    );
    w.field(
        &[
            ("Statement Period", "Abrechnungszeitraum"),
            ("Period", "Zeitraum"),
        ],
        period,
        rng,
    );
    put(
        truth,
        "period",
        format!("{year:04}-{month:02}-01/{year:04}-{month:02}-{last:02}"),
    );
    let opening = 10_000 + rng.below(500_000) as i64;
    let (text, decimal) = w.money(opening);
    w.field(
        &[
            ("Opening Balance", "Anfangssaldo"),
            ("Previous Balance", "Alter Kontostand"),
        ],
        text,
        rng,
    );
    put(truth, "opening_balance", decimal);
    let rows = 3 + rng.below(8);
    let mut balance = opening;
    let header = if w.style.german {
        "Datum | Buchungstext | Betrag | Saldo"
    } else {
        "Date | Description | Amount | Balance"
    };
    w.tail.push(header.to_owned());
    let descriptions: &[&str] = if w.style.german {
        &[
            "Kartenzahlung",
            "Lastschrift Strom",
            "Gehaltseingang",
            "Geldautomat",
            "Dauerauftrag Miete",
        ]
    } else {
        &[
            "Card purchase",
            "Direct debit Energy",
            "Salary deposit",
            "ATM withdrawal",
            "Standing order Rent",
        ]
    };
    for day in 0..rows {
        let amount = if rng.chance(0.3) {
            5_000 + rng.below(300_000) as i64
        } else {
            -(100 + rng.below(60_000) as i64)
        };
        balance += amount;
        let date = w.format_date(year, month, (1 + day * 2).min(last));
        let (amount_text, _) = signed(w, amount);
        let (balance_text, _) = signed(w, balance);
        w.tail.push(format!(
            "{date} | {} | {amount_text} | {balance_text}",
            rng.pick_str(descriptions)
        ));
    }
    let (text, decimal) = w.money(balance.max(0));
    if balance >= 0 {
        w.tail.push(format!(
            "{}: {text}",
            if w.style.german {
                "Endsaldo"
            } else {
                "Closing Balance"
            }
        ));
        put(truth, "closing_balance", decimal);
    } else {
        let (text, decimal) = signed(w, balance);
        w.tail.push(format!(
            "{}: {text}",
            if w.style.german {
                "Endsaldo"
            } else {
                "Closing Balance"
            }
        ));
        put(truth, "closing_balance", decimal);
    }
}

/// A signed amount without currency, as statements print them.
fn signed(w: &Writer, cents: i64) -> (String, String) {
    let sign = if cents < 0 { "-" } else { "" };
    let abs = cents.abs();
    let grouped = group(abs / 100, if w.style.german { '.' } else { ',' });
    let decimal_separator = if w.style.german { ',' } else { '.' };
    (
        format!("{sign}{grouped}{decimal_separator}{:02}", abs % 100),
        format!("{sign}{}.{:02}", abs / 100, abs % 100),
    )
}

fn licence(w: &mut Writer, truth: &mut BTreeMap<String, String>, rng: &mut Rng) {
    let state = rng.pick_str(STATES).to_owned();
    w.head
        .push(format!("{} DRIVER LICENSE", state.to_uppercase()));
    let name = person(rng);
    w.field(
        &[("Name", "Name"), ("Full Name", "Name")],
        name.clone(),
        rng,
    );
    put(truth, "name", name);
    let (text, iso) = w.date(rng);
    w.field(
        &[("DOB", "DOB"), ("Date of Birth", "Date of Birth")],
        text,
        rng,
    );
    put(truth, "date_of_birth", iso);
    let number = format!(
        "{}{}",
        rng.pick_str(&["D", "S", "B", "X"]),
        1_000_000 + rng.below(8_999_999)
    );
    w.field(
        &[
            ("DL No.", "DL No."),
            ("License No", "License No"),
            ("Licence Number", "Licence Number"),
        ],
        number.clone(),
        rng,
    );
    put(truth, "licence_number", number);
    let (text, iso) = w.date(rng);
    w.field(&[("ISS", "ISS"), ("Issue Date", "Issue Date")], text, rng);
    put(truth, "issue_date", iso);
    let (text, iso) = w.date(rng);
    w.field(
        &[
            ("EXP", "EXP"),
            ("Expires", "Expires"),
            ("Expiration Date", "Expiration Date"),
        ],
        text,
        rng,
    );
    put(truth, "expiry_date", iso);
    w.field(
        &[("Issuing State", "Issuing State"), ("State", "State")],
        state.clone(),
        rng,
    );
    put(truth, "issuing_authority", state);
    w.tail
        .push("CLASS C    RESTRICTIONS NONE    ENDORSEMENTS NONE".to_owned());
}

fn id_card(w: &mut Writer, truth: &mut BTreeMap<String, String>, rng: &mut Rng) {
    let country = rng.pick_str(COUNTRIES).to_owned();
    w.head.push("NATIONAL IDENTITY CARD".to_owned());
    let name = person(rng);
    w.field(
        &[("Name", "Name"), ("Full Name", "Full Name")],
        name.clone(),
        rng,
    );
    put(truth, "name", name);
    let (text, iso) = w.date(rng);
    w.field(
        &[("Date of Birth", "Date of Birth"), ("DOB", "DOB")],
        text,
        rng,
    );
    put(truth, "date_of_birth", iso);
    let number = format!(
        "{}{}",
        rng.pick_str(&["T22", "L01", "C7X", "IDN"]),
        100_000 + rng.below(899_999)
    );
    w.field(
        &[
            ("Document Number", "Document Number"),
            ("Document No", "Document No"),
            ("ID Number", "ID Number"),
        ],
        number.clone(),
        rng,
    );
    put(truth, "document_number", number);
    let (text, iso) = w.date(rng);
    w.field(
        &[("Date of Issue", "Date of Issue"), ("Issued", "Issued")],
        text,
        rng,
    );
    put(truth, "issue_date", iso);
    let (text, iso) = w.date(rng);
    w.field(
        &[
            ("Expiry Date", "Expiry Date"),
            ("Valid Until", "Valid Until"),
            ("Date of Expiry", "Date of Expiry"),
        ],
        text,
        rng,
    );
    put(truth, "expiry_date", iso);
    w.field(
        &[
            ("Nationality", "Nationality"),
            ("Issuing Country", "Issuing Country"),
        ],
        country.clone(),
        rng,
    );
    put(truth, "issuing_country", country);
}

fn pay_slip(w: &mut Writer, truth: &mut BTreeMap<String, String>, rng: &mut Rng) {
    let employer = company(rng);
    w.head.push(employer.clone());
    w.head.push(
        if w.style.german {
            "Gehaltsabrechnung"
        } else {
            "PAY SLIP"
        }
        .to_owned(),
    );
    put(truth, "employer", employer);
    let employee = person(rng);
    w.field(
        &[
            ("Employee Name", "Mitarbeiter"),
            ("Employee", "Arbeitnehmer"),
        ],
        employee.clone(),
        rng,
    );
    put(truth, "employee", employee);
    let year = 2020 + rng.below(6) as i32;
    let month = 1 + rng.below(12);
    let last = match month {
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    let joiner = if w.style.german { "bis" } else { "-" };
    let period = format!(
        "{} {joiner} {}",
        w.format_date(year, month, 1),
        w.format_date(year, month, last)
    );
    w.field(&[("Pay Period", "Abrechnungszeitraum")], period, rng);
    put(
        truth,
        "period",
        format!("{year:04}-{month:02}-01/{year:04}-{month:02}-{last:02}"),
    );
    let (text, iso) = w.date(rng);
    w.field(
        &[
            ("Pay Date", "Auszahlungsdatum"),
            ("Payment Date", "Auszahlungsdatum"),
        ],
        text,
        rng,
    );
    put(truth, "pay_date", iso);
    let gross = 150_000 + rng.below(900_000) as i64;
    let deductions = gross * (15 + rng.below(25) as i64) / 100;
    let (text, decimal) = w.money(gross);
    w.field(
        &[
            ("Gross Pay", "Bruttolohn"),
            ("Gross Earnings", "Bruttogehalt"),
        ],
        text,
        rng,
    );
    put(truth, "gross_pay", decimal);
    let (text, decimal) = w.money(deductions);
    w.field(&[("Total Deductions", "Abzüge gesamt")], text, rng);
    put(truth, "deductions", decimal);
    let (text, decimal) = w.money(gross - deductions);
    w.field(
        &[
            ("Net Pay", "Nettolohn"),
            ("Net Amount", "Auszahlungsbetrag"),
        ],
        text,
        rng,
    );
    put(truth, "net_pay", decimal);
}

fn w2(w: &mut Writer, truth: &mut BTreeMap<String, String>, rng: &mut Rng) {
    w.style.currency = "USD";
    w.style.german = false;
    w.head.push("Form W-2 Wage and Tax Statement".to_owned());
    let employer = company(rng);
    w.field(
        &[
            ("c Employer's name, address, and ZIP code", ""),
            ("Employer's name", ""),
        ],
        employer.clone(),
        rng,
    );
    put(truth, "employer", employer);
    let employee = person(rng);
    w.field(
        &[
            ("e Employee's first name and initial", ""),
            ("Employee's name", ""),
        ],
        employee.clone(),
        rng,
    );
    put(truth, "employee", employee);
    let ein = format!("{:02}-{:07}", 10 + rng.below(89), rng.below(9_999_999));
    w.field(
        &[
            ("b Employer identification number (EIN)", ""),
            ("Employer identification number", ""),
        ],
        ein.clone(),
        rng,
    );
    put(truth, "ein", format!("****{}", &ein[ein.len() - 4..]));
    let wages = 2_000_000 + rng.below(12_000_000) as i64;
    let (text, decimal) = w.money(wages);
    w.field(&[("1 Wages, tips, other compensation", "")], text, rng);
    put(truth, "wages", decimal);
    let (text, decimal) = w.money(wages / 6);
    w.field(&[("2 Federal income tax withheld", "")], text, rng);
    put(truth, "federal_tax_withheld", decimal);
    w.tail
        .push("Copy B — To Be Filed With Employee's FEDERAL Tax Return.".to_owned());
}

fn form_1099(w: &mut Writer, truth: &mut BTreeMap<String, String>, rng: &mut Rng) {
    w.style.currency = "USD";
    w.style.german = false;
    w.head
        .push("Form 1099-NEC Nonemployee Compensation".to_owned());
    let payer = company(rng);
    w.field(&[("PAYER'S name", ""), ("Payer", "")], payer.clone(), rng);
    put(truth, "payer", payer);
    let recipient = person(rng);
    w.field(
        &[("RECIPIENT'S name", ""), ("Recipient", "")],
        recipient.clone(),
        rng,
    );
    put(truth, "recipient", recipient);
    let tin = format!("{:02}-{:07}", 10 + rng.below(89), rng.below(9_999_999));
    w.field(&[("PAYER'S TIN", "")], tin.clone(), rng);
    put(truth, "payer_tin", format!("****{}", &tin[tin.len() - 4..]));
    let paid = 100_000 + rng.below(9_000_000) as i64;
    let (text, decimal) = w.money(paid);
    w.field(&[("1 Nonemployee compensation", "")], text, rng);
    put(truth, "compensation", decimal);
    let (text, decimal) = w.money(paid / 10);
    w.field(&[("4 Federal income tax withheld", "")], text, rng);
    put(truth, "federal_tax_withheld", decimal);
    w.tail.push("Copy B For Recipient. This is important tax information and is being furnished to the IRS.".to_owned());
}

fn utility_bill(w: &mut Writer, truth: &mut BTreeMap<String, String>, rng: &mut Rng) {
    let provider = rng.pick_str(UTILITIES).to_owned();
    w.head.push(provider.clone());
    w.head.push(
        if w.style.german {
            "Stromrechnung"
        } else {
            "Electricity Bill"
        }
        .to_owned(),
    );
    put(truth, "provider", provider);
    let account = format!("{}", 10_000_000 + rng.below(89_999_999));
    w.field(
        &[
            ("Account Number", "Kundennummer"),
            ("Customer Number", "Kundennummer"),
        ],
        account.clone(),
        rng,
    );
    put(truth, "account_number", account);
    let year = 2020 + rng.below(6) as i32;
    let month = 1 + rng.below(12);
    let period = format!(
        "{} {} {}",
        w.format_date(year, month, 1),
        if w.style.german { "bis" } else { "to" },
        w.format_date(year, month, 28)
    );
    w.field(
        &[
            ("Billing Period", "Abrechnungszeitraum"),
            ("Service Period", "Abrechnungszeitraum"),
        ],
        period,
        rng,
    );
    put(
        truth,
        "period",
        format!("{year:04}-{month:02}-01/{year:04}-{month:02}-28"),
    );
    let (text, decimal) = w.money(2_000 + rng.below(60_000) as i64);
    w.field(
        &[
            ("Amount Due", "Zu zahlender Betrag"),
            ("Total Amount Due", "Zu zahlender Betrag"),
        ],
        text,
        rng,
    );
    put(truth, "amount_due", decimal);
    let (text, iso) = w.date(rng);
    w.field(
        &[("Due Date", "Fällig am"), ("Pay By", "Fällig am")],
        text,
        rng,
    );
    put(truth, "due_date", iso);
    w.tail.push(
        if w.style.german {
            "Die nächste Zählerablesung erfolgt in drei Monaten."
        } else {
            "Your next meter reading is due in three months."
        }
        .to_owned(),
    );
}

fn receipt(w: &mut Writer, truth: &mut BTreeMap<String, String>, rng: &mut Rng) {
    w.style.german = false;
    let merchant = rng.pick_str(MERCHANTS).to_owned();
    w.head.push(merchant.clone());
    w.head.push("SALES RECEIPT".to_owned());
    put(truth, "merchant", merchant);
    let (text, iso) = w.date(rng);
    w.field(&[("Date", "Date")], text, rng);
    put(truth, "date", iso);
    let (text, decimal) = w.money(100 + rng.below(20_000) as i64);
    w.field(
        &[("Total", "Total"), ("Amount Paid", "Amount Paid")],
        text,
        rng,
    );
    put(truth, "total", decimal);
    let method = rng
        .pick_str(&["VISA", "Mastercard", "Cash", "Debit card"])
        .to_owned();
    w.field(
        &[("Payment Method", "Payment Method"), ("Paid By", "Paid By")],
        method.clone(),
        rng,
    );
    put(truth, "payment_method", method);
    w.tail.push("Thank you for shopping with us!".to_owned());
}

fn contract(w: &mut Writer, truth: &mut BTreeMap<String, String>, rng: &mut Rng) {
    w.style.german = false;
    w.head.push(
        rng.pick_str(&[
            "SERVICE AGREEMENT",
            "MASTER SERVICES AGREEMENT",
            "CONSULTING AGREEMENT",
        ])
        .to_owned(),
    );
    let (a, b) = (company(rng), company(rng));
    let (text, iso) = w.date(rng);
    w.field(
        &[
            ("Effective Date", "Effective Date"),
            ("Commencement Date", "Commencement Date"),
        ],
        text,
        rng,
    );
    put(truth, "effective_date", iso);
    let months = 6 + rng.below(55);
    let term = format!("{months} months");
    w.field(
        &[("Term", "Term"), ("Duration", "Duration")],
        term.clone(),
        rng,
    );
    put(truth, "term", term);
    w.tail.push(format!("This Agreement is entered into by and between {a} and {b}. Either party may terminate this Agreement with ninety days' written notice."));
    put(truth, "parties", format!("{a} and {b}"));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generation_is_deterministic_and_covers_every_type() {
        let a = generate(3, 7);
        let b = generate(3, 7);
        assert_eq!(a.len(), TYPES.len() * 3);
        assert_eq!(
            a.iter().map(|s| &s.text).collect::<Vec<_>>(),
            b.iter().map(|s| &s.text).collect::<Vec<_>>()
        );
        for sample in &a {
            assert!(!sample.truth.is_empty(), "{}", sample.label);
        }
    }
}
