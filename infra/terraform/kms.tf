# One customer-managed key per stage encrypts the buckets' objects (media), the tables, the
# dead-letter queues and the alarm topic. The policy delegates access to IAM as the default policy
# does, so the policies in iam.tf grant each function only the key operations it needs, and adds
# the services that act without an IAM role of ours: CloudWatch, publishing alarms to the
# encrypted topic, and CloudWatch Logs, encrypting the functions' log groups (logs.tf).

data "aws_iam_policy_document" "key" {
  #checkov:skip=CKV_AWS_109:A key policy's "*" resource is this key only; kms:* for the account root is AWS's default policy, delegating to IAM.
  #checkov:skip=CKV_AWS_111:Same: a key policy cannot name other resources, and write access is then granted per function in iam.tf.
  #checkov:skip=CKV_AWS_356:Same: in a key policy "*" means this key.
  statement {
    sid       = "DelegateToIam"
    actions   = ["kms:*"]
    resources = ["*"]

    principals {
      type        = "AWS"
      identifiers = ["arn:aws:iam::${data.aws_caller_identity.current.account_id}:root"]
    }
  }

  statement {
    sid       = "CloudWatchAlarmsToTopic"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey*"]
    resources = ["*"]

    # The form AWS documents for alarms to an encrypted topic. Only this account's alarms can
    # publish to the topic (its default access policy), so no other account reaches the key here.
    principals {
      type        = "Service"
      identifiers = ["cloudwatch.amazonaws.com"]
    }
  }

  statement {
    sid       = "CloudWatchLogsOfThisStage"
    actions   = ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"]
    resources = ["*"]

    # The form AWS documents for encrypted log groups, narrowed to this stage's functions' groups.
    principals {
      type        = "Service"
      identifiers = ["logs.${var.region}.amazonaws.com"]
    }
    condition {
      test     = "ArnLike"
      variable = "kms:EncryptionContext:aws:logs:arn"
      values   = ["arn:aws:logs:${var.region}:${data.aws_caller_identity.current.account_id}:log-group:/aws/lambda/${local.name_prefix}*"]
    }
  }
}

resource "aws_kms_key" "main" {
  description             = "IntelliPost ${var.stage}: media bucket, tables, dead-letter queues, alarm topic, logs"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy                  = data.aws_iam_policy_document.key.json
}

resource "aws_kms_alias" "main" {
  name          = "alias/${local.name_prefix}"
  target_key_id = aws_kms_key.main.key_id
}
