# Where the step functions' given-up events go. Lambda retries a failed asynchronous (S3-triggered)
# invocation twice, then sends a record of the event to its on-failure destination: one queue for
# the four steps, `step_failures`, which the `failures` function reads and turns into a failed
# product with a retry (chalicelib/failures.py). A record `failures` itself cannot handle after
# five receives moves to `dead_letter`, which raises an alarm (alarms.tf): someone must look.
#
# The functions and their `live` aliases come from chalice.tf.json, so the wiring is added where
# they are: `make deploy` merges an `aws_lambda_function_event_invoke_config` per S3-triggered
# function into it (infra/deploy/terraform.py, `merge`), on the `live` alias that S3 invokes, with
# `maximum_retry_attempts = 2` and `destination_config.on_failure` = `step_failures`.
# Lambda sends with the function's own role: iam.tf grants each one sqs:SendMessage on the queue
# and the stage key's kms:GenerateDataKey/Decrypt, which the encrypted queue needs.
# Locally the event runtime does the same (infra/local/runtime.py).

locals {
  # One entry per function registered with an S3 event decorator in app.py (app.event_sources);
  # tests/unit/test_terraform.py fails when a function is missing here.
  event_functions = ["ingest", "images", "content", "publish"]
}

resource "aws_sqs_queue" "step_failures" {
  name                              = "${local.name_prefix}-step-failures"
  message_retention_seconds         = 1209600 # 14 days, the SQS maximum
  visibility_timeout_seconds        = 360     # six times the failures function's timeout, as AWS advises
  kms_master_key_id                 = aws_kms_key.main.arn
  kms_data_key_reuse_period_seconds = 300
  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.dead_letter.arn
    maxReceiveCount     = 5
  })
}

resource "aws_sqs_queue" "dead_letter" {
  name                              = "${local.name_prefix}-step-failures-dlq"
  message_retention_seconds         = 1209600
  kms_master_key_id                 = aws_kms_key.main.arn
  kms_data_key_reuse_period_seconds = 300
}
