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
//! Keyed: with an audit key (`HERON_AUDIT_KEY`, a secret kept out of the
//! database) each hash is an HMAC-SHA256 under it (stored as `k1:<hex>`),
//! so someone with write access to the database but not the key cannot
//! recompute the chain after an edit. Anchored: `heron audit verify` prints
//! each chain's head as an `anchor` line, and the service logs the same
//! lines now and then ([`Store::audit_anchors`]); kept elsewhere (a log
//! store, a ticket), they let `heron audit verify --anchors FILE` catch a
//! rewrite even by someone holding the key. Entries written before a key
//! was set stay unkeyed and are checked as such; an unkeyed entry after a
//! keyed one is a downgrade and reported.

use ring::hmac;
use sha2::{Digest, Sha256};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::clock::now_ms;
use crate::{Store, StoreError};

/// Marks a hash keyed with the audit key.
const KEYED: &str = "k1:";

/// The secret that keys the audit chain's hashes (HMAC-SHA256).
pub struct AuditKey(hmac::Key);

impl std::fmt::Debug for AuditKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AuditKey(..)")
    }
}

impl AuditKey {
    /// At least 32 bytes of secret (`openssl rand -base64 32`).
    pub fn new(secret: &[u8]) -> Result<AuditKey, StoreError> {
        if secret.len() < 32 {
            return Err(StoreError::Encryption(format!(
                "the audit key must be at least 32 bytes, not {}",
                secret.len()
            )));
        }
        Ok(AuditKey(hmac::Key::new(hmac::HMAC_SHA256, secret)))
    }
}

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
    /// Sequence number of the head.
    pub head_seq: i64,
    pub head_hash: String,
    /// Entries hashed without a key (written before the audit key was set).
    pub unkeyed: i64,
}

/// The bytes an entry's hash covers: the previous hash and every field,
/// each length-prefixed so that no two different entries give the same.
fn hashed_material(prev_hash: &str, seq: i64, at_ms: i64, entry: &AuditEntry) -> Vec<u8> {
    let seq = seq.to_string();
    let at = at_ms.to_string();
    let mut material = Vec::new();
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
        material.extend_from_slice(&(field.len() as u64).to_be_bytes());
        material.extend_from_slice(field.as_bytes());
    }
    material
}

/// An entry's hash: HMAC-SHA256 under `key` (marked [`KEYED`]), or plain
/// SHA-256 without one.
fn entry_hash(
    key: Option<&AuditKey>,
    prev_hash: &str,
    seq: i64,
    at_ms: i64,
    entry: &AuditEntry,
) -> String {
    let material = hashed_material(prev_hash, seq, at_ms, entry);
    match key {
        Some(AuditKey(key)) => format!("{KEYED}{}", hex::encode(hmac::sign(key, &material))),
        None => hex::encode(Sha256::digest(&material)),
    }
}

impl Store {
    /// Key the audit chain from now on (see the module docs).
    pub fn with_audit_key(mut self, key: Option<std::sync::Arc<AuditKey>>) -> Store {
        self.audit_key = key;
        self
    }

    /// Append `entry` to its tenant's chain within `transaction`. The head
    /// row is updated first, which takes its lock (PostgreSQL) or the write
    /// lock (SQLite) before the previous hash is read, so concurrent
    /// appends queue instead of forking the chain.
    pub(crate) async fn append_audit(
        &self,
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
        let hash = entry_hash(self.audit_key.as_deref(), &prev_hash, seq, at, entry);
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
        &self,
        mut transaction: sqlx::Transaction<'_, sqlx::Any>,
        entry: &AuditEntry,
    ) -> Result<(), StoreError> {
        self.append_audit(&mut transaction, entry).await?;
        transaction.commit().await?;
        Ok(())
    }
}

impl Store {
    /// Append one entry in a transaction of its own (reads, denials: the
    /// actions that write nothing else).
    pub async fn audit(&self, entry: &AuditEntry) -> Result<(), StoreError> {
        self.commit_audited(self.pool.begin().await?, entry).await
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
        let walked = self.verify_chain(&tenant, problems).await?;
        if (walked.last_seq, walked.last_hash.as_str()) != (head_seq, head_hash.as_str()) {
            problems.push(format!(
                "tenant {tenant}: the chain ends at entry {} but its head records entry {head_seq} \
                 (entries were removed or the head was changed)",
                walked.last_seq
            ));
        }
        Ok(ChainSummary {
            tenant,
            entries: walked.entries,
            head_seq,
            head_hash,
            unkeyed: walked.unkeyed,
        })
    }

    /// With an audit key: append an `audit.key` entry, keyed, to every
    /// chain whose head is not (chains written before the key was set).
    /// From then on every chain ends in a keyed entry, whose hash covers
    /// everything before it, so rewriting any earlier entry — even every
    /// hash, without the key — is caught. Returns how many chains.
    pub async fn key_audit_chains(&self) -> Result<u64, StoreError> {
        if self.audit_key.is_none() {
            return Ok(0);
        }
        let heads: Vec<(String, String)> =
            sqlx::query_as("SELECT tenant_id, hash FROM audit_heads WHERE seq > 0")
                .fetch_all(&self.pool)
                .await?;
        let mut keyed = 0;
        for (tenant, hash) in heads {
            if hash.starts_with(KEYED) {
                continue;
            }
            let entry = AuditEntry::ok(
                &tenant,
                &Actor::system("audit"),
                "audit.key",
                "audit-chain".to_owned(),
            );
            self.audit(&entry).await?;
            keyed += 1;
        }
        Ok(keyed)
    }

    /// Each chain's head as an anchor to keep outside the database; the
    /// service logs them now and then.
    pub async fn audit_anchors(&self) -> Result<Vec<AuditAnchor>, StoreError> {
        let heads: Vec<(String, i64, String)> = sqlx::query_as(
            "SELECT tenant_id, seq, hash FROM audit_heads WHERE seq > 0 ORDER BY tenant_id",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(heads
            .into_iter()
            .map(|(tenant, seq, hash)| AuditAnchor { tenant, seq, hash })
            .collect())
    }

    /// Whether the entry an anchor names still has the anchored hash; a
    /// problem when it does not (the log was rewritten since) or is gone.
    pub async fn check_anchor(&self, anchor: &AuditAnchor) -> Result<Option<String>, StoreError> {
        let hash: Option<String> =
            sqlx::query_scalar("SELECT hash FROM audit_log WHERE tenant_id = $1 AND seq = $2")
                .bind(&anchor.tenant)
                .bind(anchor.seq)
                .fetch_optional(&self.pool)
                .await?;
        Ok(match hash {
            Some(hash) if hash == anchor.hash => None,
            Some(_) => Some(format!(
                "tenant {}: entry {} is not the one anchored (the log was rewritten since)",
                anchor.tenant, anchor.seq
            )),
            None => Some(format!(
                "tenant {}: entry {} was anchored but is gone",
                anchor.tenant, anchor.seq
            )),
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

    /// Walk one chain in pages.
    async fn verify_chain(
        &self,
        tenant: &str,
        problems: &mut Vec<String>,
    ) -> Result<WalkedChain, StoreError> {
        let mut expected_prev = GENESIS.to_owned();
        let mut expected_seq = 1;
        let mut walked = WalkedChain::default();
        let mut keyed_seen = false;
        let mut keyed_unchecked = 0;
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
                walked.entries += 1;
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
                let keyed = stored.hash.starts_with(KEYED);
                let key = match (keyed, self.audit_key.as_deref()) {
                    (true, Some(key)) => Some(key),
                    (true, None) => {
                        keyed_unchecked += 1;
                        None
                    }
                    (false, _) => None,
                };
                if !keyed {
                    walked.unkeyed += 1;
                    if keyed_seen {
                        problems.push(format!(
                            "tenant {tenant}: entry {} is unkeyed after keyed entries (rewritten without the key)",
                            stored.seq
                        ));
                    }
                }
                keyed_seen |= keyed;
                if keyed == key.is_some() {
                    let recomputed = entry_hash(
                        key,
                        &stored.prev_hash,
                        stored.seq,
                        stored.at_ms,
                        &stored.entry,
                    );
                    if recomputed != stored.hash {
                        problems.push(format!(
                            "tenant {tenant}: entry {} was altered (its hash does not match its contents)",
                            stored.seq
                        ));
                    }
                }
                expected_prev = stored.hash;
                expected_seq = stored.seq + 1;
            }
        }
        if self.audit_key.is_some() && walked.entries > 0 && !expected_prev.starts_with(KEYED) {
            problems.push(format!(
                "tenant {tenant}: the chain ends in an unkeyed entry although an audit key is set \
                 (rewritten without the key)"
            ));
        }
        if keyed_unchecked > 0 {
            problems.push(format!(
                "tenant {tenant}: {keyed_unchecked} entries are keyed and cannot be checked without the audit key (HERON_AUDIT_KEY)"
            ));
        }
        walked.last_seq = expected_seq - 1;
        walked.last_hash = expected_prev;
        Ok(walked)
    }
}

/// What walking one chain found.
#[derive(Debug, Default)]
struct WalkedChain {
    entries: i64,
    unkeyed: i64,
    last_seq: i64,
    last_hash: String,
}

/// A chain's head at some moment, kept outside the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditAnchor {
    pub tenant: String,
    pub seq: i64,
    pub hash: String,
}

impl AuditAnchor {
    /// The line `anchor <tenant> <seq> <hash>` that [`AuditAnchor::find`]
    /// reads back.
    pub fn line(&self) -> String {
        format!("anchor {} {} {}", self.tenant, self.seq, self.hash)
    }

    /// Every anchor line in `text`, also inside other text (a JSON log
    /// line whose message is one).
    pub fn find(text: &str) -> Vec<AuditAnchor> {
        text.lines()
            .filter_map(|line| {
                let (_, rest) = line.split_once("anchor ")?;
                let mut words = rest.split_whitespace();
                let tenant = words.next()?.to_owned();
                let seq = words.next()?.parse().ok()?;
                let hash: String = words
                    .next()?
                    .chars()
                    .take_while(|c| c.is_ascii_hexdigit() || *c == ':' || *c == 'k')
                    .collect();
                (hash.len() >= 64).then_some(AuditAnchor { tenant, seq, hash })
            })
            .collect()
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
