# Each function's log group, made here rather than by Lambda on its first write, so it has a
# retention period (Lambda's own never expire) and is encrypted with the stage key.

variable "log_retention_days" {
  description = "How long the functions' logs are kept. Logs are for operating the service; what a seller did is in the product timeline table (point-in-time recovery)."
  type        = number
  default     = 90
}

resource "aws_cloudwatch_log_group" "functions" {
  #checkov:skip=CKV_AWS_338:Operational logs are kept var.log_retention_days (90 by default), not a year: the sellers' history lives in the tables, and a year of debug logs is cost without use.
  for_each = local.function_names

  name              = "/aws/lambda/${each.value}"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.main.arn
}
