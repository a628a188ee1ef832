# Least-privilege policies, one per Lambda function, written by hand.
#
# Today Chalice still generates (autogen_policy) each function's role policy. A later deploy issue
# sets `"autogen_policy": false` in .chalice/config.json and attaches these policies to the roles
# `chalice package` emits instead (outputs `api_handler_policy_arn` and `ingest_policy_arn`).
# CloudWatch Logs permissions stay with the role Chalice generates.

locals {
  product_table_arns = [
    aws_dynamodb_table.products.arn,
    aws_dynamodb_table.images.arn,
    aws_dynamodb_table.product_events.arn,
    aws_dynamodb_table.listing_versions.arn,
  ]
  table_arns = [
    aws_dynamodb_table.products.arn,
    aws_dynamodb_table.images.arn,
    aws_dynamodb_table.product_events.arn,
    aws_dynamodb_table.listing_versions.arn,
    aws_dynamodb_table.users.arn,
    aws_dynamodb_table.user_emails.arn,
    aws_dynamodb_table.sessions.arn,
    aws_dynamodb_table.rate_limits.arn,
    aws_dynamodb_table.marketplace_accounts.arn,
    aws_dynamodb_table.pending_connections.arn,
    aws_dynamodb_table.marketplace_cache.arn,
  ]
  # Query on a global secondary index is authorised on the index ARN.
  table_index_arns = [for arn in local.table_arns : "${arn}/index/*"]
  app_prefixes     = ["uploads/", "processed/", "jobs/"]
}

# --- api_handler: every /api/v1 route ----------------------------------------------------------

data "aws_iam_policy_document" "api_handler" {
  statement {
    sid = "Tables"
    actions = [
      "dynamodb:GetItem",
      "dynamodb:PutItem",
      "dynamodb:UpdateItem",
      "dynamodb:DeleteItem",
      "dynamodb:Query",
      "dynamodb:BatchWriteItem",
      "dynamodb:ConditionCheckItem",
      # Registration's transaction (user + email claim) is authorised by PutItem per item.
      # /api/v1/health/detailed probes every table.
      "dynamodb:DescribeTable",
    ]
    resources = concat(local.table_arns, local.table_index_arns)
  }

  statement {
    sid       = "MediaObjects"
    actions   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
    resources = [for prefix in local.app_prefixes : "${aws_s3_bucket.media.arn}/${prefix}*"]
  }

  statement {
    sid       = "MediaListing"
    actions   = ["s3:ListBucket"]
    resources = [aws_s3_bucket.media.arn]

    # Listings are limited to the app's prefixes. IfExists: HeadBucket (the health probe) is
    # authorised by s3:ListBucket and carries no prefix.
    condition {
      test     = "StringLikeIfExists"
      variable = "s3:prefix"
      values   = [for prefix in local.app_prefixes : "${prefix}*"]
    }
  }

  statement {
    sid = "Secrets"
    # JWT_SECRET_PARAMETER in .chalice/config.json: a SecureString the stage owns.
    actions   = ["ssm:GetParameter"]
    resources = ["arn:aws:ssm:${var.region}:*:parameter/intellipost/${var.stage}/*"]
  }

  statement {
    sid = "Key"
    # GenerateDataKey also covers the presigned POST uploads, which S3 encrypts with this key on
    # behalf of the signer.
    actions   = ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"]
    resources = [aws_kms_key.main.arn]
  }
}

resource "aws_iam_policy" "api_handler" {
  name        = "${local.name_prefix}-api-handler"
  description = "IntelliPost ${var.stage} api_handler function: tables, media bucket, KMS key."
  policy      = data.aws_iam_policy_document.api_handler.json
}

# --- ingest: every object created under uploads/ ----------------------------------------------

data "aws_iam_policy_document" "ingest" {
  statement {
    sid = "Tables"
    actions = [
      "dynamodb:GetItem",
      "dynamodb:PutItem",
      "dynamodb:UpdateItem",
      "dynamodb:Query",
    ]
    resources = concat(local.product_table_arns, [for arn in local.product_table_arns : "${arn}/index/*"])
  }

  statement {
    sid = "ReadUploads"
    # s3:GetObject also authorises HeadObject. Without s3:ListBucket a missing key answers
    # 403, not 404: the code must treat both as "gone".
    actions   = ["s3:GetObject", "s3:DeleteObject"]
    resources = ["${aws_s3_bucket.media.arn}/uploads/*"]
  }

  statement {
    sid       = "WriteImageJobs"
    actions   = ["s3:PutObject"]
    resources = ["${aws_s3_bucket.media.arn}/jobs/images/*"]
  }

  statement {
    sid = "Key"
    actions = [
      "kms:Decrypt",
      "kms:GenerateDataKey",
    ]
    resources = [aws_kms_key.main.arn]
  }

  statement {
    sid = "DeadLetter"
    # Lambda sends failed asynchronous events to the on-failure destination with the function's
    # own role (queues.tf).
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.dead_letter["ingest"].arn]
  }
}

resource "aws_iam_policy" "ingest" {
  name        = "${local.name_prefix}-ingest"
  description = "IntelliPost ${var.stage} ingest function: uploads/ in, jobs/images/ out, tables, KMS key."
  policy      = data.aws_iam_policy_document.ingest.json
}

# --- images: every images job under jobs/images/ ----------------------------------------------

data "aws_iam_policy_document" "images" {
  statement {
    sid       = "Tables"
    actions   = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Query"]
    resources = concat(local.product_table_arns, [for arn in local.product_table_arns : "${arn}/index/*"])
  }

  statement {
    sid     = "ReadPhotosAndJobs"
    actions = ["s3:GetObject"]
    resources = [
      "${aws_s3_bucket.media.arn}/uploads/*",
      "${aws_s3_bucket.media.arn}/jobs/images/*",
    ]
  }

  statement {
    sid     = "WritePicturesAndContentJobs"
    actions = ["s3:PutObject"]
    resources = [
      "${aws_s3_bucket.media.arn}/processed/*",
      "${aws_s3_bucket.media.arn}/jobs/content/*",
    ]
  }

  statement {
    sid       = "Key"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [aws_kms_key.main.arn]
  }

  statement {
    sid       = "DeadLetter"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.dead_letter["images"].arn]
  }
}

resource "aws_iam_policy" "images" {
  name        = "${local.name_prefix}-images"
  description = "IntelliPost ${var.stage} images function: jobs/images/ in, processed/ and jobs/content/ out."
  policy      = data.aws_iam_policy_document.images.json
}

# --- content: every content job under jobs/content/ --------------------------------------------

data "aws_iam_policy_document" "content" {
  statement {
    sid       = "Tables"
    actions   = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Query"]
    resources = concat(local.table_arns, local.table_index_arns)
  }

  statement {
    sid     = "ReadPhotosPicturesAndJobs"
    actions = ["s3:GetObject"]
    resources = [
      "${aws_s3_bucket.media.arn}/uploads/*",
      "${aws_s3_bucket.media.arn}/processed/*",
      "${aws_s3_bucket.media.arn}/jobs/content/*",
    ]
  }

  statement {
    sid       = "WritePublishJobs"
    actions   = ["s3:PutObject"]
    resources = ["${aws_s3_bucket.media.arn}/jobs/publish/*"]
  }

  statement {
    sid       = "Secrets"
    actions   = ["ssm:GetParameter"]
    resources = ["arn:aws:ssm:${var.region}:*:parameter/intellipost/${var.stage}/*"]
  }

  statement {
    sid       = "Key"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [aws_kms_key.main.arn]
  }

  statement {
    sid       = "DeadLetter"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.dead_letter["content"].arn]
  }
}

resource "aws_iam_policy" "content" {
  name        = "${local.name_prefix}-content"
  description = "IntelliPost ${var.stage} content function: jobs/content/ in, listing versions and jobs/publish/ out."
  policy      = data.aws_iam_policy_document.content.json
}

# --- publish: every publish job under jobs/publish/ --------------------------------------------

data "aws_iam_policy_document" "publish" {
  statement {
    sid       = "Tables"
    actions   = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Query"]
    resources = concat(local.table_arns, local.table_index_arns)
  }

  statement {
    sid     = "ReadPicturesAndJobs"
    actions = ["s3:GetObject"]
    resources = [
      "${aws_s3_bucket.media.arn}/processed/*",
      "${aws_s3_bucket.media.arn}/jobs/publish/*",
    ]
  }

  statement {
    sid       = "Secrets"
    actions   = ["ssm:GetParameter"]
    resources = ["arn:aws:ssm:${var.region}:*:parameter/intellipost/${var.stage}/*"]
  }

  statement {
    sid       = "Key"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [aws_kms_key.main.arn]
  }

  statement {
    sid       = "DeadLetter"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.dead_letter["publish"].arn]
  }
}

resource "aws_iam_policy" "publish" {
  name        = "${local.name_prefix}-publish"
  description = "IntelliPost ${var.stage} publish function: jobs/publish/ in, MercadoLibre items out."
  policy      = data.aws_iam_policy_document.publish.json
}
