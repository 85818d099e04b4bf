//! Blending the file-name hint into the content's probabilities.
//!
//! The name hint becomes a prior distribution (its confidence on the hinted
//! label, the rest spread evenly) and is combined log-linearly with the
//! content distribution, raised to [`NAME_WEIGHT`] < 1. With hint
//! confidence `c` and `n` labels, the prior's odds for the hinted label
//! against any other are `c (n − 1) / (1 − c)`, and the blend multiplies
//! the content's odds by that to the power 0.35: [`name_flip_bound`]. With
//! the default hint confidence (0.85) that is 3.4:1 for the original seven
//! labels and 6.4:1 for the default taxonomy's 36, so a name can tip a
//! content distribution that is nearly split but never one whose odds for
//! its top label exceed the bound — a confident content decision (above
//! 0.87 between two labels at 36) is never flipped by a name.

use heron_classify::semantic::TypeScore;
use heron_core::Label;

/// Exponent of the name prior in the log-linear blend.
pub const NAME_WEIGHT: f64 = 0.35;

/// The most a name hint of `confidence` among `n_labels` labels multiplies
/// the odds of its label against another (see the module docs): content
/// odds above this are never flipped.
pub fn name_flip_bound(confidence: f64, n_labels: usize) -> f64 {
    (confidence * (n_labels.max(2) - 1) as f64 / (1.0 - confidence)).powf(NAME_WEIGHT)
}

/// The prior implied by a name hint `(label index, confidence)`.
pub fn name_prior((index, confidence): (usize, f64), n_labels: usize) -> Vec<f64> {
    let rest = if n_labels > 1 {
        (1.0 - confidence) / (n_labels - 1) as f64
    } else {
        0.0
    };
    (0..n_labels)
        .map(|i| if i == index { confidence } else { rest })
        .collect()
}

/// Blend `content` with the prior of `hint`, renormalised.
pub fn combine(content: &[f64], hint: Option<(usize, f64)>, n_labels: usize) -> Vec<f64> {
    let Some(hint) = hint else {
        return content.to_vec();
    };
    let prior = name_prior(hint, n_labels);
    let blended: Vec<f64> = content
        .iter()
        .zip(&prior)
        .map(|(c, p)| c.max(1e-9) * p.max(1e-9).powf(NAME_WEIGHT))
        .collect();
    let sum: f64 = blended.iter().sum();
    blended.into_iter().map(|b| b / sum).collect()
}

/// Exponent of the semantic probability of a type the linear model knows
/// and the semantic stage knows only by description, in
/// [`pool_semantic`]: zero-shot similarity to a description is weak
/// evidence next to a model trained on the type. Chosen on validation
/// data by `examples/semantic_eval.rs` (bench/README.md): any weight above
/// zero undid some of the linear model's right decisions.
pub const KNOWN_TYPE_WEIGHT: f64 = 0.0;

/// Exponent of the semantic stage's total probability of the linear
/// model's types, applied to each of them when types the linear model
/// lacks compete (a tenant's own types). The linear model cannot say
/// "none of mine" with confidence — on a document of a new type it still
/// spreads its probability over types it knows — so the semantic stage,
/// which knows every type, decides how much goes to the known types as a
/// whole and the linear model how it is shared among them. Chosen on the
/// real `train` documents, each type in turn taught as new with five
/// examples (`examples/few_shot_real.rs`, bench/README.md): the most
/// documents of the taught type answered as it while at most 0.5 % of
/// other documents are pulled into it (0: 31.8 % answered, 0.18 % pulled
/// in; 2: 57.3 %, 0.39 %; 3: 61.5 %, 0.58 %).
pub const KNOWN_GROUP_WEIGHT: f64 = 2.0;

/// The exponents of [`pool_semantic`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pooling {
    /// See [`KNOWN_TYPE_WEIGHT`].
    pub known_weight: f64,
    /// See [`KNOWN_GROUP_WEIGHT`].
    pub known_group_weight: f64,
}

/// The pooling the pipeline uses.
pub const POOLING: Pooling = Pooling {
    known_weight: KNOWN_TYPE_WEIGHT,
    known_group_weight: KNOWN_GROUP_WEIGHT,
};

/// Pool the semantic stage's scores into the linear model's distribution
/// `content` over `labels`. Types only the semantic stage knows are
/// appended to the labels and share the linear model's doubt (1 − its
/// best probability) as their prior; then each type's linear probability
/// is multiplied by its semantic probability — raised to `known_weight`
/// for the linear model's own types known to the semantic stage only by
/// description, to 1 for the others (types taught with examples, and
/// types the linear model lacks) — and, when types the linear model lacks
/// take part, each of the linear model's own types by the semantic
/// stage's total for them raised to `known_group_weight`; the result is
/// normalised.
/// Agreement sharpens the result; a strong disagreement splits it, so
/// the confidence drops and a person looks. Returns the labels and the
/// pooled distribution over them.
pub fn pool_semantic(
    labels: &[Label],
    content: &[f64],
    scores: &[TypeScore],
    pooling: Pooling,
) -> (Vec<Label>, Vec<f64>) {
    let mut labels = labels.to_vec();
    let known = labels.len();
    for score in scores {
        if !labels.contains(&score.label) {
            labels.push(score.label.clone());
        }
    }
    let n = labels.len();
    let extra = n - known;
    let doubt = 1.0 - content.iter().copied().fold(0.0, f64::max);
    let mut linear: Vec<f64> = content
        .iter()
        .map(|p| if extra > 0 { p * (1.0 - doubt) } else { *p })
        .collect();
    linear.resize(n, if extra > 0 { doubt / extra as f64 } else { 0.0 });
    let mut semantic = vec![0.0; n];
    let mut taught = vec![false; n];
    for score in scores {
        if let Some(i) = labels.iter().position(|l| *l == score.label) {
            semantic[i] = score.probability;
            taught[i] = score.examples > 0;
        }
    }
    let known_group = if extra > 0 {
        semantic[..known]
            .iter()
            .sum::<f64>()
            .max(1e-9)
            .powf(pooling.known_group_weight)
    } else {
        1.0
    };
    let pooled: Vec<f64> = linear
        .iter()
        .zip(&semantic)
        .enumerate()
        .map(|(i, (l, s))| {
            let weight = if i < known && !taught[i] {
                pooling.known_weight
            } else {
                1.0
            };
            let group = if i < known { known_group } else { 1.0 };
            l.max(1e-9) * s.max(1e-9).powf(weight) * group
        })
        .collect();
    let total: f64 = pooled.iter().sum();
    let pooled = pooled.into_iter().map(|p| p / total).collect();
    (labels, pooled)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argmax(v: &[f64]) -> usize {
        (0..v.len()).fold(0, |b, i| if v[i] > v[b] { i } else { b })
    }

    #[test]
    fn a_confident_content_decision_is_never_flipped_by_the_name() {
        // Content 80 % on label 0, the rest spread; the name says label 3.
        let mut content = vec![0.2 / 6.0; 7];
        content[0] = 0.8;
        let blended = combine(&content, Some((3, 0.85)), 7);
        assert_eq!(argmax(&blended), 0);
        assert!(blended[0] > 0.65, "{blended:?}");
    }

    #[test]
    fn the_bound_holds_at_the_default_taxonomys_36_labels() {
        let bound = name_flip_bound(0.85, 36);
        assert!((bound - 6.37).abs() < 0.01, "{bound}");
        assert!((name_flip_bound(0.85, 7) - 3.44).abs() < 0.01);
        // Content odds just above the bound hold; just below, the name wins.
        for (odds, flipped) in [(bound * 1.01, false), (bound * 0.99, true)] {
            let mut content = vec![0.0; 36];
            content[0] = odds / (odds + 1.0);
            content[1] = 1.0 / (odds + 1.0);
            assert_eq!(
                argmax(&combine(&content, Some((1, 0.85)), 36)) == 1,
                flipped,
                "{odds}"
            );
        }
    }

    #[test]
    fn a_split_content_decision_can_be_tipped_by_the_name() {
        let content = vec![0.4, 0.38, 0.05, 0.05, 0.04, 0.04, 0.04];
        assert_eq!(argmax(&combine(&content, Some((1, 0.85)), 7)), 1);
    }

    fn score(id: &str, probability: f64) -> TypeScore {
        TypeScore {
            label: Label::parse(id).unwrap(),
            similarity: 0.5,
            closeness: 0.5,
            probability,
            examples: 0,
        }
    }

    #[test]
    fn agreement_sharpens_and_a_type_only_the_semantic_stage_knows_can_win() {
        let labels = vec![
            Label::parse("invoice").unwrap(),
            Label::parse("receipt").unwrap(),
        ];
        let (_, agreed) = pool_semantic(
            &labels,
            &[0.7, 0.3],
            &[score("invoice", 0.8), score("receipt", 0.2)],
            Pooling {
                known_weight: 1.0,
                known_group_weight: 0.0,
            },
        );
        assert!(agreed[0] > 0.85, "{agreed:?}");
        // The linear model is unsure; the semantic stage knows a new type.
        let (pooled_labels, pooled) = pool_semantic(
            &labels,
            &[0.55, 0.45],
            &[
                score("invoice", 0.02),
                score("receipt", 0.02),
                score("vet_record", 0.96),
            ],
            Pooling {
                known_weight: 1.0,
                known_group_weight: 0.0,
            },
        );
        assert_eq!(pooled_labels.len(), 3);
        assert_eq!(argmax(&pooled), 2, "{pooled:?}");
        // A strong disagreement between two known types lowers confidence.
        let (_, split) = pool_semantic(
            &labels,
            &[0.9, 0.1],
            &[score("invoice", 0.1), score("receipt", 0.9)],
            Pooling {
                known_weight: 1.0,
                known_group_weight: 0.0,
            },
        );
        assert!(split.iter().copied().fold(0.0, f64::max) < 0.6, "{split:?}");
    }

    #[test]
    fn no_hint_changes_nothing() {
        let content = vec![0.5, 0.5];
        assert_eq!(combine(&content, None, 2), content);
    }
}
