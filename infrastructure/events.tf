# EventBridge: a bot task that stops (task mode, this module's family) and the two schedules.
# Failed deliveries go to the events DLQ; failed asynchronous invocations to the Lambda DLQ (lambda.tf).

resource "aws_cloudwatch_event_rule" "ecs_task_stopped" {
  count = local.enabled ? 1 : 0

  name        = "${local.prefix}-ecs-task-state"
  description = "module-voice: a bot task stopped (voice-events fails its session unless it completed)"
  event_pattern = jsonencode({
    source      = ["aws.ecs"]
    detail-type = ["ECS Task State Change"]
    detail = {
      clusterArn = [aws_ecs_cluster.bot[0].arn]
      group      = ["family:${local.bot_family}"]
      lastStatus = ["STOPPED"]
    }
  })
  tags = local.tags
}

resource "aws_cloudwatch_event_rule" "watchdog" {
  count = local.enabled ? 1 : 0

  name                = "${local.prefix}-watchdog"
  description         = "module-voice: bots that never joined or stopped heartbeating, sessions over time"
  schedule_expression = var.watchdog_schedule
  tags                = local.tags
}

resource "aws_cloudwatch_event_rule" "retention" {
  count = local.enabled ? 1 : 0

  name                = "${local.prefix}-retention"
  description         = "module-voice: delete transcripts older than transcript_retention_days"
  schedule_expression = var.retention_schedule
  tags                = local.tags
}

locals {
  # rule => the Lambda it invokes (the events carry detail-type "ECS Task State Change" / "Scheduled Event").
  event_targets = {
    ecs_task_stopped = "voice-events"
    watchdog         = "voice-events"
    retention        = "voice-worker"
  }
  event_rule_arns = {
    ecs_task_stopped = one(aws_cloudwatch_event_rule.ecs_task_stopped[*].arn)
    watchdog         = one(aws_cloudwatch_event_rule.watchdog[*].arn)
    retention        = one(aws_cloudwatch_event_rule.retention[*].arn)
  }
  event_rule_names = {
    ecs_task_stopped = one(aws_cloudwatch_event_rule.ecs_task_stopped[*].name)
    watchdog         = one(aws_cloudwatch_event_rule.watchdog[*].name)
    retention        = one(aws_cloudwatch_event_rule.retention[*].name)
  }
}

resource "aws_cloudwatch_event_target" "voice" {
  for_each = { for rule, fn in local.event_targets : rule => fn if local.enabled }

  rule      = local.event_rule_names[each.key]
  target_id = each.value
  arn       = aws_lambda_function.voice[each.value].arn

  retry_policy {
    maximum_event_age_in_seconds = 3600
    maximum_retry_attempts       = 10
  }

  dead_letter_config {
    arn = aws_sqs_queue.events_dlq[0].arn
  }
}

resource "aws_lambda_permission" "events" {
  for_each = { for rule, fn in local.event_targets : rule => fn if local.enabled }

  statement_id  = "events-${replace(each.key, "_", "-")}"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.voice[each.value].function_name
  principal     = "events.amazonaws.com"
  source_arn    = local.event_rule_arns[each.key]
}
