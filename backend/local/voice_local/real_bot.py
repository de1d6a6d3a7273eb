"""The real Pipecat bot (backend/bot) for the local stack: ``make dev BOT=real``.

``RealBotFleet`` has ``SimBotFleet``'s interface (``start()`` / ``stop()``) and plays the cloud's part
around the unchanged bot program, run from its own virtualenv (``.venv-bot``, ``make bot-venv``):

- pool: ``pool_size`` processes ``<bot python> -m voice_bot standby`` long-poll the standby queue (the
  ECS standby service's containers);
- task: a watcher polls moto's ECS cluster for new RUNNING tasks (as ``voice_common.dispatch.run_bot_task``
  starts them) and runs ``<bot python> -m voice_bot task`` for each with the environment of the task's
  container overrides (``BOT_PAYLOAD`` with the KMS-sealed tokens, ``SESSION_ID``); when that process
  exits, the task is stopped (``ecs.stop_task``), as ECS does when the essential container exits; a task
  stopped from outside (the API's ``stop_bot_task``) gets SIGTERM, as ECS sends its container.

Each process gets a container-like environment: the AWS endpoint of the local moto server with dummy
credentials (the bot's boto3 clients - SQS, KMS unsealing, Secrets Manager - talk to moto), a region, a
short drain budget (``BOT_DRAIN_TIMEOUT_SECONDS``, 10 s, so Ctrl-C does not wait ECS's 110 s), a 5 s SQS
long poll (``BOT_WAIT_TIME_SECONDS``) and a health file of its own, plus ``PATH``/``HOME``/locale/proxy
variables, ``LOG_LEVEL``/``PIPECAT_LOG_LEVEL`` and every ``BOT_*`` variable of the caller's environment.
The stack's own secrets (``DATABASE_URL``, ``SUPABASE_JWT_SECRET``...) are not passed. ``stop()`` sends
SIGTERM to every process, waits for the drain budget plus a margin, then kills what is left.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from voice_local.aws import aws_environment, local_client
from voice_local.ecs_tasks import describe_tasks, task_environment
from voice_local.lambdas import DEFAULT_REGION, REPO_ROOT

log = logging.getLogger("voice_local.real_bot")

BOT_VENV_PYTHON = REPO_ROOT / ".venv-bot" / "bin" / "python"
BUILD_HINT = "run `make bot-venv` (`make dev BOT=real` builds it first)"
DEFAULT_DRAIN_SECONDS = 10.0
STOP_MARGIN_SECONDS = 5.0
TASK_EXIT_REASON = "Essential container in task exited"
LOCAL_WAIT_TIME_SECONDS = "5"  # the standby bots' SQS long poll (20 s in AWS): Ctrl-C waits at most this

# Taken from the caller's environment as they are (a container would get its own equivalents).
PASSTHROUGH = (
    "PATH",
    "HOME",
    "USER",
    "LANG",
    "LC_ALL",
    "LC_CTYPE",
    "TZ",
    "TMPDIR",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "REQUESTS_CA_BUNDLE",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "NO_PROXY",
    "http_proxy",
    "https_proxy",
    "no_proxy",
    "XDG_CACHE_HOME",
    "HF_HOME",
    "LOG_LEVEL",
    "PIPECAT_LOG_LEVEL",
)


class BotUnavailableError(RuntimeError):
    """The bot program cannot be run (its virtualenv is missing); the message says how to build it."""


def default_bot_command() -> list[str]:
    return [str(BOT_VENV_PYTHON), "-m", "voice_bot"]


def check_bot_command(command: Sequence[str]) -> list[str]:
    """``command`` as a list, or ``BotUnavailableError`` when its interpreter is not an executable file."""
    parts = [str(part) for part in command]
    if not parts:
        raise BotUnavailableError("the bot command is empty")
    program = parts[0]
    resolved = program if os.sep in program else shutil.which(program)
    if resolved is None or not os.path.isfile(resolved) or not os.access(resolved, os.X_OK):
        if Path(program) == BOT_VENV_PYTHON:
            raise BotUnavailableError(
                f"the real bot needs its virtualenv, {BOT_VENV_PYTHON} is missing: {BUILD_HINT}"
            )
        raise BotUnavailableError(f"the bot interpreter {program} does not exist or is not executable")
    return parts


@dataclass
class BotProcess:
    """One bot process: a standby worker, or the container of one ECS task (``task_arn``)."""

    name: str
    process: subprocess.Popen[bytes]
    task_arn: str | None = None
    reported: bool = False  # its exit was handled (task stopped / warning logged)
    terminated: bool = False  # its ECS task was stopped from outside: SIGTERM sent


class RealBotFleet:
    """Standby bot processes on the pool queue and one bot process per ECS task (see the module doc)."""

    def __init__(
        self,
        *,
        aws_endpoint: str,
        standby_queue_url: str | None,
        cluster: str | None,
        pool_size: int = 2,
        bot_command: Sequence[str] | None = None,
        env: Mapping[str, str] | None = None,
        drain_timeout: float | None = None,
        poll_interval: float = 0.25,
        region: str = DEFAULT_REGION,
    ) -> None:
        """``bot_command``: the program prefix before ``standby`` / ``task`` (default
        ``.venv-bot/bin/python -m voice_bot``; ``BotUnavailableError`` when its interpreter is missing).
        ``env``: extra variables for every bot process. ``drain_timeout``: the bots' drain budget
        (``BOT_DRAIN_TIMEOUT_SECONDS`` of the environment, else 10 s); ``stop()`` waits that long plus 5 s."""

        self.bot_command = check_bot_command(
            bot_command if bot_command is not None else default_bot_command()
        )
        self._ecs: Any = local_client("ecs", aws_endpoint, region)
        self.aws_endpoint = aws_endpoint
        self.region = region
        self.standby_queue_url = standby_queue_url
        self.cluster = cluster
        self.pool_size = pool_size
        self.extra_env = dict(env or {})
        self.drain_timeout = drain_timeout if drain_timeout is not None else _drain_from_env()
        self.poll_interval = poll_interval
        self.processes: list[BotProcess] = []
        self._seen_tasks: set[str] = set()
        self._stop = threading.Event()
        self._watcher: threading.Thread | None = None
        self._lock = threading.Lock()
        self._work_dir: tempfile.TemporaryDirectory[str] | None = None

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        self._work_dir = tempfile.TemporaryDirectory(prefix="voice-bots-")
        if self.standby_queue_url:
            for i in range(self.pool_size):
                env = self.base_env(f"standby-{i}")
                env["STANDBY_QUEUE_URL"] = self.standby_queue_url
                self._spawn(f"standby-{i}", "standby", env)
        if self.cluster:
            self._seen_tasks.update(self._running_tasks() or [])  # tasks from before this fleet are not ours
        self._watcher = threading.Thread(target=self._watch, name="real-bot-watcher", daemon=True)
        self._watcher.start()
        log.info(
            "real bots: %d standby process(es), one process per ECS task (%s)",
            self.pool_size if self.standby_queue_url else 0,
            " ".join(self.bot_command),
        )

    def stop(self, timeout: float | None = None) -> None:
        """SIGTERM to every bot process; SIGKILL to those still running after ``timeout`` (drain + 5 s)."""
        self._stop.set()
        if self._watcher is not None:
            self._watcher.join(timeout=10)
            self._watcher = None
        with self._lock:
            running = [bot for bot in self.processes if bot.process.poll() is None]
        for bot in running:
            _signal(bot.process, signal.SIGTERM)
        deadline = time.monotonic() + (
            timeout if timeout is not None else self.drain_timeout + STOP_MARGIN_SECONDS
        )
        for bot in running:
            try:
                bot.process.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log.warning("bot %s did not exit after SIGTERM: killed", bot.name)
                _signal(bot.process, signal.SIGKILL)
                bot.process.wait(timeout=5)
        self._reap()  # their ECS tasks stop too
        if self._work_dir is not None:
            self._work_dir.cleanup()
            self._work_dir = None

    # ------------------------------------------------------------------ processes

    def base_env(self, name: str) -> dict[str, str]:
        """The environment of one bot process (without its mode's variables)."""
        env = {key: os.environ[key] for key in PASSTHROUGH if key in os.environ}
        env.update({key: value for key, value in os.environ.items() if key.startswith("BOT_")})
        env.setdefault(
            "BOT_WAIT_TIME_SECONDS", LOCAL_WAIT_TIME_SECONDS
        )  # a shorter SQS long poll: quicker Ctrl-C
        env.update(aws_environment(self.aws_endpoint, self.region))
        env["BOT_DRAIN_TIMEOUT_SECONDS"] = _number(self.drain_timeout)
        if self._work_dir is not None:
            env["BOT_HEALTH_FILE"] = str(Path(self._work_dir.name) / f"{name}.health")
        env["PYTHONUNBUFFERED"] = "1"
        env.update(self.extra_env)
        return env

    def _spawn(self, name: str, mode: str, env: dict[str, str], task_arn: str | None = None) -> BotProcess:
        # A session of its own: the terminal's Ctrl-C reaches the stack, which stops the bots in order
        # (SIGTERM, drain) while the API they report to is still up.
        process = subprocess.Popen(
            [*self.bot_command, mode], env=env, cwd=str(REPO_ROOT), start_new_session=True
        )
        bot = BotProcess(name, process, task_arn)
        with self._lock:
            self.processes.append(bot)
        log.info("bot %s started (pid %d)", name, process.pid)
        return bot

    def _reap(self) -> None:
        """Handle exited bots: stop their ECS task; a standby bot exiting on its own gets a warning."""
        with self._lock:
            done = [bot for bot in self.processes if not bot.reported and bot.process.poll() is not None]
            for bot in done:
                bot.reported = True
        for bot in done:
            code = bot.process.returncode
            if bot.task_arn is None:
                if not self._stop.is_set():
                    log.warning("standby bot %s exited with code %s (not restarted)", bot.name, code)
                continue
            log.info("bot %s exited with code %s: stopping its ECS task", bot.name, code)
            try:
                self._ecs.stop_task(cluster=self.cluster, task=bot.task_arn, reason=TASK_EXIT_REASON)
            except Exception as exc:  # already stopped (by the API), or moto is gone
                log.debug("stop_task for %s failed: %s", bot.name, type(exc).__name__)

    # ------------------------------------------------------------------ ECS

    def _running_tasks(self) -> list[str] | None:
        """The cluster's RUNNING task ARNs; None when ECS could not be asked."""
        try:
            return list(self._ecs.list_tasks(cluster=self.cluster, desiredStatus="RUNNING")["taskArns"])
        except Exception as exc:
            if not self._stop.is_set():
                log.debug("list_tasks failed: %s", type(exc).__name__)
            return None

    def _watch(self) -> None:
        while not self._stop.wait(self.poll_interval):
            self._reap()
            if not self.cluster:
                continue
            running = self._running_tasks()
            if running is None:
                continue
            self._start_new_tasks([arn for arn in running if arn not in self._seen_tasks])
            self._forward_stops(set(running))

    def _forward_stops(self, running: set[str]) -> None:
        """A task stopped through the API (``stop_bot_task``): SIGTERM its container, as ECS does."""
        with self._lock:
            stopped = [
                bot
                for bot in self.processes
                if bot.task_arn is not None
                and not bot.terminated
                and bot.task_arn not in running
                and bot.process.poll() is None
            ]
            for bot in stopped:
                bot.terminated = True
        for bot in stopped:
            log.info("ECS task of bot %s was stopped: SIGTERM", bot.name)
            _signal(bot.process, signal.SIGTERM)

    def _start_new_tasks(self, new: list[str]) -> None:
        if not new:
            return
        self._seen_tasks.update(new)
        for task in describe_tasks(self._ecs, self.cluster, new):
            overrides = task_environment(task)
            if "BOT_PAYLOAD" not in overrides:
                log.warning("ECS task %s has no BOT_PAYLOAD override: no bot started", task["taskArn"])
                continue
            if self._stop.is_set():
                return
            name = f"task-{str(task['taskArn']).rsplit('/', 1)[-1][:8]}"
            self._spawn(name, "task", {**self.base_env(name), **overrides}, task_arn=str(task["taskArn"]))


def store_openai_key(aws_endpoint: str, key: str, *, region: str = DEFAULT_REGION) -> str:
    """Put ``OPENAI_API_KEY`` into moto's Secrets Manager (``cora-local-voice-openai-api-key``); its ARN.

    The dispatch payload names the bot's LLM key by ARN (``OPENAI_API_KEY_SECRET_ARN``), and moto only
    exists once the stack runs, so the stack creates the secret from the environment's key.
    """
    client: Any = local_client("secretsmanager", aws_endpoint, region)
    name = "cora-local-voice-openai-api-key"
    value = json.dumps({"api_key": key})
    try:
        return str(client.create_secret(Name=name, SecretString=value)["ARN"])
    except client.exceptions.ResourceExistsException:
        return str(client.put_secret_value(SecretId=name, SecretString=value)["ARN"])


def _drain_from_env() -> float:
    try:
        value = float(os.environ.get("BOT_DRAIN_TIMEOUT_SECONDS", ""))
    except ValueError:
        return DEFAULT_DRAIN_SECONDS
    return value if value > 0 else DEFAULT_DRAIN_SECONDS


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _signal(process: subprocess.Popen[bytes], signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        process.send_signal(signum)
