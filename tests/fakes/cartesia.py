"""A real HTTP server on 127.0.0.1 standing in for Cartesia's text-to-speech REST endpoint:

    CARTESIA_API_URL = http://127.0.0.1:<port>     POST /tts/bytes   X-API-Key + Cartesia-Version

It checks the request as Cartesia would (key, version header, JSON body with model_id, transcript,
voice {mode: id, id}, output_format {container wav, encoding pcm_s16le, sample_rate}) and answers a
mono 16-bit WAV: a tone whose length grows with the transcript (``MS_PER_CHAR``) and, if
``generation_config.speed`` is given, shrinks with the speed. Like Cartesia's streamed output, the WAV
header carries 0xFFFFFFFF sizes unless ``exact_header`` is set.

``accept(key)`` registers a valid key (others get 401); ``script(429, 500)`` makes the next requests
answer those statuses (429 with ``Retry-After: 7``); ``unknown_voice(id)`` makes a voice id 404.
Every request is recorded (``requests``), so tests count what reached the provider.
"""

from __future__ import annotations

import json
import math
import struct
import threading
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

MS_PER_CHAR = 60
RETRY_AFTER = "7"


@dataclass(frozen=True)
class TtsRequest:
    headers: dict[str, str]
    body: Any
    status: int


def tone_wav(duration_ms: int, sample_rate: int, *, streamed: bool) -> bytes:
    """A 220 Hz tone as a WAV; ``streamed``: sizes unknown (0xFFFFFFFF), as a streaming server writes."""
    frames = sample_rate * duration_ms // 1000
    pcm = b"".join(
        struct.pack("<h", int(8000 * math.sin(2 * math.pi * 220 * i / sample_rate))) for i in range(frames)
    )
    data_size = 0xFFFFFFFF if streamed else len(pcm)
    riff_size = 0xFFFFFFFF if streamed else 36 + len(pcm)
    header = (
        b"RIFF"
        + struct.pack("<I", riff_size)
        + b"WAVEfmt "
        + struct.pack("<IHHIIHH", 16, 1, 1, sample_rate, sample_rate * 2, 2, 16)
        + b"data"
        + struct.pack("<I", data_size)
    )
    return header + pcm


class FakeCartesia:
    """Start with ``with FakeCartesia() as fake: os.environ["CARTESIA_API_URL"] = fake.base_url``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._keys: set[str] = set()
        self._unknown: set[str] = set()
        self._script: deque[int] = deque()
        self.exact_header = False
        self.requests: list[TtsRequest] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-cartesia", daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def accept(self, key: str) -> None:
        with self._lock:
            self._keys.add(key)

    def unknown_voice(self, voice_id: str) -> None:
        with self._lock:
            self._unknown.add(voice_id)

    def script(self, *statuses: int) -> None:
        with self._lock:
            self._script.extend(statuses)

    def reset(self) -> None:
        with self._lock:
            self._keys.clear()
            self._unknown.clear()
            self._script.clear()
            self.requests.clear()
            self.exact_header = False

    @property
    def count(self) -> int:
        with self._lock:
            return len(self.requests)

    def start(self) -> FakeCartesia:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FakeCartesia:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- server side ---------------------------------------------------------------------------
    def _answer(self, headers: dict[str, str], raw: bytes) -> tuple[int, bytes, str]:
        def error(status: int, message: str) -> tuple[int, bytes, str]:
            return status, json.dumps({"error": message}).encode(), "application/json"

        with self._lock:
            if self._script:
                status = self._script.popleft()
                return error(status, f"scripted {status}")
            key_ok = headers.get("x-api-key") in self._keys
            unknown = set(self._unknown)
        if not key_ok:
            return error(401, "invalid api key")
        if not headers.get("cartesia-version"):
            return error(400, "Cartesia-Version header is required")
        try:
            body = json.loads(raw)
            transcript = body["transcript"]
            voice = body["voice"]
            fmt = body["output_format"]
            assert isinstance(body["model_id"], str) and body["model_id"]
            assert isinstance(transcript, str) and transcript.strip()
            assert voice["mode"] == "id" and isinstance(voice["id"], str)
            assert fmt["container"] == "wav" and fmt["encoding"] == "pcm_s16le"
            rate = int(fmt["sample_rate"])
            speed = float((body.get("generation_config") or {}).get("speed", 1.0))
            assert 0.6 <= speed <= 1.5
        except (ValueError, KeyError, TypeError, AssertionError):
            return error(400, "invalid request body")
        if voice["id"] in unknown:
            return error(404, f"voice {voice['id']} not found")
        duration = int(len(transcript) * MS_PER_CHAR / speed)
        return 200, tone_wav(duration, rate, streamed=not self.exact_header), "audio/wav"

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                headers = {k.lower(): v for k, v in self.headers.items()}
                if self.path != "/tts/bytes":
                    status, body, ctype = 404, b'{"error":"not found"}', "application/json"
                else:
                    status, body, ctype = fake._answer(headers, raw)
                try:
                    parsed: Any = json.loads(raw)
                except ValueError:
                    parsed = None
                with fake._lock:
                    fake.requests.append(TtsRequest(headers, parsed, status))
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                if status == 429:
                    self.send_header("Retry-After", RETRY_AFTER)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                return

        return Handler
