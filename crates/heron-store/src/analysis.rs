//! What was read inside documents (sealed like their text) and the
//! fingerprints that find duplicates: the same bytes (`tasks.sha256`), the
//! same normalised text, or a MinHash signature sharing a band key.
//! Similarity itself is computed by the caller (`heron-understand`); the
//! store finds candidates by index, always within one tenant.

use sqlx::{AssertSqlSafe, Row};

use crate::{Store, StoreError};

/// What is stored with a document's text.
#[derive(Debug, Clone, PartialEq)]
pub struct DocumentAnalysis {
    /// The `Understanding`, as JSON.
    pub understanding: String,
    /// `None` for a document without words.
    pub fingerprint: Option<StoredFingerprint>,
    /// What search finds the document by; `None` leaves it unindexed.
    pub search: Option<crate::SearchEntry>,
}

/// A document's text fingerprints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredFingerprint {
    pub text_sha256: String,
    /// MinHash signature, hex.
    pub minhash: String,
    pub band_keys: Vec<i64>,
}

/// Earlier documents of a tenant that may duplicate one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DuplicateCandidates {
    /// The earliest with the same bytes.
    pub same_bytes: Option<String>,
    /// The earliest with the same normalised text.
    pub same_text: Option<String>,
    /// Those sharing a band key: (id, MinHash signature hex).
    pub near: Vec<(String, String)>,
}

/// Candidates examined per lookup at most.
const MAX_CANDIDATES: i64 = 200;

impl Store {
    pub(crate) async fn insert_analysis(
        &self,
        transaction: &mut sqlx::Transaction<'_, sqlx::Any>,
        task_id: &str,
        analysis: &DocumentAnalysis,
    ) -> Result<(), StoreError> {
        crate::crypto::destroy_text_key(transaction, "document_analysis", task_id).await?;
        let body = self.seal_text(transaction, &analysis.understanding).await?;
        sqlx::query(
            "INSERT INTO document_analysis (task_id, body) VALUES ($1, $2)
             ON CONFLICT (task_id) DO UPDATE SET body = $2",
        )
        .bind(task_id)
        .bind(body)
        .execute(&mut **transaction)
        .await?;
        if let Some(entry) = &analysis.search {
            self.index_document(transaction, task_id, entry).await?;
        }
        let Some(fingerprint) = &analysis.fingerprint else {
            return Ok(());
        };
        let tenant: String = sqlx::query_scalar(
            "SELECT j.tenant_id FROM tasks t JOIN jobs j ON j.id = t.job_id WHERE t.id = $1",
        )
        .bind(task_id)
        .fetch_one(&mut **transaction)
        .await?;
        sqlx::query(
            "INSERT INTO document_fingerprints (task_id, tenant_id, text_sha256, minhash)
             VALUES ($1, $2, $3, $4)
             ON CONFLICT (task_id) DO UPDATE SET text_sha256 = $3, minhash = $4",
        )
        .bind(task_id)
        .bind(&tenant)
        .bind(&fingerprint.text_sha256)
        .bind(&fingerprint.minhash)
        .execute(&mut **transaction)
        .await?;
        sqlx::query("DELETE FROM document_bands WHERE task_id = $1")
            .bind(task_id)
            .execute(&mut **transaction)
            .await?;
        for key in &fingerprint.band_keys {
            sqlx::query(
                "INSERT INTO document_bands (task_id, tenant_id, band_key) VALUES ($1, $2, $3)",
            )
            .bind(task_id)
            .bind(&tenant)
            .bind(key)
            .execute(&mut **transaction)
            .await?;
        }
        Ok(())
    }

    /// The stored analysis of a document, whoever's it is: for the worker
    /// that reuses a result of the same tenant.
    pub async fn analysis_of_task(&self, id: &str) -> Result<Option<DocumentAnalysis>, StoreError> {
        let Some(body): Option<String> =
            sqlx::query_scalar("SELECT body FROM document_analysis WHERE task_id = $1")
                .bind(id)
                .fetch_optional(&self.pool)
                .await?
        else {
            return Ok(None);
        };
        let understanding = self.open_text(&body).await?;
        let row: Option<(String, String)> = sqlx::query_as(
            "SELECT text_sha256, minhash FROM document_fingerprints WHERE task_id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        let fingerprint = match row {
            Some((text_sha256, minhash)) => {
                let band_keys: Vec<i64> =
                    sqlx::query_scalar("SELECT band_key FROM document_bands WHERE task_id = $1")
                        .bind(id)
                        .fetch_all(&self.pool)
                        .await?;
                Some(StoredFingerprint {
                    text_sha256,
                    minhash,
                    band_keys,
                })
            }
            None => None,
        };
        Ok(Some(DocumentAnalysis {
            understanding,
            fingerprint,
            search: None,
        }))
    }

    /// The understanding (JSON) of `tenant`'s document; `None` for an
    /// unknown or foreign document or one whose text was purged.
    pub async fn document_understanding(
        &self,
        tenant: &str,
        id: &str,
    ) -> Result<Option<String>, StoreError> {
        let body: Option<String> = sqlx::query_scalar(
            "SELECT a.body FROM document_analysis a
               JOIN tasks t ON t.id = a.task_id JOIN jobs j ON j.id = t.job_id
              WHERE a.task_id = $1 AND j.tenant_id = $2",
        )
        .bind(id)
        .bind(tenant)
        .fetch_optional(&self.pool)
        .await?;
        match body {
            Some(body) => Ok(Some(self.open_text(&body).await?)),
            None => Ok(None),
        }
    }

    /// The understanding (JSON) of each of `ids` that has one, for a job's
    /// results (the ids are the job's tasks, already the caller's tenant's).
    pub async fn understandings(
        &self,
        ids: &[String],
    ) -> Result<Vec<(String, String)>, StoreError> {
        let mut out = Vec::new();
        for chunk in ids.chunks(100) {
            let placeholders: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
            let sql = format!(
                "SELECT task_id, body FROM document_analysis WHERE task_id IN ({})",
                placeholders.join(", ")
            );
            let mut query = sqlx::query(AssertSqlSafe(sql));
            for id in chunk {
                query = query.bind(id);
            }
            for row in query.fetch_all(&self.pool).await? {
                let id: String = row.try_get(0)?;
                let body: String = row.try_get(1)?;
                out.push((id, self.open_text(&body).await?));
            }
        }
        Ok(out)
    }

    /// Earlier documents of `tenant` (not `id`) that may duplicate one with
    /// these bytes, text hash and band keys.
    pub async fn duplicate_candidates(
        &self,
        tenant: &str,
        id: &str,
        sha256: &str,
        fingerprint: Option<&StoredFingerprint>,
    ) -> Result<DuplicateCandidates, StoreError> {
        let same_bytes: Option<String> = sqlx::query_scalar(
            "SELECT t.id FROM tasks t JOIN jobs j ON j.id = t.job_id
              WHERE t.sha256 = $1 AND j.tenant_id = $2 AND t.id <> $3 AND t.state = 'done'
              ORDER BY t.created_at, t.id LIMIT 1",
        )
        .bind(sha256)
        .bind(tenant)
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        let Some(fingerprint) = fingerprint else {
            return Ok(DuplicateCandidates {
                same_bytes,
                ..DuplicateCandidates::default()
            });
        };
        let same_text: Option<String> = sqlx::query_scalar(
            "SELECT f.task_id FROM document_fingerprints f JOIN tasks t ON t.id = f.task_id
              WHERE f.tenant_id = $1 AND f.text_sha256 = $2 AND f.task_id <> $3
              ORDER BY t.created_at, t.id LIMIT 1",
        )
        .bind(tenant)
        .bind(&fingerprint.text_sha256)
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        let near = self
            .band_neighbours(tenant, id, &fingerprint.band_keys)
            .await?;
        Ok(DuplicateCandidates {
            same_bytes,
            same_text,
            near,
        })
    }

    /// Documents of `tenant` other than `id` sharing a band key, with
    /// their signatures.
    async fn band_neighbours(
        &self,
        tenant: &str,
        id: &str,
        band_keys: &[i64],
    ) -> Result<Vec<(String, String)>, StoreError> {
        if band_keys.is_empty() {
            return Ok(Vec::new());
        }
        let placeholders: Vec<String> = (0..band_keys.len())
            .map(|i| format!("${}", i + 3))
            .collect();
        let sql = format!(
            "SELECT f.task_id, f.minhash FROM document_fingerprints f
              WHERE f.task_id IN (SELECT DISTINCT b.task_id FROM document_bands b
                                   WHERE b.tenant_id = $1 AND b.task_id <> $2
                                     AND b.band_key IN ({}))
              LIMIT {MAX_CANDIDATES}",
            placeholders.join(", ")
        );
        let mut query = sqlx::query(AssertSqlSafe(sql)).bind(tenant).bind(id);
        for key in band_keys {
            query = query.bind(key);
        }
        let rows = query.fetch_all(&self.pool).await?;
        rows.iter()
            .map(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
            .collect()
    }

    /// Near-duplicate candidates of `tenant`'s document `id`: `None` when
    /// the document is unknown or foreign; else its signature (if it has
    /// text) and its neighbours'.
    pub async fn similar_candidates(
        &self,
        tenant: &str,
        id: &str,
    ) -> Result<Option<(Option<String>, Vec<(String, String)>)>, StoreError> {
        let exists: Option<String> = sqlx::query_scalar(
            "SELECT t.id FROM tasks t JOIN jobs j ON j.id = t.job_id WHERE t.id = $1 AND j.tenant_id = $2",
        )
        .bind(id)
        .bind(tenant)
        .fetch_optional(&self.pool)
        .await?;
        if exists.is_none() {
            return Ok(None);
        }
        let minhash: Option<String> =
            sqlx::query_scalar("SELECT minhash FROM document_fingerprints WHERE task_id = $1")
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
        let band_keys: Vec<i64> =
            sqlx::query_scalar("SELECT band_key FROM document_bands WHERE task_id = $1")
                .bind(id)
                .fetch_all(&self.pool)
                .await?;
        let neighbours = self.band_neighbours(tenant, id, &band_keys).await?;
        Ok(Some((minhash, neighbours)))
    }

    /// For each of `ids` that is `tenant`'s: its bytes' SHA-256, text hash
    /// and signature (the last two absent without text).
    pub async fn fingerprints(
        &self,
        tenant: &str,
        ids: &[String],
    ) -> Result<Vec<(String, String, Option<String>, Option<String>)>, StoreError> {
        let mut out = Vec::new();
        for id in ids {
            let row: Option<(String, Option<String>, Option<String>)> = sqlx::query_as(
                "SELECT t.sha256, f.text_sha256, f.minhash
                   FROM tasks t JOIN jobs j ON j.id = t.job_id
                   LEFT JOIN document_fingerprints f ON f.task_id = t.id
                  WHERE t.id = $1 AND j.tenant_id = $2",
            )
            .bind(id)
            .bind(tenant)
            .fetch_optional(&self.pool)
            .await?;
            if let Some((sha256, text_sha256, minhash)) = row {
                out.push((id.clone(), sha256, text_sha256, minhash));
            }
        }
        Ok(out)
    }
}
