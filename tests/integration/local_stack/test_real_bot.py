"""``make dev BOT=real``: voice_local.real_bot.RealBotFleet against the tests' moto server.

The bot program is a stand-in (a small script written here: it records its argv and environment, then
waits for SIGTERM or, in task mode, for the test to release it), so these tests need neither pipecat nor
.venv-bot; everything else is real: subprocesses, signals, moto's ECS and KMS, ``run_bot_task``.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import boto3
import pytest

from voice_local import real_bot
from voice_local.real_bot import BotUnavailableError, RealBotFleet

FAKE_BOT = """
import json, os, signal, sys, time
from pathlib import Path

runs = Path(__file__).parent / "runs"
mode = sys.argv[1]
pid = os.getpid()
record = {"argv": sys.argv[1:], "pid": pid, "env": dict(os.environ)}
(runs / f"{pid}.tmp").write_text(json.dumps(record))
(runs / f"{pid}.tmp").rename(runs / f"{pid}.json")

def on_term(signum, frame):
    (runs / f"{pid}.terminated").write_text(str(signum))
    sys.exit(0)

signal.signal(signal.SIGTERM, signal.SIG_IGN if os.environ.get("FAKE_IGNORE_TERM") else on_term)
release = runs.parent / f"release-{os.environ.get('SESSION_ID')}"
deadline = time.monotonic() + 60
while time.monotonic() < deadline:
    if mode == "task" and release.exists():
        sys.exit(int(release.read_text() or "0"))
    time.sleep(0.02)
sys.exit(3)
"""


class FakeBot:
    """The stand-in bot's directory: its script, what each process recorded, release files."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.runs = root / "runs"
        self.runs.mkdir(parents=True)
        self.script = root / "fake_bot.py"
        self.script.write_text(FAKE_BOT)

    @property
    def command(self) -> list[str]:
        return [sys.executable, str(self.script)]

    def records(self) -> list[dict[str, Any]]:
        return [json.loads(p.read_text()) for p in sorted(self.runs.glob("*.json"))]

    def by_mode(self, mode: str) -> list[dict[str, Any]]:
        return [r for r in self.records() if r["argv"] == [mode]]

    def terminated(self, pid: int) -> bool:
        return (self.runs / f"{pid}.terminated").exists()

    def release(self, session_id: str, code: int = 0) -> None:
        (self.root / f"release-{session_id}").write_text(str(code))


def wait_for(check: Callable[[], Any], timeout: float = 15.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    pytest.fail(f"timed out waiting for {what}")


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.fixture
def fake_bot(tmp_path: Path) -> FakeBot:
    return FakeBot(tmp_path)


@pytest.fixture
def fleet_factory(aws_env: dict[str, str], fake_bot: FakeBot) -> Iterator[Callable[..., RealBotFleet]]:
    fleets: list[RealBotFleet] = []

    def make(**kwargs: Any) -> RealBotFleet:
        options: dict[str, Any] = {
            "aws_endpoint": aws_env["AWS_ENDPOINT_URL"],
            "standby_queue_url": aws_env["STANDBY_QUEUE_URL"],
            "cluster": aws_env["ECS_CLUSTER"],
            "pool_size": 2,
            "bot_command": fake_bot.command,
            "poll_interval": 0.05,
            **kwargs,
        }
        fleet = RealBotFleet(**options)
        fleets.append(fleet)
        return fleet

    yield make
    for fleet in fleets:  # a failed test must not leave processes behind
        fleet.stop(timeout=2)


def ecs(aws_env: dict[str, str]) -> Any:
    return boto3.client("ecs", endpoint_url=aws_env["AWS_ENDPOINT_URL"], region_name="us-east-1")


def dispatch_task(session_id: str) -> str:
    """Start a bot task exactly as the orchestrator does (sealed tokens in the BOT_PAYLOAD override)."""
    from voice_common.dispatch import build_payload, run_bot_task

    payload = build_payload(
        session_id=session_id,
        org_id=str(uuid.uuid4()),
        room_url="https://example.daily.co/room",
        room_token="room-token-secret",
        bot_token="bot-token-secret",
        config={"bot_name": "Test"},
        knowledge=[],
        secret_arns={},
    )
    return run_bot_task(payload)


def task_status(aws_env: dict[str, str], arn: str) -> str:
    """The task's desiredStatus: RUNNING until stop_task (moto's lastStatus walks on by itself)."""
    tasks = ecs(aws_env).describe_tasks(cluster=aws_env["ECS_CLUSTER"], tasks=[arn])["tasks"]
    return str(tasks[0]["desiredStatus"])


def override_env(aws_env: dict[str, str], arn: str) -> dict[str, str]:
    task = ecs(aws_env).describe_tasks(cluster=aws_env["ECS_CLUSTER"], tasks=[arn])["tasks"][0]
    return real_bot.task_environment(task)


def test_standby_processes_get_the_bot_environment(fleet_factory, fake_bot, aws_env, monkeypatch):
    monkeypatch.setenv("BOT_NO_SHOW_TIMEOUT_SECONDS", "7")  # BOT_* settings reach the bots
    monkeypatch.setenv("DATABASE_URL", "postgresql://secret@/stack-only")  # the stack's own: not passed
    fleet = fleet_factory(pool_size=3, drain_timeout=4)
    fleet.start()

    standby = wait_for(lambda: len(fake_bot.by_mode("standby")) == 3 and fake_bot.by_mode("standby"))
    health_files = set()
    for record in standby:
        env = record["env"]
        assert env["STANDBY_QUEUE_URL"] == aws_env["STANDBY_QUEUE_URL"]
        assert env["AWS_ENDPOINT_URL"] == aws_env["AWS_ENDPOINT_URL"]
        assert env["AWS_REGION"] == env["AWS_DEFAULT_REGION"] == "us-east-1"
        assert env["AWS_ACCESS_KEY_ID"] == env["AWS_SECRET_ACCESS_KEY"] == "testing"
        assert env["BOT_DRAIN_TIMEOUT_SECONDS"] == "4"
        assert env["BOT_NO_SHOW_TIMEOUT_SECONDS"] == "7"
        assert env["BOT_WAIT_TIME_SECONDS"] == "5"  # a short long poll: Ctrl-C is quick
        assert "BOT_PAYLOAD" not in env and "SESSION_ID" not in env
        assert "DATABASE_URL" not in env and "SUPABASE_JWT_SECRET" not in env
        health_files.add(env["BOT_HEALTH_FILE"])
    assert len(health_files) == 3  # one health file each
    assert {r["pid"] for r in standby} == {b.process.pid for b in fleet.processes}

    fleet.stop()
    for record in standby:
        assert fake_bot.terminated(record["pid"]), "standby bot did not get SIGTERM"
        assert not alive(record["pid"])
    assert all(b.process.returncode == 0 for b in fleet.processes)


def test_one_task_process_per_ecs_task_and_the_task_stops_when_it_exits(fleet_factory, fake_bot, aws_env):
    fleet = fleet_factory(pool_size=0)
    fleet.start()
    sessions = [str(uuid.uuid4()), str(uuid.uuid4())]
    arns = {session: dispatch_task(session) for session in sessions}

    tasks = wait_for(
        lambda: len(fake_bot.by_mode("task")) == 2 and fake_bot.by_mode("task"), what="task bots"
    )
    time.sleep(0.3)  # several more watcher polls: still one process per task
    assert len(fake_bot.by_mode("task")) == 2
    assert fake_bot.by_mode("standby") == []
    by_session = {r["env"]["SESSION_ID"]: r for r in tasks}
    assert set(by_session) == set(sessions)
    for session, arn in arns.items():
        env = by_session[session]["env"]
        overrides = override_env(aws_env, arn)
        assert env["BOT_PAYLOAD"] == overrides["BOT_PAYLOAD"]  # the sealed payload, as ECS passes it
        payload = json.loads(env["BOT_PAYLOAD"])
        assert payload["sessionId"] == session and "sealedTokens" in payload and "botToken" not in payload
        assert env["AWS_ENDPOINT_URL"] == aws_env["AWS_ENDPOINT_URL"]  # where the bot's KMS unseal goes
        assert "STANDBY_QUEUE_URL" not in env
        assert task_status(aws_env, arn) == "RUNNING"  # the container runs: the task is not stopped

    first, second = sessions
    fake_bot.release(first, code=1)
    wait_for(lambda: task_status(aws_env, arns[first]) == "STOPPED", what="the first task to stop")
    assert task_status(aws_env, arns[second]) == "RUNNING"
    stopped = ecs(aws_env).describe_tasks(cluster=aws_env["ECS_CLUSTER"], tasks=[arns[first]])["tasks"][0]
    assert stopped["stoppedReason"] == real_bot.TASK_EXIT_REASON

    fake_bot.release(second)
    wait_for(lambda: task_status(aws_env, arns[second]) == "STOPPED", what="the second task to stop")
    assert [b.process.returncode for b in fleet.processes] == [
        1 if b.task_arn == arns[first] else 0 for b in fleet.processes
    ]
    assert not any(fake_bot.terminated(r["pid"]) for r in tasks)  # they exited on their own
    fleet.stop()


def test_tasks_from_before_the_fleet_are_left_alone(fleet_factory, fake_bot, aws_env):
    earlier = dispatch_task(str(uuid.uuid4()))
    fleet = fleet_factory(pool_size=0)
    fleet.start()
    later = str(uuid.uuid4())
    dispatch_task(later)
    wait_for(lambda: fake_bot.by_mode("task"), what="the new task's bot")
    time.sleep(0.3)
    assert [r["env"]["SESSION_ID"] for r in fake_bot.by_mode("task")] == [later]
    assert task_status(aws_env, earlier) == "RUNNING"
    fleet.stop()
    ecs(aws_env).stop_task(cluster=aws_env["ECS_CLUSTER"], task=earlier, reason="test cleanup")


def test_a_task_stopped_through_ecs_gets_sigterm(fleet_factory, fake_bot, aws_env):
    fleet = fleet_factory(pool_size=0)
    fleet.start()
    session = str(uuid.uuid4())
    arn = dispatch_task(session)
    record = wait_for(lambda: fake_bot.by_mode("task") and fake_bot.by_mode("task")[0], what="the task bot")
    from voice_common.dispatch import stop_bot_task

    assert stop_bot_task(arn, "session cancelled") is True  # what the API does
    wait_for(lambda: fake_bot.terminated(record["pid"]), what="SIGTERM to the task bot")
    wait_for(lambda: not alive(record["pid"]), what="the task bot to exit")
    fleet.stop()


def test_stop_kills_a_bot_that_ignores_sigterm(fleet_factory, fake_bot):
    fleet = fleet_factory(pool_size=1, env={"FAKE_IGNORE_TERM": "1"})
    fleet.start()
    (record,) = wait_for(lambda: fake_bot.by_mode("standby"), what="the standby bot")
    started = time.monotonic()
    fleet.stop(timeout=0.5)
    assert time.monotonic() - started < 5
    assert not alive(record["pid"])
    assert fleet.processes[0].process.returncode == -signal.SIGKILL
    assert not fake_bot.terminated(record["pid"])


def test_missing_bot_venv_says_how_to_build_it(tmp_path, monkeypatch, aws_env):
    missing = tmp_path / ".venv-bot" / "bin" / "python"
    monkeypatch.setattr(real_bot, "BOT_VENV_PYTHON", missing)
    with pytest.raises(BotUnavailableError, match=r"make bot-venv") as caught:
        RealBotFleet(aws_endpoint=aws_env["AWS_ENDPOINT_URL"], standby_queue_url=None, cluster=None)
    assert str(missing) in str(caught.value)
    with pytest.raises(BotUnavailableError, match="does not exist"):
        real_bot.check_bot_command([str(tmp_path / "nope"), "-m", "voice_bot"])


def test_the_stack_refuses_bot_real_without_the_bot_before_starting_anything(tmp_path):
    from voice_local.stack import LocalStack, StackError

    stack = LocalStack(
        port=0,
        aws_port=0,
        data_dir=tmp_path / "local",
        simulate=True,
        bot="real",
        bot_command=[str(tmp_path / "no-python")],
    )
    with pytest.raises(StackError, match="does not exist"):
        asyncio.run(stack.start())
    assert stack.moto.port is None and stack.daily is None and stack.database is None
    with pytest.raises(ValueError, match="sim, real"):
        LocalStack(bot="robot")


def test_cli_switch_and_banner_warning(tmp_path):
    from voice_local.__main__ import _banner, _parse

    assert _parse([]).bot == "sim"
    assert _parse(["--bot", "real"]).bot == "real"
    with pytest.raises(SystemExit):
        _parse(["--bot", "robot"])

    def banner(bot: str, standin: bool) -> str:
        stack = SimpleNamespace(
            data_dir=tmp_path,
            rest_url="http://127.0.0.1:1/api/voice",
            websocket_url="ws://127.0.0.1:1/ws",
            aws_endpoint="http://127.0.0.1:2",
            database_url=None,
            daily_api_url="http://127.0.0.1:3/v1",
            daily=object() if standin else None,
            bot=bot,
        )
        return _banner(stack)  # type: ignore[arg-type]

    assert "WARNING" in banner("real", standin=True) and "DAILY_API_KEY" in banner("real", standin=True)
    assert "real Pipecat bot" in banner("real", standin=False)
    assert "WARNING" not in banner("real", standin=False)
    assert "WARNING" not in banner("sim", standin=True) and "simulated" in banner("sim", standin=True)
