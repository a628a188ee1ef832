# Alarms: each one goes to one SNS topic (email subscription optional), and says OK again when it
# clears. Metric names and dimensions are the ones AWS publishes without extra cost, except AiCostUsd,
# which the app publishes (Powertools EMF: namespace IntelliPost, dimension service=intellipost).

resource "aws_sns_topic" "alarms" {
  name = "${local.name_prefix}-alarms"
  # The stage key; its policy lets CloudWatch use it (kms.tf). An AWS-managed key would not.
  kms_master_key_id = aws_kms_key.main.arn
}

resource "aws_sns_topic_subscription" "alarm_email" {
  count = var.alarm_email == "" ? 0 : 1

  topic_arn = aws_sns_topic.alarms.arn
  protocol  = "email"
  endpoint  = var.alarm_email
}

locals {
  alarm_actions = [aws_sns_topic.alarms.arn]

  api_5xx_rate_threshold   = 0.05 # share of requests answered 5xx, over 5 minutes
  api_p99_latency_ms_limit = 5000 # API Gateway gives up at 29 s; sellers give up much sooner
}

# --- dead letters -------------------------------------------------------------------------------

# A message in the dead-letter queue is a step's given-up event that the failures function could not
# turn into a failed product either (queues.tf): its product may be left waiting. Someone must look.
resource "aws_cloudwatch_metric_alarm" "dead_letters" {
  alarm_name          = "${local.name_prefix}-dead-letters"
  alarm_description   = "A given-up event could not be handled: it is in ${aws_sqs_queue.dead_letter.name}."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = aws_sqs_queue.dead_letter.name }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}

# --- functions ----------------------------------------------------------------------------------

resource "aws_cloudwatch_metric_alarm" "function_errors" {
  for_each = local.function_names

  alarm_name          = "${local.name_prefix}-${each.key}-errors"
  alarm_description   = "The ${each.key} function failed (an unhandled error or a timeout)."
  namespace           = "AWS/Lambda"
  metric_name         = "Errors"
  dimensions          = { FunctionName = each.value }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}

resource "aws_cloudwatch_metric_alarm" "function_throttles" {
  for_each = local.function_names

  alarm_name          = "${local.name_prefix}-${each.key}-throttles"
  alarm_description   = "The ${each.key} function was throttled: the account's concurrency is used up."
  namespace           = "AWS/Lambda"
  metric_name         = "Throttles"
  dimensions          = { FunctionName = each.value }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}

# --- API ----------------------------------------------------------------------------------------

# 5XXError is 0 or 1 per request, so its average is the share of failed requests. Two bad
# 5-minute periods in a row, so one unlucky request at night does not page anyone.
resource "aws_cloudwatch_metric_alarm" "api_5xx_rate" {
  alarm_name          = "${local.name_prefix}-api-5xx-rate"
  alarm_description   = "More than ${local.api_5xx_rate_threshold * 100}% of API requests answered 5xx for 10 minutes."
  namespace           = "AWS/ApiGateway"
  metric_name         = "5XXError"
  dimensions          = local.api_dimensions
  statistic           = "Average"
  period              = 300
  evaluation_periods  = 2
  datapoints_to_alarm = 2
  comparison_operator = "GreaterThanThreshold"
  threshold           = local.api_5xx_rate_threshold
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}

resource "aws_cloudwatch_metric_alarm" "api_p99_latency" {
  alarm_name          = "${local.name_prefix}-api-p99-latency"
  alarm_description   = "The slowest 1% of API requests took over ${local.api_p99_latency_ms_limit} ms for 15 minutes."
  namespace           = "AWS/ApiGateway"
  metric_name         = "Latency"
  dimensions          = local.api_dimensions
  extended_statistic  = "p99"
  period              = 300
  evaluation_periods  = 3
  datapoints_to_alarm = 3
  comparison_operator = "GreaterThanThreshold"
  threshold           = local.api_p99_latency_ms_limit
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}

# --- money --------------------------------------------------------------------------------------

# The AI providers' cost of each listing, summed over a one-day period. CloudWatch matches
# dimensions exactly: if the app adds a dimension to AiCostUsd, add it here too.
resource "aws_cloudwatch_metric_alarm" "ai_daily_cost" {
  alarm_name          = "${local.name_prefix}-ai-daily-cost"
  alarm_description   = "AI providers cost more than ${var.ai_daily_budget_usd} USD in a day."
  namespace           = "IntelliPost"
  metric_name         = "AiCostUsd"
  dimensions          = { service = "intellipost" }
  statistic           = "Sum"
  period              = 86400
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.ai_daily_budget_usd
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}
