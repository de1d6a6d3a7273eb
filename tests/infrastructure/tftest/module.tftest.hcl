# Plans of the whole module against mock providers (no AWS, no credentials), run by
# tests/infrastructure/test_terraform_cli.py with `terraform test` on a scratch copy of infrastructure/.

mock_provider "aws" {
  mock_data "aws_region" {
    defaults = { name = "eu-west-1" }
  }
  mock_data "aws_caller_identity" {
    defaults = { account_id = "123456789012" }
  }
  mock_data "aws_partition" {
    defaults = { partition = "aws" }
  }
  mock_data "aws_iam_policy_document" {
    defaults = { json = "{}" }
  }
}

variables {
  environment              = "prod"
  bot_image                = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/voice-bot:1.4.0"
  ecs_subnets              = ["subnet-0a1b2c3d"]
  ecs_security_groups      = ["sg-0a1b2c3d"]
  database_url_secret_arn  = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-AbCdEf"
  daily_api_key_secret_arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:daily-AbCdEf"
  supabase_jwt_secret_arn  = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:jwt-AbCdEf"
  authorizer_lambda_arn    = "arn:aws:lambda:eu-west-1:123456789012:function:cora-prod-authorizer"
  artifacts_dir            = "artifacts"
}

# --- voice-preview: zip (default) or container image --------------------------------------------------------

run "preview_zip_by_default" {
  command = plan

  assert {
    condition = (
      aws_lambda_function.voice["voice-preview"].package_type == "Zip"
      && aws_lambda_function.voice["voice-preview"].runtime == "python3.11"
      && aws_lambda_function.voice["voice-preview"].handler == "lambda_function.lambda_handler"
      && aws_lambda_function.voice["voice-preview"].image_uri == null
      && endswith(aws_lambda_function.voice["voice-preview"].filename, "artifacts/voice-preview.zip")
      && length(aws_lambda_function.voice["voice-preview"].layers) == 4
    )
    error_message = "Without preview_image_uri voice-preview is the zip on python3.11 with the four layers."
  }
}

run "preview_image" {
  command = plan

  variables {
    preview_image_uri = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/voice-preview:1.4.0"
  }

  assert {
    condition = (
      aws_lambda_function.voice["voice-preview"].package_type == "Image"
      && aws_lambda_function.voice["voice-preview"].image_uri == "123456789012.dkr.ecr.eu-west-1.amazonaws.com/voice-preview:1.4.0"
      && aws_lambda_function.voice["voice-preview"].runtime == null
      && aws_lambda_function.voice["voice-preview"].handler == null
      && aws_lambda_function.voice["voice-preview"].filename == null
      && length(aws_lambda_function.voice["voice-preview"].layers) == 0
    )
    error_message = "With preview_image_uri voice-preview is that image, with no handler, runtime, zip or layers."
  }

  assert {
    condition = alltrue([
      for name, fn in aws_lambda_function.voice :
      fn.package_type == "Zip" && fn.runtime == "python3.11" && length(fn.layers) == 4 if name != "voice-preview"
    ])
    error_message = "preview_image_uri changes voice-preview only."
  }

  assert {
    condition     = aws_lambda_function.voice["voice-preview"].environment[0].variables["VOICE_PREVIEW_RATE_LIMIT_PER_MINUTE"] == "20"
    error_message = "The image gets the same environment as the zip."
  }
}

run "preview_image_must_be_pinned" {
  command = plan

  variables {
    preview_image_uri = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/voice-preview:latest"
  }

  expect_failures = [var.preview_image_uri]
}

# --- voice-preview rate limit --------------------------------------------------------------------------------

run "preview_rate_limit_default_is_module_config" {
  command = plan

  assert {
    condition     = aws_lambda_function.voice["voice-preview"].environment[0].variables["VOICE_PREVIEW_RATE_LIMIT_PER_MINUTE"] == "20"
    error_message = "voice-preview gets VOICE_PREVIEW_RATE_LIMIT_PER_MINUTE = 20 (module.config.yaml) by default."
  }
}

run "preview_rate_limit_is_wired" {
  command = plan

  variables {
    preview_rate_limit_per_minute = 45
  }

  assert {
    condition     = aws_lambda_function.voice["voice-preview"].environment[0].variables["VOICE_PREVIEW_RATE_LIMIT_PER_MINUTE"] == "45"
    error_message = "preview_rate_limit_per_minute reaches voice-preview as VOICE_PREVIEW_RATE_LIMIT_PER_MINUTE."
  }

  assert {
    condition = alltrue([
      for name, fn in aws_lambda_function.voice :
      !contains(keys(fn.environment[0].variables), "VOICE_PREVIEW_RATE_LIMIT_PER_MINUTE") if name != "voice-preview"
    ])
    error_message = "Only voice-preview reads the preview rate limit."
  }
}

run "preview_rate_limit_is_validated" {
  command = plan

  variables {
    preview_rate_limit_per_minute = 0
  }

  expect_failures = [var.preview_rate_limit_per_minute]
}

# --- preview cache lifetime (docs/api/preview.md) ---------------------------------------------------------------

run "preview_cache_expiry_follows_the_variable" {
  command = plan

  variables {
    preview_cache_days = 3
  }

  assert {
    condition = one([
      for rule in aws_s3_bucket_lifecycle_configuration.transcripts[0].rule :
      rule.expiration[0].days if rule.id == "expire-voice-previews"
    ]) == 3
    error_message = "The previews/ lifecycle rule expires objects after preview_cache_days."
  }
}

# --- REST 5XX alarm: own API, platform API by name, none --------------------------------------------------------

run "rest_5xx_alarm_on_the_modules_own_api" {
  command = plan

  assert {
    condition = (
      length(aws_cloudwatch_metric_alarm.rest_5xx) == 1
      && aws_cloudwatch_metric_alarm.rest_5xx[0].dimensions == tomap({ ApiName = "cora-prod-voice-rest", Stage = "v1" })
    )
    error_message = "The module's own REST API has the 5XX alarm on its name and stage."
  }
}

run "rest_5xx_alarm_on_the_platform_api" {
  command = plan

  variables {
    create_rest_api                 = false
    platform_rest_api_execution_arn = "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5"
    api_base_url                    = "https://api.example.com/api/voice"
    platform_rest_api_name          = "cora-prod-api"
    platform_rest_api_stage_name    = "prod"
  }

  assert {
    condition = (
      length(aws_api_gateway_rest_api.voice) == 0
      && length(aws_cloudwatch_metric_alarm.rest_5xx) == 1
      && aws_cloudwatch_metric_alarm.rest_5xx[0].dimensions == tomap({ ApiName = "cora-prod-api", Stage = "prod" })
    )
    error_message = "On the platform's gateway the 5XX alarm watches platform_rest_api_name (and its stage)."
  }
}

run "rest_5xx_alarm_on_all_stages_of_the_platform_api" {
  command = plan

  variables {
    create_rest_api                 = false
    platform_rest_api_execution_arn = "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5"
    api_base_url                    = "https://api.example.com/api/voice"
    platform_rest_api_name          = "cora-prod-api"
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.rest_5xx[0].dimensions == tomap({ ApiName = "cora-prod-api" })
    error_message = "Without platform_rest_api_stage_name the alarm watches the API across its stages."
  }
}

run "no_rest_5xx_alarm_without_the_platform_api_name" {
  command = plan

  variables {
    create_rest_api                 = false
    platform_rest_api_execution_arn = "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5"
    api_base_url                    = "https://api.example.com/api/voice"
  }

  assert {
    condition     = length(aws_cloudwatch_metric_alarm.rest_5xx) == 0
    error_message = "No API to watch, no alarm (the check block warns)."
  }

  expect_failures = [check.rest_5xx_alarm]
}

# --- cross-variable rules --------------------------------------------------------------------------------------

run "throttle_burst_below_rate_is_refused" {
  command = plan

  variables {
    api_throttle_rate_limit  = 500
    api_throttle_burst_limit = 100
  }

  expect_failures = [aws_apigatewayv2_stage.websocket]
}

run "lambda_vpc_needs_security_groups" {
  command = plan

  variables {
    lambda_subnet_ids = ["subnet-0a1b2c3d"]
  }

  expect_failures = [aws_lambda_function.voice]
}

run "disabled_module_plans_nothing" {
  command = plan

  variables {
    module_voice_enabled = false
  }

  assert {
    condition     = length(aws_lambda_function.voice) == 0 && length(aws_cloudwatch_metric_alarm.rest_5xx) == 0
    error_message = "module_voice_enabled = false creates nothing."
  }
}
