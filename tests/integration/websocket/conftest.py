"""The live transcript WebSocket end to end: real PostgreSQL, moto DynamoDB, the real voice-websocket
Lambda behind the local gateway (API Gateway WebSocket + @connections emulation) on 127.0.0.1, and real
WebSocket clients (``websockets.sync``)."""

from __future__ import annotations

import contextlib
import json
import os
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import websockets.sync.client as ws_client

from voice_local.gateway import Gateway
from voice_local.testing import BackgroundLoop

RECV_TIMEOUT = 10.0


@pytest.fixture(scope="package")
def gateway(database_url: str, aws_env: dict[str, str]) -> Iterator[Gateway]:
    """The gateway with module.json's routes and the real Lambdas, on a free port."""
    from access_common.aws import reset_clients
    from access_common.db import reset_connection
    from voice_common import bot_token

    loop = BackgroundLoop()
    gw = Gateway()
    loop.run(gw.start(0))
    saved = {k: os.environ.get(k) for k in ("WEBSOCKET_API_ENDPOINT", "DATABASE_URL", "BOT_TOKEN_SECRET")}
    os.environ["WEBSOCKET_API_ENDPOINT"] = gw.base_url
    os.environ["DATABASE_URL"] = database_url
    os.environ.pop("BOT_TOKEN_SECRET", None)  # the real path: the secret comes from Secrets Manager (moto)
    reset_clients()
    reset_connection()
    bot_token.reset_secret_cache()
    try:
        yield gw
    finally:
        loop.run(gw.stop(), timeout=30)
        loop.close()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        bot_token.reset_secret_cache()


@dataclass
class Client:
    """A WebSocket client with JSON helpers."""

    ws: Any
    received: list[dict[str, Any]] = field(default_factory=list)

    def send(self, message: dict[str, Any] | str) -> None:
        self.ws.send(message if isinstance(message, str) else json.dumps(message))

    def recv(self, timeout: float = RECV_TIMEOUT) -> dict[str, Any]:
        message = json.loads(self.ws.recv(timeout=timeout))
        self.received.append(message)
        return message

    def recv_type(self, kind: str, timeout: float = RECV_TIMEOUT) -> dict[str, Any]:
        """The next message of ``kind``; any other message before it fails the test."""
        message = self.recv(timeout)
        assert message["type"] == kind, message
        return message

    def subscribe(self, session_id: Any, after_seq: int | None = None) -> list[dict[str, Any]]:
        """Subscribe and return the backlog (all frames until ``complete``)."""
        request: dict[str, Any] = {"action": "subscribe", "sessionId": str(session_id)}
        if after_seq is not None:
            request["afterSeq"] = after_seq
        self.send(request)
        ack = self.recv_type("subscribed")
        assert ack["sessionId"] == str(session_id)
        segments: list[dict[str, Any]] = []
        while True:
            frame = self.recv_type("transcript.backlog")
            segments.extend(frame["segments"])
            if frame["complete"]:
                return segments

    def barrier(self) -> None:
        """Ping and expect the pong next: proves nothing else was queued for this socket before it."""
        self.send({"action": "ping"})
        self.recv_type("pong")

    def close(self) -> None:
        self.ws.close()


@pytest.fixture
def connect(gateway: Gateway) -> Iterator[Callable[..., Client]]:
    """``connect(token)`` -> an open Client; all are closed after the test."""
    with contextlib.ExitStack() as stack:

        def _connect(token: str | None) -> Client:
            url = gateway.websocket_url + (f"?token={token}" if token is not None else "")
            return Client(stack.enter_context(ws_client.connect(url, open_timeout=10, max_size=2**20)))

        yield _connect


@pytest.fixture
def user_token() -> Callable[..., str]:
    from access_common.jwt import mint_user_jwt

    def _token(user: Any, ttl_seconds: int = 3600) -> str:
        return mint_user_jwt(
            str(user.id), user.email, secret=os.environ["SUPABASE_JWT_SECRET"], ttl_seconds=ttl_seconds
        )

    return _token


@pytest.fixture
def bot_token_for() -> Callable[..., str]:
    from voice_common import bot_token

    return lambda session_id, ttl_seconds=600: bot_token.issue(session_id, ttl_seconds)


@dataclass
class World:
    """One org with an owner, a member and an active session, plus another org with its own session."""

    org: Any
    owner: Any
    member: Any
    session: dict[str, Any]
    other_org: Any
    other_user: Any
    other_session: dict[str, Any]

    @property
    def session_id(self) -> uuid.UUID:
        return uuid.UUID(str(self.session["id"]))


@pytest.fixture
def world(gateway: Gateway, make_org, make_user, make_voice_session) -> World:  # type: ignore[no-untyped-def]
    org, other_org = make_org(), make_org()
    owner = make_user(org, "org_owner")
    member = make_user(org)
    other_user = make_user(other_org)
    return World(
        org=org,
        owner=owner,
        member=member,
        session=make_voice_session(org, owner, status="active"),
        other_org=other_org,
        other_user=other_user,
        other_session=make_voice_session(other_org, other_user, status="active"),
    )


def segment(seq: int, text: str | None = None, **overrides: Any) -> dict[str, Any]:
    body = {
        "seq": seq,
        "speaker": "candidate" if seq % 2 == 0 else "bot",
        "text": text if text is not None else f"line {seq}",
        "startTime": float(seq),
        "endTime": seq + 0.75,
        "confidence": 0.9,
        "isFinal": True,
    }
    body.update(overrides)
    return body


def publish(bot: Client, session_id: Any, seg: dict[str, Any]) -> dict[str, Any]:
    """Send one segment and return the bot's reply (``ack`` or ``error``)."""
    bot.send({"action": "transcript", "sessionId": str(session_id), "segment": seg})
    return bot.recv()


def stored(admin_conn: Any, session_id: Any) -> list[dict[str, Any]]:
    return admin_conn.execute(
        "SELECT seq, speaker, text, start_time, end_time, confidence, org_id"
        " FROM public.voice_transcript_segments WHERE session_id = %s ORDER BY seq",
        (session_id,),
    ).fetchall()


def connection_item(connection_id: str) -> dict[str, Any] | None:
    import boto3

    item = boto3.client("dynamodb").get_item(
        TableName=os.environ["CONNECTIONS_TABLE"],
        Key={"connection_id": {"S": connection_id}},
        ConsistentRead=True,
    )
    return item.get("Item")


def wait_for(predicate: Callable[[], Any], timeout: float = 5.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    return predicate()
