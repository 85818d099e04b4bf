//! Warnings and per-file errors with stable machine codes.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Stable codes of per-file warnings and errors. Clients match on these, so a
/// code is never renamed; new ones may be added.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum NoticeCode {
    /// Text came from OCR rather than a text layer.
    OcrUsed,
    /// The file name's extension disagrees with the content; content wins.
    TypeMismatch,
    /// The content is of a type Heron does not parse.
    UnsupportedType,
    /// The parser failed on this file (corrupt or malformed content).
    ExtractionFailed,
    /// Extraction ran past the per-file deadline and was stopped.
    ExtractionTimeout,
    /// The parser process died (crash, memory limit).
    ExtractionCrashed,
    /// A configured limit (pages, size, rows...) was reached.
    LimitExceeded,
    /// No text could be extracted.
    NoText,
    /// The file is encrypted and could not be opened.
    Encrypted,
    /// OCR was needed but the OCR engine is not available.
    OcrUnavailable,
    /// The final confidence is below the threshold.
    LowConfidence,
    /// The file name suggested another type than the content.
    FilenameDisagrees,
    /// The document is unlike every known type.
    OutOfDistribution,
    /// An unexpected internal failure while processing this file.
    InternalError,
}

impl NoticeCode {
    pub fn as_str(self) -> &'static str {
        match self {
            NoticeCode::OcrUsed => "ocr_used",
            NoticeCode::TypeMismatch => "type_mismatch",
            NoticeCode::UnsupportedType => "unsupported_type",
            NoticeCode::ExtractionFailed => "extraction_failed",
            NoticeCode::ExtractionTimeout => "extraction_timeout",
            NoticeCode::ExtractionCrashed => "extraction_crashed",
            NoticeCode::LimitExceeded => "limit_exceeded",
            NoticeCode::NoText => "no_text",
            NoticeCode::Encrypted => "encrypted",
            NoticeCode::OcrUnavailable => "ocr_unavailable",
            NoticeCode::LowConfidence => "low_confidence",
            NoticeCode::FilenameDisagrees => "filename_disagrees",
            NoticeCode::OutOfDistribution => "out_of_distribution",
            NoticeCode::InternalError => "internal_error",
        }
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
