"""Shared pytest set-up: real PostgreSQL (tests.fixtures.db), moto server (tests.fixtures.aws) and the
real Lambda handlers invoked with API Gateway-shaped events (tests.fixtures.api)."""

import os

# Deterministic local configuration for code under test; nothing here reaches beyond 127.0.0.1.
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "ModuleVoiceTest")
os.environ.setdefault("POWERTOOLS_DEV", "false")
os.environ.setdefault("SUPABASE_JWT_SECRET", "test-jwt-secret-for-module-voice-0123456789")

pytest_plugins = ["tests.fixtures.db", "tests.fixtures.aws", "tests.fixtures.api", "tests.quality.skips"]
