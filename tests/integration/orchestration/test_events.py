"""voice-events: pool pickup fallback (SQS), ECS task stopped (EventBridge), the watchdog (schedule)."""

from __future__ import annotations

import json
import time

import boto3
import pytest

from tests.integration.orchestration.conftest import (
    BUSINESS_HOURS,
    OFF_HOURS,
    bot_payload_of,
    session_row,
    sqs_event,
    tasks_for,
)


@pytest.fixture
def ecs(orch):
    return boto3.client("ecs", endpoint_url=orch["AWS_ENDPOINT_URL"])


@pytest.fixture
def sqs(orch):
    return boto3.client("sqs", endpoint_url=orch["AWS_ENDPOINT_URL"])


def receive(sqs, url, wait=3):
    """Receive (without deleting: the event source deletes after the Lambda succeeded)."""
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        got = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1, MaxNumberOfMessages=10).get("Messages", [])
        if got:
            return got
    return []


@pytest.fixture
def pooled(orch, scene, start, clock, sqs):
    """A session dispatched to the pool: (session id, the pooled request's payload)."""
    clock(BUSINESS_HOURS)
    session = scene.new_session()
    res = start(session["id"], scene.creator)
    assert res.status == 200 and res.data["dispatchMode"] == "pool", res.body
    (request,) = sqs.receive_message(QueueUrl=orch["STANDBY_QUEUE_URL"], WaitTimeSeconds=1)["Messages"]
    sqs.delete_message(QueueUrl=orch["STANDBY_QUEUE_URL"], ReceiptHandle=request["ReceiptHandle"])
    return session["id"], json.loads(request["Body"])


def test_unclaimed_pool_request_falls_back_to_one_ecs_task(
    orch, pooled, sqs, ecs, events_lambda, bot_call, admin_conn
):
    sid, pooled_payload = pooled
    checks = receive(sqs, orch["DISPATCH_CHECK_QUEUE_URL"])
    assert len(checks) == 1

    result = events_lambda(sqs_event(checks))

    assert result == {"batchItemFailures": []}
    (task,) = tasks_for(ecs, orch["ECS_CLUSTER"], sid)
    row = session_row(admin_conn, sid)
    assert row["status"] == "ready"
    assert row["dispatch_mode"] == "task" and row["dispatch_ref"] == task["taskArn"] == row["ecs_task_arn"]
    assert row["dispatch_fallback_at"] is not None
    task_payload = bot_payload_of(task)
    assert task_payload["roomUrl"] == pooled_payload["roomUrl"]
    assert task_payload["botToken"] != pooled_payload["botToken"]
    # A standby bot that takes the stale request now is told to leave; the task's bot is the session's bot.
    late = bot_call(sid, "heartbeat", pooled_payload["botToken"])
    assert (late.status, late.code) == (409, "BOT_SUPERSEDED")
    assert bot_call(sid, "heartbeat", task_payload["botToken"]).status == 200
    # The same check delivered again (at-least-once) does not start a second task.
    assert events_lambda(sqs_event(checks)) == {"batchItemFailures": []}
    assert len(tasks_for(ecs, orch["ECS_CLUSTER"], sid)) == 1


def test_claimed_pool_request_needs_no_fallback(orch, pooled, sqs, ecs, events_lambda, bot_call, admin_conn):
    sid, payload = pooled
    assert bot_call(sid, "heartbeat", payload["botToken"], body={"phase": "starting"}).status == 200
    checks = receive(sqs, orch["DISPATCH_CHECK_QUEUE_URL"])

    assert events_lambda(sqs_event(checks)) == {"batchItemFailures": []}

    assert tasks_for(ecs, orch["ECS_CLUSTER"], sid) == []
    assert session_row(admin_conn, sid)["dispatch_mode"] == "pool"
    assert bot_call(sid, "joined", payload["botToken"]).data["status"] == "active"


def test_pickup_check_for_a_cancelled_session_does_nothing(orch, pooled, sqs, ecs, events_lambda, admin_conn):
    sid, _ = pooled
    admin_conn.execute("UPDATE public.voice_sessions SET status = 'cancelled' WHERE id = %s", (sid,))
    checks = receive(sqs, orch["DISPATCH_CHECK_QUEUE_URL"])
    assert events_lambda(sqs_event(checks)) == {"batchItemFailures": []}
    assert tasks_for(ecs, orch["ECS_CLUSTER"], sid) == []


def test_a_fallback_without_ecs_capacity_is_retried_by_sqs(
    orch, pooled, sqs, events_lambda, ecs_without_capacity, admin_conn
):
    sid, _ = pooled
    checks = receive(sqs, orch["DISPATCH_CHECK_QUEUE_URL"])

    result = events_lambda(sqs_event(checks))

    assert result == {"batchItemFailures": [{"itemIdentifier": checks[0]["MessageId"]}]}
    row = session_row(admin_conn, sid)
    assert row["status"] == "ready" and row["dispatch_mode"] == "pool"  # unchanged, retried later


def ecs_stopped_event(task_arn: str, reason: str, exit_code: int | None = 137) -> dict:
    containers = [{"name": "pipecat-bot", "exitCode": exit_code}] if exit_code is not None else []
    return {
        "version": "0",
        "id": "8f07b6a5-0000-0000-0000-000000000000",
        "detail-type": "ECS Task State Change",
        "source": "aws.ecs",
        "account": "123456789012",
        "time": "2025-06-11T14:05:00Z",
        "region": "us-east-1",
        "resources": [task_arn],
        "detail": {
            "taskArn": task_arn,
            "lastStatus": "STOPPED",
            "desiredStatus": "STOPPED",
            "stopCode": "EssentialContainerExited",
            "stoppedReason": reason,
            "containers": containers,
        },
    }


def test_ecs_task_stopped_before_completion_fails_the_session_and_keeps_segments(
    orch, scene, start, clock, ecs, events_lambda, bot_call, admin_conn
):
    clock(OFF_HOURS)
    session = scene.new_session()
    assert start(session["id"], scene.creator).status == 200
    (task,) = tasks_for(ecs, orch["ECS_CLUSTER"], session["id"])
    token = bot_payload_of(task)["botToken"]
    assert bot_call(session["id"], "joined", token).status == 200
    admin_conn.execute(
        "INSERT INTO public.voice_transcript_segments (session_id, seq, speaker, text, start_time, end_time)"
        " VALUES (%s, 1, 'bot', 'Hello', 0, 1), (%s, 2, 'candidate', 'Hi', 1, 2)",
        (session["id"], session["id"]),
    )
    running = {**task, "lastStatus": "RUNNING"}
    assert (
        events_lambda({**ecs_stopped_event(task["taskArn"], "x"), "detail": running})["outcome"] == "ignored"
    )

    result = events_lambda(ecs_stopped_event(task["taskArn"], "Essential container in task exited"))

    assert result["outcome"] == "failed"
    row = session_row(admin_conn, session["id"])
    assert row["status"] == "failed"
    assert row["failure_reason"] == "Bot task stopped: Essential container in task exited; exit code 137"
    segments = admin_conn.execute(
        "SELECT count(*) AS n FROM public.voice_transcript_segments WHERE session_id = %s", (session["id"],)
    ).fetchone()
    assert segments["n"] == 2
    # Delivered twice, or for a session that already ended: nothing more happens.
    assert events_lambda(ecs_stopped_event(task["taskArn"], "again"))["outcome"] == "noop"
    assert session_row(admin_conn, session["id"])["failure_reason"].endswith("exit code 137")


def test_ecs_task_stopping_after_completion_changes_nothing(
    orch, scene, start, clock, ecs, events_lambda, bot_call, admin_conn
):
    clock(OFF_HOURS)
    session = scene.new_session()
    assert start(session["id"], scene.creator).status == 200
    (task,) = tasks_for(ecs, orch["ECS_CLUSTER"], session["id"])
    token = bot_payload_of(task)["botToken"]
    assert bot_call(session["id"], "joined", token).status == 200
    assert bot_call(session["id"], "completed", token).status == 200

    assert (
        events_lambda(ecs_stopped_event(task["taskArn"], "Essential container in task exited", 0))["outcome"]
        == "noop"
    )
    assert session_row(admin_conn, session["id"])["status"] == "completed"


def _age(admin_conn, session_id, **columns_seconds_ago):
    sets = ", ".join(f"{c} = now() - make_interval(secs => %s)" for c in columns_seconds_ago)
    admin_conn.execute(
        f"UPDATE public.voice_sessions SET {sets} WHERE id = %s", (*columns_seconds_ago.values(), session_id)
    )


def test_watchdog_fails_lost_bots_and_leaves_healthy_sessions(
    orch, scene, start, clock, ecs, events_lambda, bot_call, admin_conn, monkeypatch
):
    from voice_common.settings import get_settings

    monkeypatch.setenv("VOICE_BOT_JOIN_TIMEOUT_SECONDS", "30")
    monkeypatch.setenv("VOICE_BOT_HEARTBEAT_TIMEOUT_SECONDS", "20")
    monkeypatch.setenv("VOICE_SESSION_TIMEOUT_MINUTES", "5")
    monkeypatch.setenv("VOICE_CANDIDATE_JOIN_TIMEOUT_MINUTES", "2")
    get_settings.cache_clear()
    clock(OFF_HOURS)

    def started():
        s = scene.new_session()
        assert start(s["id"], scene.creator).status == 200
        (task,) = tasks_for(ecs, orch["ECS_CLUSTER"], s["id"])
        return s["id"], bot_payload_of(task)["botToken"]

    never, _ = started()
    _age(admin_conn, never, dispatched_at=31)
    waiting, _ = started()  # dispatched just now: still within the join timeout
    silent_ready, t1 = started()
    assert bot_call(silent_ready, "heartbeat", t1).status == 200
    _age(admin_conn, silent_ready, last_heartbeat_at=21)
    silent_active, t2 = started()
    assert bot_call(silent_active, "joined", t2).status == 200
    _age(admin_conn, silent_active, last_heartbeat_at=21)
    healthy, t3 = started()
    assert bot_call(healthy, "joined", t3).status == 200
    endless, t4 = started()
    assert bot_call(endless, "joined", t4).status == 200
    _age(admin_conn, endless, started_at=301)
    # A bot that heartbeats but never reports the candidate: failed once the candidate join timeout passes.
    no_show, t5 = started()
    assert bot_call(no_show, "heartbeat", t5).status == 200
    _age(admin_conn, no_show, dispatched_at=121)
    lobby, t6 = started()  # heartbeating, dispatched 119 s ago: still waiting for its candidate
    assert bot_call(lobby, "heartbeat", t6).status == 200
    _age(admin_conn, lobby, dispatched_at=119)

    result = events_lambda({"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}})

    assert result["failed"] >= 5
    expected = {
        no_show: ("failed", "Candidate never joined: nobody joined within 2 minutes of the dispatch"),
        lobby: ("ready", None),
        never: ("failed", "Bot lost: no bot joined within 30 s of the dispatch"),
        waiting: ("ready", None),
        silent_ready: ("failed", "Bot lost: no heartbeat for 20 s"),
        silent_active: ("failed", "Bot lost: no heartbeat for 20 s"),
        healthy: ("active", None),
        endless: ("failed", "Session timeout: the interview ran longer than 5 minutes"),
    }
    for sid, (status, reason) in expected.items():
        row = session_row(admin_conn, sid)
        assert (row["status"], row["failure_reason"]) == (status, reason), sid
    # Teardown ran for the failed ones: their tasks were stopped.
    stopped = tasks_for(ecs, orch["ECS_CLUSTER"], never)[0]
    assert stopped["lastStatus"] == "STOPPED"
    # A second run finds nothing new among these.
    events_lambda({"action": "watchdog"})
    assert session_row(admin_conn, healthy)["status"] == "active"


def test_unknown_events_are_ignored(events_lambda):
    assert events_lambda({"source": "elsewhere", "detail-type": "Something"}) == {"ignored": True}
