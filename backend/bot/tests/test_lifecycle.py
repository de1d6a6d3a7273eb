"""LifecycleClient against a real aiohttp server on 127.0.0.1 that records requests."""

from __future__ import annotations

import asyncio

from conftest import BOT_TOKEN, SESSION_ID, ApiServer

from voice_bot.lifecycle import LifecycleClient


def client(api: ApiServer, **kwargs: float) -> LifecycleClient:
    return LifecycleClient(api.url, SESSION_ID, BOT_TOKEN, backoff=0.02, **kwargs)  # type: ignore[arg-type]


async def test_routes_body_and_bearer_token(api_server: ApiServer) -> None:
    async with client(api_server) as c:
        assert (await c.joined({"participantId": "p1"})).ok
        assert (await c.heartbeat({"phase": "interviewing"})).ok
        assert (await c.completed({"reason": "completed"})).ok
        assert (await c.failed("candidate_no_show")).ok

    base = f"/api/voice/bot/sessions/{SESSION_ID}"
    assert [(c.method, c.path) for c in api_server.calls] == [
        ("POST", f"{base}/joined"),
        ("POST", f"{base}/heartbeat"),
        ("POST", f"{base}/completed"),
        ("POST", f"{base}/failed"),
    ]
    assert all(c.headers["Authorization"] == f"Bearer {BOT_TOKEN}" for c in api_server.calls)
    assert api_server.calls[0].body == {"participantId": "p1"}
    assert api_server.calls[3].body == {"reason": "candidate_no_show"}


async def test_retries_server_errors_then_succeeds(api_server: ApiServer) -> None:
    api_server.script["joined"] = [503, 500, 429]
    async with client(api_server) as c:
        result = await c.joined()
    assert result.ok and result.status == 200 and result.attempts == 4
    assert api_server.actions() == ["joined"] * 4


async def test_client_error_is_not_retried(api_server: ApiServer) -> None:
    api_server.script["completed"] = [403]
    async with client(api_server) as c:
        result = await c.completed({"reason": "completed"})
    assert not result.ok and result.status == 403 and result.attempts == 1
    assert api_server.actions() == ["completed"]


async def test_timeout_is_retried(api_server: ApiServer) -> None:
    api_server.delay["joined"] = 0.5
    async with client(api_server, timeout=0.2, retries=2) as c:
        result = await c.joined()
    assert not result.ok and result.status is None and result.attempts == 3
    assert api_server.actions() == ["joined"] * 3


async def test_unreachable_api_gives_up_after_retries() -> None:
    c = LifecycleClient("http://127.0.0.1:9/api/voice", SESSION_ID, BOT_TOKEN, retries=2, backoff=0.01)
    result = await c.failed("bot_error")
    await c.close()
    assert not result.ok and result.status is None and result.attempts == 6  # failed() retries at least 5


async def test_heartbeats_repeat_until_stopped(api_server: ApiServer) -> None:
    beats = 0

    def status() -> dict[str, int]:
        nonlocal beats
        beats += 1
        return {"n": beats}

    async with client(api_server) as c:
        c.start_heartbeats(status, interval=0.05)
        await asyncio.sleep(0.3)
        await c.stop_heartbeats()
        count = len(api_server.calls)
        await asyncio.sleep(0.15)
    assert count >= 4
    assert len(api_server.calls) == count  # stopped means stopped
    assert [c.body["n"] for c in api_server.calls] == list(range(1, count + 1))
