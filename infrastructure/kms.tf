# One customer managed key encrypts everything the module stores: DynamoDB tables, SQS queues, the
# transcript bucket, the bot-token secret, the log groups and the Lambda environment variables.

data "aws_iam_policy_document" "kms" {
  #checkov:skip=CKV_AWS_109:A key policy's "*" resource is this key; administration is delegated to the account's IAM policies (AWS default statement).
  #checkov:skip=CKV_AWS_111:Same: "*" in a key policy is the key itself, and the service statements are bound to this account by conditions.
  #checkov:skip=CKV_AWS_356:Same: a key policy cannot name its own key ARN, "*" is the key.
  count = local.enabled ? 1 : 0

  # Key administration stays with the account's IAM policies (the standard default statement); in a key
  # policy "*" means this key.
  statement {
    sid       = "AccountAdministration"
    actions   = ["kms:*"]
    resources = ["*"]
    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account_id}:root"]
    }
  }

  # CloudWatch Logs encrypts the module's log groups with the key (only log groups of this account).
  statement {
    sid       = "CloudWatchLogs"
    actions   = ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"]
    resources = ["*"]
    principals {
      type        = "Service"
      identifiers = ["logs.${local.region}.amazonaws.com"]
    }
    condition {
      test     = "ArnLike"
      variable = "kms:EncryptionContext:aws:logs:arn"
      values   = ["arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:*"]
    }
  }

  # EventBridge delivers failed events to the encrypted events DLQ.
  statement {
    sid       = "EventBridgeDeadLetters"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = ["*"]
    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_kms_key" "voice" {
  count = local.enabled ? 1 : 0

  description             = "${local.prefix}: tables, queues, transcripts, secrets, logs, Lambda environment"
  enable_key_rotation     = true
  deletion_window_in_days = var.kms_deletion_window_days
  policy                  = data.aws_iam_policy_document.kms[0].json
  tags                    = local.tags
}

resource "aws_kms_alias" "voice" {
  count = local.enabled ? 1 : 0

  name          = "alias/${local.prefix}"
  target_key_id = aws_kms_key.voice[0].key_id
}
