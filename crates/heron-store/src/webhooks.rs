//! Webhook endpoints, deliveries and their attempts.
//!
//! When a job reaches a final state, [`queue_deliveries`] (called in the
//! transaction that finishes it) queues one delivery for the job's
//! callback URL and one per active registered endpoint. Workers claim due
//! deliveries under a lease like tasks, and record every attempt.

use std::time::Duration;

use sqlx::Row;
use sqlx::any::AnyRow;

use crate::audit::{Actor, AuditEntry};
use crate::clock::{ms, now_ms};
use crate::crypto::{destroy_data_keys, sealed_key_id};
use crate::{Store, StoreError};

/// A registered endpoint (its secret is shown only when it is created).
#[derive(Debug, Clone)]
pub struct WebhookEndpoint {
    pub id: String,
    pub url: String,
    pub created_at_ms: i64,
}

/// A delivery handed to a worker.
#[derive(Debug, Clone)]
pub struct DueDelivery {
    pub id: String,
    pub job_id: String,
    pub url: String,
    pub event: String,
    /// Including this one.
    pub attempt: u32,
    /// The registered endpoint's secret; `None` for a job's own callback
    /// URL.
    pub endpoint_secret: Option<String>,
    /// The tenant's own callback secret, when it has set one (else its
    /// callbacks are signed with the one derived from the deployment's,
    /// `heron_core::webhook::derived_callback_secret`).
    pub tenant_secret: Option<String>,
    /// The job's tenant.
    pub tenant: String,
}

/// What one attempt came to.
#[derive(Debug, Clone)]
pub struct AttemptOutcome {
    pub status_code: Option<u16>,
    pub error: Option<String>,
    pub duration: Duration,
    /// `None`: delivered, or failed for good. `Some(delay)`: try again
    /// after it.
    pub retry_after: Option<Duration>,
    pub delivered: bool,
}

/// A delivery with its attempts, as the API shows it.
#[derive(Debug, Clone)]
pub struct DeliveryRecord {
    pub id: String,
    pub url: String,
    pub event: String,
    pub state: String,
    pub attempts: Vec<AttemptRecord>,
}

#[derive(Debug, Clone)]
pub struct AttemptRecord {
    pub attempt: u32,
    pub attempted_at_ms: i64,
    pub status_code: Option<u16>,
    pub error: Option<String>,
    pub duration_ms: i64,
}

impl Store {
    /// Register an endpoint that receives every finished job.
    /// Recorded as `webhook.add`.
    pub async fn add_webhook_endpoint(
        &self,
        tenant: &str,
        id: &str,
        url: &str,
        secret: &str,
        actor: &Actor,
    ) -> Result<WebhookEndpoint, StoreError> {
        let now = now_ms();
        let mut transaction = self.pool.begin().await?;
        let sealed = self.seal_text(&mut transaction, secret).await?;
        sqlx::query(
            "INSERT INTO webhook_endpoints (id, url, secret, active, created_at, tenant_id)
             VALUES ($1, $2, $3, 1, $4, $5)",
        )
        .bind(id)
        .bind(url)
        .bind(&sealed)
        .bind(now)
        .bind(tenant)
        .execute(&mut *transaction)
        .await?;
        self.commit_audited(
            transaction,
            &AuditEntry::ok(tenant, actor, "webhook.add", format!("webhook:{id}")),
        )
        .await?;
        Ok(WebhookEndpoint {
            id: id.to_owned(),
            url: url.to_owned(),
            created_at_ms: now,
        })
    }

    /// Give `tenant` a new secret for signing its jobs' callbacks, in
    /// place of the one it had (derived or its own). Recorded as
    /// `webhook.secret_rotate`; the secret itself is not.
    pub async fn set_callback_secret(
        &self,
        tenant: &str,
        secret: &str,
        actor: &Actor,
    ) -> Result<i64, StoreError> {
        let now = now_ms();
        let mut transaction = self.pool.begin().await?;
        // The replaced secret goes, and its data key with it. A write
        // first: SQLite takes its write lock before anything is read (a
        // read lock upgraded later can fail at once under concurrent
        // writers).
        let replaced: Option<String> = sqlx::query_scalar(
            "DELETE FROM tenant_callback_secrets WHERE tenant_id = $1 RETURNING secret",
        )
        .bind(tenant)
        .fetch_optional(&mut *transaction)
        .await?;
        destroy_data_keys(
            &mut transaction,
            replaced.as_deref().and_then(sealed_key_id),
        )
        .await?;
        let sealed = self.seal_text(&mut transaction, secret).await?;
        sqlx::query(
            "INSERT INTO tenant_callback_secrets (tenant_id, secret, created_at) VALUES ($1, $2, $3)",
        )
        .bind(tenant)
        .bind(&sealed)
        .bind(now)
        .execute(&mut *transaction)
        .await?;
        self.commit_audited(
            transaction,
            &AuditEntry::ok(
                tenant,
                actor,
                "webhook.secret_rotate",
                "callback-secret".to_owned(),
            ),
        )
        .await?;
        Ok(now)
    }

    /// With a master key: seal the webhook and callback secrets stored in
    /// the clear (before encryption was on, or before secrets were
    /// sealed). Returns how many. Run at start-up.
    pub async fn seal_stored_secrets(&self) -> Result<u64, StoreError> {
        if !self.encrypts() {
            return Ok(0);
        }
        let mut sealed = 0;
        for (table, key) in [
            ("webhook_endpoints", "id"),
            ("tenant_callback_secrets", "tenant_id"),
        ] {
            // Table and column names are the constants above.
            let rows: Vec<(String, String)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {key}, secret FROM {table}"
            )))
            .fetch_all(&self.pool)
            .await?;
            for (id, secret) in rows {
                if sealed_key_id(&secret).is_some() {
                    continue;
                }
                let mut transaction = self.pool.begin().await?;
                let body = self.seal_text(&mut transaction, &secret).await?;
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "UPDATE {table} SET secret = $1 WHERE {key} = $2 AND secret = $3"
                )))
                .bind(&body)
                .bind(&id)
                .bind(&secret)
                .execute(&mut *transaction)
                .await?;
                transaction.commit().await?;
                sealed += 1;
            }
        }
        Ok(sealed)
    }

    pub async fn webhook_endpoints(
        &self,
        tenant: &str,
    ) -> Result<Vec<WebhookEndpoint>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, url, created_at FROM webhook_endpoints
              WHERE active = 1 AND tenant_id = $1 ORDER BY created_at",
        )
        .bind(tenant)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(WebhookEndpoint {
                    id: row.try_get("id")?,
                    url: row.try_get("url")?,
                    created_at_ms: row.try_get("created_at")?,
                })
            })
            .collect()
    }

    /// Stop sending to an endpoint. False when there is no such endpoint.
    /// Recorded as `webhook.remove`.
    pub async fn remove_webhook_endpoint(
        &self,
        tenant: &str,
        id: &str,
        actor: &Actor,
    ) -> Result<bool, StoreError> {
        let mut transaction = self.pool.begin().await?;
        let done = sqlx::query(
            "UPDATE webhook_endpoints SET active = 0 WHERE id = $1 AND active = 1 AND tenant_id = $2",
        )
        .bind(id)
        .bind(tenant)
        .execute(&mut *transaction)
        .await?;
        if done.rows_affected() != 1 {
            return Ok(false);
        }
        self.commit_audited(
            transaction,
            &AuditEntry::ok(tenant, actor, "webhook.remove", format!("webhook:{id}")),
        )
        .await?;
        Ok(true)
    }

    /// Claim the delivery due soonest for `owner`.
    pub async fn claim_delivery(
        &self,
        owner: &str,
        lease: Duration,
    ) -> Result<Option<DueDelivery>, StoreError> {
        const DUE: &str = "state = 'pending'
             AND ((lease_owner IS NULL AND next_attempt_at <= $3) OR lease_expires_at <= $3)";
        let lock = self.backend().row_lock();
        let sql = format!(
            "UPDATE webhook_deliveries
                SET lease_owner = $1, lease_expires_at = $2, attempts = attempts + 1, updated_at = $3
              WHERE id = (SELECT id FROM webhook_deliveries WHERE {DUE}
                           ORDER BY next_attempt_at LIMIT 1 {lock})
                AND {DUE}
          RETURNING id, job_id, url, event, attempts,
                    (SELECT secret FROM webhook_endpoints
                      WHERE webhook_endpoints.id = webhook_deliveries.endpoint_id) AS endpoint_secret,
                    (SELECT tenant_id FROM jobs WHERE jobs.id = webhook_deliveries.job_id) AS tenant_id,
                    (SELECT c.secret FROM tenant_callback_secrets c JOIN jobs j ON j.tenant_id = c.tenant_id
                      WHERE j.id = webhook_deliveries.job_id) AS tenant_secret"
        );
        let now = now_ms();
        // Built from constants only.
        let Some(row) = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(owner)
            .bind(now + ms(lease))
            .bind(now)
            .fetch_optional(&self.pool)
            .await?
        else {
            return Ok(None);
        };
        Ok(Some(DueDelivery {
            id: row.try_get("id")?,
            job_id: row.try_get("job_id")?,
            url: row.try_get("url")?,
            event: row.try_get("event")?,
            attempt: row.try_get::<i64, _>("attempts")?.max(0) as u32,
            endpoint_secret: self.open_optional(row.try_get("endpoint_secret")?).await?,
            tenant_secret: self.open_optional(row.try_get("tenant_secret")?).await?,
            tenant: row.try_get("tenant_id")?,
        }))
    }

    /// Record an attempt and move the delivery on: delivered, due again
    /// after the outcome's delay, or failed for good.
    pub async fn record_delivery_attempt(
        &self,
        delivery: &DueDelivery,
        owner: &str,
        outcome: &AttemptOutcome,
    ) -> Result<(), StoreError> {
        let now = now_ms();
        let mut transaction = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO webhook_attempts (delivery_id, attempt, attempted_at, status_code, error, duration_ms)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&delivery.id)
        .bind(i64::from(delivery.attempt))
        .bind(now)
        .bind(outcome.status_code.map(i64::from))
        .bind(outcome.error.as_deref())
        .bind(ms(outcome.duration))
        .execute(&mut *transaction)
        .await?;
        let (state, next) = match (outcome.delivered, outcome.retry_after) {
            (true, _) => ("delivered", now),
            (false, Some(delay)) => ("pending", now + ms(delay)),
            (false, None) => ("failed", now),
        };
        sqlx::query(
            "UPDATE webhook_deliveries
                SET state = $1, next_attempt_at = $2, lease_owner = NULL, lease_expires_at = NULL, updated_at = $3
              WHERE id = $4 AND lease_owner = $5",
        )
        .bind(state)
        .bind(next)
        .bind(now)
        .bind(&delivery.id)
        .bind(owner)
        .execute(&mut *transaction)
        .await?;
        transaction.commit().await?;
        Ok(())
    }

    /// Put a claimed delivery back without attempting it (its target's
    /// circuit is open): due again after `delay`, the attempt not counted.
    pub async fn postpone_delivery(
        &self,
        delivery: &DueDelivery,
        owner: &str,
        delay: Duration,
    ) -> Result<(), StoreError> {
        let now = now_ms();
        sqlx::query(
            "UPDATE webhook_deliveries
                SET next_attempt_at = $1, attempts = attempts - 1, lease_owner = NULL,
                    lease_expires_at = NULL, updated_at = $2
              WHERE id = $3 AND lease_owner = $4 AND state = 'pending'",
        )
        .bind(now + ms(delay))
        .bind(now)
        .bind(&delivery.id)
        .bind(owner)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The deliveries of a job with every attempt, oldest first.
    pub async fn deliveries(&self, job_id: &str) -> Result<Vec<DeliveryRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, url, event, state FROM webhook_deliveries WHERE job_id = $1 ORDER BY created_at, id",
        )
        .bind(job_id)
        .fetch_all(&self.pool)
        .await?;
        let mut deliveries = Vec::with_capacity(rows.len());
        for row in rows {
            let id: String = row.try_get("id")?;
            let attempts = sqlx::query(
                "SELECT attempt, attempted_at, status_code, error, duration_ms FROM webhook_attempts
                  WHERE delivery_id = $1 ORDER BY attempt",
            )
            .bind(&id)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(attempt_record)
            .collect::<Result<Vec<_>, _>>()?;
            deliveries.push(DeliveryRecord {
                id,
                url: row.try_get("url")?,
                event: row.try_get("event")?,
                state: row.try_get("state")?,
                attempts,
            });
        }
        Ok(deliveries)
    }
}

fn attempt_record(row: &AnyRow) -> Result<AttemptRecord, StoreError> {
    Ok(AttemptRecord {
        attempt: row.try_get::<i64, _>("attempt")?.max(0) as u32,
        attempted_at_ms: row.try_get("attempted_at")?,
        status_code: row
            .try_get::<Option<i64>, _>("status_code")?
            .and_then(|c| u16::try_from(c).ok()),
        error: row.try_get("error")?,
        duration_ms: row.try_get("duration_ms")?,
    })
}

/// Queue the deliveries of a job that just reached a final state (`event`
/// is `job.completed` or `job.cancelled`), within the transaction that
/// finished it: a finished job is never without its notifications.
pub(crate) async fn queue_deliveries(
    transaction: &mut sqlx::Transaction<'_, sqlx::Any>,
    job_id: &str,
    event: &str,
    now: i64,
) -> Result<(), StoreError> {
    // The job's own callback URL…
    sqlx::query(
        "INSERT INTO webhook_deliveries (id, job_id, endpoint_id, url, event, state, attempts,
                                         next_attempt_at, created_at, updated_at)
         SELECT $1, id, NULL, callback_url, $2, 'pending', 0, $3, $3, $3
           FROM jobs WHERE id = $4 AND callback_url IS NOT NULL",
    )
    .bind(uuid::Uuid::new_v4().simple().to_string())
    .bind(event)
    .bind(now)
    .bind(job_id)
    .execute(&mut **transaction)
    .await?;
    // …and every endpoint its tenant registered.
    let endpoints: Vec<(String, String)> = sqlx::query_as(
        "SELECT id, url FROM webhook_endpoints
          WHERE active = 1 AND tenant_id = (SELECT tenant_id FROM jobs WHERE id = $1)",
    )
    .bind(job_id)
    .fetch_all(&mut **transaction)
    .await?;
    for (endpoint_id, url) in endpoints {
        sqlx::query(
            "INSERT INTO webhook_deliveries (id, job_id, endpoint_id, url, event, state, attempts,
                                             next_attempt_at, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, 'pending', 0, $6, $6, $6)",
        )
        .bind(uuid::Uuid::new_v4().simple().to_string())
        .bind(job_id)
        .bind(endpoint_id)
        .bind(url)
        .bind(event)
        .bind(now)
        .execute(&mut **transaction)
        .await?;
    }
    Ok(())
}
