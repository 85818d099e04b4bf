-- Uploads that arrive in pieces: resumable (tus) uploads whose chunks are
-- stored as they come, and presigned uploads that a client puts straight
-- into the bucket. Each becomes a job's one task when complete.
CREATE TABLE uploads (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL,
    actor       TEXT NOT NULL,
    -- `chunked` (parts below) or `presigned` (one object, `incoming/<id>`).
    kind        TEXT NOT NULL,
    filename    TEXT NOT NULL,
    -- Declared size in bytes; never exceeded.
    length      BIGINT NOT NULL,
    -- Bytes stored so far (the tus `Upload-Offset`).
    received    BIGINT NOT NULL,
    -- `receiving`, then `complete` with the job that classifies the file.
    state       TEXT NOT NULL,
    job_id      TEXT,
    request_id  TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL
);
CREATE INDEX uploads_by_expiry ON uploads (state, expires_at);

-- The stored pieces of a chunked upload, in offset order; each is a blob.
CREATE TABLE upload_parts (
    upload_id   TEXT NOT NULL REFERENCES uploads (id) ON DELETE CASCADE,
    first_byte  BIGINT NOT NULL,
    sha256      TEXT NOT NULL,
    size_bytes  BIGINT NOT NULL,
    PRIMARY KEY (upload_id, first_byte)
);
CREATE INDEX upload_parts_by_blob ON upload_parts (sha256);
