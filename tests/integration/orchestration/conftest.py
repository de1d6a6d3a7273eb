"""Orchestration tests: real PostgreSQL, moto (SQS, ECS, Secrets Manager, DynamoDB), the Daily stand-in on
127.0.0.1 and the real Lambdas (voice-sessions, voice-bot, voice-events) invoked with their real events.

Each test gets its own org and users (``scene``), short timeouts and empty dispatch queues, and places the
start inside or outside business hours through ``clock`` (the dispatch decision's clock).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import threading
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tests.fixtures.api import ApiResponse
from tests.fixtures.db import SAMPLE_CONFIG_JSON, Org, User

# Wednesday 11 June 2025, 14:00 UTC = 10:00 in New York (EDT): inside the default business hours.
BUSINESS_HOURS = dt.datetime(2025, 6, 11, 14, 0, tzinfo=dt.UTC)
# Saturday: outside them.
OFF_HOURS = dt.datetime(2025, 6, 14, 14, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="session")
def daily_standin() -> Iterator[Any]:
    from voice_local.daily_standin import DailyStandIn

    with DailyStandIn() as daily:
        yield daily


@pytest.fixture
def daily(daily_standin: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The Daily stand-in, emptied, with fast client retries."""
    daily_standin.reset()
    monkeypatch.setenv("DAILY_API_URL", daily_standin.url)
    monkeypatch.setenv("DAILY_BACKOFF_SECONDS", "0.01")
    monkeypatch.setenv("DAILY_MAX_ATTEMPTS", "3")
    return daily_standin


def drain(sqs: Any, url: str) -> list[dict[str, Any]]:
    """Receive and delete everything visible in a queue (the queues are shared by the whole run)."""
    taken: list[dict[str, Any]] = []
    while True:
        got = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0, MessageAttributeNames=["All"]
        ).get("Messages", [])
        if not got:
            return taken
        for m in got:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        taken.extend(got)


@pytest.fixture
def orch(
    aws_env: dict[str, str], database_url: str, daily: Any, monkeypatch: pytest.MonkeyPatch
) -> Iterator[dict[str, str]]:
    """Environment for orchestration: settings, URLs for bots, caches cleared, queues empty."""
    from access_common.aws import reset_clients
    from voice_common import bot_token, credentials
    from voice_common.settings import get_settings

    monkeypatch.setenv("API_BASE_URL", "http://127.0.0.1:9/api/voice")
    monkeypatch.setenv("WEBSOCKET_URL", "ws://127.0.0.1:9/ws")
    monkeypatch.setenv("VOICE_POOL_PICKUP_TIMEOUT_SECONDS", "1")
    monkeypatch.setenv("VOICE_MAX_CONCURRENT_SESSIONS", "50")
    monkeypatch.setenv("VOICE_STANDBY_POOL_SIZE", "2")
    for key in ("DEEPGRAM_API_KEY_SECRET_ARN", "CARTESIA_API_KEY_SECRET_ARN", "OPENAI_API_KEY_SECRET_ARN"):
        monkeypatch.delenv(key, raising=False)
    get_settings.cache_clear()
    bot_token.reset_secret_cache()
    credentials.forget_cached_key(None)
    reset_clients()
    import boto3

    sqs = boto3.client("sqs", endpoint_url=aws_env["AWS_ENDPOINT_URL"])
    drain(sqs, aws_env["STANDBY_QUEUE_URL"])
    drain(sqs, aws_env["DISPATCH_CHECK_QUEUE_URL"])
    yield aws_env
    get_settings.cache_clear()
    reset_clients()


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Callable[[dt.datetime], None]:
    """``clock(moment)``: the time the dispatch decision sees."""
    from voice_common import dispatch

    def _set(moment: dt.datetime) -> None:
        monkeypatch.setattr(dispatch, "utcnow", lambda: moment)

    _set(OFF_HOURS)
    return _set


@dataclass
class Scene:
    org: Org
    creator: User
    admin: User
    member: User
    outsider: User
    config: dict[str, Any]
    new_session: Callable[..., dict[str, Any]]


@pytest.fixture
def scene(make_org: Any, make_user: Any, make_voice_config: Any, make_voice_session: Any) -> Scene:
    org, other = make_org(), make_org()
    creator = make_user(org)
    admin = make_user(org, org_role="org_admin")
    member = make_user(org)
    outsider = make_user(other)
    config = make_voice_config(org, admin, config_json=SAMPLE_CONFIG_JSON)

    def new_session(**columns: Any) -> dict[str, Any]:
        return make_voice_session(org, creator, config_id=config["id"], **columns)

    return Scene(org, creator, admin, member, outsider, config, new_session)


@pytest.fixture
def start(invoke: Any) -> Callable[..., ApiResponse]:
    def _start(session_id: Any, user: Any) -> ApiResponse:
        return invoke("voice-sessions", "POST", f"/api/voice/sessions/{session_id}/start", user=user)

    return _start


@pytest.fixture
def bot_call(invoke: Any) -> Callable[..., ApiResponse]:
    """``bot_call(session_id, "heartbeat", token, body=None)`` against the voice-bot Lambda."""

    def _call(session_id: Any, action: str, token: str | None, body: Any = None) -> ApiResponse:
        headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
        return invoke(
            "voice-bot",
            "POST",
            f"/api/voice/bot/sessions/{session_id}/{action}",
            headers=headers,
            body=body if body is not None else {},
        )

    return _call


@pytest.fixture
def events_lambda() -> Callable[[dict[str, Any]], Any]:
    from voice_local.lambdas import invoke_lambda

    return lambda event: invoke_lambda("voice-events", event)


def sqs_event(
    messages: list[dict[str, Any]], queue_arn: str = "arn:aws:sqs:us-east-1:123456789012:q"
) -> dict[str, Any]:
    """The event the SQS event source mapping delivers for received messages."""
    return {
        "Records": [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "0"},
                "messageAttributes": {},
                "md5OfBody": m.get("MD5OfBody", ""),
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": "us-east-1",
            }
            for m in messages
        ]
    }


def session_row(admin_conn: Any, session_id: Any) -> dict[str, Any]:
    row = admin_conn.execute("SELECT * FROM public.voice_sessions WHERE id = %s", (session_id,)).fetchone()
    assert row is not None
    return dict(row)


def tasks_for(ecs: Any, cluster: str, session_id: Any) -> list[dict[str, Any]]:
    """Every task (running or stopped) started for the session (startedBy = session id)."""
    arns = ecs.list_tasks(cluster=cluster, startedBy=str(session_id))["taskArns"]
    arns += ecs.list_tasks(cluster=cluster, startedBy=str(session_id), desiredStatus="STOPPED")["taskArns"]
    if not arns:
        return []
    return list(ecs.describe_tasks(cluster=cluster, tasks=sorted(set(arns)), include=["TAGS"])["tasks"])


def sealed_payload_of(task: dict[str, Any]) -> dict[str, Any]:
    """The BOT_PAYLOAD of a task's overrides, as ECS holds it (tokens sealed)."""
    env = task["overrides"]["containerOverrides"][0]["environment"]
    return json.loads(next(e["value"] for e in env if e["name"] == "BOT_PAYLOAD"))


def bot_payload_of(task: dict[str, Any]) -> dict[str, Any]:
    """The payload as the bot sees it once it has unsealed the tokens with its task role."""
    import boto3

    from voice_common.dispatch import unseal_tokens

    kms = boto3.client("kms", endpoint_url=os.environ["AWS_ENDPOINT_URL"])
    return unseal_tokens(sealed_payload_of(task), kms)


class EcsCapacityProxy:
    """ECS's endpoint on 127.0.0.1 that answers RunTask as ECS does without capacity (``tasks`` empty,
    ``failures`` with a reason) and forwards every other call to moto unchanged."""

    def __init__(self, moto_url: str) -> None:
        self.moto_url = moto_url
        self.run_task_calls = 0
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.headers.get("X-Amz-Target", "").endswith(".RunTask"):
                    proxy.run_task_calls += 1
                    answer = json.dumps(
                        {
                            "tasks": [],
                            "failures": [
                                {
                                    "arn": "arn:aws:ecs:us-east-1:123456789012:container-instance/x",
                                    "reason": "RESOURCE:MEMORY",
                                }
                            ],
                        }
                    ).encode()
                    self.send_response(200)
                    self.send_header("Content-Type", "application/x-amz-json-1.1")
                    self.send_header("Content-Length", str(len(answer)))
                    self.end_headers()
                    self.wfile.write(answer)
                    return
                request = urllib.request.Request(
                    proxy.moto_url + self.path,
                    data=body,
                    method="POST",
                    headers={k: v for k, v in self.headers.items() if k.lower() != "host"},
                )
                with urllib.request.urlopen(request, timeout=10) as resp:
                    data = resp.read()
                    self.send_response(resp.status)
                    for k, v in resp.headers.items():
                        if k.lower() not in ("content-length", "transfer-encoding", "connection"):
                            self.send_header(k, v)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def ecs_without_capacity(orch: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[EcsCapacityProxy]:
    """Route the Lambdas' ECS client through ``EcsCapacityProxy`` (other services still reach moto)."""
    from access_common.aws import reset_clients

    proxy = EcsCapacityProxy(orch["AWS_ENDPOINT_URL"])
    monkeypatch.setenv("AWS_ENDPOINT_URL_ECS", proxy.url)
    reset_clients()
    yield proxy
    monkeypatch.delenv("AWS_ENDPOINT_URL_ECS", raising=False)
    reset_clients()
    proxy.stop()


def new_id() -> uuid.UUID:
    return uuid.uuid4()
