//! heron-worker
