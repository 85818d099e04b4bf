//! Why the documents of one source are misread: the default model trained
//! on the generated documents and the real `train` documents of every other
//! source, then each document of the held-out source with its three best
//! types and the terms that weighed for each. Measured on `train` only.
//!
//!   cargo run --release -p heron-classify --example holdout_explain -- \
//!       CORPUS_DIR TEXT_CACHE_DIR SOURCE [DOCUMENTS]
//!
//! SOURCE is a `repo` of the manifest; TEXT_CACHE_DIR as for `real_folds`.

use std::path::PathBuf;

use heron_classify::train::{self, Example, TrainingConfig};

mod common;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, corpus, cache, held_source, ..] = args.as_slice() else {
        eprintln!("usage: holdout_explain CORPUS_DIR TEXT_CACHE_DIR SOURCE [DOCUMENTS]");
        std::process::exit(2);
    };
    let shown: usize = args.get(4).and_then(|n| n.parse().ok()).unwrap_or(3);
    let (corpus, cache) = (PathBuf::from(corpus), PathBuf::from(cache));
    let taxonomy = heron_classify::Taxonomy::default_taxonomy();
    let labels = taxonomy.labels();
    let samples = train::synthetic_samples(&taxonomy, train::DEFAULT_PER_TYPE, train::DEFAULT_SEED);
    let mut examples = train::examples_from(&samples, &labels);
    let mut held = Vec::new();
    for (name, document) in common::cached_train_documents(&corpus, &cache) {
        let Some(index) = labels.iter().position(|l| *l == document.label) else {
            continue;
        };
        if document.source == *held_source {
            held.push((document.text, index, name));
        } else {
            examples.push(Example {
                text: document.text,
                label: index,
                weight: 2,
            });
        }
    }
    let config = TrainingConfig {
        seed: train::DEFAULT_SEED,
        ..TrainingConfig::default()
    };
    let (model, _) = train::train(&examples, labels.clone(), &config).expect("training");
    for (text, truth, name) in held.iter().take(shown) {
        let prediction = model.predict(text);
        let mut ranked: Vec<(usize, f64)> = prediction
            .probabilities
            .iter()
            .copied()
            .enumerate()
            .collect();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
        println!("== {name} truth {} :", labels[*truth]);
        for (index, probability) in ranked.iter().take(3) {
            let terms: Vec<String> = model
                .explain(text, *index, 12)
                .iter()
                .map(|(term, weight)| format!("{term} {weight:.3}"))
                .collect();
            println!("  {} {probability:.3}: {terms:?}", labels[*index]);
        }
    }
}
