//! Document classification: features, models, training, and the synthetic
//! training-data generator.
//!
//! - [`features`]: text → sparse hashed TF-IDF vector (word uni/bi-grams and
//!   character n-grams under a fixed FNV-1a hash, so saved models stay valid
//!   across builds and platforms).
//! - [`model`]: a multinomial logistic regression over those features, with
//!   temperature calibration, saved as a versioned binary artefact.
//! - [`ood`]: whether a document is like any known type at all.
//! - [`risk`]: risk–coverage curves and the cut-off for a target error rate.
//! - [`filename`]: the weak file-name signal, kept separate so that content
//!   always outweighs a misleading name.
//! - [`active`]: which documents a person should review first;
//!   [`metrics`]: accuracy, per-class F1 and confusion of predictions.
//! - [`taxonomy`]: industry → family → type, from TOML (a default ships).
//! - [`synth`]: hand-written generators of the original seven types;
//!   [`compose`]: documents of any taxonomy type from its template, in
//!   English, German, French and Spanish.
//!
//! This crate does no I/O except reading and writing model files, and
//! never sees HTTP, SQL or tokio.

pub mod active;
pub mod bayes;
pub mod compose;
pub mod features;
pub mod filename;
pub mod metrics;
pub mod model;
pub mod ood;
pub mod real;
pub mod render;
pub mod risk;
pub mod rng;
pub mod semantic;
pub mod shipped;
pub mod synth;
pub mod taxonomy;
pub mod train;

pub use model::{Prediction, Reading, TextModel};
pub use taxonomy::{FieldKind, FieldSpec, Taxonomy};
