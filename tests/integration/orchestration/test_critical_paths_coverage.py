"""Start and bot callbacks: the branches the main suites leave out (critical paths are 100% covered,
tests/quality/coverage_areas.toml). Real PostgreSQL, moto, the Daily stand-in and the real Lambdas.

The authoritative re-checks of start (step 3 of voice_common.orchestration.start_session) guard against a
concurrent writer between the first read and the final transaction; here that writer runs while the Daily
meeting tokens are being created (the last thing start does between the two transactions).
"""

from __future__ import annotations

import json
import time
import urllib.request
import uuid

import boto3
import pytest

from tests.integration.orchestration.conftest import OFF_HOURS, bot_payload_of, session_row, tasks_for


@pytest.fixture
def ecs(orch):
    return boto3.client("ecs", endpoint_url=orch["AWS_ENDPOINT_URL"])


@pytest.fixture
def between_phases(monkeypatch):
    """``between_phases(fn)``: run ``fn()`` once the Daily tokens exist, before the final transaction."""
    from voice_common import orchestration

    def install(fn):
        original = orchestration.DailyClient.create_meeting_tokens

        def tokens_then_concurrent_write(self, *args, **kwargs):
            result = original(self, *args, **kwargs)
            fn()
            return result

        monkeypatch.setattr(orchestration.DailyClient, "create_meeting_tokens", tokens_then_concurrent_write)

    return install


def test_session_deleted_during_start_is_404_and_dispatches_nothing(
    orch, scene, start, clock, ecs, admin_conn, between_phases
):
    clock(OFF_HOURS)
    session = scene.new_session()
    between_phases(
        lambda: admin_conn.execute("DELETE FROM public.voice_sessions WHERE id = %s", (session["id"],))
    )

    res = start(session["id"], scene.creator)

    assert (res.status, res.code, res.body["error"]) == (404, "SESSION_NOT_FOUND", "Session not found")
    assert tasks_for(ecs, orch["ECS_CLUSTER"], session["id"]) == []


def test_session_cancelled_during_start_is_409_and_stays_cancelled(
    orch, scene, start, clock, ecs, admin_conn, between_phases
):
    clock(OFF_HOURS)
    session = scene.new_session()
    between_phases(
        lambda: admin_conn.execute(
            "UPDATE public.voice_sessions SET status = 'cancelled' WHERE id = %s", (session["id"],)
        )
    )

    res = start(session["id"], scene.creator)

    assert (res.status, res.code) == (409, "SESSION_NOT_STARTABLE")
    assert res.body["details"] == {"status": "cancelled"}
    row = session_row(admin_conn, session["id"])
    assert row["status"] == "cancelled" and row["dispatch_ref"] is None
    assert tasks_for(ecs, orch["ECS_CLUSTER"], session["id"]) == []


def test_limit_reached_by_a_concurrent_start_is_429_at_the_final_check(
    orch, scene, start, clock, ecs, admin_conn, between_phases, monkeypatch
):
    monkeypatch.setenv("VOICE_MAX_CONCURRENT_SESSIONS", "1")
    from voice_common.settings import get_settings

    get_settings.cache_clear()
    clock(OFF_HOURS)
    session, other = scene.new_session(), scene.new_session()
    # The first read saw no live session; meanwhile another session of the org became ready.
    between_phases(
        lambda: admin_conn.execute(
            "UPDATE public.voice_sessions SET status = 'ready' WHERE id = %s", (other["id"],)
        )
    )

    res = start(session["id"], scene.creator)

    assert (res.status, res.code) == (429, "CONCURRENT_SESSION_LIMIT")
    assert res.body["details"] == {"maxConcurrentSessions": 1}
    assert session_row(admin_conn, session["id"])["status"] == "pending"
    assert tasks_for(ecs, orch["ECS_CLUSTER"], session["id"]) == []


def test_no_daily_key_anywhere_is_503_before_any_room(
    orch, scene, start, clock, daily, monkeypatch, admin_conn
):
    from voice_common import credentials

    monkeypatch.delenv("DAILY_API_KEY_SECRET_ARN", raising=False)
    credentials.forget_cached_key(None)
    clock(OFF_HOURS)
    session = scene.new_session()

    res = start(session["id"], scene.creator)

    assert (res.status, res.code) == (503, "DAILY_NOT_CONFIGURED")
    assert f"voice-{session['id']}" not in daily.rooms
    assert session_row(admin_conn, session["id"])["status"] == "pending"


def test_a_leftover_room_about_to_close_is_replaced(orch, scene, start, clock, daily):
    clock(OFF_HOURS)
    session = scene.new_session()
    name = f"voice-{session['id']}"
    # A room of that name from an attempt long ago, closing in 10 minutes.
    request = urllib.request.Request(
        f"{daily.url}/rooms",
        data=json.dumps(
            {"name": name, "privacy": "private", "properties": {"exp": int(time.time()) + 600}}
        ).encode(),
        headers={"Content-Type": "application/json", "Authorization": "Bearer x"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=5) as answer:  # the stand-in on 127.0.0.1
        assert answer.status == 200
    assert daily.rooms[name]["config"]["exp"] < time.time() + 3600

    res = start(session["id"], scene.creator)

    assert res.status == 200, res.body
    assert daily.rooms[name]["config"]["exp"] > time.time() + 3600
    assert any(r.method == "DELETE" and r.path.endswith(f"/rooms/{name}") for r in daily.requests)


def test_knowledge_grounding_off_sends_no_knowledge(orch, scene, start, clock, ecs, admin_conn, monkeypatch):
    from voice_common import orchestration
    from voice_common.settings import get_settings

    settings = get_settings()
    off = settings.model_copy(update={"features": {**settings.features, "knowledge_base_grounding": False}})
    monkeypatch.setattr(orchestration, "get_settings", lambda: off)
    clock(OFF_HOURS)
    session = scene.new_session()
    kb = admin_conn.execute(
        "INSERT INTO public.kb_bases (org_id, name) VALUES (%s, 'Handbook') RETURNING id", (scene.org.id,)
    ).fetchone()["id"]
    admin_conn.execute(
        "INSERT INTO public.kb_docs (kb_id, title, content) VALUES (%s, 'Stack', 'We run PostgreSQL 16.')",
        (kb,),
    )
    admin_conn.execute(
        "INSERT INTO public.voice_session_kb (session_id, kb_id, is_enabled, added_by) "
        "VALUES (%s, %s, true, %s)",
        (session["id"], kb, scene.creator.id),
    )

    res = start(session["id"], scene.creator)

    assert res.status == 200, res.body
    (task,) = tasks_for(ecs, orch["ECS_CLUSTER"], session["id"])
    assert bot_payload_of(task)["knowledge"] == []


# --- bot callbacks ---------------------------------------------------------------------------------


@pytest.fixture
def started(orch, scene, start, clock, ecs):
    clock(OFF_HOURS)
    session = scene.new_session()
    res = start(session["id"], scene.creator)
    assert res.status == 200, res.body
    (task,) = tasks_for(ecs, orch["ECS_CLUSTER"], session["id"])
    return session["id"], bot_payload_of(task)["botToken"]


def test_callbacks_of_a_session_that_no_longer_exists_are_404(orch, bot_call):
    from voice_common import bot_token

    gone = uuid.uuid4()
    token = bot_token.issue(gone, 600)
    for action in ("joined", "completed"):
        res = bot_call(gone, action, token)
        assert (res.status, res.code) == (404, "SESSION_NOT_FOUND")


@pytest.mark.parametrize("final", ["completed", "failed", "cancelled"])
def test_joined_after_the_end_tells_the_bot_to_leave(orch, started, bot_call, admin_conn, final):
    sid, token = started
    path = {"completed": ["active", "completed"], "failed": ["failed"], "cancelled": ["cancelled"]}[final]
    for status in path:
        admin_conn.execute("UPDATE public.voice_sessions SET status = %s WHERE id = %s", (status, sid))

    res = bot_call(sid, "joined", token)

    assert (res.status, res.code) == (409, "SESSION_ENDED")
    assert res.body["details"] == {"status": final}
    assert session_row(admin_conn, sid)["status"] == final


@pytest.mark.parametrize("final", ["failed", "cancelled"])
def test_completed_after_another_end_is_refused(orch, started, bot_call, admin_conn, final):
    sid, token = started
    admin_conn.execute("UPDATE public.voice_sessions SET status = 'active' WHERE id = %s", (sid,))
    admin_conn.execute("UPDATE public.voice_sessions SET status = %s WHERE id = %s", (final, sid))

    res = bot_call(sid, "completed", token)

    assert (res.status, res.code) == (409, "SESSION_ENDED")
    assert session_row(admin_conn, sid)["status"] == final


def test_failed_after_completion_is_refused_and_keeps_the_result(orch, started, bot_call, admin_conn):
    sid, token = started
    assert bot_call(sid, "joined", token).status == 200
    assert bot_call(sid, "completed", token).status == 200

    res = bot_call(sid, "failed", token, body={"reason": "late crash"})

    assert (res.status, res.code) == (409, "SESSION_ENDED")
    row = session_row(admin_conn, sid)
    assert row["status"] == "completed" and row["failure_reason"] is None
