# Queues, each with a dead-letter queue, all encrypted with the module key:
# - standby-pool: BOT_REQUESTs for the warm standby bots (docs/bot.md; the bot extends visibility itself);
# - dispatch-check: delayed DISPATCH_CHECKs, voice-events hands unclaimed requests to ECS;
# - worker: completion jobs for voice-worker;
# - lambda-dlq / events-dlq: failed asynchronous invocations and undeliverable EventBridge events.

locals {
  dlq_retention_seconds = 1209600 # 14 days: time to inspect and redrive
  # AWS guidance for SQS event sources: visibility timeout at least 6x the function timeout.
  dispatch_check_visibility = 6 * var.events_lambda_timeout
  worker_visibility         = min(43200, 6 * var.worker_lambda_timeout)
}

# --- standby pool ---------------------------------------------------------------------------------------------

resource "aws_sqs_queue" "standby_pool_dlq" {
  count = local.enabled ? 1 : 0

  name                              = "${local.prefix}-standby-pool-dlq"
  message_retention_seconds         = local.dlq_retention_seconds
  kms_master_key_id                 = aws_kms_key.voice[0].arn
  kms_data_key_reuse_period_seconds = 300
  tags                              = local.tags
}

resource "aws_sqs_queue" "standby_pool" {
  count = local.enabled ? 1 : 0

  name = "${local.prefix}-standby-pool"
  # A standby bot receives with a 120 s visibility and extends it every 40 s while it interviews.
  visibility_timeout_seconds        = 120
  message_retention_seconds         = var.standby_message_retention_seconds
  receive_wait_time_seconds         = 20
  kms_master_key_id                 = aws_kms_key.voice[0].arn
  kms_data_key_reuse_period_seconds = 300
  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.standby_pool_dlq[0].arn
    maxReceiveCount     = var.dlq_max_receive_count
  })
  tags = local.tags
}

resource "aws_sqs_queue_redrive_allow_policy" "standby_pool_dlq" {
  count = local.enabled ? 1 : 0

  queue_url = aws_sqs_queue.standby_pool_dlq[0].id
  redrive_allow_policy = jsonencode({
    redrivePermission = "byQueue"
    sourceQueueArns   = [aws_sqs_queue.standby_pool[0].arn]
  })
}

# --- dispatch checks (pool pickup fallback) --------------------------------------------------------------------

resource "aws_sqs_queue" "dispatch_check_dlq" {
  count = local.enabled ? 1 : 0

  name                              = "${local.prefix}-dispatch-check-dlq"
  message_retention_seconds         = local.dlq_retention_seconds
  kms_master_key_id                 = aws_kms_key.voice[0].arn
  kms_data_key_reuse_period_seconds = 300
  tags                              = local.tags
}

resource "aws_sqs_queue" "dispatch_check" {
  count = local.enabled ? 1 : 0

  name                              = "${local.prefix}-dispatch-check"
  visibility_timeout_seconds        = local.dispatch_check_visibility
  message_retention_seconds         = 86400
  kms_master_key_id                 = aws_kms_key.voice[0].arn
  kms_data_key_reuse_period_seconds = 300
  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.dispatch_check_dlq[0].arn
    maxReceiveCount     = var.dlq_max_receive_count
  })
  tags = local.tags
}

resource "aws_sqs_queue_redrive_allow_policy" "dispatch_check_dlq" {
  count = local.enabled ? 1 : 0

  queue_url = aws_sqs_queue.dispatch_check_dlq[0].id
  redrive_allow_policy = jsonencode({
    redrivePermission = "byQueue"
    sourceQueueArns   = [aws_sqs_queue.dispatch_check[0].arn]
  })
}

# --- completion jobs ----------------------------------------------------------------------------------------------

resource "aws_sqs_queue" "worker_dlq" {
  count = local.enabled ? 1 : 0

  name                              = "${local.prefix}-worker-dlq"
  message_retention_seconds         = local.dlq_retention_seconds
  kms_master_key_id                 = aws_kms_key.voice[0].arn
  kms_data_key_reuse_period_seconds = 300
  tags                              = local.tags
}

resource "aws_sqs_queue" "worker" {
  count = local.enabled ? 1 : 0

  name                              = "${local.prefix}-worker"
  visibility_timeout_seconds        = local.worker_visibility
  message_retention_seconds         = 345600 # 4 days
  kms_master_key_id                 = aws_kms_key.voice[0].arn
  kms_data_key_reuse_period_seconds = 300
  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.worker_dlq[0].arn
    maxReceiveCount     = var.dlq_max_receive_count
  })
  tags = local.tags
}

resource "aws_sqs_queue_redrive_allow_policy" "worker_dlq" {
  count = local.enabled ? 1 : 0

  queue_url = aws_sqs_queue.worker_dlq[0].id
  redrive_allow_policy = jsonencode({
    redrivePermission = "byQueue"
    sourceQueueArns   = [aws_sqs_queue.worker[0].arn]
  })
}

# --- failures of asynchronous invocations -------------------------------------------------------------------------

# Dead-letter queue of voice-events and voice-worker for failed asynchronous (EventBridge) invocations.
resource "aws_sqs_queue" "lambda_dlq" {
  count = local.enabled ? 1 : 0

  name                              = "${local.prefix}-lambda-dlq"
  message_retention_seconds         = local.dlq_retention_seconds
  kms_master_key_id                 = aws_kms_key.voice[0].arn
  kms_data_key_reuse_period_seconds = 300
  tags                              = local.tags
}

# EventBridge's dead-letter queue: events it could not deliver to a Lambda.
resource "aws_sqs_queue" "events_dlq" {
  count = local.enabled ? 1 : 0

  name                              = "${local.prefix}-events-dlq"
  message_retention_seconds         = local.dlq_retention_seconds
  kms_master_key_id                 = aws_kms_key.voice[0].arn
  kms_data_key_reuse_period_seconds = 300
  tags                              = local.tags
}

data "aws_iam_policy_document" "events_dlq" {
  count = local.enabled ? 1 : 0

  statement {
    sid       = "EventBridgeRules"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.events_dlq[0].arn]
    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com"]
    }
    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values = [
        aws_cloudwatch_event_rule.ecs_task_stopped[0].arn,
        aws_cloudwatch_event_rule.watchdog[0].arn,
        aws_cloudwatch_event_rule.retention[0].arn,
      ]
    }
  }
}

resource "aws_sqs_queue_policy" "events_dlq" {
  count = local.enabled ? 1 : 0

  queue_url = aws_sqs_queue.events_dlq[0].id
  policy    = data.aws_iam_policy_document.events_dlq[0].json
}
