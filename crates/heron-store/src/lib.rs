//! Durable state: jobs and per-file tasks in SQL (the queue), idempotency
//! records, and a content-addressed blob store for the uploaded bytes.
//!
//! The only crate that speaks SQL or S3. The database is SQLite (embedded
//! default) or PostgreSQL, through one [`Store`] running the same
//! migrations; blobs live in a local folder or an S3-compatible bucket,
//! through one [`BlobStore`]. Workers claim tasks with leases: a task whose
//! worker died is claimed again once its lease expires, and a result is
//! only accepted from the worker that still holds the lease, so a file
//! never gets two results.

mod analysis;
mod audit;
mod backup;
mod blob_crypto;
mod blobs;
mod clock;
mod crypto;
mod db;
mod documents;
mod idempotency;
mod jobs;
mod keys;
mod learning;
mod models;
mod queue;
mod search;
mod semantic;
mod sessions;
mod uploads;
mod webhooks;

pub use analysis::{DocumentAnalysis, DuplicateCandidates, StoredFingerprint};
pub use audit::{
    Actor, AuditAnchor, AuditEntry, AuditFilter, AuditKey, AuditRecord, AuditVerification,
    ChainSummary,
};
pub use backup::SnapshotCounts;
pub use crypto::MasterKey;
pub use documents::{DocumentRecord, TenantSettings};
pub use keys::{ApiKeyRecord, IssuedKey, NewApiKey, constant_time_eq};
pub use learning::{
    ClassifiedRow, DefinedType, NewReview, ReviewAction, ReviewCandidate, ReviewRecord,
};
pub use models::{ModelEvent, ModelVersion, NewModelVersion, TrainingRun};
pub use sessions::UiSession;

pub use blobs::{BlobStore, BlobWriter, LocalBlob, RemoteFolder, StoredBlob};
pub use db::{Backend, PoolConfig, redact_url};
pub use idempotency::KeyClaim;
pub use jobs::{Cancelled, DeadLetter, JobListing, JobPage, JobRecord, JobSummary, Progress};
pub use queue::{ClaimedTask, DocumentText, NewJob, NewTask, Store};
pub use search::{
    Comparison, FieldFilter, SearchEntry, SearchHit, SearchPage, SearchQuery, query_terms,
};
pub use semantic::SemanticExample;
pub use uploads::{Completion, NewUpload, UploadKind, UploadPart, UploadRecord};
pub use webhooks::{AttemptOutcome, AttemptRecord, DeliveryRecord, DueDelivery, WebhookEndpoint};

/// Why a storage operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("database migration: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error(
        "the database schema (migration {0}) was written by an earlier pre-release of Heron whose \
         schema has since changed; start from an empty database or data directory"
    )]
    SchemaChanged(i64),
    #[error("blob store: {0}")]
    Io(#[from] std::io::Error),
    #[error("object store: {0}")]
    ObjectStore(String),
    #[error("the stored file {0} is missing")]
    MissingBlob(String),
    #[error("stored data is invalid: {0}")]
    Corrupt(String),
    #[error("file exceeds the size limit of {limit} bytes")]
    TooLarge { limit: u64 },
    #[error("unsupported URL {0:?} (expected sqlite://, postgres://, s3:// or a directory)")]
    UnsupportedUrl(String),
    #[error("invalid page cursor {0:?}")]
    InvalidCursor(String),
    #[error("encryption: {0}")]
    Encryption(String),
}

impl StoreError {
    /// Whether trying again later may succeed (the database or object store
    /// was unreachable or overloaded), as opposed to bad or missing data.
    pub fn is_transient(&self) -> bool {
        match self {
            StoreError::Database(error) => !matches!(
                error,
                sqlx::Error::RowNotFound
                    | sqlx::Error::ColumnDecode { .. }
                    | sqlx::Error::Decode(_)
                    | sqlx::Error::TypeNotFound { .. }
                    | sqlx::Error::ColumnNotFound(_)
            ),
            StoreError::Io(_) | StoreError::ObjectStore(_) => true,
            _ => false,
        }
    }
}

pub mod testing {
    //! Helpers for tests and benchmarks that run against a real
    //! PostgreSQL: each gets a database of its own.

    use sqlx::Connection;

    /// The server the test suite may use, from `HERON_TEST_DATABASE_URL`
    /// (a URL whose user may create databases). `None` after
    /// [`heron_testkit::missing`]: the caller skips its PostgreSQL half
    /// (a failure under `HERON_TEST_REQUIRE=all`).
    #[track_caller]
    pub fn postgres_admin_url() -> Option<String> {
        match std::env::var("HERON_TEST_DATABASE_URL") {
            Ok(url) if !url.trim().is_empty() => Some(url),
            _ => {
                heron_testkit::missing(
                    "the PostgreSQL half: HERON_TEST_DATABASE_URL is not set (scripts/with-test-services sets it)",
                );
                None
            }
        }
    }

    /// The S3 location the test suite may use, from `HERON_TEST_BLOB_STORE`
    /// (`s3://bucket`; endpoint and credentials in the `AWS_*` variables),
    /// with a fresh prefix per caller. `None` after
    /// [`heron_testkit::missing`].
    #[track_caller]
    pub fn s3_test_location() -> Option<String> {
        match std::env::var("HERON_TEST_BLOB_STORE") {
            Ok(url) if url.starts_with("s3://") => Some(format!(
                "{}/{}",
                url.trim_end_matches('/'),
                uuid::Uuid::new_v4().simple()
            )),
            _ => {
                heron_testkit::missing(
                    "the S3 half: HERON_TEST_BLOB_STORE is not set (scripts/with-test-services sets it)",
                );
                None
            }
        }
    }

    /// Create an empty database on the server of `admin_url` and return
    /// its URL.
    pub async fn fresh_postgres_database(admin_url: &str) -> Result<String, sqlx::Error> {
        let name = format!("heron_test_{}", uuid::Uuid::new_v4().simple());
        let mut connection = sqlx::postgres::PgConnection::connect(admin_url).await?;
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut connection)
            .await?;
        connection.close().await?;
        let (server, _) = admin_url.rsplit_once('/').unwrap_or((admin_url, ""));
        Ok(format!("{server}/{name}"))
    }
}
