"""The WebSocket part of the authorization matrix (``websocket_rows`` of tests/authz/matrix.yaml), executed
through the local gateway's WebSocket emulation with real clients and the real voice-websocket Lambda.

Per cell: a fresh org and users (``Scene``), an active session created by another member, a connection
as the column's caller (user JWT, the session's bot token, or no token), then the row's action. The
outcome is "401" when ``$connect`` refuses, the reply's message type, or the ``error`` reply's code.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.authz.cases import Scene
from tests.authz.matrix import COLUMN_TITLES, WsRow, load, load_websocket, websocket_routes

COLUMNS, _ = load()
WS_ROWS = load_websocket()
RECV_TIMEOUT = 10.0


def test_every_websocket_route_has_a_row() -> None:
    covered = {row.route for row in WS_ROWS}
    missing = sorted(set(websocket_routes()) - covered)
    assert not missing, f"WebSocket routes of module.json without a row in tests/authz/matrix.yaml: {missing}"
    assert covered <= set(websocket_routes())
    for row in WS_ROWS:
        assert set(row.expect) == set(COLUMNS), row.route


@pytest.fixture(scope="module")
def ws_gateway(database_url: str, aws_env: dict[str, str]) -> Iterator[Any]:
    """The gateway with module.json's routes and the real Lambdas, on a free port."""
    from access_common.aws import reset_clients
    from access_common.db import reset_connection
    from voice_common import bot_token
    from voice_local.gateway import Gateway
    from voice_local.testing import BackgroundLoop

    loop = BackgroundLoop()
    gateway = Gateway()
    loop.run(gateway.start(0))
    saved = {k: os.environ.get(k) for k in ("WEBSOCKET_API_ENDPOINT", "DATABASE_URL")}
    os.environ["WEBSOCKET_API_ENDPOINT"] = gateway.base_url
    os.environ["DATABASE_URL"] = database_url
    reset_clients()
    reset_connection()
    bot_token.reset_secret_cache()
    try:
        yield gateway
    finally:
        loop.run(gateway.stop(), timeout=30)
        loop.close()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        reset_clients()


def _token(scene: Scene, column: str, session_id: str) -> str | None:
    from access_common.jwt import mint_user_jwt
    from voice_common import bot_token

    if column == "bot":
        return bot_token.issue(session_id, 600)
    user = scene.user(column)
    if user is None:
        return None
    return mint_user_jwt(str(user.id), user.email, secret=os.environ["SUPABASE_JWT_SECRET"])


def _reply(ws: Any) -> str:
    message = json.loads(ws.recv(timeout=RECV_TIMEOUT))
    return str(message["code"]) if message["type"] == "error" else str(message["type"])


def _connections_of(identity: tuple[str, str]) -> int:
    """Connection records with this user_id / bot_session_id (moto DynamoDB)."""
    from access_common.aws import client

    attribute, value = identity
    found = client("dynamodb").scan(
        TableName=os.environ["CONNECTIONS_TABLE"],
        FilterExpression="#a = :v",
        ExpressionAttributeNames={"#a": attribute},
        ExpressionAttributeValues={":v": {"S": value}},
        ConsistentRead=True,
    )
    return len(found.get("Items", []))


def _outcome(gateway: Any, scene: Scene, row: WsRow, column: str) -> str:
    import websockets.sync.client as ws_client
    from websockets.exceptions import InvalidStatus

    session_id = str(scene.session("active")["id"])
    token = _token(scene, column, session_id)
    url = gateway.websocket_url + (f"?token={token}" if token is not None else "")
    try:
        ws = ws_client.connect(url, open_timeout=10)
    except InvalidStatus as exc:
        return str(exc.response.status_code)
    user = scene.user(column)
    identity = (
        ("bot_session_id", session_id) if column == "bot" else ("user_id", str(user.id) if user else "")
    )
    with ws:
        if row.route == "$connect":
            return "connected" if _connections_of(identity) == 1 else "no connection record"
        if row.route == "$disconnect":
            ws.close()
            deadline = time.monotonic() + 10
            while _connections_of(identity) and time.monotonic() < deadline:
                time.sleep(0.05)
            return "disconnected" if _connections_of(identity) == 0 else "connection record kept"
        message: dict[str, Any] = {"action": "nope"}
        if row.route == "subscribe":
            message = {"action": "subscribe", "sessionId": session_id}
        elif row.route == "unsubscribe":
            message = {"action": "unsubscribe", "sessionId": session_id}
        elif row.route == "ping":
            message = {"action": "ping"}
        elif row.route == "transcript":
            segment = {"seq": 1, "speaker": "bot", "text": "Hello.", "startTime": 0.0, "endTime": 1.0}
            message = {
                "action": "transcript",
                "sessionId": session_id,
                "segment": {**segment, "isFinal": True},
            }
        ws.send(json.dumps(message))
        return _reply(ws)


@pytest.mark.parametrize("row", WS_ROWS, ids=[row.route for row in WS_ROWS])
def test_websocket_matrix_row(row: WsRow, ws_gateway: Any, admin_conn: Any, invoke: Any) -> None:
    mismatches = []
    for column in COLUMNS:
        outcome = _outcome(ws_gateway, Scene.new(admin_conn, invoke), row, column)
        if outcome != row.expect[column]:
            mismatches.append(f"{COLUMN_TITLES[column]}: expected {row.expect[column]}, got {outcome}")
    assert not mismatches, f"{row.route}:\n  " + "\n  ".join(mismatches)
