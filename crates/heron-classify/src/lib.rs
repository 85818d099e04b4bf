//! heron-classify
