-- Document understanding (fields, entities, tables, segments, packet
-- documents) and the fingerprints that find duplicates.

-- What was read inside a document: JSON, sealed like the text when
-- encryption at rest is on (it holds the same personal data). Purged with
-- the text.
CREATE TABLE document_analysis (
    task_id TEXT PRIMARY KEY REFERENCES tasks (id) ON DELETE CASCADE,
    body    TEXT NOT NULL
);

-- Hashes of a document's normalised text and its MinHash signature (64
-- values, hex): one-way digests kept until the document is erased.
CREATE TABLE document_fingerprints (
    task_id     TEXT PRIMARY KEY REFERENCES tasks (id) ON DELETE CASCADE,
    tenant_id   TEXT NOT NULL,
    text_sha256 TEXT NOT NULL,
    minhash     TEXT NOT NULL
);
CREATE INDEX fingerprints_by_text ON document_fingerprints (tenant_id, text_sha256);

-- Locality-sensitive band keys of the signatures: documents sharing a key
-- are near-duplicate candidates.
CREATE TABLE document_bands (
    task_id   TEXT NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    tenant_id TEXT NOT NULL,
    band_key  BIGINT NOT NULL
);
CREATE INDEX bands_by_key ON document_bands (tenant_id, band_key);
CREATE INDEX bands_by_task ON document_bands (task_id);
CREATE INDEX tasks_by_sha256 ON tasks (sha256);
