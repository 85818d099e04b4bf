//! heron-store
