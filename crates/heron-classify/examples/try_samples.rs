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
        let text = heron_classify::features::with_format_marker(&text, format);
        let prediction = model.predict(&text);
        let (best, p) = prediction.best();
        println!("{path}: {} {p:.3}", model.labels()[best]);
    }
}
