"""Shared fixtures: a real HTTP server recording the bot's lifecycle calls and a real WebSocket server that
acknowledges transcript segments (both on 127.0.0.1, random ports), plus payload helpers."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web
from websockets.asyncio.server import ServerConnection, serve

# Never reach a real AWS endpoint from a test.
os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ.pop("AWS_ENDPOINT_URL", None)

SESSION_ID = "5b0c6a38-4c2e-4a7e-9d1f-2f6a1f0b7c11"
BOT_TOKEN = "vbt1.5b0c6a38-4c2e-4a7e-9d1f-2f6a1f0b7c11.4102444800.deadbeef"


@dataclass
class RecordedCall:
    method: str
    path: str
    headers: dict[str, str]
    body: Any
    at: float


@dataclass
class ApiServer:
    url: str
    calls: list[RecordedCall] = field(default_factory=list)
    # path suffix ("joined", "heartbeat", ...) -> list of statuses to answer, in order (then 200)
    script: dict[str, list[int]] = field(default_factory=dict)
    delay: dict[str, float] = field(default_factory=dict)
    events: dict[str, asyncio.Event] = field(default_factory=dict)

    def actions(self) -> list[str]:
        return [c.path.rsplit("/", 1)[-1] for c in self.calls]

    def calls_to(self, action: str) -> list[RecordedCall]:
        return [c for c in self.calls if c.path.endswith("/" + action)]

    def event(self, action: str) -> asyncio.Event:
        return self.events.setdefault(action, asyncio.Event())


@pytest.fixture
async def api_server() -> AsyncIterator[ApiServer]:
    server = ApiServer(url="")
    loop = asyncio.get_running_loop()

    async def handle(request: web.Request) -> web.Response:
        action = request.path.rsplit("/", 1)[-1]
        try:
            body = await request.json()
        except Exception:
            body = None
        server.calls.append(
            RecordedCall(request.method, request.path, dict(request.headers), body, loop.time())
        )
        server.event(action).set()
        if action in server.delay:
            await asyncio.sleep(server.delay[action])
        statuses = server.script.get(action)
        status = statuses.pop(0) if statuses else 200
        return web.json_response({"success": status < 400, "data": {}}, status=status)

    app = web.Application()
    app.router.add_post("/api/voice/bot/sessions/{sid}/{action}", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    server.url = f"http://127.0.0.1:{port}/api/voice"
    yield server
    await runner.cleanup()


@dataclass
class WsServer:
    url: str
    received: list[dict[str, Any]] = field(default_factory=list)  # every transcript message, resends too
    tokens: list[str | None] = field(default_factory=list)
    connections: int = 0
    ack: bool = True
    drop_after: int | None = None  # close the connection after this many transcript messages (once)
    persisted: dict[int, dict[str, Any]] = field(default_factory=dict)

    def seqs(self) -> list[int]:
        return [m["segment"]["seq"] for m in self.received]


@pytest.fixture
async def ws_server() -> AsyncIterator[WsServer]:
    state = WsServer(url="")

    async def handler(ws: ServerConnection) -> None:
        state.connections += 1
        path = ws.request.path if ws.request else ""
        token = None
        if "token=" in path:
            token = path.split("token=", 1)[1].split("&", 1)[0]
        state.tokens.append(token)
        async for raw in ws:
            message = json.loads(raw)
            if message.get("action") != "transcript":
                continue
            state.received.append(message)
            if state.drop_after is not None and len(state.received) >= state.drop_after:
                state.drop_after = None
                await ws.close()  # dropped before acknowledging this one
                return
            segment = message["segment"]
            state.persisted[segment["seq"]] = segment
            if state.ack:
                await ws.send(
                    json.dumps(
                        {"v": 1, "type": "ack", "sessionId": message["sessionId"], "seq": segment["seq"]}
                    )
                )

    async with serve(handler, "127.0.0.1", 0) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        state.url = f"ws://127.0.0.1:{port}/ws"
        yield state


def config_json(**overrides: Any) -> dict[str, Any]:
    config: dict[str, Any] = {
        "bot_name": "Ada",
        "system_prompt": "You interview candidates for a backend engineer role.",
        "initial_message": "Hello! I'm Ada, welcome to your interview.",
        "voice": {"provider": "cartesia", "voice_id": "voice-1", "speed": 1.0},
        "transcription": {"provider": "deepgram", "language": "en-US", "model": "nova-2"},
        "llm": {"provider": "openai", "model": "gpt-4o-mini", "temperature": 0.5, "max_tokens": 200},
        "interview": {
            "max_duration_minutes": 5,
            "questions": [
                {
                    "id": "q1",
                    "text": "What drew you to backend engineering?",
                    "type": "open",
                    "follow_up_enabled": False,
                },
                {
                    "id": "q2",
                    "text": "Describe a system you designed?",
                    "type": "open",
                    "follow_up_enabled": True,
                },
                {
                    "id": "q3",
                    "text": "How do you test your code?",
                    "type": "open",
                    "follow_up_enabled": False,
                },
            ],
            "scoring_rubric": {"criteria": ["communication", "technical_depth"]},
        },
    }
    for key, value in overrides.items():
        if key == "interview":
            config["interview"].update(value)
        else:
            config[key] = value
    return config


def payload_dict(api_url: str, ws_url: str, **config_overrides: Any) -> dict[str, Any]:
    return {
        "type": "BOT_REQUEST",
        "version": 1,
        "sessionId": SESSION_ID,
        "orgId": "0f8b7c58-3c7e-4a43-9a54-8f3f0f3b6a01",
        "roomUrl": "https://example.daily.co/room-1",
        "roomToken": "daily-meeting-token",
        "botToken": BOT_TOKEN,
        "apiBaseUrl": api_url,
        "websocketUrl": ws_url,
        "config": config_json(**config_overrides),
        "knowledge": [
            {"kbId": "kb-1", "title": "Benefits", "content": "Employees get 30 days of paid vacation."}
        ],
        "secretArns": {
            "deepgram": "arn:aws:secretsmanager:us-east-1:123456789012:secret:dg",
            "cartesia": "arn:aws:secretsmanager:us-east-1:123456789012:secret:ct",
            "openai": "arn:aws:secretsmanager:us-east-1:123456789012:secret:oa",
        },
        "requestedAt": "2026-11-21T10:00:00Z",
    }


@pytest.fixture(autouse=True)
def _quiet_pipecat() -> None:
    from loguru import logger

    logger.remove()
    logger.add(lambda msg: None, level="WARNING")
