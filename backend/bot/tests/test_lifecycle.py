"""LifecycleClient against a real aiohttp server on 127.0.0.1 that records requests."""

from __future__ import annotations

import asyncio
import itertools

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


async def test_heartbeats_keep_a_fixed_cadence_when_answers_are_slow(api_server: ApiServer) -> None:
    """Each answer takes 60 % of the interval: beats still start every interval (a sleep after each
    call would space them 1.6 intervals apart)."""
    interval = 0.2
    api_server.delay["heartbeat"] = 0.12
    async with client(api_server) as c:
        c.start_heartbeats(interval=interval)
        await asyncio.sleep(interval * 6 + 0.05)
        await c.stop_heartbeats()
    starts = [call.at for call in api_server.calls_to("heartbeat")]
    assert len(starts) >= 6, starts
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    assert all(0.15 < gap < 0.26 for gap in gaps), gaps
    # No drift: the n-th beat is n intervals after the first.
    assert abs((starts[-1] - starts[0]) - interval * (len(starts) - 1)) < 0.08, starts


async def test_heartbeat_that_overruns_skips_to_the_next_slot(api_server: ApiServer) -> None:
    """An answer slower than the interval: the next beat starts at the next slot of the grid (1.5 intervals
    of answer -> 2 intervals apart), neither at once (a catch-up burst) nor an interval after the answer."""
    interval = 0.1
    api_server.delay["heartbeat"] = 0.15
    async with client(api_server, timeout=2.0) as c:
        c.start_heartbeats(interval=interval)
        await asyncio.sleep(1.0)
        await c.stop_heartbeats()
    starts = [call.at for call in api_server.calls_to("heartbeat")]
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    assert len(starts) >= 4, starts
    assert all(0.175 < gap < 0.225 for gap in gaps), gaps


async def test_heartbeat_409_or_410_stops_beating_and_reports_gone(api_server: ApiServer) -> None:
    for status in (409, 410):
        api_server.calls.clear()
        api_server.script["heartbeat"] = [200, status, 200]
        gone: list[int] = []
        async with client(api_server) as c:
            c.start_heartbeats(interval=0.05, on_gone=gone.append)
            await asyncio.sleep(0.4)  # 8 intervals
            assert gone == [status]
            assert len(api_server.calls_to("heartbeat")) == 2  # stopped after the 409/410
            await c.stop_heartbeats()


async def test_heartbeat_other_errors_keep_beating(api_server: ApiServer) -> None:
    api_server.script["heartbeat"] = [500, 500, 404, 200]
    gone: list[int] = []
    async with client(api_server) as c:
        c.start_heartbeats(interval=0.05, on_gone=gone.append)
        await asyncio.sleep(0.5)
        await c.stop_heartbeats()
    assert gone == []
    assert len(api_server.calls_to("heartbeat")) >= 5
