# Inputs of module-voice. Names from seed 001 are kept (module_voice_enabled, module_voice_lambda_*,
# ecs_subnets, ecs_security_groups, standby_pool_size, *_api_key_secret_arn); the rest is documented here
# and in README.md. Cross-variable rules (e.g. Glacier before expiry) are lifecycle preconditions.

# --- module -------------------------------------------------------------------------------------------

variable "module_voice_enabled" {
  description = "Enable the voice module. false removes every resource it created."
  type        = bool
  default     = true
}

variable "project_name" {
  description = "Project prefix of every resource name (CORA: the platform's project name)."
  type        = string
  default     = "cora"
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,19}$", var.project_name))
    error_message = "project_name: 2-20 lowercase letters, digits or dashes, starting with a letter."
  }
}

variable "environment" {
  description = "Environment name (dev, staging, prod...). Part of resource names and of the credential secret names (cora/<environment>/voice/credentials/...)."
  type        = string
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,15}$", var.environment))
    error_message = "environment: 2-16 lowercase letters, digits or dashes, starting with a letter."
  }
}

variable "tags" {
  description = "Tags added to every resource (Module, Project and Environment are always set)."
  type        = map(string)
  default     = {}
}

variable "artifacts_dir" {
  description = "Directory holding the zips `make build` produces (one per Lambda, layer-<name>.zip per layer). Default: <repo>/dist."
  type        = string
  default     = null
}

variable "log_retention_days" {
  description = "Retention of every log group the module creates (Lambdas, bot, API access logs)."
  type        = number
  default     = 365
  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a value CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, ... 365, ... 3653)."
  }
}

variable "kms_deletion_window_days" {
  description = "Waiting period before the module's KMS key is deleted after a destroy."
  type        = number
  default     = 30
  validation {
    condition     = var.kms_deletion_window_days >= 7 && var.kms_deletion_window_days <= 30
    error_message = "kms_deletion_window_days must be between 7 and 30."
  }
}

# --- Lambdas --------------------------------------------------------------------------------------------

variable "module_voice_lambda_timeout" {
  description = "Timeout (seconds) of the REST and WebSocket Lambdas. API Gateway gives up after 29 s anyway."
  type        = number
  default     = 30
  validation {
    condition     = var.module_voice_lambda_timeout >= 3 && var.module_voice_lambda_timeout <= 900
    error_message = "module_voice_lambda_timeout must be between 3 and 900 seconds."
  }
}

variable "module_voice_lambda_memory" {
  description = "Memory (MB) of the REST and WebSocket Lambdas (CPU scales with it; 512+ keeps cold starts short)."
  type        = number
  default     = 512
  validation {
    condition     = var.module_voice_lambda_memory >= 128 && var.module_voice_lambda_memory <= 10240
    error_message = "module_voice_lambda_memory must be between 128 and 10240 MB."
  }
}

variable "events_lambda_timeout" {
  description = "Timeout (seconds) of voice-events (ECS task events, watchdog, pool pickup checks)."
  type        = number
  default     = 60
  validation {
    condition     = var.events_lambda_timeout >= 10 && var.events_lambda_timeout <= 900
    error_message = "events_lambda_timeout must be between 10 and 900 seconds."
  }
}

variable "worker_lambda_timeout" {
  description = "Timeout (seconds) of voice-worker (transcript assembly, S3 archival, LLM analytics, retention)."
  type        = number
  default     = 300
  validation {
    condition     = var.worker_lambda_timeout >= 30 && var.worker_lambda_timeout <= 900
    error_message = "worker_lambda_timeout must be between 30 and 900 seconds."
  }
}

variable "worker_lambda_memory" {
  description = "Memory (MB) of voice-worker."
  type        = number
  default     = 1024
  validation {
    condition     = var.worker_lambda_memory >= 256 && var.worker_lambda_memory <= 10240
    error_message = "worker_lambda_memory must be between 256 and 10240 MB."
  }
}

variable "preview_lambda_memory" {
  description = "Memory (MB) of voice-preview (Piper synthesizes on the Lambda's CPU)."
  type        = number
  default     = 1024
  validation {
    condition     = var.preview_lambda_memory >= 256 && var.preview_lambda_memory <= 10240
    error_message = "preview_lambda_memory must be between 256 and 10240 MB."
  }
}

variable "lambda_reserved_concurrency" {
  description = <<-EOT
    Reserved concurrency per Lambda. Each warm container holds one PostgreSQL connection, so this caps the
    connections the module can open through the Supabase pooler. -1 = unreserved (the account must keep
    100 unreserved executions: lower these on small accounts).
  EOT
  type = map(number)
  default = {
    "voice-sessions"    = 20
    "voice-configs"     = 10
    "voice-credentials" = 5
    "voice-transcripts" = 10
    "voice-analytics"   = 10
    "voice-preview"     = 5
    "voice-bot"         = 20
    "voice-websocket"   = 50
    "voice-events"      = 5
    "voice-worker"      = 5
  }
  validation {
    condition     = alltrue([for v in values(var.lambda_reserved_concurrency) : v == -1 || v >= 1])
    error_message = "lambda_reserved_concurrency values must be -1 (unreserved) or at least 1."
  }
}

variable "worker_max_concurrency" {
  description = "Maximum concurrent voice-worker invocations the SQS event source starts (protects the database and the LLM quota)."
  type        = number
  default     = 2
  validation {
    condition     = var.worker_max_concurrency >= 2 && var.worker_max_concurrency <= 1000
    error_message = "worker_max_concurrency must be between 2 and 1000 (an SQS event source limit)."
  }
}

variable "lambda_subnet_ids" {
  description = "Optional: private subnets for the Lambdas (database reachable only inside a VPC). Empty = no VPC; the Supabase pooler is reached over TLS."
  type        = list(string)
  default     = []
}

variable "lambda_security_group_ids" {
  description = "Security groups of the Lambdas when lambda_subnet_ids is set."
  type        = list(string)
  default     = []
}

variable "log_level" {
  description = "Log level of the Lambdas (Powertools) and of the bot."
  type        = string
  default     = "INFO"
  validation {
    condition     = contains(["DEBUG", "INFO", "WARNING", "ERROR"], var.log_level)
    error_message = "log_level must be DEBUG, INFO, WARNING or ERROR."
  }
}

# --- module settings passed to the Lambdas (module.config.yaml values; VOICE_* overrides) -----------------

variable "standby_pool_size" {
  description = "Standby bots during business hours (the ECS service's desired count inside the window; 0 disables the pool)."
  type        = number
  default     = 2
  validation {
    condition     = var.standby_pool_size >= 0 && var.standby_pool_size <= 50
    error_message = "standby_pool_size must be between 0 and 50."
  }
}

variable "business_hours_start" {
  description = "Local start (HH:MM) of the standby pool window (module.config.yaml business_hours.start)."
  type        = string
  default     = "09:00"
  validation {
    condition     = can(regex("^([01][0-9]|2[0-3]):[0-5][0-9]$", var.business_hours_start))
    error_message = "business_hours_start must be HH:MM (24 h)."
  }
}

variable "business_hours_end" {
  description = "Local end (HH:MM, exclusive) of the standby pool window (module.config.yaml business_hours.end)."
  type        = string
  default     = "17:00"
  validation {
    condition     = can(regex("^([01][0-9]|2[0-3]):[0-5][0-9]$", var.business_hours_end))
    error_message = "business_hours_end must be HH:MM (24 h)."
  }
}

variable "business_hours_days" {
  description = "Weekdays of the standby pool window (module.config.yaml business_hours.days)."
  type        = list(string)
  default     = ["mon", "tue", "wed", "thu", "fri"]
  validation {
    condition     = length(var.business_hours_days) > 0 && alltrue([for d in var.business_hours_days : contains(["mon", "tue", "wed", "thu", "fri", "sat", "sun"], d)])
    error_message = "business_hours_days: one or more of mon, tue, wed, thu, fri, sat, sun."
  }
}

variable "business_hours_timezone" {
  description = "IANA timezone of the business hours (module.config.yaml business_hours.timezone)."
  type        = string
  default     = "America/New_York"
  validation {
    condition     = can(regex("^(UTC|[A-Za-z_]+(/[A-Za-z0-9_+-]+)+)$", var.business_hours_timezone))
    error_message = "business_hours_timezone must be an IANA name such as Europe/Berlin or UTC."
  }
}

variable "transcript_retention_days" {
  description = "Transcripts, segments and their S3 archives older than this are deleted by the daily retention run."
  type        = number
  default     = 90
  validation {
    condition     = var.transcript_retention_days >= 1
    error_message = "transcript_retention_days must be at least 1."
  }
}

# --- ECS: the Pipecat bot -------------------------------------------------------------------------------------

variable "bot_image" {
  description = "Container image of the interview bot (backend/bot/Dockerfile), e.g. <account>.dkr.ecr.<region>.amazonaws.com/voice-bot:1.2.3."
  type        = string
  validation {
    condition     = length(var.bot_image) > 0 && !endswith(var.bot_image, ":latest")
    error_message = "bot_image must be set and pinned to a tag or digest (not :latest)."
  }
}

variable "bot_image_repository_arn" {
  description = "ARN of the ECR repository holding bot_image; the task execution role may pull only from it. null for a public registry."
  type        = string
  default     = null
}

variable "bot_cpu" {
  description = "Fargate CPU units of one bot task (STT/TTS/LLM run remotely; 1024 is enough for VAD and audio)."
  type        = number
  default     = 1024
  validation {
    condition     = contains([256, 512, 1024, 2048, 4096, 8192, 16384], var.bot_cpu)
    error_message = "bot_cpu must be a Fargate CPU value (256, 512, 1024, 2048, 4096, 8192, 16384)."
  }
}

variable "bot_memory" {
  description = "Fargate memory (MiB) of one bot task; must be valid for bot_cpu."
  type        = number
  default     = 2048
  validation {
    condition     = var.bot_memory >= 512 && var.bot_memory <= 122880
    error_message = "bot_memory must be between 512 and 122880 MiB."
  }
}

variable "bot_container_name" {
  description = "Name of the bot container in the task definitions (ECS_CONTAINER_NAME for run_task overrides)."
  type        = string
  default     = "pipecat-bot"
}

variable "bot_container_secrets" {
  description = "Extra environment variables of the bot container taken from Secrets Manager (name => secret ARN), injected by ECS through `secrets`. Provider keys do not go here: the bot fetches them by ARN."
  type        = map(string)
  default     = {}
  validation {
    condition     = alltrue([for arn in values(var.bot_container_secrets) : can(regex("^arn:aws[a-z-]*:secretsmanager:", arn))])
    error_message = "bot_container_secrets values must be Secrets Manager ARNs."
  }
}

variable "bot_drain_timeout_seconds" {
  description = "Standby bots: how long an interview in progress may continue after SIGTERM (BOT_DRAIN_TIMEOUT_SECONDS; null = until the ECS stop timeout)."
  type        = number
  default     = null
}

variable "ecs_subnets" {
  description = "Subnets of the bot tasks (public subnets with ecs_assign_public_ip, or private subnets with a NAT)."
  type        = list(string)
  validation {
    condition     = length(var.ecs_subnets) > 0
    error_message = "ecs_subnets needs at least one subnet."
  }
}

variable "ecs_security_groups" {
  description = "Security groups of the bot tasks (egress to Daily, the providers and the API; no ingress needed)."
  type        = list(string)
  validation {
    condition     = length(var.ecs_security_groups) > 0
    error_message = "ecs_security_groups needs at least one security group."
  }
}

variable "ecs_assign_public_ip" {
  description = "Give bot tasks a public IP. Default: private subnets with a NAT gateway (bots need egress to Daily and the providers); set true for public subnets without NAT."
  type        = bool
  default     = false
}

# --- storage and queues ---------------------------------------------------------------------------------------

variable "transcript_bucket_name" {
  description = "Name of the transcript bucket. Default: <project>-<environment>-voice-transcripts (bucket names are global: override on collision)."
  type        = string
  default     = null
}

variable "access_log_bucket_name" {
  description = "Existing bucket for S3 server access logs of the transcript bucket. null = the module creates <prefix>-access-logs."
  type        = string
  default     = null
}

variable "access_log_retention_days" {
  description = "Days the S3 access logs are kept in the bucket the module creates."
  type        = number
  default     = 365
  validation {
    condition     = var.access_log_retention_days >= 1
    error_message = "access_log_retention_days must be at least 1."
  }
}

variable "transcript_glacier_transition_days" {
  description = "Archived transcripts move to S3 Glacier after this many days (seed 001: 90)."
  type        = number
  default     = 90
  validation {
    condition     = var.transcript_glacier_transition_days >= 1
    error_message = "transcript_glacier_transition_days must be at least 1."
  }
}

variable "transcript_expiration_days" {
  description = "Archived transcripts expire after this many days (seed 001: 365); a backstop behind the retention job. Must exceed the Glacier transition."
  type        = number
  default     = 365
  validation {
    condition     = var.transcript_expiration_days >= 2
    error_message = "transcript_expiration_days must be at least 2."
  }
}

variable "preview_cache_days" {
  description = "Days a cached voice preview (previews/ in the transcript bucket) is kept."
  type        = number
  default     = 7
  validation {
    condition     = var.preview_cache_days >= 1
    error_message = "preview_cache_days must be at least 1."
  }
}

variable "noncurrent_version_expiration_days" {
  description = "Days a replaced or deleted transcript object version is kept (the bucket is versioned)."
  type        = number
  default     = 30
  validation {
    condition     = var.noncurrent_version_expiration_days >= 1
    error_message = "noncurrent_version_expiration_days must be at least 1."
  }
}

variable "standby_message_retention_seconds" {
  description = "How long an unclaimed BOT_REQUEST stays in the standby queue (seed 001: 3600); the bot drops requests older than 15 minutes anyway."
  type        = number
  default     = 3600
  validation {
    condition     = var.standby_message_retention_seconds >= 60 && var.standby_message_retention_seconds <= 1209600
    error_message = "standby_message_retention_seconds must be between 60 and 1209600."
  }
}

variable "dlq_max_receive_count" {
  description = "Receives before a message moves to its queue's dead-letter queue."
  type        = number
  default     = 5
  validation {
    condition     = var.dlq_max_receive_count >= 1 && var.dlq_max_receive_count <= 1000
    error_message = "dlq_max_receive_count must be between 1 and 1000."
  }
}

variable "dynamodb_deletion_protection" {
  description = "Protect the DynamoDB tables against deletion."
  type        = bool
  default     = true
}

# --- secrets ------------------------------------------------------------------------------------------------------

variable "database_url_secret_arn" {
  description = "Secrets Manager ARN of the database URL (SecretString: the postgres:// URL or {\"url\": ...}; the Supabase pooler in production)."
  type        = string
  validation {
    condition     = can(regex("^arn:aws[a-z-]*:secretsmanager:", var.database_url_secret_arn))
    error_message = "database_url_secret_arn must be a Secrets Manager ARN."
  }
}

variable "daily_api_key_secret_arn" {
  description = "Secrets Manager ARN of the platform's Daily.co API key (organizations may override it with their own credential)."
  type        = string
  validation {
    condition     = can(regex("^arn:aws[a-z-]*:secretsmanager:", var.daily_api_key_secret_arn))
    error_message = "daily_api_key_secret_arn must be a Secrets Manager ARN."
  }
}

variable "deepgram_api_key_secret_arn" {
  description = "Secrets Manager ARN of the platform's default Deepgram key (null: organizations bring their own)."
  type        = string
  default     = null
  validation {
    condition     = var.deepgram_api_key_secret_arn == null || can(regex("^arn:aws[a-z-]*:secretsmanager:", var.deepgram_api_key_secret_arn))
    error_message = "deepgram_api_key_secret_arn must be a Secrets Manager ARN or null."
  }
}

variable "cartesia_api_key_secret_arn" {
  description = "Secrets Manager ARN of the platform's default Cartesia key (null: organizations bring their own)."
  type        = string
  default     = null
  validation {
    condition     = var.cartesia_api_key_secret_arn == null || can(regex("^arn:aws[a-z-]*:secretsmanager:", var.cartesia_api_key_secret_arn))
    error_message = "cartesia_api_key_secret_arn must be a Secrets Manager ARN or null."
  }
}

variable "openai_api_key_secret_arn" {
  description = "Secrets Manager ARN of the platform's OpenAI-compatible key for analytics and the bot's LLM (bare key or JSON with api_key, base_url, model). null = no platform default."
  type        = string
  default     = null
  validation {
    condition     = var.openai_api_key_secret_arn == null || can(regex("^arn:aws[a-z-]*:secretsmanager:", var.openai_api_key_secret_arn))
    error_message = "openai_api_key_secret_arn must be a Secrets Manager ARN or null."
  }
}

variable "openai_model" {
  description = "Default LLM model of the analytics (OPENAI_MODEL); the secret's `model` wins when set."
  type        = string
  default     = "gpt-4o-mini"
}

variable "external_secrets_kms_key_arns" {
  description = "Customer managed KMS keys encrypting the externally managed secrets above (leave empty when they use aws/secretsmanager)."
  type        = list(string)
  default     = []
}

variable "supabase_jwt_secret_arn" {
  description = "Secrets Manager ARN of the HS256 secret of the user JWTs (the Supabase JWT secret, as a plain string); the voice-websocket Lambda verifies the $connect token with it."
  type        = string
  validation {
    condition     = can(regex("^arn:aws[a-z-]*:secretsmanager:", var.supabase_jwt_secret_arn))
    error_message = "supabase_jwt_secret_arn must be a Secrets Manager ARN."
  }
}

variable "cors_allow_origins" {
  description = "Origins the web app is served from (CORS on the REST Lambdas' responses); the first is the default."
  type        = list(string)
  default     = ["*"]
  validation {
    condition     = length(var.cors_allow_origins) > 0
    error_message = "cors_allow_origins needs at least one origin (\"*\" for any)."
  }
}

variable "bot_token_secret_version" {
  description = "Change to rotate the bot-token signing secret (tokens issued before stop working: rotate between interviews)."
  type        = string
  default     = "1"
}

# --- APIs ------------------------------------------------------------------------------------------------------------

variable "create_rest_api" {
  description = "Create the module's own REST API (OpenAPI from the route table). false: only export the routes (output rest_routes) for the CORA platform's gateway."
  type        = bool
  default     = true
}

variable "authorizer_lambda_arn" {
  description = "ARN of the platform's Lambda authorizer (module-access) for user routes of the module's REST API. Required with create_rest_api."
  type        = string
  default     = null
}

variable "authorizer_type" {
  description = "Type of the Lambda authorizer: TOKEN (Authorization header) or REQUEST."
  type        = string
  default     = "TOKEN"
  validation {
    condition     = contains(["TOKEN", "REQUEST"], var.authorizer_type)
    error_message = "authorizer_type must be TOKEN or REQUEST."
  }
}

variable "authorizer_result_ttl_seconds" {
  description = "How long API Gateway caches an authorizer decision."
  type        = number
  default     = 300
  validation {
    condition     = var.authorizer_result_ttl_seconds >= 0 && var.authorizer_result_ttl_seconds <= 3600
    error_message = "authorizer_result_ttl_seconds must be between 0 and 3600."
  }
}

variable "platform_rest_api_execution_arn" {
  description = "With create_rest_api = false: execution ARN of the platform's REST API, allowed to invoke the REST Lambdas."
  type        = string
  default     = null
}

variable "api_base_url" {
  description = "Public base URL of the REST routes given to bots (…/api/voice). Default: the module's own REST API stage."
  type        = string
  default     = null
}

variable "api_stage_name" {
  description = "Stage name of the REST and WebSocket APIs."
  type        = string
  default     = "v1"
  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,64}$", var.api_stage_name))
    error_message = "api_stage_name: letters, digits, - and _ only."
  }
}

variable "api_throttle_rate_limit" {
  description = "Steady-state requests per second per stage (REST and WebSocket)."
  type        = number
  default     = 100
}

variable "api_throttle_burst_limit" {
  description = "Burst requests per stage (REST and WebSocket)."
  type        = number
  default     = 200
}

variable "api_execution_logging" {
  description = "Enable API Gateway execution logs (ERROR). Needs the account-level CloudWatch role of API Gateway (set by the platform, or create_api_gateway_account_role)."
  type        = bool
  default     = true
}

variable "create_api_gateway_account_role" {
  description = "Create and register the regional API Gateway CloudWatch Logs role (an account-wide setting: only if the platform does not manage it)."
  type        = bool
  default     = false
}

variable "waf_web_acl_arn" {
  description = "Optional WAFv2 web ACL (REGIONAL) associated with the REST API stage."
  type        = string
  default     = null
}

# --- schedules and monitoring ------------------------------------------------------------------------------------------

variable "watchdog_schedule" {
  description = "EventBridge schedule of the bot watchdog (voice-events)."
  type        = string
  default     = "rate(1 minute)"
}

variable "retention_schedule" {
  description = "EventBridge schedule of the transcript retention run (voice-worker), UTC."
  type        = string
  default     = "cron(15 3 * * ? *)"
}

variable "alarm_sns_topic_arn" {
  description = "SNS topic notified by the module's alarms (null: alarms without actions)."
  type        = string
  default     = null
}

variable "api_5xx_alarm_threshold" {
  description = "REST API 5XX responses per 5 minutes that raise the alarm."
  type        = number
  default     = 5
}

variable "pool_backlog_age_alarm_seconds" {
  description = "Age (seconds) of the oldest unclaimed standby-pool request that raises the alarm (the pickup fallback starts after 20 s)."
  type        = number
  default     = 60
}

variable "create_dashboard" {
  description = "Create the module's CloudWatch dashboard."
  type        = bool
  default     = true
}
