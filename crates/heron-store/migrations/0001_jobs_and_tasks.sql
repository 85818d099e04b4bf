-- Jobs (one per upload request) and their per-file tasks. A task's result
-- lives on the task row, so a file can never have two results.
CREATE TABLE jobs (
    id            TEXT PRIMARY KEY,
    status        TEXT NOT NULL CHECK (status IN ('queued', 'processing', 'done', 'failed')),
    total_files   INTEGER NOT NULL,
    request_id    TEXT NOT NULL,
    synchronous   INTEGER NOT NULL DEFAULT 0,
    error_message TEXT,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    finished_at   INTEGER
);

CREATE TABLE tasks (
    id               TEXT PRIMARY KEY,
    job_id           TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    position         INTEGER NOT NULL,
    filename         TEXT NOT NULL,
    sha256           TEXT NOT NULL,
    size_bytes       INTEGER NOT NULL,
    state            TEXT NOT NULL CHECK (state IN ('pending', 'leased', 'done', 'dead')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    lease_owner      TEXT,
    lease_expires_at INTEGER,
    available_at     INTEGER NOT NULL,
    result_json      TEXT,
    last_error       TEXT,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    UNIQUE (job_id, position)
);

CREATE INDEX tasks_claimable ON tasks (state, available_at);
CREATE INDEX tasks_by_job ON tasks (job_id, state);
