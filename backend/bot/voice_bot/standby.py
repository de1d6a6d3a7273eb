"""Standby mode: a warm bot that long-polls the pool's SQS queue and runs one interview at a time.

Message handling (at-least-once, never lost):
- receive (long poll, 1 message, visibility `visibility_timeout`); an unparseable or stale request is
  deleted (it can never succeed);
- while the interview runs, the message's visibility is extended every `visibility_timeout / 3` seconds;
- when the interview has ended (completed or failed, reported to the API), the message is deleted;
- SIGTERM/SIGINT: stop polling. An interview whose candidate has not joined yet is cancelled and its
  message returned to the queue at once (visibility 0) for another bot; an interview in progress is
  allowed to finish (optionally bounded by `drain_timeout`, after which it is cut, reported failed and
  its message returned, so the API decides). A message received while shutting down goes straight back.
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
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from voice_bot.config import BotPayload, ConfigError, env_float
from voice_bot.protection import TaskProtection
from voice_bot.session import InterviewOutcome, InterviewSession

log = logging.getLogger("voice_bot.standby")

SessionFactory = Callable[[BotPayload], InterviewSession]


@dataclass
class StandbySettings:
    visibility_timeout: int = 120
    wait_time_seconds: int = 20
    drain_timeout: float | None = None  # None: an interview in progress always finishes
    max_request_age: float = 900.0  # older BOT_REQUESTs were surely handed to a fresh task by now
    max_interviews: int | None = None  # stop after this many (tests, benchmarks); None = forever

    @classmethod
    def from_env(cls) -> StandbySettings:
        drain = env_float("BOT_DRAIN_TIMEOUT_SECONDS", 0.0)
        return cls(
            visibility_timeout=int(env_float("BOT_VISIBILITY_TIMEOUT_SECONDS", 120)),
            wait_time_seconds=int(env_float("BOT_WAIT_TIME_SECONDS", 20)),
            drain_timeout=drain or None,
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
                await self.handle(message)
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

        session = self.session_factory(payload)
        self.current = session
        self.busy.set()
        await self.protection.set(True)
        interview = asyncio.get_running_loop().create_task(session.run())
        keeper = asyncio.get_running_loop().create_task(self._keep_invisible(receipt))
        returned = False
        try:
            returned = await self._supervise(session, interview)
        finally:
            keeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await keeper
            self.current = None
            self.busy.clear()
            await self.protection.set(False)
        outcome = interview.result()
        if returned or outcome.status == "aborted":
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
        """Wait for the interview; on shutdown hand it back or let it finish. True = return the message."""
        stop = asyncio.get_running_loop().create_task(self._shutdown.wait())
        try:
            await asyncio.wait({interview, stop}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stop.cancel()
        if interview.done():
            return False
        if not session.started:
            await session.abort("shutdown")
            outcome = await interview
            return outcome.status == "aborted"
        # In progress: finish it (bounded by the drain timeout, if any).
        try:
            await asyncio.wait_for(asyncio.shield(interview), self.settings.drain_timeout)
            return False
        except TimeoutError:
            log.warning("drain timeout: cutting session %s short", session.payload.session_id)
            await session.abort("bot_terminated")
            await interview
            return True

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
