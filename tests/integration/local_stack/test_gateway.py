"""The emulated API Gateway: REST proxy events, the authorizer, errors, CORS, WebSocket and @connections."""

from __future__ import annotations

import base64
import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
import websockets.sync.client as ws_client
from botocore.config import Config
from websockets.exceptions import ConnectionClosed, InvalidStatus

from access_common.jwt import mint_user_jwt
from voice_local.gateway import Gateway
from voice_local.module_spec import ModuleSpec, load_module_spec
from voice_local.testing import BackgroundLoop

from .conftest import USER_EMAIL, USER_ID


@dataclass
class Reply:
    status: int
    headers: Any
    raw: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.raw)


def http(
    method: str,
    url: str,
    *,
    token: str | None = None,
    headers: dict[str, str] | None = None,
    data: bytes | None = None,
) -> Reply:
    request = urllib.request.Request(url, method=method, data=data, headers=dict(headers or {}))
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return Reply(response.status, response.headers, response.read())
    except urllib.error.HTTPError as err:
        return Reply(err.code, err.headers, err.read())


def echoed(reply: Reply) -> dict[str, Any]:
    assert reply.status == 200, reply.raw
    return reply.json["event"]


# ---------------------------------------------------------------------------------------------- REST


def test_rest_proxy_event_shape(stack, user_token):
    reply = http(
        "GET",
        f"{stack.rest_url}/sessions/abc-123?limit=5&tag=a&tag=b",
        token=user_token,
        headers={"X-Custom-Header": "yes"},
    )
    body = reply.json
    assert body["lambda"] == "voice-sessions"
    event = body["event"]
    assert event["resource"] == "/api/voice/sessions/{id}"
    assert event["path"] == "/api/voice/sessions/abc-123"
    assert event["httpMethod"] == "GET"
    assert event["pathParameters"] == {"id": "abc-123"}
    assert event["queryStringParameters"] == {"limit": "5", "tag": "b"}  # last value wins, as in AWS
    assert event["multiValueQueryStringParameters"] == {"limit": ["5"], "tag": ["a", "b"]}
    assert event["headers"]["X-Custom-Header"] == "yes"
    assert event["multiValueHeaders"]["X-Custom-Header"] == ["yes"]
    assert event["body"] is None
    assert event["isBase64Encoded"] is False
    ctx = event["requestContext"]
    assert ctx["resourcePath"] == "/api/voice/sessions/{id}"
    assert ctx["httpMethod"] == "GET"
    assert ctx["path"] == "/api/voice/sessions/abc-123"
    assert ctx["stage"] == "local"
    assert ctx["requestId"] == reply.headers["x-amzn-RequestId"]
    assert ctx["identity"]["sourceIp"] == "127.0.0.1"
    assert ctx["authorizer"]["principalId"] == USER_ID
    assert ctx["authorizer"]["userId"] == USER_ID
    assert ctx["authorizer"]["email"] == USER_EMAIL
    assert ctx["authorizer"]["role"] == "authenticated"


def test_principal_from_authorizer_context(stack, user_token):
    """The handlers' own reader of the identity accepts what the gateway's authorizer produced."""
    from access_common.identity import principal_from_event

    event = echoed(http("GET", f"{stack.rest_url}/configs", token=user_token))
    principal = principal_from_event(event)
    assert str(principal.user_id) == USER_ID
    assert principal.email == USER_EMAIL


def test_nested_path_parameters_and_body(stack, user_token):
    payload = json.dumps({"sortOrder": 2}).encode()
    event = echoed(
        http(
            "PUT",
            f"{stack.rest_url}/sessions/s-1/kbs/kb-9",
            token=user_token,
            data=payload,
            headers={"Content-Type": "application/json"},
        )
    )
    assert event["resource"] == "/api/voice/sessions/{id}/kbs/{kbId}"
    assert event["pathParameters"] == {"id": "s-1", "kbId": "kb-9"}
    assert event["body"] == payload.decode()
    assert event["queryStringParameters"] is None
    assert event["multiValueQueryStringParameters"] is None


def test_binary_body_is_base64(stack, user_token):
    data = bytes(range(256))
    event = echoed(
        http(
            "POST",
            f"{stack.rest_url}/configs",
            token=user_token,
            data=data,
            headers={"Content-Type": "application/octet-stream"},
        )
    )
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == data


def test_each_route_reaches_its_lambda(stack, user_token):
    spec = load_module_spec()
    for route in spec.rest_routes:
        path = route.path.replace("{", "x").replace("}", "")
        reply = http(
            route.method,
            stack.base_url + path,
            token=user_token,
            data=b"{}" if route.method in ("POST", "PUT") else None,
        )
        assert reply.status == 200, (route, reply.raw)
        assert reply.json["lambda"] == route.lambda_name
        assert reply.json["event"]["resource"] == route.path


def test_lambda_response_headers_and_cors(stack, user_token):
    reply = http("GET", f"{stack.rest_url}/sessions", token=user_token)
    assert reply.headers["X-Echo"] == "1"
    assert reply.headers.get_all("Set-Cookie") == ["a=1", "b=2"]
    assert reply.headers["Access-Control-Allow-Origin"] == "*"


def test_health_and_bot_routes_skip_the_user_authorizer(stack, recorder):
    event = echoed(http("GET", f"{stack.rest_url}/health"))
    assert event["requestContext"]["authorizer"] is None
    event = echoed(
        http(
            "POST",
            f"{stack.rest_url}/bot/sessions/s-1/heartbeat",
            headers={"Authorization": "Bearer vbt1.bot-token"},
            data=b"{}",
        )
    )
    assert event["requestContext"]["authorizer"] is None
    assert event["headers"]["Authorization"] == "Bearer vbt1.bot-token"  # the Lambda checks it


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "Bearer not-a-jwt",
        "Bearer ",
        "Basic dXNlcjpwYXNz",
        "expired",
        "wrong-secret",
        "no-sub",
    ],
)
def test_user_routes_require_a_valid_jwt(stack, recorder, authorization):
    if authorization == "expired":
        authorization = "Bearer " + mint_user_jwt(USER_ID, None, secret=stack.jwt_secret, ttl_seconds=-60)
    elif authorization == "wrong-secret":
        authorization = "Bearer " + mint_user_jwt(
            USER_ID, None, secret="another-secret-0123456789abcdef-0123"
        )
    elif authorization == "no-sub":
        import jwt

        authorization = "Bearer " + jwt.encode({"exp": int(time.time()) + 60}, stack.jwt_secret, "HS256")
    before = recorder.count()
    reply = http(
        "GET",
        f"{stack.rest_url}/sessions",
        headers={"Authorization": authorization} if authorization else None,
    )
    assert reply.status == 401
    assert reply.json == {"success": False, "error": "Unauthorized", "code": "UNAUTHORIZED"}
    assert reply.headers["Access-Control-Allow-Origin"] == "*"  # the browser can read the 401
    assert recorder.count() == before, "the Lambda must not be invoked"


def test_unknown_route_is_404_and_wrong_method_405(stack, user_token):
    reply = http("GET", f"{stack.rest_url}/nope", token=user_token)
    assert reply.status == 404
    assert reply.json["success"] is False and reply.json["code"] == "NOT_FOUND"
    reply = http("PATCH", f"{stack.rest_url}/sessions", token=user_token)
    assert reply.status == 405
    assert reply.json["code"] == "METHOD_NOT_ALLOWED"
    assert set(reply.headers["Allow"].split(",")) >= {"GET", "POST"}


def test_cors_preflight(stack, recorder):
    before = recorder.count()
    reply = http(
        "OPTIONS",
        f"{stack.rest_url}/sessions/abc",
        headers={"Origin": "http://localhost:5173", "Access-Control-Request-Method": "PUT"},
    )
    assert reply.status == 204
    assert reply.headers["Access-Control-Allow-Origin"] == "*"
    assert "Authorization" in reply.headers["Access-Control-Allow-Headers"]
    assert {"GET", "PUT", "DELETE"} <= set(reply.headers["Access-Control-Allow-Methods"].split(","))
    assert recorder.count() == before


def test_lambda_errors_become_502(stack, user_token):
    reply = http("GET", f"{stack.rest_url}/sessions", token=user_token, headers={"X-Fail": "1"})
    assert reply.status == 502 and reply.json["success"] is False
    reply = http("GET", f"{stack.rest_url}/sessions", token=user_token, headers={"X-Malformed": "1"})
    assert reply.status == 502 and reply.json["code"] == "BAD_GATEWAY"


def test_auth_rules_match_the_shared_route_table():
    """voice_local.routes (tests' event builder) and the gateway agree on which routes need a user."""
    from voice_local.routes import rest_routes

    gateway = {(r.method, r.path): r.authorized for r in load_module_spec().rest_routes}
    shared = {(r.method, r.template): r.auth == "user" for r in rest_routes()}
    assert gateway == shared


# ------------------------------------------------------------------------------------------ WebSocket


@pytest.fixture
def fresh_user(stack) -> tuple[str, str]:
    """A user id of its own per test, so DynamoDB records of other tests' connections never match."""
    import uuid

    user_id = str(uuid.uuid4())
    return user_id, mint_user_jwt(user_id, None, secret=stack.jwt_secret)


def ws_connect(stack, token: str | None):
    url = stack.websocket_url + (f"?token={token}" if token else "")
    return ws_client.connect(url, open_timeout=10)


def wait_for(predicate, timeout: float = 5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    return predicate()


def connection_items(user_id: str) -> list[dict[str, Any]]:
    import os

    ddb = boto3.client("dynamodb")
    items = ddb.scan(TableName=os.environ["CONNECTIONS_TABLE"])["Items"]
    return [i for i in items if i["user_id"]["S"] == user_id]


@pytest.mark.parametrize("token", [None, "garbage", "expired"])
def test_ws_connect_refused_without_valid_token(stack, token):
    if token == "expired":
        token = mint_user_jwt(USER_ID, None, secret=stack.jwt_secret, ttl_seconds=-60)
    with pytest.raises(InvalidStatus) as info:
        ws_connect(stack, token)
    assert info.value.response.status_code == 401


def test_ws_connect_ping_disconnect_round_trip(stack, fresh_user, recorder):
    user_id, token = fresh_user
    with ws_connect(stack, token) as ws:
        item = wait_for(lambda: connection_items(user_id))
        assert item, "the $connect handler stores the connection"
        connection_id = item[0]["connection_id"]["S"]
        assert connection_id in stack.gateway.connections
        assert int(item[0]["expires_at"]["N"]) > time.time()
        ws.send(json.dumps({"action": "ping"}))
        assert json.loads(ws.recv(timeout=10)) == {"v": 1, "type": "pong", "sessionId": None}
    assert wait_for(lambda: not connection_items(user_id)), "the $disconnect handler deletes it"
    events = [
        e
        for n, e in recorder.calls
        if n == "voice-websocket" and e["requestContext"]["connectionId"] == connection_id
    ]
    assert [e["requestContext"]["eventType"] for e in events] == ["CONNECT", "MESSAGE", "DISCONNECT"]
    connect, message, disconnect = events
    assert connect["queryStringParameters"] == {"token": token}
    assert connect["requestContext"]["routeKey"] == "$connect"
    assert message["requestContext"]["routeKey"] == "ping"
    assert message["body"] == '{"action": "ping"}'
    assert disconnect["requestContext"]["routeKey"] == "$disconnect"
    assert all(e["requestContext"]["stage"] == "local" for e in events)


def test_ws_messages_keep_their_order(stack, user_token):
    with ws_connect(stack, user_token) as ws:
        for _ in range(10):
            ws.send(json.dumps({"action": "ping"}))
        replies = [json.loads(ws.recv(timeout=10))["type"] for _ in range(10)]
    assert replies == ["pong"] * 10


def test_ws_route_response_is_sent_back(stack, user_token):
    with ws_connect(stack, user_token) as ws:
        ws.send(json.dumps({"action": "ping", "echo": "hello"}))
        assert json.loads(ws.recv(timeout=10)) == {"echo": "hello"}


def test_ws_unknown_action_reaches_the_default_route(stack, user_token):
    """module.json declares a $default route: frames without a known action reach the Lambda, which answers
    with an error message (without $default, API Gateway itself answers 'Forbidden': test_route_selection)."""
    with ws_connect(stack, user_token) as ws:
        ws.send("not json")
        reply = json.loads(ws.recv(timeout=10))
        assert (reply["type"], reply["code"]) == ("error", "INVALID_JSON")


def test_ws_without_default_route_the_gateway_answers_forbidden():
    """A WebSocket API with no $default route: API Gateway itself answers unknown actions."""
    events: list[dict[str, Any]] = []

    def invoker(name: str, event: dict[str, Any]) -> dict[str, Any]:
        events.append(event)
        return {"statusCode": 200}

    gateway = Gateway(ModuleSpec((), "ws", frozenset({"$connect", "$disconnect", "ping"})), invoker=invoker)
    loop = BackgroundLoop()
    loop.run(gateway.start(0))
    try:
        with ws_client.connect(gateway.websocket_url, open_timeout=10) as ws:
            ws.send("not json")
            reply = json.loads(ws.recv(timeout=10))
            assert reply["message"] == "Forbidden" and reply["connectionId"]
            ws.send(json.dumps({"action": "ping"}))
    finally:
        loop.run(gateway.stop())
        loop.close()
    assert [e["requestContext"]["routeKey"] for e in events] == ["$connect", "ping", "$disconnect"]


def test_stopping_the_gateway_closes_sockets_and_runs_disconnect():
    events: list[dict[str, Any]] = []

    def invoker(name: str, event: dict[str, Any]) -> dict[str, Any]:
        events.append(event)
        return {"statusCode": 200}

    gateway = Gateway(ModuleSpec((), "ws", frozenset({"$connect", "$disconnect"})), invoker=invoker)
    loop = BackgroundLoop()
    loop.run(gateway.start(0))
    try:
        with ws_client.connect(gateway.websocket_url, open_timeout=10) as ws:
            loop.run(gateway.stop())
            with pytest.raises(ConnectionClosed) as closed:
                ws.recv(timeout=10)
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 1001
    finally:
        loop.close()
    assert [e["requestContext"]["routeKey"] for e in events] == ["$connect", "$disconnect"]
    assert events[-1]["requestContext"]["disconnectStatusCode"] == 1001


def test_route_selection():
    spec = ModuleSpec((), "ws", frozenset({"$connect", "$disconnect", "$default", "subscribe"}))
    gateway = Gateway(spec, invoker=lambda n, e: None, verify_token=lambda t: {})
    assert gateway.select_route('{"action": "subscribe"}') == "subscribe"
    assert gateway.select_route('{"action": "unknown"}') == "$default"
    assert gateway.select_route('{"action": "$connect"}') == "$default"
    assert gateway.select_route('{"no": "action"}') == "$default"
    assert gateway.select_route("[1, 2]") == "$default"
    assert gateway.select_route("plain text") == "$default"
    without_default = Gateway(ModuleSpec((), "ws", frozenset({"subscribe"})), invoker=lambda n, e: None)
    assert without_default.select_route("plain text") is None


# ---------------------------------------------------------------------------------------- @connections


@pytest.fixture
def management(stack):
    return boto3.client(
        "apigatewaymanagementapi",
        endpoint_url=stack.base_url,
        config=Config(retries={"max_attempts": 1}),
    )


def test_management_api_with_boto3(stack, fresh_user, management):
    user_id, token = fresh_user
    with ws_connect(stack, token) as ws:
        connection_id = wait_for(lambda: connection_items(user_id))[0]["connection_id"]["S"]

        management.post_to_connection(ConnectionId=connection_id, Data=b'{"type":"hello"}')
        assert json.loads(ws.recv(timeout=10)) == {"type": "hello"}

        info = management.get_connection(ConnectionId=connection_id)
        assert info["Identity"]["SourceIp"] == "127.0.0.1"
        assert info["ConnectedAt"].year >= 2024
        assert info["LastActiveAt"] >= info["ConnectedAt"]

        management.delete_connection(ConnectionId=connection_id)
        with pytest.raises(ConnectionClosed):
            ws.recv(timeout=10)

    assert wait_for(lambda: connection_id not in stack.gateway.connections)
    with pytest.raises(management.exceptions.GoneException):
        management.post_to_connection(ConnectionId=connection_id, Data=b"late")
    with pytest.raises(management.exceptions.GoneException):
        management.get_connection(ConnectionId="NoSuchConn123=")
    with pytest.raises(management.exceptions.GoneException):
        management.delete_connection(ConnectionId="NoSuchConn123=")


def test_management_api_payload_limit(stack, fresh_user, management):
    user_id, token = fresh_user
    with ws_connect(stack, token) as ws:
        connection_id = wait_for(lambda: connection_items(user_id))[0]["connection_id"]["S"]
        with pytest.raises(management.exceptions.PayloadTooLargeException):
            management.post_to_connection(ConnectionId=connection_id, Data=b"x" * (128 * 1024 + 1))
        ws.close()


def test_management_api_with_stage_prefix(stack, fresh_user):
    """Handlers that build https://{domainName}/{stage} style endpoints reach it too (over http)."""
    user_id, token = fresh_user
    client = boto3.client("apigatewaymanagementapi", endpoint_url=f"{stack.base_url}/local")
    with ws_connect(stack, token) as ws:
        connection_id = wait_for(lambda: connection_items(user_id))[0]["connection_id"]["S"]
        client.post_to_connection(ConnectionId=connection_id, Data=b"staged")
        assert ws.recv(timeout=10) == "staged"


def test_gateway_refuses_plain_http_on_ws_path(stack):
    reply = http("GET", stack.websocket_url.replace("ws://", "http://"))
    assert reply.status == 426
