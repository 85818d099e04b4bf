//! Multinomial naive Bayes over the same hashed term counts: the original
//! service's model family, kept as a baseline that `examples/holdout_eval`
//! measures beside the logistic regression (it is not served).

use crate::features::{self, SparseVector};

/// A trained naive Bayes classifier.
#[derive(Debug, Clone)]
pub struct NaiveBayes {
    dimensions: u32,
    /// ln P(class).
    priors: Vec<f64>,
    /// ln P(feature | class), class-major: `classes × dimensions`.
    likelihoods: Vec<f32>,
}

impl NaiveBayes {
    /// Fit on `(text, class)` pairs with additive smoothing `alpha`.
    pub fn train(
        examples: &[(String, usize)],
        classes: usize,
        dimensions: u32,
        alpha: f64,
    ) -> NaiveBayes {
        let d = dimensions as usize;
        let mut counts = vec![0f64; classes * d];
        let mut totals = vec![0f64; classes];
        let mut documents = vec![0usize; classes];
        for (text, class) in examples {
            if *class >= classes {
                continue;
            }
            documents[*class] += 1;
            for (bucket, count) in features::term_counts(text, dimensions) {
                counts[*class * d + bucket as usize] += f64::from(count);
                totals[*class] += f64::from(count);
            }
        }
        let n = examples.len().max(1) as f64;
        let priors = documents
            .iter()
            .map(|&c| ((c as f64 + 1.0) / (n + classes as f64)).ln())
            .collect();
        let mut likelihoods = vec![0f32; classes * d];
        for ((row, counts), total) in likelihoods.chunks_mut(d).zip(counts.chunks(d)).zip(&totals) {
            let denominator = total + alpha * d as f64;
            for (likelihood, count) in row.iter_mut().zip(counts) {
                *likelihood = ((count + alpha) / denominator).ln() as f32;
            }
        }
        NaiveBayes {
            dimensions,
            priors,
            likelihoods,
        }
    }

    /// Class probabilities of `text` (normalised from the log joint).
    pub fn predict(&self, text: &str) -> Vec<f64> {
        let counts: SparseVector = features::term_counts(text, self.dimensions);
        let d = self.dimensions as usize;
        let scores: Vec<f64> = self
            .priors
            .iter()
            .enumerate()
            .map(|(class, prior)| {
                prior
                    + counts
                        .iter()
                        .map(|&(b, c)| {
                            f64::from(c) * f64::from(self.likelihoods[class * d + b as usize])
                        })
                        .sum::<f64>()
            })
            .collect();
        let max = scores.iter().copied().fold(f64::MIN, f64::max);
        let exp: Vec<f64> = scores.iter().map(|s| (s - max).exp()).collect();
        let sum: f64 = exp.iter().sum();
        exp.into_iter().map(|e| e / sum).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn separates_two_vocabularies() {
        let examples = vec![
            ("invoice total due payment".to_owned(), 0),
            ("invoice number subtotal tax".to_owned(), 0),
            ("account statement opening balance".to_owned(), 1),
            ("closing balance deposit statement".to_owned(), 1),
        ];
        let model = NaiveBayes::train(&examples, 2, 1 << 12, 0.1);
        assert!(model.predict("total due on this invoice")[0] > 0.9);
        assert!(model.predict("your statement balance")[1] > 0.9);
    }
}
