# The live transcript WebSocket API (docs/websocket.md): route selection on the message's `action`,
# one integration (voice-websocket) for every route of module.json.
#
# $connect has no API Gateway authorizer on purpose: the token arrives as the `token` query parameter and
# is either a user JWT or a per-session bot token, two schemes one Lambda authorizer would have to merge.
# voice-websocket verifies it itself (access_common.jwt / voice_common.bot_token) and rejects the
# connection with 401/403 before anything is stored; every later route reads the caller recorded at
# $connect from the connections table.

locals {
  websocket_routes = ["$connect", "$disconnect", "subscribe", "unsubscribe", "transcript", "ping", "$default"]
}

resource "aws_apigatewayv2_api" "websocket" {
  count = local.enabled ? 1 : 0

  name                       = "${local.prefix}-websocket"
  description                = "module-voice live transcripts"
  protocol_type              = "WEBSOCKET"
  route_selection_expression = "$request.body.action"
  tags                       = local.tags
}

resource "aws_apigatewayv2_integration" "websocket" {
  count = local.enabled ? 1 : 0

  api_id             = aws_apigatewayv2_api.websocket[0].id
  integration_type   = "AWS_PROXY"
  integration_method = "POST"
  integration_uri    = aws_lambda_function.voice["voice-websocket"].invoke_arn
}

resource "aws_apigatewayv2_route" "websocket" {
  #checkov:skip=CKV_AWS_309:$connect is authenticated by voice-websocket itself (user JWT or bot token in the query string, see above); the other routes act only for connections recorded at $connect.
  for_each = local.enabled ? toset(local.websocket_routes) : toset([])

  api_id             = aws_apigatewayv2_api.websocket[0].id
  route_key          = each.key
  authorization_type = "NONE"
  target             = "integrations/${aws_apigatewayv2_integration.websocket[0].id}"
}

resource "aws_cloudwatch_log_group" "websocket_access" {
  count = local.enabled ? 1 : 0

  name              = "/aws/apigateway/${local.prefix}-websocket"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.voice[0].arn
  tags              = local.tags
}

resource "aws_apigatewayv2_stage" "websocket" {
  #checkov:skip=CKV2_AWS_51:Clients are browsers and bots authenticated by JWT/bot token at $connect; the backend is a Lambda proxy, no HTTP backend to present a client certificate to.
  count = local.enabled ? 1 : 0

  api_id      = aws_apigatewayv2_api.websocket[0].id
  name        = var.api_stage_name
  auto_deploy = true

  default_route_settings {
    throttling_rate_limit    = var.api_throttle_rate_limit
    throttling_burst_limit   = var.api_throttle_burst_limit
    detailed_metrics_enabled = true
    logging_level            = var.api_execution_logging ? "ERROR" : "OFF"
    data_trace_enabled       = false # frames carry transcript text
  }

  access_log_settings {
    destination_arn = aws_cloudwatch_log_group.websocket_access[0].arn
    format = jsonencode({
      requestId    = "$context.requestId"
      connectionId = "$context.connectionId"
      routeKey     = "$context.routeKey"
      eventType    = "$context.eventType"
      status       = "$context.status"
      requestTime  = "$context.requestTime"
      error        = "$context.error.message"
      integration  = "$context.integrationErrorMessage"
    })
  }

  # The stage exists whenever the module does, so it carries the throttle rule shared with the REST stage.
  lifecycle {
    precondition {
      condition     = var.api_throttle_burst_limit >= var.api_throttle_rate_limit
      error_message = "api_throttle_burst_limit must be at least api_throttle_rate_limit (a smaller bucket than one second of the steady rate throttles requests below the rate)."
    }
  }

  depends_on = [aws_apigatewayv2_route.websocket]
  tags       = local.tags
}

resource "aws_lambda_permission" "websocket" {
  for_each = local.enabled ? toset(local.websocket_routes) : toset([])

  statement_id  = "websocket-${replace(each.key, "$", "")}"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.voice["voice-websocket"].function_name
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${aws_apigatewayv2_api.websocket[0].execution_arn}/${var.api_stage_name}/${each.key}"
}
