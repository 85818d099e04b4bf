//! The semantic stage's decision from sentence embeddings: how close a
//! document's vector is to each type — to the embedded description of the
//! type (zero-shot: a type known only by what it is), and to the
//! documents people labelled with it (few-shot: a prototype, the mean of
//! the examples, and their nearest neighbours) — turned into a
//! probability per type.
//!
//! Vectors come from `heron-embed`; this module only compares them, so it
//! needs no model runtime. An index is immutable: adding an example makes
//! a new index ([`SemanticIndex::with_example`]), which the pipeline swaps
//! in at once, so the next document already sees it.

use std::collections::BTreeMap;
use std::sync::Arc;

use heron_core::Label;

/// How similarities become probabilities. The temperature was chosen on
/// generated documents of the default taxonomy (validation split of
/// heron-pipeline's `examples/semantic_eval.rs`; bench/README.md).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SemanticCalibration {
    /// Softmax temperature over cosine similarities.
    pub temperature: f32,
    /// Similarity to a type's own examples runs higher than to a
    /// description (documents resemble documents more than sentences):
    /// this much is taken off example similarities before they compete
    /// with description similarities.
    pub example_offset: f32,
    /// Nearest examples averaged for the kNN similarity.
    pub neighbours: usize,
}

impl Default for SemanticCalibration {
    fn default() -> Self {
        SemanticCalibration {
            temperature: 0.08,
            example_offset: 0.15,
            neighbours: 3,
        }
    }
}

/// At most this many examples per type are kept (the most recent).
pub const MAX_EXAMPLES_PER_TYPE: usize = 200;

#[derive(Debug, Clone, Default)]
struct TypeVectors {
    /// The embedded description (name, description, hints).
    description: Option<Arc<Vec<f32>>>,
    examples: Vec<Arc<Vec<f32>>>,
    /// Normalised mean of `examples`.
    prototype: Option<Vec<f32>>,
}

/// A type's similarity, and what it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct TypeScore {
    pub label: Label,
    /// What competes: the description's similarity, or the examples'
    /// (prototype and nearest neighbours) less the offset, whichever is
    /// higher.
    pub similarity: f32,
    /// How close the document is to the type, its examples counted as
    /// they are (no offset): what the familiarity check of a type only
    /// the semantic stage knows compares with its line.
    pub closeness: f32,
    pub probability: f64,
    /// How many labelled examples the type has here.
    pub examples: usize,
}

/// The types an embedding model knows: descriptions and examples.
#[derive(Debug, Clone)]
pub struct SemanticIndex {
    model_id: String,
    calibration: SemanticCalibration,
    types: BTreeMap<Label, TypeVectors>,
    /// [`SemanticIndex::version`], computed once per content.
    version: std::sync::OnceLock<String>,
}

impl SemanticIndex {
    /// An empty index for vectors of the embedding model `model_id`.
    pub fn new(model_id: &str, calibration: SemanticCalibration) -> SemanticIndex {
        SemanticIndex {
            model_id: model_id.to_owned(),
            calibration,
            types: BTreeMap::new(),
            version: std::sync::OnceLock::new(),
        }
    }

    pub fn model_id(&self) -> &str {
        &self.model_id
    }

    /// Identifies this index's content for cache keys: the model and a
    /// hash of every type's description and examples (the same content
    /// gives the same version in every process).
    pub fn version(&self) -> String {
        self.version.get_or_init(|| self.content_hash()).clone()
    }

    fn content_hash(&self) -> String {
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        let mut feed = |bytes: &[u8]| {
            for byte in bytes {
                hash ^= u64::from(*byte);
                hash = hash.wrapping_mul(0x0100_0000_01b3);
            }
        };
        for (label, vectors) in &self.types {
            feed(label.as_str().as_bytes());
            for vector in vectors.description.iter().chain(&vectors.examples) {
                for value in vector.iter() {
                    feed(&value.to_bits().to_le_bytes());
                }
                feed(b";");
            }
            feed(b"|");
        }
        format!("{}.{hash:016x}", self.model_id)
    }

    /// Set the embedded description of `label`.
    pub fn with_description(mut self, label: Label, vector: Vec<f32>) -> SemanticIndex {
        self.types.entry(label).or_default().description = Some(Arc::new(vector));
        self.version = std::sync::OnceLock::new();
        self
    }

    /// Add a labelled example, updating the type's prototype.
    pub fn with_example(&self, label: Label, vector: Vec<f32>) -> SemanticIndex {
        let mut next = self.clone();
        let entry = next.types.entry(label).or_default();
        entry.examples.push(Arc::new(vector));
        if entry.examples.len() > MAX_EXAMPLES_PER_TYPE {
            let excess = entry.examples.len() - MAX_EXAMPLES_PER_TYPE;
            entry.examples.drain(..excess);
        }
        entry.prototype = Some(mean(&entry.examples));
        next.version = std::sync::OnceLock::new();
        next
    }

    /// Types known here, with how many examples each has.
    pub fn labels(&self) -> impl Iterator<Item = (&Label, usize)> {
        self.types
            .iter()
            .map(|(label, v)| (label, v.examples.len()))
    }

    pub fn is_empty(&self) -> bool {
        self.types.is_empty()
    }

    /// Every type's score for a document vector, best first. Empty when
    /// the index is.
    pub fn score(&self, document: &[f32]) -> Vec<TypeScore> {
        let calibration = self.calibration;
        let mut scores: Vec<TypeScore> = self
            .types
            .iter()
            .map(|(label, vectors)| {
                let described = vectors
                    .description
                    .as_ref()
                    .map(|d| cosine(document, d))
                    .unwrap_or(-1.0);
                let exemplified = vectors
                    .prototype
                    .as_ref()
                    .map(|prototype| {
                        let knn = nearest(document, &vectors.examples, calibration.neighbours);
                        0.5 * cosine(document, prototype) + 0.5 * knn
                    })
                    .unwrap_or(-1.0);
                TypeScore {
                    label: label.clone(),
                    similarity: described.max(exemplified - calibration.example_offset),
                    closeness: described.max(exemplified),
                    probability: 0.0,
                    examples: vectors.examples.len(),
                }
            })
            .collect();
        let top = scores
            .iter()
            .map(|s| s.similarity)
            .fold(f32::NEG_INFINITY, f32::max);
        let weights: Vec<f64> = scores
            .iter()
            .map(|s| f64::from((s.similarity - top) / calibration.temperature).exp())
            .collect();
        let total: f64 = weights.iter().sum();
        for (score, weight) in scores.iter_mut().zip(weights) {
            score.probability = if total > 0.0 { weight / total } else { 0.0 };
        }
        scores.sort_by(|a, b| b.similarity.total_cmp(&a.similarity));
        scores
    }
}

/// The text a type is described by for the zero-shot stage: its name, its
/// description and its typical phrases.
pub fn description_text(name: &str, description: &str, hints: &[String]) -> String {
    let mut text = format!("{name}. {description}");
    if !hints.is_empty() {
        text.push_str(" Typical wording: ");
        text.push_str(&hints.join(", "));
        text.push('.');
    }
    text
}

/// Mean of the `k` highest similarities of `document` to `examples`.
fn nearest(document: &[f32], examples: &[Arc<Vec<f32>>], k: usize) -> f32 {
    let mut similarities: Vec<f32> = examples.iter().map(|e| cosine(document, e)).collect();
    similarities.sort_by(|a, b| b.total_cmp(a));
    let taken = &similarities[..k.max(1).min(similarities.len())];
    if taken.is_empty() {
        return -1.0;
    }
    taken.iter().sum::<f32>() / taken.len() as f32
}

fn mean(vectors: &[Arc<Vec<f32>>]) -> Vec<f32> {
    let width = vectors.first().map_or(0, |v| v.len());
    let mut sum = vec![0f32; width];
    for vector in vectors {
        for (s, x) in sum.iter_mut().zip(vector.iter()) {
            *s += x;
        }
    }
    let norm = sum.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        for s in &mut sum {
            *s /= norm;
        }
    }
    sum
}

/// Cosine similarity (0 for a zero vector).
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let na = a.iter().map(|x| x * x).sum::<f32>().sqrt();
    let nb = b.iter().map(|x| x * x).sum::<f32>().sqrt();
    if na > 0.0 && nb > 0.0 {
        dot / (na * nb)
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn label(id: &str) -> Label {
        Label::parse(id).expect("label")
    }

    fn unit(values: &[f32]) -> Vec<f32> {
        let norm = values.iter().map(|x| x * x).sum::<f32>().sqrt();
        values.iter().map(|x| x / norm).collect()
    }

    #[test]
    fn the_closest_description_wins_and_probabilities_sum_to_one() {
        let index = SemanticIndex::new("m", SemanticCalibration::default())
            .with_description(label("invoice"), unit(&[1.0, 0.1, 0.0]))
            .with_description(label("receipt"), unit(&[0.1, 1.0, 0.0]));
        let scores = index.score(&unit(&[0.9, 0.2, 0.1]));
        assert_eq!(scores[0].label.as_str(), "invoice");
        let total: f64 = scores.iter().map(|s| s.probability).sum();
        assert!((total - 1.0).abs() < 1e-9);
        assert!(scores[0].probability > 0.9, "{scores:?}");
    }

    #[test]
    fn an_example_teaches_a_type_at_once_and_changes_the_version() {
        let index = SemanticIndex::new("m", SemanticCalibration::default())
            .with_description(label("invoice"), unit(&[1.0, 0.0, 0.0]));
        let document = unit(&[0.2, 0.1, 1.0]);
        let before = index.version();
        let taught = index
            .with_example(label("vet_record"), unit(&[0.25, 0.1, 1.0]))
            .with_example(label("vet_record"), unit(&[0.15, 0.05, 1.0]));
        assert_ne!(taught.version(), before);
        let scores = taught.score(&document);
        assert_eq!(scores[0].label.as_str(), "vet_record");
        assert_eq!(scores[0].examples, 2);
        // The original index is unchanged.
        assert_eq!(index.score(&document)[0].label.as_str(), "invoice");
    }

    #[test]
    fn examples_are_bounded_per_type() {
        let mut index = SemanticIndex::new("m", SemanticCalibration::default());
        for i in 0..(MAX_EXAMPLES_PER_TYPE + 5) {
            index = index.with_example(label("memo"), unit(&[1.0, i as f32, 0.0]));
        }
        let (_, examples) = index.labels().next().expect("a type");
        assert_eq!(examples, MAX_EXAMPLES_PER_TYPE);
    }
}
