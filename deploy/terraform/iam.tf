# The pods' AWS identity (IRSA): the API and the workers may read and write
# objects under the blob prefix of the files bucket, use the deployment's
# key for them, and read the deployment's secrets. Nothing else.

data "aws_iam_policy_document" "pods_trust" {
  statement {
    actions = ["sts:AssumeRoleWithWebIdentity"]
    principals {
      type        = "Federated"
      identifiers = [module.eks.oidc_provider_arn]
    }
    condition {
      test     = "StringEquals"
      variable = "${module.eks.oidc_provider}:sub"
      values   = ["system:serviceaccount:${var.namespace}:${var.service_account}"]
    }
    condition {
      test     = "StringEquals"
      variable = "${module.eks.oidc_provider}:aud"
      values   = ["sts.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "pods" {
  name               = "${var.name}-pods"
  assume_role_policy = data.aws_iam_policy_document.pods_trust.json
}

data "aws_iam_policy_document" "pods" {
  statement {
    sid       = "ListTheBlobPrefix"
    actions   = ["s3:ListBucket"]
    resources = [aws_s3_bucket.files.arn]
    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = ["${local.blob_prefix}/*"]
    }
  }
  statement {
    sid = "BlobObjects"
    actions = [
      "s3:GetObject",
      "s3:PutObject",
      "s3:DeleteObject",
      "s3:AbortMultipartUpload",
      "s3:ListMultipartUploadParts",
    ]
    resources = ["${aws_s3_bucket.files.arn}/${local.blob_prefix}/*"]
  }
  statement {
    sid       = "TheDeploymentsKey"
    actions   = ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"]
    resources = [aws_kms_key.heron.arn]
  }
  statement {
    sid       = "TheDeploymentsSecrets"
    actions   = ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"]
    resources = [for secret in aws_secretsmanager_secret.heron : secret.arn]
  }
}

resource "aws_iam_role_policy" "pods" {
  name   = "heron"
  role   = aws_iam_role.pods.id
  policy = data.aws_iam_policy_document.pods.json
}
