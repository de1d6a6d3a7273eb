"""Errors of the LLM layer. None of them carries prompt or response text (it may hold candidate data)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class LLMError(Exception):
    """Base class. ``retryable`` tells a job runner whether trying again later may succeed."""

    retryable: bool = False


class ProviderError(LLMError):
    """One provider failed a call (after its own retries)."""

    def __init__(self, provider: str, reason: str, *, retryable: bool, status: int | None = None) -> None:
        super().__init__(f"{provider}: {reason}")
        self.provider = provider
        self.reason = reason
        self.retryable = retryable
        self.status = status

    @property
    def counts_against_provider(self) -> bool:
        """Whether the circuit breaker should count it: outages and bad credentials, not bad requests."""
        return self.retryable or self.status in (401, 403, 404)


@dataclass(frozen=True)
class Attempted:
    provider: str
    reason: str


class AllProvidersFailedError(LLMError):
    """Every provider of the chain failed or was skipped (open circuit)."""

    def __init__(self, attempts: list[Attempted], *, retryable: bool) -> None:
        summary = "; ".join(f"{a.provider}: {a.reason}" for a in attempts) or "no provider configured"
        super().__init__(f"all LLM providers failed ({summary})")
        self.attempts = attempts
        self.retryable = retryable


class StructuredOutputError(LLMError):
    """The model's answer did not validate, even after the repair round. Not retryable as such."""

    def __init__(self, problems: list[str], usage: Any = None) -> None:
        super().__init__("model output invalid after repair: " + "; ".join(problems[:5]))
        self.problems = problems
        self.usage = usage  # the UsageLedger of the failed calls (they were paid for)


class NotConfiguredError(LLMError):
    """No LLM endpoint is configured (analytics are skipped, visibly)."""
