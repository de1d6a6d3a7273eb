"""Entry point: `python -m voice_bot task|standby|healthcheck`.

    task        one interview from the dispatch payload (env BOT_PAYLOAD, or --payload-file for local dev)
    standby     long-poll STANDBY_QUEUE_URL and run one interview at a time until SIGTERM
    healthcheck exit 0 when the running bot's health file is fresh (the container HEALTHCHECK)

Exit codes: 0 interview completed / standby stopped cleanly, 1 interview failed, 2 bad payload or usage.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from voice_bot.config import BotPayload, ConfigError, drain_timeout_from_env, load_payload
from voice_bot.health import HealthBeacon, check

if TYPE_CHECKING:
    from voice_bot.session import InterviewSession

log = logging.getLogger("voice_bot")


def configure_logging() -> None:
    level = os.environ.get("LOG_LEVEL", "INFO").upper()
    logging.basicConfig(
        level=level,
        stream=sys.stdout,
        format='{"time":"%(asctime)s","level":"%(levelname)s","logger":"%(name)s","message":"%(message)s"}',
    )
    try:
        from loguru import logger as loguru_logger  # pipecat's logger: keep it at the same level

        loguru_logger.remove()
        loguru_logger.add(sys.stderr, level=os.environ.get("PIPECAT_LOG_LEVEL", "WARNING").upper())
    except ImportError:  # pragma: no cover
        pass


async def run_task(
    payload_file: str | None,
    *,
    session_factory: Callable[[BotPayload], InterviewSession] | None = None,
    drain_timeout: float | None = None,
) -> int:
    """One interview. SIGTERM/SIGINT: before the candidate joined, stop at once (nothing reported); an
    interview in progress may finish within the drain budget (BOT_DRAIN_TIMEOUT_SECONDS), else it is cut
    ("bot_terminated") so that the transcript flush and the report fit in the budget too
    (session.drain_interview)."""
    from voice_bot.session import InterviewSession, drain_interview

    payload = load_payload(payload_file)
    budget = drain_timeout if drain_timeout is not None else drain_timeout_from_env()
    beacon = HealthBeacon()
    beacon.start()
    session = (session_factory or InterviewSession)(payload)
    loop = asyncio.get_running_loop()
    interview = loop.create_task(session.run(), name="interview")
    draining: list[asyncio.Task[None]] = []

    def on_signal() -> None:
        if draining or interview.done():
            return
        log.info("session %s: SIGTERM; winding down within %.0f s", payload.session_id, budget)
        draining.append(loop.create_task(drain_interview(session, interview, budget), name="drain"))

    signals = (signal.SIGTERM, signal.SIGINT)
    for sig in signals:
        loop.add_signal_handler(sig, on_signal)
    try:
        await asyncio.wait({interview})
        if draining:
            await draining[0]
    finally:
        for sig in signals:
            loop.remove_signal_handler(sig)
        await beacon.stop()
    if interview.cancelled():
        log.error("interview %s: cut at the drain deadline", payload.session_id)
        return 1
    outcome = interview.result()  # a crash propagates: exit 1 with the traceback, ECS reports the task
    log.info("interview %s: %s (%s)", payload.session_id, outcome.status, outcome.reason)
    return 0 if outcome.status in ("completed", "rejected", "aborted") else 1


async def run_standby() -> int:
    from voice_bot.session import preload
    from voice_bot.standby import StandbySettings, StandbyWorker

    queue_url = os.environ.get("STANDBY_QUEUE_URL")
    if not queue_url:
        raise ConfigError("STANDBY_QUEUE_URL is not set")
    beacon = HealthBeacon()
    beacon.start()
    await asyncio.to_thread(preload)  # warm: the first interview does not pay for the imports
    worker = StandbyWorker(queue_url, settings=StandbySettings.from_env())
    remove = worker.install_signal_handlers()
    try:
        await worker.run()
    finally:
        remove()
        await beacon.stop()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="voice_bot", description="module-voice Pipecat interview bot")
    sub = parser.add_subparsers(dest="mode", required=True)
    task = sub.add_parser("task", help="run one interview from BOT_PAYLOAD (or --payload-file)")
    task.add_argument("--payload-file", help="read the dispatch payload JSON from this file (local dev)")
    sub.add_parser("standby", help="serve interviews from the standby pool queue (STANDBY_QUEUE_URL)")
    sub.add_parser("healthcheck", help="exit 0 when the running bot is alive")
    args = parser.parse_args(argv)

    if args.mode == "healthcheck":
        return 0 if check() else 1
    configure_logging()
    try:
        if args.mode == "task":
            return asyncio.run(run_task(args.payload_file))
        return asyncio.run(run_standby())
    except ConfigError as exc:
        log.error("cannot start: %s", exc)
        return 2


if __name__ == "__main__":
    sys.exit(main())
