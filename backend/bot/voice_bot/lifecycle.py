"""Bot lifecycle callbacks: POST {apiBaseUrl}/bot/sessions/{id}/joined | heartbeat | completed | failed.

Every call carries `Authorization: Bearer <botToken>`, has a per-attempt timeout and is retried with
backoff on network errors, timeouts, 429 and 5xx. A 4xx other than 429 is final (the server said no).

Heartbeats run on a fixed cadence (a monotonic schedule: a slow answer does not push the next beat later)
and stop when the API answers 409/410: the session ended or another dispatch superseded this bot, so
the bot must leave (`on_gone`).
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import math
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp

log = logging.getLogger("voice_bot.lifecycle")

HEARTBEAT_INTERVAL_SECONDS = 15.0

# Answers to a heartbeat that mean "this session is no longer yours": 409 SESSION_ENDED / BOT_SUPERSEDED,
# 410 gone. The bot stops its interview (docs/orchestration.md, bot callbacks).
SESSION_GONE_STATUSES = frozenset({409, 410})


@dataclass(frozen=True)
class CallResult:
    ok: bool
    status: int | None  # None: no HTTP answer at all (after every retry)
    attempts: int
    body: Any = None


class LifecycleClient:
    def __init__(
        self,
        api_base_url: str,
        session_id: str,
        bot_token: str,
        *,
        timeout: float = 5.0,
        retries: int = 3,
        backoff: float = 0.5,
    ) -> None:
        self._base = f"{api_base_url.rstrip('/')}/bot/sessions/{session_id}"
        self._headers = {"Authorization": f"Bearer {bot_token}", "Content-Type": "application/json"}
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._retries = retries
        self._backoff = backoff
        self._http: aiohttp.ClientSession | None = None
        self._heartbeat_task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> LifecycleClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        await self.stop_heartbeats()
        if self._http is not None:
            await self._http.close()
            self._http = None

    def _session(self) -> aiohttp.ClientSession:
        if self._http is None or self._http.closed:
            self._http = aiohttp.ClientSession(timeout=self._timeout, headers=self._headers)
        return self._http

    async def _post(self, action: str, body: dict[str, Any], *, retries: int | None = None) -> CallResult:
        url = f"{self._base}/{action}"
        attempts = 0
        last_status: int | None = None
        tries = (self._retries if retries is None else retries) + 1
        for attempt in range(tries):
            attempts += 1
            try:
                async with self._session().post(url, json=body) as response:
                    last_status = response.status
                    payload: Any = None
                    with contextlib.suppress(Exception):
                        payload = await response.json(content_type=None)
                    if 200 <= response.status < 300:
                        return CallResult(True, response.status, attempts, payload)
                    if response.status != 429 and response.status < 500:
                        log.warning("bot %s rejected with HTTP %d", action, response.status)
                        return CallResult(False, response.status, attempts, payload)
                    log.warning("bot %s got HTTP %d (attempt %d)", action, response.status, attempts)
            except (aiohttp.ClientError, TimeoutError) as exc:
                log.warning("bot %s failed: %s (attempt %d)", action, type(exc).__name__, attempts)
            if attempt + 1 < tries:
                await asyncio.sleep(self._backoff * (2**attempt) * (1 + random.random() * 0.2))  # noqa: S311
        return CallResult(False, last_status, attempts)

    async def joined(self, body: dict[str, Any] | None = None) -> CallResult:
        return await self._post("joined", body or {})

    async def heartbeat(self, body: dict[str, Any] | None = None) -> CallResult:
        # One quick retry only: the next beat comes soon anyway.
        return await self._post("heartbeat", body or {}, retries=1)

    async def completed(self, body: dict[str, Any] | None = None) -> CallResult:
        return await self._post("completed", body or {}, retries=max(self._retries, 5))

    async def failed(self, reason: str, body: dict[str, Any] | None = None) -> CallResult:
        return await self._post("failed", {"reason": reason, **(body or {})}, retries=max(self._retries, 5))

    def start_heartbeats(
        self,
        status: Callable[[], dict[str, Any]] | None = None,
        interval: float = HEARTBEAT_INTERVAL_SECONDS,
        delay: float = 0.0,
        on_gone: Callable[[int], Awaitable[None] | None] | None = None,
    ) -> None:
        """Beat every `interval` seconds until stop_heartbeats(), the first after `delay`.

        The beats keep a fixed cadence (deadlines on the monotonic clock, not a sleep after each call); a
        beat that overran whole intervals skips the missed slots rather than bursting. A 409/410 answer
        ends the loop and calls `on_gone(status)` once.
        """
        if self._heartbeat_task is not None:
            return

        async def loop() -> None:
            clock = asyncio.get_running_loop().time  # monotonic
            due = clock() + delay
            while True:
                await asyncio.sleep(max(0.0, due - clock()))
                result: CallResult | None = None
                try:
                    result = await self.heartbeat(status() if status else {})
                except Exception:
                    log.exception("heartbeat failed")
                if result is not None and result.status in SESSION_GONE_STATUSES:
                    log.warning("heartbeat answered HTTP %d: the session is no longer ours", result.status)
                    if on_gone is not None:
                        outcome = on_gone(result.status)
                        if inspect.isawaitable(outcome):
                            await outcome
                    return
                due += interval
                late = clock() - due
                if late >= 0:  # the beat took longer than the interval: next slot on the same grid
                    due += (math.floor(late / interval) + 1) * interval

        self._heartbeat_task = asyncio.get_running_loop().create_task(loop(), name="bot-heartbeat")

    async def stop_heartbeats(self) -> None:
        task, self._heartbeat_task = self._heartbeat_task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
