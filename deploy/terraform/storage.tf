# One key for everything of this deployment at rest: bucket, database,
# secrets, logs.
resource "aws_kms_key" "heron" {
  description             = "${var.name}: Heron data at rest"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy                  = data.aws_iam_policy_document.kms.json
}

resource "aws_kms_alias" "heron" {
  name          = "alias/${var.name}"
  target_key_id = aws_kms_key.heron.key_id
}

data "aws_iam_policy_document" "kms" {
  #checkov:skip=CKV_AWS_109:The account root statement is what makes the key manageable by IAM at all (AWS's default key policy).
  #checkov:skip=CKV_AWS_111:Same: the default key policy's root statement.
  #checkov:skip=CKV_AWS_356:A key policy's resource is always the key itself ("*").
  statement {
    sid       = "AccountAdministers"
    actions   = ["kms:*"]
    resources = ["*"]
    principals {
      type        = "AWS"
      identifiers = ["arn:aws:iam::${data.aws_caller_identity.current.account_id}:root"]
    }
  }
  statement {
    sid       = "CloudWatchLogs"
    actions   = ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"]
    resources = ["*"]
    principals {
      type        = "Service"
      identifiers = ["logs.${var.region}.amazonaws.com"]
    }
  }
}

# ---------------------------------------------------------------- files

resource "aws_s3_bucket" "files" {
  #checkov:skip=CKV_AWS_144:Cross-region replication is a disaster-recovery choice with its own cost; docs/operations.md says how to add it.
  #checkov:skip=CKV2_AWS_62:Heron does not consume bucket events.
  bucket_prefix = "${var.name}-files-"
}

resource "aws_s3_bucket_public_access_block" "files" {
  bucket                  = aws_s3_bucket.files.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "files" {
  bucket = aws_s3_bucket.files.id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_versioning" "files" {
  bucket = aws_s3_bucket.files.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "files" {
  bucket = aws_s3_bucket.files.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.heron.arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_logging" "files" {
  bucket        = aws_s3_bucket.files.id
  target_bucket = aws_s3_bucket.access_logs.id
  target_prefix = "files/"
}

# Temporary objects of interrupted uploads (`tmp/`), presigned uploads
# never completed (`incoming/`), and — when asked — a retention backstop.
resource "aws_s3_bucket_lifecycle_configuration" "files" {
  bucket = aws_s3_bucket.files.id

  rule {
    id     = "interrupted-uploads"
    status = "Enabled"
    filter {
      prefix = "${local.blob_prefix}/tmp/"
    }
    expiration {
      days = 1
    }
  }

  rule {
    id     = "presigned-uploads-never-completed"
    status = "Enabled"
    filter {
      prefix = "${local.blob_prefix}/incoming/"
    }
    expiration {
      days = 1
    }
  }

  rule {
    id     = "old-versions-and-multipart"
    status = "Enabled"
    filter {}
    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_version_days
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }

  dynamic "rule" {
    for_each = var.document_retention_days > 0 ? [1] : []
    content {
      id     = "retention-backstop"
      status = "Enabled"
      filter {
        prefix = "${local.blob_prefix}/"
      }
      expiration {
        days = var.document_retention_days
      }
    }
  }
}

# Only TLS, and only this deployment's key.
resource "aws_s3_bucket_policy" "files" {
  bucket = aws_s3_bucket.files.id
  policy = data.aws_iam_policy_document.files_bucket.json
}

data "aws_iam_policy_document" "files_bucket" {
  statement {
    sid     = "TlsOnly"
    effect  = "Deny"
    actions = ["s3:*"]
    resources = [aws_s3_bucket.files.arn, "${aws_s3_bucket.files.arn}/*"]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

# Access logs of the files bucket (who read which document, from S3's side).
resource "aws_s3_bucket" "access_logs" {
  #checkov:skip=CKV_AWS_144:Access logs are not replicated.
  #checkov:skip=CKV_AWS_18:The access-log bucket does not log itself.
  #checkov:skip=CKV2_AWS_62:No events.
  #checkov:skip=CKV_AWS_145:S3 server access logging delivers only to SSE-S3 buckets.
  bucket_prefix = "${var.name}-access-logs-"
}

resource "aws_s3_bucket_public_access_block" "access_logs" {
  bucket                  = aws_s3_bucket.access_logs.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "access_logs" {
  bucket = aws_s3_bucket.access_logs.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "access_logs" {
  bucket = aws_s3_bucket.access_logs.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "access_logs" {
  bucket = aws_s3_bucket.access_logs.id
  rule {
    id     = "expire"
    status = "Enabled"
    filter {}
    expiration {
      days = 400
    }
    noncurrent_version_expiration {
      noncurrent_days = 30
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }
}

# ------------------------------------------------------------- database

resource "random_password" "db" {
  length  = 40
  special = false
}

resource "aws_db_subnet_group" "heron" {
  name       = var.name
  subnet_ids = module.vpc.private_subnets
}

resource "aws_security_group" "db" {
  name        = "${var.name}-db"
  description = "PostgreSQL, from the cluster's nodes only"
  vpc_id      = module.vpc.vpc_id

  ingress {
    description     = "PostgreSQL from EKS nodes"
    from_port       = 5432
    to_port         = 5432
    protocol        = "tcp"
    security_groups = [module.eks.node_security_group_id]
  }
}

resource "aws_db_parameter_group" "heron" {
  name   = var.name
  family = "postgres16"
  # Only TLS connections (Heron's URL: ?sslmode=require).
  parameter {
    name  = "rds.force_ssl"
    value = "1"
  }
  parameter {
    name  = "log_min_duration_statement"
    value = "1000"
  }
  parameter {
    name  = "log_statement"
    value = "ddl"
  }
}

resource "aws_db_instance" "heron" {
  #checkov:skip=CKV_AWS_161:Heron authenticates with a password from Secrets Manager; IAM database tokens expire every 15 minutes and sqlx pools would need a refresher.
  #checkov:skip=CKV2_AWS_60:Copying tags to snapshots is on; the check also wants a feature Heron does not use.
  identifier                      = var.name
  engine                          = "postgres"
  engine_version                  = "16"
  instance_class                  = var.db_instance_class
  allocated_storage               = var.db_allocated_gb
  max_allocated_storage           = var.db_allocated_gb * 10
  storage_encrypted               = true
  kms_key_id                      = aws_kms_key.heron.arn
  db_name                         = "heron"
  username                        = "heron"
  password                        = random_password.db.result
  db_subnet_group_name            = aws_db_subnet_group.heron.name
  vpc_security_group_ids          = [aws_security_group.db.id]
  parameter_group_name            = aws_db_parameter_group.heron.name
  multi_az                        = var.db_multi_az
  publicly_accessible             = false
  backup_retention_period         = var.backup_retention_days
  copy_tags_to_snapshot           = true
  deletion_protection             = true
  skip_final_snapshot             = false
  final_snapshot_identifier       = "${var.name}-final"
  auto_minor_version_upgrade      = true
  performance_insights_enabled    = true
  performance_insights_kms_key_id = aws_kms_key.heron.arn
  monitoring_interval             = 60
  monitoring_role_arn             = aws_iam_role.rds_monitoring.arn
  enabled_cloudwatch_logs_exports = ["postgresql", "upgrade"]
}

resource "aws_iam_role" "rds_monitoring" {
  name               = "${var.name}-rds-monitoring"
  assume_role_policy = data.aws_iam_policy_document.rds_monitoring.json
}

data "aws_iam_policy_document" "rds_monitoring" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["monitoring.rds.amazonaws.com"]
    }
  }
}

resource "aws_iam_role_policy_attachment" "rds_monitoring" {
  role       = aws_iam_role.rds_monitoring.name
  policy_arn = "arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"
}
