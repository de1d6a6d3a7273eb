# What the CORA platform and operators need from the module.

output "rest_routes" {
  description = "REST routes for the platform's API Gateway integration: method, path, Lambda (name, ARN, invoke ARN) and auth (user = platform authorizer, bot-token / none = no authorizer)."
  value = local.enabled ? [
    for r in local.rest_routes : {
      method        = r.method
      path          = r.path
      lambda        = r.lambda
      function_name = aws_lambda_function.voice[r.lambda].function_name
      lambda_arn    = aws_lambda_function.voice[r.lambda].arn
      invoke_arn    = aws_lambda_function.voice[r.lambda].invoke_arn
      auth          = r.auth
    }
  ] : []
}

output "rest_api_id" {
  description = "The module's own REST API (create_rest_api)."
  value       = one(aws_api_gateway_rest_api.voice[*].id)
}

output "rest_api_url" {
  description = "Base URL of the module's REST routes (…/api/voice); the platform's when api_base_url is set."
  value       = local.api_base_url
}

output "websocket_url" {
  description = "Live transcript WebSocket URL (wss://…/<stage>); clients add ?token=<jwt>."
  value       = local.websocket_url
}

output "websocket_management_endpoint" {
  description = "@connections management endpoint (https://…/<stage>) used by the Lambdas."
  value       = local.websocket_management_url
}

output "lambda_functions" {
  description = "Lambda name => {function_name, arn, role_arn}."
  value = {
    for name, fn in aws_lambda_function.voice : name => {
      function_name = fn.function_name
      arn           = fn.arn
      role_arn      = fn.role
    }
  }
}

output "queue_urls" {
  description = "SQS queue URLs (standby pool, dispatch checks, completion jobs and their dead-letter queues)."
  value = local.enabled ? {
    standby_pool       = aws_sqs_queue.standby_pool[0].url
    standby_pool_dlq   = aws_sqs_queue.standby_pool_dlq[0].url
    dispatch_check     = aws_sqs_queue.dispatch_check[0].url
    dispatch_check_dlq = aws_sqs_queue.dispatch_check_dlq[0].url
    worker             = aws_sqs_queue.worker[0].url
    worker_dlq         = aws_sqs_queue.worker_dlq[0].url
    lambda_dlq         = aws_sqs_queue.lambda_dlq[0].url
    events_dlq         = aws_sqs_queue.events_dlq[0].url
  } : {}
}

output "transcript_bucket" {
  description = "S3 bucket of the archived transcripts."
  value       = local.transcript_bucket_name
}

output "connections_table" {
  description = "DynamoDB table of WebSocket connections."
  value       = local.connections_table_name
}

output "idempotency_table" {
  description = "DynamoDB table of idempotency records."
  value       = local.idempotency_table_name
}

output "ecs_cluster" {
  description = "ECS cluster of the bots."
  value       = local.ecs_cluster_name
}

output "bot_task_definition" {
  description = "Task definition (family ARN) voice_common.dispatch runs for one interview."
  value       = local.bot_task_definition_arn
}

output "standby_service" {
  description = "ECS service of the standby pool (null when standby_pool_size = 0)."
  value       = one(aws_ecs_service.standby[*].name)
}

output "bot_task_role_arns" {
  description = "Task roles of the bot (task mode, standby) and its execution role."
  value = local.enabled ? {
    task      = aws_iam_role.bot_task[0].arn
    standby   = aws_iam_role.bot_standby_task[0].arn
    execution = aws_iam_role.bot_execution[0].arn
  } : {}
}

output "bot_token_secret_arn" {
  description = "Secrets Manager ARN of the bot-token signing secret."
  value       = local.bot_token_secret_arn
}

output "kms_key_arn" {
  description = "The module's KMS key."
  value       = local.kms_key_arn
}

output "dashboard_name" {
  description = "CloudWatch dashboard."
  value       = one(aws_cloudwatch_dashboard.voice[*].dashboard_name)
}
