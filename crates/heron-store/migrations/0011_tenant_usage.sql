-- Bytes a tenant's daily upload quota counts that no stored document
-- carries any more, or ever carried: files sent to /v1/compare (read and
-- fingerprinted, never stored) and documents erased on the day they were
-- uploaded (erasing must not give the quota back). Rows older than the
-- quota's window are forgotten by the retention loop.
CREATE TABLE tenant_usage (
    tenant_id  TEXT NOT NULL,
    bytes      BIGINT NOT NULL,
    at         BIGINT NOT NULL
);
CREATE INDEX tenant_usage_by_tenant ON tenant_usage (tenant_id, at);
