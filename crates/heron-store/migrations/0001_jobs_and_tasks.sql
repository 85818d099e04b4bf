-- Jobs (one per upload request) and their per-file tasks: the queue.
--
-- Written in the SQL that SQLite and PostgreSQL share, so both back-ends
-- run these very files: TEXT and BIGINT only (BIGINT is SQLite's INTEGER),
-- times in milliseconds since the Unix epoch, flags as 0/1.
--
-- A task's result lives on the task row, so a file can never have two
-- results.
CREATE TABLE jobs (
    id            TEXT PRIMARY KEY,
    status        TEXT NOT NULL
                  CHECK (status IN ('queued', 'processing', 'done', 'failed', 'cancelled')),
    total_files   BIGINT NOT NULL,
    request_id    TEXT NOT NULL,
    synchronous   BIGINT NOT NULL DEFAULT 0,
    error_message TEXT,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL,
    finished_at   BIGINT
);

CREATE INDEX jobs_by_status ON jobs (status, created_at);
CREATE INDEX jobs_by_time ON jobs (created_at, id);

-- state: pending → leased → done; a task whose transient failures used up
-- its attempts is 'dead' (the dead-letter queue: it has an error result and
-- an admin may retry it); 'cancelled' when its job was cancelled first.
CREATE TABLE tasks (
    id               TEXT PRIMARY KEY,
    job_id           TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    position         BIGINT NOT NULL,
    filename         TEXT NOT NULL,
    sha256           TEXT NOT NULL,
    size_bytes       BIGINT NOT NULL,
    state            TEXT NOT NULL
                     CHECK (state IN ('pending', 'leased', 'done', 'dead', 'cancelled')),
    attempts         BIGINT NOT NULL DEFAULT 0,
    lease_owner      TEXT,
    lease_expires_at BIGINT,
    available_at     BIGINT NOT NULL,
    result_json      TEXT,
    -- Names everything the result depends on besides the bytes (model,
    -- taxonomy, settings, file name): an identical later upload reuses it.
    result_key       TEXT,
    last_error       TEXT,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL,
    UNIQUE (job_id, position)
);

CREATE INDEX tasks_claimable ON tasks (created_at, position) WHERE state IN ('pending', 'leased');
CREATE INDEX tasks_by_job ON tasks (job_id, state);
CREATE INDEX tasks_reusable ON tasks (sha256, result_key) WHERE state = 'done';
CREATE INDEX tasks_dead ON tasks (updated_at) WHERE state = 'dead';

-- Idempotency-Key of POST /v1/files: the first request with a key records
-- the hash of its body; a repeat with the same hash gets the stored answer.
CREATE TABLE idempotency_keys (
    key           TEXT PRIMARY KEY,
    request_hash  TEXT NOT NULL,
    job_id        TEXT REFERENCES jobs (id) ON DELETE CASCADE,
    status_code   BIGINT,
    response_json TEXT,
    created_at    BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL
);

CREATE INDEX idempotency_expiry ON idempotency_keys (expires_at);
