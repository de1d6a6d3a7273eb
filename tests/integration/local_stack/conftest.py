"""Fixtures for the local-stack tests: one gateway + moto per module, no PostgreSQL (fast).

REST Lambdas are replaced by an echo invoker that returns the event it received, so the tests see the
exact proxy event; the WebSocket Lambda is the real one (it only needs DynamoDB and the JWT secret).
"""

from __future__ import annotations

import json
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from voice_local.lambdas import invoke_lambda
from voice_local.stack import LocalStack
from voice_local.testing import running_stack


@dataclass
class Recorder:
    """An invoker: records every call; echoes REST events, runs the real voice-websocket Lambda."""

    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, name: str, event: dict[str, Any]) -> Any:
        with self.lock:
            self.calls.append((name, event))
        headers = event.get("headers") or {}
        if name == "voice-websocket":
            body = event.get("body") or ""
            if '"echo"' in body:  # route-response check: the handler's body goes back to the caller
                return {"statusCode": 200, "body": json.dumps({"echo": json.loads(body)["echo"]})}
            return invoke_lambda(name, event)
        if "X-Fail" in headers:
            raise RuntimeError("boom")
        if "X-Malformed" in headers:
            return {"body": "no status code"}
        return {
            "statusCode": 200,
            "headers": {"Content-Type": "application/json", "X-Echo": "1"},
            "multiValueHeaders": {"Set-Cookie": ["a=1", "b=2"]},
            "body": json.dumps({"lambda": name, "event": event}),
        }

    def names(self) -> list[str]:
        with self.lock:
            return [name for name, _ in self.calls]

    def count(self) -> int:
        with self.lock:
            return len(self.calls)


@pytest.fixture(scope="package")
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture(scope="package")
def stack(recorder: Recorder) -> Iterator[LocalStack]:
    """Gateway + moto on free ports with the resources created; no database, no seed.

    The data directory is our own (not tmp_path): pytest's basetemp rotation deletes old run directories
    when other pytest sessions run on the same machine.
    """
    with (
        tempfile.TemporaryDirectory(prefix="voice-gateway-test-") as data_dir,
        running_stack(data_dir=Path(data_dir), database=False, invoker=recorder) as started,
    ):
        yield started


@pytest.fixture(scope="package")
def user_token(stack: LocalStack) -> str:
    from access_common.jwt import mint_user_jwt

    return mint_user_jwt(USER_ID, USER_EMAIL, secret=stack.jwt_secret or "")


USER_ID = "0b8f3c1e-5f0e-4d59-9a55-6d0c2f4d7a11"
USER_EMAIL = "dev@acme.test"
