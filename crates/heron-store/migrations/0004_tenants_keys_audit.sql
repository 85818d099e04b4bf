-- Tenants, API keys, the audit log and retention.
--
-- Every job (and through it every task, result and document) belongs to a
-- tenant; rows written before tenants existed belong to 'default'.
ALTER TABLE jobs ADD COLUMN tenant_id TEXT NOT NULL DEFAULT 'default';
CREATE INDEX jobs_by_tenant_time ON jobs (tenant_id, created_at, id);

ALTER TABLE webhook_endpoints ADD COLUMN tenant_id TEXT NOT NULL DEFAULT 'default';

-- Set when the tenant's file retention passed: the file is gone (or, when
-- another document has the same bytes, no longer this document's), the
-- result stays until the document's own retention.
ALTER TABLE tasks ADD COLUMN file_purged_at BIGINT;

-- API keys: only the SHA-256 of the secret part is stored. A key reads
-- `hk_<id>_<secret>`; the id finds the row, the secret's digest is then
-- compared in constant time.
CREATE TABLE api_keys (
    id            TEXT PRIMARY KEY,
    tenant_id     TEXT NOT NULL,
    name          TEXT NOT NULL,
    secret_sha256 TEXT NOT NULL,
    scopes        TEXT NOT NULL,
    created_by    TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    expires_at    BIGINT,
    revoked_at    BIGINT,
    last_used_at  BIGINT
);

CREATE INDEX api_keys_by_tenant ON api_keys (tenant_id, created_at);

-- The audit log: one hash chain per tenant. Each entry's hash covers its
-- fields and the previous entry's hash; the head row holds the last
-- sequence number and hash, so appending is "update the head, insert the
-- entry" inside the transaction of the action recorded, and removing the
-- newest entries is detected too.
CREATE TABLE audit_heads (
    tenant_id TEXT PRIMARY KEY,
    seq       BIGINT NOT NULL,
    hash      TEXT NOT NULL
);

CREATE TABLE audit_log (
    tenant_id  TEXT NOT NULL,
    seq        BIGINT NOT NULL,
    at         BIGINT NOT NULL,
    actor      TEXT NOT NULL,
    action     TEXT NOT NULL,
    resource   TEXT NOT NULL,
    outcome    TEXT NOT NULL,
    request_id TEXT NOT NULL,
    detail     TEXT NOT NULL,
    prev_hash  TEXT NOT NULL,
    hash       TEXT NOT NULL,
    PRIMARY KEY (tenant_id, seq)
);

CREATE INDEX audit_by_time ON audit_log (tenant_id, at);

-- Per-tenant settings; a tenant without a row uses the deployment's.
-- retention_days: whole documents; file_ and text_retention_days: the
-- uploaded file and the extracted text sooner. store_redacted_text: keep
-- only the redacted form of extracted text.
CREATE TABLE tenant_settings (
    tenant_id           TEXT PRIMARY KEY,
    retention_days      BIGINT,
    file_retention_days BIGINT,
    text_retention_days BIGINT,
    store_redacted_text BIGINT NOT NULL DEFAULT 0,
    updated_at          BIGINT NOT NULL
);

-- A document's extracted text (pages separated by form feeds), erased
-- with its task. `body` is the text, or with encryption at rest
-- `enc:v1:<data key id>:<base64 nonce + ciphertext>`.
CREATE TABLE document_texts (
    task_id  TEXT PRIMARY KEY REFERENCES tasks (id) ON DELETE CASCADE,
    body     TEXT NOT NULL,
    redacted BIGINT NOT NULL DEFAULT 0
);

-- Envelope encryption: each object's data key, wrapped (AES-256-GCM) by
-- the master key named by master_key_id. Rotating the master key re-wraps
-- these rows and touches no object.
CREATE TABLE data_keys (
    id            TEXT PRIMARY KEY,
    master_key_id TEXT NOT NULL,
    wrapped       TEXT NOT NULL,
    created_at    BIGINT NOT NULL
);

-- Blobs no task refers to any more (an erased or purged document's file),
-- queued in the transaction that removed their last task and deleted from
-- the blob store just after; the purge loop retries any left behind.
CREATE TABLE blob_deletions (
    sha256     TEXT PRIMARY KEY,
    queued_at  BIGINT NOT NULL
);
