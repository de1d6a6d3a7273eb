"""The RPC functions run with the caller's rights: RLS decides what they see and change."""

from __future__ import annotations

from datetime import timedelta

import pytest


@pytest.fixture
def org_a(make_org, make_user, make_voice_config, make_voice_session, admin_conn):
    org = make_org()
    admin = make_user(org, "org_admin")
    member = make_user(org, "org_user")
    config = make_voice_config(org, admin)
    session = make_voice_session(
        org,
        member,
        status="active",
        config_id=config["id"],
        bot_room_token="bot-secret-token",
        daily_room_token="candidate-token",
    )
    admin_conn.execute(
        "UPDATE public.voice_sessions SET started_at = now() - interval '120 seconds' WHERE id = %s",
        (session["id"],),
    )
    admin_conn.execute(
        "UPDATE public.voice_sessions SET status = 'completed' WHERE id = %s", (session["id"],)
    )
    transcript = admin_conn.execute(
        "INSERT INTO public.voice_transcripts (session_id, transcript_text, created_by) "
        "VALUES (%s, 'Hi', %s) RETURNING id",
        (session["id"], member.id),
    ).fetchone()
    admin_conn.execute(
        "INSERT INTO public.voice_analytics (session_id, transcript_id, overall_score, status, created_by) "
        "VALUES (%s, %s, 82.5, 'completed', %s)",
        (session["id"], transcript["id"], member.id),
    )
    second = make_voice_session(org, member, status="active")
    admin_conn.execute(
        "UPDATE public.voice_sessions SET started_at = now() - interval '60 seconds' WHERE id = %s",
        (second["id"],),
    )
    admin_conn.execute("UPDATE public.voice_sessions SET status = 'completed' WHERE id = %s", (second["id"],))
    admin_conn.execute(
        "INSERT INTO public.voice_analytics (session_id, overall_score, status, created_by) "
        "VALUES (%s, 70, 'completed', %s)",
        (second["id"], member.id),
    )
    make_voice_session(org, member, status="cancelled")
    # Created last month: counted in total, not in sessions_this_month.
    old = make_voice_session(org, member)
    admin_conn.execute(
        "UPDATE public.voice_sessions SET created_at = date_trunc('month', now()) - %s WHERE id = %s",
        (timedelta(days=3), old["id"]),
    )
    return {
        "org": org,
        "admin": admin,
        "member": member,
        "config": config,
        "session": session,
        "transcript_id": transcript["id"],
    }


def test_session_details_for_a_member(org_a, as_user):
    with as_user(org_a["member"]) as cur:
        cur.execute("SELECT public.get_voice_session_details(%s) AS d", (org_a["session"]["id"],))
        details = cur.fetchone()["d"]
    assert details["session"]["id"] == str(org_a["session"]["id"])
    assert details["session"]["status"] == "completed"
    assert details["session"]["duration_seconds"] == 120
    assert details["session"]["daily_room_token"] == "candidate-token"
    assert "bot_room_token" not in details["session"]
    assert "bot_token_hash" not in details["session"]
    assert details["config"]["id"] == str(org_a["config"]["id"])
    assert details["transcript"]["id"] == str(org_a["transcript_id"])
    assert float(details["analytics"]["overall_score"]) == 82.5


def test_session_details_without_children_are_null(org_a, make_voice_session, as_user):
    bare = make_voice_session(org_a["org"], org_a["member"])
    with as_user(org_a["admin"]) as cur:
        cur.execute("SELECT public.get_voice_session_details(%s) AS d", (bare["id"],))
        details = cur.fetchone()["d"]
    assert details["session"]["id"] == str(bare["id"])
    assert details["config"] is None and details["transcript"] is None and details["analytics"] is None


def test_session_details_hidden_from_other_orgs(org_a, make_org, make_user, as_user):
    stranger = make_user(make_org(), "org_owner")
    platform_admin = make_user(sys_role="sys_admin")
    for user in (stranger, platform_admin):
        with as_user(user) as cur:
            cur.execute("SELECT public.get_voice_session_details(%s) AS d", (org_a["session"]["id"],))
            assert cur.fetchone()["d"] is None


def test_org_stats_for_a_member(org_a, as_user):
    with as_user(org_a["member"]) as cur:
        cur.execute("SELECT public.get_org_voice_stats(%s) AS s", (org_a["org"].id,))
        stats = cur.fetchone()["s"]
    assert stats == {
        "total_sessions": 4,
        "completed_sessions": 2,
        "avg_duration_seconds": 90,
        "avg_score": 76.3,
        "sessions_this_month": 3,
    }


def test_org_stats_of_another_org_are_empty(org_a, make_org, make_user, as_user):
    stranger = make_user(make_org(), "org_admin")
    with as_user(stranger) as cur:
        cur.execute("SELECT public.get_org_voice_stats(%s) AS s", (org_a["org"].id,))
        stats = cur.fetchone()["s"]
    assert stats == {
        "total_sessions": 0,
        "completed_sessions": 0,
        "avg_duration_seconds": None,
        "avg_score": None,
        "sessions_this_month": 0,
    }


def test_update_status_respects_rls(org_a, make_voice_session, make_org, make_user, as_user, admin_conn):
    session = make_voice_session(org_a["org"], org_a["member"])
    colleague = make_user(org_a["org"], "org_user")
    stranger = make_user(make_org(), "org_owner")
    for user in (colleague, stranger):  # not the creator, not an admin of the session's org
        with as_user(user) as cur:
            cur.execute(
                "SELECT public.update_voice_session_status(%s, 'cancelled', %s) AS ok",
                (session["id"], user.id),
            )
            assert cur.fetchone()["ok"] is False
    assert (
        admin_conn.execute(
            "SELECT status FROM public.voice_sessions WHERE id = %s", (session["id"],)
        ).fetchone()["status"]
        == "pending"
    )
    with as_user(org_a["admin"]) as cur:
        cur.execute(
            "SELECT public.update_voice_session_status(%s, 'ready', %s) AS ok",
            (session["id"], org_a["admin"].id),
        )
        assert cur.fetchone()["ok"] is True
    last = admin_conn.execute(
        "SELECT from_status, to_status, changed_by FROM public.voice_session_status_history "
        "WHERE session_id = %s ORDER BY id DESC LIMIT 1",
        (session["id"],),
    ).fetchone()
    assert last == {"from_status": "pending", "to_status": "ready", "changed_by": org_a["admin"].id}


def test_update_status_unknown_session(org_a, as_user):
    with as_user(org_a["admin"]) as cur:
        cur.execute(
            "SELECT public.update_voice_session_status(gen_random_uuid(), 'ready', %s) AS ok",
            (org_a["admin"].id,),
        )
        assert cur.fetchone()["ok"] is False


def test_rpcs_are_security_invoker(admin_conn):
    rows = admin_conn.execute(
        "SELECT proname, prosecdef FROM pg_proc "
        "WHERE pronamespace = 'public'::regnamespace AND proname = ANY(%s)",
        (["get_voice_session_details", "get_org_voice_stats", "update_voice_session_status"],),
    ).fetchall()
    assert sorted(r["proname"] for r in rows) == [
        "get_org_voice_stats",
        "get_voice_session_details",
        "update_voice_session_status",
    ]
    assert not any(r["prosecdef"] for r in rows)
