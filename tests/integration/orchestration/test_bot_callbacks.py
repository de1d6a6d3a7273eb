"""Bot callbacks (voice-bot Lambda): bot-token authentication, transitions, idempotency, teardown."""

from __future__ import annotations

import time

import boto3
import pytest

from tests.integration.orchestration.conftest import OFF_HOURS, bot_payload_of, session_row, tasks_for


@pytest.fixture
def ecs(orch):
    return boto3.client("ecs", endpoint_url=orch["AWS_ENDPOINT_URL"])


@pytest.fixture
def started(orch, scene, start, clock, ecs):
    """A session started on the cold path: (session id, the bot token its ECS task received)."""
    clock(OFF_HOURS)
    session = scene.new_session()
    res = start(session["id"], scene.creator)
    assert res.status == 200, res.body
    (task,) = tasks_for(ecs, orch["ECS_CLUSTER"], session["id"])
    return session["id"], bot_payload_of(task)["botToken"]


def test_tokens_are_checked_before_anything_else(orch, started, bot_call, scene):
    from voice_common import bot_token

    sid, token = started
    other = scene.new_session()
    prefix, session_part, exp, signature = token.split(".")
    forged = f"{prefix}.{session_part}.{exp}.{'0' * len(signature)}"
    expired = bot_token.issue(sid, 60, now=time.time() - 3600)
    for action in ("joined", "heartbeat", "completed", "failed"):
        assert bot_call(sid, action, None).status == 401
        assert bot_call(sid, action, "not-a-token").status == 401
        forged_res = bot_call(sid, action, forged)
        assert (forged_res.status, forged_res.code) == (401, "BOT_TOKEN_INVALID")
        expired_res = bot_call(sid, action, expired)
        assert (expired_res.status, expired_res.code) == (401, "BOT_TOKEN_EXPIRED")
        wrong = bot_call(other["id"], action, token, body={"reason": "x"})
        assert (wrong.status, wrong.code) == (403, "BOT_TOKEN_WRONG_SESSION")


def test_a_whole_interview_through_the_callbacks(orch, started, bot_call, admin_conn):
    sid, token = started

    beat = bot_call(sid, "heartbeat", token, body={"phase": "starting"})
    assert beat.status == 200 and beat.data["status"] == "ready"
    row = session_row(admin_conn, sid)
    assert row["last_heartbeat_at"] is not None and row["bot_claimed_at"] is not None

    joined = bot_call(sid, "joined", token)
    assert joined.status == 200 and joined.data == {
        "sessionId": str(sid),
        "status": "active",
        "changed": True,
    }
    again = bot_call(sid, "joined", token)
    assert again.status == 200 and again.data["changed"] is False
    row = session_row(admin_conn, sid)
    assert row["status"] == "active" and row["bot_joined_at"] is not None and row["started_at"] is not None

    assert bot_call(sid, "heartbeat", token).status == 200
    done = bot_call(sid, "completed", token)
    assert done.status == 200 and done.data["status"] == "completed" and done.data["changed"] is True
    assert bot_call(sid, "completed", token).data["changed"] is False

    after = bot_call(sid, "heartbeat", token)
    assert (after.status, after.code) == (409, "SESSION_ENDED")
    row = session_row(admin_conn, sid)
    assert (
        row["status"] == "completed"
        and row["completed_at"] is not None
        and row["duration_seconds"] is not None
    )
    history = [
        (h["from_status"], h["to_status"])
        for h in admin_conn.execute(
            "SELECT from_status, to_status FROM public.voice_session_status_history"
            " WHERE session_id = %s ORDER BY id",
            (sid,),
        ).fetchall()
    ]
    assert history == [(None, "pending"), ("pending", "ready"), ("ready", "active"), ("active", "completed")]


def test_callbacks_before_the_start_and_out_of_order(orch, scene, bot_call, started):
    from voice_common import bot_token

    pending = scene.new_session()
    token = bot_token.issue(pending["id"], 600)
    for action in ("heartbeat", "joined"):
        res = bot_call(pending["id"], action, token)
        assert (res.status, res.code) == (409, "SESSION_NOT_READY")
    sid, started_token = started
    early = bot_call(sid, "completed", started_token)
    assert (early.status, early.code) == (409, "SESSION_NOT_ACTIVE")


def test_failed_records_the_reason_and_tears_down_task_and_room(
    orch, started, bot_call, admin_conn, daily, ecs
):
    sid, token = started
    assert bot_call(sid, "joined", token).status == 200
    room = session_row(admin_conn, sid)["daily_room_name"]
    assert room in daily.rooms

    missing = bot_call(sid, "failed", token, body={})
    assert missing.status == 400
    res = bot_call(sid, "failed", token, body={"reason": "pipeline crashed: " + "x" * 3000})

    assert res.status == 200 and res.data["status"] == "failed"
    row = session_row(admin_conn, sid)
    assert row["status"] == "failed" and row["failure_reason"].startswith("pipeline crashed")
    assert len(row["failure_reason"]) == 2000
    reason = admin_conn.execute(
        "SELECT reason FROM public.voice_session_status_history"
        " WHERE session_id = %s AND to_status = 'failed'",
        (sid,),
    ).fetchone()["reason"]
    assert reason == row["failure_reason"]
    assert room not in daily.rooms  # teardown deleted the room
    (task,) = tasks_for(ecs, orch["ECS_CLUSTER"], sid)
    assert task["lastStatus"] == "STOPPED" and task["stoppedReason"] == "voice session failed"
    assert bot_call(sid, "failed", token, body={"reason": "again"}).data["changed"] is False


def test_teardown_is_idempotent(orch, started, admin_conn, daily):
    from voice_common.orchestration import teardown

    sid, _ = started
    row = session_row(admin_conn, sid)
    teardown(row, "cancelled")
    teardown(row, "cancelled")  # task already stopped, room already gone: no error
    assert row["daily_room_name"] not in daily.rooms


def test_cancelling_through_the_api_stops_the_task_and_deletes_the_room(
    orch, started, invoke, scene, bot_call, ecs, daily, admin_conn
):
    """PUT status=cancelled, as the web app sends it: the bot's task stops, the room goes, the bot leaves."""
    sid, token = started
    assert bot_call(sid, "joined", token).status == 200  # mid-interview
    room = session_row(admin_conn, sid)["daily_room_name"]
    assert room in daily.rooms

    res = invoke(
        "voice-sessions",
        "PUT",
        f"/api/voice/sessions/{sid}",
        user=scene.creator,
        body={"status": "cancelled"},
    )

    assert res.status == 200 and res.data["status"] == "cancelled", res.body
    (task,) = tasks_for(ecs, orch["ECS_CLUSTER"], sid)
    assert task["lastStatus"] == "STOPPED" and task["stoppedReason"] == "voice session cancelled"
    assert room not in daily.rooms
    beat = bot_call(sid, "heartbeat", token)
    assert (beat.status, beat.code) == (409, "SESSION_ENDED")
