"""Provider API keys, fetched from AWS Secrets Manager by ARN with the task role.

The payload carries only ARNs (`secretArns`: {"deepgram": arn, "cartesia": arn, "openai": arn}). A secret
is either the bare key, or JSON with one of `api_key` / `apiKey` / `key` / `value` (and optionally
`base_url` for an OpenAI-compatible endpoint). Keys are never read from plain environment variables and
never logged.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass, field
from typing import Any

from voice_bot.config import ConfigError

log = logging.getLogger("voice_bot.secrets")

_KEY_FIELDS = ("api_key", "apiKey", "key", "value", "token")


@dataclass(frozen=True)
class ProviderSecret:
    api_key: str
    extra: dict[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:  # never print the key
        return f"ProviderSecret(api_key='***', extra_keys={sorted(self.extra)})"


def parse_secret(secret_string: str) -> ProviderSecret:
    text = secret_string.strip()
    if text.startswith("{"):
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise ConfigError("provider secret is not valid JSON") from exc
        for name in _KEY_FIELDS:
            value = data.get(name)
            if isinstance(value, str) and value:
                extra = {k: v for k, v in data.items() if k not in _KEY_FIELDS}
                return ProviderSecret(value, extra)
        raise ConfigError(f"provider secret JSON has none of the fields {', '.join(_KEY_FIELDS)}")
    if not text:
        raise ConfigError("provider secret is empty")
    return ProviderSecret(text)


def _region_from_arn(arn: str) -> str | None:
    parts = arn.split(":")
    return parts[3] if len(parts) > 4 and parts[0] == "arn" and parts[3] else None


class SecretResolver:
    """Resolves `secretArns` entries to provider secrets (cached per process, fetched in a thread)."""

    def __init__(self, secret_arns: dict[str, str], client: Any = None) -> None:
        self._arns = dict(secret_arns)
        self._client = client
        self._cache: dict[str, ProviderSecret] = {}

    def _get_client(self, arn: str) -> Any:
        if self._client is None:
            import boto3  # lazy: only when a provider that needs a key is configured

            self._client = boto3.client("secretsmanager", region_name=_region_from_arn(arn))
        return self._client

    def _fetch(self, arn: str) -> str:
        response = self._get_client(arn).get_secret_value(SecretId=arn)
        value = response.get("SecretString")
        if value is None:
            binary = response.get("SecretBinary")
            value = binary.decode("utf-8") if isinstance(binary, bytes | bytearray) else ""
        return str(value)

    async def get(self, provider: str) -> ProviderSecret:
        if provider in self._cache:
            return self._cache[provider]
        arn = self._arns.get(provider)
        if not arn:
            raise ConfigError(f"no secret ARN for provider {provider!r} in the payload's secretArns")
        try:
            raw = await asyncio.to_thread(self._fetch, arn)
        except ConfigError:
            raise
        except Exception as exc:  # botocore ClientError, credentials, network
            raise ConfigError(f"cannot read the {provider} secret: {type(exc).__name__}") from exc
        secret = parse_secret(raw)
        self._cache[provider] = secret
        log.info("loaded %s provider secret", provider)
        return secret
