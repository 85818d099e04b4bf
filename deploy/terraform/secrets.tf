# Every secret Heron reads, in Secrets Manager (encrypted with the
# deployment's key). In the cluster, the Secrets Store CSI driver (or
# External Secrets) mounts them as files in the pods — `defaultMode: 0400`
# — and Heron reads them through its `*_FILE` variables
# (docs/operations.md, "Secrets from files").

locals {
  database_url = format(
    "postgres://heron:%s@%s/heron?sslmode=require",
    random_password.db.result,
    aws_db_instance.heron.endpoint,
  )
  secrets = {
    # HERON_DATABASE_URL_FILE (the URL carries the password)
    "database-url" = local.database_url
    # HERON_MASTER_KEY_FILE: encryption at rest of files and texts
    "master-key" = random_bytes.master_key.base64
    # ALLOWED_API_KEYS_FILE: the default tenant's first key
    "api-keys" = random_password.api_key.result
    # HERON_ADMIN_API_KEYS_FILE: the first administrator's key; tenants'
    # keys are then made with `heron keys create` / POST /v1/admin/keys
    "admin-api-key" = random_password.admin_key.result
    # HERON_WEBHOOK_SECRET_FILE: signs webhook deliveries
    "webhook-secret" = random_password.webhook_secret.result
    # HERON_AUDIT_KEY_FILE: keys the audit chain, so that database access
    # alone cannot rewrite it
    "audit-key" = random_password.audit_key.result
  }
}

resource "random_bytes" "master_key" {
  length = 32
}

resource "random_password" "api_key" {
  length  = 48
  special = false
}

resource "random_password" "admin_key" {
  length  = 48
  special = false
}

resource "random_password" "webhook_secret" {
  length  = 48
  special = false
}

resource "random_password" "audit_key" {
  length  = 48
  special = false
}

resource "aws_secretsmanager_secret" "heron" {
  #checkov:skip=CKV2_AWS_57:Rotation is by runbook: the master key with `heron keys rotate-master` (re-wraps data keys), the database password with RDS's managed rotation if enabled; see docs/operations.md, Key rotation.
  for_each                = local.secrets
  name                    = "${var.name}/${each.key}"
  kms_key_id              = aws_kms_key.heron.arn
  recovery_window_in_days = 30
}

resource "aws_secretsmanager_secret_version" "heron" {
  for_each      = local.secrets
  secret_id     = aws_secretsmanager_secret.heron[each.key].id
  secret_string = each.value
}
