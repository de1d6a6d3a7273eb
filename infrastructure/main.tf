# Shared names, lookups and the enable switch. Every resource is counted on `local.enabled`, so
# `module_voice_enabled = false` removes the whole module (the CORA convention of seed 001).

data "aws_region" "current" {}
data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  enabled = var.module_voice_enabled

  # Resource names follow ${project}-${environment}-voice-<what>, as the local stack does (voice_local.aws).
  prefix     = "${var.project_name}-${var.environment}-voice"
  region     = data.aws_region.current.name
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition

  # `make build` writes the Lambda and layer zips here.
  artifacts_dir = var.artifacts_dir != null ? var.artifacts_dir : "${path.module}/../dist"

  tags = merge(var.tags, {
    Module      = "module-voice"
    Project     = var.project_name
    Environment = var.environment
  })

  # Single-instance resources are referenced through these (null when the module is disabled), so
  # locals and outputs stay valid with count = 0.
  kms_key_arn               = one(aws_kms_key.voice[*].arn)
  connections_table_name    = one(aws_dynamodb_table.connections[*].name)
  idempotency_table_name    = one(aws_dynamodb_table.idempotency[*].name)
  transcript_bucket_name    = one(aws_s3_bucket.transcripts[*].id)
  standby_queue_url         = one(aws_sqs_queue.standby_pool[*].url)
  dispatch_check_queue_url  = one(aws_sqs_queue.dispatch_check[*].url)
  worker_queue_url          = one(aws_sqs_queue.worker[*].url)
  ecs_cluster_name          = one(aws_ecs_cluster.bot[*].name)
  bot_task_definition_arn   = one(aws_ecs_task_definition.bot[*].arn_without_revision)
  bot_token_secret_arn      = one(aws_secretsmanager_secret.bot_token[*].arn)
  websocket_api_endpoint    = one(aws_apigatewayv2_api.websocket[*].api_endpoint)
  websocket_management_url  = local.enabled ? "https://${one(aws_apigatewayv2_api.websocket[*].id)}.execute-api.${local.region}.amazonaws.com/${var.api_stage_name}" : null
  websocket_url             = local.enabled ? "${local.websocket_api_endpoint}/${var.api_stage_name}" : null
  own_rest_api_base_url     = local.rest_api_enabled ? "https://${one(aws_api_gateway_rest_api.voice[*].id)}.execute-api.${local.region}.amazonaws.com/${var.api_stage_name}/api/voice" : null
  api_base_url              = var.api_base_url != null ? var.api_base_url : local.own_rest_api_base_url
  credential_secrets_prefix = "cora/${var.environment}/voice/credentials/"
  # What voice-credentials may create and everything reading provider keys may read: the names of
  # voice_common.credentials.secret_name() (the random 6-character suffix Secrets Manager appends included).
  credential_secrets_arn = "arn:${local.partition}:secretsmanager:${local.region}:${local.account_id}:secret:${local.credential_secrets_prefix}*"
}
