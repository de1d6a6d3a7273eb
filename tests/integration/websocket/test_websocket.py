"""voice-websocket through the local gateway: authentication, authorization, persistence, fan-out."""

from __future__ import annotations

import json
import os
import time
import uuid

import boto3
import pytest
from websockets.exceptions import InvalidStatus

from voice_common import realtime

from .conftest import connection_item, publish, segment, stored, wait_for

# The local gateway runs Lambda invocations concurrently in one process, where Powertools' shared metric
# set can be flushed by a neighbour (in AWS a container serves one invocation at a time).
pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish:UserWarning")


def items_where(attribute: str, value: str) -> list[dict]:
    """The connection items with ``attribute == value`` (a test-side scan; the handler never scans)."""
    table = os.environ["CONNECTIONS_TABLE"]
    pages = boto3.client("dynamodb").get_paginator("scan").paginate(TableName=table)
    return [i for p in pages for i in p["Items"] if i.get(attribute, {}).get("S") == value]


def connection_id_of_user(user) -> str:
    found = wait_for(lambda: items_where("user_id", str(user.id)))
    assert len(found) == 1, found
    return found[0]["connection_id"]["S"]


# ------------------------------------------------------------------------------------------ $connect


@pytest.mark.parametrize(
    "kind", ["missing", "garbage", "expired-jwt", "forged-jwt", "forged-bot", "expired-bot"]
)
def test_connect_without_a_valid_token_is_refused(connect, world, user_token, bot_token_for, kind):
    from access_common.jwt import mint_user_jwt

    token = {
        "missing": None,
        "garbage": "not-a-token",
        "expired-jwt": user_token(world.member, ttl_seconds=-60),
        "forged-jwt": mint_user_jwt(
            str(world.member.id), None, secret="some-other-secret-of-at-least-32-bytes!"
        ),
        "forged-bot": bot_token_for(world.session_id)[:-4] + "0000",
        "expired-bot": bot_token_for(world.session_id, ttl_seconds=-5),
    }[kind]
    with pytest.raises(InvalidStatus) as refused:
        connect(token)
    assert refused.value.response.status_code == 401


def test_connect_records_the_identity_and_disconnect_removes_it(connect, world, user_token, bot_token_for):
    user = connect(user_token(world.member))
    bot = connect(bot_token_for(world.session_id))
    user.barrier()
    bot.barrier()
    [user_item] = items_where("user_id", str(world.member.id))
    [bot_item] = items_where("bot_session_id", str(world.session_id))
    assert user_item["kind"]["S"] == "user" and bot_item["kind"]["S"] == "bot"
    now = time.time()
    for item in (user_item, bot_item):
        assert now < int(item["expires_at"]["N"]) <= now + realtime.CONNECTION_TTL_SECONDS + 5
        assert "session_id" not in item  # not in the session index until it subscribes
    user.close()
    bot.close()
    assert wait_for(lambda: not items_where("user_id", str(world.member.id)))
    assert wait_for(lambda: not items_where("bot_session_id", str(world.session_id)))


# ------------------------------------------------------------------------------------------ subscribe


def test_subscribing_to_another_orgs_session_is_refused(
    connect, world, user_token, bot_token_for, admin_conn
):
    intruder = connect(user_token(world.member))
    intruder.send({"action": "subscribe", "sessionId": str(world.other_session["id"])})
    error = intruder.recv_type("error")
    assert error["code"] == "SESSION_NOT_FOUND"
    assert error["sessionId"] == str(world.other_session["id"]) and error["action"] == "subscribe"
    assert "session_id" not in connection_item(connection_id_of_user(world.member))

    # The other org's bot publishes: the refused client receives nothing of it.
    other_bot = connect(bot_token_for(world.other_session["id"]))
    assert publish(other_bot, world.other_session["id"], segment(1))["type"] == "ack"
    intruder.barrier()
    assert [m["type"] for m in intruder.received] == ["error", "pong"]

    # A session id that does not exist gets the same answer (existence is not revealed).
    intruder.send({"action": "subscribe", "sessionId": str(uuid.uuid4())})
    assert intruder.recv_type("error")["code"] == "SESSION_NOT_FOUND"


def test_bots_cannot_subscribe(connect, world, bot_token_for):
    bot = connect(bot_token_for(world.session_id))
    bot.send({"action": "subscribe", "sessionId": str(world.session_id)})
    assert bot.recv_type("error")["code"] == "FORBIDDEN"


# ------------------------------------------------------------------------------------------ transcript


def test_users_cannot_post_segments(connect, world, user_token, admin_conn):
    owner = connect(user_token(world.owner))
    owner.send({"action": "transcript", "sessionId": str(world.session_id), "segment": segment(1)})
    error = owner.recv_type("error")
    assert (error["code"], error["action"], error["seq"]) == ("FORBIDDEN", "transcript", 1)
    assert stored(admin_conn, world.session_id) == []


def test_a_bot_cannot_post_to_another_session(connect, world, bot_token_for, admin_conn):
    bot = connect(bot_token_for(world.session_id))
    reply = publish(bot, world.other_session["id"], segment(1))
    assert reply["type"] == "error" and reply["code"] == "BOT_TOKEN_WRONG_SESSION"
    assert stored(admin_conn, world.other_session["id"]) == []
    # Its own session still works on the same connection.
    assert publish(bot, world.session_id, segment(1))["type"] == "ack"


def test_segments_are_stored_without_subscribers(connect, world, bot_token_for, admin_conn):
    bot = connect(bot_token_for(world.session_id))
    for seq in (1, 2, 3):
        ack = publish(bot, world.session_id, segment(seq, confidence=None if seq == 3 else 0.9))
        assert ack == {
            "v": 1,
            "type": "ack",
            "sessionId": str(world.session_id),
            "seq": seq,
            "stored": True,
            "duplicate": False,
        }
    rows = stored(admin_conn, world.session_id)
    assert [
        (r["seq"], r["speaker"], r["text"], r["start_time"], r["end_time"], r["confidence"]) for r in rows
    ] == [
        (1, "bot", "line 1", 1.0, 1.75, 0.9),
        (2, "candidate", "line 2", 2.0, 2.75, 0.9),
        (3, "bot", "line 3", 3.0, 3.75, None),
    ]
    assert {r["org_id"] for r in rows} == {world.org.id}


def test_a_duplicate_seq_is_stored_once(connect, world, user_token, bot_token_for, admin_conn):
    viewer = connect(user_token(world.member))
    viewer.subscribe(world.session_id)
    bot = connect(bot_token_for(world.session_id))
    first = publish(bot, world.session_id, segment(1, "the original"))
    again = publish(bot, world.session_id, segment(1, "a re-send with other text"))
    assert (first["stored"], first["duplicate"]) == (True, False)
    assert (again["type"], again["seq"], again["stored"], again["duplicate"]) == ("ack", 1, True, True)
    assert [r["text"] for r in stored(admin_conn, world.session_id)] == ["the original"]
    # Delivery is at least once, always the stored version.
    pushed = [viewer.recv_type("transcript.segment")["segment"]["text"] for _ in range(2)]
    assert pushed == ["the original", "the original"]


def test_only_ready_or_active_sessions_accept_segments(
    connect, world, bot_token_for, make_voice_session, admin_conn
):
    for status, accepted in (("pending", False), ("ready", True), ("completed", False), ("cancelled", False)):
        session = make_voice_session(world.org, world.owner, status=status)
        bot = connect(bot_token_for(session["id"]))
        reply = publish(bot, session["id"], segment(1))
        if accepted:
            assert reply["type"] == "ack", reply
            assert len(stored(admin_conn, session["id"])) == 1
        else:
            assert (reply["type"], reply["code"], reply["seq"]) == ("error", "SESSION_NOT_LIVE", 1), reply
            assert stored(admin_conn, session["id"]) == []


def test_interim_segments_are_pushed_but_not_stored(connect, world, user_token, bot_token_for, admin_conn):
    viewer = connect(user_token(world.member))
    viewer.subscribe(world.session_id)
    bot = connect(bot_token_for(world.session_id))
    bot.send(
        {"action": "transcript", "sessionId": str(world.session_id), "segment": segment(1, isFinal=False)}
    )
    pushed = viewer.recv_type("transcript.segment")["segment"]
    assert (pushed["seq"], pushed["isFinal"]) == (1, False)
    bot.barrier()  # no ack for interim text
    assert stored(admin_conn, world.session_id) == []


# ------------------------------------------------------------------------------------------ fan-out


def test_every_subscriber_receives_every_segment_in_order(
    connect, world, user_token, bot_token_for, make_user, admin_conn
):
    viewers = [connect(user_token(world.owner)), connect(user_token(world.member))]
    viewers += [connect(user_token(make_user(world.org))) for _ in range(3)]
    for viewer in viewers:
        assert viewer.subscribe(world.session_id) == []
    outsider = connect(user_token(world.other_user))
    outsider.subscribe(world.other_session["id"])

    bot = connect(bot_token_for(world.session_id))
    for seq in range(1, 16):  # the bot does not wait for acks: the gateway keeps a connection's order
        bot.send({"action": "transcript", "sessionId": str(world.session_id), "segment": segment(seq)})
    assert [bot.recv_type("ack")["seq"] for _ in range(15)] == list(range(1, 16))

    for viewer in viewers:
        messages = [viewer.recv_type("transcript.segment") for _ in range(15)]
        assert [m["segment"]["seq"] for m in messages] == list(range(1, 16))
        assert messages[0] == {
            "v": 1,
            "type": "transcript.segment",
            "sessionId": str(world.session_id),
            "segment": {
                "seq": 1,
                "speaker": "bot",
                "text": "line 1",
                "startTime": 1.0,
                "endTime": 1.75,
                "confidence": 0.9,
                "isFinal": True,
            },
        }
    outsider.barrier()
    assert [m["type"] for m in outsider.received] == ["subscribed", "transcript.backlog", "pong"]
    assert len(stored(admin_conn, world.session_id)) == 15


def test_reconnecting_with_after_seq_receives_exactly_the_missed_segments(
    connect, world, user_token, bot_token_for
):
    bot = connect(bot_token_for(world.session_id))
    viewer = connect(user_token(world.member))
    viewer.subscribe(world.session_id)
    for seq in (1, 2, 3):
        publish(bot, world.session_id, segment(seq))
    assert [viewer.recv_type("transcript.segment")["segment"]["seq"] for _ in range(3)] == [1, 2, 3]
    viewer.close()

    for seq in (4, 5, 6):  # missed while away
        publish(bot, world.session_id, segment(seq))

    back = connect(user_token(world.member))
    backlog = back.subscribe(world.session_id, after_seq=3)
    assert [s["seq"] for s in backlog] == [4, 5, 6]
    assert backlog[0] == {
        "seq": 4,
        "speaker": "candidate",
        "text": "line 4",
        "startTime": 4.0,
        "endTime": 4.75,
        "confidence": 0.9,
        "isFinal": True,
    }
    publish(bot, world.session_id, segment(7))
    assert back.recv_type("transcript.segment")["segment"]["seq"] == 7

    late = connect(user_token(world.owner))  # a late joiner without afterSeq gets everything
    assert [s["seq"] for s in late.subscribe(world.session_id)] == list(range(1, 8))


def test_a_large_backlog_arrives_in_several_frames(connect, world, user_token, bot_token_for):
    bot = connect(bot_token_for(world.session_id))
    for seq in range(1, 31):  # 30 x 10,000 characters: more than one 128 KB frame
        assert publish(bot, world.session_id, segment(seq, "é" * 10_000))["type"] == "ack"
    viewer = connect(user_token(world.member))
    viewer.send({"action": "subscribe", "sessionId": str(world.session_id), "afterSeq": 0})
    viewer.recv_type("subscribed")
    frames = []
    while not frames or not frames[-1]["complete"]:
        frames.append(viewer.recv_type("transcript.backlog"))
    assert len(frames) > 1
    # Each frame fits API Gateway's 128 KB message limit.
    assert all(len(json.dumps(f, ensure_ascii=False).encode()) <= 128 * 1024 for f in frames)
    assert [s["seq"] for f in frames for s in f["segments"]] == list(range(1, 31))


def test_unsubscribe_and_switching_sessions(connect, world, user_token, bot_token_for, make_voice_session):
    second = make_voice_session(world.org, world.owner, status="active")
    viewer = connect(user_token(world.member))
    viewer.subscribe(world.session_id)
    viewer.subscribe(second["id"])  # one session per connection: this replaces the first
    bot1, bot2 = connect(bot_token_for(world.session_id)), connect(bot_token_for(second["id"]))
    publish(bot1, world.session_id, segment(1))
    publish(bot2, second["id"], segment(1, "second session"))
    got = viewer.recv_type("transcript.segment")
    assert (got["sessionId"], got["segment"]["text"]) == (str(second["id"]), "second session")

    viewer.send({"action": "unsubscribe", "sessionId": str(second["id"])})
    assert viewer.recv_type("unsubscribed")["sessionId"] == str(second["id"])
    publish(bot2, second["id"], segment(2))
    viewer.barrier()
    assert "session_id" not in connection_item(connection_id_of_user(world.member))


def test_gone_connections_are_cleaned(connect, world, user_token, bot_token_for):
    """A connection whose $disconnect was lost stays in the index until a post answers GoneException."""
    ddb = boto3.client("dynamodb")
    table = os.environ["CONNECTIONS_TABLE"]
    ghosts = [f"Ghost{uuid.uuid4().hex[:10]}=" for _ in range(3)]
    for ghost in ghosts:
        ddb.put_item(
            TableName=table,
            Item={
                "connection_id": {"S": ghost},
                "kind": {"S": "user"},
                "user_id": {"S": str(world.member.id)},
                "session_id": {"S": str(world.session_id)},
                "auth_expires_at": {"N": str(int(time.time()) + 600)},
                "expires_at": {"N": str(int(time.time()) + 600)},
            },
        )
    viewer = connect(user_token(world.owner))
    viewer.subscribe(world.session_id)
    assert len(realtime.subscribers(world.session_id)) == 4

    bot = connect(bot_token_for(world.session_id))
    assert publish(bot, world.session_id, segment(1))["type"] == "ack"
    assert viewer.recv_type("transcript.segment")["segment"]["seq"] == 1
    assert all(connection_item(g) is None for g in ghosts)
    assert realtime.subscribers(world.session_id) == [connection_id_of_user(world.owner)]


def test_expired_ttl_items_are_not_posted_to(world):
    ddb = boto3.client("dynamodb")
    stale = f"Stale{uuid.uuid4().hex[:10]}="
    ddb.put_item(
        TableName=os.environ["CONNECTIONS_TABLE"],
        Item={
            "connection_id": {"S": stale},
            "session_id": {"S": str(world.session_id)},
            "expires_at": {"N": str(int(time.time()) - 1)},
        },
    )
    assert stale not in realtime.subscribers(world.session_id)


# ------------------------------------------------------------------------------------------ producers


def test_publish_status_and_analytics_ready_reach_subscribers(connect, world, user_token):
    viewer = connect(user_token(world.member))
    viewer.subscribe(world.session_id)
    result = realtime.publish_status(world.session_id, world.org.id, "completed", "interview finished")
    assert (result.recipients, result.delivered) == (1, 1)
    status = viewer.recv_type("session.status")
    assert (status["v"], status["sessionId"], status["status"], status["reason"]) == (
        1,
        str(world.session_id),
        "completed",
        "interview finished",
    )
    assert status["at"].endswith("Z")
    realtime.publish_analytics_ready(str(world.session_id), str(world.org.id))
    assert viewer.recv_type("analytics.ready") == {
        "v": 1,
        "type": "analytics.ready",
        "sessionId": str(world.session_id),
    }


def test_publishers_are_quiet_without_subscribers_and_never_raise(world, monkeypatch):
    assert (
        realtime.publish_status(world.other_session["id"], world.other_org.id, "failed")
        == realtime.FanoutResult()
    )
    # A gone subscriber is cleaned, not raised.
    ddb = boto3.client("dynamodb")
    ghost = f"Ghost{uuid.uuid4().hex[:10]}="
    ddb.put_item(
        TableName=os.environ["CONNECTIONS_TABLE"],
        Item={
            "connection_id": {"S": ghost},
            "session_id": {"S": str(world.other_session["id"])},
            "expires_at": {"N": str(int(time.time()) + 600)},
            "auth_expires_at": {"N": str(int(time.time()) + 600)},
        },
    )
    result = realtime.publish_analytics_ready(world.other_session["id"], world.other_org.id)
    assert (result.recipients, result.gone) == (1, 1)
    assert connection_item(ghost) is None
    # Broken AWS configuration: logged, not raised into the caller.
    monkeypatch.setenv("CONNECTIONS_TABLE", "no-such-table")
    assert realtime.publish_status(world.session_id, world.org.id, "failed") == realtime.FanoutResult()
    monkeypatch.delenv("CONNECTIONS_TABLE")
    assert realtime.publish_status(world.session_id, world.org.id, "failed") == realtime.FanoutResult()


# ------------------------------------------------------------------------------------------ bad messages

BAD = [
    ("not json", "INVALID_JSON"),
    ("[1, 2]", "INVALID_JSON"),
    ('{"action": "dance"}', "UNKNOWN_ACTION"),
    ('{"no": "action"}', "UNKNOWN_ACTION"),
    ('{"action": "subscribe"}', "VALIDATION_ERROR"),
    ('{"action": "subscribe", "sessionId": "not-a-uuid"}', "VALIDATION_ERROR"),
    ('{"action": "subscribe", "sessionId": 42}', "VALIDATION_ERROR"),
    ('{"action": "subscribe", "sessionId": "SID", "afterSeq": "3"}', "VALIDATION_ERROR"),
    ('{"action": "subscribe", "sessionId": "SID", "v": 2}', "VALIDATION_ERROR"),
    ('{"action": "transcript", "sessionId": "SID"}', "VALIDATION_ERROR"),
]


@pytest.mark.parametrize(("raw", "code"), BAD)
def test_bad_messages_get_an_error_and_the_connection_stays_usable(connect, world, user_token, raw, code):
    viewer = connect(user_token(world.member))
    viewer.send(raw.replace("SID", str(world.session_id)))
    error = viewer.recv_type("error")
    assert error["code"] == code and error["v"] == 1 and error["message"]
    viewer.barrier()
    assert [s["seq"] for s in viewer.subscribe(world.session_id)] == []


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        ({"seq": "1"}, "segment.seq"),
        ({"seq": -1}, "segment.seq"),
        ({"seq": 1.5}, "segment.seq"),
        ({"speaker": "narrator"}, "segment.speaker"),
        ({"text": "x" * 10_001}, "segment.text"),
        ({"text": ""}, "segment.text"),
        ({"startTime": "0"}, "segment.startTime"),
        ({"confidence": 1.5}, "segment.confidence"),
        ({"isFinal": "yes"}, "segment.isFinal"),
        ({"startTime": 5.0, "endTime": 1.0}, "segment"),
        ({"text": None}, "segment.text"),
    ],
)
def test_invalid_segments_are_refused_and_nothing_is_stored(
    connect, world, bot_token_for, admin_conn, bad, field
):
    bot = connect(bot_token_for(world.session_id))
    reply = publish(bot, world.session_id, {**segment(1), **bad})
    assert reply["type"] == "error" and reply["code"] == "VALIDATION_ERROR", reply
    assert field in [d["field"] for d in reply["details"]], reply["details"]
    assert reply["sessionId"] == str(world.session_id) and reply["action"] == "transcript"
    assert "x" * 100 not in str(reply)  # input values are not echoed
    assert stored(admin_conn, world.session_id) == []
    assert publish(bot, world.session_id, segment(1))["type"] == "ack"  # still usable


def test_missing_segment_fields(connect, world, bot_token_for, admin_conn):
    bot = connect(bot_token_for(world.session_id))
    reply = publish(bot, world.session_id, {"seq": 1, "speaker": "bot"})
    fields = {d["field"] for d in reply["details"]}
    assert {"segment.text", "segment.startTime", "segment.endTime"} <= fields
    assert stored(admin_conn, world.session_id) == []


def test_text_of_exactly_the_limit_is_accepted(connect, world, bot_token_for, admin_conn):
    bot = connect(bot_token_for(world.session_id))
    assert publish(bot, world.session_id, segment(1, "y" * 10_000))["type"] == "ack"
    assert len(stored(admin_conn, world.session_id)[0]["text"]) == 10_000


def test_a_token_that_expires_while_connected_stops_publishing(connect, world, bot_token_for, admin_conn):
    bot = connect(bot_token_for(world.session_id, ttl_seconds=2))
    assert publish(bot, world.session_id, segment(1))["type"] == "ack"
    time.sleep(max(0.0, int(time.time()) + 2.05 - time.time()))
    reply = publish(bot, world.session_id, segment(2))
    assert (reply["type"], reply["code"]) == ("error", "TOKEN_EXPIRED")
    assert [r["seq"] for r in stored(admin_conn, world.session_id)] == [1]


def test_module_json_declares_exactly_the_handled_routes():
    from voice_local.routes import websocket_routes

    assert set(websocket_routes()) == {"$connect", "$disconnect", "$default", *realtime.ROUTES}


# ------------------------------------------------------------------------------------------ revocation


def test_a_superseded_bot_cannot_publish(connect, world, bot_token_for, admin_conn):
    """After the pool fallback gave the session to another bot, the first bot's open socket stores nothing."""
    from voice_common.bot_token import digest

    first, current = bot_token_for(world.session_id), bot_token_for(world.session_id, ttl_seconds=900)
    admin_conn.execute(
        "UPDATE public.voice_sessions SET bot_token_hash = %s WHERE id = %s",
        (digest(current), world.session_id),
    )
    old_bot = connect(first)
    refused = publish(old_bot, world.session_id, segment(0))
    assert (refused["type"], refused["code"]) == ("error", "BOT_SUPERSEDED"), refused
    assert stored(admin_conn, world.session_id) == []
    new_bot = connect(current)
    assert publish(new_bot, world.session_id, segment(0))["type"] == "ack"
    assert [r["seq"] for r in stored(admin_conn, world.session_id)] == [0]


def test_subscribers_who_lost_access_stop_receiving(connect, world, user_token, bot_token_for, admin_conn):
    """Membership and token expiry are checked on every stored segment, not only at subscribe time."""
    owner, member = connect(user_token(world.owner)), connect(user_token(world.member))
    owner.subscribe(world.session_id)
    member.subscribe(world.session_id)
    bot = connect(bot_token_for(world.session_id))
    assert publish(bot, world.session_id, segment(0))["type"] == "ack"
    assert owner.recv_type("transcript.segment")["segment"]["seq"] == 0
    assert member.recv_type("transcript.segment")["segment"]["seq"] == 0

    admin_conn.execute(
        "UPDATE public.org_members SET active = false WHERE org_id = %s AND user_id = %s",
        (world.org.id, world.member.id),
    )
    assert publish(bot, world.session_id, segment(1))["type"] == "ack"
    assert owner.recv_type("transcript.segment")["segment"]["seq"] == 1
    told = member.recv_type("error")
    assert (told["code"], told["sessionId"]) == ("FORBIDDEN", str(world.session_id))
    # Unsubscribed: interim text (not checked against the database) no longer reaches them either.
    publish_interim = {"action": "transcript", "sessionId": str(world.session_id)}
    bot.send({**publish_interim, "segment": segment(2, isFinal=False)})
    assert owner.recv_type("transcript.segment")["segment"]["isFinal"] is False
    member.barrier()  # nothing was queued before the pong

    # The owner's token runs out while subscribed: told to reconnect, and no more segments.
    owner_id = connection_id_of_user(world.owner)
    boto3.client("dynamodb").update_item(
        TableName=os.environ["CONNECTIONS_TABLE"],
        Key={"connection_id": {"S": owner_id}},
        UpdateExpression="SET auth_expires_at = :past",
        ExpressionAttributeValues={":past": {"N": str(int(time.time()) - 1)}},
    )
    assert publish(bot, world.session_id, segment(2))["type"] == "ack"
    assert owner.recv_type("error")["code"] == "TOKEN_EXPIRED"
    assert "session_id" not in connection_item(owner_id)


def test_pong_names_the_subscribed_session(connect, world, user_token):
    client = connect(user_token(world.member))
    client.send({"action": "ping"})
    assert client.recv_type("pong")["sessionId"] is None
    client.subscribe(world.session_id)
    client.send({"action": "ping"})
    assert client.recv_type("pong")["sessionId"] == str(world.session_id)
