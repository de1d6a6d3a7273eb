# Alarms (REST 5XX, Lambda errors and throttles, dead letters, pool backlog age) and a dashboard.
# Actions go to alarm_sns_topic_arn when set.

locals {
  alarm_actions = var.alarm_sns_topic_arn != null ? [var.alarm_sns_topic_arn] : []
  # The REST API serving the module's routes: its own (create_rest_api), else the platform's when named
  # (platform_rest_api_name). API Gateway publishes 5XXError per ApiName and per ApiName + Stage.
  rest_alarm_enabled = local.enabled && (var.create_rest_api || var.platform_rest_api_name != null)
  rest_alarm_api     = var.create_rest_api ? one(aws_api_gateway_rest_api.voice[*].name) : var.platform_rest_api_name
  rest_alarm_stage   = var.create_rest_api ? var.api_stage_name : var.platform_rest_api_stage_name
  rest_alarm_dimensions = merge(
    { ApiName = local.rest_alarm_api },
    local.rest_alarm_stage != null ? { Stage = local.rest_alarm_stage } : {},
  )
  dead_letter_queues = {
    standby-pool-dlq   = one(aws_sqs_queue.standby_pool_dlq[*].name)
    dispatch-check-dlq = one(aws_sqs_queue.dispatch_check_dlq[*].name)
    worker-dlq         = one(aws_sqs_queue.worker_dlq[*].name)
    lambda-dlq         = one(aws_sqs_queue.lambda_dlq[*].name)
    events-dlq         = one(aws_sqs_queue.events_dlq[*].name)
  }
}

# With create_rest_api = false the routes live on the platform's gateway: the alarm watches that API
# (platform_rest_api_name), whose 5XX count includes the other modules' routes behind it.
resource "aws_cloudwatch_metric_alarm" "rest_5xx" {
  count = local.rest_alarm_enabled ? 1 : 0

  alarm_name          = "${local.prefix}-rest-5xx"
  alarm_description   = var.create_rest_api ? "module-voice REST API answered 5XX (Lambda errors, timeouts or integration failures)" : "Platform REST API ${coalesce(var.platform_rest_api_name, "-")} (serving module-voice's routes) answered 5XX"
  namespace           = "AWS/ApiGateway"
  metric_name         = "5XXError"
  dimensions          = local.rest_alarm_dimensions
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = var.api_5xx_alarm_threshold
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
  tags                = local.tags
}

resource "aws_cloudwatch_metric_alarm" "lambda_errors" {
  for_each = { for name, spec in local.lambdas : name => spec if local.enabled }

  alarm_name          = "${local.prefix}-${trimprefix(each.key, "voice-")}-errors"
  alarm_description   = "${each.key} invocations failed (unhandled errors or timeouts)"
  namespace           = "AWS/Lambda"
  metric_name         = "Errors"
  dimensions          = { FunctionName = aws_lambda_function.voice[each.key].function_name }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
  tags                = local.tags
}

resource "aws_cloudwatch_metric_alarm" "lambda_throttles" {
  for_each = { for name, spec in local.lambdas : name => spec if local.enabled }

  alarm_name          = "${local.prefix}-${trimprefix(each.key, "voice-")}-throttles"
  alarm_description   = "${each.key} hit its reserved concurrency (lambda_reserved_concurrency)"
  namespace           = "AWS/Lambda"
  metric_name         = "Throttles"
  dimensions          = { FunctionName = aws_lambda_function.voice[each.key].function_name }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
  tags                = local.tags
}

resource "aws_cloudwatch_metric_alarm" "dead_letters" {
  for_each = { for key, queue in local.dead_letter_queues : key => queue if local.enabled }

  alarm_name          = "${local.prefix}-${each.key}-depth"
  alarm_description   = "Messages in ${each.value}: work that failed repeatedly (inspect, fix, redrive)"
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = each.value }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
  tags                = local.tags
}

# A BOT_REQUEST nobody claims: standby bots down or saturated (starts then wait for the ECS fallback).
resource "aws_cloudwatch_metric_alarm" "pool_backlog_age" {
  count = local.enabled ? 1 : 0

  alarm_name          = "${local.prefix}-standby-pool-backlog-age"
  alarm_description   = "Oldest unclaimed standby-pool request is older than ${var.pool_backlog_age_alarm_seconds} s"
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateAgeOfOldestMessage"
  dimensions          = { QueueName = aws_sqs_queue.standby_pool[0].name }
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 3
  threshold           = var.pool_backlog_age_alarm_seconds
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
  tags                = local.tags
}

# Completion jobs piling up (analytics provider down, database slow).
resource "aws_cloudwatch_metric_alarm" "worker_backlog_age" {
  count = local.enabled ? 1 : 0

  alarm_name          = "${local.prefix}-worker-backlog-age"
  alarm_description   = "Oldest completion job waits for more than 15 minutes"
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateAgeOfOldestMessage"
  dimensions          = { QueueName = aws_sqs_queue.worker[0].name }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 900
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
  tags                = local.tags
}

resource "aws_cloudwatch_dashboard" "voice" {
  count = local.enabled && var.create_dashboard ? 1 : 0

  dashboard_name = local.prefix
  dashboard_body = jsonencode({
    widgets = [
      {
        type   = "metric"
        x      = 0
        y      = 0
        width  = 12
        height = 6
        properties = {
          title   = "Lambda errors"
          region  = local.region
          stat    = "Sum"
          period  = 300
          metrics = [for name in keys(local.lambdas) : ["AWS/Lambda", "Errors", "FunctionName", aws_lambda_function.voice[name].function_name]]
        }
      },
      {
        type   = "metric"
        x      = 12
        y      = 0
        width  = 12
        height = 6
        properties = {
          title   = "Lambda duration p95"
          region  = local.region
          stat    = "p95"
          period  = 300
          metrics = [for name in keys(local.lambdas) : ["AWS/Lambda", "Duration", "FunctionName", aws_lambda_function.voice[name].function_name]]
        }
      },
      {
        type   = "metric"
        x      = 0
        y      = 6
        width  = 12
        height = 6
        properties = {
          title   = "Queues: oldest message (s)"
          region  = local.region
          stat    = "Maximum"
          period  = 60
          metrics = [for q in [aws_sqs_queue.standby_pool[0].name, aws_sqs_queue.dispatch_check[0].name, aws_sqs_queue.worker[0].name] : ["AWS/SQS", "ApproximateAgeOfOldestMessage", "QueueName", q]]
        }
      },
      {
        type   = "metric"
        x      = 12
        y      = 6
        width  = 12
        height = 6
        properties = {
          title   = "Dead-letter queues"
          region  = local.region
          stat    = "Maximum"
          period  = 300
          metrics = [for q in values(local.dead_letter_queues) : ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", q]]
        }
      },
      {
        type   = "metric"
        x      = 0
        y      = 12
        width  = 12
        height = 6
        properties = {
          title  = "Bots: running tasks"
          region = local.region
          stat   = "Average"
          period = 60
          metrics = [
            ["ECS/ContainerInsights", "RunningTaskCount", "ClusterName", aws_ecs_cluster.bot[0].name],
          ]
        }
      },
      {
        type   = "metric"
        x      = 12
        y      = 12
        width  = 12
        height = 6
        properties = {
          title  = "APIs"
          region = local.region
          stat   = "Sum"
          period = 300
          metrics = concat(
            local.rest_alarm_enabled ? [
              concat(["AWS/ApiGateway", "5XXError"], flatten([for k, v in local.rest_alarm_dimensions : [k, v]])),
              concat(["AWS/ApiGateway", "4XXError"], flatten([for k, v in local.rest_alarm_dimensions : [k, v]])),
            ] : [],
            [
              ["AWS/ApiGateway", "ConnectCount", "ApiId", aws_apigatewayv2_api.websocket[0].id, "Stage", var.api_stage_name],
              ["AWS/ApiGateway", "IntegrationError", "ApiId", aws_apigatewayv2_api.websocket[0].id, "Stage", var.api_stage_name],
            ],
          )
        }
      },
    ]
  })
}

# A deployment on the platform's gateway without its name has no REST 5XX alarm: say so at plan time.
check "rest_5xx_alarm" {
  assert {
    condition     = !local.enabled || var.create_rest_api || var.platform_rest_api_name != null
    error_message = "create_rest_api = false without platform_rest_api_name: no REST 5XX alarm watches the gateway serving the module's routes (the Lambda error alarms still do their part). Set platform_rest_api_name."
  }
}
