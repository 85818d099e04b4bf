//! Upgrading a database of the previous release: its schema is the
//! migrations up to the last one it shipped (0006, search) with data
//! written in that schema; opening it with this release's `Store` runs the
//! newer migrations, and every document, result and text is still there
//! and usable by the new features (reviews, the model registry). On
//! SQLite, and on PostgreSQL when `HERON_TEST_DATABASE_URL` names one.

use std::path::Path;

use heron_store::{NewReview, ReviewAction, Store};
use sqlx::Executor;

/// The last migration the previous release applied.
const PREVIOUS_RELEASE: i64 = 6;

/// A database at the previous release's schema, with a finished job of
/// two documents (results and texts) in tenant `acme`.
async fn previous_release_database(url: &str) {
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(url).await.expect("connecting");
    let mut migrator =
        sqlx::migrate::Migrator::new(Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations"))
            .await
            .expect("reading the migrations");
    migrator.migrations = migrator
        .migrations
        .iter()
        .filter(|m| m.version <= PREVIOUS_RELEASE)
        .cloned()
        .collect::<Vec<_>>()
        .into();
    migrator
        .run(&pool)
        .await
        .expect("the previous release's migrations");
    // Results as the previous release wrote them (its result type is
    // this release's: no field changed since).
    let result = |name: &str, label: &str| {
        let result = heron_core::ClassificationResult {
            filename: format!("{name}.txt"),
            mime_type: "text/plain".to_owned(),
            size_bytes: 30,
            label: label.to_owned(),
            confidence: 0.93,
            pipeline_version: "heron-0.1.0+tm-previous".to_owned(),
            processing_ms: 12.0,
            request_id: "r1".to_owned(),
            document_id: Some(name.to_owned()),
            sha256: "ab".repeat(32),
            class_confidences: [(label.to_owned(), 0.93)].into_iter().collect(),
            predicted_label: label.to_owned(),
            decided_by: heron_core::DecidedBy::TextModel,
            ..heron_core::ClassificationResult::default()
        };
        serde_json::to_string(&result).expect("JSON")
    };
    pool.execute(
        "INSERT INTO jobs (id, status, total_files, request_id, synchronous, created_at, updated_at,
                           finished_at, tenant_id)
         VALUES ('job-old', 'done', 2, 'r1', 0, 1000, 2000, 2000, 'acme')",
    )
    .await
    .expect("a job");
    for (position, (id, label)) in [("doc-invoice", "invoice"), ("doc-form", "form")]
        .into_iter()
        .enumerate()
    {
        sqlx::query(
            "INSERT INTO tasks (id, job_id, position, filename, sha256, size_bytes, state, attempts,
                                available_at, result_json, created_at, updated_at)
             VALUES ($1, 'job-old', $2, $3, $4, 30, 'done', 1, 1000, $5, 1000, 2000)",
        )
        .bind(id)
        .bind(position as i64)
        .bind(format!("{id}.txt"))
        .bind("ab".repeat(32))
        .bind(result(id, label))
        .execute(&pool)
        .await
        .expect("a task");
        sqlx::query("INSERT INTO document_texts (task_id, body, redacted) VALUES ($1, $2, 0)")
            .bind(id)
            .bind(format!("Text of {id}"))
            .execute(&pool)
            .await
            .expect("a text");
    }
    pool.close().await;
}

async fn upgrade_keeps_everything(url: &str, data_dir: &Path) {
    previous_release_database(url).await;
    let store = Store::open(Some(url), data_dir)
        .await
        .expect("this release opens (and migrates) the previous release's database");
    let document = store
        .document("acme", "doc-invoice")
        .await
        .expect("reading")
        .expect("the document survived");
    let result = document.result.expect("its result");
    assert_eq!(
        (result.label.as_str(), result.confidence),
        ("invoice", 0.93)
    );
    assert_eq!(
        store.document_text("acme", "doc-form").await.expect("text"),
        Some(("Text of doc-form".to_owned(), false))
    );
    let jobs = store.jobs("acme", None, 10, None).await.expect("jobs");
    assert_eq!(jobs.jobs.len(), 1);
    // The new features work on old documents.
    let actor = heron_store::Actor {
        id: "test".to_owned(),
        request_id: "r".to_owned(),
    };
    let review = NewReview {
        action: ReviewAction::Correct,
        label: "receipt".to_owned(),
        fields: None,
        note: None,
    };
    let recorded = store
        .record_review("acme", "doc-invoice", &review, &actor)
        .await
        .expect("reviewing")
        .expect("an old document takes a verdict");
    assert_eq!(recorded.predicted_label, "invoice");
    assert_eq!(
        store
            .review_candidates("acme", 10)
            .await
            .expect("queue")
            .len(),
        1
    );
    assert!(store.champion("acme").await.expect("registry").is_none());
    store.close().await;
    // Opening again changes nothing (migrations are applied once).
    let again = Store::open(Some(url), data_dir).await.expect("reopening");
    assert_eq!(
        again.latest_reviews("acme").await.expect("reviews").len(),
        1
    );
    again.close().await;
}

#[tokio::test]
async fn a_previous_release_database_upgrades_without_loss() {
    let dir = tempfile::tempdir().expect("folder");
    let sqlite = format!("sqlite://{}?mode=rwc", dir.path().join("old.db").display());
    upgrade_keeps_everything(&sqlite, dir.path()).await;
    if let Some(admin) = heron_store::testing::postgres_admin_url() {
        let url = heron_store::testing::fresh_postgres_database(&admin)
            .await
            .expect("a PostgreSQL database");
        upgrade_keeps_everything(&url, dir.path()).await;
    }
}
