"""Regression tests for the 5xx and contract violations the fuzzer found (tests/contract/test_fuzz.py).

Each one runs the real Lambda with the API Gateway event that used to fail.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterator
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


# --- NUL characters (fuzzer: POST /configs and POST /sessions answered 502) ---------------------------


@pytest.fixture
def acme(
    database_url: str, make_org: Any, make_user: Any, make_voice_config: Any, monkeypatch: pytest.MonkeyPatch
) -> Iterator[dict[str, Any]]:
    """An org in the session's test database, which the handlers use (the contract stack, when running,
    points DATABASE_URL at its own database)."""
    from access_common.db import reset_connection

    monkeypatch.setenv("DATABASE_URL", database_url)
    reset_connection()
    org = make_org()
    admin = make_user(org, "org_admin")
    yield {"org": org, "admin": admin, "config": make_voice_config(org, admin)}
    monkeypatch.undo()
    reset_connection()


def test_nul_in_a_text_field_is_400_not_5xx(acme: dict[str, Any], invoke: Any) -> None:
    """psycopg refuses NUL in a text parameter with a client-side DataError that was not mapped."""
    body = {
        "orgId": str(acme["org"].id),
        "name": "bad\u0000name",
        "interviewType": "technical",
        "configJson": {
            "botName": "x",
            "systemPrompt": "y",
            "interview": {"questions": [{"id": "q", "text": "t"}]},
        },
    }
    response = invoke("voice-configs", "POST", "/api/voice/configs", user=acme["admin"], body=body)
    assert response.status == 400, response.body
    assert response.body["success"] is False and response.code == "BAD_REQUEST"


def test_nul_in_json_metadata_is_400_not_5xx(acme: dict[str, Any], invoke: Any) -> None:
    """PostgreSQL rejects \\u0000 in jsonb (22P05 UntranslatableCharacter), which was not mapped either:
    psycopg's SQLSTATE classes do not inherit DataException."""
    body = {
        "orgId": str(acme["org"].id),
        "interviewType": "technical",
        "configId": str(acme["config"]["id"]),
        "sessionMetadata": {"note": "a\u0000b"},
    }
    response = invoke("voice-sessions", "POST", "/api/voice/sessions", user=acme["admin"], body=body)
    assert response.status == 400, response.body
    assert response.code == "BAD_REQUEST"


def test_other_class_22_errors_are_400() -> None:
    """value too long (22001) and numeric overflow (22003) map to 400 as docs/contracts.md says."""
    import psycopg.errors as pgerrors

    from access_common.db import map_db_error

    for cls in (
        pgerrors.StringDataRightTruncation,
        pgerrors.NumericValueOutOfRange,
        pgerrors.InvalidTextRepresentation,
    ):
        mapped = map_db_error(cls("boom"))
        assert mapped is not None and mapped.status == 400, cls


# --- concurrent requests to one Lambda in the local gateway (load test: 2 of 8623 got another request's
# query string, so "orgId: Field required"; the identity could be mixed up the same way) --------------


def test_concurrent_requests_to_one_lambda_keep_their_own_identity(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Powertools' resolver keeps the current event on the app object; the local gateway ran two events
    through the same Lambda module at once, so a handler could read the other request's caller."""
    import threading
    import time

    import requests

    from access_common.jwt import mint_user_jwt
    from voice_common import configs
    from voice_common.api import configs as configs_api
    from voice_local.testing import running_stack

    original = configs_api.principal

    def slow_principal(router: Any) -> Any:
        time.sleep(0.2)  # the other request's event arrives meanwhile
        return original(router)

    monkeypatch.setattr(configs_api, "principal", slow_principal)
    monkeypatch.setattr(configs, "list_configs", lambda p, org, page, **kw: ([{"caller": str(p.user_id)}], 1))
    secret = "regression-secret-0123456789abcdef0123456789"
    with running_stack(data_dir=tmp_path, database=False, jwt_secret=secret) as stack:
        users = [str(uuid.uuid4()) for _ in range(4)]
        answers: dict[str, Any] = {}

        def call(user: str) -> None:
            token = mint_user_jwt(user, None, secret=secret)
            answers[user] = requests.get(
                f"{stack.rest_url}/configs",
                params={"orgId": str(uuid.uuid4())},
                headers={"Authorization": f"Bearer {token}"},
                timeout=30,
            )

        threads = [threading.Thread(target=call, args=(u,)) for u in users]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    for user, response in answers.items():
        assert response.status_code == 200, response.text
        assert response.json()["data"] == [{"caller": user}]
