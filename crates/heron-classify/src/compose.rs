//! Synthetic documents written from a taxonomy type's template, in any of
//! its languages and in one of several layouts, so that any type in any
//! taxonomy file, including ones users add, can be generated without code.
//!
//! Layouts differ in structure, not only in values (a letter with a field
//! list, a two-column form, a table-first statement, a compact card, a
//! narrative), and are named in [`Sample::template`](crate::synth::Sample)
//! so evaluation can hold whole layouts out of training.

use crate::rng::Rng;
use crate::synth::{Faker, Sample, degrade};
use crate::taxonomy::{DocumentType, LANGUAGES, Multilingual, Taxonomy, Template, ValueKind};

/// The layouts, by name.
pub const LAYOUTS: &[&str] = &["letter", "form", "table_first", "card", "narrative"];

/// `per_type` documents of every taxonomy type with a template,
/// deterministic for `seed`. Languages and layouts are drawn uniformly
/// from those the template supports.
pub fn generate(taxonomy: &Taxonomy, per_type: usize, seed: u64) -> Vec<Sample> {
    let mut rng = Rng::new(seed);
    let mut samples = Vec::new();
    for (index, doc_type) in taxonomy.types.iter().enumerate() {
        let Some(template) = &doc_type.template else {
            continue;
        };
        let mut type_rng = rng.fork(index as u64);
        for _ in 0..per_type {
            let mut doc_rng = type_rng.fork(0);
            let layout = doc_rng.below(LAYOUTS.len());
            samples.push(sample(doc_type, template, layout, &mut doc_rng));
        }
    }
    samples
}

/// One document of `doc_type` in `layout`.
pub fn sample(
    doc_type: &DocumentType,
    template: &Template,
    layout: usize,
    rng: &mut Rng,
) -> Sample {
    let languages = template.languages();
    // A template whose titles are all blank still has English.
    let language = if languages.is_empty() {
        0
    } else {
        languages[rng.below(languages.len())]
    };
    let text = write(template, language, layout, rng);
    let (text, scanned) = degrade(doc_type.id.as_str(), text, rng);
    let format = if scanned {
        "image"
    } else {
        match LAYOUTS[layout] {
            "card" => rng.pick_str(&["image", "pdf"]),
            "table_first" => rng.pick_str(&["pdf", "pdf", "docx", "text"]),
            _ => rng.pick_str(&["pdf", "pdf", "pdf", "docx", "text", "email"]),
        }
    };
    Sample {
        label: doc_type.id.as_str().to_owned(),
        template: format!(
            "{}/{}/{}",
            doc_type.id.as_str(),
            LAYOUTS[layout],
            LANGUAGES[language]
        ),
        format,
        text,
    }
}

/// The text of one document.
pub fn write(template: &Template, language: usize, layout: usize, rng: &mut Rng) -> String {
    let mut f = Faker { rng };
    // A title in the document's language (English-only titles are for
    // English documents), else any.
    let in_language: Vec<Multilingual> = template
        .titles
        .iter()
        .filter(|t| t.has(language))
        .cloned()
        .collect();
    let titles = if in_language.is_empty() {
        &template.titles
    } else {
        &in_language
    };
    let title = pick(titles, f.rng).get(language).to_owned();
    let header = header(template, language, &mut f);
    let mut fields: Vec<(String, String)> = Vec::new();
    for field in &template.fields {
        if f.chance(0.85) {
            let value = value(field.kind, language, &mut f);
            fields.push((field.label.get(language).to_owned(), value));
        }
    }
    if fields.is_empty()
        && let Some(field) = template.fields.first()
    {
        fields.push((
            field.label.get(language).to_owned(),
            value(field.kind, language, &mut f),
        ));
    }
    let table = table(template, language, &mut f);
    let mut sentences: Vec<String> = Vec::new();
    for sentence in &template.sentences {
        // A sentence written only in English stays out of a document in
        // another language (a real one is written in one language).
        if f.chance(0.75) && sentence.has(language) {
            sentences.push(sentence.get(language).to_owned());
        }
    }

    let mut out = Vec::new();
    match LAYOUTS[layout] {
        "letter" => {
            out.extend(header);
            out.push(String::new());
            out.push(title);
            out.push(String::new());
            out.extend(fields.iter().map(|(l, v)| format!("{l}: {v}")));
            out.push(String::new());
            out.extend(table);
            out.push(String::new());
            out.extend(sentences);
        }
        "form" => {
            out.push(title.to_uppercase());
            out.extend(header);
            for pair in fields.chunks(2) {
                let line: Vec<String> = pair.iter().map(|(l, v)| format!("{l} ____ {v}")).collect();
                out.push(line.join("    "));
            }
            out.extend(sentences);
            out.extend(table);
        }
        "table_first" => {
            out.push(title);
            out.extend(table);
            out.push(String::new());
            out.extend(fields.iter().map(|(l, v)| format!("{l}  {v}")));
            out.extend(header);
            out.extend(sentences.into_iter().take(1));
        }
        "card" => {
            out.push(title.to_uppercase());
            out.extend(
                fields
                    .iter()
                    .map(|(l, v)| format!("{} {v}", l.to_uppercase())),
            );
            out.extend(header.into_iter().take(2));
        }
        _ => {
            out.push(title);
            out.extend(header);
            let mut sentences = sentences.into_iter();
            for (l, v) in &fields {
                if let Some(s) = sentences.next() {
                    out.push(s);
                }
                out.push(format!("{l}: {v}."));
            }
            out.extend(sentences);
            out.extend(table);
        }
    }
    out.join("\n")
}

fn pick<'a>(items: &'a [Multilingual], rng: &mut Rng) -> &'a Multilingual {
    &items[rng.below(items.len())]
}

/// The parties' name and address lines.
fn header(template: &Template, language: usize, f: &mut Faker) -> Vec<String> {
    let mut lines = Vec::new();
    for party in &template.parties {
        let name = match party.as_str() {
            "person" | "customer" | "employee" => f.person(),
            "bank" => f.bank(),
            _ => f.company(),
        };
        lines.push(name);
        if f.chance(0.7) {
            lines.push(address(language, f));
        }
    }
    lines
}

fn table(template: &Template, language: usize, f: &mut Faker) -> Vec<String> {
    if template.rows.is_empty() || f.chance(0.2) {
        return Vec::new();
    }
    let mut lines = Vec::new();
    if !template.columns.is_empty() {
        let heads: Vec<&str> = template.columns.iter().map(|c| c.get(language)).collect();
        lines.push(heads.join(" | "));
    }
    let extra_columns = template.columns.len().saturating_sub(2);
    for _ in 0..f.int(2, 7) {
        let row = pick(&template.rows, f.rng).get(language).to_owned();
        let mut cells = vec![row];
        for _ in 0..extra_columns {
            cells.push(f.int(1, 40).to_string());
        }
        cells.push(money(f.int(100, 500_000), language, f));
        lines.push(cells.join(" | "));
    }
    lines
}

fn address(language: usize, f: &mut Faker) -> String {
    match LANGUAGES[language] {
        "de" => format!(
            "{}straße {}, {:05} {}",
            f.pick(&["Haupt", "Bahnhof", "Garten", "Schiller", "Linden"]),
            f.int(1, 120),
            f.int(10_000, 99_999),
            f.pick(&["Berlin", "München", "Hamburg", "Köln", "Frankfurt am Main"])
        ),
        "fr" => format!(
            "{} {} {}, {:05} {}",
            f.int(1, 120),
            f.pick(&["rue", "avenue", "boulevard"]),
            f.pick(&[
                "de la République",
                "Victor Hugo",
                "des Lilas",
                "Jean Jaurès"
            ]),
            f.int(10_000, 95_999),
            f.pick(&["Paris", "Lyon", "Marseille", "Toulouse", "Lille"])
        ),
        "es" => format!(
            "{} {}, {}, {:05} {}",
            f.pick(&["Calle", "Avenida", "Paseo"]),
            f.pick(&["Mayor", "de la Constitución", "del Prado", "Gran Vía"]),
            f.int(1, 120),
            f.int(1_000, 52_999),
            f.pick(&["Madrid", "Barcelona", "Valencia", "Sevilla", "Bilbao"])
        ),
        _ => format!("{}, {}", f.street(), f.city()),
    }
}

fn money(cents: i64, language: usize, f: &mut Faker) -> String {
    let plain = crate::synth::format_cents(cents);
    match LANGUAGES[language] {
        "en" => f.money(cents),
        // 1,234.56 → 1.234,56 (German, Spanish) or 1 234,56 (French).
        code => {
            let group = if code == "fr" { " " } else { "." };
            let swapped: String = plain
                .chars()
                .map(|c| match c {
                    ',' => '\u{0}',
                    '.' => ',',
                    other => other,
                })
                .collect();
            format!("{} €", swapped.replace('\u{0}', group))
        }
    }
}

fn date(language: usize, f: &mut Faker) -> String {
    let (y, m, d) = (f.int(2019, 2026), f.int(1, 12), f.int(1, 28));
    match LANGUAGES[language] {
        "de" => format!("{d:02}.{m:02}.{y}"),
        "fr" | "es" => format!("{d:02}/{m:02}/{y}"),
        _ => f.date(),
    }
}

fn value(kind: ValueKind, language: usize, f: &mut Faker) -> String {
    match kind {
        ValueKind::Id => format!(
            "{}{:07}",
            f.pick(&["", "A", "X", "K", "D"]),
            f.int(0, 9_999_999)
        ),
        ValueKind::Ref => format!(
            "{}-{}-{:05}",
            f.pick(&["INV", "PO", "CN", "REF", "DOC", "BL", "POL"]),
            f.int(2019, 2026),
            f.int(1, 99_999)
        ),
        ValueKind::Date => date(language, f),
        ValueKind::Period => format!("{} – {}", date(language, f), date(language, f)),
        ValueKind::Money => money(f.int(1_000, 2_500_000), language, f),
        ValueKind::Name => f.person(),
        ValueKind::Company => f.company(),
        ValueKind::Address => address(language, f),
        ValueKind::Percent => format!("{}.{:02} %", f.int(0, 12), f.int(0, 99)),
        ValueKind::Count => f.int(1, 900).to_string(),
        ValueKind::Iban => iban(f),
        ValueKind::Phone => f.phone(),
        ValueKind::Email => {
            let person = f.person();
            let domain = f.domain();
            Faker::email_of(&person, &domain)
        }
        ValueKind::Code => format!("{:02}-{:07}", f.int(10, 99), f.int(0, 9_999_999)),
        ValueKind::Weight => format!("{} kg", f.int(5, 25_000)),
        ValueKind::Years => f.int(1, 30).to_string(),
        ValueKind::Word => f.words(1, 3),
    }
}

/// A German-style IBAN with valid ISO 7064 mod-97 check digits.
fn iban(f: &mut Faker) -> String {
    let bank = f.int(10_000_000, 99_999_999);
    let account = f.int(0, 9_999_999_999);
    let bban = format!("{bank:08}{account:010}");
    // Move "DE00" to the end as digits (D=13, E=14) and take mod 97.
    let digits = format!("{bban}131400");
    let remainder = digits
        .bytes()
        .fold(0u32, |acc, b| (acc * 10 + u32::from(b - b'0')) % 97);
    let check = 98 - remainder;
    let raw = format!("DE{check:02}{bban}");
    raw.as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_type_is_generated_in_several_languages_and_layouts() {
        let taxonomy = Taxonomy::default_taxonomy();
        let samples = generate(&taxonomy, 30, 11);
        assert_eq!(samples.len(), 30 * taxonomy.types.len());
        assert_eq!(samples, generate(&taxonomy, 30, 11), "deterministic");
        let languages: std::collections::BTreeSet<&str> = samples
            .iter()
            .filter_map(|s| s.template.rsplit('/').next())
            .collect();
        assert_eq!(languages.len(), 4, "{languages:?}");
        let german_invoice = samples
            .iter()
            .find(|s| s.label == "invoice" && s.template.ends_with("/de") && s.format != "image")
            .expect("a German invoice");
        assert!(
            german_invoice.text.contains("RECHNUNG")
                || german_invoice.text.contains("Rechnung")
                || german_invoice.text.contains("Handelsrechnung"),
            "{}",
            german_invoice.text
        );
    }

    #[test]
    fn a_template_with_blank_titles_is_still_written() {
        let taxonomy = Taxonomy::parse(
            "version = \"x\"\n[industries.i]\nname = \"I\"\n[families.f]\nindustry = \"i\"\nname = \"F\"\n\
             [types.a]\nfamily = \"f\"\nname = \"A\"\ntitles = [\"\"]\nfields = [\"Total = money\"]\n\
             [types.b]\nfamily = \"f\"\nname = \"B\"\ntitles = [\"B\"]\nfields = [\"Name = name\"]\n",
        )
        .unwrap();
        let samples = generate(&taxonomy, 3, 1);
        assert_eq!(samples.len(), 6);
    }

    #[test]
    fn ibans_have_valid_check_digits() {
        let mut rng = Rng::new(5);
        let mut f = Faker { rng: &mut rng };
        for _ in 0..20 {
            let iban: String = iban(&mut f).replace(' ', "");
            let rearranged = format!("{}{}", &iban[4..], &iban[..4]);
            let digits: String = rearranged
                .chars()
                .map(|c| {
                    if c.is_ascii_digit() {
                        c.to_string()
                    } else {
                        (c as u32 - 'A' as u32 + 10).to_string()
                    }
                })
                .collect();
            let remainder = digits
                .bytes()
                .fold(0u32, |acc, b| (acc * 10 + u32::from(b - b'0')) % 97);
            assert_eq!(remainder, 1, "{iban}");
        }
    }

    #[test]
    fn local_money_formats() {
        let mut rng = Rng::new(1);
        let mut f = Faker { rng: &mut rng };
        assert_eq!(money(123_456, 1, &mut f), "1.234,56 €");
        assert_eq!(money(123_456, 2, &mut f), "1 234,56 €");
    }
}
