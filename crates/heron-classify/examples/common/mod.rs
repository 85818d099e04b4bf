//! What the real-document examples share: the `train` split of a corpus
//! with a `manifest.tsv`, read from the text cache `heron train --split`
//! fills (`<data dir>/cache/text/<version>-<engines>-<layout>`: one
//! `<sha256>.txt` per file, its format, and ` ocr` when read by OCR, on
//! the first line).

use std::path::Path;

use heron_classify::features;
use heron_classify::real::RealDocument;
use heron_core::Label;

/// The `train` documents with text, as (first 12 hex digits of the
/// file's SHA-256, the document as the model reads it).
pub fn cached_train_documents(corpus: &Path, cache: &Path) -> Vec<(String, RealDocument)> {
    let manifest = std::fs::read_to_string(corpus.join("manifest.tsv")).expect("manifest");
    let mut lines = manifest.lines();
    let header: Vec<&str> = lines.next().expect("header").split('\t').collect();
    let at = |name: &str| header.iter().position(|h| *h == name).expect(name);
    let (sha, label, split, source) = (at("sha256"), at("type"), at("split"), at("repo"));
    let mut documents = Vec::new();
    for line in lines {
        let f: Vec<&str> = line.split('\t').collect();
        if f[split] != "train" {
            continue;
        }
        let Ok(entry) = std::fs::read_to_string(cache.join(format!("{}.txt", f[sha]))) else {
            continue;
        };
        let Some((first, text)) = entry.split_once('\n') else {
            continue;
        };
        if text.trim().is_empty() {
            continue;
        }
        let (format, read_by_ocr) = first
            .split_once(' ')
            .map_or((first, false), |(format, how)| (format, how == "ocr"));
        let document = RealDocument {
            text: features::with_signals(text, format),
            label: Label::parse(f[label]).expect("label"),
            source: f[source].to_owned(),
            read_by_ocr,
        };
        documents.push((f[sha].chars().take(12).collect(), document));
    }
    documents
}
