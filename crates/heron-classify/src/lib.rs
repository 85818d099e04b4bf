//! Document classification: features, models, training, and the synthetic
//! training-data generator.
//!
//! - [`features`]: text → sparse hashed TF-IDF vector (word uni/bi-grams and
//!   character n-grams under a fixed FNV-1a hash, so saved models stay valid
//!   across builds and platforms).
//! - [`model`]: a multinomial logistic regression over those features, with
//!   temperature calibration, saved as a versioned binary artefact.
//! - [`filename`]: the weak file-name signal, kept separate so that content
//!   always outweighs a misleading name.
//! - [`synth`]: a seeded generator of realistic document texts per type.
//!
//! This crate does no I/O except reading and writing model files, and
//! never sees HTTP, SQL or tokio.

pub mod features;
pub mod filename;
pub mod model;
pub mod rng;
pub mod synth;
pub mod train;

pub use model::{Prediction, TextModel};
