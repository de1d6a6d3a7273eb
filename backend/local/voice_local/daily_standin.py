"""A stand-in for Daily's REST API on 127.0.0.1 (used by the local stack unless DAILY_API_KEY is set).

Serves the endpoints module-voice calls, with Daily's shapes and error bodies:
``POST /rooms``, ``GET /rooms`` (``?limit=``), ``GET /rooms/{name}``, ``DELETE /rooms/{name}``,
``POST /meeting-tokens``. Every request needs ``Authorization: Bearer <key>`` (any non-empty key, or
exactly ``api_key`` when one is given).

Tests steer it: ``fail_next(3, status=429)`` answers the next three matching requests with that status,
``latency`` delays every answer, ``requests`` records what was asked (method, path, body; never the key).
The same controls are reachable over HTTP for other processes: ``POST /_standin/faults``
``{"count": 2, "status": 500, "path": "/rooms"}`` and ``GET /_standin/requests``.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

HOST = "127.0.0.1"
DEFAULT_DOMAIN = "https://module-voice-local.daily.co"


@dataclass
class Fault:
    count: int
    status: int
    path: str | None = None  # a path prefix ("/rooms", "/meeting-tokens"); None = every request


@dataclass
class Recorded:
    method: str
    path: str
    body: Any
    status: int


@dataclass
class _State:
    rooms: dict[str, dict[str, Any]] = field(default_factory=dict)
    tokens: list[dict[str, Any]] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    requests: list[Recorded] = field(default_factory=list)


class DailyStandIn:
    """``with DailyStandIn() as daily: os.environ["DAILY_API_URL"] = daily.url``."""

    def __init__(self, *, port: int = 0, api_key: str | None = None, domain: str = DEFAULT_DOMAIN) -> None:
        self.requested_port = port
        self.api_key = api_key
        self.domain = domain.rstrip("/")
        self.latency = 0.0
        self._lock = threading.Lock()
        self._state = _State()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ lifecycle

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("Daily stand-in not started")
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        """The base URL to use as ``DAILY_API_URL``."""
        return f"http://{HOST}:{self.port}/v1"

    def start(self) -> str:
        handler = type("Handler", (_Handler,), {"standin": self})
        self._server = ThreadingHTTPServer((HOST, self.requested_port), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="daily-standin", daemon=True)
        self._thread.start()
        return self.url

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> DailyStandIn:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ test controls

    def fail_next(self, count: int, *, status: int = 500, path: str | None = None) -> None:
        """Answer the next ``count`` requests (under ``path``, when given) with ``status``."""
        with self._lock:
            self._state.faults.append(Fault(count, status, path))

    def reset(self) -> None:
        with self._lock:
            self._state = _State()
        self.latency = 0.0

    @property
    def rooms(self) -> dict[str, dict[str, Any]]:
        with self._lock:
            return {k: dict(v) for k, v in self._state.rooms.items()}

    @property
    def tokens(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(t) for t in self._state.tokens]

    @property
    def requests(self) -> list[Recorded]:
        with self._lock:
            return list(self._state.requests)

    # ------------------------------------------------------------------ behaviour

    def _take_fault(self, path: str) -> int | None:
        with self._lock:
            for fault in self._state.faults:
                if fault.count > 0 and (fault.path is None or path.startswith("/v1" + fault.path)):
                    fault.count -= 1
                    return fault.status
        return None

    def handle(self, method: str, raw_path: str, auth: str | None, body: Any) -> tuple[int, dict[str, Any]]:
        parts = urlsplit(raw_path)
        path = parts.path.rstrip("/")
        if path.startswith("/_standin"):
            return self._control(method, path, body)
        if self.latency:
            time.sleep(self.latency)
        status, answer = self._api(method, path, parse_qs(parts.query), auth, body)
        with self._lock:
            self._state.requests.append(Recorded(method, path, body, status))
        return status, answer

    def _control(self, method: str, path: str, body: Any) -> tuple[int, dict[str, Any]]:
        if method == "POST" and path == "/_standin/faults" and isinstance(body, dict):
            self.fail_next(
                int(body.get("count", 1)), status=int(body.get("status", 500)), path=body.get("path")
            )
            return 200, {"ok": True}
        if method == "POST" and path == "/_standin/reset":
            self.reset()
            return 200, {"ok": True}
        if method == "GET" and path == "/_standin/requests":
            return 200, {"requests": [r.__dict__ for r in self.requests]}
        return 404, {"error": "not-found", "info": "unknown stand-in control"}

    def _api(
        self, method: str, path: str, query: dict[str, list[str]], auth: str | None, body: Any
    ) -> tuple[int, dict[str, Any]]:
        if not auth or not auth.startswith("Bearer ") or not auth[7:].strip():
            return 401, {"error": "authorization-header-error", "info": "Bearer token required"}
        if self.api_key is not None and not secrets.compare_digest(auth[7:].strip(), self.api_key):
            return 401, {"error": "authentication-error", "info": "invalid api key"}
        fault = self._take_fault(path)
        if fault is not None:
            error = "rate-limit-error" if fault == 429 else "server-error"
            return fault, {"error": error, "info": f"stand-in fault ({fault})"}
        if not path.startswith("/v1/"):
            return 404, {"error": "not-found", "info": f"no endpoint {path}"}
        route = path[3:]
        if route == "/rooms" and method == "POST":
            return self._create_room(body if isinstance(body, dict) else {})
        if route == "/rooms" and method == "GET":
            limit = int((query.get("limit") or ["100"])[0])
            with self._lock:
                data = list(self._state.rooms.values())[:limit]
                total = len(self._state.rooms)
            return 200, {"total_count": total, "data": data}
        if route.startswith("/rooms/") and method in ("GET", "DELETE"):
            name = route[len("/rooms/") :]
            with self._lock:
                room = self._state.rooms.get(name) if method == "GET" else self._state.rooms.pop(name, None)
            if room is None:
                return 404, {"error": "not-found", "info": f"room {name} was not found"}
            return (200, room) if method == "GET" else (200, {"deleted": True, "name": name})
        if route == "/meeting-tokens" and method == "POST":
            props = (body or {}).get("properties") if isinstance(body, dict) else None
            if not isinstance(props, dict):
                return 400, {"error": "invalid-request-error", "info": "properties is required"}
            token = f"standin.{secrets.token_urlsafe(24)}"
            with self._lock:
                self._state.tokens.append({"token": token, **props})
            return 200, {"token": token}
        return 404, {"error": "not-found", "info": f"no endpoint {method} {path}"}

    def _create_room(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        name = str(body.get("name") or secrets.token_hex(8))
        props = body.get("properties") if isinstance(body.get("properties"), dict) else {}
        with self._lock:
            if name in self._state.rooms:
                return 400, {"error": "invalid-request-error", "info": f"a room named {name} already exists"}
            room = {
                "id": secrets.token_hex(16),
                "name": name,
                "api_created": True,
                "privacy": body.get("privacy", "public"),
                "url": f"{self.domain}/{name}",
                "created_at": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
                "config": dict(props or {}),
            }
            self._state.rooms[name] = room
        return 200, room


class _Handler(BaseHTTPRequestHandler):
    standin: DailyStandIn
    protocol_version = "HTTP/1.1"  # keep-alive, like the real API
    disable_nagle_algorithm = True  # headers and body are separate writes: no 40 ms delayed-ACK stalls

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            self._reply(400, {"error": "invalid-request-error", "info": "body is not JSON"})
            return
        status, answer = self.standin.handle(self.command, self.path, self.headers.get("Authorization"), body)
        self._reply(status, answer)

    def _reply(self, status: int, answer: dict[str, Any]) -> None:
        data = json.dumps(answer).encode()
        self.send_response(
            status, HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else ""
        )
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        if status == 429:
            self.send_header("Retry-After", "0")
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_DELETE = _serve

    def log_message(self, format: str, *args: Any) -> None:
        return  # quiet: the gateway logs the API calls that matter
