"""OpenAI-compatible chat completions over urllib3, with retries, a circuit breaker and fallbacks.

- ``OpenAICompatibleProvider.chat`` makes one logical call: bounded retries with exponential backoff
  and jitter on 408/429/5xx, timeouts and connection errors, honouring ``Retry-After`` (a wait longer
  than ``max_retry_after_seconds`` is not slept: the provider gives up so the chain can fall back).
- ``CircuitBreaker`` opens after ``AI_CIRCUIT_FAILURE_THRESHOLD`` consecutive failed calls (default 3)
  and lets one trial call through after ``AI_CIRCUIT_COOLDOWN_SECONDS`` (default 60). Breakers live per
  warm container, keyed by endpoint + model, so a dead endpoint stops costing every job a timeout.
- ``ProviderChain.chat`` tries the providers in order, skipping open circuits.

Nothing here logs prompt or completion text; only provider names, status codes, attempts and latency.
"""

from __future__ import annotations

import email.utils
import json
import os
import random
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import urllib3
from aws_lambda_powertools import Logger

from ai_common.config import ProviderConfig
from ai_common.errors import AllProvidersFailedError, Attempted, NotConfiguredError, ProviderError
from ai_common.usage import Usage

logger = Logger(service=os.environ.get("POWERTOOLS_SERVICE_NAME", "module-voice"), child=True)

Message = Mapping[str, str]
RETRYABLE_STATUS = frozenset({408, 409, 425, 429, 500, 502, 503, 504})

_pool_lock = threading.Lock()
_pool: urllib3.PoolManager | None = None


def _http() -> urllib3.PoolManager:
    """One connection pool per warm container (keep-alive to the provider across jobs)."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = urllib3.PoolManager(num_pools=8, maxsize=4, retries=False)
        return _pool


@dataclass(frozen=True)
class ChatResult:
    content: str
    finish_reason: str | None
    usage: Usage


def parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


class OpenAICompatibleProvider:
    """``POST {base_url}/chat/completions`` of one endpoint and model."""

    def __init__(self, config: ProviderConfig) -> None:
        self.config = config

    @property
    def name(self) -> str:
        return self.config.name

    def _backoff(self, attempt: int) -> float:
        base = self.config.backoff_base_seconds * (2**attempt)
        return base * (0.5 + random.random() / 2)  # noqa: S311 - jitter, not security

    def chat(
        self,
        messages: Sequence[Message],
        *,
        json_mode: bool = False,
        temperature: float = 0.2,
        max_tokens: int | None = None,
        deadline: float | None = None,
        purpose: str | None = None,
    ) -> ChatResult:
        """One chat completion; ``deadline`` (``time.monotonic()``) bounds retries and timeouts."""
        cfg = self.config
        body: dict[str, Any] = {"model": cfg.model, "messages": list(messages), "temperature": temperature}
        if max_tokens:
            body["max_tokens"] = max_tokens
        if json_mode:
            body["response_format"] = {"type": "json_object"}
        payload = json.dumps(body).encode()
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if cfg.api_key:
            headers["Authorization"] = f"Bearer {cfg.api_key}"
        url = cfg.base_url.rstrip("/") + "/chat/completions"
        started = time.monotonic()
        last = ProviderError(cfg.name, "not attempted", retryable=True)
        for attempt in range(cfg.max_retries + 1):
            read_timeout = cfg.timeout_seconds
            if deadline is not None:
                left = deadline - time.monotonic()
                if left <= 0.05:
                    raise ProviderError(cfg.name, f"deadline reached ({last.reason})", retryable=True)
                read_timeout = min(read_timeout, left)
            retry_after: float | None = None
            try:
                resp = _http().request(
                    "POST",
                    url,
                    body=payload,
                    headers=headers,
                    timeout=urllib3.Timeout(
                        connect=min(cfg.connect_timeout_seconds, read_timeout), read=read_timeout
                    ),
                    redirect=False,
                )
            except (urllib3.exceptions.TimeoutError, TimeoutError):
                last = ProviderError(cfg.name, "timeout", retryable=True)
            except urllib3.exceptions.HTTPError as exc:  # connection refused/reset, protocol errors
                last = ProviderError(cfg.name, f"connection error ({type(exc).__name__})", retryable=True)
            else:
                if resp.status == 200:
                    return self._result(resp.data, started, attempt + 1, purpose)
                retryable = resp.status in RETRYABLE_STATUS or resp.status >= 500
                last = ProviderError(cfg.name, f"HTTP {resp.status}", retryable=retryable, status=resp.status)
                if not retryable:
                    raise last
                retry_after = parse_retry_after(resp.headers.get("Retry-After"))
            if attempt == cfg.max_retries:
                break
            wait = retry_after if retry_after is not None else self._backoff(attempt)
            if retry_after is not None and retry_after > cfg.max_retry_after_seconds:
                last = ProviderError(
                    cfg.name,
                    f"{last.reason}, Retry-After {retry_after:.0f}s too long",
                    retryable=True,
                    status=last.status,
                )
                break
            if deadline is not None and time.monotonic() + wait >= deadline:
                break
            logger.info(
                "llm retry",
                extra={
                    "provider": cfg.name,
                    "reason": last.reason,
                    "attempt": attempt + 1,
                    "wait_s": round(wait, 2),
                },
            )
            time.sleep(wait)
        raise last

    def _result(self, data: bytes, started: float, attempts: int, purpose: str | None) -> ChatResult:
        cfg = self.config
        try:
            doc = json.loads(data)
            choice = doc["choices"][0]
            content = choice["message"].get("content") or ""
        except (ValueError, KeyError, IndexError, TypeError, AttributeError):
            raise ProviderError(cfg.name, "response is not a chat completion", retryable=True) from None
        usage = doc.get("usage") or {}
        return ChatResult(
            content=str(content),
            finish_reason=choice.get("finish_reason"),
            usage=Usage(
                provider=cfg.name,
                model=str(doc.get("model") or cfg.model),
                prompt_tokens=int(usage.get("prompt_tokens") or 0),
                completion_tokens=int(usage.get("completion_tokens") or 0),
                latency_ms=int((time.monotonic() - started) * 1000),
                attempts=attempts,
                purpose=purpose,
            ),
        )


@dataclass
class CircuitBreaker:
    """Consecutive-failure breaker: closed -> open (after ``threshold``) -> half-open (after ``cooldown``).

    Half-open lets one trial call through at a time: the jobs waiting for a recovering provider do not all
    hit it at once. The trial's outcome closes (success) or re-opens (failure) the breaker; a trial that
    never reports back is replaced by another after a further cool-down.
    """

    threshold: int = 3
    cooldown_seconds: float = 60.0
    failures: int = 0
    opened_at: float | None = None
    trial_started: float | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def state(self) -> str:
        if self.opened_at is None:
            return "closed"
        return "half-open" if time.monotonic() - self.opened_at >= self.cooldown_seconds else "open"

    def allow(self) -> bool:
        """Whether this call may go to the provider (closed: always; open: never; half-open: the trial)."""
        with self._lock:
            if self.opened_at is None:
                return True
            now = time.monotonic()
            if now - self.opened_at < self.cooldown_seconds:
                return False
            if self.trial_started is not None and now - self.trial_started < self.cooldown_seconds:
                return False  # another caller's trial is in flight
            self.trial_started = now
            return True

    def release(self) -> None:
        """End a call that says nothing about the provider's health (e.g. our own request was refused)."""
        with self._lock:
            self.trial_started = None

    def record_success(self) -> None:
        with self._lock:
            self.failures = 0
            self.opened_at = None
            self.trial_started = None

    def record_failure(self) -> None:
        with self._lock:
            self.failures += 1
            self.trial_started = None
            if self.failures >= self.threshold or self.opened_at is not None:
                self.opened_at = time.monotonic()


_breakers_lock = threading.Lock()
_breakers: dict[str, CircuitBreaker] = {}


def breaker_for(key: str) -> CircuitBreaker:
    with _breakers_lock:
        breaker = _breakers.get(key)
        if breaker is None:
            breaker = CircuitBreaker(
                threshold=int(os.environ.get("AI_CIRCUIT_FAILURE_THRESHOLD", "3")),
                cooldown_seconds=float(os.environ.get("AI_CIRCUIT_COOLDOWN_SECONDS", "60")),
            )
            _breakers[key] = breaker
        return breaker


def reset_breakers() -> None:
    """Forget every breaker (tests)."""
    with _breakers_lock:
        _breakers.clear()


class ProviderChain:
    """The ordered providers of one job; ``chat`` returns the first success."""

    def __init__(self, configs: Sequence[ProviderConfig]) -> None:
        if not configs:
            raise NotConfiguredError("no LLM provider configured")
        self.providers = [OpenAICompatibleProvider(c) for c in configs]

    @property
    def context_tokens(self) -> int:
        """The smallest context window in the chain: a prompt must fit whichever provider answers."""
        return min(p.config.context_tokens for p in self.providers)

    def chat(
        self,
        messages: Sequence[Message],
        *,
        json_mode: bool = False,
        temperature: float = 0.2,
        max_tokens: int | None = None,
        deadline: float | None = None,
        purpose: str | None = None,
    ) -> ChatResult:
        attempts: list[Attempted] = []
        retryable = False
        for provider in self.providers:
            breaker = breaker_for(provider.config.key)
            if not breaker.allow():
                attempts.append(Attempted(provider.name, "circuit open"))
                retryable = True  # it will close again after the cool-down
                continue
            try:
                result = provider.chat(
                    messages,
                    json_mode=json_mode,
                    temperature=temperature,
                    max_tokens=max_tokens,
                    deadline=deadline,
                    purpose=purpose,
                )
            except BaseException as exc:
                if not isinstance(exc, ProviderError):
                    breaker.release()  # not the provider's doing (e.g. a bug, an interrupt): no verdict
                    raise
                if exc.counts_against_provider:
                    breaker.record_failure()
                else:
                    breaker.release()
                retryable = retryable or exc.retryable
                attempts.append(Attempted(provider.name, exc.reason))
                logger.warning(
                    "llm provider failed",
                    extra={"provider": provider.name, "reason": exc.reason, "circuit": breaker.state},
                )
                continue
            breaker.record_success()
            if attempts:
                logger.info("llm fallback used", extra={"provider": provider.name, "skipped": len(attempts)})
            return result
        raise AllProvidersFailedError(attempts, retryable=retryable)
