"""Benchmark: standby-pool pickup latency, from SQS message receipt to the bot's /joined call.

Everything is local: moto's SQS server (ThreadedMotoServer on 127.0.0.1), an aiohttp server standing in
for the bot API (records when /joined arrives), a websockets server acking transcript segments, and the
stand-in room/providers from voice_bot.fakes (a candidate already waiting in the room). The measured path
is the real one: receive -> parse payload -> first heartbeat (pickup signal) -> build services -> build the
pipeline (Silero VAD loaded) -> start it -> candidate joined -> POST /joined.

    .venv-bot/bin/python backend/bot/bench_pickup.py --runs 20 [--json bench-results/bot-pickup.json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


async def bench(runs: int, warmup: int) -> dict[str, Any]:
    import boto3
    from aiohttp import web
    from moto.server import ThreadedMotoServer
    from websockets.asyncio.server import serve

    from voice_bot.config import BotPayload
    from voice_bot.fakes import CandidateScript, fake_room, fake_services
    from voice_bot.lifecycle import LifecycleClient
    from voice_bot.session import InterviewSession, SessionSettings, preload
    from voice_bot.standby import StandbySettings, StandbyWorker
    from voice_bot.transcript import TranscriptPublisher

    preload()  # what a warm standby bot does at start-up
    moto_port = free_port()
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=moto_port, verbose=False)
    moto.start()
    joined_at: dict[str, float] = {}
    received_at: dict[str, float] = {}
    try:
        sqs = boto3.client(
            "sqs",
            region_name="us-east-1",
            endpoint_url=f"http://127.0.0.1:{moto_port}",
            aws_access_key_id="bench",
            aws_secret_access_key="bench",
        )
        queue_url = sqs.create_queue(QueueName="cora-local-voice-standby-pool")["QueueUrl"]

        async def api(request: web.Request) -> web.Response:
            if request.match_info["action"] == "joined":
                joined_at.setdefault(request.match_info["sid"], time.monotonic())
            return web.json_response({"success": True, "data": {}})

        app = web.Application()
        app.router.add_post("/api/voice/bot/sessions/{sid}/{action}", api)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        api_port = free_port()
        await web.TCPSite(runner, "127.0.0.1", api_port).start()

        async def ws_handler(ws: Any) -> None:
            async for raw in ws:
                message = json.loads(raw)
                if message.get("action") == "transcript":
                    await ws.send(json.dumps({"type": "ack", "seq": message["segment"]["seq"]}))

        ws_port = free_port()
        async with serve(ws_handler, "127.0.0.1", ws_port):
            settings = SessionSettings(heartbeat_interval=15, no_show_timeout=30, flush_timeout=5)

            def session_factory(payload: BotPayload) -> InterviewSession:
                # The candidate is already in the room and leaves after the first question.
                factory, _made = fake_room(CandidateScript(answers=[], join_after=0.0, leave_after_answers=0))
                services = fake_services()

                async def build(_p: BotPayload) -> Any:
                    return services

                return InterviewSession(
                    payload,
                    transport_factory=factory,
                    services_factory=build,
                    settings=settings,
                    lifecycle=LifecycleClient(payload.api_base_url, payload.session_id, payload.bot_token),
                    publisher=TranscriptPublisher(
                        payload.websocket_url, payload.session_id, payload.bot_token
                    ),
                )

            def on_received(message_id: str, at: float) -> None:
                received_at[message_id] = at

            worker = StandbyWorker(
                queue_url,
                sqs=sqs,
                settings=StandbySettings(
                    wait_time_seconds=1, max_request_age=0, max_interviews=runs + warmup
                ),
                session_factory=session_factory,
                on_received=on_received,
            )
            sessions: dict[str, str] = {}  # message id -> session id
            for _ in range(runs + warmup):
                session_id = str(uuid.uuid4())
                body = {
                    "type": "BOT_REQUEST",
                    "version": 1,
                    "sessionId": session_id,
                    "orgId": str(uuid.uuid4()),
                    "roomUrl": "https://bench.daily.co/room",
                    "roomToken": "t",
                    "botToken": f"vbt1.{session_id}.4102444800.00",
                    "apiBaseUrl": f"http://127.0.0.1:{api_port}/api/voice",
                    "websocketUrl": f"ws://127.0.0.1:{ws_port}/ws",
                    "config": {
                        "initial_message": "Hello!",
                        "interview": {"questions": [{"id": "q1", "text": "Ready to start?"}]},
                    },
                    "knowledge": [],
                    "secretArns": {},
                }
                sent = sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps(body))
                sessions[sent["MessageId"]] = session_id
            started = time.perf_counter()
            await asyncio.wait_for(worker.run(), timeout=60 + 10 * (runs + warmup))
            wall = time.perf_counter() - started
        await runner.cleanup()
    finally:
        moto.stop()

    order = [h.message_id for h in worker.handled]
    latencies_ms = [
        (joined_at[sessions[m]] - received_at[m]) * 1000.0
        for m in order[warmup:]
        if m in received_at and sessions.get(m) in joined_at
    ]
    return {
        "name": "bot_pickup_to_joined",
        "unit": "ms",
        "runs": len(latencies_ms),
        "warmup_runs": warmup,
        "p50": round(percentile(latencies_ms, 0.50), 2),
        "p95": round(percentile(latencies_ms, 0.95), 2),
        "min": round(min(latencies_ms), 2) if latencies_ms else None,
        "max": round(max(latencies_ms), 2) if latencies_ms else None,
        "mean": round(statistics.fmean(latencies_ms), 2) if latencies_ms else None,
        "wall_seconds": round(wall, 2),
        "outcomes": sorted({h.outcome.reason for h in worker.handled if h.outcome}),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=1, help="runs excluded from the figures")
    parser.add_argument("--json", help="also write the result as JSON to this path")
    args = parser.parse_args(argv)

    from voice_bot.__main__ import configure_logging

    configure_logging()
    import logging

    for name in ("", "werkzeug", "voice_bot"):
        logging.getLogger(name).setLevel(logging.WARNING)
    result = asyncio.run(bench(args.runs, args.warmup))
    print(
        f"bot pickup (SQS receipt -> POST /joined), {result['runs']} runs: "
        f"p50={result['p50']} ms p95={result['p95']} ms (min {result['min']}, max {result['max']})"
    )
    if args.json:
        path = Path(args.json)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0 if result["runs"] == args.runs else 1


if __name__ == "__main__":
    sys.exit(main())
