"""voice-analytics: a session's analytics (org members), regenerate (org admins, a real SQS message in
moto), and org statistics (get_org_voice_stats under RLS). Analytics rows are inserted as the worker would."""

from __future__ import annotations

import datetime as dt
import json
import secrets
import uuid
from typing import Any

import pytest
from psycopg.types.json import Jsonb

pytestmark = pytest.mark.usefixtures("aws_env", "database_url")

LAMBDA = "voice-analytics"


def insert_analytics(admin_conn: Any, session: dict, **columns: Any) -> dict[str, Any]:
    values: dict[str, Any] = {"session_id": session["id"], "created_by": session["created_by"], **columns}
    for name in ("category_scores", "key_moments", "detailed_analysis", "metrics"):
        if name in values:
            values[name] = Jsonb(values[name])
    cols = ", ".join(values)
    return admin_conn.execute(
        f"INSERT INTO public.voice_analytics ({cols}) VALUES ({', '.join(['%s'] * len(values))}) RETURNING *",
        list(values.values()),
    ).fetchone()


# --- GET /analytics/{sessionId} ----------------------------------------------------------------------------


def test_members_read_completed_analytics(
    invoke: Any, team: Any, make_voice_session: Any, admin_conn: Any
) -> None:
    session = make_voice_session(team.org, team.admin, status="completed")
    row = insert_analytics(
        admin_conn,
        session,
        status="completed",
        overall_score=82.5,
        category_scores={"communication": {"score": 85, "weight": 0.25, "feedback": "Clear"}},
        strengths=["Clear communication"],
        weaknesses=["Could provide more detail"],
        recommendations=["Consider a follow-up technical assessment"],
        key_moments=[
            {"timestamp": 145.5, "type": "strength", "description": "System design", "quote": "I would"}
        ],
        detailed_analysis={"summary": "Solid"},
        metrics={"candidate_talk_ratio": 0.61, "turns": 14},
        model_used="gpt-4o-mini",
        processing_time_ms=4210,
    )

    r = invoke(LAMBDA, "GET", f"/api/voice/analytics/{session['id']}", user=team.member)

    assert r.status == 200, r.body
    d = r.data
    assert (
        d["id"] == str(row["id"]) and d["sessionId"] == str(session["id"]) and d["orgId"] == str(team.org.id)
    )
    assert d["status"] == "completed" and d["error"] is None and d["sessionStatus"] == "completed"
    assert d["overallScore"] == 82.5
    assert d["categoryScores"] == {"communication": {"score": 85, "weight": 0.25, "feedback": "Clear"}}
    assert d["strengths"] == ["Clear communication"] and d["weaknesses"] == ["Could provide more detail"]
    assert d["recommendations"] == ["Consider a follow-up technical assessment"]
    assert d["keyMoments"][0]["timestamp"] == 145.5
    assert d["metrics"] == {"candidate_talk_ratio": 0.61, "turns": 14}
    assert d["modelUsed"] == "gpt-4o-mini" and d["processingTimeMs"] == 4210
    assert d["detailedAnalysis"] == {"summary": "Solid"} and d["createdAt"] and d["updatedAt"]
    assert "usage" not in d


def test_failed_and_pending_analytics_report_their_state(
    invoke: Any, team: Any, make_voice_session: Any, admin_conn: Any
) -> None:
    failed = make_voice_session(team.org, team.admin, status="completed")
    insert_analytics(admin_conn, failed, status="failed", error="The model returned invalid JSON twice")
    r = invoke(LAMBDA, "GET", f"/api/voice/analytics/{failed['id']}", user=team.member)
    assert r.status == 200 and r.data["status"] == "failed"
    assert r.data["error"] == "The model returned invalid JSON twice" and r.data["overallScore"] is None

    pending = make_voice_session(team.org, team.admin, status="completed")
    insert_analytics(admin_conn, pending)
    r = invoke(LAMBDA, "GET", f"/api/voice/analytics/{pending['id']}", user=team.member)
    assert r.status == 200 and r.data["status"] == "pending" and r.data["strengths"] == []


def test_a_session_without_analytics_is_not_started(invoke: Any, team: Any, make_voice_session: Any) -> None:
    session = make_voice_session(team.org, team.member, status="active")
    r = invoke(LAMBDA, "GET", f"/api/voice/analytics/{session['id']}", user=team.member)
    assert r.status == 200, r.body
    assert r.data == {
        "sessionId": str(session["id"]),
        "orgId": str(team.org.id),
        "sessionStatus": "active",
        "status": "not_started",
    }


def test_analytics_of_invisible_or_unknown_sessions_are_404(
    invoke: Any, team: Any, make_voice_session: Any, admin_conn: Any
) -> None:
    session = make_voice_session(team.org, team.admin, status="completed")
    insert_analytics(admin_conn, session, status="completed", overall_score=70)
    for user in (team.outsider, team.platform_admin):
        r = invoke(LAMBDA, "GET", f"/api/voice/analytics/{session['id']}", user=user)
        assert r.status == 404 and r.code == "SESSION_NOT_FOUND"
        assert "70" not in json.dumps(r.body)
    assert invoke(LAMBDA, "GET", f"/api/voice/analytics/{uuid.uuid4()}", user=team.member).status == 404
    bad = invoke(LAMBDA, "GET", "/api/voice/analytics/abc", user=team.member)
    assert bad.status == 400 and "sessionId" in bad.body["error"]


# --- POST /analytics/{sessionId}/regenerate -----------------------------------------------------------------


@pytest.fixture
def worker_queue(aws_clients: Any, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, str]:
    """A queue of this test's own, so messages of other tests never mix with ours."""
    sqs = aws_clients("sqs")
    url = sqs.create_queue(QueueName=f"test-worker-{secrets.token_hex(4)}")["QueueUrl"]
    monkeypatch.setenv("WORKER_QUEUE_URL", url)
    return sqs, url


def messages(sqs: Any, url: str) -> list[dict[str, Any]]:
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
    return [json.loads(m["Body"]) for m in got]


@pytest.mark.parametrize("role", ["admin", "owner"])
def test_admins_queue_a_regeneration(
    invoke: Any, team: Any, make_voice_session: Any, admin_conn: Any, worker_queue: Any, role: str
) -> None:
    sqs, url = worker_queue
    session = make_voice_session(team.org, team.member, status="completed")
    insert_analytics(admin_conn, session, status="failed", error="timeout")

    r = invoke(LAMBDA, "POST", f"/api/voice/analytics/{session['id']}/regenerate", user=getattr(team, role))

    assert r.status == 202, r.body
    assert r.data == {
        "sessionId": str(session["id"]),
        "orgId": str(team.org.id),
        "status": "pending",
        "previousStatus": "failed",
        "regenerate": True,
    }
    [job] = messages(sqs, url)
    assert job["type"] == "analytics" and job["regenerate"] is True
    assert job["sessionId"] == str(session["id"]) and job["orgId"] == str(team.org.id)


def test_regenerate_while_the_analysis_runs_is_refused_until_it_is_stale(
    invoke: Any, team: Any, make_voice_session: Any, admin_conn: Any, worker_queue: Any
) -> None:
    sqs, url = worker_queue
    session = make_voice_session(team.org, team.member, status="completed")
    insert_analytics(admin_conn, session, status="running")
    path = f"/api/voice/analytics/{session['id']}/regenerate"

    busy = invoke(LAMBDA, "POST", path, user=team.admin)
    assert (busy.status, busy.code) == (409, "ANALYTICS_RUNNING"), busy.body
    assert messages(sqs, url) == []
    # A claim nobody renewed for 15 minutes is a crashed worker's: regenerating is allowed again.
    crashed = make_voice_session(team.org, team.member, status="completed")
    stale = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=16)
    insert_analytics(admin_conn, crashed, status="running", updated_at=stale)
    assert (
        invoke(LAMBDA, "POST", f"/api/voice/analytics/{crashed['id']}/regenerate", user=team.admin).status
        == 202
    )
    assert [m["sessionId"] for m in messages(sqs, url)] == [str(crashed["id"])]


def test_regenerate_denials_queue_nothing(
    invoke: Any, team: Any, make_voice_session: Any, worker_queue: Any
) -> None:
    sqs, url = worker_queue
    done = make_voice_session(team.org, team.member, status="completed")
    running = make_voice_session(team.org, team.member, status="active")
    path = "/api/voice/analytics/{}/regenerate"

    member = invoke(LAMBDA, "POST", path.format(done["id"]), user=team.member)
    assert member.status == 403 and member.code == "ORG_ADMIN_REQUIRED"
    assert invoke(LAMBDA, "POST", path.format(done["id"]), user=team.outsider).status == 404
    assert invoke(LAMBDA, "POST", path.format(done["id"]), user=team.platform_admin).status == 404
    active = invoke(LAMBDA, "POST", path.format(running["id"]), user=team.admin)
    assert active.status == 409 and active.code == "SESSION_NOT_FINISHED" and "active" in active.body["error"]
    assert invoke(LAMBDA, "POST", path.format(uuid.uuid4()), user=team.admin).status == 404
    assert invoke(LAMBDA, "POST", path.format("nope"), user=team.admin).status == 400
    assert invoke(LAMBDA, "POST", path.format(done["id"])).status == 401
    assert messages(sqs, url) == []

    # A failed session without analytics can be (re)analyzed: the worker decides what there is to score.
    failed = make_voice_session(team.org, team.member, status="failed")
    r = invoke(LAMBDA, "POST", path.format(failed["id"]), user=team.admin)
    assert r.status == 202 and r.data["previousStatus"] == "not_started"
    assert [m["sessionId"] for m in messages(sqs, url)] == [str(failed["id"])]


# --- GET /stats ---------------------------------------------------------------------------------------------


def test_stats_summarize_the_orgs_sessions(
    invoke: Any, team: Any, make_voice_session: Any, admin_conn: Any
) -> None:
    completed = [make_voice_session(team.org, team.member, status="completed") for _ in range(3)]
    for s, seconds in zip(completed, (600, 900, 1200), strict=True):
        admin_conn.execute(
            "UPDATE public.voice_sessions SET duration_seconds = %s WHERE id = %s", (seconds, s["id"])
        )
    insert_analytics(admin_conn, completed[0], status="completed", overall_score=80)
    insert_analytics(admin_conn, completed[1], status="completed", overall_score=91)
    make_voice_session(team.org, team.member, status="failed")
    make_voice_session(team.org, team.member, status="pending")
    make_voice_session(team.org, team.admin, status="active")
    old = make_voice_session(team.org, team.member, status="cancelled")
    admin_conn.execute(
        "UPDATE public.voice_sessions SET created_at = now() - interval '70 days' WHERE id = %s", (old["id"],)
    )
    other = make_voice_session(team.other_org, team.outsider, status="completed")
    insert_analytics(admin_conn, other, status="completed", overall_score=10)

    r = invoke(LAMBDA, "GET", "/api/voice/stats", user=team.member, query={"orgId": str(team.org.id)})

    assert r.status == 200, r.body
    assert r.data == {
        "orgId": str(team.org.id),
        "totalSessions": 7,
        "completedSessions": 3,
        "avgDurationSeconds": 900,
        "avgScore": 85.5,
        "sessionsThisMonth": 6,
        "sessionsByStatus": {
            "pending": 1,
            "ready": 0,
            "active": 1,
            "completed": 3,
            "failed": 1,
            "cancelled": 1,
        },
    }
    snake = invoke(LAMBDA, "GET", "/api/voice/stats", user=team.owner, query={"org_id": str(team.org.id)})
    assert snake.data == r.data


def test_stats_of_an_empty_org(invoke: Any, make_org: Any, make_user: Any) -> None:
    org = make_org()
    r = invoke(
        LAMBDA, "GET", "/api/voice/stats", user=make_user(org, "org_user"), query={"orgId": str(org.id)}
    )
    assert r.status == 200, r.body
    assert (
        r.data["totalSessions"] == 0 and r.data["avgScore"] is None and r.data["avgDurationSeconds"] is None
    )
    assert set(r.data["sessionsByStatus"].values()) == {0}


@pytest.mark.parametrize("who", ["outsider", "platform_admin"])
def test_stats_are_for_members_only(invoke: Any, team: Any, make_voice_session: Any, who: str) -> None:
    make_voice_session(team.org, team.member, status="completed")
    r = invoke(LAMBDA, "GET", "/api/voice/stats", user=getattr(team, who), query={"orgId": str(team.org.id)})
    assert r.status == 404 and r.code == "ORG_NOT_FOUND"
    assert "totalSessions" not in json.dumps(r.body)


@pytest.mark.parametrize(("query", "needle"), [({}, "orgId: Field required"), ({"orgId": "zzz"}, "orgId")])
def test_stats_validation(invoke: Any, team: Any, query: dict, needle: str) -> None:
    r = invoke(LAMBDA, "GET", "/api/voice/stats", user=team.member, query=query)
    assert r.status == 400 and needle in r.body["error"]


def test_every_route_requires_authentication(invoke: Any, team: Any) -> None:
    some = str(uuid.uuid4())
    for method, path, kwargs in [
        ("GET", f"/api/voice/analytics/{some}", {}),
        ("POST", f"/api/voice/analytics/{some}/regenerate", {}),
        ("GET", "/api/voice/stats", {"query": {"orgId": str(team.org.id)}}),
    ]:
        r = invoke(LAMBDA, method, path, **kwargs)
        assert r.status == 401 and r.code == "UNAUTHORIZED", (method, path)


def test_reads_cost_one_statement_and_the_commit(invoke: Any, team: Any, make_voice_session: Any) -> None:
    """Membership checks ride on the data query: each read is one round trip plus COMMIT."""
    from access_common import db

    session = make_voice_session(team.org, team.member, status="completed")
    reads = [
        (f"/api/voice/analytics/{session['id']}", None),
        ("/api/voice/stats", {"orgId": str(team.org.id)}),
    ]
    invoke(LAMBDA, "GET", reads[0][0], user=team.member)  # a warm connection, as in a warm container
    for path, query in reads:
        before = db.round_trips
        assert invoke(LAMBDA, "GET", path, user=team.member, query=query).status == 200
        assert db.round_trips - before == 2, path
