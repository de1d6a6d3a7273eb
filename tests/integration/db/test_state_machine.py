"""The session status machine is enforced by the database, for every writer."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import psycopg
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from psycopg import errors
from psycopg.rows import dict_row

from tests.fixtures.db import (
    STATUSES,
    TRANSITIONS,
    create_org,
    create_user,
    create_voice_session,
)

PAIRS = [(a, b) for a in STATUSES for b in STATUSES if a != b]
LEGAL = [(a, b) for a, b in PAIRS if b in TRANSITIONS[a]]
ILLEGAL = [(a, b) for a, b in PAIRS if b not in TRANSITIONS[a]]


def history(conn, session_id):
    return conn.execute(
        "SELECT from_status, to_status, changed_by, reason FROM public.voice_session_status_history "
        "WHERE session_id = %s ORDER BY id",
        (session_id,),
    ).fetchall()


@pytest.fixture
def owner(make_org, make_user):
    return make_user(make_org(), "org_user")


def test_transition_table_is_the_documented_one():
    # Guards the fixture's model (used by every test below) against drift from the brief.
    assert len(LEGAL) == 9
    assert {("pending", "ready"), ("ready", "active"), ("active", "completed")} <= set(LEGAL)
    assert all(not TRANSITIONS[s] for s in ("completed", "failed", "cancelled"))


def test_database_transition_function_matches_model(admin_conn):
    rows = admin_conn.execute(
        "SELECT a, b, public.voice_session_transition_allowed(a, b) AS ok "
        "FROM unnest(%s::text[]) a CROSS JOIN unnest(%s::text[]) b WHERE a <> b",
        (list(STATUSES), list(STATUSES)),
    ).fetchall()
    assert {(r["a"], r["b"]) for r in rows if r["ok"]} == set(LEGAL)


@pytest.mark.parametrize(("from_status", "to_status"), LEGAL)
def test_legal_transition_as_creator(from_status, to_status, owner, make_voice_session, as_user, admin_conn):
    session = make_voice_session(owner.org_id, owner, status=from_status)
    with as_user(owner) as cur:
        cur.execute(
            "UPDATE public.voice_sessions SET status = %s, failure_reason = %s WHERE id = %s RETURNING *",
            (to_status, "bot crashed" if to_status == "failed" else None, session["id"]),
        )
        row = cur.fetchone()
    assert row["status"] == to_status
    last = history(admin_conn, session["id"])[-1]
    assert (last["from_status"], last["to_status"]) == (from_status, to_status)
    assert last["changed_by"] == owner.id  # auth.uid(), written although authenticated cannot insert
    assert last["reason"] == ("bot crashed" if to_status == "failed" else None)


@pytest.mark.parametrize(("from_status", "to_status"), ILLEGAL)
def test_illegal_transition_refused(from_status, to_status, owner, make_voice_session, as_user, admin_conn):
    session = make_voice_session(owner.org_id, owner, status=from_status)
    before = history(admin_conn, session["id"])
    with pytest.raises(psycopg.Error) as caught, as_user(owner) as cur:
        cur.execute("UPDATE public.voice_sessions SET status = %s WHERE id = %s", (to_status, session["id"]))
    assert caught.value.sqlstate == "VS409"
    assert caught.value.diag.message_primary == f"invalid status transition from {from_status} to {to_status}"
    row = admin_conn.execute(
        "SELECT status FROM public.voice_sessions WHERE id = %s", (session["id"],)
    ).fetchone()
    assert row["status"] == from_status
    assert history(admin_conn, session["id"]) == before


@pytest.mark.parametrize("final", sorted(TRANSITIONS.keys() - {"pending", "ready", "active"}))
def test_final_states_refuse_even_service_role(final, owner, make_voice_session, as_service):
    session = make_voice_session(owner.org_id, owner, status=final)
    for target in STATUSES:
        if target == final:
            continue
        with pytest.raises(psycopg.Error) as caught, as_service() as cur:
            cur.execute("UPDATE public.voice_sessions SET status = %s WHERE id = %s", (target, session["id"]))
        assert caught.value.sqlstate == "VS409"


def test_unknown_status_is_a_check_violation(owner, make_voice_session, as_user):
    session = make_voice_session(owner.org_id, owner)
    with pytest.raises(errors.CheckViolation), as_user(owner) as cur:
        cur.execute("UPDATE public.voice_sessions SET status = 'paused' WHERE id = %s", (session["id"],))


def test_same_status_update_is_not_a_transition(owner, make_voice_session, as_user, admin_conn):
    session = make_voice_session(owner.org_id, owner, status="completed")
    before = history(admin_conn, session["id"])
    with as_user(owner) as cur:
        cur.execute(
            "UPDATE public.voice_sessions SET status = 'completed', candidate_name = 'Renamed' WHERE id = %s",
            (session["id"],),
        )
        assert cur.rowcount == 1
    assert history(admin_conn, session["id"]) == before


@pytest.mark.parametrize("status", [s for s in STATUSES if s != "pending"])
def test_insert_must_be_pending(status, owner, as_user, as_service):
    for acting in (lambda: as_user(owner), as_service):
        with pytest.raises(psycopg.Error) as caught, acting() as cur:
            cur.execute(
                "INSERT INTO public.voice_sessions (org_id, interview_type, created_by, status) "
                "VALUES (%s, 'technical', %s, %s)",
                (owner.org_id, owner.id, status),
            )
        assert caught.value.sqlstate == "VS409"
        assert status in caught.value.diag.message_primary


def test_insert_records_creation_and_clears_lifecycle_columns(owner, as_user, admin_conn):
    with as_user(owner) as cur:
        cur.execute(
            "INSERT INTO public.voice_sessions "
            "(org_id, interview_type, created_by, started_at, duration_seconds) "
            "VALUES (%s, 'behavioral', %s, now(), 42) RETURNING *",
            (owner.org_id, owner.id),
        )
        row = cur.fetchone()
    assert row["status"] == "pending"
    assert row["started_at"] is None and row["duration_seconds"] is None and row["completed_at"] is None
    assert history(admin_conn, row["id"]) == [
        {"from_status": None, "to_status": "pending", "changed_by": owner.id, "reason": None}
    ]


def test_lifecycle_timestamps_and_duration(owner, make_voice_session, admin_conn, as_user, as_service):
    session = make_voice_session(owner.org_id, owner, status="ready")
    assert session["started_at"] is None
    with as_service() as cur:
        cur.execute(
            "UPDATE public.voice_sessions SET status = 'active', updated_by = %s WHERE id = %s "
            "RETURNING started_at, now() AS tx_now",
            (owner.id, session["id"]),
        )
        active = cur.fetchone()
    assert active["started_at"] == active["tx_now"]
    # Pretend the interview ran for 95 s (a privileged writer may record exact times).
    admin_conn.execute(
        "UPDATE public.voice_sessions SET started_at = now() - interval '95 seconds' WHERE id = %s",
        (session["id"],),
    )
    with as_user(owner) as cur:
        cur.execute(
            "UPDATE public.voice_sessions SET status = 'completed' WHERE id = %s "
            "RETURNING started_at, completed_at, duration_seconds, now() AS tx_now",
            (session["id"],),
        )
        done = cur.fetchone()
    assert done["completed_at"] == done["tx_now"]
    assert done["duration_seconds"] == round((done["completed_at"] - done["started_at"]).total_seconds())
    assert 94 <= done["duration_seconds"] <= 97
    steps = [(h["from_status"], h["to_status"], h["changed_by"]) for h in history(admin_conn, session["id"])]
    assert steps == [
        (None, "pending", owner.id),  # no JWT: falls back to created_by
        ("pending", "ready", None),  # fixture as superuser: no JWT and no updated_by
        ("ready", "active", owner.id),  # service_role: updated_by
        ("active", "completed", owner.id),  # the user: auth.uid()
    ]


@pytest.mark.parametrize("final", ["failed", "cancelled"])
def test_ending_before_start_has_no_duration(final, owner, make_voice_session, as_user):
    session = make_voice_session(owner.org_id, owner, status="ready")
    with as_user(owner) as cur:
        cur.execute(
            "UPDATE public.voice_sessions SET status = %s, failure_reason = 'no bot' "
            "WHERE id = %s RETURNING *",
            (final, session["id"]),
        )
        row = cur.fetchone()
    assert row["completed_at"] is not None
    assert row["started_at"] is None and row["duration_seconds"] is None


def test_users_cannot_write_lifecycle_columns(owner, make_voice_session, as_user, admin_conn):
    session = make_voice_session(owner.org_id, owner, status="active")
    with as_user(owner) as cur:
        cur.execute(
            "UPDATE public.voice_sessions SET started_at = now() - interval '1 day', duration_seconds = 999, "
            "completed_at = now() WHERE id = %s",
            (session["id"],),
        )
        assert cur.rowcount == 1
    row = admin_conn.execute("SELECT * FROM public.voice_sessions WHERE id = %s", (session["id"],)).fetchone()
    assert row["started_at"] == session["started_at"]
    assert row["completed_at"] is None and row["duration_seconds"] is None


def test_created_by_and_org_are_immutable(owner, make_org, make_user, make_voice_session, admin_conn):
    other = make_user(owner.org_id)
    session = make_voice_session(owner.org_id, owner)
    with pytest.raises(errors.CheckViolation):
        admin_conn.execute(
            "UPDATE public.voice_sessions SET created_by = %s WHERE id = %s", (other.id, session["id"])
        )
    with pytest.raises(errors.CheckViolation):
        admin_conn.execute(
            "UPDATE public.voice_sessions SET org_id = %s WHERE id = %s", (make_org().id, session["id"])
        )


def test_update_voice_session_status_rpc_goes_through_the_trigger(
    owner, make_voice_session, as_user, admin_conn
):
    session = make_voice_session(owner.org_id, owner, status="active")
    with as_user(owner) as cur:
        cur.execute(
            "SELECT public.update_voice_session_status(%s, 'completed', %s) AS ok", (session["id"], owner.id)
        )
        assert cur.fetchone()["ok"] is True
    row = admin_conn.execute("SELECT * FROM public.voice_sessions WHERE id = %s", (session["id"],)).fetchone()
    assert row["status"] == "completed" and row["updated_by"] == owner.id and row["completed_at"] is not None
    with pytest.raises(psycopg.Error) as caught, as_user(owner) as cur:
        cur.execute("SELECT public.update_voice_session_status(%s, 'active', %s)", (session["id"], owner.id))
    assert caught.value.sqlstate == "VS409"
    assert caught.value.diag.message_primary == "invalid status transition from completed to active"


def test_concurrent_writers_cannot_both_finish_a_session(database_url, owner, make_voice_session, admin_conn):
    """Two writers race to end an active session: the second sees the first's result and is refused."""
    session = make_voice_session(owner.org_id, owner, status="active")
    first = psycopg.connect(database_url, row_factory=dict_row)
    second = psycopg.connect(database_url, row_factory=dict_row)
    outcome: dict[str, object] = {}
    try:
        first.execute("UPDATE public.voice_sessions SET status = 'completed' WHERE id = %s", (session["id"],))

        def race() -> None:
            try:
                second.execute(
                    "UPDATE public.voice_sessions SET status = 'failed' WHERE id = %s", (session["id"],)
                )
                second.commit()
                outcome["result"] = "committed"
            except psycopg.Error as exc:
                second.rollback()
                outcome["result"] = exc.sqlstate

        racer = threading.Thread(target=race)
        racer.start()
        time.sleep(0.2)  # the second UPDATE is now waiting for the first one's row lock
        assert racer.is_alive()
        first.commit()
        racer.join(timeout=10)
    finally:
        first.close()
        second.close()
    assert outcome["result"] == "VS409"
    final = admin_conn.execute(
        "SELECT status FROM public.voice_sessions WHERE id = %s", (session["id"],)
    ).fetchone()
    assert final["status"] == "completed"
    assert [h["to_status"] for h in history(admin_conn, session["id"])][-1] == "completed"


@settings(max_examples=40, deadline=None)
@given(attempts=st.lists(st.sampled_from(STATUSES), min_size=1, max_size=8))
def test_random_walks_follow_the_model(admin_conn, attempts):
    """Any sequence of requested statuses: the database accepts exactly the model's transitions and the
    history is the accepted path."""
    org = create_org(admin_conn)
    user = create_user(admin_conn, org)
    session = create_voice_session(admin_conn, org, user)
    state, path = "pending", [(None, "pending")]
    for target in attempts:
        try:
            admin_conn.execute(
                "UPDATE public.voice_sessions SET status = %s WHERE id = %s", (target, session["id"])
            )
            accepted = True
        except psycopg.Error as exc:
            assert exc.sqlstate == "VS409"
            accepted = False
        assert accepted == (target == state or target in TRANSITIONS[state])
        if accepted and target != state:
            path.append((state, target))
            state = target
    row = admin_conn.execute("SELECT * FROM public.voice_sessions WHERE id = %s", (session["id"],)).fetchone()
    assert row["status"] == state
    assert [(h["from_status"], h["to_status"]) for h in history(admin_conn, session["id"])] == path
    assert (row["started_at"] is not None) == ("active" in {to for _, to in path})
    assert (row["completed_at"] is not None) == (state in ("completed", "failed", "cancelled"))


def test_status_paths_reach_their_status(owner, make_voice_session):
    for status in STATUSES:
        assert make_voice_session(owner.org_id, owner, status=status)["status"] == status


def test_completion_never_precedes_start(owner, make_voice_session, admin_conn):
    """A start time recorded from a clock ahead of the database's still lets the session end (duration 0)."""
    session = make_voice_session(owner.org_id, owner, status="active")
    admin_conn.execute(
        "UPDATE public.voice_sessions SET started_at = now() + %s WHERE id = %s",
        (timedelta(seconds=30), session["id"]),
    )
    row = admin_conn.execute(
        "UPDATE public.voice_sessions SET status = 'cancelled' WHERE id = %s RETURNING *", (session["id"],)
    ).fetchone()
    assert row["completed_at"] == row["started_at"]
    assert row["duration_seconds"] == 0
