"""The dispatch payload and the interview configuration (the session's config_json).

Both are parsed strictly enough to fail early with a clear message, and leniently enough to accept the
shapes the documents show (snake_case config_json, camelCase payload). Nothing here imports pipecat.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_GREETING = "Hello! Thank you for joining. I'm your interview assistant today."
DEFAULT_CLOSING = "That was my last question. Thank you very much for your time today. Goodbye!"
DEFAULT_TIME_UP = (
    "We have reached the end of our scheduled time, so let's stop here. "
    "Thank you very much for your time today. Goodbye!"
)
DEFAULT_SYSTEM_PROMPT = "You are a friendly, professional interviewer conducting a voice interview."

STT_PROVIDERS = ("deepgram", "whisper", "moonshine")
TTS_PROVIDERS = ("cartesia", "kokoro", "piper")
LLM_PROVIDERS = ("openai", "openai_compatible")

# SIGTERM -> exit budget (BOT_DRAIN_TIMEOUT_SECONDS). ECS kills the container stopTimeout seconds after
# SIGTERM (120 s in infrastructure/ecs.tf, Fargate's maximum); the default leaves 10 s of margin.
DEFAULT_DRAIN_TIMEOUT_SECONDS = 110.0
ECS_STOP_TIMEOUT_SECONDS = 120.0

log = logging.getLogger("voice_bot.config")


class ConfigError(ValueError):
    """The payload or the interview configuration is unusable (the bot reports the session failed)."""


def _obj(value: Any, where: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ConfigError(f"{where} must be an object")
    return value


def _str(value: Any, where: str, default: str | None = None, *, required: bool = False) -> str:
    if value is None or value == "":
        if required:
            raise ConfigError(f"{where} is required")
        return default or ""
    if not isinstance(value, str):
        raise ConfigError(f"{where} must be a string")
    return value


def _num(value: Any, where: str, default: float, *, minimum: float | None = None) -> float:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"{where} must be a number")
    if minimum is not None and value < minimum:
        raise ConfigError(f"{where} must be >= {minimum}")
    return float(value)


@dataclass(frozen=True)
class Question:
    id: str
    text: str
    type: str = "open"
    follow_up_enabled: bool = False


@dataclass(frozen=True)
class VoiceConfig:
    provider: str = "cartesia"
    voice_id: str = ""
    speed: float = 1.0
    model: str | None = None
    model_path: str | None = None  # kokoro model file, or the folder holding a piper voice
    voices_path: str | None = None  # kokoro voices file


@dataclass(frozen=True)
class TranscriptionConfig:
    provider: str = "deepgram"
    language: str = "en-US"
    model: str = "nova-2"


@dataclass(frozen=True)
class LLMConfig:
    provider: str = "openai"
    model: str = "gpt-4o-mini"
    temperature: float = 0.7
    max_tokens: int = 500
    base_url: str | None = None


@dataclass(frozen=True)
class InterviewSettings:
    max_duration_minutes: float = 30.0
    questions: tuple[Question, ...] = ()
    scoring_criteria: tuple[str, ...] = ()
    max_follow_ups: int = 1
    closing_message: str = DEFAULT_CLOSING
    time_up_message: str = DEFAULT_TIME_UP


@dataclass(frozen=True)
class InterviewConfig:
    bot_name: str = "Interview Assistant"
    system_prompt: str = DEFAULT_SYSTEM_PROMPT
    initial_message: str = DEFAULT_GREETING
    voice: VoiceConfig = field(default_factory=VoiceConfig)
    transcription: TranscriptionConfig = field(default_factory=TranscriptionConfig)
    llm: LLMConfig = field(default_factory=LLMConfig)
    interview: InterviewSettings = field(default_factory=InterviewSettings)

    @classmethod
    def from_json(cls, raw: Any) -> InterviewConfig:
        """Parse config_json (the object itself, or wrapped as {"config_json": {...}})."""
        data = _obj(raw, "config")
        if "config_json" in data and isinstance(data["config_json"], dict):
            data = data["config_json"]

        voice_raw = _obj(data.get("voice"), "voice")
        voice = VoiceConfig(
            provider=_str(voice_raw.get("provider"), "voice.provider", "cartesia").lower(),
            voice_id=_str(voice_raw.get("voice_id"), "voice.voice_id", ""),
            speed=_num(voice_raw.get("speed"), "voice.speed", 1.0, minimum=0.1),
            model=_str(voice_raw.get("model"), "voice.model") or None,
            model_path=_str(voice_raw.get("model_path"), "voice.model_path") or None,
            voices_path=_str(voice_raw.get("voices_path"), "voice.voices_path") or None,
        )
        if voice.provider not in TTS_PROVIDERS:
            raise ConfigError(f"voice.provider must be one of {', '.join(TTS_PROVIDERS)}")

        stt_raw = _obj(data.get("transcription"), "transcription")
        stt_provider = _str(stt_raw.get("provider"), "transcription.provider", "deepgram").lower()
        if stt_provider not in STT_PROVIDERS:
            raise ConfigError(f"transcription.provider must be one of {', '.join(STT_PROVIDERS)}")
        transcription = TranscriptionConfig(
            provider=stt_provider,
            language=_str(stt_raw.get("language"), "transcription.language", "en-US"),
            model=_str(
                stt_raw.get("model"),
                "transcription.model",
                "nova-2" if stt_provider == "deepgram" else "",  # "" = the self-hosted service's default
            ),
        )

        llm_raw = _obj(data.get("llm"), "llm")
        llm_provider = _str(llm_raw.get("provider"), "llm.provider", "openai").lower().replace("-", "_")
        if llm_provider not in LLM_PROVIDERS:
            raise ConfigError("llm.provider must be an OpenAI-compatible provider ('openai')")
        llm = LLMConfig(
            provider=llm_provider,
            model=_str(llm_raw.get("model"), "llm.model", "gpt-4o-mini"),
            temperature=_num(llm_raw.get("temperature"), "llm.temperature", 0.7, minimum=0.0),
            max_tokens=int(_num(llm_raw.get("max_tokens"), "llm.max_tokens", 500, minimum=1)),
            base_url=_str(llm_raw.get("base_url"), "llm.base_url") or None,
        )

        iv_raw = _obj(data.get("interview"), "interview")
        questions_raw = iv_raw.get("questions") or []
        if not isinstance(questions_raw, list):
            raise ConfigError("interview.questions must be a list")
        questions: list[Question] = []
        for index, q in enumerate(questions_raw):
            where = f"interview.questions[{index}]"
            if isinstance(q, str):
                q = {"text": q}
            q = _obj(q, where)
            questions.append(
                Question(
                    id=_str(q.get("id"), f"{where}.id", f"q{index + 1}"),
                    text=_str(q.get("text"), f"{where}.text", required=True),
                    type=_str(q.get("type"), f"{where}.type", "open"),
                    follow_up_enabled=bool(q.get("follow_up_enabled", False)),
                )
            )
        rubric = _obj(iv_raw.get("scoring_rubric"), "interview.scoring_rubric")
        criteria = rubric.get("criteria") or []
        if not isinstance(criteria, list):
            raise ConfigError("interview.scoring_rubric.criteria must be a list")
        interview = InterviewSettings(
            max_duration_minutes=_num(
                iv_raw.get("max_duration_minutes"), "interview.max_duration_minutes", 30.0, minimum=0.001
            ),
            questions=tuple(questions),
            # Weighted criteria are {name, weight} objects (voice_common.config_schema); plain ones strings.
            scoring_criteria=tuple(
                str(c.get("name", "")) if isinstance(c, dict) else str(c) for c in criteria
            ),
            max_follow_ups=int(_num(iv_raw.get("max_follow_ups"), "interview.max_follow_ups", 1, minimum=0)),
            closing_message=_str(iv_raw.get("closing_message"), "interview.closing_message", DEFAULT_CLOSING),
            time_up_message=_str(iv_raw.get("time_up_message"), "interview.time_up_message", DEFAULT_TIME_UP),
        )
        return cls(
            bot_name=_str(data.get("bot_name"), "bot_name", "Interview Assistant"),
            system_prompt=_str(data.get("system_prompt"), "system_prompt", DEFAULT_SYSTEM_PROMPT),
            initial_message=_str(data.get("initial_message"), "initial_message", DEFAULT_GREETING),
            voice=voice,
            transcription=transcription,
            llm=llm,
            interview=interview,
        )


@dataclass(frozen=True)
class KnowledgeDoc:
    kb_id: str
    title: str
    content: str


@dataclass(frozen=True)
class BotPayload:
    """The dispatch payload (docs/contracts.md "Dispatch payload")."""

    session_id: str
    org_id: str
    room_url: str
    room_token: str
    bot_token: str
    api_base_url: str
    websocket_url: str
    config: InterviewConfig
    knowledge: tuple[KnowledgeDoc, ...] = ()
    secret_arns: dict[str, str] = field(default_factory=dict)
    requested_at: str | None = None
    raw_config: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: Any) -> BotPayload:
        body = _obj(data, "payload")
        kind = body.get("type", "BOT_REQUEST")
        if kind != "BOT_REQUEST":
            raise ConfigError(f"payload type must be BOT_REQUEST, not {kind!r}")
        version = body.get("version", 1)
        if version != 1:
            raise ConfigError(f"unsupported payload version {version!r}")

        def pick(camel: str, snake: str, *, required: bool = True) -> str:
            value = body.get(camel, body.get(snake))
            return _str(value, camel, required=required)

        knowledge_raw = body.get("knowledge") or []
        if not isinstance(knowledge_raw, list):
            raise ConfigError("knowledge must be a list")
        knowledge = tuple(
            KnowledgeDoc(
                kb_id=str(k.get("kbId", k.get("kb_id", ""))),
                title=str(k.get("title") or ""),
                content=str(k.get("content") or ""),
            )
            for k in (_obj(item, "knowledge[]") for item in knowledge_raw)
        )
        arns_raw = _obj(body.get("secretArns", body.get("secret_arns")), "secretArns")
        raw_config = _obj(body.get("config"), "config")
        return cls(
            session_id=pick("sessionId", "session_id"),
            org_id=pick("orgId", "org_id", required=False),
            room_url=pick("roomUrl", "room_url"),
            room_token=pick("roomToken", "room_token", required=False),
            bot_token=pick("botToken", "bot_token"),
            api_base_url=pick("apiBaseUrl", "api_base_url").rstrip("/"),
            websocket_url=pick("websocketUrl", "websocket_url"),
            config=InterviewConfig.from_json(raw_config),
            knowledge=knowledge,
            secret_arns={str(k): str(v) for k, v in arns_raw.items() if v},
            requested_at=pick("requestedAt", "requested_at", required=False) or None,
            raw_config=raw_config,
        )

    @classmethod
    def from_json(cls, text: str | bytes) -> BotPayload:
        try:
            data = json.loads(text)
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"payload is not valid JSON: {exc}") from exc
        return cls.from_dict(data)


# voice_common.dispatch.seal_tokens: the ECS payload's two tokens, KMS-encrypted under this context.
SEAL_CONTEXT = {"module": "module-voice", "purpose": "bot-dispatch"}
SEALED_FIELDS = ("roomToken", "botToken")


def unseal(data: Any, kms: Any = None) -> Any:
    """Open ``sealedTokens`` (ECS payloads) with the task role; other payloads are returned as they are.

    The ciphertext only opens under the payload's own session id (the encryption context), so a payload
    edited to point at another session fails here rather than later."""
    if not isinstance(data, dict) or "sealedTokens" not in data:
        return data
    import base64
    import binascii

    if kms is None:
        import boto3  # lazy: only ECS payloads carry sealed tokens

        kms = boto3.client("kms")
    try:
        blob = base64.b64decode(str(data["sealedTokens"]), validate=True)
        plain = kms.decrypt(
            CiphertextBlob=blob, EncryptionContext={**SEAL_CONTEXT, "sessionId": str(data.get("sessionId"))}
        )["Plaintext"]
        tokens = json.loads(plain)
    except (binascii.Error, ValueError) as exc:
        raise ConfigError(f"sealedTokens is not a valid sealed value ({type(exc).__name__})") from None
    except Exception as exc:  # botocore ClientError (wrong session, no kms:Decrypt), unreachable KMS
        raise ConfigError(f"the sealed tokens could not be opened ({type(exc).__name__})") from None
    opened = {k: v for k, v in data.items() if k != "sealedTokens"}
    opened.update({k: tokens.get(k) for k in SEALED_FIELDS})
    return opened


def load_payload(payload_file: str | None = None, *, kms: Any = None) -> BotPayload:
    """Read the payload from a file (dev CLI) or from the BOT_PAYLOAD environment variable (ECS task),
    opening its sealed tokens (``unseal``)."""
    if payload_file:
        raw = Path(payload_file).read_text(encoding="utf-8")
    else:
        raw = os.environ.get("BOT_PAYLOAD") or ""
        if not raw:
            raise ConfigError("BOT_PAYLOAD is not set (or pass --payload-file)")
    try:
        data = json.loads(raw)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"payload is not valid JSON: {exc}") from exc
    return BotPayload.from_dict(unseal(data, kms))


def env_float(name: str, default: float) -> float:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return float(value)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a number") from exc


def drain_timeout_from_env() -> float:
    """BOT_DRAIN_TIMEOUT_SECONDS: seconds from SIGTERM until the bot has wound its interview down and exits
    (the interview ends, the transcript is flushed and the outcome reported within it). Default 110."""
    value = env_float("BOT_DRAIN_TIMEOUT_SECONDS", DEFAULT_DRAIN_TIMEOUT_SECONDS)
    if not value > 0:  # also NaN
        raise ConfigError("BOT_DRAIN_TIMEOUT_SECONDS must be a positive number of seconds")
    if value >= ECS_STOP_TIMEOUT_SECONDS:
        log.warning(
            "BOT_DRAIN_TIMEOUT_SECONDS=%s is not below the ECS stopTimeout (%ss): the container may be "
            "killed before the interview is reported",
            value,
            ECS_STOP_TIMEOUT_SECONDS,
        )
    return value
