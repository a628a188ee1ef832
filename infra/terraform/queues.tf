# A dead-letter queue per event function. Lambda retries a failed asynchronous (S3-triggered)
# invocation twice, then sends the event record here.
#
# The functions and their `live` aliases come from chalice.tf.json, so the wiring is added where
# they are: `make deploy` merges an `aws_lambda_function_event_invoke_config` per S3-triggered
# function into it (infra/deploy/terraform.py, `merge`), on the `live` alias that S3 invokes, with
# `maximum_retry_attempts = 2` and `destination_config.on_failure` = that function's queue below.
# Lambda sends with the function's own role: iam.tf grants each one sqs:SendMessage on its queue
# and the stage key's kms:GenerateDataKey/Decrypt, which the encrypted queue needs.
# `make replay-dead-letters` is the local counterpart.

locals {
  # One entry per function registered with an event decorator in app.py (app.event_sources);
  # tests/unit/test_terraform.py fails when a function is missing here.
  event_functions = ["ingest", "images", "content", "publish"]
}

resource "aws_sqs_queue" "dead_letter" {
  for_each = toset(local.event_functions)

  name                              = "${local.name_prefix}-${each.key}-dlq"
  message_retention_seconds         = 1209600 # 14 days, the SQS maximum
  kms_master_key_id                 = aws_kms_key.main.arn
  kms_data_key_reuse_period_seconds = 300
}
