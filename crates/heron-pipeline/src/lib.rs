//! heron-pipeline
