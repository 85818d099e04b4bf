//! Learning from people: reviews (a person's verdict on a document), the
//! queue of documents worth a verdict, document types defined by users,
//! and the classified documents the dashboard counts. Training runs and
//! the model registry are in [`crate::models`].

use heron_core::ClassificationResult;
use sqlx::{AssertSqlSafe, Row};

use crate::audit::{Actor, AuditEntry};
use crate::clock::now_ms;
use crate::queue::from_json;
use crate::{Store, StoreError};

/// What a reviewer did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReviewAction {
    /// The predicted label is right.
    Accept,
    /// The document is of another known type.
    Correct,
    /// The document is of a type nobody has defined yet; `label` names
    /// the proposed type.
    NewType,
}

impl ReviewAction {
    pub fn as_str(self) -> &'static str {
        match self {
            ReviewAction::Accept => "accept",
            ReviewAction::Correct => "correct",
            ReviewAction::NewType => "new_type",
        }
    }

    pub fn parse(text: &str) -> Option<ReviewAction> {
        match text {
            "accept" => Some(ReviewAction::Accept),
            "correct" => Some(ReviewAction::Correct),
            "new_type" => Some(ReviewAction::NewType),
            _ => None,
        }
    }
}

/// A verdict to record.
#[derive(Debug, Clone)]
pub struct NewReview {
    pub action: ReviewAction,
    /// The type the document is (for [`ReviewAction::Accept`], the
    /// predicted one).
    pub label: String,
    /// Corrected field values (`{"name": "value"}`), if any.
    pub fields: Option<serde_json::Value>,
    pub note: Option<String>,
}

/// A recorded verdict.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ReviewRecord {
    pub id: String,
    pub document_id: String,
    pub action: String,
    pub predicted_label: String,
    /// The model's confidence in its prediction, when reviewed.
    pub confidence: f64,
    pub label: String,
    pub fields: Option<serde_json::Value>,
    pub note: Option<String>,
    pub reviewer: String,
    pub created_at_ms: i64,
}

/// A user-defined document type.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DefinedType {
    pub id: String,
    pub name: String,
    /// The taxonomy family (or type) it sits under.
    pub parent: String,
    pub description: String,
    pub created_by: String,
    pub created_at_ms: i64,
}

/// A document the review queue may offer.
#[derive(Debug, Clone)]
pub struct ReviewCandidate {
    pub document_id: String,
    pub filename: String,
    pub result: ClassificationResult,
    /// The text's MinHash signature (hex), for diversity.
    pub minhash: Option<String>,
    pub created_at_ms: i64,
}

/// One classified document, for the dashboard.
#[derive(Debug, Clone)]
pub struct ClassifiedRow {
    pub created_at_ms: i64,
    pub label: String,
    pub confidence: f64,
}

impl Store {
    /// Record `review` of `tenant`'s document `document_id` with its audit
    /// entry (`document.review`). `None` when the document is unknown,
    /// foreign or has no result yet.
    pub async fn record_review(
        &self,
        tenant: &str,
        document_id: &str,
        review: &NewReview,
        actor: &Actor,
    ) -> Result<Option<ReviewRecord>, StoreError> {
        // Read before the transaction: on SQLite a transaction that reads
        // first and writes later cannot wait for another writer.
        let row: Option<(Option<String>,)> = sqlx::query_as(
            "SELECT t.result_json FROM tasks t JOIN jobs j ON j.id = t.job_id
              WHERE t.id = $1 AND j.tenant_id = $2",
        )
        .bind(document_id)
        .bind(tenant)
        .fetch_optional(&self.pool)
        .await?;
        let Some((Some(result),)) = row else {
            return Ok(None);
        };
        let result: ClassificationResult = from_json(&result)?;
        let mut transaction = self.pool.begin().await?;
        let mut record = ReviewRecord {
            id: uuid::Uuid::new_v4().to_string(),
            document_id: document_id.to_owned(),
            action: review.action.as_str().to_owned(),
            predicted_label: result.label.clone(),
            confidence: result.confidence,
            label: review.label.clone(),
            fields: review.fields.clone(),
            note: review.note.clone(),
            reviewer: actor.id.clone(),
            created_at_ms: now_ms(),
        };
        // A verdict is stamped later than every earlier verdict on its
        // document, even within one millisecond, so that "the latest" is
        // never decided by the random id.
        let (created_at_ms,): (i64,) = sqlx::query_as(
            "INSERT INTO reviews (id, tenant_id, task_id, action, predicted_label, confidence,
                                  label, fields_json, note, reviewer, created_at)
             SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10,
                    CASE WHEN COALESCE(MAX(created_at), 0) >= $11 THEN MAX(created_at) + 1
                         ELSE $11 END
               FROM reviews WHERE tenant_id = $2 AND task_id = $3
             RETURNING created_at",
        )
        .bind(&record.id)
        .bind(tenant)
        .bind(document_id)
        .bind(&record.action)
        .bind(&record.predicted_label)
        .bind((record.confidence * 10_000.0).round() as i64)
        .bind(&record.label)
        .bind(record.fields.as_ref().map(|f| f.to_string()))
        .bind(&record.note)
        .bind(&record.reviewer)
        .bind(record.created_at_ms)
        .fetch_one(&mut *transaction)
        .await?;
        record.created_at_ms = created_at_ms;
        let entry = AuditEntry::ok(
            tenant,
            actor,
            "document.review",
            format!("document:{document_id}"),
        )
        .with_detail(serde_json::json!({
            "action": record.action,
            "from": record.predicted_label,
            "to": record.label,
            "fields": record.fields.as_ref().and_then(|f| f.as_object()).map_or(0, |f| f.len()),
        }));
        self.append_audit(&mut transaction, &entry).await?;
        transaction.commit().await?;
        Ok(Some(record))
    }

    /// Every verdict of `tenant`, oldest first (history included).
    pub async fn reviews(&self, tenant: &str) -> Result<Vec<ReviewRecord>, StoreError> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "{REVIEW_COLUMNS} WHERE tenant_id = $1 ORDER BY created_at, id"
        )))
        .bind(tenant)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(review_from_row).collect()
    }

    /// The verdict in force on each reviewed document of `tenant` (its
    /// latest), oldest first.
    pub async fn latest_reviews(&self, tenant: &str) -> Result<Vec<ReviewRecord>, StoreError> {
        let mut latest: Vec<ReviewRecord> = Vec::new();
        let mut position = std::collections::HashMap::new();
        for review in self.reviews(tenant).await? {
            match position.get(&review.document_id) {
                Some(&index) => latest[index] = review,
                None => {
                    position.insert(review.document_id.clone(), latest.len());
                    latest.push(review);
                }
            }
        }
        Ok(latest)
    }

    /// The verdicts on one document of `tenant`, oldest first.
    pub async fn reviews_of(
        &self,
        tenant: &str,
        document_id: &str,
    ) -> Result<Vec<ReviewRecord>, StoreError> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "{REVIEW_COLUMNS} WHERE tenant_id = $1 AND task_id = $2 ORDER BY created_at, id"
        )))
        .bind(tenant)
        .bind(document_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(review_from_row).collect()
    }

    /// The newest `limit` finished, unreviewed documents of `tenant` with
    /// a result: what the review queue chooses from.
    pub async fn review_candidates(
        &self,
        tenant: &str,
        limit: u32,
    ) -> Result<Vec<ReviewCandidate>, StoreError> {
        let rows = sqlx::query(
            "SELECT t.id, t.filename, t.result_json, t.created_at, f.minhash
               FROM tasks t JOIN jobs j ON j.id = t.job_id
               LEFT JOIN document_fingerprints f ON f.task_id = t.id
              WHERE j.tenant_id = $1 AND t.state = 'done' AND t.result_json IS NOT NULL
                AND NOT EXISTS (SELECT 1 FROM reviews r WHERE r.task_id = t.id)
              ORDER BY t.created_at DESC, t.id
              LIMIT $2",
        )
        .bind(tenant)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let result: String = row.try_get("result_json")?;
                Ok(ReviewCandidate {
                    document_id: row.try_get("id")?,
                    filename: row.try_get("filename")?,
                    result: from_json(&result)?,
                    minhash: row.try_get("minhash")?,
                    created_at_ms: row.try_get("created_at")?,
                })
            })
            .collect()
    }

    /// Label and confidence of `tenant`'s documents classified since
    /// `since_ms` (at most `limit`, newest first), for the dashboard.
    pub async fn classified_since(
        &self,
        tenant: &str,
        since_ms: i64,
        limit: u32,
    ) -> Result<Vec<ClassifiedRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT t.created_at, t.result_json FROM tasks t JOIN jobs j ON j.id = t.job_id
              WHERE j.tenant_id = $1 AND t.state = 'done' AND t.result_json IS NOT NULL
                AND t.created_at >= $2
              ORDER BY t.created_at DESC LIMIT $3",
        )
        .bind(tenant)
        .bind(since_ms)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let result: String = row.try_get("result_json")?;
                let result: ClassificationResult = from_json(&result)?;
                Ok(ClassifiedRow {
                    created_at_ms: row.try_get("created_at")?,
                    label: result.label,
                    confidence: result.confidence,
                })
            })
            .collect()
    }

    /// Define a document type for `tenant` (audited `type.define`);
    /// `false` when the id is taken.
    pub async fn define_type(
        &self,
        tenant: &str,
        defined: &DefinedType,
        actor: &Actor,
    ) -> Result<bool, StoreError> {
        let mut transaction = self.pool.begin().await?;
        let inserted = sqlx::query(
            "INSERT INTO document_types (tenant_id, id, name, parent, description, created_by,
                                         created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (tenant_id, id) DO NOTHING",
        )
        .bind(tenant)
        .bind(&defined.id)
        .bind(&defined.name)
        .bind(&defined.parent)
        .bind(&defined.description)
        .bind(&defined.created_by)
        .bind(defined.created_at_ms)
        .execute(&mut *transaction)
        .await?
        .rows_affected();
        if inserted == 0 {
            return Ok(false);
        }
        let entry = AuditEntry::ok(tenant, actor, "type.define", format!("type:{}", defined.id))
            .with_detail(serde_json::json!({ "parent": defined.parent }));
        self.append_audit(&mut transaction, &entry).await?;
        transaction.commit().await?;
        Ok(true)
    }

    /// `tenant`'s defined types, oldest first.
    pub async fn defined_types(&self, tenant: &str) -> Result<Vec<DefinedType>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, name, parent, description, created_by, created_at FROM document_types
              WHERE tenant_id = $1 ORDER BY created_at, id",
        )
        .bind(tenant)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(DefinedType {
                    id: row.try_get("id")?,
                    name: row.try_get("name")?,
                    parent: row.try_get("parent")?,
                    description: row.try_get("description")?,
                    created_by: row.try_get("created_by")?,
                    created_at_ms: row.try_get("created_at")?,
                })
            })
            .collect()
    }
}

const REVIEW_COLUMNS: &str = "SELECT id, task_id, action, predicted_label, confidence, label,
        fields_json, note, reviewer, created_at FROM reviews";

pub(crate) fn corrupt(error: serde_json::Error) -> StoreError {
    StoreError::Corrupt(error.to_string())
}

fn review_from_row(row: &sqlx::any::AnyRow) -> Result<ReviewRecord, StoreError> {
    let fields: Option<String> = row.try_get("fields_json")?;
    Ok(ReviewRecord {
        id: row.try_get("id")?,
        document_id: row.try_get("task_id")?,
        action: row.try_get("action")?,
        predicted_label: row.try_get("predicted_label")?,
        confidence: row.try_get::<i64, _>("confidence")? as f64 / 10_000.0,
        label: row.try_get("label")?,
        fields: fields
            .map(|f| serde_json::from_str(&f))
            .transpose()
            .map_err(corrupt)?,
        note: row.try_get("note")?,
        reviewer: row.try_get("reviewer")?,
        created_at_ms: row.try_get("created_at")?,
    })
}
