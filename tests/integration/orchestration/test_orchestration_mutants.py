"""The bot callbacks' exact answers and side effects, written to fail on the small changes `make mutation`
makes to voice_common.orchestration (docs/mutation.md): the whole error envelope a bot acts on, and what a
repeated call leaves untouched."""

from __future__ import annotations

import uuid

import boto3
import pytest

from tests.integration.orchestration.conftest import OFF_HOURS, bot_payload_of, session_row, tasks_for


@pytest.fixture
def ecs(orch):
    return boto3.client("ecs", endpoint_url=orch["AWS_ENDPOINT_URL"])


@pytest.fixture
def started(orch, scene, start, clock, ecs):
    clock(OFF_HOURS)
    session = scene.new_session()
    res = start(session["id"], scene.creator)
    assert res.status == 200, res.body
    (task,) = tasks_for(ecs, orch["ECS_CLUSTER"], session["id"])
    return session["id"], bot_payload_of(task)["botToken"]


@pytest.mark.parametrize("action", ["heartbeat", "joined"])
def test_a_session_not_started_answers_not_ready(orch, scene, bot_call, action):
    from voice_common import bot_token

    session = scene.new_session()
    res = bot_call(session["id"], action, bot_token.issue(session["id"], 600))
    assert res.status == 409
    assert res.body == {
        "success": False,
        "error": "The session has not been started",
        "code": "SESSION_NOT_READY",
        "details": {"status": "pending"},
    }


def test_a_session_that_is_gone_answers_not_found(orch, bot_call):
    from voice_common import bot_token

    gone = uuid.uuid4()
    res = bot_call(gone, "heartbeat", bot_token.issue(gone, 600))
    assert res.status == 404
    assert (res.body["error"], res.body["code"]) == ("Session not found", "SESSION_NOT_FOUND")


def test_completed_before_joined_says_the_interview_never_began(orch, started, bot_call, admin_conn):
    sid, token = started
    res = bot_call(sid, "completed", token)
    assert res.status == 409
    assert (res.body["code"], res.body["details"]) == ("SESSION_NOT_ACTIVE", {"status": "ready"})
    assert session_row(admin_conn, sid)["status"] == "ready"


def test_a_repeated_joined_changes_nothing(orch, started, bot_call, admin_conn):
    sid, token = started
    assert bot_call(sid, "joined", token).data["changed"] is True
    first = session_row(admin_conn, sid)

    again = bot_call(sid, "joined", token)

    assert again.status == 200 and again.data == {"sessionId": str(sid), "status": "active", "changed": False}
    row = session_row(admin_conn, sid)
    assert row["bot_joined_at"] == first["bot_joined_at"]
    assert row["last_heartbeat_at"] == first["last_heartbeat_at"]
    assert row["started_at"] == first["started_at"]


def test_a_repeated_failed_changes_nothing(orch, started, bot_call, admin_conn):
    sid, token = started
    assert bot_call(sid, "failed", token, body={"reason": "camera crashed"}).data["changed"] is True
    again = bot_call(sid, "failed", token, body={"reason": "another reason"})
    assert again.status == 200 and again.data == {"sessionId": str(sid), "status": "failed", "changed": False}
    assert session_row(admin_conn, sid)["failure_reason"] == "camera crashed"


def test_a_failure_reported_without_a_reason_stores_an_empty_one(orch, started, admin_conn):
    from voice_common import orchestration

    sid, token = started
    answer = orchestration.bot_callback(sid, token, "failed")
    assert answer == {"sessionId": str(sid), "status": "failed", "changed": True}
    assert session_row(admin_conn, sid)["failure_reason"] == ""


def test_a_long_reason_is_cut(orch, started, bot_call, admin_conn):
    from voice_common import orchestration

    sid, token = started
    assert bot_call(sid, "failed", token, body={"reason": "x" * 5000}).status == 200
    assert session_row(admin_conn, sid)["failure_reason"] == "x" * orchestration.MAX_REASON
