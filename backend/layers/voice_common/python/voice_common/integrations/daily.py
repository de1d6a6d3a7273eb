"""Daily.co REST API: private interview rooms and meeting tokens (seed 001 section 5.1).

Every call has a connect/read timeout and is retried a bounded number of times with exponential backoff
on 429, 5xx and network errors (a short ``Retry-After`` is honoured). What still fails after that is a
``DailyError`` (HTTP 502 to the API caller): the start request is retryable and the session stays pending.
A 4xx other than 429 is Daily refusing the request and is not retried.

The API key is passed in by the caller (``voice_common.credentials.get_api_key(org, "daily")``); it is sent
only to ``DAILY_API_URL`` (redirects are not followed) and never appears in a log line or an error.

``stats`` accumulates the wall time spent waiting for Daily in this process, so the start benchmark can
report our own latency with Daily's subtracted.
"""

from __future__ import annotations

import json
import os
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger

from access_common.errors import BadGatewayError
from access_common.lazy import LazyModule

if TYPE_CHECKING:
    import urllib3
else:  # imported on the first request that calls out: not part of every cold start
    urllib3 = LazyModule("urllib3")

logger = Logger(service="module-voice", child=True)

DEFAULT_API_URL = "https://api.daily.co/v1"
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
MAX_RETRY_AFTER_SECONDS = 2.0  # a start request is synchronous: never sleep longer than this per retry


class DailyError(BadGatewayError):
    """Daily could not do what we asked (down, rate limited after retries, or refused the request)."""

    code = "DAILY_UNAVAILABLE"


@dataclass(frozen=True, slots=True)
class DailyRoom:
    name: str
    url: str
    expires_at: int | None = None


class CallStats:
    """Time spent waiting for Daily (all attempts and backoff sleeps), per process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.seconds = 0.0
        self.calls = 0

    def add(self, seconds: float) -> None:
        with self._lock:
            self.seconds += seconds
            self.calls += 1

    def reset(self) -> None:
        with self._lock:
            self.seconds, self.calls = 0.0, 0


stats = CallStats()

_pool: urllib3.PoolManager | None = None
_pool_lock = threading.Lock()
_local = threading.local()  # ``quiet``: a call inside a parallel block whose wall time is counted once
_executor: ThreadPoolExecutor | None = None


def _http() -> urllib3.PoolManager:
    """One pool manager per warm container: keep-alive to Daily across invocations."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = urllib3.PoolManager(num_pools=2, maxsize=4, retries=False)
        return _pool


def _env_float(name: str, default: float) -> float:
    try:
        return float(os.environ.get(name, default))
    except ValueError:
        return default


def api_url() -> str:
    return (os.environ.get("DAILY_API_URL") or DEFAULT_API_URL).rstrip("/")


class DailyClient:
    """A thin client for the four Daily endpoints module-voice uses."""

    def __init__(
        self,
        api_key: str,
        *,
        base_url: str | None = None,
        max_attempts: int | None = None,
        backoff_seconds: float | None = None,
        connect_timeout: float | None = None,
        read_timeout: float | None = None,
        budget_seconds: float | None = None,
    ) -> None:
        """``budget_seconds`` bounds all calls of this client together (retries stop when it is spent),
        so a slow Daily cannot push a start request past API Gateway's 29 s limit."""
        self._key = api_key
        self.base_url = (base_url or api_url()).rstrip("/")
        self.max_attempts = max(1, max_attempts or int(_env_float("DAILY_MAX_ATTEMPTS", 3)))
        self.backoff = (
            backoff_seconds if backoff_seconds is not None else _env_float("DAILY_BACKOFF_SECONDS", 0.25)
        )
        self.timeout = urllib3.Timeout(
            connect=connect_timeout or _env_float("DAILY_CONNECT_TIMEOUT", 2.0),
            read=read_timeout or _env_float("DAILY_READ_TIMEOUT", 5.0),
        )
        budget = budget_seconds if budget_seconds is not None else _env_float("DAILY_BUDGET_SECONDS", 20.0)
        self.deadline = time.monotonic() + budget

    # ------------------------------------------------------------------ endpoints

    def create_room(
        self, name: str, *, expires_at: int, max_participants: int = 2, reuse_existing: bool = True
    ) -> DailyRoom:
        """A private, audio-only room for one candidate and one bot, expiring at ``expires_at`` (unix s).

        ``reuse_existing``: a room of that name left by an earlier, failed attempt (or created by an
        attempt whose response was lost before a retry) is fetched and reused, so retries stay idempotent.
        """
        body = {
            "name": name,
            "privacy": "private",
            "properties": {
                "exp": expires_at,
                "max_participants": max_participants,
                "eject_at_room_exp": True,
                "enable_chat": False,
                "enable_screenshare": False,
                "enable_prejoin_ui": False,
                "start_audio_off": False,
                "start_video_off": True,
            },
        }
        status, data = self._request("POST", "/rooms", body, accept=(400,))
        if status == 400:
            if reuse_existing and "already exists" in str(data.get("info", "")):
                existing = self.get_room(name)
                if existing is not None:
                    return existing
            raise DailyError(
                "Daily refused to create the interview room",
                code="DAILY_REQUEST_REJECTED",
                details={"dailyError": data.get("error")},
            )
        return _room(data)

    def get_room(self, name: str) -> DailyRoom | None:
        status, data = self._request("GET", f"/rooms/{name}", None, accept=(404,))
        return None if status == 404 else _room(data)

    def delete_room(self, name: str) -> bool:
        """Delete a room; False when it was already gone (idempotent)."""
        status, _ = self._request("DELETE", f"/rooms/{name}", None, accept=(404,))
        return status != 404

    def create_meeting_tokens(
        self, room_name: str, participants: list[tuple[bool, str]], *, expires_at: int
    ) -> list[str]:
        """Tokens for several participants ``(is_owner, user_name)`` at once: the requests run in
        parallel, so a start waits for one Daily round trip instead of one per participant."""
        global _executor
        with _pool_lock:
            if _executor is None:
                _executor = ThreadPoolExecutor(4, thread_name_prefix="daily")
        started = time.perf_counter()

        def one(owner: bool, name: str) -> str:
            _local.quiet = True
            try:
                return self.create_meeting_token(
                    room_name, is_owner=owner, user_name=name, expires_at=expires_at
                )
            finally:
                _local.quiet = False

        try:
            futures = [_executor.submit(one, owner, name) for owner, name in participants]
            return [f.result() for f in futures]
        finally:
            stats.add(time.perf_counter() - started)

    def create_meeting_token(self, room_name: str, *, is_owner: bool, user_name: str, expires_at: int) -> str:
        """A meeting token for one participant of ``room_name`` (the bot is the owner)."""
        body = {
            "properties": {
                "room_name": room_name,
                "is_owner": is_owner,
                "user_name": user_name,
                "exp": expires_at,
                "start_video_off": True,
                "enable_screenshare": False,
            }
        }
        _, data = self._request("POST", "/meeting-tokens", body)
        token = data.get("token")
        if not isinstance(token, str) or not token:
            raise DailyError("Daily returned no meeting token", code="DAILY_BAD_RESPONSE")
        return token

    # ------------------------------------------------------------------ transport

    def _delay(self, attempt: int, retry_after: str | None) -> float:
        if retry_after is not None:
            try:
                return min(max(float(retry_after), 0.0), MAX_RETRY_AFTER_SECONDS)
            except ValueError:
                pass  # an HTTP date: use our own backoff
        jitter = 1 + random.random() / 4  # noqa: S311 - jitter, not cryptography
        return min(self.backoff * 2 ** (attempt - 1) * jitter, MAX_RETRY_AFTER_SECONDS)

    def _sleep(self, seconds: float) -> bool:
        """Back off before the next attempt; False (no sleep) when that would leave no time for it."""
        if time.monotonic() + seconds + 0.5 > self.deadline:
            return False
        time.sleep(seconds)
        return True

    def _timeout(self) -> urllib3.Timeout:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise DailyError("Daily did not answer in time; the session is still pending, try again")
        connect = min(float(self.timeout.connect_timeout or 2.0), left)  # type: ignore[arg-type]
        read = min(float(self.timeout.read_timeout or 5.0), left)
        return urllib3.Timeout(connect=connect, read=read)

    def _request(
        self, method: str, path: str, body: dict[str, Any] | None, *, accept: tuple[int, ...] = ()
    ) -> tuple[int, dict[str, Any]]:
        """(status, JSON body) of a 2xx or an ``accept``-ed status; retries, then ``DailyError``."""
        headers = {"Authorization": f"Bearer {self._key}", "Accept": "application/json"}
        payload = None
        if body is not None:
            headers["Content-Type"] = "application/json"
            payload = json.dumps(body).encode()
        url = self.base_url + path
        started = time.perf_counter()
        last: str = "no answer"
        attempt = 0
        try:
            for attempt in range(1, self.max_attempts + 1):
                try:
                    resp = _http().request(
                        method,
                        url,
                        body=payload,
                        headers=headers,
                        timeout=self._timeout(),  # never past the budget's deadline
                        redirect=False,
                        retries=False,
                    )
                except urllib3.exceptions.HTTPError as exc:  # refused, DNS, TLS, timeouts, resets
                    last = type(exc).__name__
                    logger.warning(
                        "daily unreachable", extra={"path": _route(path), "attempt": attempt, "error": last}
                    )
                    if attempt < self.max_attempts and not self._sleep(self._delay(attempt, None)):
                        break
                    continue
                status = resp.status
                if 200 <= status < 300 or status in accept:
                    return status, _json(resp.data)
                last = f"HTTP {status}"
                logger.warning(
                    "daily error", extra={"path": _route(path), "status": status, "attempt": attempt}
                )
                if status in (401, 403):
                    raise DailyError(
                        "Daily rejected the API key; check the organization's Daily credential",
                        code="DAILY_AUTH_FAILED",
                    )
                if status not in RETRY_STATUSES:
                    raise DailyError(
                        f"Daily refused the request (HTTP {status})",
                        code="DAILY_REQUEST_REJECTED",
                        details={"dailyError": _json(resp.data).get("error"), "providerStatus": status},
                    )
                if attempt < self.max_attempts and not self._sleep(
                    self._delay(attempt, resp.headers.get("Retry-After"))
                ):
                    break
        finally:
            if not getattr(_local, "quiet", False):
                stats.add(time.perf_counter() - started)
        raise DailyError(
            f"Daily is unavailable ({last} after {attempt} attempt(s)); the session is still pending, "
            "try starting it again",
            details={"attempts": attempt},
        )


def _route(path: str) -> str:
    # Log the endpoint, not the room name (it embeds the session id, which is fine, but keep logs uniform).
    return "/" + path.strip("/").split("/")[0]


def _json(raw: bytes) -> dict[str, Any]:
    try:
        value = json.loads(raw or b"{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _room(data: dict[str, Any]) -> DailyRoom:
    name, url = data.get("name"), data.get("url")
    if not isinstance(name, str) or not isinstance(url, str):
        raise DailyError("Daily returned an unexpected room", code="DAILY_BAD_RESPONSE")
    config = data.get("config") if isinstance(data.get("config"), dict) else {}
    exp = (config or {}).get("exp")
    return DailyRoom(name=name, url=url, expires_at=int(exp) if isinstance(exp, int | float) else None)


def client_for_org(org_id: Any) -> DailyClient:
    """A client authenticated with the org's Daily key (org credential, else the platform default)."""
    from voice_common.credentials import get_api_key

    key = get_api_key(org_id, "daily")
    if not key:
        raise DailyError("No Daily API key is configured", code="DAILY_NOT_CONFIGURED")
    return DailyClient(key)
