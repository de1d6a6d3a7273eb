"""Task mode (one ECS task per interview): SIGTERM, sent for real to this process, with run_task's own
signal handlers installed; lifecycle and transcript servers on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
import os
import signal
from pathlib import Path

import pytest
from conftest import ApiServer, WsServer, payload_dict
from helpers import make_session

from voice_bot.__main__ import run_task
from voice_bot.config import BotPayload
from voice_bot.fakes import CandidateScript
from voice_bot.session import InterviewSession

ANSWERS = ["One.", "Two.", "Three.", "Four."]


class Factory:
    def __init__(self, script: CandidateScript) -> None:
        self.script = script
        self.sessions: list[InterviewSession] = []

    def __call__(self, payload: BotPayload) -> InterviewSession:
        session, _made, _services = make_session(payload, self.script)
        self.sessions.append(session)
        return session

    async def joined(self) -> InterviewSession:
        while not self.sessions:
            await asyncio.sleep(0.02)
        await self.sessions[0].candidate_joined.wait()
        return self.sessions[0]


@pytest.fixture(autouse=True)
def _task_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("BOT_HEALTH_FILE", str(tmp_path / "health"))


def use_payload(monkeypatch: pytest.MonkeyPatch, api: ApiServer, ws: WsServer) -> None:
    monkeypatch.setenv("BOT_PAYLOAD", json.dumps(payload_dict(api.url, ws.url)))


async def sigterm_when_joined(factory: Factory, budget: float) -> tuple[int, float, InterviewSession]:
    loop = asyncio.get_running_loop()
    task = loop.create_task(run_task(None, session_factory=factory, drain_timeout=budget))
    session = await asyncio.wait_for(factory.joined(), 10)
    await asyncio.sleep(0.2)
    os.kill(os.getpid(), signal.SIGTERM)
    sent_at = loop.time()
    code = await asyncio.wait_for(task, budget + 10)
    return code, loop.time() - sent_at, session


async def test_sigterm_mid_interview_ends_it_within_the_drain_budget(
    monkeypatch: pytest.MonkeyPatch, api_server: ApiServer, ws_server: WsServer
) -> None:
    """The interview would need > 4 s more; with a 2 s budget it is cut, its transcript flushed and the
    session reported failed "bot_terminated", all before the budget is spent."""
    use_payload(monkeypatch, api_server, ws_server)
    factory = Factory(CandidateScript(answers=list(ANSWERS), answer_delay=1.0))
    code, elapsed, session = await sigterm_when_joined(factory, budget=2.0)

    assert code == 1  # failed
    assert elapsed < 2.0 + 0.3, elapsed
    assert elapsed > 0.8, elapsed  # it was given time to finish first (2.0 - flush and report reserves)
    actions = api_server.actions()
    assert [c.body["reason"] for c in api_server.calls_to("failed")] == ["bot_terminated"]
    assert "completed" not in actions
    assert actions[-1] == "failed"
    # The transcript end was published: every segment spoken so far is persisted by the server.
    spoken = [s.seq for s in session.recorder.segments]
    assert spoken and sorted(ws_server.persisted) == spoken
    assert api_server.calls_to("failed")[0].body["segments"] == len(spoken)
    beats = len(api_server.calls_to("heartbeat"))
    await asyncio.sleep(0.5)
    assert len(api_server.calls_to("heartbeat")) == beats  # heartbeats stopped


async def test_sigterm_mid_interview_lets_a_short_one_finish(
    monkeypatch: pytest.MonkeyPatch, api_server: ApiServer, ws_server: WsServer
) -> None:
    use_payload(monkeypatch, api_server, ws_server)
    factory = Factory(CandidateScript(answers=list(ANSWERS), answer_delay=0.2))
    code, elapsed, session = await sigterm_when_joined(factory, budget=30.0)

    assert code == 0
    assert elapsed < 10, elapsed
    assert session.controller.questions_asked == ["q1", "q2", "q3"]
    assert [c.body["reason"] for c in api_server.calls_to("completed")] == ["completed"]
    assert "failed" not in api_server.actions()


async def test_sigterm_before_the_candidate_joined_stops_at_once(
    monkeypatch: pytest.MonkeyPatch, api_server: ApiServer, ws_server: WsServer
) -> None:
    use_payload(monkeypatch, api_server, ws_server)
    factory = Factory(CandidateScript(join_after=None))
    loop = asyncio.get_running_loop()
    task = loop.create_task(run_task(None, session_factory=factory, drain_timeout=30.0))
    while not factory.sessions:
        await asyncio.sleep(0.02)
    await asyncio.wait_for(factory.sessions[0].pipeline_started.wait(), 10)
    os.kill(os.getpid(), signal.SIGTERM)
    sent_at = loop.time()
    assert await asyncio.wait_for(task, 10) == 0  # aborted: nothing to report
    assert loop.time() - sent_at < 2.0
    assert "failed" not in api_server.actions() and "completed" not in api_server.actions()


async def test_signal_handlers_are_removed_after_the_interview(
    monkeypatch: pytest.MonkeyPatch, api_server: ApiServer, ws_server: WsServer
) -> None:
    use_payload(monkeypatch, api_server, ws_server)
    factory = Factory(CandidateScript(answers=list(ANSWERS)))
    assert await asyncio.wait_for(run_task(None, session_factory=factory, drain_timeout=5.0), 20) == 0
    loop = asyncio.get_running_loop()
    assert not loop.remove_signal_handler(signal.SIGTERM)  # nothing left installed
