"""State-machine rules that the SQL mutation harness (tests/quality/sql_mutation.py) found untested: each
test here fails on one mutant of db/schema/004-voice-session-status.sql (named in the docstring)."""

from __future__ import annotations

import datetime as dt
import json

import pytest


@pytest.fixture
def owner(make_org, make_user):
    return make_user(make_org(), "org_user")


def history(conn, session_id):
    return conn.execute(
        "SELECT from_status, to_status, changed_by, reason FROM public.voice_session_status_history "
        "WHERE session_id = %s ORDER BY id",
        (session_id,),
    ).fetchall()


def test_insert_clears_every_lifecycle_column_even_for_service_role(owner, as_service):
    """insert.keep-completed (and keep-started, keep-duration): a new session has no lifecycle times."""
    with as_service() as cur:
        cur.execute(
            "INSERT INTO public.voice_sessions "
            "(org_id, interview_type, created_by, started_at, completed_at, duration_seconds) "
            "VALUES (%s, 'technical', %s, now(), now(), 7) "
            "RETURNING started_at, completed_at, duration_seconds",
            (owner.org_id, owner.id),
        )
        row = cur.fetchone()
    assert row == {"started_at": None, "completed_at": None, "duration_seconds": None}


def test_service_role_may_record_the_exact_start_time(owner, make_voice_session, as_service):
    """update.started-ignores-writer: the bot's join time becomes started_at (contracts: service_role may
    record an exact time, e.g. started_at = bot_joined_at)."""
    session = make_voice_session(owner.org_id, owner, status="ready")
    joined = dt.datetime(2025, 6, 11, 14, 0, 5, tzinfo=dt.UTC)
    with as_service() as cur:
        cur.execute(
            "UPDATE public.voice_sessions SET status = 'active', started_at = %s WHERE id = %s "
            "RETURNING started_at",
            (joined, session["id"]),
        )
        assert cur.fetchone()["started_at"] == joined


def test_service_role_may_record_the_exact_duration(owner, make_voice_session, as_service):
    """update.duration-ignores-writer: an exact duration given by a privileged writer is kept; the
    database fills in only what the writer left empty."""
    session = make_voice_session(owner.org_id, owner, status="active")
    with as_service() as cur:
        cur.execute(
            "UPDATE public.voice_sessions SET status = 'completed', duration_seconds = 1234 WHERE id = %s "
            "RETURNING duration_seconds, completed_at",
            (session["id"],),
        )
        row = cur.fetchone()
    assert row["duration_seconds"] == 1234 and row["completed_at"] is not None


def test_creation_is_recorded_as_the_signed_in_user(owner, make_user, admin_conn):
    """history.created-by-creator: changed_by is auth.uid() when there is one, the creator only without a
    JWT (a privileged writer creating a session on someone's behalf is recorded as itself)."""
    operator = make_user(None, sys_role="sys_admin")
    with admin_conn.transaction():
        admin_conn.execute(
            "SELECT set_config('request.jwt.claims', %s, true)",
            (json.dumps({"sub": str(operator.id), "role": "service_role"}),),
        )
        row = admin_conn.execute(
            "INSERT INTO public.voice_sessions (org_id, interview_type, created_by) "
            "VALUES (%s, 'technical', %s) RETURNING id",
            (owner.org_id, owner.id),
        ).fetchone()
    assert history(admin_conn, row["id"])[0]["changed_by"] == operator.id


@pytest.mark.parametrize("final", ["cancelled", "failed"])
def test_the_reason_is_recorded_when_a_session_ends_early(
    final, owner, make_voice_session, as_user, admin_conn
):
    """history.no-cancel-reason / history.no-fail-reason: the audit keeps why a session ended early."""
    session = make_voice_session(owner.org_id, owner, status="ready")
    with as_user(owner) as cur:
        cur.execute(
            "UPDATE public.voice_sessions SET status = %s, failure_reason = 'candidate did not show up' "
            "WHERE id = %s",
            (final, session["id"]),
        )
    last = history(admin_conn, session["id"])[-1]
    assert (last["to_status"], last["reason"]) == (final, "candidate did not show up")


def test_no_reason_is_recorded_on_a_normal_transition(owner, make_voice_session, as_user, admin_conn):
    session = make_voice_session(owner.org_id, owner, status="pending")
    admin_conn.execute(
        "UPDATE public.voice_sessions SET failure_reason = 'stale note' WHERE id = %s", (session["id"],)
    )
    with as_user(owner) as cur:
        cur.execute("UPDATE public.voice_sessions SET status = 'ready' WHERE id = %s", (session["id"],))
    last = history(admin_conn, session["id"])[-1]
    assert (last["to_status"], last["reason"]) == ("ready", None)
