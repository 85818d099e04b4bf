//! Text → sparse hashed TF-IDF features.
//!
//! Tokens are lowercased words with every digit mapped to `0`, so that
//! "12/03/2024" and "01/11/2023" share the feature "00/00/0000" (the shape of
//! a date matters, its value does not). Features: word unigrams, word
//! bigrams, and character 3- to 5-grams inside `^word$` (robust to OCR
//! errors that break words). Each is hashed with FNV-1a 64 into
//! `dimensions` buckets; counts get sublinear TF (1 + ln tf), IDF weights
//! and L2 normalisation.

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

/// Append a token naming the file's container format (`pdf`, `image`,
/// `csv`, `docx`, `text`, `email`), so that the model can learn how types
/// usually arrive (statements as CSV exports, IDs as photos) as one more
/// weak feature among the words.
pub fn with_format_marker(text: &str, format: &str) -> String {
    format!("{text}\n{FORMAT_MARKER_PREFIX}{format}")
}

/// The token that carries the container format into the features.
pub const FORMAT_MARKER_PREFIX: &str = "heronformat";

/// The container format name of a MIME type, as used by [`with_format_marker`].
pub fn format_of_mime(mime: &str) -> &'static str {
    match mime {
        "application/pdf" => "pdf",
        "text/csv" | "text/tab-separated-values" => "csv",
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
}

pub fn coverage(text: &str, idf: &[f32]) -> Coverage {
    let dimensions = idf.len() as u64;
    if dimensions == 0 {
        return Coverage {
            words: 0.0,
            pairs: 0.0,
            tokens: 0,
        };
    }
    let words: Vec<String> = tokens(text)
        .into_iter()
        .filter(|t| t.chars().count() >= 3 && t.chars().all(char::is_alphabetic))
        .collect();
    let seen = |seed: u64, bytes: &[u8]| idf[(fnv1a(seed, bytes) % dimensions) as usize] > 0.0;
    let known_words = words.iter().filter(|w| seen(1, w.as_bytes())).count();
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
