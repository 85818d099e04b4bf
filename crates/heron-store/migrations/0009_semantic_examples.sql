-- Few-shot examples of the semantic stage: the embedding of a document a
-- reviewer labelled, one per document (its verdict in force), under the
-- embedding model that made it (`model_id`: vectors of different models
-- never mix). Erased with the document.
CREATE TABLE semantic_examples (
    tenant_id  TEXT NOT NULL,
    task_id    TEXT NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    label      TEXT NOT NULL,
    model_id   TEXT NOT NULL,
    -- Little-endian f32 values, base64.
    vector     TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (task_id, model_id)
);
CREATE INDEX semantic_examples_by_model ON semantic_examples (model_id, created_at);
