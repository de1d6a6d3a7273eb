# The Pipecat interview bot on Fargate (backend/bot, docs/bot.md):
# - task definition `bot` (command `task`): one interview per task, started by voice_common.dispatch
#   with run_task and the payload in BOT_PAYLOAD (a container override);
# - task definition `bot-standby` (command `standby`) run by an ECS service: the warm pool, scaled to
#   standby_pool_size inside the business hours and to 0 outside (Application Auto Scaling schedules).
# Two definitions because a service cannot override the command, and the standby bots' role may poll the
# pool queue while the one-interview tasks' role may not.

locals {
  bot_family         = "${local.prefix}-bot"
  bot_standby_family = "${local.prefix}-bot-standby"
  bot_log_group      = "/ecs/${local.prefix}-bot"

  bot_environment = [
    { name = "LOG_LEVEL", value = var.log_level },
    { name = "PIPECAT_LOG_LEVEL", value = "WARNING" },
    { name = "BOT_HEALTH_FILE", value = "/tmp/voice-bot.health" },
  ]

  # Shared by both task definitions; secrets come from Secrets Manager through `secrets`, never `environment`.
  bot_container = {
    name                   = var.bot_container_name
    image                  = var.bot_image
    essential              = true
    readonlyRootFilesystem = false # see the checkov skip on the task definitions
    stopTimeout            = 120   # Fargate's maximum: an interview in progress gets two minutes to wrap up
    secrets                = [for name, arn in var.bot_container_secrets : { name = name, valueFrom = arn }]
    healthCheck = {
      command     = ["CMD", "python", "-m", "voice_bot", "healthcheck"]
      interval    = 30
      timeout     = 5
      retries     = 3
      startPeriod = 60
    }
    logConfiguration = {
      logDriver = "awslogs"
      options = {
        awslogs-group         = local.bot_log_group
        awslogs-region        = local.region
        awslogs-stream-prefix = "bot"
      }
    }
  }

  # Standby window as cron fields (Application Auto Scaling evaluates them in business_hours_timezone).
  pool_days       = join(",", [for d in var.business_hours_days : upper(d)])
  pool_start      = split(":", var.business_hours_start)
  pool_end        = split(":", var.business_hours_end)
  standby_enabled = local.enabled && var.standby_pool_size > 0
}

resource "aws_ecs_cluster" "bot" {
  count = local.enabled ? 1 : 0

  name = "${local.prefix}-cluster"
  setting {
    name  = "containerInsights"
    value = "enabled"
  }
  tags = local.tags
}

resource "aws_cloudwatch_log_group" "bot" {
  count = local.enabled ? 1 : 0

  name              = local.bot_log_group
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.voice[0].arn
  tags              = local.tags
}

resource "aws_ecs_task_definition" "bot" {
  #checkov:skip=CKV_AWS_336:The bot (uid 10001) writes its health file to /tmp and model caches to ~/.cache; Fargate bind mounts are root-owned, so a read-only root needs VOLUME directives in backend/bot/Dockerfile first.
  count = local.enabled ? 1 : 0

  family                   = local.bot_family
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = var.bot_cpu
  memory                   = var.bot_memory
  execution_role_arn       = aws_iam_role.bot_execution[0].arn
  task_role_arn            = aws_iam_role.bot_task[0].arn

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = "X86_64"
  }

  container_definitions = jsonencode([
    merge(local.bot_container, {
      command     = ["task"]
      environment = local.bot_environment
    })
  ])

  tags = local.tags
}

resource "aws_ecs_task_definition" "bot_standby" {
  #checkov:skip=CKV_AWS_336:Same container as the task definition above (health file in /tmp, model caches in ~/.cache).
  count = local.enabled ? 1 : 0

  family                   = local.bot_standby_family
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = var.bot_cpu
  memory                   = var.bot_memory
  execution_role_arn       = aws_iam_role.bot_execution[0].arn
  task_role_arn            = aws_iam_role.bot_standby_task[0].arn

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = "X86_64"
  }

  container_definitions = jsonencode([
    merge(local.bot_container, {
      command = ["standby"]
      environment = concat(local.bot_environment,
        [{ name = "STANDBY_QUEUE_URL", value = aws_sqs_queue.standby_pool[0].url }],
        var.bot_drain_timeout_seconds != null ? [{ name = "BOT_DRAIN_TIMEOUT_SECONDS", value = tostring(var.bot_drain_timeout_seconds) }] : [],
      )
    })
  ])

  tags = local.tags
}

resource "aws_ecs_service" "standby" {
  count = local.standby_enabled ? 1 : 0

  name                    = "${local.prefix}-standby-pool"
  cluster                 = aws_ecs_cluster.bot[0].id
  task_definition         = aws_ecs_task_definition.bot_standby[0].arn
  launch_type             = "FARGATE"
  desired_count           = 0 # owned by the scheduled scaling below
  enable_ecs_managed_tags = true
  propagate_tags          = "SERVICE"

  network_configuration {
    subnets          = var.ecs_subnets
    security_groups  = var.ecs_security_groups
    assign_public_ip = var.ecs_assign_public_ip
  }

  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }

  lifecycle {
    ignore_changes = [desired_count]
  }

  tags = local.tags
}

resource "aws_appautoscaling_target" "standby" {
  count = local.standby_enabled ? 1 : 0

  service_namespace  = "ecs"
  resource_id        = "service/${aws_ecs_cluster.bot[0].name}/${aws_ecs_service.standby[0].name}"
  scalable_dimension = "ecs:service:DesiredCount"
  min_capacity       = 0
  max_capacity       = var.standby_pool_size
}

# Inside the window: exactly standby_pool_size bots.
resource "aws_appautoscaling_scheduled_action" "pool_open" {
  count = local.standby_enabled ? 1 : 0

  name               = "${local.prefix}-pool-open"
  service_namespace  = aws_appautoscaling_target.standby[0].service_namespace
  resource_id        = aws_appautoscaling_target.standby[0].resource_id
  scalable_dimension = aws_appautoscaling_target.standby[0].scalable_dimension
  schedule           = "cron(${tonumber(local.pool_start[1])} ${tonumber(local.pool_start[0])} ? * ${local.pool_days} *)"
  timezone           = var.business_hours_timezone

  scalable_target_action {
    min_capacity = var.standby_pool_size
    max_capacity = var.standby_pool_size
  }
}

# Outside it: none (every start launches a task; SIGTERM lets an interview in progress finish first).
resource "aws_appautoscaling_scheduled_action" "pool_close" {
  count = local.standby_enabled ? 1 : 0

  name               = "${local.prefix}-pool-close"
  service_namespace  = aws_appautoscaling_target.standby[0].service_namespace
  resource_id        = aws_appautoscaling_target.standby[0].resource_id
  scalable_dimension = aws_appautoscaling_target.standby[0].scalable_dimension
  schedule           = "cron(${tonumber(local.pool_end[1])} ${tonumber(local.pool_end[0])} ? * ${local.pool_days} *)"
  timezone           = var.business_hours_timezone

  scalable_target_action {
    min_capacity = 0
    max_capacity = 0
  }

  lifecycle {
    precondition {
      condition     = tonumber(replace(var.business_hours_end, ":", "")) > tonumber(replace(var.business_hours_start, ":", ""))
      error_message = "business_hours_end must be later than business_hours_start (the window cannot span midnight)."
    }
  }

  # Both actions change the same target: create them one after the other.
  depends_on = [aws_appautoscaling_scheduled_action.pool_open]
}

# --- roles -----------------------------------------------------------------------------------------------------------

data "aws_iam_policy_document" "ecs_tasks_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ecs-tasks.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

# Execution role (the ECS agent): pull the image, write the bot's logs, resolve container `secrets`.
resource "aws_iam_role" "bot_execution" {
  count = local.enabled ? 1 : 0

  name               = "${local.prefix}-bot-execution"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json
  tags               = local.tags
}

data "aws_iam_policy_document" "bot_execution" {
  count = local.enabled ? 1 : 0

  statement {
    sid       = "BotLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.bot[0].arn}:*"]
  }

  dynamic "statement" {
    for_each = var.bot_image_repository_arn != null ? [var.bot_image_repository_arn] : []
    content {
      sid       = "PullBotImage"
      actions   = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"]
      resources = [statement.value]
    }
  }

  # ECR's registry login has no resource-level scoping.
  dynamic "statement" {
    for_each = var.bot_image_repository_arn != null ? [1] : []
    content {
      sid       = "EcrLogin"
      actions   = ["ecr:GetAuthorizationToken"]
      resources = ["*"]
    }
  }

  dynamic "statement" {
    for_each = length(var.bot_container_secrets) > 0 ? [1] : []
    content {
      sid       = "ContainerSecrets"
      actions   = ["secretsmanager:GetSecretValue"]
      resources = distinct(values(var.bot_container_secrets))
    }
  }
}

resource "aws_iam_role_policy" "bot_execution" {
  count = local.enabled ? 1 : 0

  name   = "module-voice"
  role   = aws_iam_role.bot_execution[0].id
  policy = data.aws_iam_policy_document.bot_execution[0].json
}

# Task roles (the bot's own calls, voice_bot): provider keys by ARN; standby bots also poll the pool queue.
data "aws_iam_policy_document" "bot_secrets" {
  count = local.enabled ? 1 : 0

  statement {
    sid       = "ProviderKeys"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = concat([local.credential_secrets_arn], local.bot_platform_secret_arns)
  }

  # voice_bot.config.unseal: the ECS payload's sealed room and bot tokens (voice_common.dispatch.seal_tokens),
  # only under the bot-dispatch encryption context (which also binds them to their session).
  statement {
    sid       = "UnsealDispatchTokens"
    actions   = ["kms:Decrypt"]
    resources = [aws_kms_key.voice[0].arn]
    condition {
      test     = "StringEquals"
      variable = "kms:EncryptionContext:purpose"
      values   = ["bot-dispatch"]
    }
    condition {
      test     = "StringEquals"
      variable = "kms:EncryptionContext:module"
      values   = ["module-voice"]
    }
  }

  dynamic "statement" {
    for_each = length(var.external_secrets_kms_key_arns) > 0 ? [1] : []
    content {
      sid       = "ExternalSecretKeys"
      actions   = ["kms:Decrypt"]
      resources = var.external_secrets_kms_key_arns
      condition {
        test     = "StringEquals"
        variable = "kms:ViaService"
        values   = ["secretsmanager.${local.region}.amazonaws.com"]
      }
    }
  }
}

locals {
  # The keys a bot may be handed in secretArns (dispatch payload): platform defaults and org credentials.
  bot_platform_secret_arns = compact([
    var.deepgram_api_key_secret_arn != null ? var.deepgram_api_key_secret_arn : "",
    var.cartesia_api_key_secret_arn != null ? var.cartesia_api_key_secret_arn : "",
    var.openai_api_key_secret_arn != null ? var.openai_api_key_secret_arn : "",
  ])
}

resource "aws_iam_role" "bot_task" {
  count = local.enabled ? 1 : 0

  name               = "${local.prefix}-bot-task"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json
  tags               = local.tags
}

resource "aws_iam_role_policy" "bot_task" {
  count = local.enabled ? 1 : 0

  name   = "module-voice"
  role   = aws_iam_role.bot_task[0].id
  policy = data.aws_iam_policy_document.bot_secrets[0].json
}

data "aws_iam_policy_document" "bot_standby" {
  count = local.enabled ? 1 : 0

  source_policy_documents = [data.aws_iam_policy_document.bot_secrets[0].json]

  statement {
    sid       = "StandbyQueue"
    actions   = ["sqs:ReceiveMessage", "sqs:ChangeMessageVisibility", "sqs:DeleteMessage"]
    resources = [aws_sqs_queue.standby_pool[0].arn]
  }

  # voice_bot.protection: a busy standby bot protects itself from scale-in through the ECS agent endpoint.
  statement {
    sid       = "ScaleInProtection"
    actions   = ["ecs:UpdateTaskProtection"]
    resources = ["arn:${local.partition}:ecs:${local.region}:${local.account_id}:task/${local.ecs_cluster_name}/*"]
  }

  # The pool queue is encrypted with the module key.
  statement {
    sid       = "ModuleKeyDecrypt"
    actions   = ["kms:Decrypt"]
    resources = [aws_kms_key.voice[0].arn]
  }
}

resource "aws_iam_role" "bot_standby_task" {
  count = local.enabled ? 1 : 0

  name               = "${local.prefix}-bot-standby-task"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json
  tags               = local.tags
}

resource "aws_iam_role_policy" "bot_standby_task" {
  count = local.enabled ? 1 : 0

  name   = "module-voice"
  role   = aws_iam_role.bot_standby_task[0].id
  policy = data.aws_iam_policy_document.bot_standby[0].json
}
