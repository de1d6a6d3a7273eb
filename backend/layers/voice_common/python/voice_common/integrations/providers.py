"""Does a provider accept this API key? One cheap authenticated GET per provider.

| service  | request                                   | auth header                                   |
|----------|-------------------------------------------|-----------------------------------------------|
| daily    | GET {DAILY_API_URL}/rooms?limit=1         | ``Authorization: Bearer <key>``               |
| deepgram | GET {DEEPGRAM_API_URL}/projects           | ``Authorization: Token <key>``                |
| cartesia | GET {CARTESIA_API_URL}/voices             | ``X-API-Key: <key>`` + ``Cartesia-Version``   |

2xx means valid and 401/403 means the provider rejected the key: both are answers, not errors.
429 and 5xx are retried a bounded number of times (honouring a short ``Retry-After``); what is still
failing after that, and a provider that cannot be reached, is a ``BadGatewayError`` (502). Redirects
are not followed, so a key is only ever sent to the configured host. The key never appears in a log
line, an exception message or a returned reason.
"""

from __future__ import annotations

import os
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from aws_lambda_powertools import Logger

from access_common.errors import BadGatewayError, ValidationError
from access_common.lazy import LazyModule

if TYPE_CHECKING:
    import urllib3
else:  # imported on the first request that calls out: not part of every cold start
    urllib3 = LazyModule("urllib3")

logger = Logger(service="module-voice", child=True)

ServiceName = Literal["daily", "deepgram", "cartesia"]
SERVICES: tuple[ServiceName, ...] = ("daily", "deepgram", "cartesia")

DEFAULT_ATTEMPTS = 3
DEFAULT_BACKOFF_SECONDS = 0.25
MAX_RETRY_AFTER_SECONDS = 2.0  # a longer Retry-After is not worth holding a synchronous API call for
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
CARTESIA_DEFAULT_VERSION = "2024-11-13"


@dataclass(frozen=True, slots=True)
class Probe:
    """How to ask one provider whether a key is valid."""

    label: str
    url_env: str
    default_url: str
    path: str
    headers: Callable[[str], dict[str, str]]

    def url(self) -> str:
        base = (os.environ.get(self.url_env) or self.default_url).rstrip("/")
        return base + self.path


PROBES: dict[str, Probe] = {
    "daily": Probe(
        "Daily",
        "DAILY_API_URL",
        "https://api.daily.co/v1",
        "/rooms?limit=1",
        lambda key: {"Authorization": f"Bearer {key}"},
    ),
    "deepgram": Probe(
        "Deepgram",
        "DEEPGRAM_API_URL",
        "https://api.deepgram.com/v1",
        "/projects",
        lambda key: {"Authorization": f"Token {key}"},
    ),
    "cartesia": Probe(
        "Cartesia",
        "CARTESIA_API_URL",
        "https://api.cartesia.ai",
        "/voices",
        lambda key: {
            "X-API-Key": key,
            "Cartesia-Version": os.environ.get("CARTESIA_API_VERSION", CARTESIA_DEFAULT_VERSION),
        },
    ),
}


@dataclass(frozen=True, slots=True)
class KeyCheck:
    """The provider's verdict on a key: ``valid``, or not with a human-readable ``reason``."""

    valid: bool
    reason: str | None
    http_status: int


_pool: urllib3.PoolManager | None = None
_pool_lock = threading.Lock()


def _http() -> urllib3.PoolManager:
    """One pool manager per warm container (keep-alive to the providers across invocations)."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = urllib3.PoolManager(num_pools=4, maxsize=2, retries=False)
        return _pool


def _env_float(name: str, default: float) -> float:
    try:
        return float(os.environ.get(name, default))
    except ValueError:
        return default


def _delay(attempt: int, retry_after: str | None) -> float:
    """Seconds to wait before attempt ``attempt + 1``: Retry-After when given (capped), else backoff."""
    if retry_after is not None:
        try:
            return min(max(float(retry_after), 0.0), MAX_RETRY_AFTER_SECONDS)
        except ValueError:
            pass  # an HTTP date: fall back to our own backoff
    base = _env_float("PROVIDER_RETRY_BACKOFF_SECONDS", DEFAULT_BACKOFF_SECONDS)
    return min(base * 2 ** (attempt - 1) * (1 + random.random() / 4), MAX_RETRY_AFTER_SECONDS)  # noqa: S311


def check_api_key(service: str, api_key: str) -> KeyCheck:
    """Ask ``service`` whether it accepts ``api_key``; raises ``BadGatewayError`` when it cannot tell."""
    probe = PROBES.get(service)
    if probe is None:
        raise ValidationError(f"Unknown service {service!r}; valid services: {', '.join(SERVICES)}")
    attempts = max(1, int(_env_float("PROVIDER_MAX_ATTEMPTS", DEFAULT_ATTEMPTS)))
    timeout = urllib3.Timeout(
        connect=_env_float("PROVIDER_CONNECT_TIMEOUT", 3.0), read=_env_float("PROVIDER_READ_TIMEOUT", 5.0)
    )
    headers = {
        "Accept": "application/json",
        "User-Agent": "module-voice/credential-check",
        **probe.headers(api_key),
    }
    url = probe.url()
    started = time.monotonic()
    for attempt in range(1, attempts + 1):
        try:
            resp = _http().request(
                "GET", url, headers=headers, timeout=timeout, redirect=False, retries=False
            )
        except urllib3.exceptions.HTTPError as exc:  # refused, DNS, TLS, timeouts, dropped connections
            logger.warning(
                "provider unreachable",
                extra={"provider": service, "attempt": attempt, "error": type(exc).__name__},
            )
            if attempt < attempts:
                time.sleep(_delay(attempt, None))
                continue
            raise BadGatewayError(
                f"{probe.label} could not be reached to validate the key; try again later",
                code="PROVIDER_UNREACHABLE",
                details={"service": service},
            ) from None
        status = resp.status
        logger.info(
            "provider key check",
            extra={
                "provider": service,
                "status": status,
                "attempt": attempt,
                "elapsed_ms": int((time.monotonic() - started) * 1000),
            },
        )
        if 200 <= status < 300:
            return KeyCheck(valid=True, reason=None, http_status=status)
        if status in (401, 403):
            return KeyCheck(
                valid=False, reason=f"{probe.label} rejected the API key (HTTP {status})", http_status=status
            )
        if status in RETRY_STATUSES and attempt < attempts:
            time.sleep(_delay(attempt, resp.headers.get("Retry-After")))
            continue
        if status == 429:
            raise BadGatewayError(
                f"{probe.label} is rate limiting requests; try the validation again later",
                code="PROVIDER_RATE_LIMITED",
                details={"service": service, "providerStatus": status},
            )
        raise BadGatewayError(
            f"{probe.label} answered HTTP {status}; the key could not be validated",
            code="PROVIDER_ERROR",
            details={"service": service, "providerStatus": status},
        )
    raise AssertionError("unreachable")  # pragma: no cover - the loop always returns or raises
