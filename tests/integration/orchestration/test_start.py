"""POST /api/voice/sessions/{id}/start: room, tokens, dispatch (pool or ECS), idempotency, limits, errors."""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import boto3
import pytest

from tests.integration.orchestration.conftest import (
    BUSINESS_HOURS,
    OFF_HOURS,
    bot_payload_of,
    drain,
    sealed_payload_of,
    session_row,
    tasks_for,
)

CONTRACT_KEYS = {
    "type",
    "version",
    "sessionId",
    "orgId",
    "roomUrl",
    "roomToken",
    "botToken",
    "apiBaseUrl",
    "websocketUrl",
    "config",
    "knowledge",
    "secretArns",
    "requestedAt",
}


@pytest.fixture
def ecs(orch):
    return boto3.client("ecs", endpoint_url=orch["AWS_ENDPOINT_URL"])


@pytest.fixture
def sqs(orch):
    return boto3.client("sqs", endpoint_url=orch["AWS_ENDPOINT_URL"])


def test_cold_start_creates_private_room_and_runs_one_ecs_task(
    orch, scene, start, clock, daily, ecs, admin_conn
):
    clock(OFF_HOURS)
    session = scene.new_session()

    res = start(session["id"], scene.creator)

    assert res.status == 200, res.body
    data = res.data
    assert data["status"] == "ready"
    assert data["dispatchMode"] == "task"
    assert data["alreadyStarted"] is False
    room = daily.rooms[f"voice-{session['id']}"]
    assert data["dailyRoomUrl"] == room["url"]
    assert room["privacy"] == "private"
    assert room["config"]["max_participants"] == 2
    assert room["config"]["start_video_off"] is True
    assert room["config"]["exp"] > time.time() + 3600
    tokens = {t["token"]: t for t in daily.tokens}
    candidate = tokens[data["dailyRoomToken"]]
    assert candidate["is_owner"] is False and candidate["room_name"] == room["name"]

    row = session_row(admin_conn, session["id"])
    assert row["status"] == "ready"
    assert row["dispatch_mode"] == "task"
    assert row["dispatch_ref"] == row["ecs_task_arn"] == data["ecsTaskArn"]
    assert row["dispatched_at"] is not None
    assert tokens[row["bot_room_token"]]["is_owner"] is True

    (task,) = tasks_for(ecs, orch["ECS_CLUSTER"], session["id"])
    assert task["taskArn"] == row["dispatch_ref"]
    assert task["launchType"] == "FARGATE"
    assert {t["key"]: t["value"] for t in task["tags"]} == {
        "SessionId": str(session["id"]),
        "Module": "voice",
    }
    override = task["overrides"]["containerOverrides"][0]
    assert override["name"] == orch["ECS_CONTAINER_NAME"]
    payload = bot_payload_of(task)
    assert set(payload) >= CONTRACT_KEYS
    assert payload["type"] == "BOT_REQUEST" and payload["version"] == 1
    assert payload["sessionId"] == str(session["id"]) and payload["orgId"] == str(scene.org.id)
    assert payload["roomUrl"] == room["url"] and payload["roomToken"] == row["bot_room_token"]
    assert payload["config"]["system_prompt"] == scene.config["config_json"]["system_prompt"]
    assert payload["botToken"].startswith(f"vbt1.{session['id']}.")


def test_pool_start_queues_bot_request_and_a_delayed_pickup_check(
    orch, scene, start, clock, sqs, ecs, admin_conn
):
    clock(BUSINESS_HOURS)
    session = scene.new_session()

    res = start(session["id"], scene.creator)

    assert res.status == 200, res.body
    assert res.data["dispatchMode"] == "pool" and res.data["ecsTaskArn"] is None
    (message,) = drain(sqs, orch["STANDBY_QUEUE_URL"])
    assert message["MessageAttributes"]["MessageType"]["StringValue"] == "BOT_REQUEST"
    payload = json.loads(message["Body"])
    assert set(payload) >= CONTRACT_KEYS
    assert payload["sessionId"] == str(session["id"])
    row = session_row(admin_conn, session["id"])
    assert row["dispatch_mode"] == "pool" and row["dispatch_ref"] == message["MessageId"]
    assert tasks_for(ecs, orch["ECS_CLUSTER"], session["id"]) == []
    # The pickup check is delayed by pool_pickup_timeout_seconds (1 s here): not visible at once.
    first = sqs.receive_message(QueueUrl=orch["DISPATCH_CHECK_QUEUE_URL"], WaitTimeSeconds=0)
    assert first.get("Messages", []) == []
    later = drain_after(sqs, orch["DISPATCH_CHECK_QUEUE_URL"], wait=3)
    (check,) = later
    body = json.loads(check["Body"])
    assert body["type"] == "DISPATCH_CHECK"
    assert body["sessionId"] == str(session["id"]) and body["dispatchRef"] == message["MessageId"]


def drain_after(sqs, url, wait):
    got = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=wait, MaxNumberOfMessages=10).get("Messages", [])
    for m in got:
        sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    return got


def test_payload_carries_knowledge_and_secret_arns_but_never_a_key(
    orch, scene, start, clock, ecs, admin_conn, monkeypatch
):
    clock(OFF_HOURS)
    sm = boto3.client("secretsmanager", endpoint_url=orch["AWS_ENDPOINT_URL"])
    keys = {}
    for service in ("deepgram", "cartesia", "openai"):
        value = f"sk-{service}-SECRET-{time.time_ns()}"
        arn = sm.create_secret(Name=f"test/{service}/{time.time_ns()}", SecretString=value)["ARN"]
        monkeypatch.setenv(f"{service.upper()}_API_KEY_SECRET_ARN", arn)
        keys[service] = (arn, value)
    daily_key = sm.get_secret_value(SecretId=orch["DAILY_API_KEY_SECRET_ARN"])["SecretString"]
    session = scene.new_session()
    kb = admin_conn.execute(
        "INSERT INTO public.kb_bases (org_id, name) VALUES (%s, 'Handbook') RETURNING id", (scene.org.id,)
    ).fetchone()["id"]
    admin_conn.execute(
        "INSERT INTO public.kb_docs (kb_id, title, content) VALUES (%s, 'Stack', 'We run PostgreSQL 16.')",
        (kb,),
    )
    disabled = admin_conn.execute(
        "INSERT INTO public.kb_bases (org_id, name) VALUES (%s, 'Old') RETURNING id", (scene.org.id,)
    ).fetchone()["id"]
    admin_conn.execute(
        "INSERT INTO public.kb_docs (kb_id, title, content) VALUES (%s, 'Legacy', 'Do not use.')", (disabled,)
    )
    for kb_id, enabled in ((kb, True), (disabled, False)):
        admin_conn.execute(
            "INSERT INTO public.voice_session_kb (session_id, kb_id, is_enabled, added_by)"
            " VALUES (%s, %s, %s, %s)",
            (session["id"], kb_id, enabled, scene.creator.id),
        )

    res = start(session["id"], scene.creator)

    assert res.status == 200, res.body
    (task,) = tasks_for(ecs, orch["ECS_CLUSTER"], session["id"])
    request_text = json.dumps(task["overrides"])
    for service, (arn, value) in keys.items():
        assert value not in request_text, f"{service} key leaked into the ECS overrides"
        assert arn in request_text
    assert daily_key not in request_text
    payload = bot_payload_of(task)
    assert payload["secretArns"] == {s: arn for s, (arn, _) in keys.items()}
    assert payload["knowledge"] == [{"kbId": str(kb), "title": "Stack", "content": "We run PostgreSQL 16."}]
    assert daily_key not in json.dumps(res.body)
    # The bot's two tokens are credentials: sealed with KMS, never readable in the overrides.
    for token in (payload["roomToken"], payload["botToken"]):
        assert token and token not in request_text
    sealed = sealed_payload_of(task)
    assert "roomToken" not in sealed and "botToken" not in sealed and sealed["sealedTokens"]


def test_sealed_tokens_open_only_for_their_own_session(orch, scene, start, clock, ecs):
    from botocore.exceptions import ClientError

    from voice_common.dispatch import unseal_tokens

    clock(OFF_HOURS)
    first, second = scene.new_session(), scene.new_session()
    assert start(first["id"], scene.creator).status == 200
    assert start(second["id"], scene.creator).status == 200
    (task,) = tasks_for(ecs, orch["ECS_CLUSTER"], first["id"])
    sealed = sealed_payload_of(task)
    kms = boto3.client("kms", endpoint_url=orch["AWS_ENDPOINT_URL"])
    # Moved into another session's payload, the ciphertext does not open: the session is its context.
    with pytest.raises(ClientError):
        unseal_tokens({**sealed, "sessionId": str(second["id"])}, kms)
    assert unseal_tokens(sealed, kms)["botToken"].count(".") == 3


def test_without_a_sealing_key_no_task_is_started(orch, scene, start, clock, ecs, admin_conn, monkeypatch):
    """Fail closed: no KMS key configured means no bot task, rather than tokens in the clear."""
    monkeypatch.delenv("BOT_DISPATCH_KMS_KEY_ID")
    clock(OFF_HOURS)
    session = scene.new_session()
    res = start(session["id"], scene.creator)
    assert (res.status, res.code) == (502, "DISPATCH_FAILED"), res.body
    assert tasks_for(ecs, orch["ECS_CLUSTER"], session["id"]) == []
    assert session_row(admin_conn, session["id"])["status"] == "pending"


def test_repeated_start_returns_the_same_room_without_a_second_bot(orch, scene, start, clock, daily, ecs):
    clock(OFF_HOURS)
    session = scene.new_session()

    first = start(session["id"], scene.creator)
    second = start(session["id"], scene.creator)

    assert first.status == second.status == 200
    assert second.data["alreadyStarted"] is True
    for key in ("dailyRoomUrl", "dailyRoomToken", "ecsTaskArn", "dispatchMode"):
        assert second.data[key] == first.data[key]
    assert len(tasks_for(ecs, orch["ECS_CLUSTER"], session["id"])) == 1
    assert sum(1 for r in daily.requests if r.method == "POST" and r.path == "/v1/rooms") == 1


def test_concurrent_starts_share_one_room_and_one_dispatch(orch, scene, start, clock, daily, ecs, admin_conn):
    clock(OFF_HOURS)
    session = scene.new_session()
    barrier = threading.Barrier(6)

    def go(_: int):
        barrier.wait()
        return start(session["id"], scene.creator)

    with ThreadPoolExecutor(6) as pool:
        results = list(pool.map(go, range(6)))

    assert [r.status for r in results] == [200] * 6, [r.body for r in results]
    assert len({r.data["dailyRoomToken"] for r in results}) == 1
    assert len({r.data["dailyRoomUrl"] for r in results}) == 1
    assert sum(1 for r in results if not r.data["alreadyStarted"]) == 1
    assert len(tasks_for(ecs, orch["ECS_CLUSTER"], session["id"])) == 1
    assert len(daily.rooms) == 1
    history = admin_conn.execute(
        "SELECT count(*) AS n FROM public.voice_session_status_history"
        " WHERE session_id = %s AND to_status = 'ready'",
        (session["id"],),
    ).fetchone()
    assert history["n"] == 1


def test_concurrency_limit_counts_ready_and_active_sessions(
    orch, scene, start, clock, monkeypatch, admin_conn
):
    from voice_common.settings import get_settings

    clock(OFF_HOURS)
    monkeypatch.setenv("VOICE_MAX_CONCURRENT_SESSIONS", "2")
    get_settings.cache_clear()
    one, two, three = scene.new_session(), scene.new_session(), scene.new_session()
    assert start(one["id"], scene.creator).status == 200
    assert start(two["id"], scene.creator).status == 200
    admin_conn.execute("UPDATE public.voice_sessions SET status = 'active' WHERE id = %s", (two["id"],))

    refused = start(three["id"], scene.creator)

    assert refused.status == 429
    assert refused.code == "CONCURRENT_SESSION_LIMIT"
    assert "2" in refused.body["error"]
    assert session_row(admin_conn, three["id"])["status"] == "pending"
    # A finished interview frees its slot.
    admin_conn.execute("UPDATE public.voice_sessions SET status = 'completed' WHERE id = %s", (two["id"],))
    assert start(three["id"], scene.creator).status == 200


def test_daily_rate_limit_is_retried(orch, scene, start, clock, daily):
    clock(OFF_HOURS)
    daily.fail_next(2, status=429, path="/rooms")
    session = scene.new_session()

    res = start(session["id"], scene.creator)

    assert res.status == 200, res.body
    posts = [r for r in daily.requests if r.method == "POST" and r.path == "/v1/rooms"]
    assert [r.status for r in posts] == [429, 429, 200]


def test_daily_down_is_a_502_and_the_session_stays_pending_until_a_retry(
    orch, scene, start, clock, daily, ecs, sqs, admin_conn
):
    clock(OFF_HOURS)
    daily.fail_next(100, status=503)
    session = scene.new_session()

    res = start(session["id"], scene.creator)

    assert res.status == 502
    assert res.code == "DAILY_UNAVAILABLE"
    assert "pending" in res.body["error"]
    assert len([r for r in daily.requests if r.status == 503]) == 3  # bounded retries
    row = session_row(admin_conn, session["id"])
    assert row["status"] == "pending" and row["daily_room_url"] is None and row["dispatch_ref"] is None
    assert tasks_for(ecs, orch["ECS_CLUSTER"], session["id"]) == []

    daily.reset()
    retry = start(session["id"], scene.creator)
    assert retry.status == 200 and retry.data["alreadyStarted"] is False
    assert session_row(admin_conn, session["id"])["status"] == "ready"


def test_ecs_without_capacity_is_a_503_and_a_retry_reuses_the_room(
    orch, scene, start, clock, daily, ecs_without_capacity, admin_conn, monkeypatch
):
    from access_common.aws import reset_clients

    clock(OFF_HOURS)
    session = scene.new_session()

    res = start(session["id"], scene.creator)

    assert res.status == 503, res.body
    assert res.code == "BOT_CAPACITY_UNAVAILABLE"
    assert res.body["details"]["reasons"] == ["RESOURCE:MEMORY"]
    assert ecs_without_capacity.run_task_calls == 1
    row = session_row(admin_conn, session["id"])
    assert row["status"] == "pending" and row["dispatch_ref"] is None and row["daily_room_token"] is None

    monkeypatch.delenv("AWS_ENDPOINT_URL_ECS")
    reset_clients()
    retry = start(session["id"], scene.creator)
    assert retry.status == 200, retry.body
    assert retry.data["dailyRoomUrl"].endswith(f"voice-{session['id']}")
    assert len(daily.rooms) == 1  # the room of the failed attempt was reused


@pytest.mark.parametrize(
    ("who", "status", "code"),
    [
        ("outsider", 404, "SESSION_NOT_FOUND"),
        ("member", 200, None),  # any member of the org, not only its creator and the admins
        ("admin", 200, None),
    ],
)
def test_who_may_start(orch, scene, start, clock, admin_conn, who, status, code):
    session = scene.new_session()
    res = start(session["id"], getattr(scene, who))
    assert res.status == status, res.body
    assert res.code == code if code else res.data["status"] == "ready"
    if status == 200:  # the audit names who started it, though the transition ran as service_role
        by = admin_conn.execute(
            "SELECT changed_by FROM public.voice_session_status_history"
            " WHERE session_id = %s AND to_status = 'ready'",
            (session["id"],),
        ).fetchone()["changed_by"]
        assert by == getattr(scene, who).id


def test_a_member_removed_during_the_start_does_not_start_it(
    orch, scene, start, clock, daily, admin_conn, monkeypatch
):
    """Membership is checked again in the statement that locks the row (step 3), not only by step 1's read."""
    from voice_common import orchestration

    session = scene.new_session()
    real = orchestration.DailyClient.create_meeting_tokens

    def tokens_then_removal(self, *args, **kwargs):  # the caller leaves the org while Daily is called
        admin_conn.execute(
            "UPDATE public.org_members SET active = false WHERE org_id = %s AND user_id = %s",
            (scene.org.id, scene.member.id),
        )
        return real(self, *args, **kwargs)

    monkeypatch.setattr(orchestration.DailyClient, "create_meeting_tokens", tokens_then_removal)
    res = start(session["id"], scene.member)
    assert (res.status, res.code) == (404, "SESSION_NOT_FOUND"), res.body
    assert session_row(admin_conn, session["id"])["status"] == "pending"


@pytest.mark.parametrize("final", ["completed", "failed", "cancelled"])
def test_a_finished_session_cannot_start(orch, scene, start, clock, daily, final):
    session = scene.new_session(status=final)
    res = start(session["id"], scene.creator)
    assert res.status == 409 and res.code == "SESSION_NOT_STARTABLE"
    assert daily.requests == []


def test_start_without_authentication_is_401(orch, scene, invoke):
    session = scene.new_session()
    res = invoke("voice-sessions", "POST", f"/api/voice/sessions/{session['id']}/start")
    assert res.status == 401


def test_the_bot_opens_the_payload_ecs_hands_it(orch, scene, start, clock, ecs, monkeypatch):
    """The contract end to end: voice_bot.config (the real bot's loader) reads the task's BOT_PAYLOAD and
    opens its sealed tokens with KMS, getting the tokens the API issued for this session."""
    from voice_common import bot_token
    from voice_local.lambdas import REPO_ROOT  # the checkout's, also when tests run from a copy (mutation)

    monkeypatch.syspath_prepend(str(REPO_ROOT / "backend" / "bot"))
    from voice_bot.config import ConfigError, load_payload

    clock(OFF_HOURS)
    session = scene.new_session()
    res = start(session["id"], scene.creator)
    assert res.status == 200, res.body
    (task,) = tasks_for(ecs, orch["ECS_CLUSTER"], session["id"])
    env = {e["name"]: e["value"] for e in task["overrides"]["containerOverrides"][0]["environment"]}
    kms = boto3.client("kms", endpoint_url=orch["AWS_ENDPOINT_URL"])

    monkeypatch.setenv("BOT_PAYLOAD", env["BOT_PAYLOAD"])
    payload = load_payload(kms=kms)

    assert payload.session_id == str(session["id"]) == env["SESSION_ID"]
    assert bot_token.verify(payload.bot_token, session["id"]) == session["id"]
    assert payload.room_token and payload.room_token not in env["BOT_PAYLOAD"]
    # Pointed at another session, the payload does not load: the ciphertext is bound to its session.
    other = json.loads(env["BOT_PAYLOAD"]) | {"sessionId": str(scene.new_session()["id"])}
    monkeypatch.setenv("BOT_PAYLOAD", json.dumps(other))
    with pytest.raises(ConfigError, match="sealed tokens could not be opened"):
        load_payload(kms=kms)
