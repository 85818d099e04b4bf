//! The semantic stage against the linear model alone, on the held-out
//! layouts and templates of the Classifier issue's evaluation
//! (heron-classify `examples/holdout_eval.rs`), with one type left out of
//! the linear model's training and taught to the semantic stage with five
//! examples (the few-shot case). The pooling's temperature and weight are
//! chosen on a validation split of the training layouts (never on the
//! held-out documents): the most accurate, then the lowest log-loss.
//!
//!     cargo run --release -p heron-pipeline --example semantic_eval -- MODEL_DIR [PER_TYPE]

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

use heron_classify::TextModel;
use heron_classify::metrics::Metrics;
use heron_classify::semantic::{SemanticCalibration, SemanticIndex, TypeScore, description_text};
use heron_classify::synth::Sample;
use heron_classify::taxonomy::Taxonomy;
use heron_classify::train::{self, TrainingConfig};
use heron_core::Label;
use heron_embed::{ChunkPolicy, Embedder};
use heron_pipeline::combine::{POOLING, Pooling, pool_semantic};

/// The type the linear model never sees; five of its documents teach the
/// semantic stage.
const FEW_SHOT: &str = "w9";

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(dir) = args.next().map(PathBuf::from) else {
        eprintln!("usage: semantic_eval MODEL_DIR [PER_TYPE]");
        std::process::exit(2);
    };
    let per_type: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(60);
    let embedder = Embedder::load(&dir).expect("loading the embedding model");
    let taxonomy = Taxonomy::default_taxonomy();
    let all_labels = taxonomy.labels();
    let samples = train::synthetic_samples(&taxonomy, per_type, 20_240_601);
    let (test, rest): (Vec<Sample>, Vec<Sample>) = samples
        .into_iter()
        .partition(|s| s.template.contains("/narrative/"));
    // Validation: every fifth training document (for the pooling's
    // calibration); the rest trains the linear model, without FEW_SHOT.
    let mut validation = Vec::new();
    let mut training = Vec::new();
    for (i, sample) in rest.into_iter().enumerate() {
        if i % 5 == 0 {
            validation.push(sample);
        } else {
            training.push(sample);
        }
    }
    let (taught, training): (Vec<Sample>, Vec<Sample>) =
        training.into_iter().partition(|s| s.label == FEW_SHOT);
    let linear_labels: Vec<Label> = all_labels
        .iter()
        .filter(|l| l.as_str() != FEW_SHOT)
        .cloned()
        .collect();
    println!(
        "{} types ({} in the linear model), {} training, {} validation, {} held-out documents",
        all_labels.len(),
        linear_labels.len(),
        training.len(),
        validation.len(),
        test.len()
    );
    let started = Instant::now();
    let examples = train::examples_from(&training, &linear_labels);
    let (model, _) = train::train(&examples, linear_labels.clone(), &TrainingConfig::default())
        .expect("training");
    println!(
        "linear model trained in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let started = Instant::now();
    let mut index = SemanticIndex::new(embedder.id(), SemanticCalibration::default());
    for kind in &taxonomy.types {
        let text = description_text(&kind.name, &kind.description, &kind.hints);
        let vector = embedder
            .embed(&[text.as_str()])
            .expect("embedding")
            .remove(0);
        index = index.with_description(kind.id.clone(), vector);
    }
    for sample in taught.iter().take(5) {
        let vector = embed(&embedder, &sample.text);
        index = index.with_example(Label::parse(FEW_SHOT).expect("label"), vector);
    }
    let validation = read(&embedder, &model, &index, &validation);
    let test = read(&embedder, &model, &index, &test);
    println!(
        "{} documents embedded in {:.1} s",
        validation.len() + test.len(),
        started.elapsed().as_secs_f64()
    );

    // The pooling's calibration, by log-loss on the validation split.
    // Most accurate first (a pooled decision must not undo the linear
    // model's right ones), then the lowest log-loss.
    let mut best = (f64::MIN, f64::MAX, 0.0f32, 0.0f64);
    println!("| temperature | known-type weight | validation log-loss | validation accuracy |");
    println!("|---|---|---|---|");
    for temperature in [0.01f32, 0.02, 0.03, 0.05, 0.08, 0.12] {
        for weight in [0.0, 0.1, 0.25, 0.5, 1.0] {
            let (loss, accuracy) = score(&validation, &linear_labels, temperature, weight);
            println!("| {temperature} | {weight} | {loss:.4} | {accuracy:.4} |");
            if accuracy > best.0 || (accuracy == best.0 && loss < best.1) {
                best = (accuracy, loss, temperature, weight);
            }
        }
    }
    let (_, _, temperature, weight) = best;
    println!("chosen: temperature {temperature}, known-type weight {weight}");

    println!(
        "| held-out documents | linear alone: accuracy / macro-F1 | semantic alone | ensemble |"
    );
    println!("|---|---|---|---|");
    for (name, keep) in [
        ("all types", &(|_: &Read| true) as &dyn Fn(&Read) -> bool),
        ("the linear model's types", &|r: &Read| r.truth != FEW_SHOT),
        ("the few-shot type", &|r: &Read| r.truth == FEW_SHOT),
    ] {
        let chosen: Vec<&Read> = test.iter().filter(|r| keep(r)).collect();
        let linear = Metrics::measure(
            &chosen
                .iter()
                .map(|r| {
                    (
                        r.truth.clone(),
                        linear_labels[argmax(&r.linear)].as_str().to_owned(),
                    )
                })
                .collect::<Vec<_>>(),
        );
        let semantic = Metrics::measure(
            &chosen
                .iter()
                .map(|r| (r.truth.clone(), r.scores[0].label.as_str().to_owned()))
                .collect::<Vec<_>>(),
        );
        let ensemble = Metrics::measure(
            &chosen
                .iter()
                .map(|r| {
                    let (labels, pooled) = pool(r, &linear_labels, temperature, weight);
                    (r.truth.clone(), labels[argmax(&pooled)].as_str().to_owned())
                })
                .collect::<Vec<_>>(),
        );
        println!(
            "| {name} ({}) | {:.4} / {:.4} | {:.4} / {:.4} | {:.4} / {:.4} |",
            chosen.len(),
            linear.accuracy,
            linear.macro_f1,
            semantic.accuracy,
            semantic.macro_f1,
            ensemble.accuracy,
            ensemble.macro_f1
        );
    }
    let by_language: BTreeMap<bool, usize> = test.iter().fold(BTreeMap::new(), |mut m, r| {
        *m.entry(r.truth == r.scores[0].label.as_str()).or_default() += 1;
        m
    });
    println!("semantic alone right/wrong on the held-out set: {by_language:?}");
}

/// A held-out or validation document, read by both stages.
struct Read {
    truth: String,
    linear: Vec<f64>,
    scores: Vec<TypeScore>,
}

fn embed(embedder: &Embedder, text: &str) -> Vec<f32> {
    embedder
        .embed_document(text, &ChunkPolicy::default())
        .expect("embedding")
        .unwrap_or_else(|| vec![0.0; embedder.dimensions()])
}

fn read(
    embedder: &Embedder,
    model: &TextModel,
    index: &SemanticIndex,
    samples: &[Sample],
) -> Vec<Read> {
    samples
        .iter()
        .map(|sample| {
            let input = heron_classify::features::with_signals(&sample.text, sample.format);
            Read {
                truth: sample.label.clone(),
                linear: model.predict(&input).probabilities,
                scores: index.score(&embed(embedder, &sample.text)),
            }
        })
        .collect()
}

/// The pooled distribution with the semantic probabilities recomputed at
/// `temperature`.
fn pool(read: &Read, labels: &[Label], temperature: f32, weight: f64) -> (Vec<Label>, Vec<f64>) {
    let top = read
        .scores
        .iter()
        .map(|s| s.similarity)
        .fold(f32::MIN, f32::max);
    let weights: Vec<f64> = read
        .scores
        .iter()
        .map(|s| f64::from((s.similarity - top) / temperature).exp())
        .collect();
    let total: f64 = weights.iter().sum();
    let scores: Vec<TypeScore> = read
        .scores
        .iter()
        .zip(weights)
        .map(|(s, w)| TypeScore {
            probability: w / total,
            ..s.clone()
        })
        .collect();
    pool_semantic(
        labels,
        &read.linear,
        &scores,
        Pooling {
            known_weight: weight,
            ..POOLING
        },
    )
}

/// (log-loss, accuracy) of the pooled distribution.
fn score(reads: &[Read], labels: &[Label], temperature: f32, weight: f64) -> (f64, f64) {
    let mut loss = 0.0;
    let mut right = 0;
    for read in reads {
        let (pooled_labels, pooled) = pool(read, labels, temperature, weight);
        let truth = pooled_labels
            .iter()
            .position(|l| l.as_str() == read.truth)
            .map_or(1e-9, |i| pooled[i]);
        loss -= truth.max(1e-9).ln();
        if pooled_labels[argmax(&pooled)].as_str() == read.truth {
            right += 1;
        }
    }
    (loss / reads.len() as f64, right as f64 / reads.len() as f64)
}

fn argmax(values: &[f64]) -> usize {
    (0..values.len()).fold(0, |b, i| if values[i] > values[b] { i } else { b })
}
