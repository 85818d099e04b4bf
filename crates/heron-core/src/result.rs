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
}

/// Confidence of each pipeline stage that ran; `null` for a stage that did not.
/// The four keys are the original API's and never change.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct StageConfidences {
    pub stage_filename: Option<f64>,
    pub stage_metadata: Option<f64>,
    pub stage_text: Option<f64>,
    pub stage_ocr: Option<f64>,
}

/// Which part of the pipeline settled the final label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DecidedBy {
    Filename,
    Metadata,
    TextModel,
    OcrTextModel,
    Ensemble,
    /// Nothing could be decided (no usable content): the label is `unsure`.
    Nothing,
}

/// The classification of one uploaded file.
///
/// Every field of the original HeronAI result is present with the same name
/// and meaning; the fields after `errors` are Heron's additions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
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
}
