//! The per-file result: the original API's contract plus Heron's additions.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::notice::Notice;

/// One level of a label's place in the taxonomy (industry, family, type)
/// with the probability of everything under it: an uncertain type can
/// still sit under a confident family.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct LabelPathLevel {
    /// `industry`, `family` or `type`.
    pub level: String,
    pub id: String,
    pub confidence: f64,
}

/// A word or word pair of the document that weighed for its label.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Evidence {
    pub term: String,
    /// Its contribution to the label's score (larger is stronger).
    pub weight: f64,
    /// Where the term first occurs: 1-based page and the character range
    /// within that page's text; absent for signals (format, layout) and
    /// for terms whose digits were normalised away.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<TextLocation>,
}

/// A place in a document's extracted text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TextLocation {
    pub page: u32,
    /// Character offsets (not bytes) in the page's text, end exclusive.
    pub start: u32,
    pub end: u32,
}

/// The long form of a decision's evidence (`?explain=true`,
/// `heron classify --explain`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Explanation {
    /// The best types, most likely first, with their confidences.
    pub alternatives: Vec<Alternative>,
    /// For each of the top alternatives, the terms that weighed for it.
    pub terms: BTreeMap<String, Vec<Evidence>>,
    /// One-vs-rest probability of each type at 0.05 or more: whether the
    /// document is (also) of that type, each type judged on its own.
    pub one_vs_rest: BTreeMap<String, f64>,
    /// Format and layout signals the model read besides the words.
    pub signals: Vec<String>,
    /// Distinct words of the document the model's training data contained.
    pub known_words: usize,
    /// Share of the document's words the training data contained.
    pub known_word_share: f64,
    /// Why the document was judged unlike every known type, if it was.
    pub out_of_distribution_reason: Option<String>,
}

/// One candidate type of a document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Alternative {
    pub label: String,
    pub confidence: f64,
}

/// Confidence of each pipeline stage that ran; `null` for a stage that did not.
/// The first four keys are the original API's and never change;
/// `stage_semantic` is Heron's (the sentence-embedding stage).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct StageConfidences {
    pub stage_filename: Option<f64>,
    pub stage_metadata: Option<f64>,
    pub stage_text: Option<f64>,
    pub stage_ocr: Option<f64>,
    /// The semantic stage's best type probability, when it ran (results
    /// stored before it existed read as `null`).
    #[serde(default)]
    pub stage_semantic: Option<f64>,
}

/// Which part of the pipeline settled the final label.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DecidedBy {
    Filename,
    Metadata,
    TextModel,
    OcrTextModel,
    /// The sentence-embedding stage: descriptions and labelled examples.
    Semantic,
    Ensemble,
    /// Nothing could be decided (no usable content): the label is `unsure`.
    #[default]
    Nothing,
}

/// The classification of one uploaded file.
///
/// Every field of the original HeronAI result is present with the same name
/// and meaning; the fields after `errors` are Heron's additions. The
/// default is an empty result (no label, nothing decided) for building
/// results that carry only an error.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ClassificationResult {
    pub filename: String,
    /// MIME type detected from the content (not from the name).
    pub mime_type: String,
    pub size_bytes: u64,
    /// Document type id, or `unsure` below the confidence threshold.
    pub label: String,
    pub confidence: f64,
    pub stage_confidences: StageConfidences,
    pub pipeline_version: String,
    pub processing_ms: f64,
    pub request_id: String,
    pub warnings: Vec<Notice>,
    pub errors: Vec<Notice>,
    /// Id of the stored document (per job task).
    pub document_id: Option<String>,
    /// SHA-256 of the file's bytes, hex.
    pub sha256: String,
    /// Probability of every known type, summing to about 1.
    pub class_confidences: BTreeMap<String, f64>,
    /// The best label before the threshold was applied.
    pub predicted_label: String,
    pub decided_by: DecidedBy,
    pub page_count: Option<u32>,
    /// ISO 639-3 code of the document's language ("eng", "deu"...), when
    /// there was enough text to tell.
    pub language: Option<String>,
    /// Whether the result was reused from an earlier identical file.
    pub cached: bool,
    /// Industry → family → type of the predicted label, each with its
    /// summed confidence; empty when the label is not in the taxonomy.
    #[serde(default)]
    pub label_path: Vec<LabelPathLevel>,
    /// The terms of the deciding text that weighed most for the
    /// predicted label (at most five); empty when no text decided.
    #[serde(default)]
    pub evidence: Vec<Evidence>,
    /// Every type the document is of (multi-label: an invoice that is also
    /// a contract), `label` first; empty when `label` is `unsure`.
    #[serde(default)]
    pub labels: Vec<String>,
    /// The document is unlike every known type (a novel, a photo, a blank
    /// page): `label` is `unsure` and an `out_of_distribution` warning says
    /// why.
    #[serde(default)]
    pub out_of_distribution: bool,
    /// Personal data found in the text, counted by kind (`email`, `iban`,
    /// `ssn`…). Never the values.
    #[serde(default)]
    pub pii: BTreeMap<String, u32>,
    /// Id of the model that classified the file.
    #[serde(default)]
    pub model_version: String,
    /// Version and content hash of the taxonomy the labels come from.
    #[serde(default)]
    pub taxonomy_version: String,
    /// The long form of the evidence; stored with every result, shown by
    /// the API with `?explain=true`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub explanation: Option<Explanation>,
    /// An earlier document of the same tenant this one duplicates (same
    /// bytes, same normalised text, or near-identical text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duplicate_of: Option<crate::understanding::DuplicateOf>,
    /// Typed fields of the document's type (`?extract=fields`); never
    /// stored in the result itself (see `GET /v1/documents/{id}`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fields: Option<crate::understanding::Fields>,
    /// Entities (`?extract=entities`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entities: Option<Vec<crate::understanding::Entity>>,
    /// Tables (`?extract=tables`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tables: Option<Vec<crate::understanding::Table>>,
    /// Layout blocks (`?extract=segments`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub segments: Option<Vec<crate::understanding::Segment>>,
    /// The documents of a packet (`?split=true` or `?extract=documents`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub documents: Option<Vec<crate::understanding::PacketDocument>>,
}
