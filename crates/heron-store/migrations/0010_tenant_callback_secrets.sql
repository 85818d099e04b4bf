-- A tenant's own secret for signing its jobs' callbacks, once it has
-- asked for one (`POST /v1/admin/callback-secret`, shown once, replaced
-- by the next). Until then its callbacks are signed with a secret derived
-- from HERON_WEBHOOK_SECRET and its id: never one secret for two tenants.
CREATE TABLE tenant_callback_secrets (
    tenant_id   TEXT PRIMARY KEY,
    secret      TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
