# One role per Lambda. Its inline policy is lambda_base (its own log group, X-Ray, the module key, the
# database secret) plus the parts listed in local.lambdas[*].policies. Each part grants what one area of
# the code calls (the module in the comment), on exactly the module's resources;
# tests/infrastructure/test_terraform.py derives the calls from the code and checks every grant both ways.

locals {
  policy_parts = {
    kms_write               = one(data.aws_iam_policy_document.kms_write[*].json)
    connections             = one(data.aws_iam_policy_document.connections[*].json)
    connections_register    = one(data.aws_iam_policy_document.connections_register[*].json)
    push                    = one(data.aws_iam_policy_document.push[*].json)
    bot_token_secret        = one(data.aws_iam_policy_document.bot_token_secret[*].json)
    jwt_secret              = one(data.aws_iam_policy_document.jwt_secret[*].json)
    completion_jobs         = one(data.aws_iam_policy_document.completion_jobs[*].json)
    transcript_archive      = one(data.aws_iam_policy_document.transcript_archive[*].json)
    transcript_erase        = one(data.aws_iam_policy_document.transcript_erase[*].json)
    openai_secret           = one(data.aws_iam_policy_document.openai_secret[*].json)
    provider_secrets        = one(data.aws_iam_policy_document.provider_secrets[*].json)
    credentials_admin       = one(data.aws_iam_policy_document.credentials_admin[*].json)
    pool_dispatch           = one(data.aws_iam_policy_document.pool_dispatch[*].json)
    run_bot                 = one(data.aws_iam_policy_document.run_bot[*].json)
    stop_bot                = one(data.aws_iam_policy_document.stop_bot[*].json)
    health                  = one(data.aws_iam_policy_document.health[*].json)
    preview                 = one(data.aws_iam_policy_document.preview[*].json)
    async_dlq               = one(data.aws_iam_policy_document.async_dlq[*].json)
    dispatch_check_consumer = one(data.aws_iam_policy_document.dispatch_check_consumer[*].json)
    worker_consumer         = one(data.aws_iam_policy_document.worker_consumer[*].json)
  }
}

data "aws_iam_policy_document" "lambda_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "lambda" {
  for_each = { for name, spec in local.lambdas : name => spec if local.enabled }

  name               = "${local.prefix}-${trimprefix(each.key, "voice-")}-lambda"
  description        = "module-voice ${each.key} Lambda"
  assume_role_policy = data.aws_iam_policy_document.lambda_assume.json
  tags               = local.tags
}

data "aws_iam_policy_document" "lambda" {
  for_each = { for name, spec in local.lambdas : name => spec if local.enabled }

  source_policy_documents = concat(
    [data.aws_iam_policy_document.lambda_base[each.key].json],
    [for part in each.value.policies : local.policy_parts[part]],
  )
}

resource "aws_iam_role_policy" "lambda" {
  for_each = { for name, spec in local.lambdas : name => spec if local.enabled }

  name   = "module-voice"
  role   = aws_iam_role.lambda[each.key].id
  policy = data.aws_iam_policy_document.lambda[each.key].json
}

# Network interfaces for the optional VPC placement (AWS managed; EC2 describe calls have no resource scope).
resource "aws_iam_role_policy_attachment" "lambda_vpc" {
  for_each = { for name, spec in local.lambdas : name => spec if local.enabled && local.lambda_vpc }

  role       = aws_iam_role.lambda[each.key].name
  policy_arn = "arn:${local.partition}:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole"
}

# --- parts --------------------------------------------------------------------------------------------------------

# Every function: its own log group, X-Ray, the module key, the database URL (access_common.db).
data "aws_iam_policy_document" "lambda_base" {
  for_each = { for name, spec in local.lambdas : name => spec if local.enabled }

  statement {
    sid       = "OwnLogGroup"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.lambda[each.key].arn}:*"]
  }

  # Active tracing; X-Ray's write actions support no resource-level scoping.
  statement {
    sid       = "XRay"
    actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
    resources = ["*"]
  }

  # The environment, the bot-token secret, queues and tables are encrypted with the module key.
  statement {
    sid       = "ModuleKeyDecrypt"
    actions   = ["kms:Decrypt"]
    resources = [aws_kms_key.voice[0].arn]
  }

  statement {
    sid       = "DatabaseUrl"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = [var.database_url_secret_arn]
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

# Writers to the encrypted queues, tables and bucket need data keys of the module key.
data "aws_iam_policy_document" "kms_write" {
  count = local.enabled ? 1 : 0

  statement {
    sid       = "ModuleKeyDataKeys"
    actions   = ["kms:GenerateDataKey"]
    resources = [aws_kms_key.voice[0].arn]
  }
}

# voice_common.realtime: connection records (read, subscribe, forget) and the session index.
data "aws_iam_policy_document" "connections" {
  count = local.enabled ? 1 : 0

  statement {
    sid       = "Connections"
    actions   = ["dynamodb:GetItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"]
    resources = [aws_dynamodb_table.connections[0].arn]
  }

  statement {
    sid       = "ConnectionsBySession"
    actions   = ["dynamodb:Query"]
    resources = ["${aws_dynamodb_table.connections[0].arn}/index/session_id-index"]
  }
}

# voice_common.realtime ($connect, voice-websocket only): record a new connection.
data "aws_iam_policy_document" "connections_register" {
  count = local.enabled ? 1 : 0

  statement {
    sid       = "RegisterConnection"
    actions   = ["dynamodb:PutItem"]
    resources = [aws_dynamodb_table.connections[0].arn]
  }
}

# voice_common.realtime: push frames to subscribers (POST @connections of this API's stage only).
data "aws_iam_policy_document" "push" {
  count = local.enabled ? 1 : 0

  statement {
    sid       = "PushToConnections"
    actions   = ["execute-api:ManageConnections"]
    resources = ["${aws_apigatewayv2_api.websocket[0].execution_arn}/${var.api_stage_name}/POST/@connections/*"]
  }
}

# voice_common.bot_token: the signing secret (issue and verify).
data "aws_iam_policy_document" "bot_token_secret" {
  count = local.enabled ? 1 : 0

  statement {
    sid       = "BotTokenSecret"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = [aws_secretsmanager_secret.bot_token[0].arn]
  }
}

# access_common.jwt: the user-JWT secret (WebSocket $connect verifies tokens itself).
data "aws_iam_policy_document" "jwt_secret" {
  count = local.enabled ? 1 : 0

  statement {
    sid       = "UserJwtSecret"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = [var.supabase_jwt_secret_arn]
  }
}

# voice_common.completion: queue completion jobs (assemble, archive, analytics).
data "aws_iam_policy_document" "completion_jobs" {
  count = local.enabled ? 1 : 0

  statement {
    sid       = "CompletionJobs"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.worker[0].arn]
  }
}

# voice_common.assembly (voice-worker): write the archive.
data "aws_iam_policy_document" "transcript_archive" {
  count = local.enabled ? 1 : 0

  statement {
    sid       = "ArchiveTranscripts"
    actions   = ["s3:PutObject"]
    resources = ["${aws_s3_bucket.transcripts[0].arn}/${local.transcripts_prefix}*"]
  }
}

# voice_common.completion.delete_archives: erase archives, every version.
data "aws_iam_policy_document" "transcript_erase" {
  count = local.enabled ? 1 : 0

  statement {
    sid       = "EraseTranscripts"
    actions   = ["s3:DeleteObject", "s3:DeleteObjectVersion"]
    resources = ["${aws_s3_bucket.transcripts[0].arn}/${local.transcripts_prefix}*"]
  }

  statement {
    sid       = "ListTranscriptVersions"
    actions   = ["s3:GetBucketVersioning", "s3:ListBucketVersions"]
    resources = [aws_s3_bucket.transcripts[0].arn]
  }
}

# ai_common.config: the platform's OpenAI-compatible key (when configured).
data "aws_iam_policy_document" "openai_secret" {
  count = local.enabled ? 1 : 0

  dynamic "statement" {
    for_each = var.openai_api_key_secret_arn != null ? [var.openai_api_key_secret_arn] : []
    content {
      sid       = "OpenAIKey"
      actions   = ["secretsmanager:GetSecretValue"]
      resources = [statement.value]
    }
  }
}

# voice_common.dispatch (start): the standby queue and the pickup checks.
data "aws_iam_policy_document" "pool_dispatch" {
  count = local.enabled ? 1 : 0

  statement {
    sid       = "StandbyQueue"
    actions   = ["sqs:GetQueueAttributes", "sqs:SendMessage"]
    resources = [aws_sqs_queue.standby_pool[0].arn]
  }

  statement {
    sid       = "PickupChecks"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.dispatch_check[0].arn]
  }
}

# voice_common.dispatch.run_bot_task: this module's bot task definition, in its cluster.
data "aws_iam_policy_document" "run_bot" {
  count = local.enabled ? 1 : 0

  statement {
    sid       = "RunBotTask"
    actions   = ["ecs:RunTask"]
    resources = ["arn:${local.partition}:ecs:${local.region}:${local.account_id}:task-definition/${aws_ecs_task_definition.bot[0].family}:*"]
    condition {
      test     = "ArnEquals"
      variable = "ecs:cluster"
      values   = [aws_ecs_cluster.bot[0].arn]
    }
  }

  # run_task passes tags (SessionId, Module): ECS authorizes them as TagResource on the new task.
  statement {
    sid       = "TagBotTaskAtLaunch"
    actions   = ["ecs:TagResource"]
    resources = ["arn:${local.partition}:ecs:${local.region}:${local.account_id}:task/${aws_ecs_cluster.bot[0].name}/*"]
    condition {
      test     = "StringEquals"
      variable = "ecs:CreateAction"
      values   = ["RunTask"]
    }
  }

  # voice_common.dispatch.seal_tokens: the room and bot tokens travel in the overrides KMS-encrypted
  # with the module key, under the bot-dispatch encryption context (only the bot's task role opens them).
  statement {
    sid       = "SealBotTokens"
    actions   = ["kms:Encrypt"]
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

  # run_task hands the bot's task and execution roles to ECS, and nothing else.
  statement {
    sid       = "PassBotRoles"
    actions   = ["iam:PassRole"]
    resources = [aws_iam_role.bot_task[0].arn, aws_iam_role.bot_execution[0].arn]
    condition {
      test     = "StringEquals"
      variable = "iam:PassedToService"
      values   = ["ecs-tasks.amazonaws.com"]
    }
  }
}

# voice_common.dispatch.stop_bot_task: tasks of this module's cluster.
data "aws_iam_policy_document" "stop_bot" {
  count = local.enabled ? 1 : 0

  statement {
    sid       = "StopBotTask"
    actions   = ["ecs:StopTask"]
    resources = ["arn:${local.partition}:ecs:${local.region}:${local.account_id}:task/${aws_ecs_cluster.bot[0].name}/*"]
    condition {
      test     = "ArnEquals"
      variable = "ecs:cluster"
      values   = [aws_ecs_cluster.bot[0].arn]
    }
  }
}

# voice_common.credentials (read): platform keys and the organizations' keys.
data "aws_iam_policy_document" "provider_secrets" {
  count = local.enabled ? 1 : 0

  statement {
    sid       = "ProviderKeys"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = concat([var.daily_api_key_secret_arn, local.credential_secrets_arn], local.optional_provider_secret_arns)
  }
}

# voice_common.credentials (write): only secrets under cora/<environment>/voice/credentials/.
data "aws_iam_policy_document" "credentials_admin" {
  count = local.enabled ? 1 : 0

  statement {
    sid = "ManageCredentialSecrets"
    actions = [
      "secretsmanager:CreateSecret",
      "secretsmanager:TagResource",
      "secretsmanager:DescribeSecret",
      "secretsmanager:PutSecretValue",
      "secretsmanager:RestoreSecret",
      "secretsmanager:DeleteSecret",
      # A save whose database row fails moves AWSCURRENT back to the previous version (rollback).
      "secretsmanager:UpdateSecretVersionStage",
    ]
    resources = [local.credential_secrets_arn]
  }
}

# voice_common.api.health: one cheap probe per dependency.
data "aws_iam_policy_document" "health" {
  count = local.enabled ? 1 : 0

  statement {
    sid       = "ProbeTable"
    actions   = ["dynamodb:DescribeTable"]
    resources = [aws_dynamodb_table.connections[0].arn]
  }

  statement {
    sid       = "ProbeBucket"
    actions   = ["s3:ListBucket"]
    resources = [aws_s3_bucket.transcripts[0].arn]
  }

  statement {
    sid       = "ProbeQueue"
    actions   = ["sqs:GetQueueAttributes"]
    resources = [aws_sqs_queue.worker[0].arn]
  }
}

# voice_common.preview: the per-organization rate limit (in the idempotency table) and the S3 cache.
data "aws_iam_policy_document" "preview" {
  count = local.enabled ? 1 : 0

  statement {
    sid       = "PreviewRateLimit"
    actions   = ["dynamodb:GetItem", "dynamodb:PutItem"]
    resources = [aws_dynamodb_table.idempotency[0].arn]
  }

  statement {
    sid       = "PreviewCache"
    actions   = ["s3:GetObject", "s3:PutObject"]
    resources = ["${aws_s3_bucket.transcripts[0].arn}/${local.previews_prefix}*"]
  }
}

# Lambda writes failed asynchronous invocations to the DLQ with the function's role.
data "aws_iam_policy_document" "async_dlq" {
  count = local.enabled ? 1 : 0

  statement {
    sid       = "AsyncDeadLetters"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.lambda_dlq[0].arn]
  }
}

# The SQS event sources poll with the function's role.
data "aws_iam_policy_document" "dispatch_check_consumer" {
  count = local.enabled ? 1 : 0

  statement {
    sid       = "PollPickupChecks"
    actions   = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"]
    resources = [aws_sqs_queue.dispatch_check[0].arn]
  }
}

data "aws_iam_policy_document" "worker_consumer" {
  count = local.enabled ? 1 : 0

  statement {
    sid       = "PollCompletionJobs"
    actions   = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"]
    resources = [aws_sqs_queue.worker[0].arn]
  }
}

locals {
  optional_provider_secret_arns = compact([
    var.deepgram_api_key_secret_arn != null ? var.deepgram_api_key_secret_arn : "",
    var.cartesia_api_key_secret_arn != null ? var.cartesia_api_key_secret_arn : "",
  ])
}

# --- API Gateway account role (optional, account-wide) ---------------------------------------------------------

data "aws_iam_policy_document" "apigateway_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["apigateway.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "apigateway_cloudwatch" {
  count = local.enabled && var.create_api_gateway_account_role ? 1 : 0

  name               = "${local.prefix}-apigateway-cloudwatch"
  assume_role_policy = data.aws_iam_policy_document.apigateway_assume.json
  tags               = local.tags
}

# AWS managed: API Gateway's account-wide log delivery (log groups it creates are named at run time).
resource "aws_iam_role_policy_attachment" "apigateway_cloudwatch" {
  count = local.enabled && var.create_api_gateway_account_role ? 1 : 0

  role       = aws_iam_role.apigateway_cloudwatch[0].name
  policy_arn = "arn:${local.partition}:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"
}

resource "aws_api_gateway_account" "voice" {
  count = local.enabled && var.create_api_gateway_account_role ? 1 : 0

  cloudwatch_role_arn = aws_iam_role.apigateway_cloudwatch[0].arn
}
