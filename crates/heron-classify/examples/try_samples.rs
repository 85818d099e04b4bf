//! Train the default model and print predictions for texts given as files.
//! `cargo run --release -p heron-classify --example try_samples -- FORMAT:FILE...`
fn main() {
    let started = std::time::Instant::now();
    let (model, report) = heron_classify::train::train_default(
        heron_classify::train::DEFAULT_PER_TYPE,
        heron_classify::train::DEFAULT_SEED,
    )
    .expect("training");
    println!("trained in {:?}: {report:?}", started.elapsed());
    for argument in std::env::args().skip(1) {
        let (format, path) = argument.split_once(':').unwrap_or(("text", &argument));
        let text = std::fs::read_to_string(path).unwrap_or_default();
        let text = heron_classify::features::with_signals(&text, format);
        let prediction = model.predict(&text);
        let mut ranked: Vec<(usize, f64)> = prediction
            .probabilities
            .iter()
            .copied()
            .enumerate()
            .collect();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
        let top: Vec<String> = ranked
            .iter()
            .take(3)
            .map(|(i, p)| format!("{} {p:.3}", model.labels()[*i]))
            .collect();
        println!("{path}: {}", top.join(", "));
    }
}
