"""Standby mode against moto's SQS (in-process mock_aws), lifecycle/transcript servers on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from conftest import ApiServer, WsServer, payload_dict
from helpers import make_session
from moto import mock_aws

from voice_bot.config import BotPayload
from voice_bot.fakes import CandidateScript
from voice_bot.session import InterviewSession
from voice_bot.standby import StandbySettings, StandbyWorker

ANSWERS = ["One.", "Two.", "Three.", "Four."]


@pytest.fixture
def sqs() -> Iterator[tuple[Any, str]]:
    with mock_aws():
        client = boto3.client("sqs", region_name="us-east-1")
        url = client.create_queue(QueueName="cora-local-voice-standby-pool")["QueueUrl"]
        yield client, url


def send(client: Any, url: str, body: dict[str, Any] | str) -> None:
    client.send_message(
        QueueUrl=url,
        MessageBody=body if isinstance(body, str) else json.dumps(body),
        MessageAttributes={"MessageType": {"DataType": "String", "StringValue": "BOT_REQUEST"}},
    )


def counts(client: Any, url: str) -> tuple[int, int]:
    attrs = client.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return int(attrs["ApproximateNumberOfMessages"]), int(attrs["ApproximateNumberOfMessagesNotVisible"])


class Factory:
    """Session factory recording the payloads it was given (the stand-in room and providers)."""

    def __init__(self, script: CandidateScript) -> None:
        self.script = script
        self.sessions: list[InterviewSession] = []

    def __call__(self, payload: BotPayload) -> InterviewSession:
        script = CandidateScript(**self.script.__dict__)
        script.answers = list(self.script.answers)
        session, _made, _services = make_session(payload, script)
        self.sessions.append(session)
        return session


def settings(**overrides: Any) -> StandbySettings:
    base: dict[str, Any] = {"visibility_timeout": 30, "wait_time_seconds": 1, "max_request_age": 0}
    base.update(overrides)
    return StandbySettings(**base)


async def test_consumes_message_and_starts_with_that_sessions_config(
    sqs: tuple[Any, str], api_server: ApiServer, ws_server: WsServer
) -> None:
    client, url = sqs
    body = payload_dict(api_server.url, ws_server.url, bot_name="Grace", initial_message="Hi, I am Grace.")
    body["sessionId"] = str(uuid.uuid4())
    body["config"]["interview"]["questions"] = [
        {"id": "only", "text": "Why this team?", "follow_up_enabled": False}
    ]
    send(client, url, body)
    factory = Factory(CandidateScript(answers=["Because of the mission."]))
    worker = StandbyWorker(url, sqs=client, settings=settings(max_interviews=1), session_factory=factory)
    await asyncio.wait_for(worker.run(), 30)

    session = factory.sessions[0]
    assert session.payload.session_id == body["sessionId"]
    assert session.payload.config.bot_name == "Grace"
    assert [s.text for s in session.recorder.segments] == [
        "Hi, I am Grace.",
        "Why this team?",
        "Because of the mission.",
        "That was my last question. Thank you very much for your time today. Goodbye!",
    ]
    handled = worker.handled[0]
    assert handled.disposition == "deleted" and handled.outcome is not None
    assert handled.outcome.status == "completed"
    assert counts(client, url) == (0, 0)  # deleted, not just hidden
    assert f"/bot/sessions/{body['sessionId']}/completed" in api_server.calls[-1].path


async def test_visibility_extended_while_busy(
    sqs: tuple[Any, str], api_server: ApiServer, ws_server: WsServer
) -> None:
    client, url = sqs
    send(client, url, payload_dict(api_server.url, ws_server.url))
    factory = Factory(CandidateScript(answers=list(ANSWERS), answer_delay=0.8))
    worker = StandbyWorker(
        url, sqs=client, settings=settings(visibility_timeout=2, max_interviews=1), session_factory=factory
    )
    task = asyncio.get_running_loop().create_task(worker.run())
    await asyncio.wait_for(worker.busy.wait(), 10)
    await asyncio.sleep(2.6)  # longer than the 2 s visibility the message was received with
    assert not task.done()
    stolen = await asyncio.to_thread(client.receive_message, QueueUrl=url, WaitTimeSeconds=0)
    assert stolen.get("Messages", []) == []  # still invisible: the bot kept extending it
    assert counts(client, url) == (0, 1)
    await asyncio.wait_for(task, 30)
    assert worker.handled[0].disposition == "deleted"
    assert counts(client, url) == (0, 0)


async def test_sigterm_before_candidate_joins_returns_message(
    sqs: tuple[Any, str], api_server: ApiServer, ws_server: WsServer
) -> None:
    client, url = sqs
    send(client, url, payload_dict(api_server.url, ws_server.url))
    factory = Factory(CandidateScript(join_after=None))  # the candidate is not there yet
    worker = StandbyWorker(url, sqs=client, settings=settings(), session_factory=factory)
    remove = worker.install_signal_handlers()
    try:
        task = asyncio.get_running_loop().create_task(worker.run())
        await asyncio.wait_for(worker.busy.wait(), 10)
        await asyncio.wait_for(factory.sessions[0].pipeline_started.wait(), 10)
        os.kill(os.getpid(), signal.SIGTERM)
        await asyncio.wait_for(task, 15)
    finally:
        remove()

    assert worker.handled[0].disposition == "returned"
    assert worker.handled[0].outcome is not None and worker.handled[0].outcome.status == "aborted"
    # Visible again at once (visibility 0) for another bot, with the same body.
    again = client.receive_message(
        QueueUrl=url, WaitTimeSeconds=0, AttributeNames=["ApproximateReceiveCount"]
    )
    messages = again.get("Messages", [])
    assert len(messages) == 1
    assert json.loads(messages[0]["Body"])["sessionId"] == factory.sessions[0].payload.session_id
    assert messages[0]["Attributes"]["ApproximateReceiveCount"] == "2"
    # Nothing was reported: the session is not failed, another bot takes it.
    assert "failed" not in api_server.actions() and "completed" not in api_server.actions()


async def test_sigterm_during_interview_lets_it_finish(
    sqs: tuple[Any, str], api_server: ApiServer, ws_server: WsServer
) -> None:
    client, url = sqs
    first = payload_dict(api_server.url, ws_server.url)
    second = payload_dict(api_server.url, ws_server.url)
    second["sessionId"] = str(uuid.uuid4())
    send(client, url, first)
    send(client, url, second)
    factory = Factory(CandidateScript(answers=list(ANSWERS), answer_delay=0.3))
    worker = StandbyWorker(url, sqs=client, settings=settings(), session_factory=factory)
    remove = worker.install_signal_handlers()
    try:
        task = asyncio.get_running_loop().create_task(worker.run())
        await asyncio.wait_for(worker.busy.wait(), 10)
        await asyncio.wait_for(factory.sessions[0].candidate_joined.wait(), 10)
        await asyncio.sleep(0.2)
        os.kill(os.getpid(), signal.SIGTERM)
        await asyncio.wait_for(task, 30)
    finally:
        remove()

    assert len(worker.handled) == 1  # took no new work after SIGTERM
    handled = worker.handled[0]
    assert handled.disposition == "deleted"
    assert handled.outcome is not None and (handled.outcome.status, handled.outcome.reason) == (
        "completed",
        "completed",
    )
    assert factory.sessions[0].controller.questions_asked == ["q1", "q2", "q3"]
    # The other request is still waiting in the queue, untouched.
    left = client.receive_message(QueueUrl=url, WaitTimeSeconds=0).get("Messages", [])
    assert len(left) == 1
    assert json.loads(left[0]["Body"])["sessionId"] != handled.session_id


async def test_drain_timeout_cuts_interview_and_returns_message(
    sqs: tuple[Any, str], api_server: ApiServer, ws_server: WsServer
) -> None:
    client, url = sqs
    send(client, url, payload_dict(api_server.url, ws_server.url))
    factory = Factory(CandidateScript(answers=list(ANSWERS), answer_delay=1.0))  # > 4 s to finish
    worker = StandbyWorker(url, sqs=client, settings=settings(drain_timeout=2.0), session_factory=factory)
    loop = asyncio.get_running_loop()
    task = loop.create_task(worker.run())
    await asyncio.wait_for(factory_joined(factory), 10)
    worker.request_shutdown()
    stopping_at = loop.time()
    await asyncio.wait_for(task, 15)
    assert loop.time() - stopping_at < 2.0 + 0.3  # the whole wind-down fits in the drain budget

    handled = worker.handled[0]
    assert handled.disposition == "returned"
    assert handled.outcome is not None and (handled.outcome.status, handled.outcome.reason) == (
        "failed",
        "bot_terminated",
    )
    assert [c.body["reason"] for c in api_server.calls_to("failed")] == ["bot_terminated"]
    assert counts(client, url) == (1, 0)


async def factory_joined(factory: Factory) -> None:
    while not factory.sessions:
        await asyncio.sleep(0.02)
    await factory.sessions[0].candidate_joined.wait()


async def test_unusable_message_is_deleted(sqs: tuple[Any, str]) -> None:
    client, url = sqs
    send(client, url, "this is not json")
    send(client, url, {"type": "SOMETHING_ELSE", "version": 1})
    factory = Factory(CandidateScript())
    worker = StandbyWorker(url, sqs=client, settings=settings(max_interviews=2), session_factory=factory)
    await asyncio.wait_for(worker.run(), 15)
    assert [h.disposition for h in worker.handled] == ["rejected", "rejected"]
    assert factory.sessions == []
    assert counts(client, url) == (0, 0)


async def test_stale_request_is_dropped(
    sqs: tuple[Any, str], api_server: ApiServer, ws_server: WsServer
) -> None:
    client, url = sqs
    body = payload_dict(api_server.url, ws_server.url)
    body["requestedAt"] = "2020-01-01T00:00:00Z"
    send(client, url, body)
    factory = Factory(CandidateScript())
    worker = StandbyWorker(
        url, sqs=client, settings=settings(max_interviews=1, max_request_age=900), session_factory=factory
    )
    await asyncio.wait_for(worker.run(), 15)
    assert worker.handled[0].disposition == "rejected"
    assert factory.sessions == [] and api_server.calls == []


async def test_message_received_while_shutting_down_goes_back(sqs: tuple[Any, str]) -> None:
    client, url = sqs
    send(client, url, {"type": "BOT_REQUEST"})
    message = client.receive_message(QueueUrl=url, VisibilityTimeout=60)["Messages"][0]
    worker = StandbyWorker(url, sqs=client, settings=settings(), session_factory=Factory(CandidateScript()))
    worker.request_shutdown()
    handled = await worker.handle(message)
    assert handled.disposition == "returned"
    assert counts(client, url) == (1, 0)


async def test_busy_bot_is_protected_from_scale_in(
    sqs: tuple[Any, str], api_server: ApiServer, ws_server: WsServer
) -> None:
    """The ECS agent endpoint (a real HTTP server here) sees protection on during the interview, then off."""
    from aiohttp import web

    from voice_bot.protection import TaskProtection

    calls: list[dict[str, Any]] = []
    busy_when_protected: list[bool] = []

    async def state(request: web.Request) -> web.Response:
        calls.append(await request.json())
        busy_when_protected.append(worker.busy.is_set())
        return web.json_response({"protection": {"ProtectionEnabled": calls[-1]["ProtectionEnabled"]}})

    app = web.Application()
    app.router.add_put("/task-protection/v1/state", state)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        client, url = sqs
        send(client, url, payload_dict(api_server.url, ws_server.url))
        worker = StandbyWorker(
            url,
            sqs=client,
            settings=settings(max_interviews=1),
            session_factory=Factory(CandidateScript(answers=list(ANSWERS))),
            protection=TaskProtection(f"http://127.0.0.1:{port}", expires_minutes=90),
        )
        await asyncio.wait_for(worker.run(), 30)
    finally:
        await runner.cleanup()
    assert calls == [{"ProtectionEnabled": True, "ExpiresInMinutes": 90}, {"ProtectionEnabled": False}]
    assert busy_when_protected == [True, False]
    assert worker.handled[0].disposition == "deleted"


async def test_protection_failure_never_stops_an_interview(
    sqs: tuple[Any, str], api_server: ApiServer, ws_server: WsServer
) -> None:
    from voice_bot.protection import TaskProtection

    client, url = sqs
    send(client, url, payload_dict(api_server.url, ws_server.url))
    protection = TaskProtection("http://127.0.0.1:9", expires_minutes=5)  # nothing listens on port 9
    worker = StandbyWorker(
        url,
        sqs=client,
        settings=settings(max_interviews=1),
        session_factory=Factory(CandidateScript(answers=list(ANSWERS))),
        protection=protection,
    )
    await asyncio.wait_for(worker.run(), 30)
    assert worker.handled[0].outcome is not None and worker.handled[0].outcome.status == "completed"
    assert protection.enabled is False
    assert await TaskProtection("").set(True) is False  # outside ECS: a no-op


async def test_drain_budget_bounds_a_wind_down_that_hangs(
    sqs: tuple[Any, str], api_server: ApiServer, ws_server: WsServer
) -> None:
    """The /failed report hangs: the bot still stops within the drain budget and returns the message."""
    client, url = sqs
    send(client, url, payload_dict(api_server.url, ws_server.url))
    api_server.delay["failed"] = 3.0
    factory = Factory(CandidateScript(answers=list(ANSWERS), answer_delay=1.0))
    worker = StandbyWorker(url, sqs=client, settings=settings(drain_timeout=2.0), session_factory=factory)
    loop = asyncio.get_running_loop()
    task = loop.create_task(worker.run())
    await asyncio.wait_for(factory_joined(factory), 10)
    worker.request_shutdown()
    stopping_at = loop.time()
    await asyncio.wait_for(task, 15)
    assert loop.time() - stopping_at < 2.0 + 0.3

    handled = worker.handled[0]
    assert handled.disposition == "returned"
    assert handled.outcome is not None and handled.outcome.reason == "bot_terminated"
    assert [c.body["reason"] for c in api_server.calls_to("failed")] == ["bot_terminated"]  # tried once
    assert counts(client, url) == (1, 0)
    beats = len(api_server.calls_to("heartbeat"))
    await asyncio.sleep(0.5)  # heartbeats (every 0.2 s) were stopped with the session
    assert len(api_server.calls_to("heartbeat")) == beats


def test_drain_timeout_setting_defaults_below_the_ecs_stop_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    from voice_bot.config import ECS_STOP_TIMEOUT_SECONDS, ConfigError

    monkeypatch.delenv("BOT_DRAIN_TIMEOUT_SECONDS", raising=False)
    assert StandbySettings.from_env().drain_timeout == 110.0
    assert StandbySettings().drain_timeout == 110.0
    assert StandbySettings().drain_timeout < ECS_STOP_TIMEOUT_SECONDS
    monkeypatch.setenv("BOT_DRAIN_TIMEOUT_SECONDS", "45")
    assert StandbySettings.from_env().drain_timeout == 45.0
    for bad in ("0", "-5", "nan", "soon"):
        monkeypatch.setenv("BOT_DRAIN_TIMEOUT_SECONDS", bad)
        with pytest.raises(ConfigError, match="BOT_DRAIN_TIMEOUT_SECONDS"):
            StandbySettings.from_env()


def two_requests(api: ApiServer, ws: WsServer) -> tuple[dict[str, Any], dict[str, Any]]:
    first = payload_dict(api.url, ws.url)
    first["sessionId"] = str(uuid.uuid4())
    second = payload_dict(api.url, ws.url)
    second["sessionId"] = str(uuid.uuid4())
    return first, second


async def test_interview_crash_is_reported_and_the_worker_keeps_serving(
    sqs: tuple[Any, str],
    api_server: ApiServer,
    ws_server: WsServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The first session's run() raises in its wind-down (after the interview): the worker logs it without
    the exception's text (it carries the bot token here), stops that session's heartbeats, reports it
    failed, deletes its message and serves the next request."""
    client, url = sqs
    first, second = two_requests(api_server, ws_server)
    send(client, url, first)
    send(client, url, second)
    token = first["botToken"]
    inner = Factory(CandidateScript(answers=list(ANSWERS)))

    def factory(payload: BotPayload) -> InterviewSession:
        session = inner(payload)
        if payload.session_id == first["sessionId"]:

            async def flush(timeout: float) -> bool:
                raise RuntimeError(f"cannot reach {payload.websocket_url}?token={token}")

            session.publisher.flush = flush  # type: ignore[method-assign]
        return session

    worker = StandbyWorker(url, sqs=client, settings=settings(max_interviews=2), session_factory=factory)
    with caplog.at_level(logging.INFO, logger="voice_bot"):
        await asyncio.wait_for(worker.run(), 30)

    assert [(h.session_id, h.disposition) for h in worker.handled] == [
        (first["sessionId"], "deleted"),
        (second["sessionId"], "deleted"),
    ]
    crashed, served = (h.outcome for h in worker.handled)
    assert crashed is not None and (crashed.status, crashed.reason) == ("failed", "bot_error: RuntimeError")
    assert served is not None and served.status == "completed"
    failed = [c for c in api_server.calls_to("failed") if first["sessionId"] in c.path]
    assert [c.body["reason"] for c in failed] == ["bot_error: RuntimeError"]
    assert not [c for c in api_server.calls_to("completed") if first["sessionId"] in c.path]
    assert counts(client, url) == (0, 0)
    # The crashed session beats no more (its interval is 0.2 s).
    first_beats = [c for c in api_server.calls_to("heartbeat") if first["sessionId"] in c.path]
    await asyncio.sleep(0.5)
    assert [c for c in api_server.calls_to("heartbeat") if first["sessionId"] in c.path] == first_beats
    assert all(c.at <= failed[0].at for c in first_beats)
    # Logged, by type and place, never with the exception's text.
    crash_logs = [r.getMessage() for r in caplog.records if "crashed" in r.getMessage()]
    assert crash_logs and "RuntimeError" in crash_logs[0]
    assert not any(token in r.getMessage() for r in caplog.records)


async def test_crash_before_the_candidate_joined_returns_the_message(
    sqs: tuple[Any, str], api_server: ApiServer, ws_server: WsServer
) -> None:
    """run() raises at the claim (a bot-side bug, nothing reported): the message goes back at once and
    the next receive (here the same bot) runs the interview."""
    client, url = sqs
    body = payload_dict(api_server.url, ws_server.url)
    send(client, url, body)
    inner = Factory(CandidateScript(answers=list(ANSWERS)))

    def factory(payload: BotPayload) -> InterviewSession:
        session = inner(payload)
        if len(inner.sessions) == 1:

            async def heartbeat(body: dict[str, Any] | None = None) -> Any:
                raise KeyError("unexpected")

            session.lifecycle.heartbeat = heartbeat  # type: ignore[method-assign]
        return session

    worker = StandbyWorker(url, sqs=client, settings=settings(max_interviews=2), session_factory=factory)
    await asyncio.wait_for(worker.run(), 30)

    assert [h.disposition for h in worker.handled] == ["returned", "deleted"]
    crashed, served = (h.outcome for h in worker.handled)
    assert crashed is not None and (crashed.status, crashed.reason) == ("crashed", "bot_error: KeyError")
    assert served is not None and served.status == "completed"
    assert api_server.actions().count("failed") == 0  # nothing reported for the crash
    assert api_server.actions().count("completed") == 1
    assert counts(client, url) == (0, 0)


async def test_session_setup_error_returns_the_message_and_keeps_polling(
    sqs: tuple[Any, str], api_server: ApiServer, ws_server: WsServer
) -> None:
    client, url = sqs
    send(client, url, payload_dict(api_server.url, ws_server.url))
    inner = Factory(CandidateScript(answers=list(ANSWERS)))
    attempts: list[str] = []

    def factory(payload: BotPayload) -> InterviewSession:
        attempts.append(payload.session_id)
        if len(attempts) == 1:
            raise OSError("no file descriptors left")
        return inner(payload)

    worker = StandbyWorker(url, sqs=client, settings=settings(max_interviews=2), session_factory=factory)
    await asyncio.wait_for(worker.run(), 30)
    assert [h.disposition for h in worker.handled] == ["returned", "deleted"]
    assert counts(client, url) == (0, 0)
