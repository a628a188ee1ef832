# Names and ARNs only: nothing here is a secret.

output "media_bucket_name" {
  description = "MEDIA_BUCKET for this stage."
  value       = aws_s3_bucket.media.bucket
}

output "media_bucket_arn" {
  value = aws_s3_bucket.media.arn
}

output "table_names" {
  description = "Table names by model, equal to the stage's *_TABLE variables."
  value = {
    products         = aws_dynamodb_table.products.name
    images           = aws_dynamodb_table.images.name
    product_events   = aws_dynamodb_table.product_events.name
    listing_versions = aws_dynamodb_table.listing_versions.name
    users            = aws_dynamodb_table.users.name
    user_emails      = aws_dynamodb_table.user_emails.name
    sessions         = aws_dynamodb_table.sessions.name
    rate_limits      = aws_dynamodb_table.rate_limits.name

    marketplace_accounts = aws_dynamodb_table.marketplace_accounts.name
    pending_connections  = aws_dynamodb_table.pending_connections.name
    marketplace_cache    = aws_dynamodb_table.marketplace_cache.name
  }
}

output "table_arns" {
  value = {
    products       = aws_dynamodb_table.products.arn
    images         = aws_dynamodb_table.images.arn
    product_events = aws_dynamodb_table.product_events.arn
  }
}

output "kms_key_arn" {
  value = aws_kms_key.main.arn
}

output "kms_alias" {
  value = aws_kms_alias.main.name
}

output "step_failures_queue_arn" {
  description = "The step functions' on-failure destination (the merged chalice.tf.json wires it)."
  value       = aws_sqs_queue.step_failures.arn
}

output "dead_letter_queue_url" {
  description = "Given-up events the failures function could not handle."
  value       = aws_sqs_queue.dead_letter.url
}

output "api_handler_policy_arn" {
  value = aws_iam_policy.api_handler.arn
}

output "ingest_policy_arn" {
  value = aws_iam_policy.ingest.arn
}

output "images_policy_arn" {
  value = aws_iam_policy.images.arn
}

output "content_policy_arn" {
  value = aws_iam_policy.content.arn
}

output "failures_policy_arn" {
  value = aws_iam_policy.failures.arn
}

output "watchdog_policy_arn" {
  value = aws_iam_policy.watchdog.arn
}

output "publish_policy_arn" {
  value = aws_iam_policy.publish.arn
}

output "panel_url" {
  description = "Where the seller opens the panel (and, under /api/v1, where the panel reaches the API)."
  value       = local.panel_origin
}

output "panel_bucket_name" {
  description = "Upload web/build here."
  value       = aws_s3_bucket.panel.bucket
}

output "panel_distribution_id" {
  description = "For invalidating /index.html after an upload."
  value       = local.panel_cdn.id
}

output "alarm_topic_arn" {
  description = "Every alarm publishes here; subscribe more endpoints to it."
  value       = aws_sns_topic.alarms.arn
}

output "access_logs_bucket_name" {
  value = aws_s3_bucket.access_logs.bucket
}

output "mercadolibre_redirect_uri" {
  description = "Register this as the MercadoLibre app's redirect URI (it must match exactly)."
  value       = local.mercadolibre_redirect_uri
}
