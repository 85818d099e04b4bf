//! Tesseract, PP-OCR and Heron's combination of the two on the pictures
//! of a real, labelled corpus (`manifest.tsv` as in `shared/corpus/real`),
//! with the `tesseract` command alone as the floor, all in one run.
//!
//!   cargo run --release -p heron-extract --example ocr_engines -- \
//!       CORPUS_DIR SPLIT PPOCR_DIR [--kinds photo,scan,other] [--show]
//!
//! For every picture (jpg, jpeg, png) of the split and kinds: the time of
//! each reading, whether it holds one of the type's keywords (taxonomy
//! titles, name and hints, every language), and the share of its words
//! (three letters or more) found in the system dictionaries
//! (`/usr/share/dict/*`: wamerican, wngerman, wfrench, wspanish,
//! witalian, wportuguese). Per kind and overall.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use heron_extract::{ExtractionLimits, OcrEngine};

struct Row {
    path: PathBuf,
    label: String,
    kind: String,
}

fn manifest(corpus: &Path, split: &str, kinds: &[String]) -> Vec<Row> {
    let text = std::fs::read_to_string(corpus.join("manifest.tsv")).expect("manifest.tsv");
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().expect("a header").split('\t').collect();
    let column = |name: &str| header.iter().position(|h| *h == name).expect(name);
    let (sha, label, ext, split_at, kind) = (
        column("sha256"),
        column("type"),
        column("ext"),
        column("split"),
        column("kind"),
    );
    lines
        .map(|l| l.split('\t').collect::<Vec<_>>())
        .filter(|f| f[split_at] == split && kinds.iter().any(|k| k == f[kind]))
        .filter(|f| matches!(f[ext], "jpg" | "jpeg" | "png"))
        .map(|f| Row {
            path: corpus
                .join(f[label])
                .join(format!("{}.{}", &f[sha][..12], f[ext])),
            label: f[label].to_owned(),
            kind: f[kind].to_owned(),
        })
        .collect()
}

fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphabetic())
        .filter(|w| w.chars().count() >= 3)
        .map(str::to_lowercase)
        .collect()
}

fn dictionary() -> HashSet<String> {
    let mut words = HashSet::new();
    for entry in std::fs::read_dir("/usr/share/dict")
        .into_iter()
        .flatten()
        .flatten()
    {
        if let Ok(text) = std::fs::read_to_string(entry.path()) {
            words.extend(text.lines().map(str::to_lowercase));
        }
    }
    words
}

/// Lowercase keywords of each type: words of its titles (every
/// language), its name and its hints, three letters or more.
fn keywords() -> BTreeMap<String, HashSet<String>> {
    let taxonomy = heron_classify::Taxonomy::default_taxonomy();
    let mut map = BTreeMap::new();
    for label in taxonomy.labels() {
        let Some(kind) = taxonomy.get(label.as_str()) else {
            continue;
        };
        let mut texts = vec![kind.name.clone()];
        texts.extend(kind.hints.iter().cloned());
        if let Some(template) = &kind.template {
            for title in &template.titles {
                for language in 0..heron_classify::taxonomy::LANGUAGES.len() {
                    if title.has(language) {
                        texts.push(title.get(language).to_owned());
                    }
                }
            }
        }
        let set: HashSet<String> = texts
            .iter()
            .flat_map(|t| words(t))
            .filter(|w| !["the", "and", "for", "der", "des", "les", "del"].contains(&w.as_str()))
            .collect();
        map.insert(label.as_str().to_owned(), set);
    }
    map
}

#[derive(Default, Clone)]
struct Tally {
    files: usize,
    keyword_hits: usize,
    dictionary_words: usize,
    words: usize,
    empty: usize,
    time: Duration,
}

impl Tally {
    fn add(
        &mut self,
        text: &str,
        keywords: &HashSet<String>,
        dictionary: &HashSet<String>,
        time: Duration,
    ) {
        let found = words(text);
        self.files += 1;
        self.time += time;
        self.words += found.len();
        self.dictionary_words += found.iter().filter(|w| dictionary.contains(*w)).count();
        if found.len() < 3 {
            self.empty += 1;
        }
        let lower = text.to_lowercase();
        if keywords.iter().any(|k| lower.contains(k.as_str())) {
            self.keyword_hits += 1;
        }
    }

    fn cells(&self) -> String {
        let share = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
        format!(
            "{}/{} | {:.2} | {} | {:.2} s",
            self.keyword_hits,
            self.files,
            share(self.dictionary_words, self.words),
            self.empty,
            self.time.as_secs_f64() / self.files.max(1) as f64
        )
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let corpus = PathBuf::from(args.get(1).expect("CORPUS_DIR"));
    let split = args.get(2).expect("SPLIT").clone();
    let models = PathBuf::from(args.get(3).expect("PPOCR_DIR"));
    let kinds: Vec<String> = args
        .iter()
        .position(|a| a == "--kinds")
        .and_then(|i| args.get(i + 1))
        .map_or("photo,scan,other", String::as_str)
        .split(',')
        .map(str::to_owned)
        .collect();
    let show = args.iter().any(|a| a == "--show");
    let rows = manifest(&corpus, &split, &kinds);
    let dictionary = dictionary();
    let keywords = keywords();
    eprintln!(
        "{} pictures, dictionary of {} words",
        rows.len(),
        dictionary.len()
    );
    let limits = ExtractionLimits::default();
    let tesseract = OcrEngine::detect("eng", true).expect("tesseract");
    let both = tesseract.clone().with_ppocr(&models);
    let engines = [
        "tesseract command",
        "Heron: Tesseract",
        "Heron: PP-OCR",
        "Heron: combined",
    ];
    let mut tallies: BTreeMap<(String, usize), Tally> = BTreeMap::new();
    for row in &rows {
        let empty = HashSet::new();
        let wanted = keywords.get(&row.label).unwrap_or(&empty);
        let deadline = || Instant::now() + Duration::from_secs(120);
        let mut readings: Vec<(String, Duration)> = Vec::new();
        let started = Instant::now();
        let floor = std::process::Command::new("tesseract")
            .arg(&row.path)
            .arg("stdout")
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap_or_default();
        readings.push((floor, started.elapsed()));
        let started = Instant::now();
        let text = tesseract
            .recognise_with_tesseract(&row.path, &limits, deadline())
            .map(|t| t.pages.join("\n"))
            .unwrap_or_default();
        readings.push((text, started.elapsed()));
        let started = Instant::now();
        let text = both
            .recognise_with_ppocr(&row.path, &models, &limits)
            .map(|t| t.pages.join("\n"))
            .unwrap_or_else(|e| format!("(error: {e})"));
        readings.push((text, started.elapsed()));
        let started = Instant::now();
        let combined = both.recognise_image(&row.path, &limits, deadline());
        let engine = combined
            .as_ref()
            .map_or("error".to_owned(), |t| t.languages.clone());
        let text = combined.map(|t| t.pages.join("\n")).unwrap_or_default();
        readings.push((text, started.elapsed()));
        for (index, (text, time)) in readings.iter().enumerate() {
            for kind in [row.kind.clone(), "all".to_owned()] {
                tallies
                    .entry((kind, index))
                    .or_default()
                    .add(text, wanted, &dictionary, *time);
            }
        }
        eprintln!(
            "{} {} ({}): keyword T {} P {} C {} [{engine}]",
            row.label,
            row.path.display(),
            row.kind,
            Tally::default().tap(&readings[1].0, wanted, &dictionary),
            Tally::default().tap(&readings[2].0, wanted, &dictionary),
            Tally::default().tap(&readings[3].0, wanted, &dictionary),
        );
        if show {
            for (name, (text, _)) in engines.iter().zip(&readings) {
                eprintln!("--- {name}\n{text}");
            }
        }
    }
    println!(
        "| kind | engine | keyword found | dictionary words | near-empty | time per picture |"
    );
    println!("|---|---|---|---|---|---|");
    for ((kind, index), tally) in &tallies {
        println!("| {kind} | {} | {} |", engines[*index], tally.cells());
    }
}

trait Tap {
    fn tap(self, text: &str, keywords: &HashSet<String>, dictionary: &HashSet<String>) -> bool;
}

impl Tap for Tally {
    fn tap(mut self, text: &str, keywords: &HashSet<String>, dictionary: &HashSet<String>) -> bool {
        self.add(text, keywords, dictionary, Duration::ZERO);
        self.keyword_hits > 0
    }
}
