"""Constraints reject bad values with the SQLSTATE the API maps to a 4xx (never a silent accept)."""

from __future__ import annotations

import json
from typing import Any

import psycopg
import pytest
from psycopg import errors

from tests.fixtures.db import create_org, create_user, create_voice_config, create_voice_session

ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:voice/daily-AbCdEf"


@pytest.fixture
def ctx(admin_conn) -> dict[str, Any]:
    org = create_org(admin_conn)
    user = create_user(admin_conn, org, "org_admin")
    session = create_voice_session(admin_conn, org, user, status="active")
    return {"org": org, "user": user, "session": session}


def p(ctx, **extra: Any) -> dict[str, Any]:
    return {"org": ctx["org"].id, "user": ctx["user"].id, "session": ctx["session"]["id"], **extra}


SESSION_INSERT = (
    "INSERT INTO public.voice_sessions (org_id, interview_type, candidate_email, created_by) "
    "VALUES (%(org)s, %(type)s, %(email)s, %(user)s)"
)


@pytest.mark.parametrize(
    ("type_", "email", "error"),
    [
        ("", None, errors.CheckViolation),
        ("   ", None, errors.CheckViolation),
        ("x" * 101, None, errors.StringDataRightTruncation),
        ("technical", "not-an-email", errors.CheckViolation),
        ("technical", "a@b", errors.CheckViolation),
        ("technical", "two@@example.com", errors.CheckViolation),
        ("technical", "spa ce@example.com", errors.CheckViolation),
        ("technical", "", errors.CheckViolation),
        (None, None, errors.NotNullViolation),
    ],
)
def test_session_values_rejected(type_, email, error, ctx, admin_conn):
    with pytest.raises(error):
        admin_conn.execute(SESSION_INSERT, p(ctx, type=type_, email=email))


@pytest.mark.parametrize("email", [None, "ada@example.com", "first.last+tag@sub.example.co.uk"])
def test_session_values_accepted(email, ctx, admin_conn):
    admin_conn.execute(SESSION_INSERT, p(ctx, type="x" * 100, email=email))


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("duration_seconds", -1),
        ("dispatch_mode", "carrier-pigeon"),
        ("failure_reason", "x" * 2001),
        ("session_metadata", json.dumps([1, 2])),
    ],
)
def test_session_updates_rejected(column, value, ctx, admin_conn):
    with pytest.raises(errors.CheckViolation):
        admin_conn.execute(
            f"UPDATE public.voice_sessions SET {column} = %(v)s WHERE id = %(session)s", p(ctx, v=value)
        )


def test_session_requires_active_config_of_its_org(ctx, admin_conn):
    inactive = create_voice_config(admin_conn, ctx["org"], ctx["user"], is_active=False)
    with pytest.raises(errors.CheckViolation, match="not active"):
        admin_conn.execute(
            "INSERT INTO public.voice_sessions (org_id, interview_type, created_by, config_id) "
            "VALUES (%(org)s, 'technical', %(user)s, %(config)s)",
            p(ctx, config=inactive["id"]),
        )


@pytest.mark.parametrize(
    ("name", "interview_type", "config_json", "error"),
    [
        ("", "technical", "{}", errors.CheckViolation),
        (" ", "technical", "{}", errors.CheckViolation),
        ("n" * 256, "technical", "{}", errors.StringDataRightTruncation),
        ("ok", "", "{}", errors.CheckViolation),
        ("ok", "t" * 101, "{}", errors.StringDataRightTruncation),
        ("ok", "technical", "[]", errors.CheckViolation),
        ("ok", "technical", '"text"', errors.CheckViolation),
        ("ok", "technical", None, errors.NotNullViolation),
        ("ok", "technical", "{not json", errors.InvalidTextRepresentation),
    ],
)
def test_config_values_rejected(name, interview_type, config_json, error, ctx, admin_conn):
    with pytest.raises(error):
        admin_conn.execute(
            "INSERT INTO public.voice_configs (org_id, name, interview_type, config_json, created_by) "
            "VALUES (%(org)s, %(name)s, %(t)s, %(j)s, %(user)s)",
            p(ctx, name=name, t=interview_type, j=config_json),
        )


def test_config_name_unique_per_org(ctx, admin_conn):
    create_voice_config(admin_conn, ctx["org"], ctx["user"], name="Screen")
    create_voice_config(admin_conn, ctx["org"], ctx["user"], name="n" * 255)
    with pytest.raises(errors.UniqueViolation):
        create_voice_config(admin_conn, ctx["org"], ctx["user"], name="Screen")
    other = create_org(admin_conn)
    create_voice_config(admin_conn, other, ctx["user"], name="Screen")  # same name, other org: fine


def test_config_version_bumps_on_content_change(ctx, admin_conn):
    config = create_voice_config(admin_conn, ctx["org"], ctx["user"])
    assert config["version"] == 1
    bump = "UPDATE public.voice_configs SET {} WHERE id = %s RETURNING version, updated_at"
    row = admin_conn.execute(bump.format('config_json = \'{"bot_name": "B"}\''), (config["id"],)).fetchone()
    assert row["version"] == 2
    row = admin_conn.execute(bump.format("is_active = false"), (config["id"],)).fetchone()
    assert row["version"] == 2  # toggling is not a new version
    row = admin_conn.execute(bump.format("name = 'Renamed', version = 7"), (config["id"],)).fetchone()
    assert row["version"] == 7  # a writer that sets the version explicitly is respected
    with pytest.raises(errors.CheckViolation):
        admin_conn.execute(bump.format("version = 0"), (config["id"],))


SEGMENT_INSERT = (
    "INSERT INTO public.voice_transcript_segments "
    "(session_id, seq, speaker, text, start_time, end_time, confidence) "
    "VALUES (%(session)s, %(seq)s, %(speaker)s, %(text)s, %(start)s, %(end)s, %(conf)s)"
)
GOOD_SEGMENT = {"seq": 1, "speaker": "bot", "text": "Hello", "start": 0.0, "end": 1.5, "conf": 0.9}


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"seq": -1}, errors.CheckViolation),
        ({"seq": None}, errors.NotNullViolation),
        ({"speaker": "narrator"}, errors.CheckViolation),
        ({"speaker": "Bot"}, errors.CheckViolation),
        ({"text": ""}, errors.CheckViolation),
        ({"text": "x" * 10_001}, errors.CheckViolation),
        ({"text": None}, errors.NotNullViolation),
        ({"start": -0.5}, errors.CheckViolation),
        ({"start": 2.0, "end": 1.0}, errors.CheckViolation),
        ({"conf": 1.5}, errors.CheckViolation),
        ({"conf": -0.1}, errors.CheckViolation),
    ],
)
def test_segment_values_rejected(change, error, ctx, admin_conn):
    with pytest.raises(error):
        admin_conn.execute(SEGMENT_INSERT, p(ctx, **{**GOOD_SEGMENT, **change}))


def test_segment_bounds_and_uniqueness(ctx, admin_conn):
    admin_conn.execute(SEGMENT_INSERT, p(ctx, **{**GOOD_SEGMENT, "seq": 0, "text": "x" * 10_000}))
    admin_conn.execute(SEGMENT_INSERT, p(ctx, **GOOD_SEGMENT))
    with pytest.raises(errors.UniqueViolation):
        admin_conn.execute(SEGMENT_INSERT, p(ctx, **GOOD_SEGMENT))
    other = create_voice_session(admin_conn, ctx["org"], ctx["user"])
    admin_conn.execute(SEGMENT_INSERT, {**p(ctx, **GOOD_SEGMENT), "session": other["id"]})  # seq per session


def test_segment_needs_existing_session(ctx, admin_conn):
    with pytest.raises(errors.ForeignKeyViolation):
        admin_conn.execute(
            SEGMENT_INSERT, {**p(ctx, **GOOD_SEGMENT), "session": "00000000-0000-0000-0000-000000000001"}
        )


ANALYTICS_INSERT = (
    "INSERT INTO public.voice_analytics (session_id, overall_score, status, created_by) "
    "VALUES (%(session)s, %(score)s, %(status)s, %(user)s)"
)


@pytest.mark.parametrize(
    ("score", "status", "error"),
    [
        (100.01, "completed", errors.CheckViolation),
        (-1, "completed", errors.CheckViolation),
        (1000, "completed", errors.NumericValueOutOfRange),
        (50, "done", errors.CheckViolation),
    ],
)
def test_analytics_values_rejected(score, status, error, ctx, admin_conn):
    with pytest.raises(error):
        admin_conn.execute(ANALYTICS_INSERT, p(ctx, score=score, status=status))


def test_analytics_one_per_session_and_score_bounds(ctx, admin_conn):
    admin_conn.execute(ANALYTICS_INSERT, p(ctx, score=100, status="completed"))
    with pytest.raises(errors.UniqueViolation):
        admin_conn.execute(ANALYTICS_INSERT, p(ctx, score=0, status="completed"))


def test_transcript_one_per_session_and_s3_url(ctx, admin_conn):
    insert = (
        "INSERT INTO public.voice_transcripts (session_id, transcript_s3_url, word_count, created_by) "
        "VALUES (%(session)s, %(url)s, %(words)s, %(user)s)"
    )
    for url, words in (("not a url", 1), ("ftp://bucket/key", 1), ("s3://bucket/key", -1)):
        with pytest.raises(errors.CheckViolation):
            admin_conn.execute(insert, p(ctx, url=url, words=words))
    admin_conn.execute(
        insert, p(ctx, url="s3://cora-local-voice-transcripts/transcripts/o/2026/01/16/s.json", words=3)
    )
    with pytest.raises(errors.UniqueViolation):
        admin_conn.execute(insert, p(ctx, url=None, words=None))


CREDENTIAL_INSERT = (
    "INSERT INTO public.voice_credentials "
    "(org_id, service_name, credentials_secret_arn, key_last4, created_by) "
    "VALUES (%(org)s, %(service)s, %(arn)s, %(last4)s, %(user)s)"
)


@pytest.mark.parametrize(
    ("service", "arn", "last4", "error"),
    [
        ("twilio", ARN, None, errors.CheckViolation),
        ("daily", "my-secret-key", None, errors.CheckViolation),
        ("daily", "arn:aws:s3:::bucket/key", None, errors.CheckViolation),
        ("daily", ARN, "12345", errors.CheckViolation),
        ("daily", ARN, "", errors.CheckViolation),
        ("daily", None, None, errors.NotNullViolation),
    ],
)
def test_credential_values_rejected(service, arn, last4, error, ctx, admin_conn):
    with pytest.raises(error):
        admin_conn.execute(CREDENTIAL_INSERT, p(ctx, service=service, arn=arn, last4=last4))


def test_one_credential_per_service_per_org_and_one_platform_default(ctx, admin_conn):
    admin_conn.execute(CREDENTIAL_INSERT, p(ctx, service="daily", arn=ARN, last4="abcd"))
    with pytest.raises(errors.UniqueViolation):
        admin_conn.execute(CREDENTIAL_INSERT, p(ctx, service="daily", arn=ARN, last4=None))
    # Platform defaults: at most one per service (checked in a rolled-back transaction: shared state).
    with pytest.raises(errors.UniqueViolation), admin_conn.transaction():
        admin_conn.execute(
            "DELETE FROM public.voice_credentials WHERE org_id IS NULL AND service_name = 'cartesia'"
        )
        admin_conn.execute(CREDENTIAL_INSERT, p(ctx, org=None, service="cartesia", arn=ARN, last4=None))
        admin_conn.execute(CREDENTIAL_INSERT, p(ctx, org=None, service="cartesia", arn=ARN, last4=None))


def test_session_kb_link_unique(ctx, admin_conn):
    kb = admin_conn.execute(
        "INSERT INTO public.kb_bases (org_id, name) VALUES (%s, 'KB') RETURNING id", (ctx["org"].id,)
    ).fetchone()["id"]
    link = (
        "INSERT INTO public.voice_session_kb (session_id, kb_id, added_by) "
        "VALUES (%(session)s, %(kb)s, %(user)s)"
    )
    admin_conn.execute(link, p(ctx, kb=kb))
    with pytest.raises(errors.UniqueViolation):
        admin_conn.execute(link, p(ctx, kb=kb))


def test_deleting_a_session_cascades(ctx, admin_conn):
    session = ctx["session"]
    kb = admin_conn.execute(
        "INSERT INTO public.kb_bases (org_id, name) VALUES (%s, 'KB') RETURNING id", (ctx["org"].id,)
    ).fetchone()["id"]
    params = p(ctx, kb=kb)
    for statement in (
        "INSERT INTO public.voice_session_kb (session_id, kb_id, added_by) "
        "VALUES (%(session)s, %(kb)s, %(user)s)",
        "INSERT INTO public.voice_transcripts (session_id, created_by) VALUES (%(session)s, %(user)s)",
        "INSERT INTO public.voice_transcript_segments (session_id, seq, speaker, text) "
        "VALUES (%(session)s, 0, 'bot', 'Hi')",
        "INSERT INTO public.voice_analytics (session_id, created_by) VALUES (%(session)s, %(user)s)",
    ):
        admin_conn.execute(statement, params)
    children = (
        "voice_session_kb",
        "voice_transcripts",
        "voice_transcript_segments",
        "voice_analytics",
        "voice_session_status_history",
    )
    count = "SELECT count(*) AS n FROM public.{} WHERE session_id = %s"
    assert all(admin_conn.execute(count.format(t), (session["id"],)).fetchone()["n"] > 0 for t in children)
    # As the creator's org admin through RLS, like DELETE /sessions/{id}.
    with psycopg.connect(admin_conn.info.dsn) as conn:
        conn.execute(
            "SELECT set_config('role', 'authenticated', true), set_config('request.jwt.claims', %s, true)",
            (json.dumps({"sub": str(ctx["user"].id), "role": "authenticated"}),),
        )
        assert conn.execute("DELETE FROM public.voice_sessions WHERE id = %s", (session["id"],)).rowcount == 1
    for table in children:
        assert admin_conn.execute(count.format(table), (session["id"],)).fetchone()["n"] == 0, table


def test_updated_at_maintained_by_database(ctx, admin_conn):
    row = admin_conn.execute(
        "UPDATE public.voice_sessions SET candidate_name = 'X', updated_at = '2000-01-01' WHERE id = %s "
        "RETURNING updated_at, now() AS tx_now",
        (ctx["session"]["id"],),
    ).fetchone()
    assert row["updated_at"] == row["tx_now"]
