# One customer-managed key per stage encrypts the bucket, the tables and the dead-letter queues.
# No explicit key policy: the default one delegates access to IAM, and the policies in iam.tf grant
# each function only the key operations it needs.

resource "aws_kms_key" "main" {
  description             = "IntelliPost ${var.stage}: media bucket, tables and dead-letter queues"
  enable_key_rotation     = true
  deletion_window_in_days = 30
}

resource "aws_kms_alias" "main" {
  name          = "alias/${local.name_prefix}"
  target_key_id = aws_kms_key.main.key_id
}
