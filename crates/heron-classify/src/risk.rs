//! Abstention users can trust: the risk–coverage curve of a model (the
//! error rate among the documents it would auto-accept at each confidence
//! cut-off, and the share it would accept), and the cut-off that meets a
//! target error rate.
//!
//! Training records the curve of its validation split; `heron eval
//! --record` replaces it with the curve measured on the user's own
//! labelled documents, which is the one to trust: synthetic validation
//! data is easier than real uploads.

use serde::{Deserialize, Serialize};

/// One point of the curve.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RiskPoint {
    /// Documents with a confidence at or above this are accepted.
    pub cutoff: f64,
    /// Share of all documents accepted.
    pub coverage: f64,
    /// Share of accepted documents whose label is wrong.
    pub risk: f64,
}

/// A measured risk–coverage curve and what it was measured on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RiskCoverage {
    /// e.g. `validation split (synthetic)`, `heron eval of 288 documents`.
    pub source: String,
    pub documents: usize,
    /// Cut-offs ascending, 0.00 to 0.99 in steps of 0.01.
    pub points: Vec<RiskPoint>,
}

/// The cut-off chosen for a target error rate.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Cutoff {
    pub cutoff: f64,
    /// Share of documents auto-accepted at that cut-off, as measured.
    pub coverage: f64,
    /// Error rate among them, as measured.
    pub risk: f64,
}

impl RiskCoverage {
    /// The curve of `(confidence, correct)` outcomes.
    pub fn measure(source: impl Into<String>, outcomes: &[(f64, bool)]) -> RiskCoverage {
        let total = outcomes.len().max(1) as f64;
        let points = (0..100)
            .map(|i| {
                let cutoff = f64::from(i) / 100.0;
                let accepted: Vec<bool> = outcomes
                    .iter()
                    .filter(|(confidence, _)| *confidence >= cutoff)
                    .map(|&(_, correct)| correct)
                    .collect();
                let errors = accepted.iter().filter(|&&correct| !correct).count();
                RiskPoint {
                    cutoff,
                    coverage: accepted.len() as f64 / total,
                    risk: if accepted.is_empty() {
                        0.0
                    } else {
                        errors as f64 / accepted.len() as f64
                    },
                }
            })
            .collect();
        RiskCoverage {
            source: source.into(),
            documents: outcomes.len(),
            points,
        }
    }

    /// The lowest cut-off (so the most documents accepted) at which the
    /// accepted documents' error rate is at most `target` and stays so at
    /// every higher cut-off; `None` when no cut-off accepting anything
    /// meets it.
    pub fn cutoff_for(&self, target: f64) -> Option<Cutoff> {
        let mut chosen = None;
        for point in self.points.iter().rev() {
            if point.coverage <= 0.0 {
                continue;
            }
            if point.risk > target {
                break;
            }
            chosen = Some(Cutoff {
                cutoff: point.cutoff,
                coverage: point.coverage,
                risk: point.risk,
            });
        }
        chosen
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cutoff_meets_the_target_with_the_most_coverage() {
        // Ten documents: wrong ones at 0.55 and 0.75, right ones elsewhere.
        let outcomes: Vec<(f64, bool)> = [0.3, 0.55, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 0.99]
            .iter()
            .map(|&c| (c, c != 0.55 && c != 0.75))
            .collect();
        let curve = RiskCoverage::measure("test", &outcomes);
        assert_eq!(curve.points.len(), 100);
        assert_eq!(curve.points[0].coverage, 1.0);
        assert!((curve.points[0].risk - 0.2).abs() < 1e-9);

        let strict = curve.cutoff_for(0.0).unwrap();
        assert!((strict.cutoff - 0.76).abs() < 1e-9, "{strict:?}");
        assert!((strict.coverage - 0.5).abs() < 1e-9);
        // 1 error in 6 documents from 0.56 up; below, 2 in 9 (22 %) until
        // the 0.3 document brings it to 2 in 10: a cut-off of 0 meets 20 %
        // alone, but every cut-off between exceeds it, so 0.56 is chosen.
        let middle = curve.cutoff_for(0.2).unwrap();
        assert!((middle.cutoff - 0.56).abs() < 1e-9, "{middle:?}");
        assert_eq!(curve.cutoff_for(0.25).unwrap().cutoff, 0.0);

        let hopeless = RiskCoverage::measure("test", &[(0.99, false)]);
        assert_eq!(hopeless.cutoff_for(0.01), None);
    }
}
