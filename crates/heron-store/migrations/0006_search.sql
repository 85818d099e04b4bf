-- Search: what a document is found by besides its words. The words
-- themselves are in `document_search`, created per engine at start-up
-- (an FTS5 table on SQLite, a tsvector with a GIN index on PostgreSQL;
-- see search.rs), because the two engines share no full-text DDL.

CREATE TABLE document_index (
    task_id      TEXT PRIMARY KEY REFERENCES tasks (id) ON DELETE CASCADE,
    tenant_id    TEXT NOT NULL,
    label        TEXT NOT NULL,
    filename     TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    -- The document's row in SQLite's FTS5 table (integer row ids only).
    search_rowid BIGINT NOT NULL UNIQUE
);
CREATE INDEX document_index_by_label ON document_index (tenant_id, label);
CREATE INDEX document_index_by_time ON document_index (tenant_id, created_at);

-- Typed field values for filters such as field.total>=100: a number in
-- hundredths (amounts are exact in cents), the ISO text of a date or
-- anything else.
CREATE TABLE document_field_values (
    task_id   TEXT NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    tenant_id TEXT NOT NULL,
    name      TEXT NOT NULL,
    hundredths BIGINT,
    value     TEXT NOT NULL
);
CREATE INDEX field_values_by_name ON document_field_values (tenant_id, name, hundredths);
CREATE INDEX field_values_by_task ON document_field_values (task_id);
