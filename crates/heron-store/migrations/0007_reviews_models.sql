-- Review and learning: people's verdicts on documents, document types
-- defined by users, training runs, the registry of trained models and the
-- sign-in sessions of the web UI.

-- A reviewer's verdict on a document. The latest row of a task is its
-- verdict; older rows stay as history. `label` is the type the document
-- is (the predicted one for an accept, the reviewer's for a correction,
-- the proposed new type's id for `new_type`).
CREATE TABLE reviews (
    id              TEXT PRIMARY KEY,
    tenant_id       TEXT NOT NULL,
    task_id         TEXT NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    action          TEXT NOT NULL,
    predicted_label TEXT NOT NULL,
    confidence      BIGINT NOT NULL,
    label           TEXT NOT NULL,
    fields_json     TEXT,
    note            TEXT,
    reviewer        TEXT NOT NULL,
    created_at      BIGINT NOT NULL
);
CREATE INDEX reviews_by_task ON reviews (task_id, created_at);
CREATE INDEX reviews_by_tenant ON reviews (tenant_id, created_at);

-- Document types defined by users beside the taxonomy file's.
CREATE TABLE document_types (
    tenant_id   TEXT NOT NULL,
    id          TEXT NOT NULL,
    name        TEXT NOT NULL,
    parent      TEXT NOT NULL,
    description TEXT NOT NULL,
    created_by  TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);

-- A request to train a challenger; claimed by a worker under a lease.
CREATE TABLE training_runs (
    id            TEXT PRIMARY KEY,
    tenant_id     TEXT NOT NULL,
    state         TEXT NOT NULL,
    requested_by  TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    started_at    BIGINT,
    finished_at   BIGINT,
    lease_owner   TEXT,
    lease_until   BIGINT,
    attempts      BIGINT NOT NULL DEFAULT 0,
    champion_id   TEXT,
    challenger_id TEXT,
    report_json   TEXT,
    error         TEXT
);
CREATE INDEX training_runs_by_state ON training_runs (state, created_at);

-- Trained models, each a tenant's (trained from its reviews): the file is
-- in the blob store (content-addressed by `sha256`); `state` is
-- challenger, champion or retired. At most one champion per tenant:
-- promotion retires the previous one in the same transaction.
CREATE TABLE model_versions (
    id              TEXT PRIMARY KEY,
    tenant_id       TEXT NOT NULL,
    state           TEXT NOT NULL,
    sha256          TEXT NOT NULL,
    size_bytes      BIGINT NOT NULL,
    training_run    TEXT,
    labels_json     TEXT NOT NULL,
    report_json     TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    promoted_at     BIGINT,
    promoted_by     TEXT
);
CREATE INDEX model_versions_by_state ON model_versions (tenant_id, state);

-- Every promotion and rollback of a tenant's champion, in order.
CREATE TABLE model_events (
    id         TEXT PRIMARY KEY,
    tenant_id  TEXT NOT NULL,
    -- Order within the tenant (events of one millisecond stay in order).
    seq        BIGINT NOT NULL,
    model_id   TEXT NOT NULL,
    action     TEXT NOT NULL,
    actor      TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX model_events_in_order ON model_events (tenant_id, seq);

-- Web UI sessions: only the SHA-256 of the cookie's secret is kept.
CREATE TABLE ui_sessions (
    token_sha256 TEXT PRIMARY KEY,
    tenant_id    TEXT NOT NULL,
    actor        TEXT NOT NULL,
    scopes       TEXT NOT NULL,
    csrf         TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL
);
