//! The semantic stage's few-shot examples: one embedding per labelled
//! document, kept so that every process (and the next start) knows what
//! reviewers taught, without a training run.

use base64::Engine;

use crate::clock::now_ms;
use crate::{Store, StoreError};

/// One stored example.
#[derive(Debug, Clone, PartialEq)]
pub struct SemanticExample {
    pub tenant: String,
    pub task_id: String,
    pub label: String,
    pub vector: Vec<f32>,
}

fn encode(vector: &[f32]) -> String {
    let bytes: Vec<u8> = vector.iter().flat_map(|x| x.to_le_bytes()).collect();
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn decode(text: &str) -> Result<Vec<f32>, StoreError> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text)
        .map_err(|e| StoreError::Corrupt(format!("a semantic example's vector: {e}")))?;
    if bytes.len() % 4 != 0 {
        return Err(StoreError::Corrupt(
            "a semantic example's vector is not whole f32 values".to_owned(),
        ));
    }
    Ok(bytes
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect())
}

impl Store {
    /// Record `example` (made by the embedding model `model_id`), replacing
    /// an earlier one of the same document.
    pub async fn save_semantic_example(
        &self,
        example: &SemanticExample,
        model_id: &str,
    ) -> Result<(), StoreError> {
        let mut transaction = self.pool.begin().await?;
        sqlx::query("DELETE FROM semantic_examples WHERE task_id = $1 AND model_id = $2")
            .bind(&example.task_id)
            .bind(model_id)
            .execute(&mut *transaction)
            .await?;
        sqlx::query(
            "INSERT INTO semantic_examples (tenant_id, task_id, label, model_id, vector, created_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&example.tenant)
        .bind(&example.task_id)
        .bind(&example.label)
        .bind(model_id)
        .bind(encode(&example.vector))
        .bind(now_ms())
        .execute(&mut *transaction)
        .await?;
        transaction.commit().await?;
        Ok(())
    }

    /// Every example made by `model_id`, oldest first.
    pub async fn semantic_examples(
        &self,
        model_id: &str,
    ) -> Result<Vec<SemanticExample>, StoreError> {
        let rows: Vec<(String, String, String, String)> = sqlx::query_as(
            "SELECT tenant_id, task_id, label, vector FROM semantic_examples
              WHERE model_id = $1 ORDER BY created_at, task_id",
        )
        .bind(model_id)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|(tenant, task_id, label, vector)| {
                Ok(SemanticExample {
                    tenant,
                    task_id,
                    label,
                    vector: decode(&vector)?,
                })
            })
            .collect()
    }

    /// Every tenant's own types with a description: (tenant, id, name,
    /// description), for the semantic stage's zero-shot side.
    pub async fn described_types(
        &self,
    ) -> Result<Vec<(String, String, String, String)>, StoreError> {
        let rows: Vec<(String, String, String, String)> = sqlx::query_as(
            "SELECT tenant_id, id, name, description FROM document_types
              ORDER BY tenant_id, created_at, id",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows)
    }

    /// What changes when an example is added, replaced or erased, or a
    /// type defined: (count, newest time) of `model_id`'s examples and the
    /// defined types — cheap to poll.
    pub async fn semantic_examples_stamp(&self, model_id: &str) -> Result<(i64, i64), StoreError> {
        let row: (i64, Option<i64>, i64, Option<i64>) = sqlx::query_as(
            "SELECT (SELECT COUNT(*) FROM semantic_examples WHERE model_id = $1),
                    (SELECT MAX(created_at) FROM semantic_examples WHERE model_id = $1),
                    (SELECT COUNT(*) FROM document_types),
                    (SELECT MAX(created_at) FROM document_types)",
        )
        .bind(model_id)
        .fetch_one(&self.pool)
        .await?;
        Ok((row.0 + row.2, row.1.unwrap_or(0).max(row.3.unwrap_or(0))))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn vectors_round_trip_exactly() {
        let vector = vec![0.0, -1.5, 3.25e-7, f32::MAX];
        assert_eq!(super::decode(&super::encode(&vector)).unwrap(), vector);
        assert!(super::decode("AAA").is_err());
    }
}
