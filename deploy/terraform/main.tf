# Heron on AWS: a VPC with private subnets, an EKS cluster for the
# manifests of deploy/k8s, RDS PostgreSQL for jobs, metadata and the queue,
# an S3 bucket for files, KMS, Secrets Manager and a least-privilege IAM
# role for the pods. See README.md in this folder.

provider "aws" {
  region = var.region
  default_tags {
    tags = var.tags
  }
}

data "aws_availability_zones" "available" {
  #checkov:skip=CKV_AWS_394:The first three zones are taken (slice below); a zone added later does not change them.
  state = "available"
}

data "aws_caller_identity" "current" {}

locals {
  azs             = slice(data.aws_availability_zones.available.names, 0, 3)
  public_subnets  = [for i in range(3) : cidrsubnet(var.vpc_cidr, 8, i)]
  private_subnets = [for i in range(3) : cidrsubnet(var.vpc_cidr, 4, i + 1)]
  # Where Heron keeps its blobs inside the bucket (HERON_BLOB_STORE).
  blob_prefix = "heron"
}

# Network: nodes, the database and everything else in private subnets; the
# public ones hold only the load balancer and the NAT gateways.
module "vpc" {
  #checkov:skip=CKV_TF_1:A registry module pinned to an exact version (registry releases are immutable).
  source  = "terraform-aws-modules/vpc/aws"
  version = "5.13.0"

  name                 = var.name
  cidr                 = var.vpc_cidr
  azs                  = local.azs
  public_subnets       = local.public_subnets
  private_subnets      = local.private_subnets
  enable_nat_gateway   = true
  one_nat_gateway_per_az = true
  enable_dns_hostnames = true

  enable_flow_log                      = true
  create_flow_log_cloudwatch_log_group = true
  create_flow_log_cloudwatch_iam_role  = true

  public_subnet_tags  = { "kubernetes.io/role/elb" = 1 }
  private_subnet_tags = { "kubernetes.io/role/internal-elb" = 1 }
}

# Gateway endpoint: blob traffic to S3 stays off the NAT gateways.
resource "aws_vpc_endpoint" "s3" {
  vpc_id            = module.vpc.vpc_id
  service_name      = "com.amazonaws.${var.region}.s3"
  vpc_endpoint_type = "Gateway"
  route_table_ids   = module.vpc.private_route_table_ids
}

module "eks" {
  #checkov:skip=CKV_TF_1:A registry module pinned to an exact version (registry releases are immutable).
  source  = "terraform-aws-modules/eks/aws"
  version = "20.24.3"

  cluster_name    = var.name
  cluster_version = var.kubernetes_version
  vpc_id          = module.vpc.vpc_id
  subnet_ids      = module.vpc.private_subnets

  # The API server is reachable for kubectl; nodes talk to it privately.
  cluster_endpoint_public_access  = true
  cluster_endpoint_private_access = true
  cluster_enabled_log_types       = ["api", "audit", "authenticator"]
  # IAM roles for service accounts: pods get AWS credentials without keys.
  enable_irsa                              = true
  enable_cluster_creator_admin_permissions = true

  eks_managed_node_groups = {
    heron = {
      instance_types = [var.node_instance_type]
      min_size       = var.node_count.min
      desired_size   = var.node_count.desired
      max_size       = var.node_count.max
      # IMDSv2 only, one hop: pods cannot borrow the node's role.
      metadata_options = {
        http_endpoint               = "enabled"
        http_tokens                 = "required"
        http_put_response_hop_limit = 1
      }
    }
  }
}

# Logs of every Heron process (JSON lines), shipped by Fluent Bit or the
# CloudWatch agent; encrypted with the deployment's key.
resource "aws_cloudwatch_log_group" "heron" {
  name              = "/heron/${var.name}"
  retention_in_days = 365
  kms_key_id        = aws_kms_key.heron.arn
}
