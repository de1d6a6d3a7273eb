"""voice-transcripts: list/read for org members, delete for org admins (with S3 archive erasure), against
PostgreSQL with RLS and S3 from moto. Transcript rows are inserted as the completion job would (superuser)."""

from __future__ import annotations

import json
import os
import secrets
import uuid
from typing import Any

import pytest
from psycopg.types.json import Jsonb

pytestmark = pytest.mark.usefixtures("aws_env", "database_url")

LAMBDA = "voice-transcripts"
BASE = "/api/voice/transcripts"

SEGMENTS = [
    {
        "seq": 1,
        "speaker": "bot",
        "text": "Hello, welcome to your interview.",
        "start_time": 0.0,
        "end_time": 2.5,
        "confidence": 0.98,
    },
    {
        "seq": 2,
        "speaker": "candidate",
        "text": "Thank you, glad to be here.",
        "start_time": 3.0,
        "end_time": 5.2,
        "confidence": 0.95,
    },
]


def insert_transcript(admin_conn: Any, session: dict, **columns: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "session_id": session["id"],
        "transcript_text": f"Bot: Hello {secrets.token_hex(4)}\nCandidate: Thank you.",
        "candidate_name": session["candidate_name"],
        "interview_type": session["interview_type"],
        "summary": "A short interview.",
        "word_count": 9,
        "speaker_segments": Jsonb(SEGMENTS),
        "metadata": Jsonb({"segments": 2}),
        "created_by": session["created_by"],
        **columns,
    }
    cols = ", ".join(values)
    return admin_conn.execute(
        f"INSERT INTO public.voice_transcripts ({cols}) "
        f"VALUES ({', '.join(['%s'] * len(values))}) RETURNING *",
        list(values.values()),
    ).fetchone()


@pytest.fixture
def world(team: Any, make_voice_session: Any, admin_conn: Any) -> dict[str, Any]:
    """Three transcripts in the team's org (two sessions in order), one in the other org."""
    sessions = [make_voice_session(team.org, team.member, status="completed") for _ in range(3)]
    transcripts = [insert_transcript(admin_conn, s) for s in sessions]
    # Distinct creation times, oldest first, so the newest-first order is well defined.
    for i, t in enumerate(transcripts):
        admin_conn.execute(
            "UPDATE public.voice_transcripts SET created_at = now() - make_interval(mins => %s) "
            "WHERE id = %s",
            (10 - i, t["id"]),
        )
    other_session = make_voice_session(team.other_org, team.outsider, status="completed")
    other = insert_transcript(admin_conn, other_session)
    return {"sessions": sessions, "transcripts": transcripts, "other": other}


def test_members_list_their_orgs_transcripts_newest_first_without_text(
    invoke: Any, team: Any, world: Any
) -> None:
    r = invoke(LAMBDA, "GET", BASE, user=team.member, query={"orgId": str(team.org.id)})

    assert r.status == 200, r.body
    expected = [str(t["id"]) for t in reversed(world["transcripts"])]
    assert [t["id"] for t in r.data] == expected
    assert r.body["pagination"] == {"total": 3, "limit": 100, "offset": 0, "hasMore": False}
    item = r.data[0]
    assert "transcriptText" not in item and "speakerSegments" not in item
    assert item["orgId"] == str(team.org.id) and item["sessionId"] == str(world["sessions"][-1]["id"])
    assert item["candidateName"] == "Ada Candidate" and item["wordCount"] == 9 and item["summary"]
    assert item["metadata"] == {"segments": 2}
    assert str(world["other"]["id"]) not in json.dumps(r.body)


def test_list_filters_by_session_and_paginates(invoke: Any, team: Any, world: Any) -> None:
    session = world["sessions"][1]
    one = invoke(
        LAMBDA,
        "GET",
        BASE,
        user=team.admin,
        query={"orgId": str(team.org.id), "sessionId": str(session["id"])},
    )
    assert [t["id"] for t in one.data] == [str(world["transcripts"][1]["id"])]
    assert one.body["pagination"]["total"] == 1

    snake = invoke(
        LAMBDA,
        "GET",
        BASE,
        user=team.admin,
        query={"org_id": str(team.org.id), "session_id": str(session["id"])},
    )
    assert snake.data == one.data

    page = invoke(LAMBDA, "GET", BASE, user=team.member, query={"orgId": str(team.org.id), "limit": "2"})
    assert len(page.data) == 2 and page.body["pagination"] == {
        "total": 3,
        "limit": 2,
        "offset": 0,
        "hasMore": True,
    }
    rest = invoke(
        LAMBDA, "GET", BASE, user=team.member, query={"orgId": str(team.org.id), "limit": "2", "offset": "2"}
    )
    assert len(rest.data) == 1 and rest.body["pagination"]["hasMore"] is False
    assert {t["id"] for t in page.data + rest.data} == {str(t["id"]) for t in world["transcripts"]}
    past = invoke(LAMBDA, "GET", BASE, user=team.member, query={"orgId": str(team.org.id), "offset": "50"})
    assert past.data == [] and past.body["pagination"]["total"] == 3

    other_session = invoke(
        LAMBDA,
        "GET",
        BASE,
        user=team.member,
        query={"orgId": str(team.org.id), "sessionId": str(world["other"]["session_id"])},
    )
    assert other_session.status == 200 and other_session.data == []


def test_an_org_without_transcripts_lists_nothing(invoke: Any, make_org: Any, make_user: Any) -> None:
    org = make_org()
    r = invoke(LAMBDA, "GET", BASE, user=make_user(org, "org_user"), query={"orgId": str(org.id)})
    assert r.status == 200 and r.data == [] and r.body["pagination"]["total"] == 0


@pytest.mark.parametrize("who", ["outsider", "platform_admin"])
def test_non_members_cannot_list(invoke: Any, team: Any, world: Any, who: str) -> None:
    r = invoke(LAMBDA, "GET", BASE, user=getattr(team, who), query={"orgId": str(team.org.id)})
    assert r.status == 404 and r.code == "ORG_NOT_FOUND"


@pytest.mark.parametrize(
    ("query", "needle"),
    [
        ({}, "orgId: Field required"),
        ({"orgId": "x"}, "orgId"),
        ({"orgId": "ORG", "sessionId": "12"}, "sessionId"),
        ({"orgId": "ORG", "limit": "1001"}, "limit"),
        ({"orgId": "ORG", "offset": "-3"}, "offset"),
        ({"orgId": "ORG", "org_id": str(uuid.UUID(int=7))}, "twice"),
    ],
)
def test_list_validation(invoke: Any, team: Any, query: dict, needle: str) -> None:
    query = {k: (str(team.org.id) if v == "ORG" else v) for k, v in query.items()}
    r = invoke(LAMBDA, "GET", BASE, user=team.member, query=query)
    assert r.status == 400 and needle in r.body["error"], r.body


def test_get_returns_the_full_transcript_to_members(invoke: Any, team: Any, world: Any) -> None:
    t = world["transcripts"][0]
    r = invoke(LAMBDA, "GET", f"{BASE}/{t['id']}", user=team.member)
    assert r.status == 200, r.body
    assert r.data["transcriptText"] == t["transcript_text"]
    assert r.data["speakerSegments"][1] == {
        "seq": 2,
        "speaker": "candidate",
        "text": "Thank you, glad to be here.",
        "startTime": 3.0,
        "endTime": 5.2,
        "confidence": 0.95,
    }
    assert r.data["sessionId"] == str(t["session_id"]) and r.data["createdBy"] == str(team.member.id)


def test_get_hides_other_orgs_and_unknown_ids(invoke: Any, team: Any, world: Any) -> None:
    t = world["transcripts"][0]
    for user in (team.outsider, team.platform_admin):
        r = invoke(LAMBDA, "GET", f"{BASE}/{t['id']}", user=user)
        assert r.status == 404 and r.code == "TRANSCRIPT_NOT_FOUND"
    assert invoke(LAMBDA, "GET", f"{BASE}/{world['other']['id']}", user=team.owner).status == 404
    assert invoke(LAMBDA, "GET", f"{BASE}/{uuid.uuid4()}", user=team.owner).status == 404
    bad = invoke(LAMBDA, "GET", f"{BASE}/not-a-uuid", user=team.owner)
    assert bad.status == 400 and "id" in bad.body["error"]


def test_delete_is_for_org_admins_and_erases_the_archive(
    invoke: Any, team: Any, make_voice_session: Any, admin_conn: Any, aws_clients: Any
) -> None:
    s3 = aws_clients("s3")
    bucket = os.environ["TRANSCRIPT_BUCKET"]
    session = make_voice_session(team.org, team.member, status="completed")
    key = f"transcripts/{team.org.id}/2026/01/16/{session['id']}.json"
    s3.put_object(Bucket=bucket, Key=key, Body=b'{"segments": []}')
    t = insert_transcript(admin_conn, session, transcript_s3_url=f"s3://{bucket}/{key}")
    moments = [
        {"timestamp": 12.0, "type": "strength", "description": "Clear plan", "quote": "I would cache it"},
        {"timestamp": 40.0, "type": "concern", "description": "Vague on tests"},
    ]
    analytics = admin_conn.execute(
        "INSERT INTO public.voice_analytics"
        " (session_id, transcript_id, status, created_by, overall_score, key_moments, detailed_analysis) "
        "VALUES (%s, %s, 'completed', %s, 72, %s, %s) RETURNING id",
        (
            session["id"],
            t["id"],
            team.member.id,
            Jsonb(moments),
            Jsonb({"summary": "The candidate said they would cache it.", "rubric_source": "config"}),
        ),
    ).fetchone()

    for seq, speaker in enumerate(("bot", "candidate")):
        admin_conn.execute(
            "INSERT INTO public.voice_transcript_segments (session_id, org_id, seq, speaker, text) "
            "VALUES (%s, %s, %s, %s, 'words')",
            (session["id"], team.org.id, seq, speaker),
        )

    def exists() -> bool:
        return (
            admin_conn.execute("SELECT 1 FROM public.voice_transcripts WHERE id = %s", (t["id"],)).fetchone()
            is not None
        )

    def segments() -> int:
        row = admin_conn.execute(
            "SELECT count(*) AS n FROM public.voice_transcript_segments WHERE session_id = %s",
            (session["id"],),
        ).fetchone()
        return int(row["n"])

    member = invoke(LAMBDA, "DELETE", f"{BASE}/{t['id']}", user=team.member)
    assert member.status == 403 and member.code == "ORG_ADMIN_REQUIRED" and exists()
    outsider = invoke(LAMBDA, "DELETE", f"{BASE}/{t['id']}", user=team.outsider)
    assert outsider.status == 404 and exists()
    assert invoke(LAMBDA, "DELETE", f"{BASE}/{t['id']}", user=team.platform_admin).status == 404 and exists()
    assert segments() == 2

    r = invoke(LAMBDA, "DELETE", f"{BASE}/{t['id']}", user=team.admin)

    assert r.status == 200, r.body
    assert r.data == {
        "id": str(t["id"]),
        "sessionId": str(session["id"]),
        "orgId": str(team.org.id),
        "deleted": True,
        "segmentsDeleted": 2,
        "archiveDeletionRequested": True,
    }
    assert not exists()
    assert segments() == 0  # candidate erasure: nothing left to rebuild the transcript from
    assert s3.list_objects_v2(Bucket=bucket, Prefix=key).get("KeyCount") == 0
    kept = admin_conn.execute(
        "SELECT transcript_id, overall_score, key_moments, detailed_analysis"
        " FROM public.voice_analytics WHERE id = %s",
        (analytics["id"],),
    ).fetchone()
    assert kept["transcript_id"] is None and float(kept["overall_score"]) == 72.0  # the scores stay
    # The candidate's words do not: no quote, no narrative summary.
    assert kept["key_moments"] == [{k: v for k, v in m.items() if k != "quote"} for m in moments]
    assert kept["detailed_analysis"] == {"rubric_source": "config", "erased": True}
    assert invoke(LAMBDA, "DELETE", f"{BASE}/{t['id']}", user=team.admin).status == 404


def test_owner_deletes_a_transcript_that_was_never_archived(
    invoke: Any, team: Any, make_voice_session: Any, admin_conn: Any
) -> None:
    t = insert_transcript(admin_conn, make_voice_session(team.org, team.member, status="failed"))
    r = invoke(LAMBDA, "DELETE", f"{BASE}/{t['id']}", user=team.owner)
    assert r.status == 200 and r.data["archiveDeletionRequested"] is False
    assert invoke(LAMBDA, "DELETE", f"{BASE}/{uuid.uuid4()}", user=team.owner).status == 404
    assert invoke(LAMBDA, "DELETE", f"{BASE}/42", user=team.owner).status == 400


def test_every_route_requires_authentication(invoke: Any, team: Any) -> None:
    some = str(uuid.uuid4())
    for method, path, kwargs in [
        ("GET", BASE, {"query": {"orgId": str(team.org.id)}}),
        ("GET", f"{BASE}/{some}", {}),
        ("DELETE", f"{BASE}/{some}", {}),
    ]:
        r = invoke(LAMBDA, method, path, **kwargs)
        assert r.status == 401 and r.code == "UNAUTHORIZED", (method, path)


def test_list_and_get_cost_one_statement_and_the_commit(invoke: Any, team: Any, world: Any) -> None:
    from access_common import db

    query = {"orgId": str(team.org.id)}
    invoke(LAMBDA, "GET", BASE, user=team.member, query=query)  # a warm connection
    for path, q in [(BASE, query), (f"{BASE}/{world['transcripts'][0]['id']}", None)]:
        before = db.round_trips
        assert invoke(LAMBDA, "GET", path, user=team.member, query=q).status == 200
        assert db.round_trips - before == 2, path
