"""One interview session: pipeline, transport events, lifecycle callbacks and transcript publishing.

`InterviewSession(payload).run()` is the whole life of one interview, used by both modes:
heartbeats start at once (the orchestrator reads the first one as "a bot picked this up"), the services
are built from config_json with keys from Secrets Manager, the bot joins the room and waits for the
candidate; the candidate joining calls /joined and starts the interview; at the end the transcript is
flushed (every segment acknowledged, or a timeout) and /completed or /failed is reported.

A later heartbeat answered 409/410 (the session ended, or another dispatch superseded this bot) stops the
interview at once without reporting (outcome "rejected"). SIGTERM is handled by `drain_interview` (both
modes): an interview in progress may finish within the drain budget, otherwise it is cut
("bot_terminated") early enough that the transcript flush and the report fit in the budget too.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from voice_bot.config import BotPayload, ConfigError, env_float
from voice_bot.lifecycle import HEARTBEAT_INTERVAL_SECONDS, CallResult, LifecycleClient
from voice_bot.secrets import SecretResolver
from voice_bot.services import ServiceBundle, build_services
from voice_bot.transcript import TranscriptPublisher, TranscriptRecorder

log = logging.getLogger("voice_bot.session")

# Answers to the first heartbeat that mean "no bot wanted for this session".
REJECTING_STATUSES = frozenset({401, 403, 404, 409, 410})

AUDIO_IN_SAMPLE_RATE = 16000
AUDIO_OUT_SAMPLE_RATE = 24000

# Of a drain budget, the share kept for the final /failed report after the transcript flush.
REPORT_RESERVE_SECONDS = 5.0

TransportFactory = Callable[[BotPayload], Any]
ServicesFactory = Callable[[BotPayload], Any]  # async (payload) -> ServiceBundle


@dataclass(frozen=True)
class SessionSettings:
    heartbeat_interval: float = HEARTBEAT_INTERVAL_SECONDS
    no_show_timeout: float = 900.0  # candidate never joined -> failed "candidate_no_show"
    flush_timeout: float = 15.0  # wait for transcript acks before /completed
    turn_end_delay: float = 1.0
    vad_stop_secs: float = 0.8

    @classmethod
    def from_env(cls) -> SessionSettings:
        return cls(
            heartbeat_interval=env_float("BOT_HEARTBEAT_INTERVAL_SECONDS", HEARTBEAT_INTERVAL_SECONDS),
            no_show_timeout=env_float("BOT_NO_SHOW_TIMEOUT_SECONDS", 900.0),
            flush_timeout=env_float("BOT_TRANSCRIPT_FLUSH_SECONDS", 15.0),
            turn_end_delay=env_float("BOT_TURN_END_DELAY_SECONDS", 1.0),
            vad_stop_secs=env_float("BOT_VAD_STOP_SECONDS", 0.8),
        )


@dataclass(frozen=True)
class InterviewOutcome:
    # "completed" | "failed" (reported to the API) | "aborted" (stopped before the interview began, nothing
    # reported: the request goes back to the queue) | "rejected" (the API wants no bot, or a later
    # heartbeat said the session is no longer this bot's: nothing reported) | "crashed" (standby only: run()
    # raised and nothing could be reported; the request goes back to the queue)
    status: str
    reason: str
    segments: int = 0
    questions_asked: int = 0
    duration_seconds: float = 0.0
    transcript_flushed: bool = True


def daily_transport(payload: BotPayload) -> Any:
    """The production transport: Daily WebRTC, audio in and out, no camera."""
    from pipecat.transports.daily.transport import DailyParams, DailyTransport

    return DailyTransport(
        payload.room_url,
        payload.room_token or None,
        payload.config.bot_name,
        params=DailyParams(
            audio_in_enabled=True,
            audio_out_enabled=True,
            camera_out_enabled=False,
            audio_in_sample_rate=AUDIO_IN_SAMPLE_RATE,
            audio_out_sample_rate=AUDIO_OUT_SAMPLE_RATE,
        ),
    )


def preload() -> None:
    """Import the heavy modules up front (a warm standby bot does this before polling)."""
    import importlib

    for name in (
        "pipecat.pipeline.pipeline",
        "pipecat.pipeline.worker",
        "pipecat.workers.runner",
        "pipecat.audio.vad.silero",
        "pipecat.processors.audio.vad_processor",
        "pipecat.transports.daily.transport",
        "pipecat.services.deepgram.stt",
        "pipecat.services.openai.llm",
        "pipecat.services.cartesia.tts",
        "voice_bot.interview",
    ):
        try:
            importlib.import_module(name)
        except ImportError as exc:  # an optional piece missing: it fails clearly when configured
            log.warning("preload skipped %s: %s", name, exc)


async def default_services(payload: BotPayload) -> ServiceBundle:
    return await build_services(payload.config, SecretResolver(payload.secret_arns))


def build_pipeline(
    transport: Any,
    services: ServiceBundle,
    controller: Any,
    tap: Any,
    *,
    vad_stop_secs: float = 0.8,
) -> Any:
    from pipecat.audio.vad.silero import SileroVADAnalyzer
    from pipecat.audio.vad.vad_analyzer import VADParams
    from pipecat.pipeline.pipeline import Pipeline
    from pipecat.processors.audio.vad_processor import VADProcessor

    vad = VADProcessor(vad_analyzer=SileroVADAnalyzer(params=VADParams(stop_secs=vad_stop_secs)))
    return Pipeline(
        [
            transport.input(),
            vad,
            services.stt,
            controller,
            services.llm,
            services.tts,
            transport.output(),
            tap,
        ]
    )


class InterviewSession:
    def __init__(
        self,
        payload: BotPayload,
        *,
        transport_factory: TransportFactory = daily_transport,
        services_factory: ServicesFactory = default_services,
        settings: SessionSettings | None = None,
        lifecycle: LifecycleClient | None = None,
        publisher: TranscriptPublisher | None = None,
    ) -> None:
        self.payload = payload
        self._transport_factory = transport_factory
        self._services_factory = services_factory
        self.settings = settings or SessionSettings.from_env()
        self.lifecycle = lifecycle or LifecycleClient(
            payload.api_base_url, payload.session_id, payload.bot_token
        )
        self.publisher = publisher or TranscriptPublisher(
            payload.websocket_url, payload.session_id, payload.bot_token
        )
        self.recorder = TranscriptRecorder()
        self.recorder.add_sink(self.publisher.publish)
        self.controller: Any = None
        self.transport: Any = None
        self.pipeline: Any = None
        self._worker: Any = None
        self._candidate_id: str | None = None
        self._join_claimed = False
        self._aborted: str | None = None
        self._gone: int | None = None  # HTTP status of a heartbeat that said the session is not ours
        self._flush_timeout = self.settings.flush_timeout
        self._background: set[asyncio.Task[Any]] = set()
        self._no_show = False
        self._failure: str | None = None
        self._joined_at: float | None = None
        self._joined_task: asyncio.Task[Any] | None = None
        self.candidate_joined = asyncio.Event()
        self.pipeline_started = asyncio.Event()
        self.finished = asyncio.Event()

    # -- state -------------------------------------------------------------------------------------
    @property
    def started(self) -> bool:
        """True once the candidate joined and the interview began (it can no longer be handed over)."""
        return self.controller is not None and self.controller.started

    def _status(self) -> dict[str, Any]:
        if self.controller is None:
            return {"phase": "starting"}
        return self.controller.status()

    # -- control -----------------------------------------------------------------------------------
    async def abort(self, reason: str = "shutdown", *, flush_timeout: float | None = None) -> None:
        """Stop the session. Before the candidate joined nothing is reported (outcome "aborted": the
        request can go back to the queue); after that the session is reported failed with `reason`.
        `flush_timeout` caps the wait for transcript acks in the wind-down (a drain budget)."""
        self._aborted = reason
        if flush_timeout is not None:
            self._flush_timeout = min(self._flush_timeout, flush_timeout)
        if self._worker is not None:
            await self._worker.cancel(reason=reason)

    @property
    def _stopping(self) -> bool:
        return self._aborted is not None or self._gone is not None

    def _on_session_gone(self, status: int) -> None:
        """A heartbeat answered 409/410: the session ended or another bot has it. Leave, report nothing."""
        self._gone = status
        log.warning("session %s: heartbeat answered %d; leaving", self.payload.session_id, status)
        if self._worker is not None:
            # Not awaited here: this runs inside the heartbeat task, which the wind-down cancels.
            cancel = self._worker.cancel(reason=f"session_gone_{status}")
            task = asyncio.get_running_loop().create_task(cancel)
            self._background.add(task)
            task.add_done_callback(self._background.discard)

    async def close(self) -> None:
        """Release what a session holds (heartbeats, WebSocket, HTTP) after it could not finish normally;
        safe to call more than once, never raises."""
        for step in (self.lifecycle.stop_heartbeats, self.publisher.close, self.lifecycle.close):
            try:
                await step()
            except Exception as exc:  # each step runs even if another failed
                log.warning("session %s: cleanup failed: %s", self.payload.session_id, type(exc).__name__)

    async def report_crash(self, exc: BaseException) -> CallResult:
        """After run() raised: stop everything, then report the session failed (`bot_error: <type>`)."""
        await self.close()
        try:
            return await self.lifecycle.failed(
                f"bot_error: {type(exc).__name__}", {"segments": len(self.recorder.segments)}
            )
        finally:
            await self.lifecycle.close()

    async def _end_now(self, reason: Any) -> None:
        if self._worker is not None:
            await self._worker.cancel(reason=str(getattr(reason, "value", reason)))

    # -- transport events --------------------------------------------------------------------------
    async def on_candidate_joined(self, participant: dict[str, Any] | None = None) -> None:
        if self.controller is None or self._join_claimed:
            return
        # Frames pushed before the StartFrame went through would be dropped.
        await self.pipeline_started.wait()
        if self._join_claimed:  # Daily fires both first-participant and participant-joined
            return
        self._join_claimed = True
        self._candidate_id = (participant or {}).get("id")
        self._joined_at = time.monotonic()
        self.candidate_joined.set()
        # /joined goes out in the background: the greeting must not wait for the API.
        self._joined_task = asyncio.get_running_loop().create_task(
            self.lifecycle.joined({"participantId": self._candidate_id} if self._candidate_id else {})
        )
        await self.controller.begin()

    async def on_candidate_left(self, participant: dict[str, Any] | None = None, reason: Any = None) -> None:
        pid = (participant or {}).get("id")
        if self._candidate_id is not None and pid is not None and pid != self._candidate_id:
            return  # someone else (an observer) left
        if self.controller is None:
            return
        if not self.controller.started:
            return  # left before the interview began: keep waiting (no-show timer still runs)
        await self.controller.candidate_left()

    # -- run ---------------------------------------------------------------------------------------
    async def run(self) -> InterviewOutcome:
        started_at = time.monotonic()
        # The first heartbeat says "a bot has this session". If the API no longer wants a bot for it
        # (cancelled, already taken over by another bot, token rejected), stop without reporting.
        first = await self.lifecycle.heartbeat(self._status())
        if first.status in REJECTING_STATUSES:
            log.warning(
                "session %s: API answered %s to the first heartbeat; not starting",
                self.payload.session_id,
                first.status,
            )
            await self.lifecycle.close()
            self.finished.set()
            return InterviewOutcome("rejected", f"http_{first.status}")
        self.lifecycle.start_heartbeats(
            self._status,
            self.settings.heartbeat_interval,
            delay=self.settings.heartbeat_interval,
            on_gone=self._on_session_gone,
        )
        self.publisher.start()
        try:
            await self._run_pipeline()
        except ConfigError as exc:
            self._failure = f"config_error: {exc}"
            log.error("session %s cannot start: %s", self.payload.session_id, exc)
        except Exception as exc:
            self._failure = f"bot_error: {type(exc).__name__}"
            log.exception("session %s crashed", self.payload.session_id)
        outcome = await self._finish(started_at)
        self.finished.set()
        return outcome

    async def _run_pipeline(self) -> None:
        from pipecat.workers.runner import WorkerRunner

        services = await self._services_factory(self.payload)
        if self._stopping:
            return
        self.build(services)
        watchdog = asyncio.get_running_loop().create_task(self._no_show_watchdog())
        try:
            if self._stopping:
                return
            runner = WorkerRunner(handle_sigint=False, handle_sigterm=False)
            await runner.add_workers(self._worker)
            if self._stopping:
                return
            await runner.run()
        finally:
            watchdog.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watchdog

    def build(self, services: ServiceBundle) -> None:
        """The transport (not connected yet), the controller, the pipeline and its worker, with the
        transport's participant events wired to this session."""
        from pipecat.pipeline.worker import PipelineParams, PipelineWorker

        from voice_bot.interview import BotSpeechTap, InterviewController

        self.transport = self._transport_factory(self.payload)
        self.controller = InterviewController(
            self.payload.config,
            self.recorder,
            knowledge=self.payload.knowledge,
            turn_end_delay=self.settings.turn_end_delay,
            on_end=self._end_now,
        )
        tap = BotSpeechTap(self.recorder)
        self.pipeline = build_pipeline(
            self.transport, services, self.controller, tap, vad_stop_secs=self.settings.vad_stop_secs
        )
        self._worker = PipelineWorker(
            self.pipeline,
            params=PipelineParams(
                audio_in_sample_rate=AUDIO_IN_SAMPLE_RATE, audio_out_sample_rate=AUDIO_OUT_SAMPLE_RATE
            ),
            enable_rtvi=False,
            idle_timeout_secs=None,
            cancel_on_idle_timeout=False,
        )

        @self.transport.event_handler("on_first_participant_joined")
        async def _joined(_transport: Any, participant: dict[str, Any]) -> None:
            await self.on_candidate_joined(participant)

        @self.transport.event_handler("on_participant_joined")
        async def _rejoined(_transport: Any, participant: dict[str, Any]) -> None:
            # Someone who left before the interview began and came back is not "first" any more.
            await self.on_candidate_joined(participant)

        @self.transport.event_handler("on_participant_left")
        async def _left(_transport: Any, participant: dict[str, Any], reason: Any = None) -> None:
            await self.on_candidate_left(participant, reason)

        @self._worker.event_handler("on_pipeline_started")
        async def _started(_worker: Any, _frame: Any) -> None:
            self.pipeline_started.set()

        @self._worker.event_handler("on_pipeline_error")
        async def _error(_worker: Any, frame: Any) -> None:
            processor = getattr(frame, "processor", None)
            if processor is not None and not getattr(processor, "is_usable", True):
                log.error("pipeline processor %s unusable: %s", processor, getattr(frame, "error", ""))
                if not self.started:
                    self._failure = f"provider_error: {processor}"
                    await self._worker.cancel(reason="provider_error")

    async def _no_show_watchdog(self) -> None:
        try:
            await asyncio.wait_for(self.candidate_joined.wait(), self.settings.no_show_timeout)
        except TimeoutError:
            self._no_show = True
            log.warning("session %s: candidate never joined", self.payload.session_id)
            if self._worker is not None:
                await self._worker.cancel(reason="candidate_no_show")

    async def _finish(self, started_at: float) -> InterviewOutcome:
        controller = self.controller
        end_reason = controller.end_reason.value if controller and controller.end_reason else None
        segments = len(self.recorder.segments)
        asked = len(controller.questions_asked) if controller else 0
        duration = time.monotonic() - (self._joined_at or started_at)
        if self._joined_task is not None:
            with contextlib.suppress(Exception):
                await self._joined_task
        if self._gone is not None:
            flushed = False  # the session is closed to this bot: its segments would not be accepted
        else:
            flushed = await self.publisher.flush(self._flush_timeout)
        if not flushed and self._gone is None:
            log.warning(
                "session %s: %d segments unacknowledged", self.payload.session_id, len(self.publisher.unacked)
            )
        await self.lifecycle.stop_heartbeats()

        if self._gone is not None:
            outcome = InterviewOutcome("rejected", f"http_{self._gone}", segments, asked, duration, flushed)
        elif self._aborted and not self.started:
            outcome = InterviewOutcome("aborted", self._aborted, segments, asked, duration, flushed)
        elif self._failure:
            outcome = InterviewOutcome("failed", self._failure, segments, asked, duration, flushed)
            await self.lifecycle.failed(self._failure, {"segments": segments})
        elif self._no_show:
            outcome = InterviewOutcome("failed", "candidate_no_show", segments, asked, duration, flushed)
            await self.lifecycle.failed("candidate_no_show", {"segments": segments})
        elif end_reason is not None:
            outcome = InterviewOutcome("completed", end_reason, segments, asked, duration, flushed)
            await self.lifecycle.completed(
                {
                    "reason": end_reason,
                    "segments": segments,
                    "lastSeq": self.recorder.segments[-1].seq if segments else 0,
                    "questionsAsked": asked,
                    "questionsTotal": len(self.payload.config.interview.questions),
                    "durationSeconds": round(duration, 1),
                    "transcriptFlushed": flushed,
                }
            )
        else:
            reason = self._aborted or "pipeline_ended"
            outcome = InterviewOutcome("failed", reason, segments, asked, duration, flushed)
            await self.lifecycle.failed(reason, {"segments": segments})
        await self.publisher.close()
        await self.lifecycle.close()
        return outcome


def split_drain_budget(budget: float, flush_timeout: float) -> tuple[float, float]:
    """(how long the interview may still run, how long the transcript flush may take) out of a drain
    budget; the rest (REPORT_RESERVE_SECONDS, a quarter of a small budget) is for the final report."""
    report = min(REPORT_RESERVE_SECONDS, budget / 4)
    flush = min(flush_timeout, budget / 4)
    return budget - report - flush, flush


async def drain_interview(
    session: InterviewSession, interview: asyncio.Task[InterviewOutcome], budget: float
) -> None:
    """SIGTERM: wind the session down within `budget` seconds (its task `interview` ends by then).

    Before the candidate joined, the session is aborted at once (nothing reported: a standby bot returns
    the request to the queue). An interview in progress may finish on its own; when it cannot within the
    budget it is cut (`failed: bot_terminated`) early enough for the transcript flush and the report to fit.
    Should even the wind-down overrun the budget, the interview task is cancelled (its result is then a
    CancelledError) and the session's resources released: the bot must exit before ECS kills it.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + budget
    sid = session.payload.session_id
    if not session.started:
        await session.abort("shutdown")
    else:
        run_for, flush_for = split_drain_budget(budget, session.settings.flush_timeout)
        done, _ = await asyncio.wait({interview}, timeout=run_for)
        if done:
            return
        log.warning("session %s: drain budget (%.0f s) reached; ending the interview", sid, budget)
        await session.abort("bot_terminated", flush_timeout=flush_for)
    done, _ = await asyncio.wait({interview}, timeout=max(0.0, deadline - loop.time()))
    if done:
        return
    log.error("session %s: the wind-down overran the drain budget; stopping it", sid)
    interview.cancel()
    await asyncio.wait({interview})
    await session.close()
