"""``python -m voice_local`` (``make dev``): run the local stack until Ctrl-C / SIGTERM.

Exit codes: 0 after a clean stop, 2 when the stack cannot start (port taken, PostgreSQL failing), with a
one-line message instead of a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
from pathlib import Path

from voice_local import tokens
from voice_local.aws import PortInUseError
from voice_local.stack import (
    BOT_KINDS,
    DEFAULT_AWS_PORT,
    DEFAULT_DATA_DIR,
    DEFAULT_PORT,
    LocalStack,
    StackError,
)

EXIT_CANNOT_START = 2


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m voice_local", description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="REST + WebSocket port (default 8080)")
    parser.add_argument(
        "--aws-port", type=int, default=DEFAULT_AWS_PORT, help="moto server port (default 5001)"
    )
    parser.add_argument(
        "--data-dir", type=Path, default=DEFAULT_DATA_DIR, help="state directory (default .local)"
    )
    parser.add_argument("--log-level", default="INFO", help="Python log level of the stack (default INFO)")
    parser.add_argument(
        "--bot",
        choices=BOT_KINDS,
        default="sim",
        help="interview bots: sim (simulated, default) or real (backend/bot's Pipecat bot from .venv-bot)",
    )
    return parser.parse_args(argv)


def _banner(stack: LocalStack) -> str:
    data_dir = stack.data_dir
    lines = [
        "module-voice local stack is up",
        f"  REST        {stack.rest_url}   (try {stack.rest_url}/health)",
        f"  WebSocket   {stack.websocket_url}?token=<jwt>",
        f"  AWS (moto)  {stack.aws_endpoint}",
        f"  PostgreSQL  {tokens.redact_database_url(stack.database_url or '-')}",
        f"  Daily API   {stack.daily_api_url}" + ("   (local stand-in)" if stack.daily else ""),
        f"  tokens      {data_dir / tokens.DEV_TOKENS_FILE}   URLs: {data_dir / tokens.STACK_FILE}",
        "  Bots        "
        + (
            "real Pipecat bot (.venv-bot): standby processes + one process per ECS task"
            if stack.bot == "real"
            else "simulated (voice_local.sim_bot; `make dev BOT=real` runs the real bot)"
        ),
    ]
    if stack.bot == "real" and stack.daily is not None:
        lines += [
            "  WARNING     BOT=real without DAILY_API_KEY: the local Daily stand-in has no WebRTC, so the",
            "              real bot cannot join its rooms. Set DAILY_API_KEY (and provider keys, see",
            "              docs/local-stack.md) for a real interview.",
        ]
    lines.append("  Ctrl-C stops everything.")
    return "\n".join(lines)


async def _serve(args: argparse.Namespace) -> int:
    stop = asyncio.Event()

    def on_signal() -> None:
        if stop.is_set():  # a second Ctrl-C while stopping: give up on a clean stop
            print("voice_local: forced exit", file=sys.stderr, flush=True)
            os._exit(130)
        stop.set()

    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, on_signal)
    stack = LocalStack(
        port=args.port, aws_port=args.aws_port, data_dir=args.data_dir, simulate=True, bot=args.bot
    )
    try:
        await stack.start()
    except (PortInUseError, StackError) as exc:
        hint = (
            " (another `make dev` running? pick one with --port / --aws-port)"
            if isinstance(exc, PortInUseError)
            else " (details: --log-level DEBUG)"
        )
        print(f"voice_local: cannot start: {exc.args[-1] if exc.args else exc}{hint}", file=sys.stderr)
        return EXIT_CANNOT_START
    print(_banner(stack), flush=True)
    await stop.wait()
    print("voice_local: stopping...", flush=True)
    await stack.stop()
    print("voice_local: stopped", flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    logging.basicConfig(
        level=getattr(logging, str(args.log_level).upper(), logging.INFO),
        format="%(asctime)s %(levelname)-5s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
    )
    if logging.getLogger().level > logging.DEBUG:
        # Third-party chatter: moto's per-request access log, pgserver's initdb transcript, botocore.
        for name in ("werkzeug", "botocore", "urllib3"):
            logging.getLogger(name).setLevel(logging.WARNING)
        # pgserver logs a failed initdb/pg_ctl as a page of ERROR output; the stack reports the failure
        # itself in one line (--log-level DEBUG shows the whole transcript).
        logging.getLogger("pgserver").setLevel(logging.CRITICAL)
    return asyncio.run(_serve(args))


if __name__ == "__main__":
    code = main()
    # Everything is stopped and flushed; skip the interpreter's final garbage collection of moto's
    # large in-memory backends, which takes seconds and would make Ctrl-C feel stuck.
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
