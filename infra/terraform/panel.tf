# The seller's web panel: the SvelteKit static build (web/build) in a private bucket, served by
# CloudFront (cdn.tf). The panel calls `/api/v1` on its own origin (web/src/lib/api/client.ts), so the
# same distribution sends /api/* to API Gateway: one origin, no CORS for the API, HTTPS end to end.
#
# The deploy step uploads web/build to the `panel_bucket_name` output (index.html with
# `Cache-Control: no-cache`, _app/immutable/* with a year) and invalidates /index.html.

resource "aws_s3_bucket" "panel" {
  #checkov:skip=CKV_AWS_145:Public static files; SSE-S3, because CloudFront would need the stage key to read SSE-KMS objects.
  bucket = "${local.name_prefix}-panel"
}

resource "aws_s3_bucket_ownership_controls" "panel" {
  bucket = aws_s3_bucket.panel.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "panel" {
  bucket = aws_s3_bucket.panel.id

  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

# Versioned so a bad upload can be rolled back object by object, like the media bucket.
resource "aws_s3_bucket_versioning" "panel" {
  bucket = aws_s3_bucket.panel.id

  versioning_configuration {
    status = "Enabled"
  }
}

# SSE-S3, not the stage's KMS key: these files are public by design (every visitor downloads them),
# and CloudFront reading KMS-encrypted objects would need the key policy to trust CloudFront.
resource "aws_s3_bucket_server_side_encryption_configuration" "panel" {
  bucket = aws_s3_bucket.panel.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "panel" {
  bucket     = aws_s3_bucket.panel.id
  depends_on = [aws_s3_bucket_versioning.panel]

  rule {
    id     = "expire-old-builds"
    status = "Enabled"

    filter {}

    noncurrent_version_expiration {
      noncurrent_days = 30
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }
}

resource "aws_s3_bucket_logging" "panel" {
  bucket        = aws_s3_bucket.panel.id
  target_bucket = aws_s3_bucket.access_logs.id
  target_prefix = "s3/panel/"

  # S3 checks the target bucket lets the logging service write there (storage.tf).
  depends_on = [aws_s3_bucket_policy.access_logs]
}

# Only this distribution reads the bucket (Origin Access Control signs its requests); nothing is
# ever public. Without s3:ListBucket a missing key answers 403, which the SPA fallback below turns
# into index.html.
data "aws_iam_policy_document" "panel_bucket" {
  statement {
    sid       = "CloudFrontReads"
    actions   = ["s3:GetObject"]
    resources = ["${aws_s3_bucket.panel.arn}/*"]

    principals {
      type        = "Service"
      identifiers = ["cloudfront.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "AWS:SourceArn"
      values   = [local.panel_cdn.arn]
    }
  }

  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [aws_s3_bucket.panel.arn, "${aws_s3_bucket.panel.arn}/*"]

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

resource "aws_s3_bucket_policy" "panel" {
  bucket     = aws_s3_bucket.panel.id
  policy     = data.aws_iam_policy_document.panel_bucket.json
  depends_on = [aws_s3_bucket_public_access_block.panel]
}

resource "aws_cloudfront_origin_access_control" "panel" {
  name                              = "${local.name_prefix}-panel"
  description                       = "IntelliPost ${var.stage} panel bucket, read by CloudFront only"
  origin_access_control_origin_type = "s3"
  signing_behavior                  = "always"
  signing_protocol                  = "sigv4"
}
