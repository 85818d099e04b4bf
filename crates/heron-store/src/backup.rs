//! What a backup of the embedded store needs from the database: a
//! transactionally consistent copy of the SQLite file taken while the
//! service runs (`VACUUM INTO`, which reads one snapshot and writes a
//! compact copy), the blobs that copy refers to, and counts to check a
//! restore against. PostgreSQL deployments back up with the database's
//! own tools (see docs/operations.md).

use std::path::Path;

use crate::db::Backend;
use crate::{Store, StoreError};

/// How much a snapshot holds, to compare after a restore.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SnapshotCounts {
    pub jobs: i64,
    pub documents: i64,
    pub audit_entries: i64,
    pub models: i64,
    pub reviews: i64,
}

impl Store {
    /// Write a consistent copy of the embedded database to `target` (a
    /// file that must not exist). SQLite only.
    pub async fn snapshot_into(&self, target: &Path) -> Result<(), StoreError> {
        if self.backend() != Backend::Sqlite {
            return Err(StoreError::Corrupt(
                "snapshots are for the embedded SQLite database; back PostgreSQL up with its own tools"
                    .to_owned(),
            ));
        }
        let target = target
            .to_str()
            .ok_or_else(|| StoreError::Corrupt("the backup path is not UTF-8".to_owned()))?;
        sqlx::query("VACUUM INTO $1")
            .bind(target)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Every blob the database refers to (uploaded files not purged,
    /// registered models, pieces of unfinished uploads, so that a restored
    /// upload can resume): SHA-256 and size.
    pub async fn referenced_blobs(&self) -> Result<Vec<(String, u64)>, StoreError> {
        let rows: Vec<(String, i64)> = sqlx::query_as(
            "SELECT DISTINCT sha256, size_bytes FROM tasks WHERE file_purged_at IS NULL
             UNION SELECT DISTINCT sha256, size_bytes FROM model_versions
             UNION SELECT DISTINCT sha256, size_bytes FROM upload_parts
             ORDER BY 1",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(sha, size)| (sha, size.max(0) as u64))
            .collect())
    }

    /// What the database holds, counted.
    pub async fn snapshot_counts(&self) -> Result<SnapshotCounts, StoreError> {
        let count = |table: &'static str| async move {
            let sql = match table {
                "jobs" => "SELECT COUNT(*) FROM jobs",
                "tasks" => "SELECT COUNT(*) FROM tasks",
                "audit_log" => "SELECT COUNT(*) FROM audit_log",
                "model_versions" => "SELECT COUNT(*) FROM model_versions",
                _ => "SELECT COUNT(*) FROM reviews",
            };
            sqlx::query_scalar::<_, i64>(sql)
                .fetch_one(&self.pool)
                .await
        };
        Ok(SnapshotCounts {
            jobs: count("jobs").await?,
            documents: count("tasks").await?,
            audit_entries: count("audit_log").await?,
            models: count("model_versions").await?,
            reviews: count("reviews").await?,
        })
    }
}
