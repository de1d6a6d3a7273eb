"""Helpers for synchronous tests that need the real gateway (and optionally the whole stack).

pytest here has no asyncio plugin, so ``running_stack`` runs ``LocalStack`` on an event loop in a
background thread and hands the started stack to the test::

    with running_stack(data_dir=tmp_path, database=False) as stack:
        requests_to(stack.rest_url), websockets.sync.client.connect(stack.websocket_url + "?token=...")
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from voice_local.stack import LocalStack

START_TIMEOUT_SECONDS = 120.0


def free_port() -> int:
    """A port that was free on 127.0.0.1 a moment ago (prefer port=0 where the server supports it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class BackgroundLoop:
    """An asyncio loop in a daemon thread; ``run(coro)`` waits for a coroutine's result from sync code."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="voice-local-loop", daemon=True)
        self._thread.start()

    def run(self, coro: Any, timeout: float | None = START_TIMEOUT_SECONDS) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=10)
        self.loop.close()


@contextmanager
def running_stack(
    *, data_dir: Path | str, port: int = 0, aws_port: int = 0, **options: Any
) -> Iterator[LocalStack]:
    """A started ``LocalStack`` on free ports (``options`` as for ``LocalStack``); stopped on exit."""
    loop = BackgroundLoop()
    stack = LocalStack(port=port, aws_port=aws_port, data_dir=data_dir, **options)
    try:
        loop.run(stack.start())
        yield stack
    finally:
        try:
            loop.run(stack.stop(), timeout=60)
        finally:
            loop.close()
