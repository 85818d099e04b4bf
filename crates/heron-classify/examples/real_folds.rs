//! Choices of the real-document training measured on the `train` split
//! only, out of fold by source (never on `dev`): for each real weight and
//! number of generated documents per type, the out-of-fold accuracy of the
//! best guess, its calibration, and the commonest confusions.
//!
//!   cargo run --release -p heron-classify --example real_folds -- \
//!       CORPUS_DIR TEXT_CACHE_DIR WEIGHT:PER_TYPE...
//!
//! TEXT_CACHE_DIR: see `common`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use heron_classify::real::{RealConfig, RealDocument};

mod common;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let corpus = PathBuf::from(&args[1]);
    let cache = PathBuf::from(&args[2]);
    let real: Vec<RealDocument> = common::cached_train_documents(&corpus, &cache)
        .into_iter()
        .map(|(_, document)| document)
        .collect();
    eprintln!("{} real train documents with text", real.len());
    let taxonomy = heron_classify::Taxonomy::default_taxonomy();
    for choice in &args[3..] {
        let (weight, per_type) = choice.split_once(':').expect("WEIGHT:PER_TYPE");
        let config = RealConfig {
            weight: weight.parse().expect("weight"),
            ..RealConfig::default()
        };
        let per_type: usize = per_type.parse().expect("per type");
        let (_, report) = heron_classify::real::train_with_real(
            &taxonomy,
            per_type,
            heron_classify::train::DEFAULT_SEED,
            &real,
            &config,
        )
        .expect("training");
        let mut worst: Vec<(String, usize, usize)> = report
            .per_label
            .iter()
            .map(|(l, (n, right))| (l.clone(), *n, *right))
            .filter(|(_, n, right)| right < n)
            .collect();
        worst.sort_by_key(|(_, n, right)| std::cmp::Reverse(n - right));
        let confusions: BTreeMap<String, usize> =
            report
                .confusions
                .iter()
                .fold(BTreeMap::new(), |mut map, (truth, predicted)| {
                    *map.entry(format!("{truth}→{predicted}")).or_default() += 1;
                    map
                });
        let mut confusions: Vec<(String, usize)> = confusions.into_iter().collect();
        confusions.sort_by_key(|(_, n)| std::cmp::Reverse(*n));
        println!(
            "weight {weight} per type {per_type}: out-of-fold accuracy {:.3}, ECE {:.3}, T {:.2}, OOD line {:.3}",
            report.out_of_fold_accuracy,
            report.out_of_fold_ece,
            report.temperature,
            report.ood_min_probability
        );
        let threshold = 0.65;
        let answered: Vec<&(f64, bool)> = report
            .outcomes
            .iter()
            .filter(|(c, _)| *c >= threshold)
            .collect();
        let right = answered.iter().filter(|(_, r)| *r).count();
        println!(
            "  at {threshold}: accuracy {:.3}, answered {:.3}, accuracy answered {:.3}",
            right as f64 / report.outcomes.len() as f64,
            answered.len() as f64 / report.outcomes.len() as f64,
            right as f64 / answered.len().max(1) as f64
        );
        println!("  missed: {worst:?}");
        println!(
            "  confusions: {:?}",
            &confusions[..confusions.len().min(12)]
        );
    }
}
