//! Training on real documents beside the generated ones, and calibrating
//! on real documents only.
//!
//! A model trained on generated documents alone learns the generator: on
//! real photos and scans it is unsure of most documents it would label
//! right, and its temperature and out-of-distribution line, fitted on
//! generated validation data, are too strict. Here the real labelled
//! documents of a `train` split join the generated ones, each weighted
//! `weight` times (a few hundred real files against thousands of
//! generated ones), and everything that turns scores into decisions is
//! fitted on real documents the model did not learn from:
//!
//! - the real documents are cut into `folds`, type by type, by their
//!   source (every document of one source in one fold, as the
//!   `train`/`dev` split is cut; a type with one source only is cut by
//!   document), and each fold is predicted by a model trained without it
//!   (cross-fitting);
//! - on those out-of-fold predictions: the calibration temperature (log
//!   loss), the risk–coverage curve (from which `HERON_TARGET_ERROR_RATE`
//!   picks the threshold) and the out-of-distribution line (the unscaled
//!   top probability under which at most `max_false_foreign` of real
//!   documents fall);
//! - the model served is then trained on all of them, with those values.

use std::collections::{BTreeMap, BTreeSet};

use heron_core::Label;

use crate::model::{self, TextModel};
use crate::risk::RiskCoverage;
use crate::taxonomy::Taxonomy;
use crate::train::{self, Example, TrainError, TrainingConfig};

/// A real labelled document as the model reads it (text with its signals,
/// [`crate::features::with_signals`]) and the source it comes from.
#[derive(Debug, Clone)]
pub struct RealDocument {
    pub text: String,
    pub label: Label,
    pub source: String,
    /// Whether its text was read by OCR (a photo, a scan without a text
    /// layer): such texts are calibrated on their own.
    pub read_by_ocr: bool,
}

/// How the real documents are used.
#[derive(Debug, Clone)]
pub struct RealConfig {
    /// SGD steps per epoch on each real document (a generated one gets 1).
    pub weight: u32,
    /// Folds of sources for cross-fitting.
    pub folds: usize,
    /// Share of real documents the out-of-distribution line may call
    /// foreign.
    pub max_false_foreign: f64,
}

impl Default for RealConfig {
    fn default() -> Self {
        RealConfig {
            // Chosen out of fold on `train` (examples/real_folds.rs), never
            // on `dev`: with every source of a type held out, 0.634 at 2,
            // 0.606 at 5, 0.556 at 20, 0.551 at 60 (a heavier weight learns
            // the sources rather than the types); with the folds used for
            // calibration, 0.819 at 2, 0.824 at 5, 0.829 at 20, the
            // calibration error lowest at 2 (0.110).
            weight: 2,
            folds: 5,
            max_false_foreign: 0.02,
        }
    }
}

/// What cross-fitting measured on the real documents.
#[derive(Debug, Clone, PartialEq)]
pub struct RealReport {
    pub documents: usize,
    pub sources: usize,
    /// Accuracy of the best guess of out-of-fold predictions.
    pub out_of_fold_accuracy: f64,
    /// Expected calibration error of out-of-fold predictions, after the
    /// fitted temperature.
    pub out_of_fold_ece: f64,
    pub temperature: f32,
    /// The temperature of texts read by OCR, when there were enough of
    /// them to fit one ([`reading_temperatures`]).
    pub ocr_temperature: Option<f32>,
    pub ood_min_probability: f64,
    /// Per label: (documents, right best guesses) out of fold.
    pub per_label: BTreeMap<String, (usize, usize)>,
    /// (truth, best guess) of every out-of-fold document guessed wrong.
    pub confusions: Vec<(String, String)>,
    /// (calibrated confidence, right) of every out-of-fold best guess, in
    /// the order of the documents given (those of a known label).
    pub outcomes: Vec<(f64, bool)>,
}

/// Out-of-fold scores of every real document: (raw logits, label index).
type Scored = Vec<(Vec<f32>, usize)>;

/// Train the default model of `taxonomy` on `per_type` generated
/// documents per type (seed `seed`) and the `real` documents, calibrated
/// on the real ones (see the module docs). Deterministic: the same inputs
/// give the same model id.
pub fn train_with_real(
    taxonomy: &Taxonomy,
    per_type: usize,
    seed: u64,
    real: &[RealDocument],
    config: &RealConfig,
) -> Result<(TextModel, RealReport), TrainError> {
    let labels = taxonomy.labels();
    let samples = train::synthetic_samples(taxonomy, per_type, seed);
    let generated = train::examples_from(&samples, &labels);
    let real: Vec<(&RealDocument, usize)> = real
        .iter()
        .filter_map(|d| Some((d, labels.iter().position(|l| *l == d.label)?)))
        .collect();
    let fold_of = folds(&real, config.folds.max(2));
    let training_config = |source: String| TrainingConfig {
        seed,
        source,
        ..TrainingConfig::default()
    };

    // Cross-fitting: each fold of sources scored by a model without it.
    let mut scored: Scored = Vec::with_capacity(real.len());
    let mut unscaled_best = Vec::with_capacity(real.len());
    let mut order = Vec::with_capacity(real.len());
    let mut read_by_ocr: Vec<bool> = Vec::with_capacity(real.len());
    for fold in 0..config.folds.max(2) {
        let held: Vec<(usize, &(&RealDocument, usize))> = real
            .iter()
            .enumerate()
            .zip(&fold_of)
            .filter(|(_, f)| **f == fold)
            .map(|(d, _)| d)
            .collect();
        if held.is_empty() {
            continue;
        }
        let examples = with_real(
            &generated,
            real.iter()
                .zip(&fold_of)
                .filter(|(_, f)| **f != fold)
                .map(|(d, _)| d),
            config.weight,
        );
        let (model, _) = train::train(&examples, labels.clone(), &training_config(String::new()))?;
        for (index, (document, label)) in held {
            order.push(index);
            read_by_ocr.push(document.read_by_ocr);
            let logits = model.raw_logits(&document.text);
            unscaled_best.push(
                model::softmax(&logits, 1.0)
                    .into_iter()
                    .fold(0.0f64, f64::max),
            );
            scored.push((logits, *label));
        }
    }
    let (temperature, ocr_temperature) = reading_temperatures(&scored, &read_by_ocr);
    let outcomes: Vec<(f64, bool)> = scored
        .iter()
        .zip(&read_by_ocr)
        .map(|((logits, label), ocr)| {
            let temperature = match (ocr, ocr_temperature) {
                (true, Some(t)) => t,
                _ => temperature,
            };
            train::outcome(logits, *label, temperature)
        })
        .collect();
    let ood_min_probability = line_below(&unscaled_best, config.max_false_foreign);
    let sources: BTreeSet<&str> = real.iter().map(|(d, _)| d.source.as_str()).collect();
    let source = format!(
        "{} + {} real documents from {} sources, each weighted {}; calibrated out of fold ({} folds by source)",
        train::default_source(taxonomy, per_type, seed),
        real.len(),
        sources.len(),
        config.weight,
        config.folds
    );
    let curve = RiskCoverage::measure(
        format!(
            "{} real documents from {} sources, out of fold",
            real.len(),
            sources.len()
        ),
        &outcomes,
    );

    let examples = with_real(&generated, real.iter(), config.weight);
    let (model, _) = train::train(&examples, labels.clone(), &training_config(source))?;
    let model = model.recalibrated(temperature, ocr_temperature, curve, ood_min_probability);

    let mut per_label: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let mut confusions = Vec::new();
    for ((logits, label), (_, right)) in scored.iter().zip(&outcomes) {
        let entry = per_label
            .entry(labels[*label].as_str().to_owned())
            .or_default();
        entry.0 += 1;
        entry.1 += usize::from(*right);
        if !right {
            let best = logits
                .iter()
                .enumerate()
                .max_by(|a, b| a.1.total_cmp(b.1))
                .map_or(0, |(i, _)| i);
            confusions.push((
                labels[*label].as_str().to_owned(),
                labels[best].as_str().to_owned(),
            ));
        }
    }
    let report = RealReport {
        documents: real.len(),
        sources: sources.len(),
        out_of_fold_accuracy: outcomes.iter().filter(|(_, right)| *right).count() as f64
            / outcomes.len().max(1) as f64,
        out_of_fold_ece: crate::metrics::expected_calibration_error(&outcomes),
        temperature,
        ocr_temperature,
        ood_min_probability,
        per_label,
        confusions,
        outcomes: in_input_order(&order, &outcomes),
    };
    Ok((model, report))
}

/// Fewest out-of-fold documents of one reading (OCR, text layer) for it
/// to get a temperature of its own: below that, a temperature fitted on a
/// handful of documents would follow their accidents.
const MIN_READING_DOCUMENTS: usize = 30;

/// The sharpest temperature fitted on real documents. Real out-of-fold
/// predictions are far from separable (unlike a generated validation
/// split, see `train::MIN_TEMPERATURE`), so the log loss itself stops the
/// fit; this floor only keeps a small group from running to certainty.
const REAL_MIN_TEMPERATURE: f32 = 0.3;

/// The temperature of text-layer documents and, with at least
/// [`MIN_READING_DOCUMENTS`] of each reading, the temperature of texts
/// read by OCR, each fitted on its own out-of-fold scores (with too few
/// of either, one temperature fitted on all). Measured on `train` out of
/// fold (never on `dev`): one temperature for all (0.80) leaves photos
/// and scans read by OCR under-confident (mean confidence 0.75 against
/// an accuracy of 0.83) and digital PDFs over-confident (0.86 against
/// 0.72); fitted apart, the expected calibration error falls from 0.125
/// to 0.087.
fn reading_temperatures(scored: &[(Vec<f32>, usize)], read_by_ocr: &[bool]) -> (f32, Option<f32>) {
    let (ocr, text_layer): (Vec<_>, Vec<_>) =
        scored.iter().zip(read_by_ocr).partition(|(_, ocr)| **ocr);
    let fit = |group: Vec<(&(Vec<f32>, usize), &bool)>| {
        let group: Scored = group.into_iter().map(|(s, _)| s.clone()).collect();
        train::fit_temperature(&group, REAL_MIN_TEMPERATURE)
    };
    if ocr.len() < MIN_READING_DOCUMENTS || text_layer.len() < MIN_READING_DOCUMENTS {
        return (train::fit_temperature(scored, REAL_MIN_TEMPERATURE), None);
    }
    (fit(text_layer), Some(fit(ocr)))
}

/// `values` (one per document, in the order the folds scored them)
/// back in the order of the documents, `order` giving each one's index.
fn in_input_order<T: Copy>(order: &[usize], values: &[T]) -> Vec<T> {
    let mut placed: Vec<(usize, T)> = order.iter().copied().zip(values.iter().copied()).collect();
    placed.sort_by_key(|(index, _)| *index);
    placed.into_iter().map(|(_, value)| value).collect()
}

/// The generated examples plus `real` ones at `weight`.
fn with_real<'a>(
    generated: &[Example],
    real: impl Iterator<Item = &'a (&'a RealDocument, usize)>,
    weight: u32,
) -> Vec<Example> {
    let mut examples = generated.to_vec();
    examples.extend(real.map(|(document, label)| Example {
        text: document.text.clone(),
        label: *label,
        weight: weight.max(2),
    }));
    examples
}

/// The fold of each document, type by type: a type's sources are dealt
/// over the folds (larger first, to the lightest fold), so each is scored
/// by a model that saw the type's other sources only — as a document from
/// a new source is. A type with a single source cannot be held out that
/// way without leaving no real example of it at all (a harsher test than
/// any upload meets); its documents are dealt one by one instead.
fn folds(real: &[(&RealDocument, usize)], folds: usize) -> Vec<usize> {
    let mut by_label: BTreeMap<usize, BTreeMap<&str, Vec<usize>>> = BTreeMap::new();
    for (index, (document, label)) in real.iter().enumerate() {
        by_label
            .entry(*label)
            .or_default()
            .entry(document.source.as_str())
            .or_default()
            .push(index);
    }
    let mut fold_of = vec![0usize; real.len()];
    for sources in by_label.into_values() {
        let groups: Vec<Vec<usize>> = if sources.len() >= 2 {
            let mut groups: Vec<Vec<usize>> = sources.into_values().collect();
            groups.sort_by(|a, b| b.len().cmp(&a.len()).then(a.cmp(b)));
            groups
        } else {
            sources.into_values().flatten().map(|i| vec![i]).collect()
        };
        let mut load = vec![0usize; folds];
        for group in groups {
            let lightest = (0..folds).min_by_key(|&f| (load[f], f)).unwrap_or(0);
            load[lightest] += group.len();
            for index in group {
                fold_of[index] = lightest;
            }
        }
    }
    fold_of
}

/// The largest line under which at most `share` of `values` fall (0 when
/// the values are empty).
fn line_below(values: &[f64], share: f64) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let allowed = (share * sorted.len() as f64).floor() as usize;
    match sorted.get(allowed) {
        // Just under the first value that must stay familiar.
        Some(&value) => (value - 1e-6).max(0.0),
        None => 0.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn document(source: &str) -> RealDocument {
        RealDocument {
            text: String::new(),
            label: Label::parse("invoice").unwrap(),
            source: source.to_owned(),
            read_by_ocr: false,
        }
    }

    #[test]
    fn a_source_stays_in_one_fold_and_folds_are_balanced() {
        let documents: Vec<RealDocument> = ["a", "a", "a", "b", "b", "c", "d", "d", "e"]
            .iter()
            .map(|s| document(s))
            .collect();
        let real: Vec<(&RealDocument, usize)> = documents.iter().map(|d| (d, 0)).collect();
        let fold_of = folds(&real, 3);
        for (i, a) in real.iter().enumerate() {
            for (j, b) in real.iter().enumerate() {
                if a.0.source == b.0.source {
                    assert_eq!(fold_of[i], fold_of[j]);
                }
            }
        }
        let mut sizes = [0usize; 3];
        for f in fold_of {
            sizes[f] += 1;
        }
        assert_eq!(sizes, [3, 3, 3]);
        // A type with one source is dealt document by document.
        let single: Vec<RealDocument> = (0..6).map(|_| document("only")).collect();
        let real: Vec<(&RealDocument, usize)> = single.iter().map(|d| (d, 1)).collect();
        let mut sizes = [0usize; 3];
        for f in folds(&real, 3) {
            sizes[f] += 1;
        }
        assert_eq!(sizes, [2, 2, 2]);
    }

    #[test]
    fn texts_read_by_ocr_get_their_own_temperature_when_there_are_enough() {
        // Read by OCR: always right but with flat scores (under-confident);
        // from a text layer: sure, and wrong one time in four.
        let ocr = |i: usize| (vec![1.0, 0.2, 0.1 * (i % 3) as f32], 0);
        let text_layer = |i: usize| (vec![6.0, 0.0, 0.0], usize::from(i.is_multiple_of(4)));
        let mut scored: Scored = (0..40).map(ocr).collect();
        scored.extend((0..40).map(text_layer));
        let read_by_ocr: Vec<bool> = (0..80).map(|i| i < 40).collect();
        let (temperature, ocr_temperature) = reading_temperatures(&scored, &read_by_ocr);
        let ocr_temperature = ocr_temperature.expect("40 texts read by OCR are enough");
        assert!(ocr_temperature < 0.5, "{ocr_temperature}");
        assert!(temperature > 2.0, "{temperature}");
        // Too few of one reading: one temperature for all.
        let (all, none) = reading_temperatures(&scored[..50], &read_by_ocr[..50]);
        assert_eq!(none, None);
        assert_eq!(
            all,
            train::fit_temperature(&scored[..50], REAL_MIN_TEMPERATURE)
        );
    }

    #[test]
    fn the_foreign_line_leaves_the_allowed_share_below_it() {
        let values: Vec<f64> = (1..=100).map(|i| f64::from(i) / 100.0).collect();
        let line = line_below(&values, 0.02);
        assert_eq!(values.iter().filter(|v| **v < line).count(), 2);
        assert_eq!(line_below(&[], 0.02), 0.0);
    }
}
