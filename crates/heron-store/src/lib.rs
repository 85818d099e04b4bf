//! Durable state: jobs and per-file tasks in SQL (the queue), and a
//! content-addressed blob store for the uploaded bytes.
//!
//! The only crate that speaks SQL. Workers claim tasks with leases: a task
//! whose worker died is claimed again once its lease expires, and a result
//! is only accepted from the worker that still holds the lease, so a file
//! never gets two results.

mod blobs;
mod clock;
mod queue;

pub use blobs::{BlobStore, BlobWriter, StoredBlob};
pub use queue::{ClaimedTask, JobRecord, JobSummary, NewJob, NewTask, Store};

/// Why a storage operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("database migration: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error("blob store: {0}")]
    Io(#[from] std::io::Error),
    #[error("stored data is invalid: {0}")]
    Corrupt(String),
    #[error("file exceeds the size limit of {limit} bytes")]
    TooLarge { limit: u64 },
    #[error("unsupported database URL {0:?} (expected sqlite://...)")]
    UnsupportedUrl(String),
}
