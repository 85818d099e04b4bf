//! How well predictions match the truth: accuracy, per-class precision,
//! recall and F1, macro F1 and the confusion matrix. Shared by `heron
//! eval`, the champion/challenger comparison of a training run and the
//! dashboard's figures from reviewed documents.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// One class's figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassMetrics {
    /// Documents whose truth is this class.
    pub support: usize,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
}

/// Figures over a set of (truth, prediction) pairs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    pub documents: usize,
    pub accuracy: f64,
    /// Mean F1 over the classes that occur as truth.
    pub macro_f1: f64,
    pub per_class: BTreeMap<String, ClassMetrics>,
    /// `confusion[truth][predicted]` = count.
    pub confusion: BTreeMap<String, BTreeMap<String, usize>>,
}

impl Metrics {
    /// Measure `pairs` of (truth, prediction).
    pub fn measure<T: AsRef<str>, P: AsRef<str>>(pairs: &[(T, P)]) -> Metrics {
        let total = pairs.len();
        let correct = pairs
            .iter()
            .filter(|(t, p)| t.as_ref() == p.as_ref())
            .count();
        let mut confusion: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
        for (t, p) in pairs {
            *confusion
                .entry(t.as_ref().to_owned())
                .or_default()
                .entry(p.as_ref().to_owned())
                .or_default() += 1;
        }
        let mut predicted: BTreeMap<&str, usize> = BTreeMap::new();
        for (_, p) in pairs {
            *predicted.entry(p.as_ref()).or_default() += 1;
        }
        let per_class: BTreeMap<String, ClassMetrics> = confusion
            .iter()
            .map(|(class, row)| {
                let support: usize = row.values().sum();
                let tp = row.get(class).copied().unwrap_or(0) as f64;
                let predicted_as = predicted.get(class.as_str()).copied().unwrap_or(0) as f64;
                let precision = if predicted_as > 0.0 {
                    tp / predicted_as
                } else {
                    0.0
                };
                let recall = tp / support.max(1) as f64;
                let f1 = if precision + recall > 0.0 {
                    2.0 * precision * recall / (precision + recall)
                } else {
                    0.0
                };
                (
                    class.clone(),
                    ClassMetrics {
                        support,
                        precision,
                        recall,
                        f1,
                    },
                )
            })
            .collect();
        let macro_f1 = per_class.values().map(|m| m.f1).fold(0.0, |a, b| a + b)
            / per_class.len().max(1) as f64;
        Metrics {
            documents: total,
            accuracy: correct as f64 / total.max(1) as f64,
            macro_f1,
            per_class,
            confusion,
        }
    }
}

/// Expected calibration error of `(confidence, right)` outcomes over ten
/// equal-width bins: the gap between mean confidence and accuracy in each
/// bin, weighted by the bin's share of outcomes.
pub fn expected_calibration_error(outcomes: &[(f64, bool)]) -> f64 {
    let mut bins = [(0usize, 0f64, 0usize); 10];
    for &(confidence, right) in outcomes {
        let bin = ((confidence * 10.0) as usize).min(9);
        bins[bin].0 += 1;
        bins[bin].1 += confidence;
        bins[bin].2 += usize::from(right);
    }
    let n = outcomes.len().max(1) as f64;
    bins.iter()
        .filter(|b| b.0 > 0)
        .map(|&(count, sum, hits)| {
            (count as f64 / n) * (sum / count as f64 - hits as f64 / count as f64).abs()
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn precision_counts_every_document_predicted_as_the_class() {
        let pairs = [
            ("invoice", "invoice"),
            ("invoice", "receipt"),
            ("receipt", "invoice"),
            ("receipt", "receipt"),
            ("receipt", "receipt"),
        ];
        let metrics = Metrics::measure(&pairs);
        assert_eq!(metrics.documents, 5);
        assert!((metrics.accuracy - 0.6).abs() < 1e-9);
        let invoice = &metrics.per_class["invoice"];
        assert_eq!(invoice.support, 2);
        assert!((invoice.precision - 0.5).abs() < 1e-9);
        assert!((invoice.recall - 0.5).abs() < 1e-9);
        let receipt = &metrics.per_class["receipt"];
        assert!((receipt.precision - 2.0 / 3.0).abs() < 1e-9);
        assert!((receipt.recall - 2.0 / 3.0).abs() < 1e-9);
        assert_eq!(metrics.confusion["receipt"]["invoice"], 1);
    }

    #[test]
    fn a_class_only_predicted_has_no_row_but_lowers_precision() {
        let metrics = Metrics::measure(&[("invoice", "unsure"), ("invoice", "invoice")]);
        assert_eq!(metrics.per_class.len(), 1);
        assert!((metrics.per_class["invoice"].precision - 1.0).abs() < 1e-9);
        assert!((metrics.per_class["invoice"].recall - 0.5).abs() < 1e-9);
        assert_eq!(Metrics::measure::<&str, &str>(&[]).accuracy, 0.0);
    }
}
