output "cluster_name" {
  description = "aws eks update-kubeconfig --name <this>"
  value       = module.eks.cluster_name
}

output "blob_store" {
  description = "HERON_BLOB_STORE"
  value       = "s3://${aws_s3_bucket.files.id}/${local.blob_prefix}"
}

output "database_endpoint" {
  description = "RDS endpoint (the full URL is in the database-url secret)."
  value       = aws_db_instance.heron.endpoint
}

output "pod_role_arn" {
  description = "Annotate the service account: eks.amazonaws.com/role-arn = <this>."
  value       = aws_iam_role.pods.arn
}

output "secret_arns" {
  description = "Secrets to mount as files at /run/secrets/heron (the keys of the Secret `heron` in deploy/k8s)."
  value       = { for name, secret in aws_secretsmanager_secret.heron : name => secret.arn }
}

output "log_group" {
  description = "CloudWatch log group for the processes' JSON logs."
  value       = aws_cloudwatch_log_group.heron.name
}

output "heron_config" {
  description = "Non-secret settings for the ConfigMap `heron` of deploy/k8s."
  value = {
    HERON_BLOB_STORE                  = "s3://${aws_s3_bucket.files.id}/${local.blob_prefix}"
    AWS_REGION                        = var.region
    HERON_DATABASE_URL_FILE           = "/run/secrets/heron/database-url"
    HERON_MASTER_KEY_FILE             = "/run/secrets/heron/master-key"
    ALLOWED_API_KEYS_FILE             = "/run/secrets/heron/api-keys"
    HERON_ADMIN_API_KEYS_FILE         = "/run/secrets/heron/admin-api-key"
    HERON_WEBHOOK_SECRET_FILE         = "/run/secrets/heron/webhook-secret"
    HERON_AUDIT_KEY_FILE              = "/run/secrets/heron/audit-key"
    OTEL_EXPORTER_OTLP_ENDPOINT       = var.otlp_endpoint
  }
}
