//! The text model: multinomial logistic regression over hashed TF-IDF
//! features, with a calibration temperature, saved as a versioned artefact.
//!
//! File format (all little-endian): the 8 bytes `HERONTM1`, a u32 header
//! length, the header as JSON ([`ModelHeader`]), then the IDF weights
//! (`dimensions` f32), the biases (one f32 per label) and the weights
//! (`dimensions` × labels f32, feature-major so that one feature's weights
//! for every label are adjacent in memory).
//!
//! The compact form (`HERONTM2`, [`TextModel::compact`], the model shipped
//! in the repository) stores each feature's row of weights as one f32
//! scale and one signed byte per label (the row's largest weight maps to
//! ±127): a quarter of the size. Loading turns it back into f32; a model
//! made compact is the model the compact file holds (same id).

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

use heron_core::Label;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::features::{self, SparseVector};

const MAGIC: &[u8; 8] = b"HERONTM1";
const MAGIC_COMPACT: &[u8; 8] = b"HERONTM2";

/// Descriptive part of a model file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelHeader {
    pub labels: Vec<Label>,
    pub dimensions: u32,
    /// Divides the logits before the softmax; fitted on validation data.
    pub temperature: f32,
    pub created_unix: u64,
    pub training_documents: usize,
    /// Where the training data came from, e.g. `synth v1 seed 42 x 400`.
    pub training_source: String,
    /// Validation metrics measured at training time.
    pub metrics: BTreeMap<String, f64>,
    /// Per label, the Platt scaling `[slope, offset]` that turns its raw
    /// score into the probability that the document is (also) of that type,
    /// independently of the other types: a document that is an invoice and
    /// a contract scores high on both. Empty in models trained before
    /// multi-label support (they report their top label only).
    #[serde(default)]
    pub one_vs_rest: Vec<[f32; 2]>,
    /// Error rate against coverage by confidence cut-off, from validation
    /// at training time or from `heron eval --record`.
    #[serde(default)]
    pub risk_coverage: Option<crate::risk::RiskCoverage>,
    /// [`features::FEATURE_VERSION`] at training time (`f1` for models
    /// written before it was recorded).
    #[serde(default = "first_feature_version")]
    pub feature_version: String,
    /// The unscaled top probability under which a document is unlike
    /// every type, when fitted on real documents
    /// ([`crate::real::train_with_real`]); `None`: the built-in line
    /// ([`crate::ood::OodConfig`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ood_min_probability: Option<f64>,
    /// Divides the logits of texts read by OCR ([`Reading::Ocr`]) instead
    /// of `temperature`, when fitted on real documents: OCR noise spreads
    /// the scores of a photo whose type is plain to see, while a digital
    /// contract or policy scores high for its neighbouring type, so one
    /// temperature leaves the first under-confident and the second
    /// over-confident. `None`: `temperature` for every text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ocr_temperature: Option<f32>,
    /// Weights stored 8 bits each (see the module docs).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub compact: bool,
}

fn first_feature_version() -> String {
    "f1".to_owned()
}

/// A trained model, ready to predict.
#[derive(Debug, Clone)]
pub struct TextModel {
    id: String,
    header: ModelHeader,
    idf: Vec<f32>,
    bias: Vec<f32>,
    weights: Weights,
}

/// A model's weights, feature-major (one row of a weight per label for
/// each feature bucket).
#[derive(Debug, Clone)]
enum Weights {
    Full(Vec<f32>),
    /// As the compact form stores them, and read that way: each row one
    /// scale and a signed byte per label, the weight being `byte × scale`
    /// — the very values loading used to expand into f32, in a quarter of
    /// the memory (18 MiB → 4.6 MiB for the default model).
    Compact {
        scales: Vec<f32>,
        bytes: Vec<i8>,
    },
}

impl Weights {
    /// The weights of one feature bucket, one per label.
    fn row(&self, bucket: usize, labels: usize) -> Vec<f32> {
        match self {
            Weights::Full(weights) => weights[bucket * labels..(bucket + 1) * labels].to_vec(),
            Weights::Compact { scales, bytes } => bytes[bucket * labels..(bucket + 1) * labels]
                .iter()
                .map(|b| f32::from(*b) * scales[bucket])
                .collect(),
        }
    }

    /// Every weight in order, as f32.
    fn values(&self, labels: usize) -> Box<dyn Iterator<Item = f32> + '_> {
        match self {
            Weights::Full(weights) => Box::new(weights.iter().copied()),
            Weights::Compact { scales, bytes } => Box::new(
                bytes
                    .chunks_exact(labels)
                    .zip(scales)
                    .flat_map(|(row, scale)| row.iter().map(move |b| f32::from(*b) * scale)),
            ),
        }
    }

    /// Scores of each label: bias + Σ weight × feature.
    fn logits(&self, bias: &[f32], vector: &SparseVector) -> Vec<f32> {
        match self {
            Weights::Full(weights) => logits(weights, bias, vector),
            Weights::Compact { scales, bytes } => {
                let n_labels = bias.len();
                let mut scores = bias.to_vec();
                for &(bucket, value) in vector {
                    let bucket = bucket as usize;
                    let row = &bytes[bucket * n_labels..(bucket + 1) * n_labels];
                    let scale = scales[bucket];
                    for (score, byte) in scores.iter_mut().zip(row) {
                        *score += f32::from(*byte) * scale * value;
                    }
                }
                scores
            }
        }
    }
}

/// Class probabilities for one text, aligned with [`TextModel::labels`].
#[derive(Debug, Clone, PartialEq)]
pub struct Prediction {
    /// Which one type the document is: sums to 1.
    pub probabilities: Vec<f64>,
    /// Whether the document is (also) of each type, each on its own
    /// (one-vs-rest); empty for models without one-vs-rest scaling.
    pub one_vs_rest: Vec<f64>,
    /// The top probability before temperature scaling: the
    /// out-of-distribution score (see [`crate::ood`]). Calibration may
    /// sharpen the probabilities, which would raise a foreign text's top
    /// probability as much as a real document's.
    pub unscaled_best: f64,
}

/// How a text was read, which calibrates its probabilities differently
/// ([`ModelHeader::ocr_temperature`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reading {
    /// From the file's own text (a text layer, a document format).
    TextLayer,
    /// By OCR, from the picture of a page.
    Ocr,
}

/// One-vs-rest probability at or above which a type is among a document's
/// `labels`.
pub const MULTI_LABEL_THRESHOLD: f64 = 0.5;
/// The stricter threshold for a type seen in one part of a document only.
pub const PART_LABEL_THRESHOLD: f64 = 0.9;

impl Prediction {
    /// Indices of the types the document is of, by one-vs-rest probability
    /// (strongest first).
    pub fn present(&self) -> Vec<usize> {
        let mut present: Vec<usize> = (0..self.one_vs_rest.len())
            .filter(|&i| self.one_vs_rest[i] >= MULTI_LABEL_THRESHOLD)
            .collect();
        present.sort_by(|&a, &b| self.one_vs_rest[b].total_cmp(&self.one_vs_rest[a]));
        present
    }

    /// Index and probability of the most likely class.
    pub fn best(&self) -> (usize, f64) {
        self.probabilities
            .iter()
            .copied()
            .enumerate()
            .fold(
                (0, f64::MIN),
                |best, (i, p)| if p > best.1 { (i, p) } else { best },
            )
    }
}

/// Why a model file could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("model file I/O: {0}")]
    Io(#[from] std::io::Error),
    #[error("not a Heron text model (bad magic bytes)")]
    BadMagic,
    #[error("model header is invalid: {0}")]
    BadHeader(String),
    #[error("model file is truncated or has the wrong size")]
    WrongSize,
    #[error(
        "the model was trained on features {found}, this Heron computes {expected}: train it again"
    )]
    FeatureVersion { found: String, expected: String },
}

impl TextModel {
    pub(crate) fn from_parts(
        header: ModelHeader,
        idf: Vec<f32>,
        bias: Vec<f32>,
        weights: Vec<f32>,
    ) -> Self {
        Self::with_weights(header, idf, bias, Weights::Full(weights))
    }

    fn with_weights(header: ModelHeader, idf: Vec<f32>, bias: Vec<f32>, weights: Weights) -> Self {
        let mut model = TextModel {
            id: String::new(),
            header,
            idf,
            bias,
            weights,
        };
        model.id = model.content_id();
        model
    }

    /// A short id derived from the model's content: the same training gives
    /// the same id, any change gives another.
    fn content_id(&self) -> String {
        let mut hasher = Sha256::new();
        for label in &self.header.labels {
            hasher.update(label.as_str().as_bytes());
            hasher.update([0]);
        }
        hasher.update(self.header.temperature.to_le_bytes());
        if let Some(temperature) = self.header.ocr_temperature {
            hasher.update(b"ocr");
            hasher.update(temperature.to_le_bytes());
        }
        for pair in &self.header.one_vs_rest {
            for v in pair {
                hasher.update(v.to_le_bytes());
            }
        }
        for v in self.idf.iter().chain(&self.bias).copied() {
            hasher.update(v.to_le_bytes());
        }
        for v in self.weights.values(self.header.labels.len()) {
            hasher.update(v.to_le_bytes());
        }
        format!("tm-{}", &hex::encode(hasher.finalize())[..12])
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    pub fn header(&self) -> &ModelHeader {
        &self.header
    }

    /// Replace the recorded risk–coverage curve. The model's id does not
    /// change: the id names the weights, and the curve only describes them.
    pub fn set_risk_coverage(&mut self, curve: crate::risk::RiskCoverage) {
        self.header.risk_coverage = Some(curve);
    }

    /// The same weights with the decision values fitted on real
    /// documents: calibration temperature, risk–coverage curve and
    /// out-of-distribution line (a new id: the temperature is part of it).
    pub(crate) fn recalibrated(
        self,
        temperature: f32,
        ocr_temperature: Option<f32>,
        curve: crate::risk::RiskCoverage,
        ood_min_probability: f64,
    ) -> TextModel {
        let mut header = self.header;
        header.temperature = temperature;
        header.ocr_temperature = ocr_temperature;
        header.risk_coverage = Some(curve);
        header.ood_min_probability = Some(ood_min_probability);
        TextModel::with_weights(header, self.idf, self.bias, self.weights)
    }

    /// Where this model draws the out-of-distribution lines.
    pub fn ood_config(&self) -> crate::ood::OodConfig {
        let default = crate::ood::OodConfig::default();
        crate::ood::OodConfig {
            min_probability: self
                .header
                .ood_min_probability
                .unwrap_or(default.min_probability),
            ..default
        }
    }

    pub fn labels(&self) -> &[Label] {
        &self.header.labels
    }

    pub fn idf(&self) -> &[f32] {
        &self.idf
    }

    /// Feature vector of a text under this model's IDF.
    pub fn vectorize(&self, text: &str) -> SparseVector {
        features::weigh(
            &features::term_counts(text, self.header.dimensions),
            &self.idf,
        )
    }

    /// How much of `text`'s wording this model's training data contained
    /// (the out-of-distribution signal).
    pub fn coverage(&self, text: &str) -> features::Coverage {
        features::coverage(text, &self.idf)
    }

    /// The words and word pairs of `text` that pushed it most towards
    /// class `class`: each term's weighted feature value times its weight
    /// for that class minus its mean weight over all classes (so words
    /// every type shares count for nothing). At most `limit`, strongest
    /// first, positive contributions only.
    pub fn explain(&self, text: &str, class: usize, limit: usize) -> Vec<(String, f64)> {
        let n = self.header.labels.len();
        if class >= n {
            return Vec::new();
        }
        let vector = self.vectorize(text);
        let value_of: std::collections::HashMap<u32, f32> = vector.into_iter().collect();
        let mut seen = std::collections::HashSet::new();
        let mut contributions: Vec<(String, f64)> =
            features::word_terms(text, self.header.dimensions)
                .into_iter()
                // Lone letters and digit shapes are features, not evidence a
                // reader can use.
                .filter(|(_, term)| term.chars().filter(|c| c.is_alphabetic()).count() >= 2)
                .filter(|(bucket, _)| seen.insert(*bucket))
                .filter_map(|(bucket, term)| {
                    let value = *value_of.get(&bucket)?;
                    let row = self.weights.row(bucket as usize, n);
                    let mean = row.iter().sum::<f32>() / n as f32;
                    let contribution = f64::from(value * (row[class] - mean));
                    let term = features::readable_term(&term)?;
                    (contribution > 0.0).then_some((term, contribution))
                })
                .collect();
        contributions.sort_by(|a, b| b.1.total_cmp(&a.1));
        contributions.truncate(limit);
        contributions
    }

    /// Each label's raw score (bias + weights · features) of a text.
    pub fn raw_logits(&self, text: &str) -> Vec<f32> {
        self.weights.logits(&self.bias, &self.vectorize(text))
    }

    /// The types a document is of (strongest first, with their one-vs-rest
    /// probabilities): those its whole text scores for, and those one of
    /// its parts scores for at [`PART_LABEL_THRESHOLD`]. A contract's terms
    /// on the page after an invoice weigh less in the whole document's
    /// features than alone, so each part is read on its own too. `parts`
    /// are the document's pages; a single page is read in two halves.
    /// `format` is the container format of [`features::with_signals`].
    pub fn present_types(
        &self,
        whole: &Prediction,
        parts: &[&str],
        format: &str,
    ) -> Vec<(usize, f64)> {
        let mut found: Vec<(usize, f64)> = whole
            .present()
            .into_iter()
            .map(|i| (i, whole.one_vs_rest[i]))
            .collect();
        let halves;
        let parts = match parts {
            [single] => {
                halves = halves_of(single);
                halves.iter().map(String::as_str).collect::<Vec<_>>()
            }
            many => many.iter().take(MAX_PARTS).copied().collect(),
        };
        for part in parts {
            let prediction = self.predict(&features::with_signals(part, format));
            for (i, &p) in prediction.one_vs_rest.iter().enumerate() {
                if p >= PART_LABEL_THRESHOLD && !found.iter().any(|&(j, _)| j == i) {
                    found.push((i, p));
                }
            }
        }
        found.sort_by(|a, b| b.1.total_cmp(&a.1));
        found
    }

    /// Calibrated class probabilities of a text (as
    /// [`features::with_signals`] makes it), read by OCR when it was sent
    /// as an image and from a text layer otherwise.
    pub fn predict(&self, text: &str) -> Prediction {
        let reading = if features::format_of(text) == Some("image") {
            Reading::Ocr
        } else {
            Reading::TextLayer
        };
        self.predict_read(text, reading)
    }

    /// Calibrated class probabilities of a text read as `reading` says.
    pub fn predict_read(&self, text: &str, reading: Reading) -> Prediction {
        let logits = self.weights.logits(&self.bias, &self.vectorize(text));
        self.prediction(&logits, reading)
    }

    /// The temperature that calibrates texts read as `reading` says.
    pub fn temperature_for(&self, reading: Reading) -> f32 {
        match (reading, self.header.ocr_temperature) {
            (Reading::Ocr, Some(temperature)) => temperature,
            _ => self.header.temperature,
        }
    }

    fn prediction(&self, logits: &[f32], reading: Reading) -> Prediction {
        let one_vs_rest = self
            .header
            .one_vs_rest
            .iter()
            .zip(logits)
            .map(|(&[slope, offset], &score)| sigmoid(f64::from(slope * score + offset)))
            .collect();
        let unscaled_best = softmax(logits, 1.0).into_iter().fold(0.0, f64::max);
        Prediction {
            probabilities: softmax(logits, self.temperature_for(reading)),
            one_vs_rest,
            unscaled_best,
        }
    }

    /// Write the model to `path` (through a temporary file renamed into
    /// place, so a crash never leaves a half-written model): compact when
    /// the model is ([`TextModel::compact`]), else in full.
    pub fn save(&self, path: &Path) -> Result<(), ModelError> {
        heron_core::files::write_atomically(path, &self.to_bytes()?)?;
        Ok(())
    }

    /// The model file's bytes.
    pub fn to_bytes(&self) -> Result<Vec<u8>, ModelError> {
        let header =
            serde_json::to_vec(&self.header).map_err(|e| ModelError::BadHeader(e.to_string()))?;
        let n_labels = self.header.labels.len();
        let compact = self.header.compact;
        let mut out = Vec::with_capacity(
            12 + header.len()
                + 4 * (self.idf.len() + self.bias.len())
                + self.header.dimensions as usize * n_labels * 4,
        );
        out.extend_from_slice(if compact { MAGIC_COMPACT } else { MAGIC });
        out.extend_from_slice(&(header.len() as u32).to_le_bytes());
        out.extend_from_slice(&header);
        for v in self.idf.iter().chain(&self.bias) {
            out.extend_from_slice(&v.to_le_bytes());
        }
        match (&self.weights, compact) {
            (Weights::Compact { scales, bytes }, _) => {
                for (scale, row) in scales.iter().zip(bytes.chunks_exact(n_labels)) {
                    out.extend_from_slice(&scale.to_le_bytes());
                    out.extend(row.iter().map(|b| *b as u8));
                }
            }
            (Weights::Full(weights), true) => {
                for row in weights.chunks_exact(n_labels) {
                    let (scale, bytes) = quantise_row(row);
                    out.extend_from_slice(&scale.to_le_bytes());
                    out.extend(bytes.iter().map(|b| *b as u8));
                }
            }
            (Weights::Full(weights), false) => {
                for v in weights {
                    out.extend_from_slice(&v.to_le_bytes());
                }
            }
        }
        Ok(out)
    }

    /// The model with its weights rounded to the compact form's 8 bits per
    /// weight (and marked compact, so it saves that way): what loading a
    /// compact file gives, with the id of those weights.
    pub fn compact(&self) -> TextModel {
        let mut header = self.header.clone();
        header.compact = true;
        let weights = match &self.weights {
            Weights::Compact { .. } => self.weights.clone(),
            Weights::Full(weights) => {
                let n_labels = self.header.labels.len();
                let mut scales = Vec::with_capacity(weights.len() / n_labels.max(1));
                let mut bytes = Vec::with_capacity(weights.len());
                for row in weights.chunks_exact(n_labels) {
                    let (scale, row) = quantise_row(row);
                    scales.push(scale);
                    bytes.extend(row);
                }
                Weights::Compact { scales, bytes }
            }
        };
        TextModel::with_weights(header, self.idf.clone(), self.bias.clone(), weights)
    }

    /// Read a model written by [`TextModel::save`], checking every size.
    pub fn load(path: &Path) -> Result<TextModel, ModelError> {
        let mut bytes = Vec::new();
        std::fs::File::open(path)?.read_to_end(&mut bytes)?;
        Self::from_bytes(&bytes)
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<TextModel, ModelError> {
        if bytes.len() < 12 || (&bytes[..8] != MAGIC && &bytes[..8] != MAGIC_COMPACT) {
            return Err(ModelError::BadMagic);
        }
        let compact = &bytes[..8] == MAGIC_COMPACT;
        let header_length = u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize;
        let header_end = 12usize
            .checked_add(header_length)
            .ok_or(ModelError::WrongSize)?;
        let header_bytes = bytes.get(12..header_end).ok_or(ModelError::WrongSize)?;
        let header: ModelHeader = serde_json::from_slice(header_bytes)
            .map_err(|e| ModelError::BadHeader(e.to_string()))?;
        if header.labels.is_empty()
            || !(header.one_vs_rest.is_empty() || header.one_vs_rest.len() == header.labels.len())
            || header.dimensions == 0
            || header.temperature.is_nan()
            || header.temperature <= 0.0
        {
            return Err(ModelError::BadHeader(
                "no labels, dimensions or temperature".to_owned(),
            ));
        }
        if header.feature_version != features::FEATURE_VERSION {
            return Err(ModelError::FeatureVersion {
                found: header.feature_version,
                expected: features::FEATURE_VERSION.to_owned(),
            });
        }
        let dimensions = header.dimensions as usize;
        let n_labels = header.labels.len();
        let body = &bytes[header_end..];
        let weights_size = if compact {
            dimensions * (4 + n_labels)
        } else {
            dimensions * n_labels * 4
        };
        if body.len() != (dimensions + n_labels) * 4 + weights_size || header.compact != compact {
            return Err(ModelError::WrongSize);
        }
        let float = |c: &[u8]| f32::from_le_bytes([c[0], c[1], c[2], c[3]]);
        let (head, rest) = body.split_at((dimensions + n_labels) * 4);
        let mut floats = head.chunks_exact(4).map(float);
        let idf: Vec<f32> = floats.by_ref().take(dimensions).collect();
        let bias: Vec<f32> = floats.collect();
        let weights = if compact {
            let mut scales = Vec::with_capacity(dimensions);
            let mut bytes = Vec::with_capacity(dimensions * n_labels);
            for row in rest.chunks_exact(4 + n_labels) {
                scales.push(float(&row[..4]));
                bytes.extend(row[4..].iter().map(|b| *b as i8));
            }
            Weights::Compact { scales, bytes }
        } else {
            Weights::Full(rest.chunks_exact(4).map(float).collect())
        };
        Ok(TextModel::with_weights(header, idf, bias, weights))
    }
}

/// A row of weights as one scale and a signed byte per weight (the
/// largest magnitude maps to ±127; an all-zero row has scale 0).
fn quantise_row(row: &[f32]) -> (f32, Vec<i8>) {
    let largest = row.iter().fold(0f32, |m, w| m.max(w.abs()));
    if largest == 0.0 || !largest.is_finite() {
        return (0.0, vec![0; row.len()]);
    }
    let scale = largest / 127.0;
    let bytes = row
        .iter()
        .map(|w| (w / scale).round().clamp(-127.0, 127.0) as i8)
        .collect();
    (scale, bytes)
}

/// Most parts of a document read on their own by [`TextModel::present_types`].
const MAX_PARTS: usize = 10;

/// The two halves of a text at the line boundary nearest its middle; none
/// for a text too short to hold two documents.
fn halves_of(text: &str) -> Vec<String> {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    if lines.len() < 12 {
        return Vec::new();
    }
    let middle = lines.len() / 2;
    vec![lines[..middle].join("\n"), lines[middle..].join("\n")]
}

/// Scores of each label: bias + Σ weight × feature.
pub(crate) fn logits(weights: &[f32], bias: &[f32], vector: &SparseVector) -> Vec<f32> {
    let n_labels = bias.len();
    let mut scores = bias.to_vec();
    for &(bucket, value) in vector {
        let row = &weights[bucket as usize * n_labels..(bucket as usize + 1) * n_labels];
        for (score, weight) in scores.iter_mut().zip(row) {
            *score += weight * value;
        }
    }
    scores
}

pub(crate) fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

pub(crate) fn softmax(logits: &[f32], temperature: f32) -> Vec<f64> {
    let scaled: Vec<f64> = logits.iter().map(|&l| f64::from(l / temperature)).collect();
    let max = scaled.iter().copied().fold(f64::MIN, f64::max);
    let exps: Vec<f64> = scaled.iter().map(|s| (s - max).exp()).collect();
    let sum: f64 = exps.iter().sum();
    exps.into_iter().map(|e| e / sum).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Compact weights read in place give the scores, explanations and id
    /// of the same weights expanded to f32.
    #[test]
    fn compact_weights_read_in_place_score_as_expanded_ones() {
        let labels = vec![
            Label::parse("invoice").unwrap(),
            Label::parse("receipt").unwrap(),
        ];
        let dimensions = 64u32;
        let header = ModelHeader {
            labels: labels.clone(),
            dimensions,
            temperature: 1.0,
            created_unix: 0,
            training_documents: 0,
            training_source: String::new(),
            metrics: BTreeMap::new(),
            one_vs_rest: Vec::new(),
            risk_coverage: None,
            feature_version: features::FEATURE_VERSION.to_owned(),
            ood_min_probability: None,
            ocr_temperature: None,
            compact: false,
        };
        let weights: Vec<f32> = (0..dimensions as usize * labels.len())
            .map(|i| ((i * 37 % 101) as f32 - 50.0) / 17.0)
            .collect();
        let full = TextModel::from_parts(
            header,
            vec![1.0; dimensions as usize],
            vec![0.1, -0.2],
            weights,
        );
        let compact = full.compact();
        assert!(matches!(compact.weights, Weights::Compact { .. }));
        let expanded = TextModel::from_parts(
            compact.header.clone(),
            compact.idf.clone(),
            compact.bias.clone(),
            compact.weights.values(labels.len()).collect(),
        );
        assert_eq!(expanded.id(), compact.id());
        for text in [
            "invoice total due",
            "receipt cash change thank you",
            "nothing known",
        ] {
            assert_eq!(compact.raw_logits(text), expanded.raw_logits(text));
            assert_eq!(compact.explain(text, 0, 5), expanded.explain(text, 0, 5));
        }
        let reloaded = TextModel::from_bytes(&compact.to_bytes().unwrap()).unwrap();
        assert_eq!(reloaded.id(), compact.id());
        assert_eq!(reloaded.to_bytes().unwrap(), compact.to_bytes().unwrap());
    }
}
