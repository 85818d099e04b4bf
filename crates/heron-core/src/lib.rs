//! Heron's domain: the types every other crate speaks.
//!
//! What lives here: labels, the per-file classification result (the wire
//! contract shared by the HTTP API and `heron classify --json`), notices
//! (warnings and errors with stable codes), job states, and the typed
//! [`Settings`] with their loader.
//!
//! What does not: I/O other than reading configuration, HTTP, SQL, models.

pub mod access;
pub mod breaker;
pub mod fields;
pub mod files;
pub mod job;
pub mod label;
pub mod layout;
pub mod notice;
pub mod result;
pub mod settings;
pub mod understanding;
pub mod webhook;
pub mod wire;

pub use job::JobStatus;
pub use label::{Label, LabelError};
pub use notice::{Notice, NoticeCode};
pub use result::{
    Alternative, ClassificationResult, DecidedBy, Evidence, Explanation, LabelPathLevel,
    StageConfidences, TextLocation,
};
pub use settings::{SemanticSetting, Settings, SettingsError, SettingsOverrides};

/// Heron's own version, as built.
pub const HERON_VERSION: &str = env!("CARGO_PKG_VERSION");
