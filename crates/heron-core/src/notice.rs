//! Warnings and per-file errors with stable machine codes.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

crate::wire_enum! {
serde;
/// Stable codes of per-file warnings and errors. Clients match on these, so a
/// code is never renamed; new ones may be added.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
pub enum NoticeCode {
    /// Text came from OCR rather than a text layer.
    OcrUsed = "ocr_used",
    /// The file name's extension disagrees with the content; content wins.
    TypeMismatch = "type_mismatch",
    /// The content is of a type Heron does not parse.
    UnsupportedType = "unsupported_type",
    /// The parser failed on this file (corrupt or malformed content).
    ExtractionFailed = "extraction_failed",
    /// Extraction ran past the per-file deadline and was stopped.
    ExtractionTimeout = "extraction_timeout",
    /// The parser process died (crash, memory limit).
    ExtractionCrashed = "extraction_crashed",
    /// A configured limit (pages, size, rows...) was reached.
    LimitExceeded = "limit_exceeded",
    /// No text could be extracted.
    NoText = "no_text",
    /// The file is encrypted and could not be opened.
    Encrypted = "encrypted",
    /// OCR was needed but the OCR engine is not available.
    OcrUnavailable = "ocr_unavailable",
    /// The final confidence is below the threshold.
    LowConfidence = "low_confidence",
    /// The file name suggested another type than the content.
    FilenameDisagrees = "filename_disagrees",
    /// The document is unlike every known type.
    OutOfDistribution = "out_of_distribution",
    /// An unexpected internal failure while processing this file.
    InternalError = "internal_error",
}
}

/// One warning or error attached to a file's result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Notice {
    pub code: NoticeCode,
    pub message: String,
}

impl Notice {
    pub fn new(code: NoticeCode, message: impl Into<String>) -> Self {
        Notice {
            code,
            message: message.into(),
        }
    }
}
