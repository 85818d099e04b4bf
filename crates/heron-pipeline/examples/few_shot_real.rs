//! Few-shot types on real documents, measured on the `train` split only
//! (never `dev`): each type with at least seven real documents is in turn
//! treated as a tenant's new type — the linear model does not know it
//! (its column dropped and the rest renormalised, which is what a
//! softmax model without that class gives), the semantic stage knows it
//! by its description and five taught documents — and every other
//! document is classified as the pipeline would (pooling, the 0.65
//! threshold, the familiarity check of a type only the semantic stage
//! knows). Three different sets of five teach each type.
//!
//! Reported per weight of the known types' semantic total
//! ([`heron_pipeline::combine::KNOWN_GROUP_WEIGHT`]) and familiarity rule
//! (a line on the closeness to the taught type, `HERON_FAMILIAR_LINES`,
//! with or without the linear model's judgment as fallback): how many documents of
//! the taught type are answered as it, how many documents of other types
//! are pulled into it, and how often the other documents are still
//! answered right, against a tenant without the new type.
//!
//! The linear model is trained on generated documents only, so that its
//! answers on these real documents are not in-sample.
//!
//!   cargo run --release -p heron-pipeline --example few_shot_real -- \
//!       EMBEDDING_DIR CORPUS_DIR TEXT_CACHE_DIR [GROUP_WEIGHT...]
//!
//! TEXT_CACHE_DIR is the text cache `heron train --split` fills (see
//! heron-classify's `examples/real_folds.rs`).

use std::collections::BTreeMap;
use std::path::PathBuf;

use heron_classify::features;
use heron_classify::model::Reading;
use heron_classify::semantic::{SemanticCalibration, SemanticIndex, description_text};
use heron_classify::taxonomy::Taxonomy;
use heron_classify::train::{self, TrainingConfig};
use heron_core::Label;
use heron_embed::{ChunkPolicy, Embedder};
use heron_pipeline::combine::{KNOWN_TYPE_WEIGHT, Pooling, pool_semantic};

/// The pipeline's answer threshold.
const THRESHOLD: f64 = 0.65;
/// Taught documents per new type, and how many different sets.
const SHOTS: usize = 5;
const DRAWS: usize = 3;

struct Doc {
    label: Label,
    vector: Vec<f32>,
    /// The linear model's probabilities over its labels.
    linear: Vec<f64>,
    /// Whether the shipped model finds the document business-like (its
    /// out-of-distribution judgment): the fallback of the familiarity
    /// check when the document is not close to the taught type.
    business_like: bool,
}

/// One setting of the few-shot decision under test.
#[derive(Debug, Clone, Copy)]
struct Setting {
    group_weight: f64,
    /// The familiarity line on [`heron_classify::semantic::TypeScore::closeness`].
    line: f32,
    /// Whether a document the linear model finds business-like counts as
    /// familiar below the line.
    fallback: bool,
    /// The line is on the similarity (examples less their offset) rather
    /// than on the closeness.
    on_similarity: bool,
}

#[derive(Default, Clone, Copy)]
struct Tally {
    positives: usize,
    answered_as_new: usize,
    negatives: usize,
    pulled_in: usize,
    others_right: usize,
    others_right_without: usize,
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 4 {
        eprintln!("usage: few_shot_real EMBEDDING_DIR CORPUS_DIR TEXT_CACHE_DIR [GROUP_WEIGHT...]");
        std::process::exit(2);
    }
    let embedder = Embedder::load(&PathBuf::from(&args[1])).expect("loading the embedding model");
    let weights: Vec<f64> = if args.len() > 4 {
        args[4..]
            .iter()
            .map(|w| w.parse().expect("a weight"))
            .collect()
    } else {
        vec![0.0, 0.5, 1.0, 2.0]
    };
    let taxonomy = Taxonomy::default_taxonomy();
    let labels = taxonomy.labels();
    let samples = train::synthetic_samples(&taxonomy, 60, train::DEFAULT_SEED);
    let examples = train::examples_from(&samples, &labels);
    let (model, _) =
        train::train(&examples, labels.clone(), &TrainingConfig::default()).expect("training");

    let docs = load(
        &PathBuf::from(&args[2]),
        &PathBuf::from(&args[3]),
        &embedder,
        &model,
    );
    eprintln!("{} real train documents with text", docs.len());
    let descriptions: BTreeMap<Label, Vec<f32>> = taxonomy
        .types
        .iter()
        .map(|kind| {
            let text = description_text(&kind.name, &kind.description, &kind.hints);
            let vector = embedder
                .embed(&[text.as_str()])
                .expect("embedding")
                .remove(0);
            (kind.id.clone(), vector)
        })
        .collect();
    let mut counts: BTreeMap<&Label, usize> = BTreeMap::new();
    for doc in &docs {
        *counts.entry(&doc.label).or_default() += 1;
    }
    let taught_types: Vec<Label> = counts
        .iter()
        .filter(|(_, n)| **n >= SHOTS + 2)
        .map(|(l, _)| (*l).clone())
        .collect();

    let lines: Vec<f32> = std::env::var("HERON_FAMILIAR_LINES")
        .ok()
        .map(|v| v.split(',').map(|x| x.parse().expect("a line")).collect())
        .unwrap_or_else(|| vec![0.45, 0.5, 0.55, 0.6]);
    println!(
        "| known-group weight | familiarity line | business-like fallback | taught type answered as it | other documents pulled into it | others answered right (without the new type) |"
    );
    println!("|---|---|---|---|---|---|");
    for &group_weight in &weights {
        for &line in &lines {
            for (fallback, on_similarity) in [(false, false), (true, false), (false, true)] {
                let setting = Setting {
                    group_weight,
                    line,
                    fallback,
                    on_similarity,
                };
                let mut total = Tally::default();
                for kind in &taught_types {
                    let tally = teach_and_measure(kind, &docs, &labels, &descriptions, setting);
                    if group_weight == weights[0] && line == lines[0] && !fallback {
                        eprintln!(
                            "  {kind}: answered as it {}/{}, pulled in {}/{}",
                            tally.answered_as_new,
                            tally.positives,
                            tally.pulled_in,
                            tally.negatives
                        );
                    }
                    total.positives += tally.positives;
                    total.answered_as_new += tally.answered_as_new;
                    total.negatives += tally.negatives;
                    total.pulled_in += tally.pulled_in;
                    total.others_right += tally.others_right;
                    total.others_right_without += tally.others_right_without;
                }
                println!(
                    "| {group_weight} | {line} on {} | {} | {}/{} ({:.1} %) | {}/{} ({:.2} %) | {:.1} % ({:.1} %) |",
                    if on_similarity {
                        "similarity"
                    } else {
                        "closeness"
                    },
                    if fallback { "yes" } else { "no" },
                    total.answered_as_new,
                    total.positives,
                    percent(total.answered_as_new, total.positives),
                    total.pulled_in,
                    total.negatives,
                    percent(total.pulled_in, total.negatives),
                    percent(total.others_right, total.negatives),
                    percent(total.others_right_without, total.negatives),
                );
            }
        }
    }
}

fn percent(n: usize, of: usize) -> f64 {
    100.0 * n as f64 / of.max(1) as f64
}

/// Teach `kind` as new with [`DRAWS`] sets of [`SHOTS`] documents; measure
/// every document not taught.
fn teach_and_measure(
    kind: &Label,
    docs: &[Doc],
    labels: &[Label],
    descriptions: &BTreeMap<Label, Vec<f32>>,
    setting: Setting,
) -> Tally {
    let pooling = Pooling {
        known_weight: KNOWN_TYPE_WEIGHT,
        known_group_weight: setting.group_weight,
    };
    let new = Label::parse(&format!("new_{}", kind.as_str())).expect("a label");
    let column = labels.iter().position(|l| l == kind).expect("a known type");
    let known: Vec<Label> = labels.iter().filter(|l| *l != kind).cloned().collect();
    let of_kind: Vec<usize> = (0..docs.len())
        .filter(|i| docs[*i].label == *kind)
        .collect();
    let mut base = SemanticIndex::new("eval", SemanticCalibration::default());
    let mut without = SemanticIndex::new("eval", SemanticCalibration::default());
    for (label, vector) in descriptions {
        without = without.with_description(label.clone(), vector.clone());
        let label = if label == kind { &new } else { label };
        base = base.with_description(label.clone(), vector.clone());
    }
    let mut tally = Tally::default();
    for draw in 0..DRAWS {
        let taught: Vec<usize> = (0..SHOTS)
            .map(|k| of_kind[(draw * SHOTS + k) % of_kind.len()])
            .collect();
        let index = taught.iter().fold(base.clone(), |index, i| {
            index.with_example(new.clone(), docs[*i].vector.clone())
        });
        for (i, doc) in docs.iter().enumerate() {
            if taught.contains(&i) {
                continue;
            }
            // The linear model without the taught type's column.
            let mut linear = doc.linear.clone();
            linear.remove(column);
            let sum: f64 = linear.iter().sum::<f64>().max(1e-12);
            linear.iter_mut().for_each(|p| *p /= sum);
            let scores = index.score(&doc.vector);
            let (pooled_labels, pooled) = pool_semantic(&known, &linear, &scores, pooling);
            let best = argmax(&pooled);
            let familiar = pooled_labels[best] != new
                || (setting.fallback && doc.business_like)
                || scores.iter().any(|s| {
                    let measure = if setting.on_similarity {
                        s.similarity
                    } else {
                        s.closeness
                    };
                    s.label == new && measure >= setting.line
                });
            let answered = pooled[best] >= THRESHOLD && familiar;
            let as_new = answered && pooled_labels[best] == new;
            if doc.label == *kind {
                tally.positives += 1;
                tally.answered_as_new += usize::from(as_new);
            } else {
                tally.negatives += 1;
                tally.pulled_in += usize::from(as_new);
                tally.others_right += usize::from(answered && pooled_labels[best] == doc.label);
                // The same document for a tenant without the new type.
                let (plain_labels, plain) =
                    pool_semantic(labels, &doc.linear, &without.score(&doc.vector), pooling);
                let best = argmax(&plain);
                tally.others_right_without +=
                    usize::from(plain[best] >= THRESHOLD && plain_labels[best] == doc.label);
            }
        }
    }
    tally
}

fn argmax(values: &[f64]) -> usize {
    (0..values.len()).fold(0, |best, i| if values[i] > values[best] { i } else { best })
}

/// The `train` documents with text in the cache: their vectors and the
/// linear model's reading.
fn load(
    corpus: &std::path::Path,
    cache: &std::path::Path,
    embedder: &Embedder,
    model: &heron_classify::TextModel,
) -> Vec<Doc> {
    let shipped = heron_classify::shipped::default_model().expect("the shipped model");
    let manifest = std::fs::read_to_string(corpus.join("manifest.tsv")).expect("manifest");
    let mut lines = manifest.lines();
    let header: Vec<&str> = lines.next().expect("header").split('\t').collect();
    let at = |name: &str| header.iter().position(|h| *h == name).expect(name);
    let (sha, label, split) = (at("sha256"), at("type"), at("split"));
    let mut docs = Vec::new();
    for line in lines {
        let f: Vec<&str> = line.split('\t').collect();
        if f[split] != "train" {
            continue;
        }
        let Ok(entry) = std::fs::read_to_string(cache.join(format!("{}.txt", f[sha]))) else {
            continue;
        };
        let Some((first, text)) = entry.split_once('\n') else {
            continue;
        };
        let (format, read_by_ocr) = first
            .split_once(' ')
            .map_or((first, false), |(format, how)| (format, how == "ocr"));
        let Some(vector) = embedder
            .embed_document(text, &ChunkPolicy::default())
            .expect("embedding")
        else {
            continue;
        };
        let reading = if read_by_ocr {
            Reading::Ocr
        } else {
            Reading::TextLayer
        };
        let input = features::with_signals(text, format);
        let linear = model.predict_read(&input, reading).probabilities;
        let judged = shipped.predict_read(&input, reading);
        let business_like = !heron_classify::ood::judge(
            &shipped.coverage(text),
            judged.unscaled_best,
            &shipped.ood_config(),
        )
        .is_out_of_distribution();
        docs.push(Doc {
            label: Label::parse(f[label]).expect("label"),
            vector,
            linear,
            business_like,
        });
    }
    docs
}
