# One function per backend/lambdas/<name> folder (tests/infrastructure checks both directions).
# Each function's environment is the union of the groups it lists (what its import closure reads) and
# its policy the union of the parts it lists (iam.tf: what its reachable code calls);
# tests/infrastructure/test_terraform.py derives both from the code and checks them in both directions.

locals {
  layer_names = ["access_common", "ai_common", "voice_common", "dependencies"]

  lambdas = {
    "voice-sessions" = {
      description = "Sessions, knowledge-base links, start (Daily room + bot dispatch), health"
      timeout     = var.module_voice_lambda_timeout
      memory      = var.module_voice_lambda_memory
      async       = false
      env_groups  = ["common", "rest", "realtime", "settings", "completion", "dispatch", "provider_secrets", "health"]
      policies    = ["kms_write", "connections", "push", "bot_token_secret", "completion_jobs", "transcript_erase", "provider_secrets", "pool_dispatch", "run_bot", "stop_bot", "health"]
    }
    "voice-configs" = {
      description = "Interview configurations"
      timeout     = var.module_voice_lambda_timeout
      memory      = var.module_voice_lambda_memory
      async       = false
      env_groups  = ["common", "rest"]
      policies    = []
    }
    "voice-credentials" = {
      description = "Provider credentials (keys in Secrets Manager)"
      timeout     = var.module_voice_lambda_timeout
      memory      = var.module_voice_lambda_memory
      async       = false
      env_groups  = ["common", "rest", "provider_secrets"]
      policies    = ["provider_secrets", "credentials_admin"]
    }
    "voice-transcripts" = {
      description = "Transcripts"
      timeout     = var.module_voice_lambda_timeout
      memory      = var.module_voice_lambda_memory
      async       = false
      env_groups  = ["common", "rest", "realtime", "settings", "completion", "dispatch", "provider_secrets"]
      policies    = ["kms_write", "connections", "push", "bot_token_secret", "completion_jobs", "transcript_erase"]
    }
    "voice-analytics" = {
      description = "Interview analytics and organization statistics"
      timeout     = var.module_voice_lambda_timeout
      memory      = var.module_voice_lambda_memory
      async       = false
      env_groups  = ["common", "rest", "realtime", "settings", "completion"]
      policies    = ["kms_write", "connections", "push", "bot_token_secret", "completion_jobs"]
    }
    "voice-preview" = {
      description = "Voice previews (Cartesia or Piper), rate-limited per organization, cached in S3"
      timeout     = var.module_voice_lambda_timeout
      memory      = var.preview_lambda_memory
      async       = false
      env_groups  = ["common", "rest", "settings", "provider_secrets", "preview"]
      policies    = ["kms_write", "provider_secrets", "preview"]
    }
    "voice-bot" = {
      description = "Bot lifecycle callbacks (per-session bot token, no user authorizer)"
      timeout     = var.module_voice_lambda_timeout
      memory      = var.module_voice_lambda_memory
      async       = false
      env_groups  = ["common", "rest", "realtime", "settings", "completion", "dispatch", "provider_secrets"]
      policies    = ["kms_write", "connections", "push", "bot_token_secret", "completion_jobs", "provider_secrets", "stop_bot"]
    }
    "voice-websocket" = {
      description = "Live transcript WebSocket ($connect verifies the user JWT or bot token itself)"
      timeout     = var.module_voice_lambda_timeout
      memory      = var.module_voice_lambda_memory
      async       = false
      env_groups  = ["common", "realtime", "websocket_auth"]
      policies    = ["kms_write", "connections", "connections_register", "push", "bot_token_secret", "jwt_secret"]
    }
    "voice-events" = {
      description = "ECS task state changes, bot watchdog, pool pickup fallback"
      timeout     = var.events_lambda_timeout
      memory      = var.module_voice_lambda_memory
      async       = true
      env_groups  = ["common", "realtime", "settings", "completion", "dispatch", "provider_secrets"]
      policies    = ["kms_write", "connections", "push", "bot_token_secret", "completion_jobs", "provider_secrets", "run_bot", "stop_bot", "async_dlq", "dispatch_check_consumer"]
    }
    "voice-worker" = {
      description = "Transcript assembly, S3 archival, AI analytics, retention"
      timeout     = var.worker_lambda_timeout
      memory      = var.worker_lambda_memory
      async       = true
      env_groups  = ["common", "realtime", "settings", "completion"]
      policies    = ["kms_write", "connections", "push", "bot_token_secret", "completion_jobs", "transcript_archive", "transcript_erase", "openai_secret", "async_dlq", "worker_consumer"]
    }
  }

  # Environment groups (names: docs/contracts.md). Values are never keys: secrets travel as ARNs.
  lambda_env_groups = {
    common = {
      POWERTOOLS_SERVICE_NAME      = "module-voice"
      POWERTOOLS_METRICS_NAMESPACE = "ModuleVoice"
      POWERTOOLS_LOG_LEVEL         = var.log_level
      DATABASE_SECRET_ARN          = var.database_url_secret_arn
    }
    # access_common.app: every REST resolver answers CORS for the web app's origins.
    rest = {
      CORS_ALLOW_ORIGINS = join(",", var.cors_allow_origins)
    }
    realtime = {
      CONNECTIONS_TABLE      = local.connections_table_name
      WEBSOCKET_API_ENDPOINT = local.websocket_management_url
      BOT_TOKEN_SECRET_ARN   = local.bot_token_secret_arn
    }
    websocket_auth = {
      SUPABASE_JWT_SECRET_ARN = var.supabase_jwt_secret_arn
    }
    # module.config.yaml values the deployment decides; the ECS pool schedule uses the same variables.
    settings = {
      VOICE_STANDBY_POOL_SIZE         = tostring(var.standby_pool_size)
      VOICE_BUSINESS_HOURS_START      = var.business_hours_start
      VOICE_BUSINESS_HOURS_END        = var.business_hours_end
      VOICE_BUSINESS_HOURS_DAYS       = join(",", var.business_hours_days)
      VOICE_BUSINESS_HOURS_TIMEZONE   = var.business_hours_timezone
      VOICE_TRANSCRIPT_RETENTION_DAYS = tostring(var.transcript_retention_days)
    }
    completion = {
      TRANSCRIPT_BUCKET         = local.transcript_bucket_name
      TRANSCRIPT_KMS_KEY_ID     = local.kms_key_arn
      WORKER_QUEUE_URL          = local.worker_queue_url
      OPENAI_API_KEY_SECRET_ARN = var.openai_api_key_secret_arn != null ? var.openai_api_key_secret_arn : ""
      OPENAI_MODEL              = var.openai_model
    }
    dispatch = {
      STANDBY_QUEUE_URL        = var.standby_pool_size > 0 ? local.standby_queue_url : ""
      DISPATCH_CHECK_QUEUE_URL = local.dispatch_check_queue_url
      ECS_CLUSTER              = local.ecs_cluster_name
      ECS_TASK_DEFINITION      = local.bot_task_definition_arn
      ECS_CONTAINER_NAME       = var.bot_container_name
      ECS_SUBNETS              = join(",", var.ecs_subnets)
      ECS_SECURITY_GROUPS      = join(",", var.ecs_security_groups)
      ECS_ASSIGN_PUBLIC_IP     = var.ecs_assign_public_ip ? "ENABLED" : "DISABLED"
      BOT_DISPATCH_KMS_KEY_ID  = local.kms_key_arn # seals the bot's tokens in run_task overrides
      API_BASE_URL             = local.api_base_url != null ? local.api_base_url : ""
      WEBSOCKET_URL            = local.websocket_url
    }
    provider_secrets = {
      ENVIRONMENT                 = var.environment
      DAILY_API_KEY_SECRET_ARN    = var.daily_api_key_secret_arn
      DEEPGRAM_API_KEY_SECRET_ARN = var.deepgram_api_key_secret_arn != null ? var.deepgram_api_key_secret_arn : ""
      CARTESIA_API_KEY_SECRET_ARN = var.cartesia_api_key_secret_arn != null ? var.cartesia_api_key_secret_arn : ""
    }
    health = {
      MODULE_VERSION = local.module_version
    }
    # voice_common.preview: rate limit records live in the idempotency table, the cache under previews/.
    preview = {
      IDEMPOTENCY_TABLE                   = local.idempotency_table_name
      TRANSCRIPT_BUCKET                   = local.transcript_bucket_name
      VOICE_PREVIEW_RATE_LIMIT_PER_MINUTE = tostring(var.preview_rate_limit_per_minute)
    }
  }

  module_version = try(jsondecode(file("${path.module}/../module.json")).version, "unknown")
  lambda_vpc     = length(var.lambda_subnet_ids) > 0

  # Functions deployed as container images (Lambda name => ECR image URI) instead of zip + layers: only
  # voice-preview, with preview_image_uri (backend/lambdas/voice-preview/Dockerfile: layers + Piper).
  lambda_images = var.preview_image_uri != null ? { "voice-preview" = var.preview_image_uri } : {}
}

resource "aws_lambda_layer_version" "voice" {
  for_each = local.enabled ? toset(local.layer_names) : toset([])

  layer_name               = "${local.prefix}-${replace(each.key, "_", "-")}"
  description              = "module-voice ${each.key} (python/ on /opt/python)"
  filename                 = "${local.artifacts_dir}/layer-${each.key}.zip"
  source_code_hash         = filebase64sha256("${local.artifacts_dir}/layer-${each.key}.zip")
  compatible_runtimes      = ["python3.11"]
  compatible_architectures = ["x86_64"]
}

resource "aws_cloudwatch_log_group" "lambda" {
  for_each = { for name, spec in local.lambdas : name => spec if local.enabled }

  name              = "/aws/lambda/${local.prefix}-${trimprefix(each.key, "voice-")}"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.voice[0].arn
  tags              = local.tags
}

resource "aws_lambda_function" "voice" {
  #checkov:skip=CKV_AWS_116:REST/WebSocket functions are invoked synchronously (the caller sees the error); the asynchronous ones (voice-events, voice-worker) get the dead_letter_config below.
  #checkov:skip=CKV_AWS_117:VPC is optional (lambda_subnet_ids): the module reaches the Supabase pooler and AWS APIs over TLS and needs no private network by default.
  #checkov:skip=CKV_AWS_272:Code signing needs an AWS Signer profile of the platform; artifacts are pinned by source_code_hash from the deterministic build.
  for_each = { for name, spec in local.lambdas : name => spec if local.enabled }

  function_name = "${local.prefix}-${trimprefix(each.key, "voice-")}"
  description   = each.value.description
  role          = aws_iam_role.lambda[each.key].arn
  architectures = ["x86_64"]
  timeout       = each.value.timeout
  memory_size   = each.value.memory

  # Zip (the default): the folder's zip on python3.11 with the four layers. Image (lambda_images): the
  # image holds the code, the layers and the handler (its CMD), so handler, runtime and layers stay unset.
  package_type     = contains(keys(local.lambda_images), each.key) ? "Image" : "Zip"
  image_uri        = lookup(local.lambda_images, each.key, null)
  handler          = contains(keys(local.lambda_images), each.key) ? null : "lambda_function.lambda_handler"
  runtime          = contains(keys(local.lambda_images), each.key) ? null : "python3.11"
  filename         = contains(keys(local.lambda_images), each.key) ? null : "${local.artifacts_dir}/${each.key}.zip"
  source_code_hash = contains(keys(local.lambda_images), each.key) ? null : filebase64sha256("${local.artifacts_dir}/${each.key}.zip")
  layers           = contains(keys(local.lambda_images), each.key) ? [] : [for name in local.layer_names : aws_lambda_layer_version.voice[name].arn]

  # Each warm container holds one database connection: the reservation caps connections per function.
  reserved_concurrent_executions = lookup(var.lambda_reserved_concurrency, each.key, -1)
  kms_key_arn                    = aws_kms_key.voice[0].arn

  environment {
    variables = merge([for group in each.value.env_groups : local.lambda_env_groups[group]]...)
  }

  tracing_config {
    mode = "Active"
  }

  dynamic "dead_letter_config" {
    for_each = each.value.async ? [aws_sqs_queue.lambda_dlq[0].arn] : []
    content {
      target_arn = dead_letter_config.value
    }
  }

  dynamic "vpc_config" {
    for_each = local.lambda_vpc ? [1] : []
    content {
      subnet_ids         = var.lambda_subnet_ids
      security_group_ids = var.lambda_security_group_ids
    }
  }

  tags = local.tags

  lifecycle {
    precondition {
      condition     = local.api_base_url != null
      error_message = "Bots need the REST base URL: set api_base_url when create_rest_api = false."
    }
    precondition {
      condition     = !local.lambda_vpc || length(var.lambda_security_group_ids) > 0
      error_message = "lambda_subnet_ids needs lambda_security_group_ids (a Lambda in a VPC needs at least one security group)."
    }
  }

  depends_on = [aws_cloudwatch_log_group.lambda, aws_iam_role_policy.lambda]
}

# Asynchronous invocations (EventBridge): two retries within an hour, then the dead-letter queue.
resource "aws_lambda_function_event_invoke_config" "async" {
  for_each = { for name, spec in local.lambdas : name => spec if local.enabled && spec.async }

  function_name                = aws_lambda_function.voice[each.key].function_name
  maximum_retry_attempts       = 2
  maximum_event_age_in_seconds = 3600
}

# --- SQS event sources ------------------------------------------------------------------------------------------

resource "aws_lambda_event_source_mapping" "dispatch_check" {
  count = local.enabled ? 1 : 0

  event_source_arn        = aws_sqs_queue.dispatch_check[0].arn
  function_name           = aws_lambda_function.voice["voice-events"].arn
  batch_size              = 10
  function_response_types = ["ReportBatchItemFailures"]
}

resource "aws_lambda_event_source_mapping" "worker" {
  count = local.enabled ? 1 : 0

  event_source_arn        = aws_sqs_queue.worker[0].arn
  function_name           = aws_lambda_function.voice["voice-worker"].arn
  batch_size              = 5
  function_response_types = ["ReportBatchItemFailures"]
  scaling_config {
    maximum_concurrency = var.worker_max_concurrency
  }
}
