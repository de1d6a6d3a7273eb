"""Simulated interview bots for the local stack: the whole bot protocol, no audio.

``SimBotFleet`` plays both dispatch paths the way the real bot (backend/bot) does:
- pool: ``pool_size`` standby workers long-poll the standby queue; a BOT_REQUEST becomes an interview;
- task: a watcher polls moto's ECS cluster (list_tasks / describe_tasks) for new RUNNING tasks and reads
  the ``BOT_PAYLOAD`` of their container overrides; the task is stopped when its interview ends, like a
  container exiting (the event sources turn that into an ECS Task State Change event).

One interview (``SimBot.run``): first heartbeat (the claim; a 4xx means "no bot wanted here": leave),
heartbeats every ``heartbeat_interval``, ``joined`` after ``join_delay`` (the candidate arriving), a short
scripted conversation published as transcript segments over the WebSocket (``?token=<botToken>``, acked by
the server), then ``completed``. A 409 to a heartbeat (session cancelled or failed meanwhile) ends it.
Transcript text is never logged.
"""

from __future__ import annotations

import functools
import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import urllib3

from voice_common.dispatch import unseal_tokens
from voice_local.aws import local_client
from voice_local.ecs_tasks import describe_tasks, task_environment

log = logging.getLogger("voice_local.sim_bot")

DEFAULT_SCRIPT: tuple[tuple[str, str], ...] = (
    ("bot", "Hello! Thanks for joining. I'm your interview assistant today."),
    ("candidate", "Hi, happy to be here."),
    ("bot", "Tell me about a system you built recently."),
    (
        "candidate",
        "I built an event pipeline on AWS with SQS and Lambda, processing about a million events a day.",
    ),
    ("bot", "How did you make sure no event was lost?"),
    ("candidate", "Idempotent consumers, a dead-letter queue, and alarms on its depth."),
    ("bot", "That was my last question. Thank you for your time today. Goodbye!"),
)
REJECTING = frozenset({401, 403, 404, 409, 410})


@dataclass
class SimSettings:
    heartbeat_interval: float = 2.0
    join_delay: float = 0.3  # the candidate "arrives" this long after the bot is in the room
    segment_interval: float = 0.4
    ack_timeout: float = 3.0
    http_timeout: float = 5.0


@dataclass
class Interview:
    session_id: str
    mode: str  # "pool" | "task"
    dispatch_ref: str
    received_at: float  # time.time() when the bot got the request
    joined_at: float | None = None
    outcome: str = "running"  # running | completed | rejected | ended | failed
    acked: int = 0


@dataclass
class _Callbacks:
    on_joined: list[Callable[[Interview], None]] = field(default_factory=list)


class SimBot:
    """One interview for one dispatch payload (blocking; run it in a thread)."""

    def __init__(
        self,
        payload: dict[str, Any],
        interview: Interview,
        settings: SimSettings,
        http: urllib3.PoolManager,
        callbacks: _Callbacks | None = None,
    ) -> None:
        self.payload = payload
        self.interview = interview
        self.settings = settings
        self.http = http
        self.callbacks = callbacks or _Callbacks()
        self._base = f"{str(payload['apiBaseUrl']).rstrip('/')}/bot/sessions/{payload['sessionId']}"
        self._headers = {"Authorization": f"Bearer {payload['botToken']}", "Content-Type": "application/json"}
        self._stop = threading.Event()

    def _post(self, action: str, body: dict[str, Any] | None = None) -> int:
        try:
            resp = self.http.request(
                "POST",
                f"{self._base}/{action}",
                body=json.dumps(body or {}).encode(),
                headers=self._headers,
                timeout=self.settings.http_timeout,
                retries=urllib3.Retry(total=2, backoff_factor=0.2, status_forcelist=(502, 503, 504)),
            )
        except urllib3.exceptions.HTTPError as exc:
            log.warning("sim bot %s: %s failed (%s)", self.interview.session_id, action, type(exc).__name__)
            return 0
        return int(resp.status)

    def _heartbeats(self) -> None:
        while not self._stop.wait(self.settings.heartbeat_interval):
            status = self._post("heartbeat", {"phase": "interview"})
            if status in REJECTING:
                log.info("sim bot %s: heartbeat answered %d, leaving", self.interview.session_id, status)
                if self.interview.outcome == "running":  # never over the outcome the bot reported
                    self.interview.outcome = "ended"
                self._stop.set()

    def run(self) -> Interview:
        first = self._post("heartbeat", {"phase": "starting"})
        if first in REJECTING or first == 0:
            self.interview.outcome = "rejected"
            log.info("sim bot %s: not wanted (HTTP %s)", self.interview.session_id, first)
            return self.interview
        beats = threading.Thread(target=self._heartbeats, name="sim-bot-heartbeat", daemon=True)
        beats.start()
        try:
            if self._stop.wait(self.settings.join_delay):
                return self.interview
            if self._post("joined", {"participantId": "sim-candidate"}) >= 300:
                self.interview.outcome = "failed"
                return self.interview
            self.interview.joined_at = time.time()
            for callback in self.callbacks.on_joined:
                callback(self.interview)
            self._converse()
            if self._stop.is_set():
                return self.interview
            # Heartbeats end before the outcome is reported, as the real bot does: one in flight would
            # be answered 409 SESSION_ENDED by the session that just completed.
            self._stop.set()
            beats.join(timeout=self.settings.heartbeat_interval + self.settings.http_timeout + 1)
            status = self._post("completed", {})
            self.interview.outcome = "completed" if status < 300 else "failed"
            return self.interview
        finally:
            self._stop.set()
            beats.join(timeout=self.settings.heartbeat_interval + 1)

    def _converse(self) -> None:
        """Publish the script as transcript segments; a missing WebSocket only costs the live transcript."""
        url = str(self.payload.get("websocketUrl") or "")
        if not url:
            return
        separator = "&" if "?" in url else "?"
        try:
            from websockets.sync.client import connect

            with connect(f"{url}{separator}token={self.payload['botToken']}", open_timeout=5) as ws:
                clock = 0.0
                for seq, (speaker, text) in enumerate(DEFAULT_SCRIPT, start=1):
                    if self._stop.wait(self.settings.segment_interval):
                        return
                    duration = max(0.8, len(text) / 15)
                    ws.send(
                        json.dumps(
                            {
                                "action": "transcript",
                                "sessionId": self.payload["sessionId"],
                                "segment": {
                                    "seq": seq,
                                    "speaker": speaker,
                                    "text": text,
                                    "startTime": round(clock, 2),
                                    "endTime": round(clock + duration, 2),
                                    "confidence": 0.95,
                                    "isFinal": True,
                                },
                            }
                        )
                    )
                    clock += duration + 0.3
                    self._await_ack(ws, seq)
        except Exception as exc:  # the WebSocket API may be down; the interview itself goes on
            log.warning(
                "sim bot %s: transcript not published (%s)", self.interview.session_id, type(exc).__name__
            )

    def _await_ack(self, ws: Any, seq: int) -> None:
        deadline = time.monotonic() + self.settings.ack_timeout
        while time.monotonic() < deadline:
            try:
                raw = ws.recv(timeout=max(0.05, deadline - time.monotonic()))
            except TimeoutError:
                break
            message = json.loads(raw)
            if message.get("type") == "ack" and message.get("seq") == seq:
                self.interview.acked += 1
                return
            if message.get("type") == "error":
                log.warning(
                    "sim bot %s: server refused segment %d: %s",
                    self.interview.session_id,
                    seq,
                    message.get("code"),
                )
                return


class SimBotFleet:
    """Standby workers on the pool queue and a watcher on the ECS cluster (see the module doc)."""

    def __init__(
        self,
        *,
        aws_endpoint: str,
        standby_queue_url: str | None,
        cluster: str | None,
        pool_size: int = 2,
        settings: SimSettings | None = None,
        poll_interval: float = 0.25,
        region: str = "us-east-1",
    ) -> None:
        self._sqs: Any = local_client("sqs", aws_endpoint, region)
        self._ecs: Any = local_client("ecs", aws_endpoint, region)
        self._kms: Any = local_client("kms", aws_endpoint, region)  # unseals the task's tokens
        self.standby_queue_url = standby_queue_url
        self.cluster = cluster
        self.pool_size = pool_size
        self.settings = settings or SimSettings()
        self.poll_interval = poll_interval
        self.http = urllib3.PoolManager(maxsize=8)
        self.callbacks = _Callbacks()
        self.interviews: list[Interview] = []
        self._seen_tasks: set[str] = set()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()

    def on_joined(self, callback: Callable[[Interview], None]) -> None:
        self.callbacks.on_joined.append(callback)

    def start(self) -> None:
        if self.standby_queue_url:
            for i in range(self.pool_size):
                self._spawn(self._standby_worker, f"sim-standby-{i}")
        if self.cluster:
            self._seen_tasks.update(self._running_tasks())  # tasks from before this fleet are not ours
            self._spawn(self._task_watcher, "sim-task-watcher")

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=timeout)
        self._threads.clear()

    def _spawn(self, target: Callable[[], None], name: str) -> threading.Thread:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)
        return thread

    def _interview(self, payload: dict[str, Any], mode: str, ref: str, received_at: float) -> Interview:
        interview = Interview(str(payload.get("sessionId")), mode, ref, received_at)
        with self._lock:
            self.interviews.append(interview)
        SimBot(payload, interview, self.settings, self.http, self.callbacks).run()
        log.info("sim bot %s (%s): %s", interview.session_id, mode, interview.outcome)
        return interview

    # ------------------------------------------------------------------ pool

    def _standby_worker(self) -> None:
        assert self.standby_queue_url
        while not self._stop.is_set():
            try:
                got = self._sqs.receive_message(
                    QueueUrl=self.standby_queue_url,
                    MaxNumberOfMessages=1,
                    WaitTimeSeconds=1,
                    MessageAttributeNames=["All"],
                ).get("Messages", [])
            except Exception as exc:
                if self._stop.is_set():
                    return
                log.warning("standby receive failed: %s", type(exc).__name__)
                self._stop.wait(1.0)
                continue
            for message in got:
                received = time.time()
                try:
                    payload = json.loads(message["Body"])
                except ValueError:
                    payload = None
                if isinstance(payload, dict) and payload.get("type") == "BOT_REQUEST":
                    self._interview(payload, "pool", message["MessageId"], received)
                # Done (or unusable): a real standby bot deletes the message once the interview ended.
                self._sqs.delete_message(
                    QueueUrl=self.standby_queue_url, ReceiptHandle=message["ReceiptHandle"]
                )

    # ------------------------------------------------------------------ ECS

    def _running_tasks(self) -> list[str]:
        try:
            return list(self._ecs.list_tasks(cluster=self.cluster, desiredStatus="RUNNING")["taskArns"])
        except Exception:
            return []

    def _task_watcher(self) -> None:
        while not self._stop.wait(self.poll_interval):
            new = [arn for arn in self._running_tasks() if arn not in self._seen_tasks]
            if not new:
                continue
            self._seen_tasks.update(new)
            for task in describe_tasks(self._ecs, self.cluster, new):
                payload = _task_payload(task)
                if payload is None:
                    continue
                try:  # as the real bot does with its task role (voice_bot.config)
                    payload = unseal_tokens(payload, self._kms)
                except Exception as exc:
                    log.warning("unsealing the bot tokens failed: %s", type(exc).__name__)
                    continue
                self._spawn(functools.partial(self._run_task, task, payload), "sim-task-bot")

    def _run_task(self, task: dict[str, Any], payload: dict[str, Any]) -> None:
        interview = self._interview(payload, "task", task["taskArn"], time.time())
        reason = "Essential container in task exited"
        try:  # the container exits when its interview is over
            self._ecs.stop_task(cluster=self.cluster, task=task["taskArn"], reason=reason)
        except Exception:
            log.debug("stop_task for %s failed (already stopped?)", interview.session_id)


def _task_payload(task: dict[str, Any]) -> dict[str, Any] | None:
    raw = task_environment(task).get("BOT_PAYLOAD")
    try:
        value = json.loads(raw) if raw else None
    except ValueError:
        return None
    return value if isinstance(value, dict) else None
