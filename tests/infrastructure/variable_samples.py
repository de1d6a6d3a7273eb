"""Good and bad values of every validated input of infrastructure/variables.tf.

Each validated variable lists values its validation must accept and values it must reject.
test_variables.py checks the table covers every validated variable and tries the regular expressions
in Python; test_terraform_cli.py has terraform itself accept each good value and reject each bad one.
"""

from __future__ import annotations

from typing import Any

ACCOUNT = "123456789012"
SECRET = f"arn:aws:secretsmanager:eu-west-1:{ACCOUNT}:secret:cora/prod/db-url-AbCdEf"

# Inputs without a default: the harness sets these (all valid) in every run.
REQUIRED: dict[str, Any] = {
    "environment": "prod",
    "bot_image": f"{ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/voice-bot:1.4.0",
    "ecs_subnets": ["subnet-0a1b2c3d4e5f60718"],
    "ecs_security_groups": ["sg-0a1b2c3d"],
    "database_url_secret_arn": SECRET,
    "daily_api_key_secret_arn": SECRET,
    "supabase_jwt_secret_arn": SECRET,
}

_SECRET_BAD = [
    "cora/prod/db-url",  # a name, not an ARN
    f"arn:aws:ssm:eu-west-1:{ACCOUNT}:parameter/db",  # another service
    f"arn:aws:secretsmanager:eu-west-1:{ACCOUNT}:db",  # no secret: resource type
    "arn:aws:secretsmanager:eu-west-1:1234:secret:db",  # account is 12 digits
]


def _secret_required() -> tuple[list[Any], list[Any]]:
    return [SECRET, f"arn:aws-us-gov:secretsmanager:us-gov-west-1:{ACCOUNT}:secret:db"], _SECRET_BAD


def _secret_optional() -> tuple[list[Any], list[Any]]:
    return [None, SECRET], _SECRET_BAD


def _whole(lo: int, hi: int) -> tuple[list[Any], list[Any]]:
    return [lo, hi], [lo - 1, hi + 1, lo + 0.5]


# name -> (accepted values, rejected values)
SAMPLES: dict[str, tuple[list[Any], list[Any]]] = {
    "project_name": (["cora", "my-platform2"], ["Cora", "1cora", "c", "cora_platform", "a" * 21]),
    "environment": (["dev", "prod-eu"], ["Dev", "d", "prod_eu", "a" * 17]),
    "tags": (
        [{}, {"CostCenter": "voice", "Owner": "platform-team"}],
        [{"aws:createdBy": "me"}, {"Owner": "x" * 257}, {"k" * 129: "v"}],
    ),
    "artifacts_dir": ([None, "/srv/build/dist"], ["", "   "]),
    "log_retention_days": ([1, 365, 3653], [0, 2, 366, 4000]),
    "kms_deletion_window_days": _whole(7, 30),
    "module_voice_lambda_timeout": _whole(3, 900),
    "module_voice_lambda_memory": _whole(128, 10240),
    "events_lambda_timeout": _whole(10, 900),
    "worker_lambda_timeout": _whole(30, 900),
    "worker_lambda_memory": _whole(256, 10240),
    "preview_lambda_memory": _whole(256, 10240),
    "lambda_reserved_concurrency": (
        [{"voice-sessions": 50, "voice-preview": -1}, {}],
        [{"voice-sessions": 0}, {"voice-sessions": -2}, {"voice-sessions": 2.5}, {"voice-session": 5}],
    ),
    "worker_max_concurrency": _whole(2, 1000),
    "lambda_subnet_ids": (
        [[], ["subnet-0a1b2c3d", "subnet-0a1b2c3d4e5f60718"]],
        [["subnet-x"], ["sg-0a1b2c3d"]],
    ),
    "lambda_security_group_ids": ([[], ["sg-0a1b2c3d4e5f60718"]], [["sg-default"], ["subnet-0a1b2c3d"]]),
    "log_level": (["DEBUG", "ERROR"], ["debug", "TRACE"]),
    "preview_image_uri": (
        [
            None,
            f"{ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/voice-preview:1.4.0",
            f"{ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/cora/voice-preview@sha256:{'a' * 64}",
        ],
        [
            f"{ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/voice-preview:latest",
            f"{ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/voice-preview",  # not pinned
            "public.ecr.aws/lambda/python:3.11",  # Lambda pulls only from private ECR
            "ghcr.io/acme/voice-preview:1.0",
        ],
    ),
    "standby_pool_size": _whole(0, 50),
    "business_hours_start": (["00:00", "09:30", "23:59"], ["9:00", "24:00", "09:60", "0900"]),
    "business_hours_end": (["17:00"], ["25:00", "5pm"]),
    "business_hours_days": ([["mon"], ["sat", "sun"]], [[], ["monday"], ["Mon"]]),
    "business_hours_timezone": (
        ["UTC", "Europe/Berlin", "America/Argentina/Buenos_Aires"],
        ["CET+1", "Berlin "],
    ),
    "transcript_retention_days": _whole(1, 3650),
    "preview_rate_limit_per_minute": _whole(1, 1000),
    "bot_image": (
        [f"{ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/voice-bot:1.4.0"],
        ["", f"{ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/voice-bot:latest"],
    ),
    "bot_image_repository_arn": (
        [None, f"arn:aws:ecr:eu-west-1:{ACCOUNT}:repository/cora/voice-bot"],
        ["voice-bot", f"arn:aws:ecr:eu-west-1:{ACCOUNT}:voice-bot", f"arn:aws:s3:::{ACCOUNT}-voice-bot"],
    ),
    "bot_cpu": ([256, 1024, 16384], [100, 1000, 3072]),
    "bot_memory": ([512, 2048, 122880], [256, 1000, 2048.5, 123392]),
    "bot_container_name": (["pipecat-bot", "bot_1"], ["", "pipecat bot", "-bot", "b" * 256]),
    "bot_container_secrets": (
        [{}, {"EXTRA_TOKEN": SECRET}],
        [{"EXTRA_TOKEN": "plain-value"}, {"EXTRA-TOKEN": SECRET}, {"1TOKEN": SECRET}],
    ),
    "bot_drain_timeout_seconds": ([None, 1, 60, 110], [0, -5, 111, 120, 300]),
    "ecs_subnets": ([["subnet-0a1b2c3d"]], [[], ["subnet-private-a"], ["sg-0a1b2c3d"]]),
    "ecs_security_groups": ([["sg-0a1b2c3d", "sg-0a1b2c3d4e5f60718"]], [[], ["sg-bot"], ["subnet-0a1b2c3d"]]),
    "transcript_bucket_name": (
        [None, "cora-prod-voice-transcripts", "acme.voice.transcripts"],
        ["Cora-Transcripts", "ab", "a..b", "192.168.1.1", "bucket-", "xn--bucket", "b" * 64],
    ),
    "access_log_bucket_name": ([None, "cora-prod-access-logs"], ["Logs", "logs_bucket", "logs-s3alias"]),
    "access_log_retention_days": _whole(1, 3650),
    "transcript_glacier_transition_days": _whole(1, 3650),
    "transcript_expiration_days": _whole(2, 3650),
    "preview_cache_days": _whole(1, 365),
    "noncurrent_version_expiration_days": _whole(1, 3650),
    "standby_message_retention_seconds": _whole(60, 1209600),
    "dlq_max_receive_count": _whole(1, 1000),
    "database_url_secret_arn": _secret_required(),
    "daily_api_key_secret_arn": _secret_required(),
    "deepgram_api_key_secret_arn": _secret_optional(),
    "cartesia_api_key_secret_arn": _secret_optional(),
    "openai_api_key_secret_arn": _secret_optional(),
    "supabase_jwt_secret_arn": _secret_required(),
    "openai_model": (["gpt-4o-mini", "meta-llama/Llama-3.1-8B", "openai:gpt-4.1"], ["", "gpt 4o", "-model"]),
    "external_secrets_kms_key_arns": (
        [[], [f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"]],
        [[f"arn:aws:kms:eu-west-1:{ACCOUNT}:alias/secrets"], ["1234abcd-12ab-34cd-56ef-1234567890ab"]],
    ),
    "cors_allow_origins": (
        [["*"], ["https://app.example.com", "http://localhost:5173"]],
        [[], ["https://app.example.com/"], ["app.example.com"], ["https://app.example.com/path"]],
    ),
    "bot_token_secret_version": (["1", "2026-01-rotation"], ["", "version 2"]),
    "authorizer_lambda_arn": (
        [
            None,
            f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:cora-prod-authorizer",
            f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:cora-prod-authorizer:live",
        ],
        [
            "cora-prod-authorizer",
            f"arn:aws:iam::{ACCOUNT}:role/authorizer",
            "arn:aws:lambda:eu-west-1:x:function:a",
        ],
    ),
    "authorizer_type": (["TOKEN", "REQUEST"], ["token", "JWT"]),
    "authorizer_result_ttl_seconds": _whole(0, 3600),
    "platform_rest_api_execution_arn": (
        [None, f"arn:aws:execute-api:eu-west-1:{ACCOUNT}:a1b2c3d4e5"],
        [
            f"arn:aws:execute-api:eu-west-1:{ACCOUNT}:a1b2c3d4e5/*",
            "a1b2c3d4e5",
            "arn:aws:apigateway:eu-west-1::/restapis/a1b2c3d4e5",
        ],
    ),
    "platform_rest_api_name": ([None, "cora-prod-api"], ["", " api"]),
    "platform_rest_api_stage_name": ([None, "prod", "v1_beta"], ["", "prod stage", "v1/beta"]),
    "api_base_url": (
        [
            None,
            "https://api.example.com/api/voice",
            "https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com/v1/api/voice",
        ],
        [
            "http://api.example.com/api/voice",
            "https://api.example.com/api/voice/",
            "api.example.com",
            "https://",
        ],
    ),
    "api_stage_name": (["v1", "prod_2"], ["", "v 1", "v1/x"]),
    "api_throttle_rate_limit": ([0.5, 100, 10000], [0, -1, 10001]),
    "api_throttle_burst_limit": (_whole(1, 5000)[0], _whole(1, 5000)[1]),
    "waf_web_acl_arn": (
        [
            None,
            f"arn:aws:wafv2:eu-west-1:{ACCOUNT}:regional/webacl/cora/1234abcd-12ab-34cd-56ef-1234567890ab",
        ],
        [
            f"arn:aws:wafv2:us-east-1:{ACCOUNT}:global/webacl/cora/1234abcd-12ab-34cd-56ef-1234567890ab",
            f"arn:aws:waf::{ACCOUNT}:webacl/1234abcd",
        ],
    ),
    "watchdog_schedule": (
        ["rate(1 minute)", "rate(5 minutes)", "rate(2 hours)", "rate(1 day)", "cron(0/2 * * * ? *)"],
        [
            "rate(1 minutes)",
            "rate(2 minute)",
            "rate(0 minutes)",
            "every 5 minutes",
            "cron(* * * * *)",
            "rate(5 seconds)",
        ],
    ),
    "retention_schedule": (
        ["cron(15 3 * * ? *)", "rate(1 day)"],
        ["cron(15 3 * * ?)", "15 3 * * *", "rate(1 week)"],
    ),
    "alarm_sns_topic_arn": (
        [None, f"arn:aws:sns:eu-west-1:{ACCOUNT}:ops-alerts", f"arn:aws:sns:eu-west-1:{ACCOUNT}:ops.fifo"],
        [
            "ops-alerts",
            f"arn:aws:sqs:eu-west-1:{ACCOUNT}:ops-alerts",
            f"arn:aws:sns:eu-west-1:{ACCOUNT}:ops alerts",
        ],
    ),
    "api_5xx_alarm_threshold": _whole(1, 100000),
    "pool_backlog_age_alarm_seconds": ([20, 60, 3600], [0, 19, 3601, 60.5]),
}
