//! Training runs claimed by workers, and the registry of trained models
//! (files in the blob store, one champion at a time, every promotion and
//! rollback recorded).
//!
//! A model is its tenant's: trained from that tenant's reviews, promoted
//! by its admins, classifying only its files (a tenant without a champion
//! gets the deployment's model). Every process watches
//! [`Store::champions`] and loads a file when a champion changes, so a
//! promotion reaches every API process and worker without a restart or a
//! shared folder.

use sqlx::{AssertSqlSafe, Row};

use crate::audit::{Actor, AuditEntry};
use crate::clock::now_ms;
use crate::learning::corrupt;
use crate::{Store, StoreError};

/// One training run.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TrainingRun {
    pub id: String,
    #[serde(skip)]
    pub tenant: String,
    /// `queued`, `running`, `done`, `failed`.
    pub state: String,
    pub requested_by: String,
    pub created_at_ms: i64,
    pub started_at_ms: Option<i64>,
    pub finished_at_ms: Option<i64>,
    pub champion_id: Option<String>,
    pub challenger_id: Option<String>,
    pub report: Option<serde_json::Value>,
    pub error: Option<String>,
}

/// A model in the registry.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ModelVersion {
    pub id: String,
    /// `challenger`, `champion` or `retired`.
    pub state: String,
    #[serde(skip)]
    pub sha256: String,
    pub size_bytes: u64,
    pub training_run: Option<String>,
    pub labels: Vec<String>,
    pub report: serde_json::Value,
    pub created_at_ms: i64,
    pub promoted_at_ms: Option<i64>,
    pub promoted_by: Option<String>,
}

/// A model to add to the registry (its file already in the blob store).
#[derive(Debug, Clone)]
pub struct NewModelVersion {
    pub id: String,
    pub tenant: String,
    pub sha256: String,
    pub size_bytes: u64,
    pub training_run: Option<String>,
    pub labels: Vec<String>,
    pub report: serde_json::Value,
}

/// A promotion or rollback.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ModelEvent {
    pub model_id: String,
    pub action: String,
    pub actor: String,
    pub created_at_ms: i64,
}

impl Store {
    /// Queue a training run for `tenant` (audited `model.train`). A run
    /// already queued or running is returned instead of a second one.
    pub async fn queue_training(
        &self,
        tenant: &str,
        actor: &Actor,
    ) -> Result<(TrainingRun, bool), StoreError> {
        let id = uuid::Uuid::new_v4().to_string();
        let mut transaction = self.pool.begin().await?;
        // One statement that writes first: a second request while a run
        // is pending inserts nothing.
        let inserted = sqlx::query(
            "INSERT INTO training_runs (id, tenant_id, state, requested_by, created_at)
             SELECT $1, $2, 'queued', $3, $4
              WHERE NOT EXISTS (SELECT 1 FROM training_runs
                                 WHERE tenant_id = $2 AND state IN ('queued', 'running'))",
        )
        .bind(&id)
        .bind(tenant)
        .bind(&actor.id)
        .bind(now_ms())
        .execute(&mut *transaction)
        .await?
        .rows_affected();
        if inserted == 0 {
            drop(transaction);
            let pending = self
                .training_runs(tenant, 20)
                .await?
                .into_iter()
                .find(|r| r.state == "queued" || r.state == "running");
            return pending
                .map(|run| (run, false))
                .ok_or_else(|| StoreError::Corrupt("a pending training run vanished".into()));
        }
        let entry = AuditEntry::ok(tenant, actor, "model.train", format!("training:{id}"));
        self.append_audit(&mut transaction, &entry).await?;
        transaction.commit().await?;
        let run = self
            .training_run(tenant, &id)
            .await?
            .ok_or_else(|| StoreError::Corrupt(format!("training run {id} vanished")))?;
        Ok((run, true))
    }

    /// Claim the oldest queued run (or `only` that one), or a running one
    /// whose worker's lease ran out (a run is tried at most three times).
    pub async fn claim_training(
        &self,
        owner: &str,
        lease: std::time::Duration,
        only: Option<&str>,
    ) -> Result<Option<TrainingRun>, StoreError> {
        let now = now_ms();
        let candidate: Option<String> = sqlx::query_scalar(
            "SELECT id FROM training_runs
              WHERE (state = 'queued' OR (state = 'running' AND lease_until < $1))
                AND attempts < 3 AND ($2 = '' OR id = $2)
              ORDER BY created_at LIMIT 1",
        )
        .bind(now)
        .bind(only.unwrap_or(""))
        .fetch_optional(&self.pool)
        .await?;
        let Some(id) = candidate else {
            self.fail_abandoned_training(now).await?;
            return Ok(None);
        };
        let claimed = sqlx::query(
            "UPDATE training_runs
                SET state = 'running', lease_owner = $1, lease_until = $2, started_at = $3,
                    attempts = attempts + 1
              WHERE id = $4 AND (state = 'queued' OR (state = 'running' AND lease_until < $3))",
        )
        .bind(owner)
        .bind(now + crate::clock::ms(lease))
        .bind(now)
        .bind(&id)
        .execute(&self.pool)
        .await?
        .rows_affected();
        if claimed == 0 {
            return Ok(None);
        }
        let row = sqlx::query(AssertSqlSafe(format!("{RUN_COLUMNS} WHERE id = $1")))
            .bind(&id)
            .fetch_one(&self.pool)
            .await?;
        run_from_row(&row).map(Some)
    }

    /// Runs whose workers died three times are failed, not retried.
    async fn fail_abandoned_training(&self, now: i64) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE training_runs SET state = 'failed', finished_at = $1,
                    error = 'the worker training it stopped three times'
              WHERE state = 'running' AND lease_until < $1 AND attempts >= 3",
        )
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Record a run's outcome; only its lease holder may.
    pub async fn finish_training(
        &self,
        id: &str,
        owner: &str,
        outcome: Result<(&str, Option<&str>, &serde_json::Value), &str>,
    ) -> Result<bool, StoreError> {
        let (state, challenger, champion, report, error) = match outcome {
            Ok((challenger, champion, report)) => (
                "done",
                Some(challenger.to_owned()),
                champion.map(str::to_owned),
                Some(report.to_string()),
                None,
            ),
            Err(error) => ("failed", None, None, None, Some(error.to_owned())),
        };
        let updated = sqlx::query(
            "UPDATE training_runs
                SET state = $1, challenger_id = $2, champion_id = $3, report_json = $4, error = $5,
                    finished_at = $6, lease_owner = NULL, lease_until = NULL
              WHERE id = $7 AND lease_owner = $8 AND state = 'running'",
        )
        .bind(state)
        .bind(challenger)
        .bind(champion)
        .bind(report)
        .bind(error)
        .bind(now_ms())
        .bind(id)
        .bind(owner)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(updated == 1)
    }

    /// One of `tenant`'s runs.
    pub async fn training_run(
        &self,
        tenant: &str,
        id: &str,
    ) -> Result<Option<TrainingRun>, StoreError> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "{RUN_COLUMNS} WHERE id = $1 AND tenant_id = $2"
        )))
        .bind(id)
        .bind(tenant)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(run_from_row).transpose()
    }

    /// `tenant`'s newest runs.
    pub async fn training_runs(
        &self,
        tenant: &str,
        limit: u32,
    ) -> Result<Vec<TrainingRun>, StoreError> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "{RUN_COLUMNS} WHERE tenant_id = $1 ORDER BY created_at DESC LIMIT $2"
        )))
        .bind(tenant)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(run_from_row).collect()
    }

    /// Add a trained model (as a challenger).
    pub async fn register_model(&self, model: &NewModelVersion) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO model_versions (id, tenant_id, state, sha256, size_bytes, training_run,
                                         labels_json, report_json, created_at)
             VALUES ($1, $2, 'challenger', $3, $4, $5, $6, $7, $8)
             ON CONFLICT (id) DO NOTHING",
        )
        .bind(&model.id)
        .bind(&model.tenant)
        .bind(&model.sha256)
        .bind(model.size_bytes as i64)
        .bind(&model.training_run)
        .bind(serde_json::to_string(&model.labels).map_err(corrupt)?)
        .bind(model.report.to_string())
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// `tenant`'s models, newest first.
    pub async fn model_versions(&self, tenant: &str) -> Result<Vec<ModelVersion>, StoreError> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "{MODEL_COLUMNS} WHERE tenant_id = $1 ORDER BY created_at DESC, id"
        )))
        .bind(tenant)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(model_from_row).collect()
    }

    /// One of `tenant`'s models.
    pub async fn model_version(
        &self,
        tenant: &str,
        id: &str,
    ) -> Result<Option<ModelVersion>, StoreError> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "{MODEL_COLUMNS} WHERE id = $1 AND tenant_id = $2"
        )))
        .bind(id)
        .bind(tenant)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(model_from_row).transpose()
    }

    /// `tenant`'s promoted model; `None` until one is promoted (or after
    /// rolling back past the first promotion).
    pub async fn champion(&self, tenant: &str) -> Result<Option<ModelVersion>, StoreError> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "{MODEL_COLUMNS} WHERE tenant_id = $1 AND state = 'champion'"
        )))
        .bind(tenant)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(model_from_row).transpose()
    }

    /// Every tenant's champion: (tenant, model).
    pub async fn champions(&self) -> Result<Vec<(String, ModelVersion)>, StoreError> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "{MODEL_COLUMNS} WHERE state = 'champion' ORDER BY tenant_id"
        )))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| Ok((row.try_get("tenant_id")?, model_from_row(row)?)))
            .collect()
    }

    /// Make `id` the champion (the previous one retired) in one
    /// transaction with its event and audit entry (`model.promote`).
    /// `false` for an unknown model.
    pub async fn promote_model(
        &self,
        tenant: &str,
        id: &str,
        actor: &Actor,
    ) -> Result<bool, StoreError> {
        self.change_champion(tenant, Some(id), "promote", actor)
            .await
    }

    /// Go back to the model that was champion before the current one
    /// (audited `model.rollback`); with no earlier promotion, no model of
    /// the registry is served any more and processes fall back to their
    /// configured model. Returns the champion now in force.
    pub async fn rollback_model(
        &self,
        tenant: &str,
        actor: &Actor,
    ) -> Result<Option<String>, StoreError> {
        let mut events = self.model_events(tenant).await?;
        events.reverse();
        let previous = previous_champion(&events);
        self.change_champion(tenant, previous.as_deref(), "rollback", actor)
            .await?;
        Ok(previous)
    }

    async fn change_champion(
        &self,
        tenant: &str,
        id: Option<&str>,
        action: &str,
        actor: &Actor,
    ) -> Result<bool, StoreError> {
        let now = now_ms();
        let mut transaction = self.pool.begin().await?;
        sqlx::query(
            "UPDATE model_versions SET state = 'retired' WHERE tenant_id = $1 AND state = 'champion'",
        )
        .bind(tenant)
        .execute(&mut *transaction)
        .await?;
        if let Some(id) = id {
            let promoted = sqlx::query(
                "UPDATE model_versions SET state = 'champion', promoted_at = $1, promoted_by = $2
                  WHERE id = $3 AND tenant_id = $4",
            )
            .bind(now)
            .bind(&actor.id)
            .bind(id)
            .bind(tenant)
            .execute(&mut *transaction)
            .await?
            .rows_affected();
            if promoted == 0 {
                // Unknown or another tenant's: nothing changes.
                return Ok(false);
            }
        }
        let model = id.unwrap_or("-");
        sqlx::query(
            "INSERT INTO model_events (id, tenant_id, seq, model_id, action, actor, created_at)
             VALUES ($1, $2,
                     (SELECT COALESCE(MAX(seq), 0) + 1 FROM model_events WHERE tenant_id = $2),
                     $3, $4, $5, $6)",
        )
        .bind(uuid::Uuid::new_v4().to_string())
        .bind(tenant)
        .bind(model)
        .bind(action)
        .bind(&actor.id)
        .bind(now)
        .execute(&mut *transaction)
        .await?;
        let entry = AuditEntry::ok(
            tenant,
            actor,
            &format!("model.{action}"),
            format!("model:{model}"),
        );
        self.append_audit(&mut transaction, &entry).await?;
        transaction.commit().await?;
        Ok(true)
    }

    /// `tenant`'s promotions and rollbacks, newest first.
    pub async fn model_events(&self, tenant: &str) -> Result<Vec<ModelEvent>, StoreError> {
        let rows = sqlx::query(
            "SELECT model_id, action, actor, created_at FROM model_events
              WHERE tenant_id = $1 ORDER BY seq DESC",
        )
        .bind(tenant)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(ModelEvent {
                    model_id: row.try_get("model_id")?,
                    action: row.try_get("action")?,
                    actor: row.try_get("actor")?,
                    created_at_ms: row.try_get("created_at")?,
                })
            })
            .collect()
    }
}

/// The champion before the current one: promotions push onto a stack,
/// rollbacks pop it, so rolling back twice goes back two promotions.
fn previous_champion(events_oldest_first: &[ModelEvent]) -> Option<String> {
    let mut stack: Vec<&str> = Vec::new();
    for event in events_oldest_first {
        match event.action.as_str() {
            "promote" => stack.push(&event.model_id),
            "rollback" => {
                stack.pop();
            }
            _ => {}
        }
    }
    stack.pop();
    stack.pop().map(str::to_owned)
}

const RUN_COLUMNS: &str = "SELECT id, tenant_id, state, requested_by, created_at, started_at,
        finished_at, champion_id, challenger_id, report_json, error FROM training_runs";

const MODEL_COLUMNS: &str =
    "SELECT id, tenant_id, state, sha256, size_bytes, training_run, labels_json,
        report_json, created_at, promoted_at, promoted_by FROM model_versions";

fn run_from_row(row: &sqlx::any::AnyRow) -> Result<TrainingRun, StoreError> {
    let report: Option<String> = row.try_get("report_json")?;
    Ok(TrainingRun {
        id: row.try_get("id")?,
        tenant: row.try_get("tenant_id")?,
        state: row.try_get("state")?,
        requested_by: row.try_get("requested_by")?,
        created_at_ms: row.try_get("created_at")?,
        started_at_ms: row.try_get("started_at")?,
        finished_at_ms: row.try_get("finished_at")?,
        champion_id: row.try_get("champion_id")?,
        challenger_id: row.try_get("challenger_id")?,
        report: report
            .map(|r| serde_json::from_str(&r))
            .transpose()
            .map_err(corrupt)?,
        error: row.try_get("error")?,
    })
}

fn model_from_row(row: &sqlx::any::AnyRow) -> Result<ModelVersion, StoreError> {
    let labels: String = row.try_get("labels_json")?;
    let report: String = row.try_get("report_json")?;
    Ok(ModelVersion {
        id: row.try_get("id")?,
        state: row.try_get("state")?,
        sha256: row.try_get("sha256")?,
        size_bytes: row.try_get::<i64, _>("size_bytes")?.max(0) as u64,
        training_run: row.try_get("training_run")?,
        labels: serde_json::from_str(&labels).map_err(corrupt)?,
        report: serde_json::from_str(&report).map_err(corrupt)?,
        created_at_ms: row.try_get("created_at")?,
        promoted_at_ms: row.try_get("promoted_at")?,
        promoted_by: row.try_get("promoted_by")?,
    })
}
