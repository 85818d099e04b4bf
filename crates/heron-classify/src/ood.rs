//! Out-of-distribution: is a document like any type the model knows, or
//! something else altogether (a novel, a paper, a photo of a cat, a blank
//! page) that must not be forced into a type?
//!
//! Two tests, both cheap and measured on foreign texts (bench/README.md):
//! - too little known text: fewer than [`OodConfig::min_known_words`]
//!   distinct words the training data contained (a blank page, OCR noise
//!   from a photo, "Document 2: Page 1");
//! - unlike every type: the model's top probability before temperature
//!   scaling is below [`OodConfig::min_probability`] (maximum softmax
//!   probability, a standard baseline detector). Trained with layout signals and invented
//!   free-text words (see `synth`), prose no longer leans on one type, so
//!   a foreign text spreads its probability over many.
//!
//! A document between `min_probability` and the confidence threshold is
//! merely `unsure`: it looks like known types but not clearly like one.

use crate::features::Coverage;

/// Where the two tests draw the line.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OodConfig {
    pub min_known_words: usize,
    pub min_probability: f64,
}

impl Default for OodConfig {
    fn default() -> Self {
        OodConfig {
            min_known_words: 4,
            min_probability: 0.5,
        }
    }
}

/// The outcome of [`judge`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Familiarity {
    Familiar,
    TooLittleKnownText { known_words: usize },
    UnlikeAnyType { best_probability: f64 },
}

impl Familiarity {
    pub fn is_out_of_distribution(self) -> bool {
        self != Familiarity::Familiar
    }

    /// Why the document was judged foreign, for its result's notice.
    pub fn reason(self) -> Option<String> {
        match self {
            Familiarity::Familiar => None,
            Familiarity::TooLittleKnownText { known_words } => Some(format!(
                "too little recognisable text to tell a document type ({known_words} known words)"
            )),
            Familiarity::UnlikeAnyType { best_probability } => Some(format!(
                "unlike every known document type (best match {best_probability:.2})"
            )),
        }
    }
}

/// Judge a document from its coverage by the model's vocabulary and its
/// top class probability before temperature scaling
/// ([`crate::Prediction::unscaled_best`]).
pub fn judge(coverage: &Coverage, best_probability: f64, config: &OodConfig) -> Familiarity {
    if coverage.known_words < config.min_known_words {
        Familiarity::TooLittleKnownText {
            known_words: coverage.known_words,
        }
    } else if best_probability < config.min_probability {
        Familiarity::UnlikeAnyType { best_probability }
    } else {
        Familiarity::Familiar
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn coverage(known_words: usize) -> Coverage {
        Coverage {
            words: 0.5,
            pairs: 0.5,
            tokens: known_words * 2,
            known_words,
        }
    }

    #[test]
    fn each_test_draws_its_line() {
        let config = OodConfig::default();
        assert_eq!(judge(&coverage(40), 0.9, &config), Familiarity::Familiar);
        assert!(judge(&coverage(2), 0.99, &config).is_out_of_distribution());
        let foreign = judge(&coverage(40), 0.3, &config);
        assert_eq!(
            foreign,
            Familiarity::UnlikeAnyType {
                best_probability: 0.3
            }
        );
        assert!(foreign.reason().unwrap().contains("0.30"));
        assert_eq!(Familiarity::Familiar.reason(), None);
    }
}
