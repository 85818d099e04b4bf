//! Out-of-distribution rejection of the default model: for each directory
//! of extracted texts given as NAME=DIR (or NAME=DIR:known for documents of
//! known types), how many are rejected — flagged out-of-distribution, or
//! below the confidence threshold (`unsure`). Held-out generated documents
//! (a seed never trained on) and generated junk (blank pages, OCR noise,
//! random letters, source code) are always included.
//!
//!     cargo run --release -p heron-classify --example ood_eval -- \
//!         samples=/tmp/ood/samples:known prose=/tmp/ood/prose robust=/tmp/ood/robust

use heron_classify::features;
use heron_classify::ood::{self, OodConfig};
use heron_classify::rng::Rng;

const CONFIDENCE_THRESHOLD: f64 = 0.65;

struct Set {
    name: String,
    known: bool,
    texts: Vec<(String, String)>,
}

fn main() {
    let (model, _) = heron_classify::train::train_default(
        heron_classify::train::DEFAULT_PER_TYPE,
        heron_classify::train::DEFAULT_SEED,
    )
    .expect("training");
    let taxonomy = heron_classify::Taxonomy::default_taxonomy();
    let mut sets = vec![
        Set {
            name: "generated (unseen seed)".to_owned(),
            known: true,
            texts: heron_classify::compose::generate(&taxonomy, 10, 99)
                .into_iter()
                .map(|s| (s.template, features::with_signals(&s.text, s.format)))
                .collect(),
        },
        junk(),
    ];
    for argument in std::env::args().skip(1) {
        let (name, dir) = argument.split_once('=').expect("NAME=DIR");
        let (dir, known) = match dir.strip_suffix(":known") {
            Some(dir) => (dir, true),
            None => (dir, false),
        };
        sets.push(Set {
            name: name.to_owned(),
            known,
            texts: read_texts(dir, known),
        });
    }
    let config = OodConfig::default();
    for set in &sets {
        let (mut flagged, mut unsure) = (0, 0);
        let mut accepted = Vec::new();
        for (file, text) in &set.texts {
            let prediction = model.predict(text);
            let (best, p) = prediction.best();
            let familiarity = ood::judge(&model.coverage(text), prediction.unscaled_best, &config);
            if familiarity.is_out_of_distribution() {
                flagged += 1;
                if set.known {
                    println!("   rejected as foreign: {file} ({familiarity:?})");
                }
            } else if p < CONFIDENCE_THRESHOLD {
                unsure += 1;
                if set.known {
                    println!("   unsure: {file} ({} {p:.2})", model.labels()[best]);
                }
            } else {
                accepted.push(format!("{file} as {} {p:.2}", model.labels()[best]));
            }
        }
        let n = set.texts.len().max(1) as f64;
        println!(
            "== {} ({} texts{}): out-of-distribution {flagged}, unsure {unsure}, accepted {} — rejected {:.1} %",
            set.name,
            set.texts.len(),
            if set.known { ", known types" } else { "" },
            accepted.len(),
            100.0 * (flagged + unsure) as f64 / n
        );
        if !set.known {
            for line in accepted {
                println!("   accepted: {line}");
            }
        }
    }
}

/// Texts of a directory; for known documents, labelled files only (named
/// after their type), with the format marker their extension implies.
fn read_texts(dir: &str, known: bool) -> Vec<(String, String)> {
    let mut texts = Vec::new();
    for entry in std::fs::read_dir(dir).expect("directory").flatten() {
        let file = entry.file_name().to_string_lossy().into_owned();
        let raw = std::fs::read_to_string(entry.path()).unwrap_or_default();
        // `heron extract` output: keep the page text after the header.
        let body = raw
            .split_once("--- page")
            .map_or(raw.as_str(), |(_, rest)| rest);
        if known && !file.starts_with(|c: char| c.is_ascii_alphabetic()) {
            continue;
        }
        let format = if file.contains(".pdf") {
            "pdf"
        } else if file.contains(".jp") || file.contains(".png") {
            "image"
        } else if file.contains(".csv") {
            "csv"
        } else if file.contains(".docx") {
            "docx"
        } else {
            "text"
        };
        texts.push((file, features::with_signals(body, format)));
    }
    texts.sort();
    texts
}

/// Generated foreign texts: what OCR reads on a blank page or a photo with
/// no writing, random letters, and this crate's own source code.
fn junk() -> Set {
    let mut rng = Rng::new(7);
    let mut texts = vec![("blank page".to_owned(), features::with_signals("", "image"))];
    for i in 0..20 {
        let noise: String = (0..rng.range(5, 200))
            .map(|_| {
                *rng.pick(&[
                    '~', '-', '_', '|', '.', ',', '\'', 'i', 'l', '1', 'e', 'a', ' ', ' ', '\n',
                    'W', '/', '\\',
                ])
            })
            .collect();
        texts.push((
            format!("ocr noise {i}"),
            features::with_signals(&noise, "image"),
        ));
        let letters: String = (0..rng.range(50, 2000))
            .map(|_| {
                if rng.chance(0.18) {
                    ' '
                } else {
                    char::from(b'a' + rng.below(26) as u8)
                }
            })
            .collect();
        texts.push((
            format!("random letters {i}"),
            features::with_signals(&letters, "text"),
        ));
    }
    let sources = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    for entry in std::fs::read_dir(sources).expect("src").flatten() {
        let code = std::fs::read_to_string(entry.path()).unwrap_or_default();
        texts.push((
            entry.file_name().to_string_lossy().into_owned(),
            features::with_signals(&code, "text"),
        ));
    }
    Set {
        name: "generated junk".to_owned(),
        known: false,
        texts,
    }
}
