"""GET /api/voice/health through the real voice-sessions Lambda: degraded answers are 503, secret-free."""

from __future__ import annotations

import json

import pytest

from voice_local.lambdas import invoke_lambda


def health_event() -> dict:
    return {
        "resource": "/api/voice/health",
        "path": "/api/voice/health",
        "httpMethod": "GET",
        "headers": {},
        "multiValueHeaders": {},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": None,
        "stageVariables": None,
        "body": None,
        "isBase64Encoded": False,
        "requestContext": {
            "resourcePath": "/api/voice/health",
            "httpMethod": "GET",
            "path": "/api/voice/health",
            "stage": "local",
            "requestId": "health-test",
            "identity": {"sourceIp": "127.0.0.1"},
            "authorizer": None,
        },
    }


@pytest.fixture
def unreachable_database(stack, monkeypatch):
    from access_common.db import reset_connection
    from voice_common.api import health

    monkeypatch.setenv(
        "DATABASE_URL", "postgresql://voice:hunter2-secret@127.0.0.1:1/voice?connect_timeout=2"
    )
    monkeypatch.delenv("DATABASE_SECRET_ARN", raising=False)
    reset_connection()
    health.reset_clients()
    yield
    reset_connection()


def test_degraded_health_is_503_without_secrets(unreachable_database, monkeypatch):
    monkeypatch.delenv("TRANSCRIPT_BUCKET")
    result = invoke_lambda("voice-sessions", health_event())
    assert result["statusCode"] == 503
    body = json.loads(result["body"])
    assert body["success"] is True
    data = body["data"]
    assert data["module"] == "module-voice"
    assert data["status"] == "degraded"
    assert data["checks"]["database"].startswith("error: ")
    assert data["checks"]["s3"] == "error: not configured"
    assert data["checks"]["dynamodb"] == "ok" and data["checks"]["sqs"] == "ok"
    assert data["version"] and data["timestamp"].endswith("Z")
    assert "hunter2" not in result["body"] and "127.0.0.1:1" not in result["body"]
