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
  validation {
    condition     = alltrue([for k, val in var.tags : length(k) >= 1 && length(k) <= 128 && length(val) <= 256 && !startswith(lower(k), "aws:")])
    error_message = "tags: keys 1-128 characters and not starting with aws:, values at most 256 characters."
  }
}

variable "artifacts_dir" {
  description = "Directory holding the zips `make build` produces (one per Lambda, layer-<name>.zip per layer). Default: <repo>/dist."
  type        = string
  default     = null
  validation {
    condition     = var.artifacts_dir == null || can(regex("\\S", var.artifacts_dir))
    error_message = "artifacts_dir must be null (<repo>/dist) or a directory path."
  }
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
    condition     = var.kms_deletion_window_days == floor(var.kms_deletion_window_days) && var.kms_deletion_window_days >= 7 && var.kms_deletion_window_days <= 30
    error_message = "kms_deletion_window_days must be a whole number of days between 7 and 30."
  }
}

# --- Lambdas --------------------------------------------------------------------------------------------

variable "module_voice_lambda_timeout" {
  description = "Timeout (seconds) of the REST and WebSocket Lambdas. API Gateway gives up after 29 s anyway."
  type        = number
  default     = 30
  validation {
    condition     = var.module_voice_lambda_timeout == floor(var.module_voice_lambda_timeout) && var.module_voice_lambda_timeout >= 3 && var.module_voice_lambda_timeout <= 900
    error_message = "module_voice_lambda_timeout must be a whole number of seconds between 3 and 900."
  }
}

variable "module_voice_lambda_memory" {
  description = "Memory (MB) of the REST and WebSocket Lambdas (CPU scales with it; 512+ keeps cold starts short)."
  type        = number
  default     = 512
  validation {
    condition     = var.module_voice_lambda_memory == floor(var.module_voice_lambda_memory) && var.module_voice_lambda_memory >= 128 && var.module_voice_lambda_memory <= 10240
    error_message = "module_voice_lambda_memory must be a whole number of MB between 128 and 10240."
  }
}

variable "events_lambda_timeout" {
  description = "Timeout (seconds) of voice-events (ECS task events, watchdog, pool pickup checks)."
  type        = number
  default     = 60
  validation {
    condition     = var.events_lambda_timeout == floor(var.events_lambda_timeout) && var.events_lambda_timeout >= 10 && var.events_lambda_timeout <= 900
    error_message = "events_lambda_timeout must be a whole number of seconds between 10 and 900."
  }
}

variable "worker_lambda_timeout" {
  description = "Timeout (seconds) of voice-worker (transcript assembly, S3 archival, LLM analytics, retention)."
  type        = number
  default     = 300
  validation {
    condition     = var.worker_lambda_timeout == floor(var.worker_lambda_timeout) && var.worker_lambda_timeout >= 30 && var.worker_lambda_timeout <= 900
    error_message = "worker_lambda_timeout must be a whole number of seconds between 30 and 900."
  }
}

variable "worker_lambda_memory" {
  description = "Memory (MB) of voice-worker."
  type        = number
  default     = 1024
  validation {
    condition     = var.worker_lambda_memory == floor(var.worker_lambda_memory) && var.worker_lambda_memory >= 256 && var.worker_lambda_memory <= 10240
    error_message = "worker_lambda_memory must be a whole number of MB between 256 and 10240."
  }
}

variable "preview_lambda_memory" {
  description = "Memory (MB) of voice-preview (Piper synthesizes on the Lambda's CPU)."
  type        = number
  default     = 1024
  validation {
    condition     = var.preview_lambda_memory == floor(var.preview_lambda_memory) && var.preview_lambda_memory >= 256 && var.preview_lambda_memory <= 10240
    error_message = "preview_lambda_memory must be a whole number of MB between 256 and 10240."
  }
}

variable "lambda_reserved_concurrency" {
  description = <<-EOT
    Reserved concurrency per Lambda. Each warm container holds one PostgreSQL connection, so this caps the
    connections the module can open through the Supabase pooler. -1 = unreserved (the account must keep
    100 unreserved executions: lower these on small accounts).
  EOT
  type        = map(number)
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
    condition     = alltrue([for val in values(var.lambda_reserved_concurrency) : val == floor(val) && (val == -1 || val >= 1)])
    error_message = "lambda_reserved_concurrency values must be -1 (unreserved) or a whole number of at least 1."
  }
  validation {
    condition     = alltrue([for name in keys(var.lambda_reserved_concurrency) : contains(["voice-analytics", "voice-bot", "voice-configs", "voice-credentials", "voice-events", "voice-preview", "voice-sessions", "voice-transcripts", "voice-websocket", "voice-worker"], name)])
    error_message = "lambda_reserved_concurrency keys must be Lambda names: voice-analytics, voice-bot, voice-configs, voice-credentials, voice-events, voice-preview, voice-sessions, voice-transcripts, voice-websocket, voice-worker."
  }
}

variable "worker_max_concurrency" {
  description = "Maximum concurrent voice-worker invocations the SQS event source starts (protects the database and the LLM quota)."
  type        = number
  default     = 2
  validation {
    condition     = var.worker_max_concurrency == floor(var.worker_max_concurrency) && var.worker_max_concurrency >= 2 && var.worker_max_concurrency <= 1000
    error_message = "worker_max_concurrency must be a whole number between 2 and 1000 (an SQS event source limit)."
  }
}

variable "lambda_subnet_ids" {
  description = "Optional: private subnets for the Lambdas (database reachable only inside a VPC). Empty = no VPC; the Supabase pooler is reached over TLS."
  type        = list(string)
  default     = []
  validation {
    condition     = alltrue([for s in var.lambda_subnet_ids : can(regex("^subnet-[0-9a-f]{8,17}$", s))])
    error_message = "lambda_subnet_ids must be subnet ids (subnet-0123abcd...)."
  }
}

variable "lambda_security_group_ids" {
  description = "Security groups of the Lambdas when lambda_subnet_ids is set."
  type        = list(string)
  default     = []
  validation {
    condition     = alltrue([for s in var.lambda_security_group_ids : can(regex("^sg-[0-9a-f]{8,17}$", s))])
    error_message = "lambda_security_group_ids must be security group ids (sg-0123abcd...)."
  }
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

variable "preview_image_uri" {
  description = "Optional container image of voice-preview (backend/lambdas/voice-preview/Dockerfile: the layers plus piper-tts, so Piper previews work; the zip cannot hold Piper). An ECR URI pinned by tag or digest. null = the zip with the layers (Cartesia only; Piper answers 503 PIPER_NOT_INSTALLED)."
  type        = string
  default     = null
  validation {
    condition     = var.preview_image_uri == null || (can(regex("^[0-9]{12}\\.dkr\\.ecr\\.[a-z0-9-]+\\.amazonaws\\.com(\\.cn)?/[a-z0-9._/-]+(:[A-Za-z0-9._-]{1,128}|@sha256:[a-f0-9]{64})$", var.preview_image_uri)) && !can(regex(":latest$", var.preview_image_uri)))
    error_message = "preview_image_uri must be null or an ECR image URI (<account>.dkr.ecr.<region>.amazonaws.com/<repo>:<tag> or @sha256:<digest>; Lambda pulls images only from ECR), pinned to a tag other than :latest or to a digest."
  }
}

# --- module settings passed to the Lambdas (module.config.yaml values; VOICE_* overrides) -----------------

variable "standby_pool_size" {
  description = "Standby bots during business hours (the ECS service's desired count inside the window; 0 disables the pool)."
  type        = number
  default     = 2
  validation {
    condition     = var.standby_pool_size == floor(var.standby_pool_size) && var.standby_pool_size >= 0 && var.standby_pool_size <= 50
    error_message = "standby_pool_size must be a whole number of bots between 0 and 50."
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
    condition     = var.transcript_retention_days == floor(var.transcript_retention_days) && var.transcript_retention_days >= 1 && var.transcript_retention_days <= 3650
    error_message = "transcript_retention_days must be a whole number of days between 1 and 3650."
  }
}

variable "preview_rate_limit_per_minute" {
  description = "Voice previews per organization in any 60-second window, answered 429 beyond it (module.config.yaml preview_rate_limit_per_minute; VOICE_PREVIEW_RATE_LIMIT_PER_MINUTE of voice-preview)."
  type        = number
  default     = 20
  validation {
    condition     = var.preview_rate_limit_per_minute == floor(var.preview_rate_limit_per_minute) && var.preview_rate_limit_per_minute >= 1 && var.preview_rate_limit_per_minute <= 1000
    error_message = "preview_rate_limit_per_minute must be a whole number between 1 and 1000."
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
  validation {
    condition     = var.bot_image_repository_arn == null || can(regex("^arn:aws[a-z-]*:ecr:[a-z0-9-]+:[0-9]{12}:repository/[a-z0-9._/-]+$", var.bot_image_repository_arn))
    error_message = "bot_image_repository_arn must be an ECR repository ARN (arn:aws:ecr:<region>:<account>:repository/<name>) or null."
  }
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
    condition     = var.bot_memory == floor(var.bot_memory) && var.bot_memory >= 512 && var.bot_memory <= 122880 && var.bot_memory % 512 == 0
    error_message = "bot_memory must be a multiple of 512 MiB between 512 and 122880 (a Fargate memory size)."
  }
}

variable "bot_container_name" {
  description = "Name of the bot container in the task definitions (ECS_CONTAINER_NAME for run_task overrides)."
  type        = string
  default     = "pipecat-bot"
  validation {
    condition     = can(regex("^[A-Za-z0-9][A-Za-z0-9_-]{0,254}$", var.bot_container_name))
    error_message = "bot_container_name: 1-255 letters, digits, - or _ (an ECS container name)."
  }
}

variable "bot_container_secrets" {
  description = "Extra environment variables of the bot container taken from Secrets Manager (name => secret ARN), injected by ECS through `secrets`. Provider keys do not go here: the bot fetches them by ARN."
  type        = map(string)
  default     = {}
  validation {
    condition     = alltrue([for arn in values(var.bot_container_secrets) : can(regex("^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:[A-Za-z0-9/_+=.@-]+$", arn))])
    error_message = "bot_container_secrets values must be Secrets Manager secret ARNs."
  }
  validation {
    condition     = alltrue([for name in keys(var.bot_container_secrets) : can(regex("^[A-Za-z_][A-Za-z0-9_]*$", name))])
    error_message = "bot_container_secrets keys must be environment variable names (letters, digits, _; not starting with a digit)."
  }
}

variable "bot_drain_timeout_seconds" {
  description = "Standby bots: how long an interview in progress may continue after SIGTERM (BOT_DRAIN_TIMEOUT_SECONDS; null = until the ECS stop timeout)."
  type        = number
  default     = null
  validation {
    condition     = var.bot_drain_timeout_seconds == null || try(var.bot_drain_timeout_seconds >= 1 && var.bot_drain_timeout_seconds <= 110, false)
    error_message = "bot_drain_timeout_seconds must be null or 1-110 seconds: ECS kills the container 120 s (stopTimeout, the Fargate maximum) after SIGTERM, and a cut interview needs the rest to be reported failed."
  }
}

variable "ecs_subnets" {
  description = "Subnets of the bot tasks (public subnets with ecs_assign_public_ip, or private subnets with a NAT)."
  type        = list(string)
  validation {
    condition     = length(var.ecs_subnets) > 0 && alltrue([for s in var.ecs_subnets : can(regex("^subnet-[0-9a-f]{8,17}$", s))])
    error_message = "ecs_subnets needs at least one subnet id (subnet-0123abcd...)."
  }
}

variable "ecs_security_groups" {
  description = "Security groups of the bot tasks (egress to Daily, the providers and the API; no ingress needed)."
  type        = list(string)
  validation {
    condition     = length(var.ecs_security_groups) > 0 && alltrue([for s in var.ecs_security_groups : can(regex("^sg-[0-9a-f]{8,17}$", s))])
    error_message = "ecs_security_groups needs at least one security group id (sg-0123abcd...)."
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
  validation {
    condition     = var.transcript_bucket_name == null || (can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.transcript_bucket_name)) && !can(regex("\\.\\.|^[0-9.]+$|^xn--|-s3alias$", var.transcript_bucket_name)))
    error_message = "transcript_bucket_name must be null or a valid S3 bucket name (3-63 lowercase letters, digits, . and -; no .., not an IP address)."
  }
}

variable "access_log_bucket_name" {
  description = "Existing bucket for S3 server access logs of the transcript bucket. null = the module creates <prefix>-access-logs."
  type        = string
  default     = null
  validation {
    condition     = var.access_log_bucket_name == null || (can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.access_log_bucket_name)) && !can(regex("\\.\\.|^[0-9.]+$|^xn--|-s3alias$", var.access_log_bucket_name)))
    error_message = "access_log_bucket_name must be null or a valid S3 bucket name (3-63 lowercase letters, digits, . and -; no .., not an IP address)."
  }
}

variable "access_log_retention_days" {
  description = "Days the S3 access logs are kept in the bucket the module creates."
  type        = number
  default     = 365
  validation {
    condition     = var.access_log_retention_days == floor(var.access_log_retention_days) && var.access_log_retention_days >= 1 && var.access_log_retention_days <= 3650
    error_message = "access_log_retention_days must be a whole number of days between 1 and 3650."
  }
}

variable "transcript_glacier_transition_days" {
  description = "Archived transcripts move to S3 Glacier after this many days (seed 001: 90)."
  type        = number
  default     = 90
  validation {
    condition     = var.transcript_glacier_transition_days == floor(var.transcript_glacier_transition_days) && var.transcript_glacier_transition_days >= 1 && var.transcript_glacier_transition_days <= 3650
    error_message = "transcript_glacier_transition_days must be a whole number of days between 1 and 3650."
  }
}

variable "transcript_expiration_days" {
  description = "Archived transcripts expire after this many days (seed 001: 365); a backstop behind the retention job. Must exceed the Glacier transition."
  type        = number
  default     = 365
  validation {
    condition     = var.transcript_expiration_days == floor(var.transcript_expiration_days) && var.transcript_expiration_days >= 2 && var.transcript_expiration_days <= 3650
    error_message = "transcript_expiration_days must be a whole number of days between 2 and 3650."
  }
}

variable "preview_cache_days" {
  description = "Days a cached voice preview (previews/ in the transcript bucket) is kept."
  type        = number
  default     = 7
  validation {
    condition     = var.preview_cache_days == floor(var.preview_cache_days) && var.preview_cache_days >= 1 && var.preview_cache_days <= 365
    error_message = "preview_cache_days must be a whole number of days between 1 and 365."
  }
}

variable "noncurrent_version_expiration_days" {
  description = "Days a replaced or deleted transcript object version is kept (the bucket is versioned)."
  type        = number
  default     = 30
  validation {
    condition     = var.noncurrent_version_expiration_days == floor(var.noncurrent_version_expiration_days) && var.noncurrent_version_expiration_days >= 1 && var.noncurrent_version_expiration_days <= 3650
    error_message = "noncurrent_version_expiration_days must be a whole number of days between 1 and 3650."
  }
}

variable "standby_message_retention_seconds" {
  description = "How long an unclaimed BOT_REQUEST stays in the standby queue (seed 001: 3600); the bot drops requests older than 15 minutes anyway."
  type        = number
  default     = 3600
  validation {
    condition     = var.standby_message_retention_seconds == floor(var.standby_message_retention_seconds) && var.standby_message_retention_seconds >= 60 && var.standby_message_retention_seconds <= 1209600
    error_message = "standby_message_retention_seconds must be a whole number of seconds between 60 and 1209600."
  }
}

variable "dlq_max_receive_count" {
  description = "Receives before a message moves to its queue's dead-letter queue."
  type        = number
  default     = 5
  validation {
    condition     = var.dlq_max_receive_count == floor(var.dlq_max_receive_count) && var.dlq_max_receive_count >= 1 && var.dlq_max_receive_count <= 1000
    error_message = "dlq_max_receive_count must be a whole number of receives between 1 and 1000."
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
    condition     = can(regex("^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:[A-Za-z0-9/_+=.@-]+$", var.database_url_secret_arn))
    error_message = "database_url_secret_arn must be a Secrets Manager secret ARN (arn:aws:secretsmanager:<region>:<account>:secret:<name>)."
  }
}

variable "daily_api_key_secret_arn" {
  description = "Secrets Manager ARN of the platform's Daily.co API key (organizations may override it with their own credential)."
  type        = string
  validation {
    condition     = can(regex("^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:[A-Za-z0-9/_+=.@-]+$", var.daily_api_key_secret_arn))
    error_message = "daily_api_key_secret_arn must be a Secrets Manager secret ARN (arn:aws:secretsmanager:<region>:<account>:secret:<name>)."
  }
}

variable "deepgram_api_key_secret_arn" {
  description = "Secrets Manager ARN of the platform's default Deepgram key (null: organizations bring their own)."
  type        = string
  default     = null
  validation {
    condition     = var.deepgram_api_key_secret_arn == null || can(regex("^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:[A-Za-z0-9/_+=.@-]+$", var.deepgram_api_key_secret_arn))
    error_message = "deepgram_api_key_secret_arn must be a Secrets Manager secret ARN (arn:aws:secretsmanager:<region>:<account>:secret:<name>) or null."
  }
}

variable "cartesia_api_key_secret_arn" {
  description = "Secrets Manager ARN of the platform's default Cartesia key (null: organizations bring their own)."
  type        = string
  default     = null
  validation {
    condition     = var.cartesia_api_key_secret_arn == null || can(regex("^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:[A-Za-z0-9/_+=.@-]+$", var.cartesia_api_key_secret_arn))
    error_message = "cartesia_api_key_secret_arn must be a Secrets Manager secret ARN (arn:aws:secretsmanager:<region>:<account>:secret:<name>) or null."
  }
}

variable "openai_api_key_secret_arn" {
  description = "Secrets Manager ARN of the platform's OpenAI-compatible key for analytics and the bot's LLM (bare key or JSON with api_key, base_url, model). null = no platform default."
  type        = string
  default     = null
  validation {
    condition     = var.openai_api_key_secret_arn == null || can(regex("^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:[A-Za-z0-9/_+=.@-]+$", var.openai_api_key_secret_arn))
    error_message = "openai_api_key_secret_arn must be a Secrets Manager secret ARN (arn:aws:secretsmanager:<region>:<account>:secret:<name>) or null."
  }
}

variable "openai_model" {
  description = "Default LLM model of the analytics (OPENAI_MODEL); the secret's `model` wins when set."
  type        = string
  default     = "gpt-4o-mini"
  validation {
    condition     = can(regex("^[A-Za-z0-9][A-Za-z0-9._:/@-]{0,127}$", var.openai_model))
    error_message = "openai_model must be a model id (1-128 letters, digits, . _ : / @ -; no spaces)."
  }
}

variable "external_secrets_kms_key_arns" {
  description = "Customer managed KMS keys encrypting the externally managed secrets above (leave empty when they use aws/secretsmanager)."
  type        = list(string)
  default     = []
  validation {
    condition     = alltrue([for arn in var.external_secrets_kms_key_arns : can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[A-Za-z0-9-]+$", arn))])
    error_message = "external_secrets_kms_key_arns must be KMS key ARNs (arn:aws:kms:<region>:<account>:key/<id>; IAM policies cannot name aliases)."
  }
}

variable "supabase_jwt_secret_arn" {
  description = "Secrets Manager ARN of the HS256 secret of the user JWTs (the Supabase JWT secret, as a plain string); the voice-websocket Lambda verifies the $connect token with it."
  type        = string
  validation {
    condition     = can(regex("^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:[A-Za-z0-9/_+=.@-]+$", var.supabase_jwt_secret_arn))
    error_message = "supabase_jwt_secret_arn must be a Secrets Manager secret ARN (arn:aws:secretsmanager:<region>:<account>:secret:<name>)."
  }
}

variable "cors_allow_origins" {
  description = "Origins the web app is served from (CORS on the REST Lambdas' responses); the first is the default."
  type        = list(string)
  default     = ["*"]
  validation {
    condition     = length(var.cors_allow_origins) > 0 && alltrue([for o in var.cors_allow_origins : o == "*" || can(regex("^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?$", o))])
    error_message = "cors_allow_origins: one or more origins, each \"*\" or scheme://host[:port] with no path or trailing slash (browsers send exactly that)."
  }
}

variable "bot_token_secret_version" {
  description = "Change to rotate the bot-token signing secret (tokens issued before stop working: rotate between interviews)."
  type        = string
  default     = "1"
  validation {
    condition     = can(regex("^[A-Za-z0-9._-]{1,64}$", var.bot_token_secret_version))
    error_message = "bot_token_secret_version: 1-64 letters, digits, ., _ or -."
  }
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
  validation {
    condition     = var.authorizer_lambda_arn == null || can(regex("^arn:aws[a-z-]*:lambda:[a-z0-9-]+:[0-9]{12}:function:[A-Za-z0-9_-]{1,64}(:[A-Za-z0-9_$-]{1,128})?$", var.authorizer_lambda_arn))
    error_message = "authorizer_lambda_arn must be a Lambda function ARN (arn:aws:lambda:<region>:<account>:function:<name>[:alias]) or null."
  }
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
    condition     = var.authorizer_result_ttl_seconds == floor(var.authorizer_result_ttl_seconds) && var.authorizer_result_ttl_seconds >= 0 && var.authorizer_result_ttl_seconds <= 3600
    error_message = "authorizer_result_ttl_seconds must be a whole number of seconds between 0 and 3600."
  }
}

variable "platform_rest_api_execution_arn" {
  description = "With create_rest_api = false: execution ARN of the platform's REST API, allowed to invoke the REST Lambdas."
  type        = string
  default     = null
  validation {
    condition     = var.platform_rest_api_execution_arn == null || can(regex("^arn:aws[a-z-]*:execute-api:[a-z0-9-]+:[0-9]{12}:[a-z0-9]{10}$", var.platform_rest_api_execution_arn))
    error_message = "platform_rest_api_execution_arn must be a REST API execution ARN (arn:aws:execute-api:<region>:<account>:<api id>, no stage or path) or null."
  }
}

variable "platform_rest_api_name" {
  description = "With create_rest_api = false: name of the platform's REST API (the ApiName of its CloudWatch metrics), so the REST 5XX alarm watches the gateway that serves the module's routes. null = no REST 5XX alarm (a warning; the Lambda error alarms still cover the module's functions)."
  type        = string
  default     = null
  validation {
    condition     = var.platform_rest_api_name == null || try(length(var.platform_rest_api_name) <= 1024 && can(regex("^\\S", var.platform_rest_api_name)), false)
    error_message = "platform_rest_api_name must be null or the REST API's name (1-1024 characters, not starting with a space)."
  }
}

variable "platform_rest_api_stage_name" {
  description = "Stage of the platform's REST API the REST 5XX alarm watches. null = all its stages together."
  type        = string
  default     = null
  validation {
    condition     = var.platform_rest_api_stage_name == null || can(regex("^[A-Za-z0-9_-]{1,128}$", var.platform_rest_api_stage_name))
    error_message = "platform_rest_api_stage_name must be null or a stage name (letters, digits, - and _)."
  }
}

variable "api_base_url" {
  description = "Public base URL of the REST routes given to bots (…/api/voice). Default: the module's own REST API stage."
  type        = string
  default     = null
  validation {
    condition     = var.api_base_url == null || can(regex("^https://[^/\\s]+(/[^\\s]*)?[^/\\s]$", var.api_base_url))
    error_message = "api_base_url must be null or an https:// URL without a trailing slash (bots append /bot/sessions/...)."
  }
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
  description = "Steady-state requests per second per stage (REST and WebSocket); at most api_throttle_burst_limit."
  type        = number
  default     = 100
  validation {
    condition     = var.api_throttle_rate_limit > 0 && var.api_throttle_rate_limit <= 10000
    error_message = "api_throttle_rate_limit must be more than 0 and at most 10000 requests per second (the regional account quota)."
  }
}

variable "api_throttle_burst_limit" {
  description = "Burst requests per stage (REST and WebSocket): the token bucket's size, at least api_throttle_rate_limit."
  type        = number
  default     = 200
  validation {
    condition     = var.api_throttle_burst_limit == floor(var.api_throttle_burst_limit) && var.api_throttle_burst_limit >= 1 && var.api_throttle_burst_limit <= 5000
    error_message = "api_throttle_burst_limit must be a whole number between 1 and 5000 (the regional account burst quota)."
  }
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
  validation {
    condition     = var.waf_web_acl_arn == null || can(regex("^arn:aws[a-z-]*:wafv2:[a-z0-9-]+:[0-9]{12}:regional/webacl/[A-Za-z0-9_-]+/[a-f0-9-]+$", var.waf_web_acl_arn))
    error_message = "waf_web_acl_arn must be a REGIONAL WAFv2 web ACL ARN (arn:aws:wafv2:<region>:<account>:regional/webacl/<name>/<id>) or null."
  }
}

# --- schedules and monitoring ------------------------------------------------------------------------------------------

variable "watchdog_schedule" {
  description = "EventBridge schedule of the bot watchdog (voice-events)."
  type        = string
  default     = "rate(1 minute)"
  validation {
    condition     = can(regex("^(rate\\((1 (minute|hour|day)|([2-9]|[1-9][0-9]+) (minutes|hours|days))\\)|cron\\(\\S+( \\S+){5}\\))$", var.watchdog_schedule))
    error_message = "watchdog_schedule must be an EventBridge schedule expression: rate(1 minute), rate(5 minutes), rate(2 hours)... or cron(<6 fields>)."
  }
}

variable "retention_schedule" {
  description = "EventBridge schedule of the transcript retention run (voice-worker), UTC."
  type        = string
  default     = "cron(15 3 * * ? *)"
  validation {
    condition     = can(regex("^(rate\\((1 (minute|hour|day)|([2-9]|[1-9][0-9]+) (minutes|hours|days))\\)|cron\\(\\S+( \\S+){5}\\))$", var.retention_schedule))
    error_message = "retention_schedule must be an EventBridge schedule expression: rate(1 minute), rate(5 minutes), rate(2 hours)... or cron(<6 fields>)."
  }
}

variable "alarm_sns_topic_arn" {
  description = "SNS topic notified by the module's alarms (null: alarms without actions)."
  type        = string
  default     = null
  validation {
    condition     = var.alarm_sns_topic_arn == null || can(regex("^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}(\\.fifo)?$", var.alarm_sns_topic_arn))
    error_message = "alarm_sns_topic_arn must be an SNS topic ARN (arn:aws:sns:<region>:<account>:<topic>) or null."
  }
}

variable "api_5xx_alarm_threshold" {
  description = "REST API 5XX responses per 5 minutes that raise the alarm (the module's own API, or platform_rest_api_name's)."
  type        = number
  default     = 5
  validation {
    condition     = var.api_5xx_alarm_threshold == floor(var.api_5xx_alarm_threshold) && var.api_5xx_alarm_threshold >= 1 && var.api_5xx_alarm_threshold <= 100000
    error_message = "api_5xx_alarm_threshold must be a whole number of responses between 1 and 100000."
  }
}

variable "pool_backlog_age_alarm_seconds" {
  description = "Age (seconds) of the oldest unclaimed standby-pool request that raises the alarm (the pickup fallback starts after 20 s)."
  type        = number
  default     = 60
  validation {
    condition     = var.pool_backlog_age_alarm_seconds == floor(var.pool_backlog_age_alarm_seconds) && var.pool_backlog_age_alarm_seconds >= 20 && var.pool_backlog_age_alarm_seconds <= 3600
    error_message = "pool_backlog_age_alarm_seconds must be a whole number between 20 (the pickup fallback's delay: lower alarms on normal operation) and 3600."
  }
}

variable "create_dashboard" {
  description = "Create the module's CloudWatch dashboard."
  type        = bool
  default     = true
}
