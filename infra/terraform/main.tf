# IntelliPost infrastructure that outlives a deploy: the media bucket, the tables, the KMS key, the
# dead-letter queues and the per-function IAM policies. The Lambda functions, API Gateway and the
# bucket notifications come from `make package` (chalice package --pkg-format terraform); see
# README.md for how the two are applied together.

terraform {
  required_version = ">= 1.5"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.0"
    }
  }
}

provider "aws" {
  region = var.region

  default_tags {
    tags = {
      Project   = "intellipost"
      Stage     = var.stage
      ManagedBy = "terraform"
    }
  }
}

variable "stage" {
  description = "Deployment stage; must match a stage in .chalice/config.json."
  type        = string

  validation {
    condition     = contains(["dev", "prod"], var.stage)
    error_message = "The stage must be \"dev\" or \"prod\" (\"local\" runs on the emulator, not on AWS)."
  }
}

variable "region" {
  description = "AWS region for every resource."
  type        = string
  default     = "us-east-1"
}

variable "panel_origin" {
  description = "Origin of the web panel allowed to POST uploads to the media bucket, e.g. https://panel.example.com (no path, no trailing slash)."
  type        = string

  validation {
    condition     = can(regex("^https?://[^/]+$", var.panel_origin))
    error_message = "The panel origin is a scheme and host (and optional port) only, e.g. https://panel.example.com."
  }
}

locals {
  # Bucket and table names must equal the stage's environment variables in .chalice/config.json
  # (tests/unit/test_terraform.py checks it).
  name_prefix = "intellipost-${var.stage}"
}
