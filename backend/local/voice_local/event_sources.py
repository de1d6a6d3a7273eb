"""The local stack's event sources: what AWS would deliver to the event-driven Lambdas.

- SQS event source mappings: long-poll a queue, invoke the Lambda with the SQS event (up to 10 records),
  delete the records it did not report in ``batchItemFailures`` (failed ones reappear after their
  visibility timeout, as with ReportBatchItemFailures). DISPATCH_CHECK_QUEUE_URL -> voice-events,
  WORKER_QUEUE_URL -> voice-worker (when that Lambda exists).
- EventBridge schedule: a "Scheduled Event" to voice-events every ``watchdog_interval`` seconds.
- EventBridge rule on ECS: a task in moto's cluster that reaches STOPPED becomes an
  "ECS Task State Change" event to voice-events (moto emits no events itself).

Each source is one daemon thread; a Lambda error is logged and the source goes on, like AWS retrying.
"""

from __future__ import annotations

import functools
import logging
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from voice_local.aws import local_client
from voice_local.lambdas import ACCOUNT_ID, LAMBDAS_DIR, invoke_lambda

log = logging.getLogger("voice_local.event_sources")

Invoker = Callable[[str, dict[str, Any]], Any]


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def sqs_records(messages: list[dict[str, Any]], queue_arn: str, region: str) -> dict[str, Any]:
    """The event an SQS event source mapping delivers for received messages."""
    return {
        "Records": [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": {k: str(v) for k, v in (m.get("Attributes") or {}).items()},
                "messageAttributes": {
                    k: {"stringValue": v.get("StringValue"), "dataType": v.get("DataType", "String")}
                    for k, v in (m.get("MessageAttributes") or {}).items()
                },
                "md5OfBody": m.get("MD5OfBody", ""),
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": region,
            }
            for m in messages
        ]
    }


def scheduled_event(rule: str, region: str) -> dict[str, Any]:
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT_ID,
        "time": _now(),
        "region": region,
        "resources": [f"arn:aws:events:{region}:{ACCOUNT_ID}:rule/{rule}"],
        "detail": {},
    }


def task_state_event(task: dict[str, Any], region: str) -> dict[str, Any]:
    """EventBridge's ECS Task State Change event for a described task (the fields voice-events reads)."""
    detail = {
        "clusterArn": task.get("clusterArn"),
        "taskArn": task["taskArn"],
        "taskDefinitionArn": task.get("taskDefinitionArn"),
        "lastStatus": task.get("lastStatus"),
        "desiredStatus": task.get("desiredStatus"),
        "startedBy": task.get("startedBy"),
        "stopCode": task.get("stopCode") or "EssentialContainerExited",
        "stoppedReason": task.get("stoppedReason"),
        "containers": [
            {"name": c.get("name"), "lastStatus": c.get("lastStatus"), "exitCode": c.get("exitCode")}
            for c in task.get("containers") or []
        ],
    }
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "ECS Task State Change",
        "source": "aws.ecs",
        "account": ACCOUNT_ID,
        "time": _now(),
        "region": region,
        "resources": [task["taskArn"]],
        "detail": detail,
    }


class EventSources:
    """Start with ``start()``, stop with ``stop()``; ``env`` holds the resource names (create_resources)."""

    def __init__(
        self,
        *,
        aws_endpoint: str,
        env: dict[str, str],
        invoker: Invoker | None = None,
        watchdog_interval: float = 5.0,
        ecs_poll_interval: float = 1.0,
        region: str = "us-east-1",
    ) -> None:
        self._sqs: Any = local_client("sqs", aws_endpoint, region)
        self._ecs: Any = local_client("ecs", aws_endpoint, region)
        self.env = env
        self.region = region
        self.invoke = invoker or invoke_lambda
        self.watchdog_interval = watchdog_interval
        self.ecs_poll_interval = ecs_poll_interval
        self.invocations: dict[str, int] = {}
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._stopped_seen: set[str] = set()

    def start(self) -> None:
        mappings = [("DISPATCH_CHECK_QUEUE_URL", "voice-events"), ("WORKER_QUEUE_URL", "voice-worker")]
        for env_name, lambda_name in mappings:
            url = self.env.get(env_name)
            if url and (LAMBDAS_DIR / lambda_name / "lambda_function.py").is_file():
                self._spawn(functools.partial(self._poll_queue, url, lambda_name), f"sqs->{lambda_name}")
        if self.watchdog_interval > 0:
            self._spawn(self._watchdog, "schedule->voice-events")
        if self.env.get("ECS_CLUSTER"):
            self._stopped_seen.update(self._stopped_tasks())  # only tasks stopping from now on
            self._spawn(self._watch_ecs, "ecs->voice-events")

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=timeout)
        self._threads.clear()

    def _spawn(self, target: Callable[[], None], name: str) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    def _call(self, name: str, event: dict[str, Any]) -> Any:
        self.invocations[name] = self.invocations.get(name, 0) + 1
        try:
            return self.invoke(name, event)
        except Exception:
            log.exception("%s failed", name)
            return None

    # ------------------------------------------------------------------ SQS

    def _poll_queue(self, url: str, lambda_name: str) -> None:
        arn = self._sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        while not self._stop.is_set():
            try:
                messages = self._sqs.receive_message(
                    QueueUrl=url,
                    MaxNumberOfMessages=10,
                    WaitTimeSeconds=1,
                    AttributeNames=["All"],
                    MessageAttributeNames=["All"],
                ).get("Messages", [])
            except Exception as exc:
                if self._stop.is_set():
                    return
                log.warning("receive from %s failed: %s", lambda_name, type(exc).__name__)
                self._stop.wait(1.0)
                continue
            if not messages:
                continue
            result = self._call(lambda_name, sqs_records(messages, arn, self.region))
            if result is None:
                continue  # the invocation failed: every record comes back after its visibility timeout
            failed = {f.get("itemIdentifier") for f in (result or {}).get("batchItemFailures") or []}
            for m in messages:
                if m["MessageId"] not in failed:
                    self._sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])

    # ------------------------------------------------------------------ schedules and ECS

    def _watchdog(self) -> None:
        rule = "cora-local-voice-watchdog"
        while not self._stop.wait(self.watchdog_interval):
            self._call("voice-events", scheduled_event(rule, self.region))

    def _stopped_tasks(self) -> list[str]:
        try:
            return list(
                self._ecs.list_tasks(cluster=self.env["ECS_CLUSTER"], desiredStatus="STOPPED")["taskArns"]
            )
        except Exception:
            return []

    def _watch_ecs(self) -> None:
        while not self._stop.wait(self.ecs_poll_interval):
            new = [arn for arn in self._stopped_tasks() if arn not in self._stopped_seen]
            if not new:
                continue
            self._stopped_seen.update(new)
            try:
                tasks = self._ecs.describe_tasks(cluster=self.env["ECS_CLUSTER"], tasks=new)["tasks"]
            except Exception as exc:
                log.warning("describe_tasks failed: %s", type(exc).__name__)
                continue
            for task in tasks:
                self._call("voice-events", task_state_event(task, self.region))
