"""API Gateway emulation on 127.0.0.1: REST proxy events, WebSocket routes and the @connections API.

One aiohttp application serves
- ``/api/voice/...``: REST routes from ``module.json`` become version 1.0 proxy events for their Lambda;
  user routes are authorized like a Lambda authorizer would (HS256 JWT -> ``requestContext.authorizer``);
- ``/ws``: WebSocket connections become ``$connect`` / route / ``$disconnect`` events, routed on ``action``;
- ``/@connections/{id}`` (and ``/{stage}/@connections/{id}``): the management API that boto3's
  ``apigatewaymanagementapi`` client calls, so handlers push to sockets unchanged.

Lambdas are synchronous: they run in a bounded thread pool and the event loop stays responsive, which is
also what lets a handler call back into the management API while it is being invoked.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import logging
import os
import secrets
import string
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiohttp import WSMsgType, web
from multidict import CIMultiDict

from voice_local.lambdas import ACCOUNT_ID, invoke_lambda
from voice_local.module_spec import API_PREFIX, ModuleSpec, RestRoute, load_module_spec

log = logging.getLogger("voice_local.gateway")

HOST = "127.0.0.1"  # never anything else: the stack holds dev credentials and unauthenticated APIs
API_ID = "local"
WS_PATH = "/ws"
MAX_WS_MESSAGE = 128 * 1024  # API Gateway's WebSocket message (and PostToConnection) limit
REST_TIMEOUT_SECONDS = 29.0  # API Gateway's REST integration timeout (the Lambda itself runs on)
CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET,POST,PUT,PATCH,DELETE,OPTIONS",
    "Access-Control-Allow-Headers": (
        "Authorization,Content-Type,Idempotency-Key,X-Amz-Date,X-Api-Key,X-Amz-Security-Token,X-Request-Id"
    ),
    "Access-Control-Expose-Headers": "x-amzn-RequestId,Retry-After",
    "Access-Control-Max-Age": "600",
}
# The frontend dev harness (frontend/, `vite build`): served at / when built, with the seeded users'
# tokens at /dev/harness.json (frontend/README.md). Only ever on 127.0.0.1, like everything here.
FRONTEND_DIST = Path(__file__).resolve().parents[3] / "frontend" / "dist"
HARNESS_CONFIG_PATH = "/dev/harness.json"
_HOP_BY_HOP = frozenset({"content-length", "transfer-encoding", "connection", "keep-alive"})
_ID_ALPHABET = string.ascii_letters + string.digits

Invoker = Callable[[str, dict[str, Any]], Any]
TokenVerifier = Callable[[str], Mapping[str, Any]]


_container_locks: dict[str, threading.Lock] = {}
_container_locks_guard = threading.Lock()


def _default_invoker(name: str, event: dict[str, Any]) -> Any:
    # One event at a time per Lambda, as an AWS container handles them: each Lambda module is loaded once
    # here, and its Powertools resolver keeps the current event (so the caller's identity) on the app
    # object, so two concurrent requests would read each other's. Different Lambdas still run in parallel.
    with _container_locks_guard:
        lock = _container_locks.setdefault(name, threading.Lock())
    with lock:
        return invoke_lambda(name, event)


def _connection_id() -> str:
    # API Gateway ids look like "L0SM9cOFvHcCIhw=": the "=" also proves clients URL-encode them.
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(15)) + "="


def _now_ms() -> int:
    return int(time.time() * 1000)


def _request_time(epoch_ms: int) -> str:
    return datetime.fromtimestamp(epoch_ms / 1000, UTC).strftime("%d/%b/%Y:%H:%M:%S +0000")


def _iso(epoch_ms: int) -> str:
    return datetime.fromtimestamp(epoch_ms / 1000, UTC).isoformat().replace("+00:00", "Z")


def error_response(
    status: int, message: str, code: str, *, headers: Mapping[str, str] | None = None
) -> web.Response:
    """A gateway-generated error in the module's envelope (the Lambda was not invoked)."""
    return web.json_response(
        {"success": False, "error": message, "code": code}, status=status, headers=headers
    )


def _headers(request: web.Request) -> tuple[dict[str, str], dict[str, list[str]]]:
    """``headers`` (last value wins) and ``multiValueHeaders``, names in the case the client sent."""
    single: dict[str, str] = {}
    multi: dict[str, list[str]] = {}
    for raw_name, raw_value in request.raw_headers:
        name, value = raw_name.decode("latin-1"), raw_value.decode("latin-1")
        single[name] = value
        multi.setdefault(name, []).append(value)
    return single, multi


def _query(request: web.Request) -> tuple[dict[str, str] | None, dict[str, list[str]] | None]:
    if not request.query:
        return None, None
    single: dict[str, str] = {}
    multi: dict[str, list[str]] = {}
    for key, value in request.query.items():
        single[key] = value
        multi.setdefault(key, []).append(value)
    return single, multi


def _bearer_token(request: web.Request) -> str | None:
    scheme, _, token = request.headers.get("Authorization", "").strip().partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


def _to_http(result: Any, request_id: str) -> web.Response:
    """Turn a Lambda proxy result into the HTTP response, as API Gateway does (502 when malformed)."""
    if not isinstance(result, dict) or "statusCode" not in result:
        log.error("malformed Lambda proxy response (request %s): %r", request_id, type(result).__name__)
        return error_response(502, "Malformed Lambda proxy response", "BAD_GATEWAY")
    try:
        status = int(result["statusCode"])
        body = result.get("body") or ""
        data = base64.b64decode(body) if result.get("isBase64Encoded") else str(body).encode()
    except (TypeError, ValueError, binascii.Error):
        log.exception("malformed Lambda proxy response (request %s)", request_id)
        return error_response(502, "Malformed Lambda proxy response", "BAD_GATEWAY")
    headers: CIMultiDict[str] = CIMultiDict()
    for name, value in (result.get("headers") or {}).items():
        headers[name] = str(value)
    # multiValueHeaders win for a name present in both, as in API Gateway's merge.
    for name, values in (result.get("multiValueHeaders") or {}).items():
        headers.popall(name, None)
        for value in values:
            headers.add(name, str(value))
    for name in list(headers):
        if name.lower() in _HOP_BY_HOP:
            headers.popall(name, None)
    headers.setdefault("Content-Type", "application/json")
    headers["x-amzn-RequestId"] = request_id
    if status in (204, 304):
        return web.Response(status=status, headers=headers)
    return web.Response(status=status, body=data, headers=headers)


@dataclass
class Connection:
    """One open WebSocket, addressable through the management API."""

    connection_id: str
    ws: web.WebSocketResponse
    connected_at: int
    source_ip: str
    user_agent: str
    last_active_at: int = 0
    server_close_code: int | None = None  # set when the gateway closes it (shutdown, DELETE @connections)
    inbox: asyncio.Queue[tuple[str, bool] | None] = field(default_factory=asyncio.Queue)


class Gateway:
    """The emulated API Gateway (REST + WebSocket + @connections) as one aiohttp application.

    ``invoker(name, event)`` runs a Lambda (default: ``voice_local.lambdas.invoke_lambda``) and
    ``verify_token(jwt)`` returns the claims of a valid user JWT or raises (default:
    ``access_common.jwt.verify_user_jwt`` with ``jwt_secret``, else ``SUPABASE_JWT_SECRET``).
    """

    def __init__(
        self,
        spec: ModuleSpec | None = None,
        *,
        invoker: Invoker | None = None,
        verify_token: TokenVerifier | None = None,
        jwt_secret: str | None = None,
        stage: str = "local",
        max_workers: int = 16,
        extra_apps: Mapping[str, web.Application] | None = None,
        frontend_dir: Path | None = FRONTEND_DIST,
        dev_files_dir: Path | None = None,
    ) -> None:
        self.spec = spec or load_module_spec()
        self.stage = stage
        self.rest_timeout = REST_TIMEOUT_SECONDS
        self.connections: dict[str, Connection] = {}
        self.port: int | None = None
        self._invoker = invoker or _default_invoker
        self._verify_token = verify_token or self._verify_with_access_common
        self._jwt_secret = jwt_secret
        self._max_workers = max_workers
        self._executor: ThreadPoolExecutor | None = None
        self._runner: web.AppRunner | None = None
        self._extra_apps = dict(extra_apps or {})
        self.frontend_dir = frontend_dir  # None: no static frontend
        self.dev_files_dir = dev_files_dir  # where dev-tokens.json is (the stack's data dir)
        self._background: set[asyncio.Task[Any]] = set()
        self.app = self._build_app()

    # ------------------------------------------------------------------ lifecycle

    @property
    def base_url(self) -> str:
        if self.port is None:
            raise RuntimeError("gateway not started")
        return f"http://{HOST}:{self.port}"

    @property
    def rest_url(self) -> str:
        return self.base_url + API_PREFIX

    @property
    def websocket_url(self) -> str:
        return self.base_url.replace("http://", "ws://", 1) + WS_PATH

    async def start(self, port: int = 8080) -> int:
        """Listen on 127.0.0.1:``port`` (0 = a free port); returns the port. OSError when it is taken."""
        self._executor = ThreadPoolExecutor(self._max_workers, thread_name_prefix="lambda")
        self._runner = web.AppRunner(self.app, access_log=None, handle_signals=False, shutdown_timeout=5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, HOST, port)
        try:
            await site.start()
        except OSError:
            await self.stop()
            raise
        self.port = int(self._runner.addresses[0][1])
        return self.port

    async def stop(self) -> None:
        """Close every WebSocket (their ``$disconnect`` runs), stop listening, drop the thread pool."""
        if self._runner is not None:
            await self._runner.cleanup()  # on_shutdown closes the sockets first
            self._runner = None
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None

    async def __aenter__(self) -> Gateway:
        await self.start(0 if self.port is None else self.port)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def _build_app(self) -> web.Application:
        app = web.Application(middlewares=[self._middleware], client_max_size=10 * 1024 * 1024)
        # API Gateway prefers literal path segments over {parameters}; aiohttp takes the first match.
        routes = sorted(
            self.spec.rest_routes,
            key=lambda r: [(seg.startswith("{"), seg) for seg in r.path.strip("/").split("/")],
        )
        for route in routes:
            app.router.add_route(route.method, route.path.replace("+}", ":.+}"), self._rest_handler(route))
        app.router.add_get(WS_PATH, self._websocket)
        app.router.add_route("*", "/@connections/{connection_id}", self._manage)
        app.router.add_route("*", "/{stage}/@connections/{connection_id}", self._manage)
        for prefix, sub in self._extra_apps.items():
            app.add_subapp(prefix, sub)
        app.on_shutdown.append(self._close_connections)
        return app

    async def _close_connections(self, _app: web.Application) -> None:
        connections = list(self.connections.values())
        for connection in connections:
            connection.server_close_code = 1001
        await asyncio.gather(
            *(c.ws.close(code=1001, message=b"Going away") for c in connections), return_exceptions=True
        )

    # ------------------------------------------------------------------ plumbing

    def _verify_with_access_common(self, token: str) -> Mapping[str, Any]:
        from access_common.jwt import verify_user_jwt  # the lead's layer; imported when first needed

        return verify_user_jwt(token, secret=self._jwt_secret)

    async def _invoke(self, name: str, event: dict[str, Any], what: str) -> Any:
        if self._executor is None:
            raise RuntimeError("gateway not started")
        started = time.perf_counter()
        loop = asyncio.get_running_loop()
        try:
            result = await loop.run_in_executor(self._executor, self._invoker, name, event)
        except Exception:
            log.exception("%s -> %s raised", what, name)
            raise
        status = result.get("statusCode", "-") if isinstance(result, dict) else "-"
        log.info("%s -> %s %s (%.0f ms)", what, name, status, (time.perf_counter() - started) * 1000)
        return result

    @web.middleware
    async def _middleware(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        is_api = request.path == API_PREFIX or request.path.startswith(API_PREFIX + "/")
        problem = request.match_info.http_exception
        response: web.StreamResponse
        if isinstance(problem, web.HTTPMethodNotAllowed):
            allowed = ",".join(sorted(problem.allowed_methods | {"OPTIONS"}))
            if is_api and request.method == "OPTIONS":  # CORS preflight, answered by the gateway
                response = web.Response(status=204, headers={"Access-Control-Allow-Methods": allowed})
            else:
                response = error_response(
                    405,
                    f"Method {request.method} not allowed on {request.path}",
                    "METHOD_NOT_ALLOWED",
                    headers={"Allow": allowed},
                )
        elif isinstance(problem, web.HTTPNotFound):
            frontend = None if is_api else self._frontend(request)
            missing = f"No route for {request.method} {request.path}"
            response = frontend or error_response(404, missing, "NOT_FOUND")
        else:
            response = await handler(request)
        if is_api and not response.prepared:
            for name, value in CORS_HEADERS.items():
                response.headers.setdefault(name, value)
        return response

    # ------------------------------------------------------------------ frontend dev harness

    def _frontend(self, request: web.Request) -> web.StreamResponse | None:
        """GET/HEAD outside the APIs: the built frontend (SPA fallback to index.html) and its dev config."""
        dist = self.frontend_dir
        if request.method not in ("GET", "HEAD") or dist is None or not (dist / "index.html").is_file():
            return None
        if request.path.startswith((WS_PATH, "/@connections")):
            return None
        if request.path == HARNESS_CONFIG_PATH:
            return self._harness_config(request)
        root = dist.resolve()
        target = (root / request.path.lstrip("/")).resolve()
        if target.is_file() and root in target.parents:
            cache = "public, max-age=31536000, immutable" if "/assets/" in request.path else "no-cache"
            return web.FileResponse(target, headers={"Cache-Control": cache})
        if "." in request.path.rsplit("/", 1)[-1]:  # a missing file, not an app route
            return None
        return web.FileResponse(root / "index.html", headers={"Cache-Control": "no-cache"})

    def _harness_config(self, request: web.Request) -> web.Response:
        """The harness's URLs (this origin) and the seeded users' JWTs; only for a 127.0.0.1/localhost Host
        (no DNS rebinding)."""
        if request.host.split(":")[0] not in (HOST, "localhost"):
            return error_response(403, "Forbidden", "FORBIDDEN")
        tokens_file = (self.dev_files_dir or Path(".local")) / "dev-tokens.json"
        try:
            tokens = json.loads(tokens_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return error_response(503, f"No seeded users yet ({tokens_file} is missing)", "NOT_READY")
        body = {
            "restUrl": f"http://{request.host}{API_PREFIX}",
            "websocketUrl": f"ws://{request.host}{WS_PATH}",
            "dailyStandIn": not os.environ.get("DAILY_API_KEY"),
            "orgs": tokens.get("orgs", {}),
            "users": tokens.get("users", {}),
        }
        return web.json_response(body, headers={"Cache-Control": "no-store"})

    # ------------------------------------------------------------------ REST

    def _rest_handler(self, route: RestRoute) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        async def handle(request: web.Request) -> web.StreamResponse:
            return await self._rest(request, route)

        return handle

    def _authorizer(self, request: web.Request) -> dict[str, Any] | None:
        """The context a Lambda authorizer would return for the bearer JWT, or None (-> 401)."""
        token = _bearer_token(request)
        if token is None:
            return None
        try:
            claims = self._verify_token(token)
        except Exception as exc:  # UnauthorizedError, or anything a broken token makes the verifier raise
            log.info("rejected token on %s %s: %s", request.method, request.path, type(exc).__name__)
            return None
        sub = claims.get("sub")
        if not sub:
            return None
        context: dict[str, Any] = {"principalId": str(sub), "userId": str(sub)}
        # Authorizer context values are strings; API Gateway drops nulls, so does this.
        if claims.get("email"):
            context["email"] = str(claims["email"])
        context["role"] = str(claims.get("role") or "authenticated")
        context["integrationLatency"] = 0
        return context

    async def _rest(self, request: web.Request, route: RestRoute) -> web.StreamResponse:
        request_id = str(uuid.uuid4())
        authorizer: dict[str, Any] | None = None
        if route.authorized:
            authorizer = self._authorizer(request)
            if authorizer is None:
                return error_response(
                    401, "Unauthorized", "UNAUTHORIZED", headers={"x-amzn-RequestId": request_id}
                )
        raw = await request.read()
        body: str | None
        is_base64 = False
        try:
            body = raw.decode("utf-8") if raw else None
        except UnicodeDecodeError:  # binary payloads reach the Lambda base64-encoded
            body, is_base64 = base64.b64encode(raw).decode(), True
        headers, multi_headers = _headers(request)
        query, multi_query = _query(request)
        epoch = _now_ms()
        event: dict[str, Any] = {
            "resource": route.path,
            "path": request.path,
            "httpMethod": request.method,
            "headers": headers,
            "multiValueHeaders": multi_headers,
            "queryStringParameters": query,
            "multiValueQueryStringParameters": multi_query,
            "pathParameters": dict(request.match_info) or None,
            "stageVariables": None,
            "requestContext": {
                "resourceId": "local",
                "resourcePath": route.path,
                "httpMethod": request.method,
                "path": request.path,
                "stage": self.stage,
                "requestId": request_id,
                "extendedRequestId": request_id,
                "requestTime": _request_time(epoch),
                "requestTimeEpoch": epoch,
                "accountId": ACCOUNT_ID,
                "apiId": API_ID,
                "protocol": f"HTTP/{request.version.major}.{request.version.minor}",
                "domainName": request.host,
                "identity": {
                    "sourceIp": request.remote or HOST,
                    "userAgent": request.headers.get("User-Agent"),
                },
                "authorizer": authorizer,
            },
            "body": body,
            "isBase64Encoded": is_base64,
        }
        try:
            result = await asyncio.wait_for(
                self._invoke(route.lambda_name, event, f"{request.method} {request.path}"),
                self.rest_timeout,
            )
        except TimeoutError:
            log.warning("%s %s timed out after %.0f s", request.method, request.path, self.rest_timeout)
            return error_response(
                504, "Endpoint request timed out", "GATEWAY_TIMEOUT", headers={"x-amzn-RequestId": request_id}
            )
        except Exception:
            return error_response(
                502, "Internal server error", "BAD_GATEWAY", headers={"x-amzn-RequestId": request_id}
            )
        return _to_http(result, request_id)

    # ------------------------------------------------------------------ WebSocket

    def _ws_context(
        self, request: web.Request, connection_id: str, route_key: str, event_type: str, connected_at: int
    ) -> dict[str, Any]:
        epoch = _now_ms()
        request_id = str(uuid.uuid4())
        return {
            "routeKey": route_key,
            "eventType": event_type,
            "extendedRequestId": request_id,
            "requestTime": _request_time(epoch),
            "messageDirection": "IN",
            "stage": self.stage,
            "connectedAt": connected_at,
            "requestTimeEpoch": epoch,
            "identity": {"sourceIp": request.remote or HOST, "userAgent": request.headers.get("User-Agent")},
            "requestId": request_id,
            "domainName": request.host,
            "connectionId": connection_id,
            "apiId": API_ID,
        }

    def select_route(self, body: str | None) -> str | None:
        """API Gateway's ``$request.body.action`` selection; None when nothing (not even $default) matches."""
        routes = self.spec.websocket_routes
        action: Any = None
        if body is not None:
            try:
                parsed = json.loads(body)
            except ValueError:
                parsed = None
            if isinstance(parsed, dict):
                action = parsed.get("action")
        if isinstance(action, str) and action in routes and action not in ("$connect", "$disconnect"):
            return action
        return "$default" if "$default" in routes else None

    async def _websocket(self, request: web.Request) -> web.StreamResponse:
        if not web.WebSocketResponse().can_prepare(request).ok:
            return error_response(426, "WebSocket upgrade required", "UPGRADE_REQUIRED")
        name = self.spec.websocket_lambda
        if name is None:
            return error_response(404, "module.json declares no WebSocket Lambda", "NOT_FOUND")
        connection_id = _connection_id()
        connected_at = _now_ms()
        headers, multi_headers = _headers(request)
        query, multi_query = _query(request)
        event = {
            "headers": headers,
            "multiValueHeaders": multi_headers,
            "queryStringParameters": query,
            "multiValueQueryStringParameters": multi_query,
            "requestContext": self._ws_context(request, connection_id, "$connect", "CONNECT", connected_at),
            "isBase64Encoded": False,
        }
        try:
            result = await self._invoke(name, event, f"WS $connect {connection_id}")
        except Exception:
            return error_response(500, "Internal server error", "INTERNAL_ERROR")
        result = result if isinstance(result, dict) else {}
        status = int(result.get("statusCode") or 200)
        result_headers = {str(k).lower(): str(v) for k, v in (result.get("headers") or {}).items()}
        if not 200 <= status < 300:
            # Refused before the upgrade: the client sees this HTTP status (e.g. 401, 403).
            return web.Response(
                status=status,
                text=result.get("body") or json.dumps({"message": "Forbidden"}),
                content_type="application/json",
            )
        protocol = result_headers.get("sec-websocket-protocol")
        ws = web.WebSocketResponse(protocols=(protocol,) if protocol else (), max_msg_size=MAX_WS_MESSAGE)
        await ws.prepare(request)
        connection = Connection(
            connection_id=connection_id,
            ws=ws,
            connected_at=connected_at,
            last_active_at=connected_at,
            source_ip=request.remote or HOST,
            user_agent=request.headers.get("User-Agent", ""),
        )
        self.connections[connection_id] = connection
        # Frames are read continuously (pings and close are seen at once) and handed to one worker,
        # so the messages of one connection reach the Lambda in order.
        worker = asyncio.create_task(self._message_worker(request, name, connection))
        try:
            async for msg in ws:
                connection.last_active_at = _now_ms()
                if msg.type == WSMsgType.TEXT:
                    connection.inbox.put_nowait((msg.data, False))
                elif msg.type == WSMsgType.BINARY:
                    connection.inbox.put_nowait((base64.b64encode(msg.data).decode(), True))
        finally:
            self.connections.pop(connection_id, None)
            connection.inbox.put_nowait(None)
            await asyncio.shield(self._finish_connection(request, name, connection, worker))
        return ws

    async def _message_worker(self, request: web.Request, name: str, connection: Connection) -> None:
        while (item := await connection.inbox.get()) is not None:
            body, is_base64 = item
            try:
                await self._on_message(request, name, connection, body, is_base64)
            except Exception:  # a broken frame must not kill the connection's worker
                log.exception("WebSocket message handling failed on %s", connection.connection_id)

    async def _send(self, connection: Connection, data: str) -> None:
        if not connection.ws.closed:
            await connection.ws.send_str(data)

    async def _on_message(
        self, request: web.Request, name: str, connection: Connection, body: str, is_base64: bool
    ) -> None:
        route = self.select_route(None if is_base64 else body)
        context = self._ws_context(
            request, connection.connection_id, route or "", "MESSAGE", connection.connected_at
        )
        if route is None:
            # No matching route and no $default route: API Gateway answers the client itself.
            await self._send(
                connection,
                json.dumps(
                    {
                        "message": "Forbidden",
                        "connectionId": connection.connection_id,
                        "requestId": context["requestId"],
                    }
                ),
            )
            return
        context["messageId"] = _connection_id()
        event = {"requestContext": context, "body": body, "isBase64Encoded": is_base64}
        try:
            result = await self._invoke(name, event, f"WS {route} {connection.connection_id}")
        except Exception:
            await self._send(
                connection,
                json.dumps(
                    {
                        "message": "Internal server error",
                        "connectionId": connection.connection_id,
                        "requestId": context["requestId"],
                    }
                ),
            )
            return
        reply = result.get("body") if isinstance(result, dict) else None
        if reply:  # the route response goes back to the caller
            await self._send(connection, reply if isinstance(reply, str) else json.dumps(reply))

    async def _finish_connection(
        self, request: web.Request, name: str, connection: Connection, worker: asyncio.Task[None]
    ) -> None:
        await worker  # frames received before the close are still delivered, as in API Gateway
        context = self._ws_context(
            request, connection.connection_id, "$disconnect", "DISCONNECT", connection.connected_at
        )
        context["disconnectStatusCode"] = connection.server_close_code or connection.ws.close_code
        context["disconnectReason"] = ""
        event = {
            "headers": {"Host": request.host},
            "multiValueHeaders": {"Host": [request.host]},
            "requestContext": context,
            "isBase64Encoded": False,
        }
        try:
            await self._invoke(name, event, f"WS $disconnect {connection.connection_id}")
        except Exception:
            log.warning("$disconnect of %s failed", connection.connection_id)

    # ------------------------------------------------------------------ @connections

    async def _manage(self, request: web.Request) -> web.StreamResponse:
        connection_id = request.match_info["connection_id"]
        connection = self.connections.get(connection_id)
        if connection is None or connection.ws.closed:
            return web.json_response(
                {"message": f"Connection {connection_id} is gone"},
                status=410,
                headers={"x-amzn-ErrorType": "GoneException"},
            )
        if request.method == "POST":
            data = await request.read()
            if len(data) > MAX_WS_MESSAGE:
                return web.json_response(
                    {"message": "Payload too large"},
                    status=413,
                    headers={"x-amzn-ErrorType": "PayloadTooLargeException"},
                )
            try:
                await connection.ws.send_str(data.decode("utf-8"))
            except UnicodeDecodeError:
                await connection.ws.send_bytes(data)
            return web.Response(status=200)
        if request.method == "GET":
            # The wire names of GetConnection are camelCase (boto3 maps them to ConnectedAt, ...).
            return web.json_response(
                {
                    "connectedAt": _iso(connection.connected_at),
                    "lastActiveAt": _iso(connection.last_active_at),
                    "identity": {"sourceIp": connection.source_ip, "userAgent": connection.user_agent},
                }
            )
        if request.method == "DELETE":
            # The close handshake finishes in the background; the caller (often a Lambda) does not wait.
            connection.server_close_code = 1000
            task = asyncio.create_task(connection.ws.close(code=1000, message=b"Connection deleted"))
            self._background.add(task)
            task.add_done_callback(self._background.discard)
            return web.Response(status=204)
        return web.json_response(
            {"message": f"Method {request.method} not allowed"},
            status=405,
            headers={"x-amzn-ErrorType": "MethodNotAllowedException"},
        )
