//! Active learning: which documents a person should look at first.
//!
//! A document needs a person when the pipeline said `unsure`, when its
//! confidence is under its label's review threshold, or — picked by
//! margin sampling — when the model hesitated between its two best types.
//! Among those, the ones whose label would teach the model most come
//! first: the smaller the margin between the two best types, the more a
//! label moves the decision boundary. A queue of fifty copies of one
//! template teaches little more than one copy, so the order is chosen
//! greedily, each next document's priority lowered by its similarity to
//! those already chosen (the caller supplies the similarity, e.g. MinHash
//! Jaccard of the texts).

use std::collections::BTreeMap;

use serde::Serialize;

/// One classified document offered to the queue.
#[derive(Debug, Clone)]
pub struct Candidate<'a> {
    pub label: &'a str,
    pub predicted_label: &'a str,
    pub confidence: f64,
    /// Every class's confidence.
    pub class_confidences: &'a BTreeMap<String, f64>,
    pub out_of_distribution: bool,
}

/// Why a document is in the queue.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum Reason {
    /// The pipeline did not give a label.
    Unsure,
    /// Unlike anything the model was trained on.
    OutOfDistribution,
    /// Confidence under the label's review threshold.
    BelowThreshold { threshold: f64 },
    /// The two best types were close (margin sampling).
    SmallMargin { margin: f64 },
}

/// When a document needs a person.
#[derive(Debug, Clone)]
pub struct ReviewPolicy {
    /// Review threshold of labels not in `per_label`.
    pub threshold: f64,
    pub per_label: BTreeMap<String, f64>,
    /// Documents whose two best types are closer than this are picked
    /// even when confident enough.
    pub margin: f64,
    /// How much similarity to an already chosen document lowers a
    /// priority (0: not at all; 1: an identical document drops to 0).
    pub diversity: f64,
}

impl Default for ReviewPolicy {
    fn default() -> Self {
        ReviewPolicy {
            threshold: 0.8,
            per_label: BTreeMap::new(),
            margin: 0.2,
            diversity: 0.8,
        }
    }
}

/// A chosen document: its index among the candidates, how much its label
/// would teach, and why it is there.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Pick {
    pub index: usize,
    /// In 0..=1, after the diversity penalty.
    pub priority: f64,
    /// The margin between the two best types.
    pub margin: f64,
    pub reasons: Vec<Reason>,
}

impl ReviewPolicy {
    /// Why `candidate` needs a person (empty: it does not).
    pub fn reasons(&self, candidate: &Candidate<'_>) -> Vec<Reason> {
        let mut reasons = Vec::new();
        if candidate.label == "unsure" {
            reasons.push(Reason::Unsure);
        }
        if candidate.out_of_distribution {
            reasons.push(Reason::OutOfDistribution);
        }
        let threshold = self
            .per_label
            .get(candidate.predicted_label)
            .copied()
            .unwrap_or(self.threshold);
        if candidate.label != "unsure" && candidate.confidence < threshold {
            reasons.push(Reason::BelowThreshold { threshold });
        }
        let margin = margin(candidate.class_confidences);
        if margin < self.margin {
            reasons.push(Reason::SmallMargin {
                margin: (margin * 10_000.0).round() / 10_000.0,
            });
        }
        reasons
    }

    /// The candidates that need a person, most informative first, at most
    /// `limit`. `similarity(i, j)` in 0..=1 compares candidates `i` and `j`.
    pub fn rank(
        &self,
        candidates: &[Candidate<'_>],
        limit: usize,
        similarity: impl Fn(usize, usize) -> f64,
    ) -> Vec<Pick> {
        let mut pool: Vec<Pick> = candidates
            .iter()
            .enumerate()
            .filter_map(|(index, candidate)| {
                let reasons = self.reasons(candidate);
                if reasons.is_empty() {
                    return None;
                }
                let margin = margin(candidate.class_confidences);
                Some(Pick {
                    index,
                    priority: informativeness(margin, &reasons),
                    margin,
                    reasons,
                })
            })
            .collect();
        let mut chosen: Vec<Pick> = Vec::new();
        while chosen.len() < limit && !pool.is_empty() {
            let mut best = 0;
            let mut best_priority = f64::MIN;
            for (position, pick) in pool.iter().enumerate() {
                let closest = chosen
                    .iter()
                    .map(|c| similarity(pick.index, c.index))
                    .fold(0.0f64, f64::max);
                let priority = pick.priority * (1.0 - self.diversity * closest.clamp(0.0, 1.0));
                if priority > best_priority {
                    best_priority = priority;
                    best = position;
                }
            }
            let mut pick = pool.swap_remove(best);
            pick.priority = best_priority;
            chosen.push(pick);
        }
        chosen
    }
}

/// The difference between the two best class confidences (1 with fewer
/// than two classes).
pub fn margin(class_confidences: &BTreeMap<String, f64>) -> f64 {
    let mut best = [0.0f64; 2];
    for &p in class_confidences.values() {
        if p > best[0] {
            best = [p, best[0]];
        } else if p > best[1] {
            best[1] = p;
        }
    }
    if class_confidences.len() < 2 {
        return 1.0;
    }
    (best[0] - best[1]).clamp(0.0, 1.0)
}

/// Margin sampling, with documents no type fits ranked beside the
/// closest calls: what a label teaches the model.
fn informativeness(margin: f64, reasons: &[Reason]) -> f64 {
    let base = 1.0 - margin;
    let unknown = reasons
        .iter()
        .any(|r| matches!(r, Reason::Unsure | Reason::OutOfDistribution));
    if unknown { base.max(0.9) } else { base }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn confidences(pairs: &[(&str, f64)]) -> BTreeMap<String, f64> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect()
    }

    #[test]
    fn confident_clear_documents_are_left_alone() {
        let clear = confidences(&[("invoice", 0.95), ("receipt", 0.03)]);
        let candidate = Candidate {
            label: "invoice",
            predicted_label: "invoice",
            confidence: 0.95,
            class_confidences: &clear,
            out_of_distribution: false,
        };
        assert!(ReviewPolicy::default().reasons(&candidate).is_empty());
    }

    fn invoice_candidate(c: &BTreeMap<String, f64>, confidence: f64) -> Candidate<'_> {
        Candidate {
            label: "invoice",
            predicted_label: "invoice",
            confidence,
            class_confidences: c,
            out_of_distribution: false,
        }
    }

    #[test]
    fn per_label_thresholds_and_margins_pick_documents() {
        let close = confidences(&[("invoice", 0.5), ("receipt", 0.45)]);
        let fair = confidences(&[("invoice", 0.85), ("receipt", 0.1)]);
        let mut policy = ReviewPolicy::default();
        policy.per_label.insert("invoice".into(), 0.9);
        let reasons = policy.reasons(&invoice_candidate(&close, 0.5));
        assert!(reasons.contains(&Reason::BelowThreshold { threshold: 0.9 }));
        assert!(matches!(reasons.last(), Some(Reason::SmallMargin { .. })));
        assert_eq!(
            policy.reasons(&invoice_candidate(&fair, 0.85)),
            vec![Reason::BelowThreshold { threshold: 0.9 }]
        );
        policy.per_label.clear();
        assert!(policy.reasons(&invoice_candidate(&fair, 0.85)).is_empty());
    }

    #[test]
    fn closest_calls_first_and_copies_of_one_template_spread_out() {
        // Three copies of one template (similar to each other), all close
        // calls, and one different document that is a little less close.
        let copy = confidences(&[("invoice", 0.5), ("receipt", 0.48)]);
        let other = confidences(&[("payslip", 0.55), ("contract", 0.4)]);
        let candidates: Vec<Candidate<'_>> = (0..4)
            .map(|i| Candidate {
                label: "unsure_or_not",
                predicted_label: if i < 3 { "invoice" } else { "payslip" },
                confidence: if i < 3 { 0.5 } else { 0.55 },
                class_confidences: if i < 3 { &copy } else { &other },
                out_of_distribution: false,
            })
            .collect();
        let similarity = |a: usize, b: usize| if a < 3 && b < 3 { 0.95 } else { 0.05 };
        let policy = ReviewPolicy::default();
        let picks = policy.rank(&candidates, 4, similarity);
        let order: Vec<usize> = picks.iter().map(|p| p.index).collect();
        assert_eq!(order.len(), 4);
        assert!(order[0] < 3, "the closest call first: {order:?}");
        assert_eq!(order[1], 3, "then the different document: {order:?}");
        let without_diversity = ReviewPolicy {
            diversity: 0.0,
            ..ReviewPolicy::default()
        };
        let plain: Vec<usize> = without_diversity
            .rank(&candidates, 4, similarity)
            .iter()
            .map(|p| p.index)
            .collect();
        assert_eq!(plain[3], 3, "without diversity the copies come first");
        assert_eq!(policy.rank(&candidates, 2, similarity).len(), 2);
    }

    #[test]
    fn unsure_documents_rank_high_even_with_a_clear_margin() {
        let clear = confidences(&[("invoice", 0.3), ("receipt", 0.02)]);
        let candidate = Candidate {
            label: "unsure",
            predicted_label: "invoice",
            confidence: 0.3,
            class_confidences: &clear,
            out_of_distribution: true,
        };
        let picks = ReviewPolicy::default().rank(&[candidate], 5, |_, _| 0.0);
        assert_eq!(picks.len(), 1);
        assert!(picks[0].priority >= 0.9);
        assert!(picks[0].reasons.contains(&Reason::Unsure));
        assert!(picks[0].reasons.contains(&Reason::OutOfDistribution));
    }
}
