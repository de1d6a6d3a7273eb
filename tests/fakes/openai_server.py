"""A real OpenAI-compatible HTTP server on 127.0.0.1 serving scripted chat completions.

    with FakeOpenAI(api_key="sk-test") as llm:
        os.environ.update(llm.env())              # OPENAI_BASE_URL / OPENAI_API_KEY / OPENAI_MODEL
        llm.script(Reply.json({...}), Reply.error(429, retry_after="1"), Reply.text("not json"))
        llm.responder = lambda request: Reply.json(...)   # answers once the script is used up

``POST /v1/chat/completions`` pops the next scripted ``Reply`` (status, content, headers, delay);
with an empty script it asks ``responder``; with neither it answers 500 so a test never passes on a
default. A wrong bearer key gets 401 (as OpenAI answers; the script is not consumed). Every request is
recorded (``requests``) with its parsed JSON body, so tests assert what the client sent (model,
response_format, prompt size).
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any


@dataclass
class Reply:
    """One scripted answer. ``content`` becomes the assistant message; ``body`` replaces the whole JSON."""

    status: int = 200
    content: str | None = None
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    model: str | None = None
    prompt_tokens: int = 100
    completion_tokens: int = 50
    finish_reason: str = "stop"

    @classmethod
    def json(cls, obj: Any, **kwargs: Any) -> Reply:
        return cls(content=json.dumps(obj), **kwargs)

    @classmethod
    def text(cls, content: str, **kwargs: Any) -> Reply:
        return cls(content=content, **kwargs)

    @classmethod
    def error(cls, status: int, *, retry_after: str | None = None, delay: float = 0.0) -> Reply:
        headers = {"Retry-After": retry_after} if retry_after is not None else {}
        body = {"error": {"message": f"scripted {status}", "type": "server_error", "code": status}}
        return cls(status=status, body=body, headers=headers, delay=delay)


@dataclass(frozen=True)
class Recorded:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]
    at: float

    @property
    def messages(self) -> list[dict[str, str]]:
        return list(self.body.get("messages") or [])

    @property
    def prompt_chars(self) -> int:
        return sum(len(m.get("content") or "") for m in self.messages)

    def text(self) -> str:
        """All message contents, joined (to look for what the client put into the prompt)."""
        return "\n".join(m.get("content") or "" for m in self.messages)


Responder = Callable[[Recorded], Reply]


class FakeOpenAI:
    """Start with ``with FakeOpenAI() as llm:``; ``llm.base_url`` ends in ``/v1`` like OpenAI's."""

    def __init__(self, *, api_key: str | None = "sk-fake-test-key", model: str = "fake-gpt") -> None:
        self.api_key = api_key
        self.model = model
        self.responder: Responder | None = None
        self.requests: list[Recorded] = []
        self._script: deque[Reply] = deque()
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-openai", daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/v1"

    def env(self) -> dict[str, str]:
        env = {"OPENAI_BASE_URL": self.base_url, "OPENAI_MODEL": self.model}
        if self.api_key:
            env["OPENAI_API_KEY"] = self.api_key
        return env

    def script(self, *replies: Reply) -> None:
        with self._lock:
            self._script.extend(replies)

    @property
    def pending(self) -> int:
        """Scripted replies not yet served."""
        with self._lock:
            return len(self._script)

    def reset(self) -> None:
        with self._lock:
            self._script.clear()
            self.requests.clear()
        self.responder = None

    def start(self) -> FakeOpenAI:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FakeOpenAI:
        return self.start()

    def __exit__(
        self, *exc: tuple[type[BaseException] | None, BaseException | None, TracebackType | None]
    ) -> None:
        self.stop()

    # -- server side ---------------------------------------------------------------------------
    def _record(self, request: Recorded) -> None:
        with self._lock:
            self.requests.append(request)

    def _next(self, request: Recorded) -> Reply:
        with self._lock:
            scripted = self._script.popleft() if self._script else None
        if scripted is not None:
            return scripted
        if self.responder is not None:
            return self.responder(request)
        return Reply.error(500)

    def _completion(self, reply: Reply) -> dict[str, Any]:
        return {
            "id": f"chatcmpl-fake-{time.monotonic_ns()}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": reply.model or self.model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": reply.content},
                    "finish_reason": reply.finish_reason,
                }
            ],
            "usage": {
                "prompt_tokens": reply.prompt_tokens,
                "completion_tokens": reply.completion_tokens,
                "total_tokens": reply.prompt_tokens + reply.completion_tokens,
            },
        }

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                headers = {k.lower(): v for k, v in self.headers.items()}
                if self.path.rstrip("/") != "/v1/chat/completions":
                    self._send(404, {"error": {"message": "not found"}})
                    return
                try:
                    body = json.loads(raw or b"{}")
                except ValueError:
                    self._send(400, {"error": {"message": "invalid JSON body"}})
                    return
                request = Recorded(self.path, headers, body, time.monotonic())
                fake._record(request)
                if fake.api_key and headers.get("authorization") != f"Bearer {fake.api_key}":
                    error = {"message": "Incorrect API key provided", "code": "invalid_api_key"}
                    self._send(401, {"error": error})
                    return
                reply = fake._next(request)
                if reply.delay:
                    time.sleep(reply.delay)
                payload = reply.body if reply.body is not None else fake._completion(reply)
                self._send(reply.status, payload, reply.headers)

            def _send(self, status: int, body: object, extra: dict[str, str] | None = None) -> None:
                data = json.dumps(body).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    for k, v in (extra or {}).items():
                        self.send_header(k, v)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout tests)

            def log_message(self, format: str, *args: object) -> None:
                return

        return Handler


def closed_port_url() -> str:
    """A base URL on 127.0.0.1 where nothing listens (a provider that is down: connection refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"
