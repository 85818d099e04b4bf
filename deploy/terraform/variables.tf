variable "name" {
  description = "Prefix of every resource's name (one deployment: staging, production...)."
  type        = string
  default     = "heron"
}

variable "region" {
  description = "AWS region."
  type        = string
  default     = "eu-west-1"
}

variable "vpc_cidr" {
  description = "Address range of the VPC; split into three public and three private subnets."
  type        = string
  default     = "10.40.0.0/16"
}

variable "kubernetes_version" {
  description = "EKS control plane version."
  type        = string
  default     = "1.31"
}

variable "node_instance_type" {
  description = "Worker nodes. Heron's OCR is CPU-bound: compute-optimised instances (see docs/operations.md, Sizing)."
  type        = string
  default     = "c7i.xlarge"
}

variable "node_count" {
  description = "Nodes: desired, and the bounds the cluster autoscaler (or Karpenter) moves within."
  type = object({
    min     = number
    desired = number
    max     = number
  })
  default = { min = 2, desired = 2, max = 10 }
}

variable "db_instance_class" {
  description = "RDS PostgreSQL instance class."
  type        = string
  default     = "db.t4g.medium"
}

variable "db_allocated_gb" {
  description = "Initial database storage; it grows by itself up to ten times this."
  type        = number
  default     = 50
}

variable "db_multi_az" {
  description = "A standby in a second zone (production: true)."
  type        = bool
  default     = true
}

variable "backup_retention_days" {
  description = "RDS automated backups and point-in-time recovery window (the database's RPO is seconds within it)."
  type        = number
  default     = 14
}

variable "document_retention_days" {
  description = "Objects under the blob prefix older than this are expired by the bucket (0: never). Keep it at or above HERON_RETENTION_DAYS: Heron erases documents itself and audits it; this is the backstop."
  type        = number
  default     = 0
}

variable "noncurrent_version_days" {
  description = "How long overwritten or deleted objects stay recoverable (bucket versioning)."
  type        = number
  default     = 30
}

variable "namespace" {
  description = "Kubernetes namespace of the manifests in deploy/k8s."
  type        = string
  default     = "heron"
}

variable "service_account" {
  description = "Kubernetes service account the API and worker pods run as (bound to the IAM role below)."
  type        = string
  default     = "heron"
}

variable "otlp_endpoint" {
  description = "OTLP/HTTP endpoint for traces (an ADOT collector in the cluster, say); empty: traces off."
  type        = string
  default     = ""
}

variable "tags" {
  description = "Tags on every resource."
  type        = map(string)
  default     = { "app.kubernetes.io/part-of" = "heron" }
}
