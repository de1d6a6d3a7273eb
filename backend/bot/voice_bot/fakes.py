"""Offline stand-ins for the room and the providers: a scripted candidate, STT, LLM and TTS.

Used by the tests and by bench_pickup.py; they run the real pipeline (VAD processor, interview
controller, bot speech tap, pipecat's TTSService base) with no network and no keys. Not used in production.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from pipecat.frames.frames import (
    BotStartedSpeakingFrame,
    BotStoppedSpeakingFrame,
    DataFrame,
    Frame,
    LLMContextFrame,
    LLMFullResponseEndFrame,
    LLMFullResponseStartFrame,
    LLMTextFrame,
    TranscriptionFrame,
    TTSAudioRawFrame,
    TTSStartedFrame,
    TTSStoppedFrame,
    TTSTextFrame,
    VADUserStartedSpeakingFrame,
    VADUserStoppedSpeakingFrame,
)
from pipecat.processors.frame_processor import FrameDirection, FrameProcessor
from pipecat.services.settings import TTSSettings
from pipecat.services.tts_service import TTSService
from pipecat.transports.base_transport import BaseTransport

from voice_bot.config import BotPayload
from voice_bot.services import ServiceBundle


@dataclass
class CandidateSpeechFrame(DataFrame):
    """What the candidate says (the fake STT turns it into VAD + transcription frames)."""

    text: str = ""
    confidence: float = 0.9


class FakeSTT(FrameProcessor):
    """Stand-in STT: CandidateSpeechFrame -> VAD started, final TranscriptionFrame, VAD stopped."""

    def __init__(self, speech_secs: float = 0.05, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._speech_secs = speech_secs

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        await super().process_frame(frame, direction)
        if isinstance(frame, CandidateSpeechFrame):
            await self.push_frame(VADUserStartedSpeakingFrame())
            await asyncio.sleep(self._speech_secs)
            timestamp = dt.datetime.now(dt.UTC).isoformat()
            result = {"channel": {"alternatives": [{"confidence": frame.confidence}]}}
            await self.push_frame(TranscriptionFrame(frame.text, "candidate", timestamp, result=result))
            await self.push_frame(VADUserStoppedSpeakingFrame())
            return
        await self.push_frame(frame, direction)


def default_reply(messages: list[dict[str, Any]]) -> str:
    instruction = str(messages[-1].get("content", "")) if messages else ""
    if "follow-up" in instruction:
        return "Interesting. Could you give me a concrete example of that?"
    if "asked you something" in instruction:
        return "Good question. The team will share those details with you."
    return "Thanks. What else would you like to add?"


class FakeLLM(FrameProcessor):
    """Stand-in LLM: answers every LLMContextFrame with `reply(messages)`, streamed in two chunks."""

    def __init__(self, reply: Callable[[list[dict[str, Any]]], str] = default_reply, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._reply = reply
        self.requests: list[list[dict[str, Any]]] = []

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        await super().process_frame(frame, direction)
        if isinstance(frame, LLMContextFrame):
            messages = [dict(m) for m in frame.context.messages if isinstance(m, dict)]
            self.requests.append(messages)
            text = self._reply(messages)
            half = len(text) // 2
            await self.push_frame(LLMFullResponseStartFrame())
            for chunk in (text[:half], text[half:]):
                await self.push_frame(LLMTextFrame(chunk))
            await self.push_frame(LLMFullResponseEndFrame())
            return
        await self.push_frame(frame, direction)


class FakeTTS(TTSService):
    """Stand-in TTS on pipecat's TTSService: quiet audio, 2 ms per character (instant to 'synthesize')."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            push_start_frame=True,
            push_stop_frames=True,
            settings=TTSSettings(model=None, voice="fake", language=None),
            **kwargs,
        )
        self.spoken: list[str] = []

    def can_generate_metrics(self) -> bool:
        return False

    async def run_tts(self, text: str, context_id: str) -> AsyncIterator[Frame]:  # type: ignore[override]
        self.spoken.append(text)
        samples = max(1, int(self.sample_rate * 0.002 * len(text)))

        async def chunks() -> AsyncIterator[bytes]:
            yield b"\x01\x00" * samples

        async for frame in self._stream_audio_frames_from_iterator(
            chunks(), in_sample_rate=self.sample_rate, context_id=context_id
        ):
            yield frame


class FakeInput(FrameProcessor):
    """The room's input side: what the scripted candidate says enters the pipeline here."""

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        await super().process_frame(frame, direction)
        await self.push_frame(frame, direction)

    async def say(self, text: str, confidence: float = 0.9) -> None:
        await self.push_frame(CandidateSpeechFrame(text=text, confidence=confidence))


class FakeOutput(FrameProcessor):
    """The room's output side: plays TTS audio instantly and reports bot speaking like a transport."""

    def __init__(self, on_bot_stopped: Callable[[str], Any] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._on_bot_stopped = on_bot_stopped
        self._current: list[str] = []
        self._audio = bytearray()
        self.audio_bytes = 0
        self.utterances: list[str] = []
        self.audio: list[tuple[bytes, int]] = []  # per utterance: 16-bit mono PCM and its sample rate
        self._sample_rate = 0

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        await super().process_frame(frame, direction)
        if direction == FrameDirection.DOWNSTREAM and isinstance(frame, TTSStartedFrame):
            await self.push_frame(BotStartedSpeakingFrame())
            await self.push_frame(BotStartedSpeakingFrame(), FrameDirection.UPSTREAM)
            return
        if direction == FrameDirection.DOWNSTREAM and isinstance(frame, TTSAudioRawFrame):
            self.audio_bytes += len(frame.audio)
            self._audio.extend(frame.audio)
            self._sample_rate = frame.sample_rate
            return
        if direction == FrameDirection.DOWNSTREAM and isinstance(frame, TTSTextFrame):
            self._current.append(frame.text)
        if direction == FrameDirection.DOWNSTREAM and isinstance(frame, TTSStoppedFrame):
            await self.push_frame(BotStoppedSpeakingFrame())
            await self.push_frame(BotStoppedSpeakingFrame(), FrameDirection.UPSTREAM)
            text = " ".join(self._current).strip()
            self._current = []
            self.utterances.append(text)
            self.audio.append((bytes(self._audio), self._sample_rate))
            self._audio = bytearray()
            if self._on_bot_stopped is not None:
                result = self._on_bot_stopped(text)
                if asyncio.iscoroutine(result):
                    await result
            return
        await self.push_frame(frame, direction)


@dataclass
class CandidateScript:
    """Answers, in order, each bot utterance that ends with a question mark."""

    answers: list[str] = field(default_factory=list)
    answer_delay: float = 0.02
    join_after: float | None = 0.0  # seconds after the pipeline started; None = never joins
    leave_after_answers: int | None = None  # leave once this many answers were given
    confidence: float = 0.9


class FakeTransport(BaseTransport):
    """A room with one scripted candidate; fires the Daily transport's participant events."""

    def __init__(self, script: CandidateScript | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.script = script or CandidateScript()
        self._input = FakeInput(name="fake-input")
        self._output = FakeOutput(on_bot_stopped=self._bot_stopped, name="fake-output")
        self._answers = list(self.script.answers)
        self.answers_given = 0
        self.joined = False
        self.left = False
        self._tasks: set[asyncio.Task[Any]] = set()
        self._register_event_handler("on_first_participant_joined")
        self._register_event_handler("on_participant_joined")
        self._register_event_handler("on_participant_left")

    def input(self) -> FakeInput:
        return self._input

    def output(self) -> FakeOutput:
        return self._output

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def start_script(self) -> None:
        if self.script.join_after is not None:
            self._spawn(self._join_later(self.script.join_after))

    async def _join_later(self, delay: float) -> None:
        await asyncio.sleep(delay)
        await self.candidate_joins()

    async def candidate_joins(self) -> None:
        self.joined = True
        # Like Daily: both events for the first participant.
        await self._call_event_handler("on_first_participant_joined", {"id": "candidate-1"})
        await self._call_event_handler("on_participant_joined", {"id": "candidate-1"})

    async def candidate_leaves(self) -> None:
        if self.left:
            return
        self.left = True
        await self._call_event_handler("on_participant_left", {"id": "candidate-1"}, "leftCall")

    async def _bot_stopped(self, text: str) -> None:
        if self.left or not text.endswith("?"):
            return
        limit = self.script.leave_after_answers
        if limit is not None and self.answers_given >= limit:
            self._spawn(self.candidate_leaves())
            return
        if not self._answers:
            return
        answer = self._answers.pop(0)
        self.answers_given += 1
        self._spawn(self._answer_later(answer))

    async def _answer_later(self, answer: str) -> None:
        await asyncio.sleep(self.script.answer_delay)
        if not self.left:
            await self._input.say(answer, self.script.confidence)


def fake_services(llm_reply: Callable[[list[dict[str, Any]]], str] = default_reply) -> ServiceBundle:
    return ServiceBundle(stt=FakeSTT(), llm=FakeLLM(reply=llm_reply), tts=FakeTTS())


def fake_room(
    script: CandidateScript | None = None,
) -> tuple[Callable[[BotPayload], FakeTransport], list[FakeTransport]]:
    """A transport factory for InterviewSession that starts the candidate script; and the transports made."""
    made: list[FakeTransport] = []

    def factory(_payload: BotPayload) -> FakeTransport:
        transport = FakeTransport(script)
        made.append(transport)
        transport.start_script()
        return transport

    return factory, made
