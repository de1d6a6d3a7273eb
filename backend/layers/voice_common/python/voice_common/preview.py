"""Voice previews: hear a configuration's voice, speed and greeting before an interview uses them.

``create_preview`` answers ``POST /api/voice/preview`` (docs/api/preview.md):

1. Who may: members of the org (``voice`` + ``orgId``: 403 for anyone else), or whoever can read the
   saved configuration (``configId``: RLS decides, 404 otherwise). One ``user_tx``.
2. What: the provider, voice and speed actually used (clamped like the bot clamps them) and the text,
   normalised (NFC, control characters dropped, whitespace collapsed) so equal requests look equal.
3. Rate limit per org (``preview_rate_limit_per_minute``): a sliding 60-second window kept in DynamoDB,
   updated with a conditional write, so concurrent Lambdas never let more through. Every accepted
   request counts, cache hits included; 429 with ``Retry-After`` beyond it.
4. Cache in S3: ``previews/<orgId>/<sha256 of the normalised request>.wav`` in ``PREVIEW_BUCKET`` (else
   ``TRANSCRIPT_BUCKET``). Identical requests of the same org are served from it without calling the
   provider. The cache is per org: one org's texts (and whether they were previewed) stay its own, and
   Cartesia audio is paid by the org whose key made it. Objects expire through the bucket's lifecycle
   rule on ``previews/``.
5. Answer: a presigned GET URL (``PREVIEW_URL_TTL_SECONDS``, default 300) or the WAV in base64.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import math
import os
import random
import re
import time
import unicodedata
import uuid
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from aws_lambda_powertools import Logger
from aws_lambda_powertools.metrics import MetricUnit
from pydantic import ConfigDict, Field, field_validator, model_validator
from pydantic import ValidationError as PydanticValidationError
from pydantic_core import PydanticCustomError

from access_common import roles
from access_common.aws import client
from access_common.db import user_tx
from access_common.errors import (
    AppError,
    BadRequestError,
    NotFoundError,
    ServiceUnavailableError,
    UnprocessableError,
    ValidationError,
)
from access_common.identity import Principal
from access_common.models import CamelModel, CamelResponse
from voice_common.integrations import tts
from voice_common.integrations.tts import Audio, CredentialError, RetryLaterError
from voice_common.settings import get_settings

logger = Logger(service="module-voice", child=True)

MAX_TEXT_CHARS = 300
# What the bot says when a configuration has no initial_message (voice_bot.config.DEFAULT_GREETING).
STANDARD_GREETING = "Hello! Thank you for joining. I'm your interview assistant today."
PREVIEW_PROVIDERS = ("cartesia", "piper")
CACHE_PREFIX = "previews/"
CACHE_FORMAT_VERSION = 1
DEFAULT_URL_TTL_SECONDS = 300
RATE_WINDOW_SECONDS = 60
RATE_KEY_PREFIX = "voice-preview#rate#"
# Cartesia ids are opaque (UUIDs today): only their shape is checked here; Cartesia says if one exists.
_CARTESIA_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$")


# --- request / response models --------------------------------------------------------------------------


def _provider(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    provider = value.strip().lower()
    if provider not in PREVIEW_PROVIDERS:
        raise PydanticCustomError(
            "unknown_provider",
            "unknown voice provider {provider!r}; previews support: {valid}",
            {"provider": value[:50], "valid": ", ".join(PREVIEW_PROVIDERS)},
        )
    return provider


class PreviewVoice(CamelModel):
    """The voice to hear (the ``voice`` section of a configuration)."""

    model_config = ConfigDict(strict=True, allow_inf_nan=False)

    provider: Literal["cartesia", "piper"] = Field(description="cartesia or piper")
    voice_id: Annotated[str, Field(min_length=1, max_length=200)] | None = Field(
        None, description="Cartesia voice id (required for cartesia); piper: a shipped voice name"
    )
    speed: float = Field(1.0, ge=0.1, le=4.0, description="1.0 = normal; clamped per provider")
    model: Annotated[str, Field(min_length=1, max_length=100)] | None = Field(
        None, description="Cartesia model id (default: the bot's)"
    )

    @field_validator("provider", mode="before")
    @classmethod
    def _known_provider(cls, value: Any) -> Any:
        return _provider(value)


class PreviewRequest(CamelModel):
    """``POST /preview``: a ``voice`` (with ``orgId``) or a saved ``configId``; ``text`` optional."""

    org_id: uuid.UUID | None = Field(None, description="Required with voice; with configId it must match")
    config_id: uuid.UUID | None = Field(None, description="Preview a saved configuration")
    voice: PreviewVoice | None = None
    text: Annotated[str, Field(min_length=1, max_length=MAX_TEXT_CHARS)] | None = Field(
        None, description="At most 300 characters; default: the config's initial_message or a greeting"
    )
    delivery: Literal["url", "base64"] = Field("url", description="audioUrl (presigned) or audioBase64")

    @model_validator(mode="after")
    def _one_target(self) -> PreviewRequest:
        if self.voice is None and self.config_id is None:
            raise ValueError("give voice (with orgId) or configId")
        if self.voice is not None and self.config_id is not None:
            raise ValueError("give either voice or configId, not both")
        if self.voice is not None and self.org_id is None:
            raise ValueError("orgId is required with voice")
        return self


class PreviewResult(CamelResponse):
    audio_url: str | None = Field(description="Presigned GET URL of the WAV (delivery 'url')")
    expires_at: dt.datetime | None = Field(description="When audioUrl stops working")
    audio_base64: str | None = Field(description="The WAV, base64 (delivery 'base64', or no bucket)")
    mime_type: str
    sample_rate: int
    duration_ms: int
    cached: bool = Field(description="Served from the preview cache; the provider was not called")
    provider: str
    voice_id: str
    speed: float = Field(description="The speed used, after the provider's clamping")
    text: str = Field(description="The text spoken (normalised; a long initial_message is shortened)")
    text_truncated: bool


# --- what to synthesize ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Voice:
    """A previewable voice with the values the provider will actually get."""

    provider: str
    voice_id: str
    speed: float
    model: str | None  # cartesia only

    def cache_key(self, org_id: uuid.UUID, text: str) -> str:
        normalized = {
            "v": CACHE_FORMAT_VERSION,
            "provider": self.provider,
            "voice": self.voice_id,
            "model": self.model,
            "speed": self.speed,
            "text": text,
        }
        digest = hashlib.sha256(json.dumps(normalized, sort_keys=True).encode()).hexdigest()
        return f"{CACHE_PREFIX}{org_id}/{digest}.wav"


def resolve_voice(
    provider: str,
    voice_id: str | None,
    speed: float,
    model: str | None,
    *,
    error: type[AppError] = BadRequestError,
    model_path: str | None = None,
) -> Voice:
    """Check a voice against what can be previewed; ``error`` is 400 for a request, 422 for a config."""
    if provider == "piper":
        if model_path:
            raise error(
                "A piper voice loaded from voice.model_path cannot be previewed; previews use the voices "
                "installed with the module",
                code="UNSUPPORTED_VOICE",
            )
        shipped = tts.piper_voices()
        if not shipped:
            raise tts.piper_not_installed()
        name = voice_id or tts.PIPER_DEFAULT_VOICE
        if name not in shipped:
            raise error(
                f"Unknown piper voice {name[:100]!r}; valid voices: {', '.join(shipped)}",
                code="UNKNOWN_VOICE",
                details={"field": "voice.voiceId", "validVoices": list(shipped)},
            )
        return Voice("piper", name, round(tts.clamp(speed, tts.PIPER_SPEED_RANGE), 3), None)
    if provider == "cartesia":
        if not voice_id:
            raise error(
                "A cartesia voice needs voice.voiceId (a Cartesia voice id)", code="VOICE_ID_REQUIRED"
            )
        if not _CARTESIA_ID.match(voice_id):
            raise error(
                "voice.voiceId is not a Cartesia voice id (1-128 of A-Z a-z 0-9 _ . : -)",
                code="UNKNOWN_VOICE",
                details={"field": "voice.voiceId"},
            )
        if model is not None and not _CARTESIA_ID.match(model):
            raise error("voice.model is not a Cartesia model id", code="INVALID_MODEL")
        return Voice(
            "cartesia",
            voice_id,
            round(tts.clamp(speed, tts.CARTESIA_SPEED_RANGE), 3),
            tts.cartesia_model(model),
        )
    raise error(
        f"Voice provider {provider!r} cannot be previewed; previews support: {', '.join(PREVIEW_PROVIDERS)}",
        code="UNSUPPORTED_PROVIDER",
    )


# Control characters, lone surrogates, private-use and unassigned code points: nothing a voice can say,
# and NUL or a surrogate would break the synthesizer's UTF-8 hand-off.
_UNSPEAKABLE = frozenset({"Cc", "Cs", "Co", "Cn"})


def normalize_text(text: str) -> str:
    """NFC, unspeakable characters dropped, whitespace runs collapsed: equal texts get equal cache keys."""
    cleaned = "".join(
        ch
        for ch in unicodedata.normalize("NFC", text)
        if ch.isspace() or unicodedata.category(ch) not in _UNSPEAKABLE
    )
    return " ".join(cleaned.split())


def _request_text(raw: str) -> str:
    text = normalize_text(raw)
    if not text:
        raise ValidationError(
            "Invalid request: text: has nothing to speak",
            details=[{"field": "text", "message": "has nothing to speak"}],
        )
    return text


def shorten(text: str, limit: int = MAX_TEXT_CHARS) -> tuple[str, bool]:
    """``text`` cut to ``limit`` characters at a sentence end (else a word end); (text, was_cut)."""
    if len(text) <= limit:
        return text, False
    head = text[:limit]
    cut = max(head.rfind(". "), head.rfind("! "), head.rfind("? "))
    if cut >= limit // 3:
        return head[: cut + 1], True
    space = head.rfind(" ")
    return (head[:space] if space > 0 else head).rstrip(" ,;:"), True


@dataclass(frozen=True, slots=True)
class Target:
    org_id: uuid.UUID
    voice: Voice
    text: str
    truncated: bool


def _config_target(cur: Any, principal: Principal, body: PreviewRequest) -> Target:
    from voice_common.config_schema import VoiceSettings

    cur.execute("SELECT org_id, config_json FROM public.voice_configs WHERE id = %s", (body.config_id,))
    row = cur.fetchone()
    if row is None or (body.org_id is not None and row["org_id"] != body.org_id):
        raise NotFoundError(f"Voice configuration {body.config_id} not found", code="CONFIG_NOT_FOUND")
    doc = row["config_json"] if isinstance(row["config_json"], dict) else {}
    try:
        settings = VoiceSettings.model_validate(doc.get("voice") or {})
    except PydanticValidationError:
        raise UnprocessableError(
            "The configuration's voice section is not valid; fix it with PUT /configs/{id}",
            code="CONFIG_VOICE_INVALID",
        ) from None
    voice = resolve_voice(
        settings.provider,
        settings.voice_id,
        settings.speed,
        settings.model,
        error=UnprocessableError,
        model_path=settings.model_path,
    )
    if body.text is not None:
        text, truncated = _request_text(body.text), False
    else:
        initial = doc.get("initial_message")
        text, truncated = shorten(normalize_text(initial if isinstance(initial, str) else ""))
    return Target(row["org_id"], voice, text or STANDARD_GREETING, truncated)


def resolve_target(principal: Principal, body: PreviewRequest) -> Target:
    """Authorize the caller and decide what to synthesize (one transaction as the caller)."""
    voice: Voice | None = None
    if body.voice is not None:  # input errors before the database: they do not depend on who asks
        v = body.voice
        voice = resolve_voice(v.provider, v.voice_id, v.speed, v.model)
        text = _request_text(body.text) if body.text is not None else STANDARD_GREETING
    with user_tx(principal) as cur:
        if body.config_id is not None:
            return _config_target(cur, principal, body)
        assert voice is not None and body.org_id is not None  # the request model guarantees both
        roles.require_member(cur, principal, body.org_id)
    return Target(body.org_id, voice, text, False)


# --- rate limit -----------------------------------------------------------------------------------------


def _rate_table() -> str:
    table = os.environ.get("RATE_LIMIT_TABLE") or os.environ.get("IDEMPOTENCY_TABLE")
    if not table:
        raise ServiceUnavailableError(
            "Voice previews are not configured (no rate-limit table)", code="PREVIEW_NOT_CONFIGURED"
        )
    return table


def check_rate_limit(org_id: uuid.UUID, limit: int, *, window: int = RATE_WINDOW_SECONDS) -> None:
    """Count one preview for ``org_id``; ``RetryLaterError`` when ``limit`` were made within ``window`` s.

    One item per org holds the times of its recent previews (at most ``limit``). Each request reads it,
    drops what left the window and writes it back only if nobody wrote in between (``version``
    condition); a lost race re-reads. Exact for any 60-second window, unlike a per-minute counter that
    lets 2x ``limit`` through across a minute boundary. Items expire through the table's TTL.
    """
    from botocore.exceptions import BotoCoreError, ClientError

    table, ddb = _rate_table(), client("dynamodb")
    key = {"id": {"S": f"{RATE_KEY_PREFIX}{org_id}"}}
    try:
        for _ in range(20):
            now = time.time()
            item = ddb.get_item(TableName=table, Key=key, ConsistentRead=True).get("Item")
            version = int(item["version"]["N"]) if item else 0
            hits = sorted(float(h["N"]) for h in (item or {}).get("hits", {}).get("L", []))
            recent = [h for h in hits if h > now - window]
            if len(recent) >= limit:
                # The oldest hit that must leave the window before one more fits.
                free_at = recent[len(recent) - limit] + window
                raise RetryLaterError(
                    f"Too many voice previews for this organization: at most {limit} a minute; "
                    f"try again in {math.ceil(free_at - now)} s",
                    retry_after=math.ceil(free_at - now),
                    code="PREVIEW_RATE_LIMITED",
                    details={"limitPerMinute": limit},
                )
            recent.append(now)
            try:
                ddb.put_item(
                    TableName=table,
                    Item={
                        **key,
                        "hits": {"L": [{"N": f"{h:.3f}"} for h in recent]},
                        "version": {"N": str(version + 1)},
                        "expiration": {"N": str(int(now) + window + 60)},
                    },
                    ConditionExpression="attribute_not_exists(id) OR version = :v",
                    ExpressionAttributeValues={":v": {"N": str(version)}},
                )
                return
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                    raise
                time.sleep(0.005 + random.random() * 0.02)  # noqa: S311 - another request won the race
    except (BotoCoreError, ClientError) as exc:
        logger.warning("rate limit store failed", extra={"error": type(exc).__name__})
        raise ServiceUnavailableError(
            "The preview rate limiter is unavailable; try again later", code="PREVIEW_UNAVAILABLE"
        ) from None
    raise ServiceUnavailableError("Too many concurrent previews; try again", code="PREVIEW_BUSY")


# --- cache ----------------------------------------------------------------------------------------------


def preview_bucket() -> str | None:
    return os.environ.get("PREVIEW_BUCKET") or os.environ.get("TRANSCRIPT_BUCKET") or None


def _url_ttl() -> int:
    try:
        return max(30, min(3600, int(os.environ.get("PREVIEW_URL_TTL_SECONDS", DEFAULT_URL_TTL_SECONDS))))
    except ValueError:
        return DEFAULT_URL_TTL_SECONDS


@dataclass(frozen=True, slots=True)
class Cached:
    sample_rate: int
    duration_ms: int
    wav: bytes | None  # only when asked for (base64 delivery)


def _cached(bucket: str, key: str, *, with_body: bool) -> Cached | None:
    """The cached preview (HEAD, or GET when its bytes are needed), or None. A failing cache is a miss."""
    from botocore.exceptions import BotoCoreError, ClientError

    s3 = client("s3")
    try:
        found = s3.get_object(Bucket=bucket, Key=key) if with_body else s3.head_object(Bucket=bucket, Key=key)
        meta = found.get("Metadata") or {}
        wav = bytes(found["Body"].read()) if with_body else None
        return Cached(int(meta["sample-rate"]), int(meta["duration-ms"]), wav)
    except ClientError as exc:
        # 403 too: without s3:ListBucket, S3 answers 403 for a key that does not exist.
        if exc.response.get("Error", {}).get("Code") not in ("404", "NoSuchKey", "403", "NotFound"):
            logger.warning("preview cache read failed", extra={"error": exc.response.get("Error", {})})
        return None
    except (BotoCoreError, KeyError, ValueError) as exc:
        logger.warning("preview cache read failed", extra={"error": type(exc).__name__})
        return None


def _store(bucket: str, key: str, audio: Audio, voice: Voice) -> bool:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        client("s3").put_object(
            Bucket=bucket,
            Key=key,
            Body=audio.wav,
            ContentType=tts.MIME_TYPE,
            CacheControl="private, max-age=300",
            Metadata={
                "sample-rate": str(audio.sample_rate),
                "duration-ms": str(audio.duration_ms),
                "provider": voice.provider,
            },
        )
        return True
    except (BotoCoreError, ClientError) as exc:
        logger.warning("preview cache write failed", extra={"error": type(exc).__name__})
        return False


def _presign(bucket: str, key: str) -> tuple[str, dt.datetime]:
    ttl = _url_ttl()
    url = client("s3").generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=ttl
    )
    return str(url), dt.datetime.now(dt.UTC) + dt.timedelta(seconds=ttl)


# --- the service ----------------------------------------------------------------------------------------


def synthesize(org_id: uuid.UUID, voice: Voice, text: str) -> Audio:
    """Call the provider (no transaction may be open: Cartesia can take seconds)."""
    if voice.provider == "piper":
        return tts.piper_tts(voice_name=voice.voice_id, speed=voice.speed, text=text)
    from voice_common.credentials import get_api_key

    api_key = get_api_key(org_id, "cartesia")
    if not api_key:
        raise CredentialError(
            "No Cartesia API key is configured for this organization or the platform; an org admin can "
            "add one (POST /api/voice/credentials), or preview a piper voice",
            code="TTS_CREDENTIAL_MISSING",
            details={"provider": "cartesia"},
        )
    return tts.cartesia_tts(api_key, voice_id=voice.voice_id, model=voice.model, speed=voice.speed, text=text)


def create_preview(principal: Principal, body: PreviewRequest) -> dict[str, Any]:
    """Authorize, count, serve from the cache or synthesize and cache; the ``PreviewResult`` as a dict."""
    from access_common.app import metrics

    target = resolve_target(principal, body)
    check_rate_limit(target.org_id, get_settings().preview_rate_limit_per_minute)
    voice, bucket = target.voice, preview_bucket()
    key = voice.cache_key(target.org_id, target.text)
    started = time.monotonic()

    hit = _cached(bucket, key, with_body=body.delivery == "base64") if bucket else None
    if hit is not None:
        sample_rate, duration_ms, wav = hit.sample_rate, hit.duration_ms, hit.wav
        stored = True
    else:
        audio = synthesize(target.org_id, voice, target.text)
        sample_rate, duration_ms, wav = audio.sample_rate, audio.duration_ms, audio.wav
        stored = bucket is not None and _store(bucket, key, audio, voice)

    url: str | None = None
    expires: dt.datetime | None = None
    b64: str | None = None
    if body.delivery == "url" and stored and bucket:
        url, expires = _presign(bucket, key)
    else:  # asked for, or no bucket (or a failed cache write) to hand out a URL for
        assert wav is not None  # a miss synthesized it; a base64 hit read it
        b64 = base64.b64encode(wav).decode()

    metric = "PreviewCacheHit" if hit else "PreviewSynthesized"
    metrics.add_metric(name=metric, unit=MetricUnit.Count, value=1)
    logger.info(
        "voice preview",
        extra={
            "org_id": str(target.org_id),
            "provider": voice.provider,
            "cached": hit is not None,
            "duration_ms": duration_ms,
            "text_chars": len(target.text),
            "elapsed_ms": int((time.monotonic() - started) * 1000),
        },
    )
    return PreviewResult(
        audio_url=url,
        expires_at=expires,
        audio_base64=b64,
        mime_type=tts.MIME_TYPE,
        sample_rate=sample_rate,
        duration_ms=duration_ms,
        cached=hit is not None,
        provider=voice.provider,
        voice_id=voice.voice_id,
        speed=voice.speed,
        text=target.text,
        text_truncated=target.truncated,
    ).dump()
