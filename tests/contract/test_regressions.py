"""Regression tests for the 5xx and contract violations the fuzzer found (tests/contract/test_fuzz.py).

Each one runs the real Lambda with the API Gateway event that used to fail.
"""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any

import pytest

from tests.fixtures.api import rest_event


def _call(name: str, event: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    from voice_local.lambdas import invoke_lambda

    result = invoke_lambda(name, event)
    body = json.loads(result["body"])
    return int(result["statusCode"]), body


@pytest.mark.parametrize(
    "content_type",
    [
        "multipart/form-data",  # no boundary: Powertools raised ValueError -> 502 at the gateway
        "multipart/form-data; boundary=xyz",
        "text/plain",  # Powertools answered 415 outside the CORA envelope
        "application/x-www-form-urlencoded",
        "application/xml",
    ],
)
@pytest.mark.parametrize(
    ("lambda_name", "path"),
    [("voice-configs", "/api/voice/configs"), ("voice-sessions", "/api/voice/sessions")],
)
def test_a_body_that_is_not_json_is_415_in_the_envelope(
    lambda_name: str, path: str, content_type: str
) -> None:
    event = rest_event(
        "POST", path, raw_body='{"orgId": "x"}', user=uuid.uuid4(), headers={"content-type": content_type}
    )
    status, body = _call(lambda_name, event)
    assert status == 415
    assert body == {
        "success": False,
        "error": "Request body must be JSON (Content-Type: application/json)",
        "code": "UNSUPPORTED_MEDIA_TYPE",
    }


def test_a_base64_body_that_is_not_utf8_is_400_invalid_json() -> None:
    """The gateway base64-encodes a binary body; Powertools raised UnicodeDecodeError (502)."""
    event = rest_event("POST", "/api/voice/credentials", user=uuid.uuid4())
    event["body"] = base64.b64encode(b"+R\x89|)-").decode()
    event["isBase64Encoded"] = True
    status, body = _call("voice-credentials", event)
    assert (status, body["code"]) == (400, "INVALID_JSON")


def test_a_base64_json_body_is_still_read() -> None:
    event = rest_event("POST", "/api/voice/configs", user=uuid.uuid4())
    event["body"] = base64.b64encode(json.dumps({"name": "x"}).encode()).decode()
    event["isBase64Encoded"] = True
    status, body = _call("voice-configs", event)
    # Reaches the resolver's validation: the missing fields are named.
    assert (status, body["code"]) == (400, "VALIDATION_ERROR")
    assert "orgId" in body["error"]


def test_json_with_charset_is_json() -> None:
    event = rest_event(
        "POST",
        "/api/voice/configs",
        raw_body="{}",
        user=uuid.uuid4(),
        headers={"content-type": "application/json; charset=utf-8"},
    )
    status, body = _call("voice-configs", event)
    assert (status, body["code"]) == (400, "VALIDATION_ERROR")
