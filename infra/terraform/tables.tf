# DynamoDB tables, one resource per PynamoDB model in chalicelib/store/models.py (keys, key types
# and indexes must match it: tests/unit/test_terraform.py checks). Only key attributes are declared;
# DynamoDB is schemaless for the rest.

resource "aws_dynamodb_table" "products" {
  name                        = "${local.name_prefix}-products"
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "user_id"
  range_key                   = "product_id"
  deletion_protection_enabled = var.stage == "prod"

  attribute {
    name = "user_id"
    type = "S"
  }

  attribute {
    name = "product_id"
    type = "S"
  }

  attribute {
    name = "status_sort"
    type = "S"
  }

  attribute {
    name = "working"
    type = "S"
  }

  attribute {
    name = "updated_at"
    type = "S"
  }

  # ProductsByStatus: a seller's products in one status ("{status}#{product_id}").
  global_secondary_index {
    name            = "by-status"
    hash_key        = "user_id"
    range_key       = "status_sort"
    projection_type = "ALL"
  }

  # ProductsInProgress: products in a working state by when they last changed (the watchdog's).
  global_secondary_index {
    name            = "in-progress"
    hash_key        = "working"
    range_key       = "updated_at"
    projection_type = "ALL"
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = aws_kms_key.main.arn
  }
}

resource "aws_dynamodb_table" "images" {
  name                        = "${local.name_prefix}-images"
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "product_id"
  range_key                   = "image_id"
  deletion_protection_enabled = var.stage == "prod"

  attribute {
    name = "product_id"
    type = "S"
  }

  attribute {
    name = "image_id"
    type = "S"
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = aws_kms_key.main.arn
  }
}

resource "aws_dynamodb_table" "product_events" {
  name                        = "${local.name_prefix}-product-events"
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "product_id"
  range_key                   = "at"
  deletion_protection_enabled = var.stage == "prod"

  attribute {
    name = "product_id"
    type = "S"
  }

  attribute {
    name = "at"
    type = "S"
  }

  # Rows carrying an `expires_at` epoch-seconds number are deleted by DynamoDB after that time.
  ttl {
    attribute_name = "expires_at"
    enabled        = true
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = aws_kms_key.main.arn
  }
}

# -- accounts -------------------------------------------------------------------------------------

resource "aws_dynamodb_table" "users" {
  name                        = "${local.name_prefix}-users"
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "user_id"
  deletion_protection_enabled = var.stage == "prod"

  attribute {
    name = "user_id"
    type = "S"
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = aws_kms_key.main.arn
  }
}

resource "aws_dynamodb_table" "user_emails" {
  name                        = "${local.name_prefix}-user-emails"
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "email"
  deletion_protection_enabled = var.stage == "prod"

  attribute {
    name = "email"
    type = "S"
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = aws_kms_key.main.arn
  }
}

resource "aws_dynamodb_table" "sessions" {
  name                        = "${local.name_prefix}-sessions"
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "session_id"
  deletion_protection_enabled = var.stage == "prod"

  attribute {
    name = "session_id"
    type = "S"
  }

  ttl {
    attribute_name = "expires_at"
    enabled        = true
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = aws_kms_key.main.arn
  }
}

resource "aws_dynamodb_table" "rate_limits" {
  name                        = "${local.name_prefix}-rate-limits"
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "subject"
  deletion_protection_enabled = var.stage == "prod"

  attribute {
    name = "subject"
    type = "S"
  }

  ttl {
    attribute_name = "expires_at"
    enabled        = true
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = aws_kms_key.main.arn
  }
}

# -- MercadoLibre ---------------------------------------------------------------------------------

resource "aws_dynamodb_table" "marketplace_accounts" {
  name                        = "${local.name_prefix}-marketplace-accounts"
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "user_id"
  deletion_protection_enabled = var.stage == "prod"

  attribute {
    name = "user_id"
    type = "S"
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = aws_kms_key.main.arn
  }
}

resource "aws_dynamodb_table" "pending_connections" {
  name                        = "${local.name_prefix}-pending-connections"
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "state"
  deletion_protection_enabled = var.stage == "prod"

  attribute {
    name = "state"
    type = "S"
  }

  ttl {
    attribute_name = "expires_at"
    enabled        = true
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = aws_kms_key.main.arn
  }
}

resource "aws_dynamodb_table" "marketplace_cache" {
  name                        = "${local.name_prefix}-marketplace-cache"
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "key"
  deletion_protection_enabled = var.stage == "prod"

  attribute {
    name = "key"
    type = "S"
  }

  ttl {
    attribute_name = "expires_at"
    enabled        = true
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = aws_kms_key.main.arn
  }
}

resource "aws_dynamodb_table" "listing_versions" {
  name                        = "${local.name_prefix}-listing-versions"
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "product_id"
  range_key                   = "version"
  deletion_protection_enabled = var.stage == "prod"

  attribute {
    name = "product_id"
    type = "S"
  }

  attribute {
    name = "version"
    type = "N"
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = aws_kms_key.main.arn
  }
}
