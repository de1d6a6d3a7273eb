"""Which OpenAI-compatible endpoints to call, in order, and with which key.

Sources, highest priority first:

1. the organization's AI settings (``org_settings``: the secret ``{AI_ORG_SECRET_PREFIX}{org_id}`` with
   key and optional base URL, model, context size), merged over
2. the platform default from the environment: ``OPENAI_BASE_URL``, ``OPENAI_MODEL`` and the key from
   Secrets Manager (``OPENAI_API_KEY_SECRET_ARN``; the local stack may set ``OPENAI_API_KEY`` directly);
3. then the ordered fallbacks of ``AI_FALLBACK_PROVIDERS`` (JSON list of
   ``{"name", "baseUrl", "model", "apiKeySecretArn" | "apiKeyEnv", "contextTokens"}``).

An endpoint counts as configured when it has a key or an explicit base URL (a local server may need no
key). With nothing configured the chain is empty and callers report the work as skipped.

Tuning (env): ``AI_TIMEOUT_SECONDS`` (read timeout per request, 60), ``AI_CONNECT_TIMEOUT_SECONDS`` (5),
``AI_MAX_RETRIES`` (2), ``AI_BACKOFF_BASE_SECONDS`` (0.5), ``AI_MAX_RETRY_AFTER_SECONDS`` (30),
``AI_CONTEXT_TOKENS`` (16384: the smallest context window of the configured models).
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

DEFAULT_BASE_URL = "https://api.openai.com/v1"
DEFAULT_MODEL = "gpt-4o-mini"
DEFAULT_CONTEXT_TOKENS = 16384
_SECRET_TTL_SECONDS = 300.0


@dataclass(frozen=True)
class ProviderConfig:
    """One OpenAI-compatible endpoint + model. The key is excluded from repr so it never reaches a log."""

    name: str
    base_url: str
    model: str
    api_key: str | None = field(default=None, repr=False)
    timeout_seconds: float = 60.0
    connect_timeout_seconds: float = 5.0
    max_retries: int = 2
    backoff_base_seconds: float = 0.5
    max_retry_after_seconds: float = 30.0
    context_tokens: int = DEFAULT_CONTEXT_TOKENS

    @property
    def key(self) -> str:
        """Identity for the circuit breaker: endpoint and model (not the secret)."""
        return f"{self.base_url.rstrip('/')}#{self.model}"


@dataclass(frozen=True)
class OrgAISettings:
    """An organization's override of the platform default (any field may be missing)."""

    base_url: str | None = None
    model: str | None = None
    api_key_secret_arn: str | None = None
    context_tokens: int | None = None


_secret_lock = threading.Lock()
_secret_cache: dict[str, tuple[float, dict[str, Any] | None]] = {}
_KEY_FIELDS = ("api_key", "apiKey", "key", "value", "token")


def read_secret(secret_id: str, *, missing_ok: bool = False) -> dict[str, Any] | None:
    """A provider secret as ``{"api_key", "base_url"?, "model"?, "context_tokens"?}``.

    The secret is the bare key or JSON with one of ``api_key``/``apiKey``/``key``/``value``/``token``
    (the same format the interview bot reads) and optional ``base_url``/``model``/``context_tokens``.
    Cached for five minutes per warm container, so a rotation is picked up without a redeploy;
    ``missing_ok`` turns a missing secret into None (also cached).
    """
    now = time.monotonic()
    with _secret_lock:
        hit = _secret_cache.get(secret_id)
        if hit and now - hit[0] < _SECRET_TTL_SECONDS:
            return hit[1]
    from access_common.aws import client

    sm = client("secretsmanager")
    try:
        raw = str(sm.get_secret_value(SecretId=secret_id)["SecretString"]).strip()
    except sm.exceptions.ResourceNotFoundException:
        if not missing_ok:
            raise
        value = None
    else:
        doc: dict[str, Any] = json.loads(raw) if raw.startswith("{") else {"api_key": raw}
        key = next((str(doc[f]) for f in _KEY_FIELDS if doc.get(f)), None)
        ctx = doc.get("context_tokens") or doc.get("contextTokens")
        value = {
            "api_key": key,
            "base_url": doc.get("base_url") or doc.get("baseUrl"),
            "model": doc.get("model"),
            "context_tokens": int(ctx) if ctx else None,
        }
    with _secret_lock:
        _secret_cache[secret_id] = (now, value)
    return value


def secret_api_key(secret_id: str) -> str | None:
    doc = read_secret(secret_id)
    return doc.get("api_key") if doc else None


def clear_secret_cache() -> None:
    with _secret_lock:
        _secret_cache.clear()


def org_settings(org_id: str, env: Mapping[str, str] | None = None) -> OrgAISettings | None:
    """The organization's AI settings: the secret ``{AI_ORG_SECRET_PREFIX}{org_id}`` when it exists.

    This is the seam module-ai (or an operator) fills: a per-org secret holding the org's key and
    optionally its base URL, model and context size. Without the prefix setting there are no overrides.
    """
    env = os.environ if env is None else env
    prefix = env.get("AI_ORG_SECRET_PREFIX") or ""
    if not prefix:
        return None
    secret_id = f"{prefix}{org_id}"
    doc = read_secret(secret_id, missing_ok=True)
    if not doc:
        return None
    return OrgAISettings(
        base_url=doc.get("base_url"),
        model=doc.get("model"),
        api_key_secret_arn=secret_id,
        context_tokens=doc.get("context_tokens"),
    )


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    return float(raw) if raw not in (None, "") else default


def _tuning(env: Mapping[str, str]) -> dict[str, Any]:
    return {
        "timeout_seconds": _float(env, "AI_TIMEOUT_SECONDS", 60.0),
        "connect_timeout_seconds": _float(env, "AI_CONNECT_TIMEOUT_SECONDS", 5.0),
        "max_retries": int(_float(env, "AI_MAX_RETRIES", 2)),
        "backoff_base_seconds": _float(env, "AI_BACKOFF_BASE_SECONDS", 0.5),
        "max_retry_after_seconds": _float(env, "AI_MAX_RETRY_AFTER_SECONDS", 30.0),
        "context_tokens": int(_float(env, "AI_CONTEXT_TOKENS", DEFAULT_CONTEXT_TOKENS)),
    }


def platform_default(env: Mapping[str, str] | None = None) -> ProviderConfig | None:
    """The platform's endpoint from the environment, or None when none is configured."""
    env = os.environ if env is None else env
    arn = env.get("OPENAI_API_KEY_SECRET_ARN") or ""
    secret = read_secret(arn) if arn else None
    key = (secret or {}).get("api_key") or (None if arn else env.get("OPENAI_API_KEY")) or None
    base_url = env.get("OPENAI_BASE_URL") or (secret or {}).get("base_url") or ""
    if not key and not base_url:
        return None
    tuning = _tuning(env)
    if (secret or {}).get("context_tokens"):
        tuning["context_tokens"] = int(secret["context_tokens"])  # type: ignore[index]
    return ProviderConfig(
        name="platform",
        base_url=base_url or DEFAULT_BASE_URL,
        model=env.get("OPENAI_MODEL") or (secret or {}).get("model") or DEFAULT_MODEL,
        api_key=key,
        **tuning,
    )


def fallback_providers(env: Mapping[str, str] | None = None) -> list[ProviderConfig]:
    """The ordered fallbacks of ``AI_FALLBACK_PROVIDERS`` (invalid JSON is a configuration error)."""
    env = os.environ if env is None else env
    raw = env.get("AI_FALLBACK_PROVIDERS") or ""
    if not raw.strip():
        return []
    items = json.loads(raw)
    if not isinstance(items, list):
        raise ValueError("AI_FALLBACK_PROVIDERS must be a JSON list")
    tuning = _tuning(env)
    out: list[ProviderConfig] = []
    for i, item in enumerate(items):
        arn = item.get("apiKeySecretArn") or item.get("api_key_secret_arn")
        key_env = item.get("apiKeyEnv") or item.get("api_key_env")
        key = secret_api_key(arn) if arn else (env.get(key_env) if key_env else None)
        ctx = item.get("contextTokens") or item.get("context_tokens")
        out.append(
            ProviderConfig(
                name=str(item.get("name") or f"fallback-{i + 1}"),
                base_url=str(item.get("baseUrl") or item.get("base_url") or DEFAULT_BASE_URL),
                model=str(item.get("model") or env.get("OPENAI_MODEL") or DEFAULT_MODEL),
                api_key=key or None,
                **{**tuning, **({"context_tokens": int(ctx)} if ctx else {})},
            )
        )
    return out


def resolve_providers(
    org: OrgAISettings | None = None, env: Mapping[str, str] | None = None
) -> list[ProviderConfig]:
    """The ordered chain to call: the org's endpoint (over the platform default), then the fallbacks.

    An org override with its own key replaces the platform default instead of preceding it, so an
    organization that brought its own key is never silently billed to the platform key.
    """
    env = os.environ if env is None else env
    primary = platform_default(env)
    if org is not None and (org.api_key_secret_arn or org.base_url or org.model):
        org_key = secret_api_key(org.api_key_secret_arn) if org.api_key_secret_arn else None
        if org_key or org.base_url or primary is not None:
            base = primary or ProviderConfig(
                name="org", base_url=DEFAULT_BASE_URL, model=DEFAULT_MODEL, **_tuning(env)
            )
            primary = replace(
                base,
                name="org",
                base_url=org.base_url or base.base_url,
                model=org.model or base.model,
                api_key=org_key if org.api_key_secret_arn else base.api_key,
                context_tokens=org.context_tokens or base.context_tokens,
            )
    chain = ([primary] if primary else []) + fallback_providers(env)
    seen: set[tuple[str, str]] = set()
    unique: list[ProviderConfig] = []
    for p in chain:
        if (p.key, p.api_key or "") in seen:
            continue
        seen.add((p.key, p.api_key or ""))
        unique.append(p)
    return unique
