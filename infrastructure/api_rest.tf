# The REST routes (module.json; tests/infrastructure checks they are equal). With create_rest_api the
# module publishes its own regional REST API (OpenAPI body generated from the table below) behind the
# platform's Lambda authorizer; either way the routes are exported (output rest_routes) for the CORA
# platform's gateway. auth: "user" = the authorizer; "bot-token" = none at the gateway, the voice-bot
# Lambda verifies the per-session bot token; "none" = public (health).

locals {
  rest_api_enabled = local.enabled && var.create_rest_api

  rest_routes = [
    { lambda = "voice-sessions", method = "GET", path = "/api/voice/health", auth = "none" },
    { lambda = "voice-sessions", method = "GET", path = "/api/voice/sessions", auth = "user" },
    { lambda = "voice-sessions", method = "POST", path = "/api/voice/sessions", auth = "user" },
    { lambda = "voice-sessions", method = "GET", path = "/api/voice/sessions/{id}", auth = "user" },
    { lambda = "voice-sessions", method = "PUT", path = "/api/voice/sessions/{id}", auth = "user" },
    { lambda = "voice-sessions", method = "DELETE", path = "/api/voice/sessions/{id}", auth = "user" },
    { lambda = "voice-sessions", method = "GET", path = "/api/voice/sessions/{id}/kbs", auth = "user" },
    { lambda = "voice-sessions", method = "POST", path = "/api/voice/sessions/{id}/kbs", auth = "user" },
    { lambda = "voice-sessions", method = "PUT", path = "/api/voice/sessions/{id}/kbs/{kbId}", auth = "user" },
    { lambda = "voice-sessions", method = "DELETE", path = "/api/voice/sessions/{id}/kbs/{kbId}", auth = "user" },
    { lambda = "voice-sessions", method = "POST", path = "/api/voice/sessions/{id}/start", auth = "user" },
    { lambda = "voice-configs", method = "GET", path = "/api/voice/configs", auth = "user" },
    { lambda = "voice-configs", method = "POST", path = "/api/voice/configs", auth = "user" },
    { lambda = "voice-configs", method = "GET", path = "/api/voice/configs/{id}", auth = "user" },
    { lambda = "voice-configs", method = "PUT", path = "/api/voice/configs/{id}", auth = "user" },
    { lambda = "voice-configs", method = "DELETE", path = "/api/voice/configs/{id}", auth = "user" },
    { lambda = "voice-configs", method = "GET", path = "/api/voice/settings", auth = "user" },
    { lambda = "voice-configs", method = "PUT", path = "/api/voice/settings", auth = "user" },
    { lambda = "voice-credentials", method = "GET", path = "/api/voice/credentials", auth = "user" },
    { lambda = "voice-credentials", method = "POST", path = "/api/voice/credentials", auth = "user" },
    { lambda = "voice-credentials", method = "GET", path = "/api/voice/credentials/{id}", auth = "user" },
    { lambda = "voice-credentials", method = "DELETE", path = "/api/voice/credentials/{id}", auth = "user" },
    { lambda = "voice-credentials", method = "POST", path = "/api/voice/credentials/{id}/validate", auth = "user" },
    { lambda = "voice-transcripts", method = "GET", path = "/api/voice/transcripts", auth = "user" },
    { lambda = "voice-transcripts", method = "GET", path = "/api/voice/transcripts/{id}", auth = "user" },
    { lambda = "voice-transcripts", method = "DELETE", path = "/api/voice/transcripts/{id}", auth = "user" },
    { lambda = "voice-analytics", method = "GET", path = "/api/voice/analytics/{sessionId}", auth = "user" },
    { lambda = "voice-analytics", method = "POST", path = "/api/voice/analytics/{sessionId}/regenerate", auth = "user" },
    { lambda = "voice-analytics", method = "GET", path = "/api/voice/stats", auth = "user" },
    { lambda = "voice-preview", method = "POST", path = "/api/voice/preview", auth = "user" },
    { lambda = "voice-bot", method = "POST", path = "/api/voice/bot/sessions/{id}/joined", auth = "bot-token" },
    { lambda = "voice-bot", method = "POST", path = "/api/voice/bot/sessions/{id}/heartbeat", auth = "bot-token" },
    { lambda = "voice-bot", method = "POST", path = "/api/voice/bot/sessions/{id}/completed", auth = "bot-token" },
    { lambda = "voice-bot", method = "POST", path = "/api/voice/bot/sessions/{id}/failed", auth = "bot-token" },
  ]

  rest_lambdas = toset([for r in local.rest_routes : r.lambda])
  rest_paths   = distinct([for r in local.rest_routes : r.path])

  # Built from names, not from the function resources: the functions' environment needs this API's id.
  function_arns = {
    for name in keys(local.lambdas) :
    name => "arn:${local.partition}:lambda:${local.region}:${local.account_id}:function:${local.prefix}-${trimprefix(name, "voice-")}"
  }
  function_invoke_arns = {
    for name, arn in local.function_arns :
    name => "arn:${local.partition}:apigateway:${local.region}:lambda:path/2015-03-31/functions/${arn}/invocations"
  }
  authorizer_uri = var.authorizer_lambda_arn != null ? "arn:${local.partition}:apigateway:${local.region}:lambda:path/2015-03-31/functions/${var.authorizer_lambda_arn}/invocations" : ""

  openapi = {
    openapi = "3.0.1"
    info = {
      title   = "${local.prefix}-rest"
      version = local.module_version
    }
    paths = {
      for path in local.rest_paths : path => {
        for r in local.rest_routes : lower(r.method) => {
          security = r.auth == "user" ? [{ cora-authorizer = [] }] : []
          parameters = [
            for m in regexall("\\{([A-Za-z0-9_]+)\\}", path) :
            { name = m[0], in = "path", required = true, schema = { type = "string" } }
          ]
          responses = {}
          x-amazon-apigateway-integration = {
            type                = "aws_proxy"
            httpMethod          = "POST"
            uri                 = local.function_invoke_arns[r.lambda]
            passthroughBehavior = "when_no_match"
            timeoutInMillis     = 29000
          }
        } if r.path == path
      }
    }
    components = {
      securitySchemes = {
        cora-authorizer = {
          type                         = "apiKey"
          name                         = "Authorization"
          in                           = "header"
          x-amazon-apigateway-authtype = "custom"
          x-amazon-apigateway-authorizer = {
            type                         = lower(var.authorizer_type)
            authorizerUri                = local.authorizer_uri
            identitySource               = "method.request.header.Authorization"
            authorizerResultTtlInSeconds = var.authorizer_result_ttl_seconds
          }
        }
      }
    }
  }

  rest_execution_arn = local.rest_api_enabled ? one(aws_api_gateway_rest_api.voice[*].execution_arn) : var.platform_rest_api_execution_arn
  rest_permissions = {
    for r in local.rest_routes : "${r.method} ${r.path}" => r
    if local.enabled && (var.create_rest_api || var.platform_rest_api_execution_arn != null)
  }
}

resource "aws_api_gateway_rest_api" "voice" {
  count = local.rest_api_enabled ? 1 : 0

  name              = "${local.prefix}-rest"
  description       = "module-voice REST API (/api/voice)"
  body              = jsonencode(local.openapi)
  put_rest_api_mode = "overwrite"

  endpoint_configuration {
    types = ["REGIONAL"]
  }

  lifecycle {
    create_before_destroy = true
    precondition {
      condition     = var.authorizer_lambda_arn != null
      error_message = "create_rest_api needs authorizer_lambda_arn (the platform's Lambda authorizer)."
    }
  }

  tags = local.tags
}

resource "aws_api_gateway_deployment" "voice" {
  count = local.rest_api_enabled ? 1 : 0

  rest_api_id = aws_api_gateway_rest_api.voice[0].id
  triggers = {
    redeployment = sha1(jsonencode(local.openapi))
  }

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_cloudwatch_log_group" "rest_access" {
  count = local.rest_api_enabled ? 1 : 0

  name              = "/aws/apigateway/${local.prefix}-rest"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.voice[0].arn
  tags              = local.tags
}

resource "aws_api_gateway_stage" "voice" {
  #checkov:skip=CKV_AWS_120:Responses are per user and per organization (authorizer context); a stage cache could serve one caller's data to another.
  #checkov:skip=CKV2_AWS_51:The backends are Lambda proxy integrations, not HTTP endpoints that could verify a client certificate.
  #checkov:skip=CKV2_AWS_29:WAF is optional (waf_web_acl_arn); the platform usually fronts its gateways with its own web ACL.
  #checkov:skip=CKV2_AWS_77:The web ACL (and its managed rule groups, Log4j included) belongs to the platform; the module only associates it.
  count = local.rest_api_enabled ? 1 : 0

  rest_api_id          = aws_api_gateway_rest_api.voice[0].id
  deployment_id        = aws_api_gateway_deployment.voice[0].id
  stage_name           = var.api_stage_name
  xray_tracing_enabled = true

  access_log_settings {
    destination_arn = aws_cloudwatch_log_group.rest_access[0].arn
    format = jsonencode({
      requestId      = "$context.requestId"
      ip             = "$context.identity.sourceIp"
      requestTime    = "$context.requestTime"
      httpMethod     = "$context.httpMethod"
      resourcePath   = "$context.resourcePath"
      status         = "$context.status"
      responseLength = "$context.responseLength"
      latency        = "$context.responseLatency"
      principalId    = "$context.authorizer.principalId"
      errorMessage   = "$context.error.message"
    })
  }

  tags = local.tags
}

resource "aws_api_gateway_method_settings" "voice" {
  #checkov:skip=CKV_AWS_225:No response caching for per-user responses (see the stage).
  count = local.rest_api_enabled ? 1 : 0

  rest_api_id = aws_api_gateway_rest_api.voice[0].id
  stage_name  = aws_api_gateway_stage.voice[0].stage_name
  method_path = "*/*"

  settings {
    metrics_enabled        = true
    logging_level          = var.api_execution_logging ? "ERROR" : "OFF"
    data_trace_enabled     = false # request/response bodies can hold candidate PII
    throttling_rate_limit  = var.api_throttle_rate_limit
    throttling_burst_limit = var.api_throttle_burst_limit
  }
}

resource "aws_wafv2_web_acl_association" "rest" {
  count = local.rest_api_enabled && var.waf_web_acl_arn != null ? 1 : 0

  resource_arn = aws_api_gateway_stage.voice[0].arn
  web_acl_arn  = var.waf_web_acl_arn
}

# Each route may invoke only its Lambda, for its method and resource path.
resource "aws_lambda_permission" "rest" {
  for_each = local.rest_permissions

  statement_id  = "rest-${lower(each.value.method)}${replace(replace(each.value.path, "/[{}]/", ""), "/", "-")}"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.voice[each.value.lambda].function_name
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${local.rest_execution_arn}/*/${each.value.method}${replace(each.value.path, "/\\{[^}]+\\}/", "*")}"
}

# The platform's authorizer is invoked by this API.
resource "aws_lambda_permission" "authorizer" {
  count = local.rest_api_enabled ? 1 : 0

  statement_id  = "${local.prefix}-rest-authorizer"
  action        = "lambda:InvokeFunction"
  function_name = var.authorizer_lambda_arn
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${aws_api_gateway_rest_api.voice[0].execution_arn}/authorizers/*"
}
