"""POST /api/voice/preview with Cartesia (the stand-in on 127.0.0.1): audio, S3 cache, rate limit,
provider failures, validation and authorization."""

from __future__ import annotations

import base64
import json
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from psycopg.types.json import Jsonb

from tests.fakes.cartesia import MS_PER_CHAR, RETRY_AFTER
from tests.fixtures.aws import free_port
from tests.integration.preview.conftest import CARTESIA_VOICE, PATH, fetch, no_secret, wav_info

VOICE = {"provider": "cartesia", "voiceId": CARTESIA_VOICE, "speed": 1.0}


def cartesia_body(scene: Any, text: str = "Hello there, welcome.", **voice: Any) -> dict[str, Any]:
    return {"orgId": str(scene.org.id), "voice": {**VOICE, **voice}, "text": text}


# --- audio and cache ----------------------------------------------------------------------------------------


def test_cartesia_preview_is_a_presigned_wav_of_the_providers_audio(
    preview: Any, scene: Any, cartesia: Any, cartesia_key: Any, aws_clients: Any, aws_env: dict[str, str]
) -> None:
    key = cartesia_key()
    text = "Hello there, welcome."
    r = preview(scene.member, **cartesia_body(scene, text))

    assert r.status == 200, r.body
    d = r.data
    assert d["cached"] is False and d["provider"] == "cartesia" and d["voiceId"] == CARTESIA_VOICE
    assert d["mimeType"] == "audio/wav" and d["sampleRate"] == 24000 and d["audioBase64"] is None
    assert d["text"] == text and d["textTruncated"] is False and d["speed"] == 1.0
    assert d["expiresAt"] and no_secret(r, key)

    # The stand-in saw one request, authenticated with the org's key from Secrets Manager.
    [req] = cartesia.requests
    assert req.headers["x-api-key"] == key and req.headers["cartesia-version"]
    assert req.body["transcript"] == text and req.body["voice"] == {"mode": "id", "id": CARTESIA_VOICE}
    assert req.body["output_format"] == {"container": "wav", "encoding": "pcm_s16le", "sample_rate": 24000}
    assert "generation_config" not in req.body  # speed 1.0 is Cartesia's default, as in the bot

    # The URL works (moto) and serves a valid WAV even though the stand-in streamed 0xFFFFFFFF sizes.
    audio = fetch(d["audioUrl"])
    rate, channels, width, frames = wav_info(audio)
    assert (rate, channels, width) == (24000, 1, 2)
    assert d["durationMs"] == round(len(frames) / 2 * 1000 / rate) == len(text) * MS_PER_CHAR
    # ... and the bytes are the cached object's.
    s3, bucket = aws_clients("s3"), aws_env["TRANSCRIPT_BUCKET"]
    [obj] = s3.list_objects_v2(Bucket=bucket, Prefix=f"previews/{scene.org.id}/")["Contents"]
    assert obj["Key"].endswith(".wav")
    stored = s3.get_object(Bucket=bucket, Key=obj["Key"])
    assert stored["Body"].read() == audio and stored["ContentType"] == "audio/wav"


def test_identical_requests_are_served_from_the_cache_without_calling_the_provider(
    preview: Any, scene: Any, cartesia: Any, cartesia_key: Any
) -> None:
    cartesia_key()
    first = preview(scene.member, **cartesia_body(scene, "Welcome to the interview."))
    assert first.status == 200 and first.data["cached"] is False
    assert cartesia.count == 1

    # Same provider, voice, speed and text (whitespace is normalised), another member of the org.
    again = preview(scene.admin, **cartesia_body(scene, "  Welcome   to the\ninterview. "))
    assert again.status == 200, again.body
    assert again.data["cached"] is True and cartesia.count == 1
    assert fetch(again.data["audioUrl"]) == fetch(first.data["audioUrl"])
    assert again.data["durationMs"] == first.data["durationMs"]

    # A different text, or speed, is a different preview.
    assert preview(scene.member, **cartesia_body(scene, "Welcome!")).data["cached"] is False
    faster = preview(scene.member, **cartesia_body(scene, "Welcome to the interview.", speed=1.25))
    assert faster.data["cached"] is False and cartesia.count == 3
    assert cartesia.requests[-1].body["generation_config"] == {"speed": 1.25}
    assert faster.data["durationMs"] < first.data["durationMs"]


def test_speed_is_clamped_like_the_bot_and_equal_clamped_requests_share_the_cache(
    preview: Any, scene: Any, cartesia: Any, cartesia_key: Any
) -> None:
    cartesia_key()
    r = preview(scene.member, **cartesia_body(scene, speed=3.0))
    assert r.status == 200 and r.data["speed"] == 1.5
    assert cartesia.requests[-1].body["generation_config"] == {"speed": 1.5}
    same = preview(scene.member, **cartesia_body(scene, speed=1.5))
    assert same.data["cached"] is True and cartesia.count == 1


def test_the_cache_is_per_org(preview: Any, scene: Any, cartesia: Any, cartesia_key: Any) -> None:
    cartesia_key()
    cartesia_key(scene.other_org, scene.outsider)
    assert preview(scene.member, **cartesia_body(scene)).data["cached"] is False
    other = preview(scene.outsider, **{**cartesia_body(scene), "orgId": str(scene.other_org.id)})
    assert other.status == 200 and other.data["cached"] is False
    assert cartesia.count == 2


def test_base64_delivery_returns_the_wav_inline(
    preview: Any, scene: Any, cartesia: Any, cartesia_key: Any
) -> None:
    cartesia_key()
    text = "Inline audio."
    for cached in (False, True):
        r = preview(scene.member, **cartesia_body(scene, text), delivery="base64")
        assert r.status == 200, r.body
        assert r.data["audioUrl"] is None and r.data["expiresAt"] is None
        assert r.data["cached"] is cached
        rate, _, _, frames = wav_info(base64.b64decode(r.data["audioBase64"]))
        assert rate == 24000 and len(frames) // 2 == 24000 * len(text) * MS_PER_CHAR // 1000
    assert cartesia.count == 1


def test_without_a_bucket_the_preview_comes_inline(
    preview: Any, scene: Any, cartesia: Any, cartesia_key: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    cartesia_key()
    monkeypatch.delenv("TRANSCRIPT_BUCKET")
    monkeypatch.delenv("PREVIEW_BUCKET", raising=False)
    r = preview(scene.member, **cartesia_body(scene, "No bucket here."))
    assert r.status == 200, r.body
    assert r.data["audioUrl"] is None and r.data["cached"] is False
    assert wav_info(base64.b64decode(r.data["audioBase64"]))[0] == 24000


def test_a_dedicated_preview_bucket_is_used_and_a_broken_cache_only_costs_the_cache(
    preview: Any,
    scene: Any,
    cartesia: Any,
    cartesia_key: Any,
    aws_clients: Any,
    aws_env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cartesia_key()
    s3, bucket = aws_clients("s3"), f"previews-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=bucket)
    monkeypatch.setenv("PREVIEW_BUCKET", bucket)
    r = preview(scene.member, **cartesia_body(scene))
    assert r.status == 200 and f"/{bucket}/previews/{scene.org.id}/" in r.data["audioUrl"]
    listed = s3.list_objects_v2(Bucket=aws_env["TRANSCRIPT_BUCKET"], Prefix=f"previews/{scene.org.id}/")
    assert listed["KeyCount"] == 0

    # A bucket that does not exist: no cache, but the preview still comes (inline).
    monkeypatch.setenv("PREVIEW_BUCKET", f"missing-{uuid.uuid4().hex[:12]}")
    for _ in range(2):
        r = preview(scene.member, **cartesia_body(scene))
        assert r.status == 200 and r.data["cached"] is False and r.data["audioUrl"] is None
        assert wav_info(base64.b64decode(r.data["audioBase64"]))[0] == 24000
    assert cartesia.count == 3


# --- saved configurations -----------------------------------------------------------------------------------


def config_doc(**overrides: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "initial_message": "Hi! I am the Acme interviewer. Shall we begin?",
        "voice": {"provider": "cartesia", "voice_id": CARTESIA_VOICE, "speed": 0.9},
    }
    doc.update(overrides)
    return {k: v for k, v in doc.items() if v is not None}


def test_config_preview_speaks_its_voice_and_initial_message(
    preview: Any, scene: Any, cartesia: Any, cartesia_key: Any, make_voice_config: Any
) -> None:
    cartesia_key()
    config = make_voice_config(scene.org, scene.admin, config_json=config_doc(), is_active=False)

    r = preview(scene.member, configId=str(config["id"]))

    assert r.status == 200, r.body
    assert r.data["text"] == "Hi! I am the Acme interviewer. Shall we begin?"
    assert r.data["speed"] == 0.9 and r.data["voiceId"] == CARTESIA_VOICE
    assert cartesia.requests[-1].body["generation_config"] == {"speed": 0.9}
    # With orgId too (it must match), and with a text of the caller's own.
    r = preview(scene.member, configId=str(config["id"]), orgId=str(scene.org.id), text="Custom line.")
    assert r.status == 200 and r.data["text"] == "Custom line."


def test_config_preview_shortens_a_long_greeting_and_defaults_a_missing_one(
    preview: Any, scene: Any, cartesia: Any, cartesia_key: Any, make_voice_config: Any
) -> None:
    cartesia_key()
    long_message = " ".join(f"Sentence number {i} of the greeting." for i in range(30))  # ~1000 chars
    config = make_voice_config(scene.org, scene.admin, config_json=config_doc(initial_message=long_message))
    r = preview(scene.member, configId=str(config["id"]))
    assert r.status == 200, r.body
    assert r.data["textTruncated"] is True and len(r.data["text"]) <= 300
    assert long_message.startswith(r.data["text"]) and r.data["text"].endswith(".")
    assert cartesia.requests[-1].body["transcript"] == r.data["text"]

    bare = make_voice_config(scene.org, scene.admin, config_json=config_doc(initial_message=None))
    r = preview(scene.member, configId=str(bare["id"]))
    assert r.status == 200 and r.data["text"].startswith("Hello! Thank you for joining.")


@pytest.mark.parametrize(
    ("voice", "code"),
    [
        ({"provider": "kokoro", "voice_id": "af_heart"}, "UNSUPPORTED_PROVIDER"),
        ({"provider": "cartesia"}, "VOICE_ID_REQUIRED"),
        ({"provider": "piper", "voice_id": "en_GB-alan-medium"}, "UNKNOWN_VOICE"),
        ({"provider": "piper", "model_path": "/models/piper"}, "UNSUPPORTED_VOICE"),
    ],
)
def test_a_config_voice_that_cannot_be_previewed_is_422(
    preview: Any, scene: Any, cartesia: Any, make_voice_config: Any, voice: dict[str, Any], code: str
) -> None:
    config = make_voice_config(scene.org, scene.admin, config_json=config_doc(voice=voice))
    r = preview(scene.member, configId=str(config["id"]))
    assert r.status == 422, r.body
    assert r.code == code and cartesia.count == 0


def test_a_config_without_voice_section_uses_the_bots_default_provider(
    preview: Any, scene: Any, cartesia: Any, make_voice_config: Any
) -> None:
    config = make_voice_config(scene.org, scene.admin, config_json={"initial_message": "Hi."})
    r = preview(scene.member, configId=str(config["id"]))
    # The bot defaults to cartesia, which needs a voice id: say so rather than guess a voice.
    assert r.status == 422 and r.code == "VOICE_ID_REQUIRED"


# --- provider failures --------------------------------------------------------------------------------------


def test_rejected_key_is_424_with_a_clear_message(
    preview: Any, scene: Any, cartesia: Any, cartesia_key: Any
) -> None:
    key = cartesia_key(accepted=False)
    r = preview(scene.member, **cartesia_body(scene))
    assert r.status == 424, r.body
    assert r.code == "TTS_CREDENTIAL_REJECTED" and "rejected the API key" in r.body["error"]
    assert no_secret(r, key) and cartesia.count == 1  # not retried: it cannot get better


@pytest.fixture
def no_platform_cartesia(admin_conn: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Platform Cartesia defaults are global: set them aside for the test, restore them after."""
    monkeypatch.delenv("CARTESIA_API_KEY_SECRET_ARN", raising=False)
    saved = admin_conn.execute(
        "DELETE FROM public.voice_credentials WHERE org_id IS NULL AND service_name = 'cartesia' RETURNING *"
    ).fetchall()
    yield
    for row in saved:
        row = {**row, "config_metadata": Jsonb(row["config_metadata"])}
        columns, marks = ", ".join(row), ", ".join(["%s"] * len(row))
        admin_conn.execute(
            f"INSERT INTO public.voice_credentials ({columns}) VALUES ({marks})", list(row.values())
        )


def test_no_cartesia_key_anywhere_is_424(
    preview: Any, scene: Any, cartesia: Any, no_platform_cartesia: None
) -> None:
    r = preview(scene.member, **cartesia_body(scene))
    assert r.status == 424 and r.code == "TTS_CREDENTIAL_MISSING", r.body
    assert "piper" in r.body["error"] and cartesia.count == 0


def test_provider_rate_limit_is_429_with_its_retry_after(
    preview: Any, scene: Any, cartesia: Any, cartesia_key: Any
) -> None:
    cartesia_key()
    cartesia.script(429)
    r = preview(scene.member, **cartesia_body(scene))
    assert r.status == 429 and r.code == "TTS_PROVIDER_RATE_LIMITED", r.body
    assert r.headers["Retry-After"] == RETRY_AFTER and cartesia.count == 1


def test_provider_5xx_is_retried_once_then_502(
    preview: Any, scene: Any, cartesia: Any, cartesia_key: Any
) -> None:
    cartesia_key()
    cartesia.script(500)
    ok = preview(scene.member, **cartesia_body(scene, "First try fails."))
    assert ok.status == 200 and cartesia.count == 2  # the retry succeeded

    cartesia.script(500, 503)
    r = preview(scene.member, **cartesia_body(scene, "Both tries fail."))
    assert r.status == 502 and r.code == "TTS_PROVIDER_ERROR", r.body
    assert "HTTP 503" in r.body["error"] and cartesia.count == 4
    # Nothing was cached: the next identical request asks Cartesia again.
    again = preview(scene.member, **cartesia_body(scene, "Both tries fail."))
    assert again.status == 200 and again.data["cached"] is False and cartesia.count == 5


def test_provider_unreachable_is_502(
    preview: Any, scene: Any, cartesia: Any, cartesia_key: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    cartesia_key()
    monkeypatch.setenv("CARTESIA_API_URL", f"http://127.0.0.1:{free_port()}")
    r = preview(scene.member, **cartesia_body(scene))
    assert r.status == 502 and r.code == "TTS_PROVIDER_UNREACHABLE", r.body
    assert "could not be reached" in r.body["error"]


def test_a_voice_cartesia_does_not_know_is_400(
    preview: Any, scene: Any, cartesia: Any, cartesia_key: Any
) -> None:
    cartesia_key()
    cartesia.unknown_voice("no-such-voice")
    r = preview(scene.member, **cartesia_body(scene, voiceId="no-such-voice"))
    assert r.status == 400 and r.code == "TTS_REQUEST_REJECTED", r.body
    assert "not found" in r.body["error"]


# --- rate limit ---------------------------------------------------------------------------------------------


def test_the_21st_preview_in_a_minute_is_429_and_other_orgs_are_unaffected(
    preview: Any, scene: Any, cartesia: Any, cartesia_key: Any
) -> None:
    cartesia_key()
    cartesia_key(scene.other_org, scene.outsider)
    statuses = [preview(scene.member, **cartesia_body(scene)).status for _ in range(20)]
    assert statuses == [200] * 20
    assert cartesia.count == 1  # cache hits count against the limit too, but cost nothing

    r = preview(scene.admin, **cartesia_body(scene))
    assert r.status == 429 and r.code == "PREVIEW_RATE_LIMITED", r.body
    assert 1 <= int(r.headers["Retry-After"]) <= 60
    assert r.body["details"] == {"limitPerMinute": 20}

    other = preview(scene.outsider, **{**cartesia_body(scene), "orgId": str(scene.other_org.id)})
    assert other.status == 200, other.body


def test_refused_requests_do_not_use_the_orgs_quota(
    preview: Any, scene: Any, cartesia: Any, cartesia_key: Any
) -> None:
    cartesia_key()
    for _ in range(25):  # an outsider cannot exhaust the org's previews
        assert preview(scene.outsider, **cartesia_body(scene)).status == 404
    assert preview(scene.member, **cartesia_body(scene)).status == 200


def test_the_rate_limit_is_atomic_under_concurrency(aws_env: dict[str, str]) -> None:
    from voice_common.integrations.tts import RetryLaterError
    from voice_common.preview import check_rate_limit

    org, limit = uuid.uuid4(), 8
    outcomes: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(12)

    def hit() -> None:
        start.wait()
        try:
            check_rate_limit(org, limit)
            result = "ok"
        except RetryLaterError:
            result = "limited"
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=hit) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(outcomes) == ["limited"] * 4 + ["ok"] * 8


# --- validation ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "field", "says"),
    [
        ({"text": "x" * 301}, "text", "at most 300"),
        ({"text": "   "}, "text", "at least 1"),
        ({"text": "\u0000\u0007 \u0000"}, "text", "nothing to speak"),
        ({"text": "Hi \ud800"}, "text", "valid string"),  # a lone surrogate: not text
        ({"voice": {**VOICE, "provider": "polly"}}, "voice.provider", "cartesia, piper"),
        ({"voice": {**VOICE, "speed": 4.5}}, "voice.speed", "less than or equal to 4"),
        ({"voice": {**VOICE, "speed": 0}}, "voice.speed", "greater than or equal to 0.1"),
        ({"voice": {**VOICE, "speed": "fast"}}, "voice.speed", "number"),
        ({"voice": None}, "body", "give voice (with orgId) or configId"),
        ({"orgId": None}, "body", "orgId is required with voice"),
        ({"configId": str(uuid.uuid4())}, "body", "not both"),
        ({"delivery": "email"}, "delivery", "'url' or 'base64'"),
        ({"voice": {**VOICE, "voiceID": "typo"}}, "voice.voiceID", "Extra inputs"),
    ],
)
def test_invalid_requests_are_400_naming_the_field(
    preview: Any, scene: Any, cartesia: Any, change: dict[str, Any], field: str, says: str
) -> None:
    body = {k: v for k, v in {**cartesia_body(scene), **change}.items() if v is not None}
    r = preview(scene.member, **body)
    assert r.status == 400 and r.code == "VALIDATION_ERROR", r.body
    assert any(d["field"] == field and says in d["message"] for d in r.body["details"]), r.body
    assert cartesia.count == 0


@pytest.mark.parametrize(
    ("voice", "code", "says"),
    [
        ({"provider": "piper", "voiceId": "en_GB-alan-medium"}, "UNKNOWN_VOICE", "en_US-joe-medium"),
        ({"provider": "cartesia"}, "VOICE_ID_REQUIRED", "voiceId"),
        ({"provider": "cartesia", "voiceId": "not a voice"}, "UNKNOWN_VOICE", "not a Cartesia voice id"),
        ({"provider": "cartesia", "voiceId": CARTESIA_VOICE, "model": "sonic 3"}, "INVALID_MODEL", "model"),
    ],
)
def test_unknown_voices_are_400_naming_the_valid_choices(
    preview: Any, scene: Any, cartesia: Any, voice: dict[str, Any], code: str, says: str
) -> None:
    r = preview(scene.member, orgId=str(scene.org.id), voice=voice)
    assert r.status == 400 and r.code == code, r.body
    assert says in r.body["error"] and cartesia.count == 0


def test_malformed_json_is_400(invoke: Any, scene: Any) -> None:
    r = invoke("voice-preview", "POST", PATH, user=scene.member, raw_body="{not json")
    assert r.status == 400 and r.code == "INVALID_JSON"


# --- authorization ------------------------------------------------------------------------------------------


def test_only_members_of_the_org_may_preview(
    preview: Any, invoke: Any, scene: Any, cartesia: Any, cartesia_key: Any, make_voice_config: Any
) -> None:
    cartesia_key()
    body = cartesia_body(scene)
    assert preview(scene.member, **body).status == 200
    assert preview(scene.admin, **body).status == 200

    for stranger in (scene.outsider, scene.platform_admin):
        r = preview(stranger, **body)
        assert r.status == 404 and r.code == "ORG_NOT_FOUND", r.body

    config = make_voice_config(scene.org, scene.admin, config_json=config_doc())
    r = preview(scene.outsider, configId=str(config["id"]))
    assert r.status == 404 and r.code == "CONFIG_NOT_FOUND"  # existence not revealed
    # A member naming the wrong org for a config they can read: not found in that org.
    r = preview(scene.member, configId=str(config["id"]), orgId=str(scene.other_org.id))
    assert r.status == 404 and r.code == "CONFIG_NOT_FOUND"
    r = preview(scene.member, configId=str(uuid.uuid4()))
    assert r.status == 404

    unauthenticated = invoke("voice-preview", "POST", PATH, body=body)
    assert unauthenticated.status == 401 and unauthenticated.code == "UNAUTHORIZED"
    assert cartesia.count == 1  # only the first member request synthesized


def test_preview_route_is_in_the_openapi_document_with_its_body_model() -> None:
    from voice_local.lambdas import load_lambda

    load_lambda("voice-preview")
    import sys

    app = sys.modules["lambda_function__voice_preview"].app
    schema = json.loads(app.get_openapi_json_schema())
    operation = schema["paths"][PATH]["post"]
    ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    model = schema["components"]["schemas"][ref.rsplit("/", 1)[-1]]
    assert {"orgId", "configId", "voice", "text", "delivery"} <= set(model["properties"])
