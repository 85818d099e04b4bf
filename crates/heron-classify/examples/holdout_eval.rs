//! Generalisation to unseen templates: train on four of the five composed
//! layouts (and on half of the hand-written templates of the original
//! types), evaluate on the held-out layout and templates, for several
//! feature-space sizes. Prints accuracy, macro-F1, expected calibration
//! error, training time, prediction time per document and model size.
//!
//!     cargo run --release -p heron-classify --example holdout_eval [-- PER_TYPE [DIMS...]]

use std::collections::BTreeMap;
use std::time::Instant;

use heron_classify::taxonomy::Taxonomy;
use heron_classify::train::{self, TrainingConfig};

fn main() {
    let mut args = std::env::args().skip(1);
    let per_type: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(400);
    let dims: Vec<u32> = {
        let given: Vec<u32> = args.filter_map(|a| a.parse().ok()).collect();
        if given.is_empty() {
            vec![1 << 16, 1 << 17, 1 << 18]
        } else {
            given
        }
    };
    let taxonomy = Taxonomy::default_taxonomy();
    let labels = taxonomy.labels();
    let samples = train::synthetic_samples(&taxonomy, per_type, 20_240_601);
    // Held out: every composed document in the "narrative" layout, and the
    // hand-written templates whose name sorts into the second half per type.
    let mut hand_written: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for s in samples
        .iter()
        .filter(|s| s.template.matches('/').count() == 1)
    {
        hand_written
            .entry(s.label.clone())
            .or_default()
            .push(s.template.clone());
    }
    for names in hand_written.values_mut() {
        names.sort();
        names.dedup();
    }
    let held_out = |template: &str, label: &str| -> bool {
        if template.matches('/').count() == 2 {
            return template.contains("/narrative/");
        }
        let names = &hand_written[label];
        let position = names.iter().position(|n| n == template).unwrap_or(0);
        names.len() > 1 && position >= names.len().div_ceil(2)
    };
    let (test, training): (Vec<_>, Vec<_>) = samples
        .into_iter()
        .partition(|s| held_out(&s.template, &s.label));
    println!(
        "{} types, {} training documents, {} held-out documents (unseen layouts/templates)",
        labels.len(),
        training.len(),
        test.len()
    );
    let training_examples = train::examples_from(&training, &labels);
    let test_examples = train::examples_from(&test, &labels);
    println!("| model | train s | accuracy | macro-F1 | ECE | µs/doc | model MiB |");
    println!("|---|---|---|---|---|---|---|");
    {
        // The original service's model family, on the same features.
        let dimensions = dims[0];
        let started = Instant::now();
        let pairs: Vec<(String, usize)> = training_examples
            .iter()
            .map(|e| (e.text.clone(), e.label))
            .collect();
        let bayes = heron_classify::bayes::NaiveBayes::train(&pairs, labels.len(), dimensions, 0.1);
        let train_seconds = started.elapsed().as_secs_f64();
        let started = Instant::now();
        let predictions: Vec<(usize, f64, usize)> = test_examples
            .iter()
            .map(|e| {
                let p = bayes.predict(&e.text);
                let (best, confidence) = p
                    .iter()
                    .copied()
                    .enumerate()
                    .fold((0, 0.0), |b, (i, v)| if v > b.1 { (i, v) } else { b });
                (best, confidence, e.label)
            })
            .collect();
        let micros = started.elapsed().as_secs_f64() * 1e6 / test_examples.len() as f64;
        let (accuracy, macro_f1, ece) = metrics(&predictions, labels.len());
        println!(
            "| naive Bayes 2^{} (baseline) | {train_seconds:.1} | {accuracy:.4} | {macro_f1:.4} | {ece:.4} | {micros:.0} | - |",
            dimensions.trailing_zeros()
        );
    }
    for &dimensions in &dims {
        let config = TrainingConfig {
            dimensions,
            seed: 20_240_601,
            ..TrainingConfig::default()
        };
        let started = Instant::now();
        let (model, _) = train::train(&training_examples, labels.clone(), &config).expect("train");
        let train_seconds = started.elapsed().as_secs_f64();
        let started = Instant::now();
        let predictions: Vec<(usize, f64, usize)> = test_examples
            .iter()
            .map(|e| {
                let (best, p) = model.predict(&e.text).best();
                (best, p, e.label)
            })
            .collect();
        let micros = started.elapsed().as_secs_f64() * 1e6 / test_examples.len() as f64;
        let (accuracy, macro_f1, ece) = metrics(&predictions, labels.len());
        let path = std::env::temp_dir().join(format!("holdout-{dimensions}.htm"));
        model.save(&path).expect("save");
        let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0) as f64 / 1048576.0;
        let _ = std::fs::remove_file(&path);
        println!(
            "| logistic regression 2^{} | {train_seconds:.1} | {accuracy:.4} | {macro_f1:.4} | {ece:.4} | {micros:.0} | {size:.1} |",
            dimensions.trailing_zeros()
        );
        if dimensions == *dims.last().unwrap_or(&dimensions) {
            print_confusions(&predictions, &model);
            // Real documents wrongly judged foreign (goal: at most 2 %).
            let config = heron_classify::ood::OodConfig::default();
            let foreign = test_examples
                .iter()
                .filter(|e| {
                    let prediction = model.predict(&e.text);
                    heron_classify::ood::judge(
                        &model.coverage(&e.text),
                        prediction.unscaled_best,
                        &config,
                    )
                    .is_out_of_distribution()
                })
                .count();
            println!(
                "held-out documents judged out-of-distribution: {foreign} of {} ({:.2} %)",
                test_examples.len(),
                100.0 * foreign as f64 / test_examples.len() as f64
            );
        }
    }
}

fn metrics(predictions: &[(usize, f64, usize)], classes: usize) -> (f64, f64, f64) {
    let correct = predictions.iter().filter(|(p, _, t)| p == t).count();
    let accuracy = correct as f64 / predictions.len() as f64;
    let mut f1_sum = 0.0;
    let mut present = 0;
    for class in 0..classes {
        let tp = predictions
            .iter()
            .filter(|(p, _, t)| *p == class && *t == class)
            .count() as f64;
        let fp = predictions
            .iter()
            .filter(|(p, _, t)| *p == class && *t != class)
            .count() as f64;
        let fn_ = predictions
            .iter()
            .filter(|(p, _, t)| *p != class && *t == class)
            .count() as f64;
        if tp + fn_ == 0.0 {
            continue;
        }
        present += 1;
        let precision = if tp + fp > 0.0 { tp / (tp + fp) } else { 0.0 };
        let recall = tp / (tp + fn_);
        if precision + recall > 0.0 {
            f1_sum += 2.0 * precision * recall / (precision + recall);
        }
    }
    let mut bins = [(0.0f64, 0.0f64, 0usize); 10];
    for (p, confidence, t) in predictions {
        let bin = ((confidence * 10.0) as usize).min(9);
        bins[bin].0 += confidence;
        bins[bin].1 += f64::from(u8::from(p == t));
        bins[bin].2 += 1;
    }
    let ece = bins
        .iter()
        .filter(|b| b.2 > 0)
        .map(|(c, a, n)| (c / *n as f64 - a / *n as f64).abs() * *n as f64)
        .sum::<f64>()
        / predictions.len() as f64;
    (accuracy, f1_sum / present.max(1) as f64, ece)
}

fn print_confusions(predictions: &[(usize, f64, usize)], model: &heron_classify::TextModel) {
    let mut confusions: BTreeMap<(String, String), usize> = BTreeMap::new();
    for (p, _, t) in predictions.iter().filter(|(p, _, t)| p != t) {
        let key = (
            model.labels()[*t].as_str().to_owned(),
            model.labels()[*p].as_str().to_owned(),
        );
        *confusions.entry(key).or_default() += 1;
    }
    let mut sorted: Vec<_> = confusions.into_iter().collect();
    sorted.sort_by_key(|entry| std::cmp::Reverse(entry.1));
    println!("most frequent confusions (true → predicted):");
    for ((t, p), n) in sorted.into_iter().take(12) {
        println!("  {t} → {p}: {n}");
    }
}
