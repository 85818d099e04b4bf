//! Blending the file-name hint into the content's probabilities.
//!
//! The name hint becomes a prior distribution (its confidence on the hinted
//! label, the rest spread evenly) and is combined log-linearly with the
//! content distribution, raised to [`NAME_WEIGHT`] < 1. With the default
//! hint confidence (0.85) and seven labels, the prior's odds for the hinted
//! label are about 34:1; raised to 0.35 that is under 4:1, so it can tip a
//! content distribution that is nearly split but never one whose odds
//! exceed 4:1 — a confident content decision is never flipped by a name.

/// Exponent of the name prior in the log-linear blend.
pub const NAME_WEIGHT: f64 = 0.35;

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
    fn a_split_content_decision_can_be_tipped_by_the_name() {
        let content = vec![0.4, 0.38, 0.05, 0.05, 0.04, 0.04, 0.04];
        assert_eq!(argmax(&combine(&content, Some((1, 0.85)), 7)), 1);
    }

    #[test]
    fn no_hint_changes_nothing() {
        let content = vec![0.5, 0.5];
        assert_eq!(combine(&content, None, 2), content);
    }
}
