//! Text fingerprints for duplicate detection: a hash of the normalised
//! text (a re-saved or re-exported file has the same words), and a MinHash
//! signature of its word shingles (a re-scan with a few OCR differences
//! has nearly the same shingles), with locality-sensitive band keys so
//! candidates are found by index lookup instead of comparing every pair.

use sha2::{Digest, Sha256};

/// Hash functions in a signature.
pub const SIGNATURE_LEN: usize = 64;
/// LSH bands × rows = [`SIGNATURE_LEN`]. With 16 bands of 4 rows, pairs
/// at similarity 0.8 share a band with probability 0.9998, at 0.5 with
/// 0.64, at 0.3 with 0.12.
pub const BANDS: usize = 16;
const ROWS: usize = SIGNATURE_LEN / BANDS;
/// Words per shingle.
const SHINGLE: usize = 3;

/// The fingerprints of one text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fingerprint {
    /// SHA-256 of the normalised words, hex.
    pub text_sha256: String,
    pub signature: Vec<u32>,
}

impl Fingerprint {
    /// `None` for a text without words.
    pub fn of(text: &str) -> Option<Fingerprint> {
        let words = normalised_words(text);
        if words.is_empty() {
            return None;
        }
        let text_sha256 = hex::encode(Sha256::digest(words.join(" ").as_bytes()));
        Some(Fingerprint {
            text_sha256,
            signature: signature(&words),
        })
    }

    /// The signature as hex (8 characters a value), for storage.
    pub fn signature_hex(&self) -> String {
        self.signature.iter().map(|v| format!("{v:08x}")).collect()
    }

    /// Band keys for the index: one per band, distinct across bands.
    pub fn band_keys(&self) -> Vec<i64> {
        self.signature
            .chunks(ROWS)
            .enumerate()
            .map(|(band, rows)| {
                let mut h = 0xcbf2_9ce4_8422_2325_u64 ^ band as u64;
                for v in rows {
                    h = mix(h ^ u64::from(*v));
                }
                h as i64
            })
            .collect()
    }
}

/// Parse a stored signature.
pub fn parse_signature(hex: &str) -> Option<Vec<u32>> {
    if hex.len() != SIGNATURE_LEN * 8 {
        return None;
    }
    (0..SIGNATURE_LEN)
        .map(|i| u32::from_str_radix(hex.get(i * 8..i * 8 + 8)?, 16).ok())
        .collect()
}

/// Estimated Jaccard similarity of two texts' shingle sets.
pub fn similarity(a: &[u32], b: &[u32]) -> f64 {
    if a.len() != b.len() || a.is_empty() {
        return 0.0;
    }
    let equal = a.iter().zip(b).filter(|(x, y)| x == y).count();
    equal as f64 / a.len() as f64
}

/// Lowercase words of letters and digits; punctuation, case and spacing
/// (what a re-save or re-scan changes) do not count.
fn normalised_words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

fn signature(words: &[String]) -> Vec<u32> {
    let shingles: Vec<u64> = if words.len() < SHINGLE {
        vec![fnv(&words.join(" "))]
    } else {
        words.windows(SHINGLE).map(|w| fnv(&w.join(" "))).collect()
    };
    (0..SIGNATURE_LEN as u64)
        .map(|i| {
            let seed = mix(i.wrapping_add(0x9e37_79b9_7f4a_7c15));
            shingles
                .iter()
                .map(|s| (mix(s ^ seed) >> 32) as u32)
                .min()
                .unwrap_or(u32::MAX)
        })
        .collect()
}

fn fnv(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// SplitMix64's finaliser: a fast, well-mixed permutation of 64 bits.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "This Agreement is entered into by and between the parties named above. Either party may terminate this Agreement with ninety days written notice. The parties have executed this Agreement as of the Effective Date. Payment is due within thirty days.";

    #[test]
    fn a_resave_has_the_same_text_hash() {
        let a = Fingerprint::of(TEXT).unwrap();
        let b = Fingerprint::of(&TEXT.to_uppercase().replace(". ", ".\n\n")).unwrap();
        assert_eq!(a.text_sha256, b.text_sha256);
        assert_eq!(similarity(&a.signature, &b.signature), 1.0);
        assert!(Fingerprint::of("  ... ").is_none());
    }

    #[test]
    fn small_changes_keep_texts_similar_and_different_texts_apart() {
        let a = Fingerprint::of(TEXT).unwrap();
        let rescan = TEXT.replace("ninety", "ninetv").replace("thirty", "thlrty");
        let b = Fingerprint::of(&rescan).unwrap();
        let other = Fingerprint::of("Invoice number 42 total due 100 dollars by March; thank you for your business and prompt payment of this invoice.").unwrap();
        let near = similarity(&a.signature, &b.signature);
        assert!(near > 0.6 && near < 1.0, "{near}");
        assert!(similarity(&a.signature, &other.signature) < 0.2);
        assert!(
            a.band_keys()
                .iter()
                .zip(b.band_keys())
                .any(|(x, y)| *x == y)
        );
        assert_eq!(
            parse_signature(&a.signature_hex()),
            Some(a.signature.clone())
        );
    }
}
