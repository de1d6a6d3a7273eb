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


def test_subscribers_hear_why_the_bot_failed_and_only_then(orch, started, bot_call, monkeypatch):
    from voice_common import realtime

    pushed: list[tuple] = []
    monkeypatch.setattr(
        realtime,
        "publish_status",
        lambda sid, org, status, reason=None: pushed.append((str(sid), status, reason)),
    )
    sid, token = started
    assert bot_call(sid, "joined", token).status == 200
    assert bot_call(sid, "failed", token, body={"reason": "microphone lost"}).status == 200
    assert pushed == [(str(sid), "active", None), (str(sid), "failed", "microphone lost")]


def test_start_answers_say_what_is_wrong(orch, scene, start, clock):
    clock(OFF_HOURS)
    gone = start(uuid.uuid4(), scene.creator)
    assert (gone.status, gone.body["error"], gone.body["code"]) == (
        404,
        "Session not found",
        "SESSION_NOT_FOUND",
    )
    outsider_view = start(scene.new_session()["id"], scene.outsider)  # existence is not revealed
    assert (outsider_view.status, outsider_view.body["error"], outsider_view.code) == (
        404,
        "Session not found",
        "SESSION_NOT_FOUND",
    )


# --- start: what is created, with which key, for whom -------------------------------------------------------


def test_a_finished_session_says_which_status_it_has(orch, scene, start, clock):
    clock(OFF_HOURS)
    session = scene.new_session(status="cancelled")
    res = start(session["id"], scene.creator)
    assert (res.status, res.code, res.body["details"]) == (
        409,
        "SESSION_NOT_STARTABLE",
        {"status": "cancelled"},
    )


def test_at_the_limit_nothing_is_created(orch, scene, start, clock, daily, monkeypatch):
    from voice_common.settings import get_settings

    monkeypatch.setenv("VOICE_MAX_CONCURRENT_SESSIONS", "1")
    get_settings.cache_clear()
    clock(OFF_HOURS)
    scene.new_session(status="active")
    session = scene.new_session()
    before = len(daily.requests)

    res = start(session["id"], scene.creator)

    assert (res.status, res.code) == (429, "CONCURRENT_SESSION_LIMIT")
    assert len(daily.requests) == before  # no room, no token: refused before anything was created


def _link_kb(admin_conn, scene, session, name: str, title: str, content: str):
    """A knowledge base of the scene's org with one document, enabled for the session; its id."""
    kb = admin_conn.execute(
        "INSERT INTO public.kb_bases (org_id, name) VALUES (%s, %s) RETURNING id", (scene.org.id, name)
    ).fetchone()["id"]
    admin_conn.execute(
        "INSERT INTO public.kb_docs (kb_id, title, content) VALUES (%s, %s, %s)", (kb, title, content)
    )
    admin_conn.execute(
        "INSERT INTO public.voice_session_kb (session_id, kb_id, is_enabled, added_by) "
        "VALUES (%s, %s, true, %s)",
        (session["id"], kb, scene.creator.id),
    )
    return kb


def test_knowledge_is_sent_unless_the_feature_is_turned_off(
    orch, scene, start, clock, ecs, admin_conn, monkeypatch
):
    from voice_common import orchestration
    from voice_common.settings import get_settings

    settings = get_settings()
    unset = settings.model_copy(
        update={"features": {k: v for k, v in settings.features.items() if k != "knowledge_base_grounding"}}
    )
    monkeypatch.setattr(orchestration, "get_settings", lambda: unset)
    clock(OFF_HOURS)
    session = scene.new_session()
    kb = _link_kb(admin_conn, scene, session, "Handbook", "Stack", "PostgreSQL")

    assert start(session["id"], scene.creator).status == 200

    (task,) = tasks_for(ecs, orch["ECS_CLUSTER"], session["id"])
    assert bot_payload_of(task)["knowledge"] == [{"kbId": str(kb), "title": "Stack", "content": "PostgreSQL"}]


@pytest.mark.parametrize(
    ("config_name", "expected"),
    [("Ada the Interviewer", "Ada the Interviewer"), (None, "Interview Assistant"), ("B" * 150, "B" * 100)],
)
def test_the_bot_joins_under_the_configured_name(
    orch, scene, start, clock, daily, make_voice_config, make_voice_session, config_name, expected
):
    from tests.fixtures.db import SAMPLE_CONFIG_JSON

    config_json = {**SAMPLE_CONFIG_JSON, "bot_name": config_name}
    config = make_voice_config(scene.org, scene.admin, config_json=config_json)
    session = make_voice_session(scene.org, scene.creator, config_id=config["id"])
    clock(OFF_HOURS)

    assert start(session["id"], scene.creator).status == 200

    owners = [t for t in daily.tokens if t.get("room_name") == f"voice-{session['id']}" and t.get("is_owner")]
    assert [t.get("user_name") for t in owners] == [expected]


def test_the_room_is_created_with_the_orgs_own_daily_key(orch, scene, start, clock, admin_conn, monkeypatch):
    import boto3

    from voice_common import credentials
    from voice_local.daily_standin import DailyStandIn

    sm = boto3.client("secretsmanager", endpoint_url=orch["AWS_ENDPOINT_URL"])
    arn = sm.create_secret(Name=f"test/daily/{uuid.uuid4()}", SecretString="org-own-daily-key")["ARN"]
    admin_conn.execute(
        "INSERT INTO public.voice_credentials (org_id, service_name, credentials_secret_arn, created_by) "
        "VALUES (%s, 'daily', %s, %s)",
        (scene.org.id, arn, scene.admin.id),
    )
    credentials.forget_cached_key(None)
    clock(OFF_HOURS)
    session = scene.new_session()
    with DailyStandIn(api_key="org-own-daily-key") as strict:  # refuses any other key
        monkeypatch.setenv("DAILY_API_URL", strict.url)
        res = start(session["id"], scene.creator)
        assert res.status == 200, res.body
        assert f"voice-{session['id']}" in strict.rooms


def test_provider_secrets_of_the_org_reach_the_bot(orch, scene, start, clock, ecs, admin_conn, monkeypatch):
    arn = f"arn:aws:secretsmanager:us-east-1:123456789012:secret:org-deepgram-{uuid.uuid4().hex[:6]}"
    monkeypatch.setenv(
        "DEEPGRAM_API_KEY_SECRET_ARN", "arn:aws:secretsmanager:us-east-1:123456789012:secret:env-dg"
    )
    admin_conn.execute(
        "INSERT INTO public.voice_credentials (org_id, service_name, credentials_secret_arn, created_by) "
        "VALUES (%s, 'deepgram', %s, %s)",
        (scene.org.id, arn, scene.admin.id),
    )
    clock(OFF_HOURS)
    session = scene.new_session()
    assert start(session["id"], scene.creator).status == 200
    (task,) = tasks_for(ecs, orch["ECS_CLUSTER"], session["id"])
    assert bot_payload_of(task)["secretArns"]["deepgram"] == arn


def test_meeting_tokens_expire_with_the_room_and_name_the_candidate(orch, scene, start, clock, daily):
    clock(OFF_HOURS)
    session = scene.new_session()
    assert start(session["id"], scene.creator).status == 200
    room = daily.rooms[f"voice-{session['id']}"]
    tokens = [t for t in daily.tokens if t.get("room_name") == room["name"]]
    assert sorted((t.get("is_owner"), t.get("user_name")) for t in tokens) == [
        (False, "Candidate"),
        (True, "Interview Assistant"),
    ]
    assert {t.get("exp") for t in tokens} == {room["config"]["exp"]}


def test_subscribers_hear_that_the_session_is_ready(orch, scene, start, clock, monkeypatch):
    from voice_common import realtime

    pushed: list[tuple] = []
    monkeypatch.setattr(
        realtime,
        "publish_status",
        lambda sid, org, status, reason=None: pushed.append((str(sid), status, reason)),
    )
    clock(OFF_HOURS)
    session = scene.new_session()
    assert start(session["id"], scene.creator).status == 200
    assert pushed == [(str(session["id"]), "ready", None)]


def test_an_empty_knowledge_document_is_sent_empty(orch, scene, start, clock, ecs, admin_conn):
    clock(OFF_HOURS)
    session = scene.new_session()
    kb = _link_kb(admin_conn, scene, session, "Drafts", "", "")
    assert start(session["id"], scene.creator).status == 200
    (task,) = tasks_for(ecs, orch["ECS_CLUSTER"], session["id"])
    assert bot_payload_of(task)["knowledge"] == [{"kbId": str(kb), "title": "", "content": ""}]


def _precreate_room(daily, name: str, properties: dict) -> None:
    import json as _json
    import urllib.request

    request = urllib.request.Request(
        f"{daily.url}/rooms",
        data=_json.dumps({"name": name, "privacy": "private", "properties": properties}).encode(),
        headers={"Content-Type": "application/json", "Authorization": "Bearer x"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=5) as answer:  # the stand-in on 127.0.0.1
        assert answer.status == 200


def test_tokens_of_a_reused_room_expire_with_that_room(orch, scene, start, clock, daily):
    import time

    clock(OFF_HOURS)
    session = scene.new_session()
    name = f"voice-{session['id']}"
    room_exp = int(time.time()) + 2 * 3600  # still open long enough: reused, not replaced
    _precreate_room(daily, name, {"exp": room_exp})

    assert start(session["id"], scene.creator).status == 200

    assert daily.rooms[name]["config"]["exp"] == room_exp
    assert {t.get("exp") for t in daily.tokens if t.get("room_name") == name} == {room_exp}


def test_tokens_of_a_reused_room_without_expiry_get_the_configured_lifetime(orch, scene, start, clock, daily):
    import time

    from voice_common.settings import get_settings

    clock(OFF_HOURS)
    session = scene.new_session()
    name = f"voice-{session['id']}"
    _precreate_room(daily, name, {})
    before = int(time.time())

    assert start(session["id"], scene.creator).status == 200

    ttl = get_settings().daily_room_ttl_seconds
    expiries = {t.get("exp") for t in daily.tokens if t.get("room_name") == name}
    assert len(expiries) == 1
    (exp,) = expiries
    assert before + ttl <= exp <= int(time.time()) + ttl


@pytest.mark.parametrize(("left", "reused"), [(3600, True), (3599, False)])
def test_a_left_over_room_is_reused_only_with_an_hour_left(
    orch, scene, start, clock, daily, monkeypatch, left, reused
):
    """The boundary, on a fixed clock: exactly an hour left is enough; a second less and it is replaced."""
    import time

    from voice_common import orchestration
    from voice_common.settings import get_settings

    now = int(time.time())
    monkeypatch.setattr(orchestration, "epoch_now", lambda: now)
    clock(OFF_HOURS)
    session = scene.new_session()
    name = f"voice-{session['id']}"
    _precreate_room(daily, name, {"exp": now + left})

    assert start(session["id"], scene.creator).status == 200

    expected = now + left if reused else now + get_settings().daily_room_ttl_seconds
    assert daily.rooms[name]["config"]["exp"] == expected
    deleted = [r for r in daily.requests if r.method == "DELETE" and r.path.endswith(name)]
    assert len(deleted) == (0 if reused else 1)
