"""voice-websocket: the live transcript WebSocket (API Gateway WebSocket API, routes on ``action``).

First version: ``$connect`` authenticates the ``token`` query parameter as a user JWT and records the
connection in DynamoDB, ``$disconnect`` removes it, ``ping`` answers ``pong`` through the management API.
``subscribe`` / ``unsubscribe`` / ``transcript`` are added by their issue.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger

from access_common.aws import client
from access_common.errors import UnauthorizedError
from access_common.jwt import verify_user_jwt

logger = Logger(service=os.environ.get("POWERTOOLS_SERVICE_NAME", "module-voice"))

# API Gateway closes a WebSocket after 2 hours; the TTL removes records whose $disconnect was lost.
CONNECTION_TTL_SECONDS = 2 * 60 * 60 + 10 * 60

Event = dict[str, Any]
Result = dict[str, Any]


def _json(status: int, body: Any | None = None) -> Result:
    result: Result = {"statusCode": status}
    if body is not None:
        result["body"] = json.dumps(body, separators=(",", ":"))
    return result


def _connections_table() -> str:
    return os.environ["CONNECTIONS_TABLE"]


def _management_endpoint(event: Event) -> str:
    configured = os.environ.get("WEBSOCKET_API_ENDPOINT")
    if configured:
        return configured
    ctx = event["requestContext"]
    return f"https://{ctx['domainName']}/{ctx['stage']}"


def send(event: Event, connection_id: str, message: dict[str, Any]) -> bool:
    """Push one message to a connection; False (and the record removed) when the connection is gone."""
    api = client("apigatewaymanagementapi", endpoint_url=_management_endpoint(event))
    try:
        api.post_to_connection(ConnectionId=connection_id, Data=json.dumps(message).encode())
    except api.exceptions.GoneException:
        _forget(connection_id)
        return False
    return True


def _forget(connection_id: str) -> None:
    client("dynamodb").delete_item(
        TableName=_connections_table(), Key={"connection_id": {"S": connection_id}}
    )


def on_connect(event: Event) -> Result:
    token = (event.get("queryStringParameters") or {}).get("token") or ""
    try:
        claims = verify_user_jwt(token)
    except UnauthorizedError as err:
        logger.info("connection refused", extra={"code": err.code})
        return _json(401, {"success": False, "error": err.message, "code": err.code})
    ctx = event["requestContext"]
    now = int(time.time())
    client("dynamodb").put_item(
        TableName=_connections_table(),
        Item={
            "connection_id": {"S": ctx["connectionId"]},
            "kind": {"S": "user"},
            "user_id": {"S": str(claims["sub"])},
            "connected_at": {"N": str(ctx.get("connectedAt") or now * 1000)},
            "expires_at": {"N": str(now + CONNECTION_TTL_SECONDS)},
        },
    )
    return _json(200)


def on_disconnect(event: Event) -> Result:
    _forget(event["requestContext"]["connectionId"])
    return _json(200)


def on_ping(event: Event) -> Result:
    send(event, event["requestContext"]["connectionId"], {"v": 1, "type": "pong", "sessionId": None})
    return _json(200)


def on_unknown(event: Event) -> Result:
    send(
        event,
        event["requestContext"]["connectionId"],
        {
            "v": 1,
            "type": "error",
            "sessionId": None,
            "code": "UNKNOWN_ACTION",
            "message": "Unknown or missing action",
        },
    )
    return _json(200)


ROUTES: dict[str, Callable[[Event], Result]] = {
    "$connect": on_connect,
    "$disconnect": on_disconnect,
    "ping": on_ping,
}


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: Event, context: Any) -> Result:
    ctx = event.get("requestContext") or {}
    route = ctx.get("routeKey", "$default")
    logger.append_keys(connection_id=ctx.get("connectionId"), route=route)
    return ROUTES.get(route, on_unknown)(event)
