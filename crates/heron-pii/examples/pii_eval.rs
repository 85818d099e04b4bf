//! Precision and recall of PII detection per kind on the generated set.
//!
//! `cargo run --release -p heron-pii --example pii_eval -- [SAMPLES] [SEED]`

use heron_pii::testset::{evaluate, generate};

fn main() {
    let mut args = std::env::args().skip(1);
    let count: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(5000);
    let seed: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(1);
    let samples = generate(count, seed);
    let started = std::time::Instant::now();
    let report = evaluate(&samples);
    let elapsed = started.elapsed();
    let bytes: usize = samples.iter().map(|s| s.text.len()).sum();
    println!(
        "{count} texts, {bytes} bytes, seed {seed}: detected in {elapsed:.2?} ({:.1} MB/s)",
        bytes as f64 / elapsed.as_secs_f64() / 1e6
    );
    println!("| kind | values | precision | recall | false positives | missed |");
    println!("|---|---:|---:|---:|---:|---:|");
    for (kind, score) in &report {
        println!(
            "| {} | {} | {:.3} | {:.3} | {} | {} |",
            kind.as_str(),
            score.true_positives + score.false_negatives,
            score.precision(),
            score.recall(),
            score.false_positives,
            score.false_negatives
        );
    }
}
