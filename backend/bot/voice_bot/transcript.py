"""Live transcript: numbered segments, published over the API Gateway WebSocket with acks and resends.

`TranscriptRecorder` turns final utterances into segments (seq 1, 2, ... in the order they end, times in
seconds relative to the interview start). `TranscriptPublisher` sends them as
`{"action": "transcript", "sessionId": ..., "segment": {...}}` on `websocketUrl?token=<botToken>`; the
server answers `{"type": "ack", "seq": N}`. Publishing never blocks the caller (the audio pipeline): the
segment is queued and a background task sends it. Unacknowledged segments are resent, in seq order, after
every reconnect, and after `ack_timeout` on a live connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import websockets
from websockets.asyncio.client import ClientConnection, connect

log = logging.getLogger("voice_bot.transcript")

Speaker = Literal["candidate", "bot"]


@dataclass(frozen=True)
class Segment:
    seq: int
    speaker: Speaker
    text: str
    start_time: float
    end_time: float
    confidence: float | None

    def to_message(self) -> dict[str, Any]:
        """The contract's segment object (camelCase)."""
        return {
            "seq": self.seq,
            "speaker": self.speaker,
            "text": self.text,
            "startTime": round(self.start_time, 3),
            "endTime": round(self.end_time, 3),
            "confidence": None if self.confidence is None else round(self.confidence, 4),
            "isFinal": True,
        }


class TranscriptRecorder:
    """Numbers final utterances and hands them to the sinks (the publisher, the controller's history)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._origin: float | None = None
        self._seq = 0
        self.segments: list[Segment] = []
        self._sinks: list[Callable[[Segment], None]] = []

    def add_sink(self, sink: Callable[[Segment], None]) -> None:
        self._sinks.append(sink)

    def now(self) -> float:
        return self._clock()

    def start(self, origin: float | None = None) -> None:
        if self._origin is None:
            self._origin = self._clock() if origin is None else origin

    @property
    def started(self) -> bool:
        return self._origin is not None

    def relative(self, t: float) -> float:
        if self._origin is None:
            return 0.0
        return max(0.0, t - self._origin)

    def record(
        self, speaker: Speaker, text: str, start: float, end: float, confidence: float | None
    ) -> Segment | None:
        """Record one final utterance (absolute clock times); empty text is dropped."""
        text = " ".join(text.split())
        if not text or self._origin is None:
            return None
        self._seq += 1
        start_rel = self.relative(start)
        end_rel = max(start_rel, self.relative(end))
        segment = Segment(self._seq, speaker, text, start_rel, end_rel, confidence)
        self.segments.append(segment)
        for sink in self._sinks:
            try:
                sink(segment)
            except Exception:  # a sink must never break the pipeline
                log.exception("transcript sink failed")
        return segment


def _with_token(url: str, token: str) -> str:
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "token"]
    query.append(("token", token))
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), parts.fragment))


class TranscriptPublisher:
    """Buffered, acknowledged, reconnecting sender of transcript segments."""

    def __init__(
        self,
        websocket_url: str,
        session_id: str,
        bot_token: str,
        *,
        ack_timeout: float = 10.0,
        connect_timeout: float = 10.0,
        backoff_initial: float = 0.2,
        backoff_max: float = 5.0,
        keepalive_interval: float = 300.0,
    ) -> None:
        self._url = _with_token(websocket_url, bot_token)
        self._session_id = session_id
        self._ack_timeout = ack_timeout
        self._connect_timeout = connect_timeout
        self._backoff_initial = backoff_initial
        self._backoff_max = backoff_max
        self._keepalive_interval = keepalive_interval
        self._pending: dict[int, dict[str, Any]] = {}  # seq -> segment message, until acked
        self._sent_at: dict[int, float] = {}
        self._wakeup = asyncio.Event()
        self._all_acked = asyncio.Event()
        self._all_acked.set()
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self.connections = 0  # successful connects (observability and tests)
        self.acked: list[int] = []

    # -- public API -------------------------------------------------------------------------------
    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="transcript-publisher")

    def publish(self, segment: Segment) -> None:
        """Queue a segment; returns at once (never waits for the network)."""
        self._pending[segment.seq] = segment.to_message()
        self._all_acked.clear()
        self._wakeup.set()

    @property
    def unacked(self) -> list[int]:
        return sorted(self._pending)

    async def flush(self, timeout: float) -> bool:
        """Wait until every published segment is acknowledged (or the timeout); True when all were."""
        try:
            await asyncio.wait_for(self._all_acked.wait(), timeout)
        except TimeoutError:
            return False
        return True

    async def close(self) -> None:
        self._closing = True
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
            self._task = None

    # -- internals --------------------------------------------------------------------------------
    async def _run(self) -> None:
        backoff = self._backoff_initial
        while not self._closing:
            try:
                async with asyncio.timeout(self._connect_timeout):
                    ws = await connect(self._url, open_timeout=None, max_size=2**20)
            except (OSError, TimeoutError, websockets.exceptions.WebSocketException) as exc:
                log.warning("transcript websocket connect failed: %s", type(exc).__name__)
                await asyncio.sleep(backoff * (1 + random.random() * 0.2))  # noqa: S311 (jitter)
                backoff = min(self._backoff_max, backoff * 2)
                continue
            self.connections += 1
            backoff = self._backoff_initial
            try:
                await self._serve(ws)
            except websockets.exceptions.ConnectionClosed:
                log.info("transcript websocket closed; reconnecting (%d unacked)", len(self._pending))
            except OSError as exc:
                log.warning("transcript websocket error: %s", type(exc).__name__)
            finally:
                with contextlib.suppress(Exception):
                    await ws.close()

    async def _serve(self, ws: ClientConnection) -> None:
        reader = asyncio.get_running_loop().create_task(self._read_acks(ws))
        try:
            sent_upto = 0  # after a (re)connect every unacked segment is sent again, in order
            last_traffic = time.monotonic()
            while True:
                if reader.done():
                    reader.result()  # re-raises ConnectionClosed
                    return
                self._wakeup.clear()  # cleared before scanning, so a publish during a send is not lost
                now = time.monotonic()
                # An ack that never came on a live connection: send the oldest unacked again.
                stale = [s for s in self._pending if now - self._sent_at.get(s, now) > self._ack_timeout]
                if stale:
                    sent_upto = min(sent_upto, min(stale) - 1)
                for seq in sorted(self._pending):
                    if seq > sent_upto and seq in self._pending:
                        message: dict[str, Any] = {
                            "action": "transcript",
                            "sessionId": self._session_id,
                            "segment": self._pending[seq],
                        }
                        await ws.send(json.dumps(message))
                        self._sent_at[seq] = time.monotonic()
                        sent_upto = seq
                        last_traffic = time.monotonic()
                if time.monotonic() - last_traffic > self._keepalive_interval:
                    await ws.send(json.dumps({"action": "ping"}))
                    last_traffic = time.monotonic()
                waiter = asyncio.ensure_future(self._wakeup.wait())
                try:
                    await asyncio.wait(
                        [reader, waiter],
                        timeout=min(self._ack_timeout / 2, self._keepalive_interval),
                        return_when=asyncio.FIRST_COMPLETED,
                    )
                finally:
                    waiter.cancel()
        finally:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await reader

    async def _read_acks(self, ws: ClientConnection) -> None:
        async for raw in ws:
            try:
                message = json.loads(raw)
            except ValueError:
                continue
            if not isinstance(message, dict):
                continue
            kind = message.get("type")
            if kind == "ack" and isinstance(message.get("seq"), int):
                seq = message["seq"]
                if self._pending.pop(seq, None) is not None:
                    self.acked.append(seq)
                self._sent_at.pop(seq, None)
                if not self._pending:
                    self._all_acked.set()
            elif kind == "error":
                # e.g. a transient persistence failure: the segment stays pending and is resent later.
                log.warning("transcript server error: %s", message.get("code"))
