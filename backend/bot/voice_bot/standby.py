"""Standby mode: a warm bot that long-polls the pool's SQS queue and runs one interview at a time.

Message handling (at-least-once, never lost):
- receive (long poll, 1 message, visibility `visibility_timeout`); an unparseable or stale request is
  deleted (it can never succeed);
- while the interview runs, the message's visibility is extended every `visibility_timeout / 3` seconds;
- when the interview has ended (completed or failed, reported to the API), the message is deleted;
- SIGTERM/SIGINT: stop polling. An interview whose candidate has not joined yet is cancelled and its
  message returned to the queue at once (visibility 0) for another bot; an interview in progress is
  allowed to finish within `drain_timeout` (BOT_DRAIN_TIMEOUT_SECONDS, default 110 s, below ECS's 120 s
  stopTimeout), else it is cut early enough to flush and report inside that budget (failed
  "bot_terminated") and its message returned, so the API decides. A message received while shutting
  down goes straight back.
- an interview that crashes (its `run()` raises) never stops the worker: the error is logged (its type
  and frames only: an exception's text may carry a URL with the bot token), the session's heartbeats and
  connections are closed, and the worker goes back to polling. Crashed before the candidate joined: the
  message is returned at once for another bot (nothing reported; the queue's DLQ bounds a request that
  always crashes). Crashed during the interview: reported failed "bot_error: <type>"; the message is
  deleted once the API answered the report, returned when it could not be reached.
- a crash of this process leaves the message invisible only until its visibility expires; then another
  bot receives it.
- while an interview runs the task is protected from ECS scale-in (voice_bot.protection), so the pool
  shrinking at the end of business hours never cuts an interview short.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import signal
import time
import traceback
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from voice_bot.config import (
    DEFAULT_DRAIN_TIMEOUT_SECONDS,
    BotPayload,
    ConfigError,
    drain_timeout_from_env,
    env_float,
)
from voice_bot.protection import TaskProtection
from voice_bot.session import InterviewOutcome, InterviewSession, drain_interview

log = logging.getLogger("voice_bot.standby")

SessionFactory = Callable[[BotPayload], InterviewSession]


@dataclass
class StandbySettings:
    visibility_timeout: int = 120
    wait_time_seconds: int = 20
    drain_timeout: float = DEFAULT_DRAIN_TIMEOUT_SECONDS  # SIGTERM -> interview wound down and reported
    max_request_age: float = 900.0  # older BOT_REQUESTs were surely handed to a fresh task by now
    max_interviews: int | None = None  # stop after this many (tests, benchmarks); None = forever

    @classmethod
    def from_env(cls) -> StandbySettings:
        return cls(
            visibility_timeout=int(env_float("BOT_VISIBILITY_TIMEOUT_SECONDS", 120)),
            wait_time_seconds=int(env_float("BOT_WAIT_TIME_SECONDS", 20)),
            drain_timeout=drain_timeout_from_env(),
            max_request_age=env_float("BOT_MAX_REQUEST_AGE_SECONDS", 900.0),
        )


@dataclass
class HandledMessage:
    message_id: str
    session_id: str | None
    disposition: str  # "deleted" | "returned" | "rejected"
    outcome: InterviewOutcome | None = None
    received_at: float = 0.0


@dataclass
class StandbyWorker:
    queue_url: str
    sqs: Any = None
    settings: StandbySettings = field(default_factory=StandbySettings)
    session_factory: SessionFactory = InterviewSession
    on_received: Callable[[str, float], Awaitable[None] | None] | None = None
    handled: list[HandledMessage] = field(default_factory=list)
    current: InterviewSession | None = None
    protection: TaskProtection = field(default_factory=TaskProtection)

    def __post_init__(self) -> None:
        self._shutdown = asyncio.Event()
        self.idle = asyncio.Event()
        self.busy = asyncio.Event()

    # -- signals -----------------------------------------------------------------------------------
    def request_shutdown(self) -> None:
        if not self._shutdown.is_set():
            log.info("shutdown requested; %s", "finishing current interview" if self.current else "idle")
        self._shutdown.set()

    @property
    def shutting_down(self) -> bool:
        return self._shutdown.is_set()

    def install_signal_handlers(self) -> Callable[[], None]:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.request_shutdown)

        def remove() -> None:
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(sig)

        return remove

    # -- SQS (boto3 is blocking: every call runs in a thread) ---------------------------------------
    def _client(self) -> Any:
        if self.sqs is None:
            import boto3

            self.sqs = boto3.client("sqs")
        return self.sqs

    async def _receive(self) -> list[dict[str, Any]]:
        def call() -> list[dict[str, Any]]:
            response = self._client().receive_message(
                QueueUrl=self.queue_url,
                MaxNumberOfMessages=1,
                WaitTimeSeconds=self.settings.wait_time_seconds,
                VisibilityTimeout=self.settings.visibility_timeout,
                MessageAttributeNames=["All"],
                AttributeNames=["ApproximateReceiveCount"],
            )
            return list(response.get("Messages", []))

        return await asyncio.to_thread(call)

    async def _set_visibility(self, receipt: str, seconds: int) -> None:
        await asyncio.to_thread(
            self._client().change_message_visibility,
            QueueUrl=self.queue_url,
            ReceiptHandle=receipt,
            VisibilityTimeout=seconds,
        )

    async def _delete(self, receipt: str) -> None:
        await asyncio.to_thread(self._client().delete_message, QueueUrl=self.queue_url, ReceiptHandle=receipt)

    # -- main loop ---------------------------------------------------------------------------------
    async def run(self) -> None:
        log.info("standby bot polling %s", self.queue_url)
        while not self.shutting_down:
            if self.settings.max_interviews is not None and len(self.handled) >= self.settings.max_interviews:
                break
            self.idle.set()
            receive = asyncio.get_running_loop().create_task(self._receive())
            stop = asyncio.get_running_loop().create_task(self._shutdown.wait())
            try:
                await asyncio.wait({receive, stop}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                stop.cancel()
            try:
                messages = await receive  # a poll in flight is finished, so no message is left stranded
            except Exception:
                log.exception("receive_message failed")
                await asyncio.sleep(1.0)
                continue
            for message in messages:
                self.idle.clear()
                try:
                    await self.handle(message)
                except Exception as exc:  # an SQS call failed: the message reappears after its visibility
                    log.error("handling message %s failed: %s", message.get("MessageId"), describe(exc))
                    await asyncio.sleep(1.0)
        log.info("standby bot stopped")

    async def handle(self, message: dict[str, Any]) -> HandledMessage:
        received_at = time.monotonic()
        message_id = str(message.get("MessageId", ""))
        receipt = str(message["ReceiptHandle"])
        if self.on_received is not None:
            result = self.on_received(message_id, received_at)
            if asyncio.iscoroutine(result):
                await result
        if self.shutting_down:
            await self._set_visibility(receipt, 0)
            return self._done(HandledMessage(message_id, None, "returned", received_at=received_at))
        try:
            payload = BotPayload.from_json(message.get("Body", ""))
        except ConfigError as exc:
            log.error("rejecting unusable BOT_REQUEST %s: %s", message_id, exc)
            await self._delete(receipt)
            return self._done(HandledMessage(message_id, None, "rejected", received_at=received_at))
        if self._too_old(payload):
            log.warning("dropping stale BOT_REQUEST for session %s", payload.session_id)
            await self._delete(receipt)
            return self._done(
                HandledMessage(message_id, payload.session_id, "rejected", received_at=received_at)
            )

        try:
            session = self.session_factory(payload)
        except Exception as exc:
            log.error("session %s: could not set up the interview: %s", payload.session_id, describe(exc))
            await self._set_visibility(receipt, 0)
            return self._done(
                HandledMessage(message_id, payload.session_id, "returned", received_at=received_at)
            )
        self.current = session
        self.busy.set()
        await self.protection.set(True)
        interview = asyncio.get_running_loop().create_task(session.run())
        keeper = asyncio.get_running_loop().create_task(self._keep_invisible(receipt))
        returned = False
        try:
            returned = await self._supervise(session, interview)
            outcome = await self._outcome(session, interview)
        finally:
            keeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await keeper
            self.current = None
            self.busy.clear()
            await self.protection.set(False)
        if returned or outcome.status in ("aborted", "crashed"):
            await self._set_visibility(receipt, 0)
            disposition = "returned"
        else:
            await self._delete(receipt)
            disposition = "deleted"
        log.info(
            "session %s %s (%s); message %s", payload.session_id, outcome.status, outcome.reason, disposition
        )
        return self._done(HandledMessage(message_id, payload.session_id, disposition, outcome, received_at))

    async def _supervise(self, session: InterviewSession, interview: asyncio.Task[InterviewOutcome]) -> bool:
        """Wait for the interview; on shutdown hand it back or let it finish within the drain budget.
        True = return the message (the interview was cut short)."""
        stop = asyncio.get_running_loop().create_task(self._shutdown.wait())
        try:
            await asyncio.wait({interview, stop}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stop.cancel()
        if interview.done():
            return False
        started = session.started
        await drain_interview(session, interview, self.settings.drain_timeout)
        if interview.cancelled():
            return True  # the wind-down overran the budget: the API decides (heartbeat timeout or report)
        if not started:
            return False  # the outcome says: "aborted" goes back, a session reported failed meanwhile not
        # A crash is _outcome's to judge; a cut interview was reported failed "bot_terminated".
        return interview.exception() is None and interview.result().reason == "bot_terminated"

    async def _outcome(
        self, session: InterviewSession, interview: asyncio.Task[InterviewOutcome]
    ) -> InterviewOutcome:
        """The interview's outcome; a crash becomes "failed" (reported, if it had begun) or "crashed"
        (before the candidate joined: nothing reported, the message goes back to the queue)."""
        sid = session.payload.session_id
        if interview.cancelled():
            log.error("session %s: cut at the drain deadline before it was reported", sid)
            await session.close()
            return InterviewOutcome("failed", "bot_terminated", transcript_flushed=False)
        exc = interview.exception()
        if exc is None:
            return interview.result()
        log.error("session %s: interview crashed: %s", sid, describe(exc))
        if not session.started:
            await session.close()
            return InterviewOutcome("crashed", f"bot_error: {type(exc).__name__}", transcript_flushed=False)
        report = await session.report_crash(exc)
        reason = f"bot_error: {type(exc).__name__}"
        segments = len(session.recorder.segments)
        # No answer at all from the API: keep the request (returned) rather than lose the failure report.
        status = "failed" if report.status is not None else "crashed"
        return InterviewOutcome(status, reason, segments, transcript_flushed=False)

    async def _keep_invisible(self, receipt: str) -> None:
        period = max(1.0, self.settings.visibility_timeout / 3)
        while True:
            await asyncio.sleep(period)
            try:
                await self._set_visibility(receipt, self.settings.visibility_timeout)
            except Exception:
                log.exception("could not extend message visibility")

    def _too_old(self, payload: BotPayload) -> bool:
        if not payload.requested_at or self.settings.max_request_age <= 0:
            return False
        try:
            requested = dt.datetime.fromisoformat(payload.requested_at.replace("Z", "+00:00"))
        except ValueError:
            return False
        if requested.tzinfo is None:
            requested = requested.replace(tzinfo=dt.UTC)
        age = (dt.datetime.now(dt.UTC) - requested).total_seconds()
        return age > self.settings.max_request_age

    def _done(self, handled: HandledMessage) -> HandledMessage:
        self.handled.append(handled)
        return handled


def describe(exc: BaseException) -> str:
    """An exception for the log without its message (which may carry a URL with a token or a key):
    its type and where it was raised."""
    frames = traceback.extract_tb(exc.__traceback__)[-4:]
    where = " <- ".join(f"{f.filename.rsplit('/', 1)[-1]}:{f.lineno} {f.name}" for f in reversed(frames))
    return f"{type(exc).__name__} at {where}" if where else type(exc).__name__
