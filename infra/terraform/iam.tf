# Least-privilege roles, one per Lambda function, written by hand.
#
# Chalice manages no IAM for dev and prod: `.chalice/config.json` sets `"manage_iam_role": false`
# and names each function's role here as `${aws_iam_role.<function>.arn}` (chalice.tf.json is
# Terraform JSON, so the reference resolves when both are applied as one module). `make deploy`
# refuses a package whose functions use any other role (infra/deploy/terraform.py, `merge`).
# Each role carries its function's policy below: its own log group, the tables, bucket prefixes and
# key operations it uses, the SSM parameters under /intellipost/<stage>/ when it reads a secret,
# and the step failures queue when it is an S3-triggered function. Secrets are SecureString parameters
# encrypted with the stage key (alias/intellipost-<stage>), which each Key statement lets the
# function decrypt; the same statement covers the encrypted dead-letter queue.

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

  # Chalice's function names: the REST API handler is `<app>-<stage>`, the others
  # `<app>-<stage>-<function>` (tests/unit/test_terraform.py compares them with chalice.tf.json).
  function_names = {
    api_handler = local.name_prefix
    ingest      = "${local.name_prefix}-ingest"
    images      = "${local.name_prefix}-images"
    content     = "${local.name_prefix}-content"
    publish     = "${local.name_prefix}-publish"
    failures    = "${local.name_prefix}-failures"
    watchdog    = "${local.name_prefix}-watchdog"
  }
  # Each function writes only to its own log group (Lambda creates it on the first write).
  log_group_arns = {
    for function, name in local.function_names :
    function => "arn:aws:logs:${var.region}:${data.aws_caller_identity.current.account_id}:log-group:/aws/lambda/${name}:*"
  }
  # The secrets each function's code reads through config.secret(), as SSM parameter names
  # (SecureString) under this prefix; .chalice/config.json names them (*_PARAMETER).
  secret_parameters_arn = "arn:aws:ssm:${var.region}:${data.aws_caller_identity.current.account_id}:parameter/intellipost/${var.stage}/*"
}

# Only Lambda may assume the functions' roles. Only principals of this account with iam:PassRole
# can hand a role to a function, so AWS's standard execution-role trust needs no further condition.
data "aws_iam_policy_document" "lambda_trust" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

# --- api_handler: every /api/v1 route ----------------------------------------------------------

data "aws_iam_policy_document" "api_handler" {
  statement {
    sid       = "Logs"
    actions   = ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"]
    resources = [local.log_group_arns["api_handler"]]
  }

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
    # JWT_SECRET_PARAMETER and MERCADOLIBRE_CLIENT_SECRET_PARAMETER (the MercadoLibre callback).
    actions   = ["ssm:GetParameter"]
    resources = [local.secret_parameters_arn]
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

resource "aws_iam_role" "api_handler" {
  name               = "${local.name_prefix}-api-handler"
  description        = "IntelliPost ${var.stage} api_handler function (.chalice/config.json names it)."
  assume_role_policy = data.aws_iam_policy_document.lambda_trust.json
}

resource "aws_iam_role_policy_attachment" "api_handler" {
  role       = aws_iam_role.api_handler.name
  policy_arn = aws_iam_policy.api_handler.arn
}

# --- ingest: every object created under uploads/ ----------------------------------------------

data "aws_iam_policy_document" "ingest" {
  statement {
    sid       = "Logs"
    actions   = ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"]
    resources = [local.log_group_arns["ingest"]]
  }

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
    sid = "GivenUp"
    # Lambda sends given-up asynchronous events to the on-failure destination with the function's
    # own role (queues.tf).
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.step_failures.arn]
  }
}

resource "aws_iam_policy" "ingest" {
  name        = "${local.name_prefix}-ingest"
  description = "IntelliPost ${var.stage} ingest function: uploads/ in, jobs/images/ out, tables, KMS key."
  policy      = data.aws_iam_policy_document.ingest.json
}

resource "aws_iam_role" "ingest" {
  name               = "${local.name_prefix}-ingest"
  description        = "IntelliPost ${var.stage} ingest function (.chalice/config.json names it)."
  assume_role_policy = data.aws_iam_policy_document.lambda_trust.json
}

resource "aws_iam_role_policy_attachment" "ingest" {
  role       = aws_iam_role.ingest.name
  policy_arn = aws_iam_policy.ingest.arn
}

# --- images: every images job under jobs/images/ ----------------------------------------------

data "aws_iam_policy_document" "images" {
  statement {
    sid       = "Logs"
    actions   = ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"]
    resources = [local.log_group_arns["images"]]
  }

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
    sid = "Secrets"
    # PHOTOROOM_API_KEY_PARAMETER.
    actions   = ["ssm:GetParameter"]
    resources = [local.secret_parameters_arn]
  }

  statement {
    sid       = "Key"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [aws_kms_key.main.arn]
  }

  statement {
    sid       = "GivenUp"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.step_failures.arn]
  }
}

resource "aws_iam_policy" "images" {
  name        = "${local.name_prefix}-images"
  description = "IntelliPost ${var.stage} images function: jobs/images/ in, processed/ and jobs/content/ out."
  policy      = data.aws_iam_policy_document.images.json
}

resource "aws_iam_role" "images" {
  name               = "${local.name_prefix}-images"
  description        = "IntelliPost ${var.stage} images function (.chalice/config.json names it)."
  assume_role_policy = data.aws_iam_policy_document.lambda_trust.json
}

resource "aws_iam_role_policy_attachment" "images" {
  role       = aws_iam_role.images.name
  policy_arn = aws_iam_policy.images.arn
}

# --- content: every content job under jobs/content/ --------------------------------------------

data "aws_iam_policy_document" "content" {
  statement {
    sid       = "Logs"
    actions   = ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"]
    resources = [local.log_group_arns["content"]]
  }

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
    sid = "Secrets"
    # GEMINI_API_KEY_PARAMETER.
    actions   = ["ssm:GetParameter"]
    resources = [local.secret_parameters_arn]
  }

  statement {
    sid       = "Key"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [aws_kms_key.main.arn]
  }

  statement {
    sid       = "GivenUp"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.step_failures.arn]
  }
}

resource "aws_iam_policy" "content" {
  name        = "${local.name_prefix}-content"
  description = "IntelliPost ${var.stage} content function: jobs/content/ in, listing versions and jobs/publish/ out."
  policy      = data.aws_iam_policy_document.content.json
}

resource "aws_iam_role" "content" {
  name               = "${local.name_prefix}-content"
  description        = "IntelliPost ${var.stage} content function (.chalice/config.json names it)."
  assume_role_policy = data.aws_iam_policy_document.lambda_trust.json
}

resource "aws_iam_role_policy_attachment" "content" {
  role       = aws_iam_role.content.name
  policy_arn = aws_iam_policy.content.arn
}

# --- publish: every publish job under jobs/publish/ --------------------------------------------

data "aws_iam_policy_document" "publish" {
  statement {
    sid       = "Logs"
    actions   = ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"]
    resources = [local.log_group_arns["publish"]]
  }

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
    sid = "Secrets"
    # MERCADOLIBRE_CLIENT_SECRET_PARAMETER (refreshing a seller's MercadoLibre token).
    actions   = ["ssm:GetParameter"]
    resources = [local.secret_parameters_arn]
  }

  statement {
    sid       = "Key"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [aws_kms_key.main.arn]
  }

  statement {
    sid       = "GivenUp"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.step_failures.arn]
  }
}

resource "aws_iam_policy" "publish" {
  name        = "${local.name_prefix}-publish"
  description = "IntelliPost ${var.stage} publish function: jobs/publish/ in, MercadoLibre items out."
  policy      = data.aws_iam_policy_document.publish.json
}

resource "aws_iam_role" "publish" {
  name               = "${local.name_prefix}-publish"
  description        = "IntelliPost ${var.stage} publish function (.chalice/config.json names it)."
  assume_role_policy = data.aws_iam_policy_document.lambda_trust.json
}

resource "aws_iam_role_policy_attachment" "publish" {
  role       = aws_iam_role.publish.name
  policy_arn = aws_iam_policy.publish.arn
}

# --- failures: the steps' given-up events (queues.tf) -------------------------------------------

data "aws_iam_policy_document" "failures" {
  statement {
    sid       = "Logs"
    actions   = ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"]
    resources = [local.log_group_arns["failures"]]
  }

  statement {
    sid       = "GivenUpEvents"
    actions   = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"]
    resources = [aws_sqs_queue.step_failures.arn]
  }

  statement {
    sid = "Tables"
    # The failed product, its photos (one set aside when intake gave up), its timeline; the images
    # job when the remaining photos can go on.
    actions   = ["dynamodb:GetItem", "dynamodb:UpdateItem", "dynamodb:PutItem", "dynamodb:Query"]
    resources = concat(local.product_table_arns, [for arn in local.product_table_arns : "${arn}/index/*"])
  }

  statement {
    sid       = "Jobs"
    actions   = ["s3:GetObject", "s3:PutObject"]
    resources = ["${aws_s3_bucket.media.arn}/jobs/*"]
  }

  statement {
    sid       = "Key"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [aws_kms_key.main.arn]
  }
}

resource "aws_iam_policy" "failures" {
  name        = "${local.name_prefix}-failures"
  description = "IntelliPost ${var.stage} failures function: given-up events in, failed products out."
  policy      = data.aws_iam_policy_document.failures.json
}

resource "aws_iam_role" "failures" {
  name               = "${local.name_prefix}-failures"
  description        = "IntelliPost ${var.stage} failures function (.chalice/config.json names it)."
  assume_role_policy = data.aws_iam_policy_document.lambda_trust.json
}

resource "aws_iam_role_policy_attachment" "failures" {
  role       = aws_iam_role.failures.name
  policy_arn = aws_iam_policy.failures.arn
}

# --- watchdog: products idle past their step's deadline -----------------------------------------

data "aws_iam_policy_document" "watchdog" {
  statement {
    sid       = "Logs"
    actions   = ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"]
    resources = [local.log_group_arns["watchdog"]]
  }

  statement {
    sid = "Tables"
    # ProductsInProgress (an index of the products table), the photos never arrived, the timeline.
    actions   = ["dynamodb:GetItem", "dynamodb:UpdateItem", "dynamodb:PutItem", "dynamodb:Query"]
    resources = concat(local.product_table_arns, [for arn in local.product_table_arns : "${arn}/index/*"])
  }

  statement {
    sid       = "WriteImageJobs"
    actions   = ["s3:PutObject"]
    resources = ["${aws_s3_bucket.media.arn}/jobs/images/*"]
  }

  statement {
    sid       = "Key"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [aws_kms_key.main.arn]
  }
}

resource "aws_iam_policy" "watchdog" {
  name        = "${local.name_prefix}-watchdog"
  description = "IntelliPost ${var.stage} watchdog function: products idle past their step's deadline fail."
  policy      = data.aws_iam_policy_document.watchdog.json
}

resource "aws_iam_role" "watchdog" {
  name               = "${local.name_prefix}-watchdog"
  description        = "IntelliPost ${var.stage} watchdog function (.chalice/config.json names it)."
  assume_role_policy = data.aws_iam_policy_document.lambda_trust.json
}

resource "aws_iam_role_policy_attachment" "watchdog" {
  role       = aws_iam_role.watchdog.name
  policy_arn = aws_iam_policy.watchdog.arn
}
