//! Out-of-distribution signals on in-distribution and foreign texts:
//! vocabulary coverage (words, word pairs) and the top probability, for
//! directories of extracted texts given as LABEL=DIR.
//!
//!     cargo run --release -p heron-classify --example ood_eval -- known=/tmp/ood/samples junk=/tmp/ood/prose

fn main() {
    let (model, _) = heron_classify::train::train_default(
        heron_classify::train::DEFAULT_PER_TYPE,
        heron_classify::train::DEFAULT_SEED,
    )
    .expect("training");
    let held_out =
        heron_classify::compose::generate(&heron_classify::Taxonomy::default_taxonomy(), 10, 99);
    let mut sets: Vec<(String, Vec<(String, String)>)> = vec![(
        "synthetic".to_owned(),
        held_out
            .into_iter()
            .map(|s| {
                (
                    s.template,
                    heron_classify::features::with_format_marker(&s.text, s.format),
                )
            })
            .collect(),
    )];
    for argument in std::env::args().skip(1) {
        let (name, dir) = argument.split_once('=').expect("LABEL=DIR");
        let mut texts = Vec::new();
        for entry in std::fs::read_dir(dir).expect("dir").flatten() {
            let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
            if text.chars().filter(|c| c.is_alphabetic()).count() >= 12 {
                texts.push((entry.file_name().to_string_lossy().into_owned(), text));
            }
        }
        texts.sort();
        sets.push((name.to_owned(), texts));
    }
    for (name, texts) in &sets {
        println!("== {name}: {} texts", texts.len());
        let mut rows: Vec<(f64, f64, f64, String, String)> = texts
            .iter()
            .map(|(file, text)| {
                let c = model.coverage(text);
                let (best, p) = model.predict(text).best();
                (
                    c.words,
                    c.pairs,
                    p,
                    model.labels()[best].as_str().to_owned(),
                    file.clone(),
                )
            })
            .collect();
        rows.sort_by(|a, b| a.1.total_cmp(&b.1));
        let show = if name == "synthetic" { 8 } else { rows.len() };
        for (w, pairs, p, label, file) in rows.iter().take(show) {
            println!("  words {w:.2} pairs {pairs:.2} p {p:.2} {label:<20} {file}");
        }
    }
}
