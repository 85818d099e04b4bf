//! The audit log: who did what to which resource, when, with what outcome.
//!
//! Append-only and hash-chained per tenant: each entry's hash covers its
//! own fields and the previous entry's hash, and `audit_heads` holds each
//! chain's last sequence number and hash. Editing an entry breaks its hash,
//! deleting one breaks the chain, removing the newest ones disagrees with
//! the head. [`Store::verify_audit`] checks all three (`heron audit
//! verify`). Entries are appended inside the transaction of the action
//! they record ([`append`]), so an action without its entry cannot be
//! committed.
//!
//! What the chain cannot stop: someone with write access to the database
//! recomputing every hash after an edit. Operators anchor the chain by
//! keeping the head hashes `heron audit verify` prints somewhere else.

use sha2::{Digest, Sha256};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::clock::now_ms;
use crate::{Store, StoreError};

/// The hash before a chain's first entry.
const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Who acts, and in which request: the part of an audit entry the caller
/// knows before the store does the work.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// `key:<id>`, `token:<issuer>#<subject>`, `env-key`, `system:<task>`.
    pub id: String,
    pub request_id: String,
}

impl Actor {
    /// Heron itself (retention, maintenance).
    pub fn system(task: &str) -> Actor {
        Actor {
            id: format!("system:{task}"),
            request_id: String::new(),
        }
    }
}

/// One entry to append.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    pub tenant: String,
    pub actor: String,
    /// `job.create`, `document.read`, `key.revoke`, `document.purge`…
    pub action: String,
    /// `job:<id>`, `document:<id>`, `key:<id>`…
    pub resource: String,
    /// `ok`, `denied`, `not_found`.
    pub outcome: String,
    pub request_id: String,
    /// Small JSON object: counts, scopes; never document content.
    pub detail: String,
}

impl AuditEntry {
    /// A successful action of `actor` on `resource` of `tenant`.
    pub fn ok(tenant: &str, actor: &Actor, action: &str, resource: String) -> AuditEntry {
        AuditEntry {
            tenant: tenant.to_owned(),
            actor: actor.id.clone(),
            action: action.to_owned(),
            resource,
            outcome: "ok".to_owned(),
            request_id: actor.request_id.clone(),
            detail: "{}".to_owned(),
        }
    }

    pub fn with_detail(mut self, detail: serde_json::Value) -> AuditEntry {
        self.detail = detail.to_string();
        self
    }

    pub fn with_outcome(mut self, outcome: &str) -> AuditEntry {
        self.outcome = outcome.to_owned();
        self
    }
}

/// An entry as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecord {
    pub seq: i64,
    pub at_ms: i64,
    pub entry: AuditEntry,
    pub prev_hash: String,
    pub hash: String,
}

/// Which entries to list.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub action: Option<String>,
    pub actor: Option<String>,
    pub resource: Option<String>,
    pub from_ms: Option<i64>,
    pub to_ms: Option<i64>,
    /// Entries older than this sequence number (the next page).
    pub before_seq: Option<i64>,
    pub limit: u32,
}

/// What verifying the chains found.
#[derive(Debug, Clone, Default)]
pub struct AuditVerification {
    /// Per tenant: entries checked and the head hash (to anchor elsewhere).
    pub chains: Vec<ChainSummary>,
    /// Empty when every chain is intact.
    pub problems: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct ChainSummary {
    pub tenant: String,
    pub entries: i64,
    pub head_hash: String,
}

/// Append `entry` to its tenant's chain within `transaction`. The head row
/// is updated first, which takes its lock (PostgreSQL) or the write lock
/// (SQLite) before the previous hash is read, so concurrent appends queue
/// instead of forking the chain.
pub(crate) async fn append(
    transaction: &mut sqlx::Transaction<'_, sqlx::Any>,
    entry: &AuditEntry,
) -> Result<i64, StoreError> {
    sqlx::query(
        "INSERT INTO audit_heads (tenant_id, seq, hash) VALUES ($1, 0, $2)
         ON CONFLICT (tenant_id) DO NOTHING",
    )
    .bind(&entry.tenant)
    .bind(GENESIS)
    .execute(&mut **transaction)
    .await?;
    let (seq, prev_hash): (i64, String) = sqlx::query_as(
        "UPDATE audit_heads SET seq = seq + 1 WHERE tenant_id = $1 RETURNING seq, hash",
    )
    .bind(&entry.tenant)
    .fetch_one(&mut **transaction)
    .await?;
    let at = now_ms();
    let hash = entry_hash(&prev_hash, seq, at, entry);
    sqlx::query(
        "INSERT INTO audit_log (tenant_id, seq, at, actor, action, resource, outcome, request_id,
                                detail, prev_hash, hash)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(&entry.tenant)
    .bind(seq)
    .bind(at)
    .bind(&entry.actor)
    .bind(&entry.action)
    .bind(&entry.resource)
    .bind(&entry.outcome)
    .bind(&entry.request_id)
    .bind(&entry.detail)
    .bind(&prev_hash)
    .bind(&hash)
    .execute(&mut **transaction)
    .await?;
    sqlx::query("UPDATE audit_heads SET hash = $1 WHERE tenant_id = $2")
        .bind(&hash)
        .bind(&entry.tenant)
        .execute(&mut **transaction)
        .await?;
    Ok(seq)
}

/// Append `entry` and commit: the last step of every audited action.
pub(crate) async fn commit_audited(
    mut transaction: sqlx::Transaction<'_, sqlx::Any>,
    entry: &AuditEntry,
) -> Result<(), StoreError> {
    append(&mut transaction, entry).await?;
    transaction.commit().await?;
    Ok(())
}

/// SHA-256 over the previous hash and every field, each length-prefixed so
/// that no two different entries hash the same bytes.
fn entry_hash(prev_hash: &str, seq: i64, at_ms: i64, entry: &AuditEntry) -> String {
    let mut hasher = Sha256::new();
    let seq = seq.to_string();
    let at = at_ms.to_string();
    for field in [
        prev_hash,
        &seq,
        &at,
        &entry.tenant,
        &entry.actor,
        &entry.action,
        &entry.resource,
        &entry.outcome,
        &entry.request_id,
        &entry.detail,
    ] {
        hasher.update((field.len() as u64).to_be_bytes());
        hasher.update(field.as_bytes());
    }
    hex::encode(hasher.finalize())
}

impl Store {
    /// Append one entry in a transaction of its own (reads, denials: the
    /// actions that write nothing else).
    pub async fn audit(&self, entry: &AuditEntry) -> Result<(), StoreError> {
        commit_audited(self.pool.begin().await?, entry).await
    }

    /// A tenant's entries, newest first.
    pub async fn audit_entries(
        &self,
        tenant: &str,
        filter: &AuditFilter,
    ) -> Result<Vec<AuditRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT * FROM audit_log
              WHERE tenant_id = $1
                AND ($2 IS NULL OR action = $2)
                AND ($3 IS NULL OR actor = $3)
                AND ($4 IS NULL OR resource = $4)
                AND ($5 IS NULL OR at >= $5)
                AND ($6 IS NULL OR at < $6)
                AND ($7 IS NULL OR seq < $7)
              ORDER BY seq DESC LIMIT $8",
        )
        .bind(tenant)
        .bind(filter.action.as_deref())
        .bind(filter.actor.as_deref())
        .bind(filter.resource.as_deref())
        .bind(filter.from_ms)
        .bind(filter.to_ms)
        .bind(filter.before_seq)
        .bind(i64::from(filter.limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(record).collect()
    }

    /// Check every tenant's chain: each hash recomputed, each link and
    /// sequence number contiguous from 1, and the last entry equal to the
    /// head.
    pub async fn verify_audit(&self) -> Result<AuditVerification, StoreError> {
        let heads: Vec<(String, i64, String)> =
            sqlx::query_as("SELECT tenant_id, seq, hash FROM audit_heads ORDER BY tenant_id")
                .fetch_all(&self.pool)
                .await?;
        let mut report = AuditVerification::default();
        for (tenant, head_seq, head_hash) in heads {
            let chain = self
                .verify_against_head(tenant, head_seq, head_hash, &mut report.problems)
                .await?;
            report.chains.push(chain);
        }
        let orphans: Vec<(String,)> = sqlx::query_as(
            "SELECT DISTINCT tenant_id FROM audit_log
              WHERE tenant_id NOT IN (SELECT tenant_id FROM audit_heads)",
        )
        .fetch_all(&self.pool)
        .await?;
        for (tenant,) in orphans {
            report
                .problems
                .push(format!("tenant {tenant}: entries without a chain head"));
        }
        Ok(report)
    }

    /// Check one tenant's chain (for its compliance report); `None` when
    /// it has no entries yet.
    pub async fn verify_tenant_audit(
        &self,
        tenant: &str,
    ) -> Result<Option<(ChainSummary, Vec<String>)>, StoreError> {
        let head: Option<(i64, String)> =
            sqlx::query_as("SELECT seq, hash FROM audit_heads WHERE tenant_id = $1")
                .bind(tenant)
                .fetch_optional(&self.pool)
                .await?;
        let Some((seq, hash)) = head else {
            return Ok(None);
        };
        let mut problems = Vec::new();
        let chain = self
            .verify_against_head(tenant.to_owned(), seq, hash, &mut problems)
            .await?;
        Ok(Some((chain, problems)))
    }

    async fn verify_against_head(
        &self,
        tenant: String,
        head_seq: i64,
        head_hash: String,
        problems: &mut Vec<String>,
    ) -> Result<ChainSummary, StoreError> {
        let (entries, last) = self.verify_chain(&tenant, problems).await?;
        if (last.0, last.1.as_str()) != (head_seq, head_hash.as_str()) {
            problems.push(format!(
                "tenant {tenant}: the chain ends at entry {} but its head records entry {head_seq} \
                 (entries were removed or the head was changed)",
                last.0
            ));
        }
        Ok(ChainSummary {
            tenant,
            entries,
            head_hash,
        })
    }

    /// Files uploaded in `[from, to)`, erased since or not (from the
    /// `job.create` entries).
    pub async fn audited_uploads(
        &self,
        tenant: &str,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<u64, StoreError> {
        let details: Vec<String> = sqlx::query_scalar(
            "SELECT detail FROM audit_log
              WHERE tenant_id = $1 AND action = 'job.create' AND at >= $2 AND at < $3",
        )
        .bind(tenant)
        .bind(from_ms)
        .bind(to_ms)
        .fetch_all(&self.pool)
        .await?;
        Ok(details
            .iter()
            .filter_map(|d| serde_json::from_str::<serde_json::Value>(d).ok())
            .filter_map(|d| d["files"].as_u64())
            .sum())
    }

    /// How many times each actor did each action in `[from, to)`.
    pub async fn audit_counts(
        &self,
        tenant: &str,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Vec<(String, String, i64)>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT actor, action, COUNT(*) FROM audit_log
              WHERE tenant_id = $1 AND at >= $2 AND at < $3
              GROUP BY actor, action ORDER BY actor, action",
        )
        .bind(tenant)
        .bind(from_ms)
        .bind(to_ms)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Walk one chain in pages; returns the count and the last (seq, hash).
    async fn verify_chain(
        &self,
        tenant: &str,
        problems: &mut Vec<String>,
    ) -> Result<(i64, (i64, String)), StoreError> {
        let mut expected_prev = GENESIS.to_owned();
        let mut expected_seq = 1;
        let mut count = 0;
        loop {
            let rows = sqlx::query(
                "SELECT * FROM audit_log WHERE tenant_id = $1 AND seq >= $2 ORDER BY seq LIMIT 1000",
            )
            .bind(tenant)
            .bind(expected_seq)
            .fetch_all(&self.pool)
            .await?;
            if rows.is_empty() {
                break;
            }
            for row in &rows {
                let stored = record(row)?;
                count += 1;
                if stored.seq != expected_seq {
                    problems.push(format!(
                        "tenant {tenant}: entries {expected_seq}–{} are missing",
                        stored.seq - 1
                    ));
                }
                if stored.prev_hash != expected_prev {
                    problems.push(format!(
                        "tenant {tenant}: entry {} does not follow the entry before it",
                        stored.seq
                    ));
                }
                let recomputed =
                    entry_hash(&stored.prev_hash, stored.seq, stored.at_ms, &stored.entry);
                if recomputed != stored.hash {
                    problems.push(format!(
                        "tenant {tenant}: entry {} was altered (its hash does not match its contents)",
                        stored.seq
                    ));
                }
                expected_prev = stored.hash;
                expected_seq = stored.seq + 1;
            }
        }
        Ok((count, (expected_seq - 1, expected_prev)))
    }
}

fn record(row: &AnyRow) -> Result<AuditRecord, StoreError> {
    Ok(AuditRecord {
        seq: row.try_get("seq")?,
        at_ms: row.try_get("at")?,
        entry: AuditEntry {
            tenant: row.try_get("tenant_id")?,
            actor: row.try_get("actor")?,
            action: row.try_get("action")?,
            resource: row.try_get("resource")?,
            outcome: row.try_get("outcome")?,
            request_id: row.try_get("request_id")?,
            detail: row.try_get("detail")?,
        },
        prev_hash: row.try_get("prev_hash")?,
        hash: row.try_get("hash")?,
    })
}
