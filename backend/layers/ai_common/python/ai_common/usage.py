"""Usage accounting: every model call leaves a record (tokens, model, latency), summed per job."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class Usage(BaseModel):
    """One successful call to a provider."""

    provider: str
    model: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    latency_ms: int = 0
    attempts: int = 1  # HTTP requests it took, retries included
    purpose: str | None = None

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


class UsageLedger(BaseModel):
    """The calls of one job, in order, with totals (stored as JSON next to the result)."""

    calls: list[Usage] = Field(default_factory=list)

    def add(self, usage: Usage) -> None:
        self.calls.append(usage)

    def extend(self, other: UsageLedger) -> None:
        self.calls.extend(other.calls)

    @property
    def models(self) -> list[str]:
        """Distinct models used, in order of first use."""
        return list(dict.fromkeys(c.model for c in self.calls))

    def summary(self) -> dict[str, Any]:
        return {
            "calls": [c.model_dump(mode="json") for c in self.calls],
            "totals": {
                "calls": len(self.calls),
                "prompt_tokens": sum(c.prompt_tokens for c in self.calls),
                "completion_tokens": sum(c.completion_tokens for c in self.calls),
                "total_tokens": sum(c.total_tokens for c in self.calls),
                "latency_ms": sum(c.latency_ms for c in self.calls),
                "http_requests": sum(c.attempts for c in self.calls),
            },
            "models": self.models,
        }
