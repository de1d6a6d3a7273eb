"""A real HTTP server on 127.0.0.1 standing in for the key-validation endpoints of Daily, Deepgram and
Cartesia, each under its own path prefix so one server serves all three base URLs:

    DAILY_API_URL    = http://127.0.0.1:<port>/daily/v1      GET /rooms?limit=1   Authorization: Bearer <key>
    DEEPGRAM_API_URL = http://127.0.0.1:<port>/deepgram/v1   GET /projects        Authorization: Token <key>
    CARTESIA_API_URL = http://127.0.0.1:<port>/cartesia      GET /voices          X-API-Key + Cartesia-Version

A key registered with ``accept(service, key)`` gets 200, any other key 401 (as the real APIs answer
a bad key). ``script(service, 429, 200)`` makes the next requests answer those statuses first
(429/503 carry ``Retry-After: 0``), to exercise retries and outages. Every request is recorded.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

ROUTES = {
    "/daily/v1/rooms": "daily",
    "/deepgram/v1/projects": "deepgram",
    "/cartesia/voices": "cartesia",
}


@dataclass(frozen=True)
class Recorded:
    service: str
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    key: str | None  # the key as the provider would parse it from its auth header


class FakeProviders:
    """Start with ``with FakeProviders() as fake: os.environ.update(fake.env())``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._valid: dict[str, set[str]] = {s: set() for s in ROUTES.values()}
        self._scripts: dict[str, deque[int]] = {s: deque() for s in ROUTES.values()}
        self.requests: list[Recorded] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-providers", daemon=True)

    # -- control ------------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def env(self) -> dict[str, str]:
        return {
            "DAILY_API_URL": f"{self.base_url}/daily/v1",
            "DEEPGRAM_API_URL": f"{self.base_url}/deepgram/v1",
            "CARTESIA_API_URL": f"{self.base_url}/cartesia",
        }

    def accept(self, service: str, key: str) -> None:
        with self._lock:
            self._valid[service].add(key)

    def script(self, service: str, *statuses: int) -> None:
        """The next ``len(statuses)`` requests for ``service`` answer these statuses, in order."""
        with self._lock:
            self._scripts[service].extend(statuses)

    def reset(self) -> None:
        with self._lock:
            for s in self._valid:
                self._valid[s].clear()
                self._scripts[s].clear()
            self.requests.clear()

    def requests_for(self, service: str) -> list[Recorded]:
        with self._lock:
            return [r for r in self.requests if r.service == service]

    def start(self) -> FakeProviders:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FakeProviders:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- server side ---------------------------------------------------------------------------
    def _answer(self, service: str, headers: dict[str, str], query: dict[str, list[str]]) -> tuple[int, dict]:
        key = _parse_key(service, headers)
        with self._lock:
            if self._scripts[service]:
                status = self._scripts[service].popleft()
                return status, {"error": f"scripted {status}"}
            valid = key is not None and key in self._valid[service]
        if service == "cartesia" and not headers.get("cartesia-version"):
            return 400, {"error": "Cartesia-Version header is required"}
        if service == "daily" and query.get("limit") != ["1"]:
            return 400, {"error": "expected limit=1"}
        if not valid:
            return 401, {"error": "authentication-error", "info": "invalid credentials"}
        bodies = {
            "daily": {"total_count": 0, "data": []},
            "deepgram": {"projects": [{"project_id": "p-1", "name": "fake"}]},
            "cartesia": [{"id": "v-1", "name": "Fake voice"}],
        }
        return 200, bodies[service]

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                service = ROUTES.get(parts.path)
                headers = {k.lower(): v for k, v in self.headers.items()}
                query = parse_qs(parts.query)
                if service is None:
                    self._send(404, {"error": "not found"})
                    return
                with fake._lock:
                    fake.requests.append(
                        Recorded(service, "GET", parts.path, query, headers, _parse_key(service, headers))
                    )
                status, body = fake._answer(service, headers, query)
                extra = {"Retry-After": "0"} if status in (429, 503) else {}
                self._send(status, body, extra)

            def _send(self, status: int, body: object, extra: dict[str, str] | None = None) -> None:
                raw = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                for k, v in (extra or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(raw)

            def log_message(self, format: str, *args: object) -> None:
                return

        return Handler


def _parse_key(service: str, headers: dict[str, str]) -> str | None:
    if service == "cartesia":
        return headers.get("x-api-key")
    scheme = "Bearer " if service == "daily" else "Token "
    auth = headers.get("authorization", "")
    return auth[len(scheme) :] if auth.startswith(scheme) else None
