# IntelliPost infrastructure that outlives a deploy: the media bucket, the tables, the KMS key, the
# dead-letter queues and the per-function IAM policies. The Lambda functions, API Gateway and the
# bucket notifications come from `make package` (chalice package --pkg-format terraform); see
# README.md for how the two are applied together.

# The deploy step applies these files in one directory with the chalice.tf.json that `make package`
# writes, as one root module. A module may declare required_providers only once, so the deploy
# drops chalice's `terraform` block (it pins AWS "< 5" and Terraform "< 1.4") and its unused
# `null_data_source`, and this block says what the stack is applied with: the AWS provider 5.x, the
# version `make test` applies the whole stack with (infra/deploy/emulator.py, against moto).
terraform {
  required_version = ">= 1.3"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.100, < 6"
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
  description = "Origin the seller opens the web panel at, when it is not the CloudFront distribution's own domain (e.g. https://panel.example.com pointed at it). Empty: the CloudFront domain."
  type        = string
  default     = ""

  validation {
    condition     = var.panel_origin == "" || can(regex("^https://[^/]+$", var.panel_origin))
    error_message = "The panel origin is https:// and a host (and optional port) only, e.g. https://panel.example.com."
  }
}

variable "panel_certificate_arn" {
  description = "ACM certificate (in us-east-1, as CloudFront requires) for panel_origin's host. Needed only with panel_origin."
  type        = string
  default     = ""
}

variable "alarm_email" {
  description = "Address subscribed to the alarm topic (AWS asks it to confirm). Empty: no subscription; subscribe a pager or chat hook to the `alarm_topic_arn` output instead."
  type        = string
  default     = ""
}

variable "ai_daily_budget_usd" {
  description = "The AiCostUsd metric summed over one day above this raises the AI cost alarm."
  type        = number
  default     = 20

  validation {
    condition     = var.ai_daily_budget_usd > 0
    error_message = "ai_daily_budget_usd must be a positive number of US dollars."
  }
}

locals {
  # Bucket and table names must equal the stage's environment variables in .chalice/config.json
  # (tests/unit/test_terraform.py checks it).
  name_prefix = "intellipost-${var.stage}"

  # Where the panel is served from: the seller's browser sends this as Origin to the API and the
  # media bucket.
  panel_origin = var.panel_origin != "" ? var.panel_origin : "https://${local.panel_cdn.domain_name}"
}

data "aws_caller_identity" "current" {}
