//! Text → sparse hashed TF-IDF features.
//!
//! Tokens are lowercased words with every digit mapped to `0`, so that
//! "12/03/2024" and "01/11/2023" share the feature "00/00/0000" (the shape of
//! a date matters, its value does not). Features: word unigrams, word
//! bigrams, and character 3- to 5-grams inside `^word$` (robust to OCR
//! errors that break words). Each is hashed with FNV-1a 64 into
//! `dimensions` buckets; counts get sublinear TF (1 + ln tf), IDF weights
//! and L2 normalisation.

/// Names how text becomes features. A model records the version it was
/// trained with and is refused by a Heron that computes features another
/// way (its weights would be read against the wrong inputs). Change it
/// with any change to tokens, hashing, weighting or signal tokens.
/// `f2`: layout signal tokens; `f4`: machine-readable zone formats named
/// in letters (`f3` turned every one into `mrztd0`).
pub const FEATURE_VERSION: &str = "f4";

/// Default number of hash buckets (2^17): with 36 types the weights take
/// 18 MiB; 2^18 measured no better on held-out layouts (bench/README.md)
/// at twice the memory.
pub const DEFAULT_DIMENSIONS: u32 = 1 << 17;

/// A sparse vector: (bucket, value) pairs, buckets ascending and unique.
pub type SparseVector = Vec<(u32, f32)>;

/// Longest text (in bytes) turned into features; the rest of a long document
/// adds little to its type and would cost time.
pub const MAX_FEATURE_TEXT: usize = 64 * 1024;

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

fn fnv1a(seed: u64, bytes: &[u8]) -> u64 {
    let mut hash = FNV_OFFSET ^ seed;
    for &b in bytes {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(FNV_PRIME);
    }
    hash
}

/// The text the model reads: the extracted text followed by signal tokens
/// that words alone do not carry — the container format (`pdf`, `image`,
/// `csv`, `docx`, `text`, `email`: how types usually arrive, statements as
/// CSV exports, IDs as photos) and the layout (how many lines carry a date,
/// an amount, both; how long lines are). Each is one more weak feature among
/// the words: a CSV whose every row has a date and an amount reads as a
/// statement whatever words fill its descriptions.
pub fn with_signals(text: &str, format: &str) -> String {
    let mut out = String::with_capacity(text.len() + 160);
    out.push_str(text);
    out.push('\n');
    out.push_str(FORMAT_MARKER_PREFIX);
    out.push_str(format);
    for signal in layout_signals(text) {
        out.push(' ');
        out.push_str(LAYOUT_MARKER_PREFIX);
        out.push_str(&signal);
    }
    out
}

/// The container format [`with_signals`] put on a text's last line.
pub fn format_of(text: &str) -> Option<&str> {
    let last = text.rsplit('\n').next()?;
    let format = last.strip_prefix(FORMAT_MARKER_PREFIX)?;
    format.split(' ').next().filter(|f| !f.is_empty())
}

/// The token that carries the container format into the features.
pub const FORMAT_MARKER_PREFIX: &str = "heronformat";
/// The prefix of the layout tokens of [`with_signals`].
pub const LAYOUT_MARKER_PREFIX: &str = "heronlayout";

/// How an explanation shows a word or word pair of [`word_terms`]: signal
/// tokens in words, pairs that join a signal token to anything left out.
pub fn readable_term(term: &str) -> Option<String> {
    let is_signal =
        |t: &str| t.starts_with(FORMAT_MARKER_PREFIX) || t.starts_with(LAYOUT_MARKER_PREFIX);
    if term.contains(' ') {
        return (!term.split(' ').any(is_signal)).then(|| term.to_owned());
    }
    if let Some(format) = term.strip_prefix(FORMAT_MARKER_PREFIX) {
        return Some(format!("(sent as {format})"));
    }
    let Some(signal) = term.strip_prefix(LAYOUT_MARKER_PREFIX) else {
        return Some(term.to_owned());
    };
    if let Some((_, what)) = signal
        .strip_prefix("mrz")
        .and_then(|format| MRZ_FORMATS.iter().find(|(name, _)| *name == format))
    {
        return Some(format!("(layout: {what})"));
    }
    let described = [
        ("dates", "lines have a date"),
        ("amounts", "lines have an amount"),
        ("rows", "lines are rows with a date and an amount"),
    ]
    .iter()
    .find_map(|(kind, what)| {
        let share = signal.strip_prefix(kind)?;
        Some(format!("(layout: {share} {what})"))
    });
    Some(described.unwrap_or_else(|| format!("(layout: {signal})")))
}

/// Layout tokens of a text: for dates, amounts and rows carrying both, the
/// share of non-empty lines as `few`, `some` or `most`. Absent things give
/// no token: a short text with no dates would otherwise be mostly signal
/// tokens, and read as whichever type is often short and undated.
pub fn layout_signals(text: &str) -> Vec<String> {
    let text = cut_to_boundary(text, MAX_FEATURE_TEXT);
    let (mut lines, mut dated, mut priced, mut rows) = (0usize, 0, 0, 0);
    for line in text.lines() {
        let tokens = tokens(line);
        if tokens.is_empty() {
            continue;
        }
        lines += 1;
        let has_date = tokens.iter().any(|t| is_date_shape(t));
        let has_amount = tokens.iter().any(|t| is_amount_shape(t));
        dated += usize::from(has_date);
        priced += usize::from(has_amount);
        rows += usize::from(has_date && has_amount);
    }
    let share = |count: usize| {
        let share = count as f64 / lines.max(1) as f64;
        if count == 0 || share < 0.05 {
            None
        } else if share < 0.2 {
            Some("few")
        } else if share < 0.5 {
            Some("some")
        } else {
            Some("most")
        }
    };
    let mut signals: Vec<String> = [("dates", dated), ("amounts", priced), ("rows", rows)]
        .into_iter()
        .filter_map(|(kind, count)| Some(format!("{kind}{}", share(count)?)))
        .collect();
    signals.extend(machine_readable_zone(text));
    signals
}

/// The formats of machine-readable zones: (signal name, what it is).
const MRZ_FORMATS: [(&str, &str); 3] = [
    (
        "card",
        "three-line machine-readable zone of an identity card (TD1)",
    ),
    ("wide", "two-line 36-character machine-readable zone (TD2)"),
    (
        "passport",
        "two-line machine-readable zone of a passport (TD3)",
    ),
];

/// The format of a machine-readable zone (ICAO 9303), when the text has
/// one: lines of `A`–`Z`, digits and `<` fillers, 30 characters on cards
/// (`td1`, three lines), 36 on some cards and visas (`td2`), 44 in
/// passports (`td3`). Which one a document carries tells an identity card
/// from a passport whatever language its labels are in; OCR may drop or
/// add a filler, so lengths within two count.
fn machine_readable_zone(text: &str) -> Option<String> {
    let mut counts = [0usize; 3];
    for line in text.lines() {
        let line: String = line.chars().filter(|c| !c.is_whitespace()).collect();
        let fillers = line.chars().filter(|c| *c == '<').count();
        let alphabet = line
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '<');
        if fillers < 2 || !alphabet {
            continue;
        }
        let length = line.chars().count();
        for (index, wanted) in [30usize, 36, 44].into_iter().enumerate() {
            if length.abs_diff(wanted) <= 2 {
                counts[index] += 1;
            }
        }
    }
    let (index, count) = counts
        .iter()
        .enumerate()
        .max_by_key(|(i, c)| (**c, std::cmp::Reverse(*i)))?;
    // Named in letters: digits in a token become `0`, and `td1` and `td3`
    // would both read `td0`.
    (*count > 0).then(|| format!("mrz{}", MRZ_FORMATS[index].0))
}

/// A digit-shaped token that reads as a date: three numeric groups split by
/// `/`, `-` or `.`, one of them four digits long or all of two
/// (`0000-00-00`, `00/00/0000`, `00.00.00`).
fn is_date_shape(token: &str) -> bool {
    let separator = match token.chars().find(|c| matches!(c, '/' | '-' | '.')) {
        Some(c) => c,
        None => return false,
    };
    let groups: Vec<&str> = token.split(separator).collect();
    groups.len() == 3
        && groups
            .iter()
            .all(|g| !g.is_empty() && g.len() <= 4 && g.bytes().all(|b| b == b'0'))
        && (groups.iter().any(|g| g.len() == 4) || groups.iter().all(|g| g.len() == 2))
}

/// A digit-shaped token that reads as a money amount: digits ending in a
/// decimal separator and exactly two digits (`000.00`, `0,000.00`,
/// `0.000,00`).
fn is_amount_shape(token: &str) -> bool {
    let bytes = token.as_bytes();
    bytes.len() >= 4
        && bytes.iter().all(|b| matches!(b, b'0' | b'.' | b','))
        && matches!(bytes[bytes.len() - 3], b'.' | b',')
        && bytes[bytes.len() - 2..].iter().all(|&b| b == b'0')
        && !is_date_shape(token)
}

/// The container format name of a MIME type, as used by [`with_signals`].
pub fn format_of_mime(mime: &str) -> &'static str {
    match mime {
        "application/pdf" => "pdf",
        // Spreadsheets are tables like CSV exports, and often the same
        // exports saved from a spreadsheet program.
        "text/csv" | "text/tab-separated-values" => "csv",
        m if m.contains("spreadsheet") || m.contains("ms-excel") => "csv",
        "message/rfc822" => "email",
        m if m.starts_with("image/") => "image",
        m if m.contains("wordprocessingml")
            || m.contains("msword")
            || m.contains("opendocument.text") =>
        {
            "docx"
        }
        _ => "text",
    }
}

/// Split text into normalised word tokens.
pub fn tokens(text: &str) -> Vec<String> {
    let text = cut_to_boundary(text, MAX_FEATURE_TEXT);
    let mut tokens = Vec::new();
    let mut current = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_alphanumeric() {
            if c.is_ascii_digit() {
                current.push('0');
            } else {
                current.extend(c.to_lowercase());
            }
        } else if matches!(c, '/' | '-' | '.' | ',' | ':')
            && current.ends_with('0')
            && chars.peek().is_some_and(|next| next.is_ascii_digit())
        {
            // Keep separators between digits: "00/00/0000", "0,000.00".
            current.push(c);
        } else {
            push_token(&mut tokens, &mut current);
        }
    }
    push_token(&mut tokens, &mut current);
    tokens
}

fn push_token(tokens: &mut Vec<String>, current: &mut String) {
    if !current.is_empty() && current.len() <= 40 {
        tokens.push(current.clone());
    }
    current.clear();
}

fn cut_to_boundary(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut cut = max;
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    &text[..cut]
}

/// Raw hashed term counts of a text, before weighting.
pub fn term_counts(text: &str, dimensions: u32) -> SparseVector {
    let tokens = tokens(text);
    let mut buckets: Vec<u32> = Vec::with_capacity(tokens.len() * 8);
    let bucket = |seed: u64, bytes: &[u8]| (fnv1a(seed, bytes) % u64::from(dimensions)) as u32;
    for (i, token) in tokens.iter().enumerate() {
        buckets.push(bucket(1, token.as_bytes()));
        if let Some(next) = tokens.get(i + 1) {
            let pair = format!("{token} {next}");
            buckets.push(bucket(2, pair.as_bytes()));
        }
        let alphabetic = token.chars().any(char::is_alphabetic);
        if alphabetic {
            let marked: Vec<char> = std::iter::once('^')
                .chain(token.chars())
                .chain(std::iter::once('$'))
                .collect();
            for n in 3..=5 {
                for window in marked.windows(n) {
                    let gram: String = window.iter().collect();
                    buckets.push(bucket(3, gram.as_bytes()));
                }
            }
        }
    }
    buckets.sort_unstable();
    let mut counts: SparseVector = Vec::new();
    for b in buckets {
        match counts.last_mut() {
            Some((last, count)) if *last == b => *count += 1.0,
            _ => counts.push((b, 1.0)),
        }
    }
    counts
}

/// The words and word pairs of a text with their buckets, for
/// explanations (character n-grams are left out: they read poorly).
pub fn word_terms(text: &str, dimensions: u32) -> Vec<(u32, String)> {
    let tokens = tokens(text);
    let bucket = |seed: u64, bytes: &[u8]| (fnv1a(seed, bytes) % u64::from(dimensions)) as u32;
    let mut terms = Vec::with_capacity(tokens.len() * 2);
    for (i, token) in tokens.iter().enumerate() {
        terms.push((bucket(1, token.as_bytes()), token.clone()));
        if let Some(next) = tokens.get(i + 1) {
            let pair = format!("{token} {next}");
            terms.push((bucket(2, pair.as_bytes()), pair));
        }
    }
    terms
}

/// How much of a text's wording the training data has seen: the share of
/// its word tokens and of its word pairs whose buckets carry a non-zero
/// IDF. Business documents of known types reuse their types' wording; a
/// novel, a paper or a licence shares little beyond common words, and
/// fewer of its word pairs.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Coverage {
    pub words: f64,
    pub pairs: f64,
    /// Word tokens counted (letters only, 3 characters or more).
    pub tokens: usize,
    /// Distinct such words the training data contained.
    pub known_words: usize,
}

pub fn coverage(text: &str, idf: &[f32]) -> Coverage {
    let dimensions = idf.len() as u64;
    if dimensions == 0 {
        return Coverage {
            words: 0.0,
            pairs: 0.0,
            tokens: 0,
            known_words: 0,
        };
    }
    let words: Vec<String> = tokens(text)
        .into_iter()
        .filter(|t| t.chars().count() >= 3 && t.chars().all(char::is_alphabetic))
        .collect();
    let seen = |seed: u64, bytes: &[u8]| idf[(fnv1a(seed, bytes) % dimensions) as usize] > 0.0;
    let known: Vec<&String> = words.iter().filter(|w| seen(1, w.as_bytes())).collect();
    let known_words = known.len();
    let distinct_known = known
        .into_iter()
        .collect::<std::collections::HashSet<_>>()
        .len();
    let pairs: Vec<String> = words
        .windows(2)
        .map(|w| format!("{} {}", w[0], w[1]))
        .collect();
    let known_pairs = pairs.iter().filter(|p| seen(2, p.as_bytes())).count();
    let share = |known: usize, total: usize| {
        if total == 0 {
            0.0
        } else {
            known as f64 / total as f64
        }
    };
    Coverage {
        words: share(known_words, words.len()),
        pairs: share(known_pairs, pairs.len()),
        tokens: words.len(),
        known_words: distinct_known,
    }
}

/// Sublinear TF × IDF, L2-normalised.
pub fn weigh(counts: &SparseVector, idf: &[f32]) -> SparseVector {
    let mut vector: SparseVector = counts
        .iter()
        .map(|&(b, count)| {
            (
                b,
                (1.0 + count.ln()) * idf.get(b as usize).copied().unwrap_or(0.0),
            )
        })
        .filter(|&(_, v)| v > 0.0)
        .collect();
    let norm = vector.iter().map(|(_, v)| v * v).sum::<f32>().sqrt();
    if norm > 0.0 {
        for (_, v) in &mut vector {
            *v /= norm;
        }
    }
    vector
}

/// Smoothed IDF from document frequencies: ln((1 + n) / (1 + df)) + 1, and
/// 0 for buckets never seen in training. Unseen features carry no
/// information for the model, and giving them the largest IDF would let
/// unknown words (names, free text) dilute the features the model knows.
pub fn idf_from(documents: &[SparseVector], dimensions: u32) -> Vec<f32> {
    let mut document_frequency = vec![0u32; dimensions as usize];
    for document in documents {
        for &(b, _) in document {
            document_frequency[b as usize] += 1;
        }
    }
    let n = documents.len() as f32;
    document_frequency
        .into_iter()
        .map(|df| {
            if df == 0 {
                0.0
            } else {
                ((1.0 + n) / (1.0 + df as f32)).ln() + 1.0
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn machine_readable_zones_tell_cards_from_passports() {
        let card = "IDENTITY CARD\nI<UTOD231458907<<<<<<<<<<<<<<<\n7408122F1204159UTO<<<<<<<<<<<6\nERIKSSON<<ANNA<MARIA<<<<<<<<<<";
        let passport = "PASSPORT\nP<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F1204159ZE184226B<<<<<10";
        assert!(layout_signals(card).contains(&"mrzcard".to_owned()));
        assert!(layout_signals(passport).contains(&"mrzpassport".to_owned()));
        // Each stays its own token once digits become shapes.
        let signal_tokens = |text: &str| tokens(&with_signals(text, "image"));
        assert!(signal_tokens(card).contains(&"heronlayoutmrzcard".to_owned()));
        assert!(signal_tokens(passport).contains(&"heronlayoutmrzpassport".to_owned()));
        // OCR dropped a filler; a sentence with a < is no zone.
        assert!(
            layout_signals("P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<")
                .contains(&"mrzpassport".to_owned())
        );
        assert!(
            !layout_signals("if a < b and c << d then")
                .iter()
                .any(|s| s.starts_with("mrz"))
        );
    }

    #[test]
    fn digits_become_shapes() {
        assert_eq!(
            tokens("Total: $1,234.50 due 12/03/2024."),
            vec!["total", "0,000.00", "due", "00/00/0000"]
        );
        assert_eq!(
            tokens("2025-03-09,Thousand discover"),
            vec!["0000-00-00", "thousand", "discover"]
        );
        assert_eq!(
            tokens("Rechnungsnummer RÉF"),
            vec!["rechnungsnummer", "réf"]
        );
    }

    #[test]
    fn the_format_is_read_back_from_the_signals() {
        let statement = "date | amount\n2025-01-13 | 808.82\n2025-04-02 | -403.32";
        assert_eq!(format_of(&with_signals(statement, "csv")), Some("csv"));
        assert_eq!(format_of(&with_signals("", "image")), Some("image"));
        assert_eq!(format_of("heronformat in the middle\nof a text"), None);
        assert_eq!(format_of(""), None);
    }

    #[test]
    fn layout_signals_describe_rows() {
        let statement = "date | description | amount\n2025-01-13 | Rate position far. | 808.82\n\
                         2025-04-02 | Project Congress. | -403.32";
        assert_eq!(
            layout_signals(statement),
            vec!["datesmost", "amountsmost", "rowsmost"]
        );
        let prose = "The licences for most software are designed to take away your freedom\n\
                     to share and change it. By contrast, this licence is intended to guarantee";
        assert!(layout_signals(prose).is_empty());
        assert!(layout_signals(" \n").is_empty());
        assert!(is_date_shape("00.00.00") && !is_date_shape("0.000,00"));
        assert!(is_amount_shape("0.000,00") && is_amount_shape("00.00"));
        assert!(!is_amount_shape("0000") && !is_amount_shape("00.000"));
        assert_eq!(
            readable_term("heronlayoutrowsmost").as_deref(),
            Some("(layout: most lines are rows with a date and an amount)")
        );
        assert_eq!(
            readable_term("heronformatcsv").as_deref(),
            Some("(sent as csv)")
        );
        assert_eq!(readable_term("heronformatcsv heronlayoutdatesmost"), None);
        assert_eq!(readable_term("total due").as_deref(), Some("total due"));
    }

    #[test]
    fn hashing_is_stable() {
        // The hash is part of the model format: this value must never change.
        assert_eq!(
            fnv1a(1, b"invoice") % u64::from(DEFAULT_DIMENSIONS),
            fnv1a(1, b"invoice") % 262_144
        );
        assert_eq!(fnv1a(0, b"a"), 0xaf63_dc4c_8601_ec8c);
    }

    #[test]
    fn weighted_vectors_are_unit_length() {
        let counts = term_counts("invoice number total invoice", DEFAULT_DIMENSIONS);
        let idf = vec![1.0; DEFAULT_DIMENSIONS as usize];
        let vector = weigh(&counts, &idf);
        let norm: f32 = vector.iter().map(|(_, v)| v * v).sum();
        assert!((norm - 1.0).abs() < 1e-4);
        assert!(vector.windows(2).all(|w| w[0].0 < w[1].0));
    }
}
