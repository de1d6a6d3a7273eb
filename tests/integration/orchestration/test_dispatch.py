"""Dispatch decision (business hours, timezone, pool capacity), ECS payload budget, the Daily client."""

from __future__ import annotations

import datetime as dt
import json
import socket
from zoneinfo import ZoneInfo

import boto3
import pytest

from tests.integration.orchestration.conftest import drain

NY = ZoneInfo("America/New_York")


def settings(**overrides):
    from voice_common.settings import load_settings

    env = {f"VOICE_{k.upper()}": str(v) for k, v in overrides.items()}
    return load_settings(env=env)


@pytest.mark.parametrize(
    ("local", "expected"),
    [
        (dt.datetime(2025, 6, 11, 8, 59, 59, tzinfo=NY), "task"),  # Wednesday, a second before opening
        (dt.datetime(2025, 6, 11, 9, 0, 0, tzinfo=NY), "pool"),  # opening (inclusive)
        (dt.datetime(2025, 6, 11, 16, 59, 59, tzinfo=NY), "pool"),
        (dt.datetime(2025, 6, 11, 17, 0, 0, tzinfo=NY), "task"),  # closing (exclusive)
        (dt.datetime(2025, 6, 13, 12, 0, tzinfo=NY), "pool"),  # Friday
        (dt.datetime(2025, 6, 14, 12, 0, tzinfo=NY), "task"),  # Saturday
        (dt.datetime(2025, 6, 15, 12, 0, tzinfo=NY), "task"),  # Sunday
    ],
)
def test_business_hours_edges(orch, local, expected):
    from voice_common.dispatch import choose_mode

    assert choose_mode(settings(), local.astimezone(dt.UTC)) == expected


def test_the_window_is_in_the_configured_timezone_across_dst(orch):
    from voice_common.dispatch import choose_mode

    s = settings()  # 09:00-17:00 America/New_York
    # 13:30 UTC is 09:30 EDT in summer (open) but 08:30 EST in winter (closed).
    assert choose_mode(s, dt.datetime(2025, 7, 16, 13, 30, tzinfo=dt.UTC)) == "pool"
    assert choose_mode(s, dt.datetime(2025, 1, 15, 13, 30, tzinfo=dt.UTC)) == "task"
    # The same instant seen from Tokyo's business hours: Thursday 22:30 there.
    tokyo = settings(business_hours_timezone="Asia/Tokyo")
    assert choose_mode(tokyo, dt.datetime(2025, 7, 16, 13, 30, tzinfo=dt.UTC)) == "task"
    assert choose_mode(tokyo, dt.datetime(2025, 7, 16, 1, 30, tzinfo=dt.UTC)) == "pool"  # 10:30 Thu


def test_pool_off_by_feature_size_or_missing_queue(orch, monkeypatch, tmp_path):
    from voice_common.dispatch import choose_mode
    from voice_common.settings import load_settings

    open_hour = dt.datetime(2025, 6, 11, 14, 0, tzinfo=dt.UTC)
    assert choose_mode(settings(standby_pool_size=0), open_hour) == "task"
    config = tmp_path / "module.config.yaml"
    config.write_text("settings: {standby_pool_size: 2}\nfeatures: {standby_pool: false}\n")
    assert choose_mode(load_settings(config, env={}), open_hour) == "task"
    monkeypatch.delenv("STANDBY_QUEUE_URL")
    assert choose_mode(settings(), open_hour) == "task"


def test_a_saturated_pool_sends_new_requests_to_ecs(orch):
    from voice_common.dispatch import choose_mode

    sqs = boto3.client("sqs", endpoint_url=orch["AWS_ENDPOINT_URL"])
    open_hour = dt.datetime(2025, 6, 11, 14, 0, tzinfo=dt.UTC)
    try:
        sqs.send_message(QueueUrl=orch["STANDBY_QUEUE_URL"], MessageBody="{}")
        assert choose_mode(settings(standby_pool_size=2), open_hour) == "pool"  # 1 waiting < 2 bots
        sqs.send_message(QueueUrl=orch["STANDBY_QUEUE_URL"], MessageBody="{}")
        assert choose_mode(settings(standby_pool_size=2), open_hour) == "task"  # every bot has a request
    finally:
        drain(sqs, orch["STANDBY_QUEUE_URL"])


def test_large_knowledge_is_cut_to_fit_the_ecs_overrides_limit():
    from voice_common.dispatch import ECS_PAYLOAD_BUDGET, build_payload, fit_for_ecs

    docs = [{"kbId": str(i), "title": f"doc {i}", "content": '"quoted" text\n' * 400} for i in range(5)]
    payload = build_payload(
        session_id="00000000-0000-0000-0000-000000000001",
        org_id="00000000-0000-0000-0000-000000000002",
        room_url="https://x.daily.co/r",
        room_token="t",
        bot_token="b",
        config={"system_prompt": "Be kind."},
        knowledge=docs,
        secret_arns={"deepgram": "arn:dg", "cartesia": None},
    )
    assert payload["secretArns"] == {"deepgram": "arn:dg"}

    text = fit_for_ecs(payload)

    assert len(text) <= ECS_PAYLOAD_BUDGET
    fitted = json.loads(text)
    assert fitted["knowledgeTruncated"] is True
    assert fitted["knowledge"][0]["content"].startswith('"quoted" text')
    assert fitted["config"] == {"system_prompt": "Be kind."}
    small = {**payload, "knowledge": docs[:1] and [{"kbId": "1", "title": "t", "content": "short"}]}
    assert json.loads(fit_for_ecs(small)) == small  # untouched when it fits


# --- the Daily client against the stand-in ------------------------------------------------------------------


def test_daily_client_honours_retry_after_and_stops_at_the_attempt_limit(daily):
    from voice_common.integrations.daily import DailyClient, DailyError

    client = DailyClient("k", max_attempts=2, backoff_seconds=0.01)
    daily.fail_next(1, status=500)
    room = client.create_room("r1", expires_at=2_000_000_000)
    assert room.name == "r1" and room.expires_at == 2_000_000_000
    daily.fail_next(5, status=429)
    with pytest.raises(DailyError) as err:
        client.create_meeting_token("r1", is_owner=True, user_name="Bot", expires_at=2_000_000_000)
    assert err.value.status == 502 and err.value.code == "DAILY_UNAVAILABLE"
    assert [r.status for r in daily.requests if r.path == "/v1/meeting-tokens"] == [429, 429]


def test_daily_client_errors_are_clear_and_never_carry_the_key(daily):
    from voice_common.integrations.daily import DailyClient, DailyError
    from voice_local.daily_standin import DailyStandIn

    with DailyStandIn(api_key="the-right-key") as strict:
        with pytest.raises(DailyError) as err:
            DailyClient("sk-wrong-key-123", base_url=strict.url).create_room("r", expires_at=2_000_000_000)
        assert err.value.code == "DAILY_AUTH_FAILED"
        assert "sk-wrong-key-123" not in str(err.value.message) + json.dumps(err.value.details)
        ok = DailyClient("the-right-key", base_url=strict.url)
        assert ok.create_room("r", expires_at=2_000_000_000).name == "r"
        assert ok.create_room("r", expires_at=2_000_000_000).name == "r"  # exists: reused
        assert ok.delete_room("r") is True
        assert ok.delete_room("r") is False  # already gone
        assert ok.get_room("r") is None


def test_daily_unreachable_is_a_502(orch):
    from voice_common.integrations.daily import DailyClient, DailyError

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    client = DailyClient("k", base_url=f"http://127.0.0.1:{port}/v1", max_attempts=2, backoff_seconds=0.01)
    with pytest.raises(DailyError) as err:
        client.create_room("r", expires_at=2_000_000_000)
    assert (err.value.status, err.value.code) == (502, "DAILY_UNAVAILABLE")
    assert "2 attempt(s)" in err.value.message


def test_daily_budget_bounds_the_total_time(daily):
    import time

    from voice_common.integrations.daily import DailyClient, DailyError

    daily.latency = 0.3
    client = DailyClient("k", max_attempts=5, backoff_seconds=0.01, budget_seconds=0.5, read_timeout=0.2)
    started = time.monotonic()
    with pytest.raises(DailyError):
        client.create_room("slow", expires_at=2_000_000_000)
    assert time.monotonic() - started < 1.5


def test_one_slow_daily_call_cannot_outlast_the_budget(daily):
    """The per-call timeout is cut to what is left of the budget: a 5 s read timeout does not apply when
    only 0.6 s remain, so a Daily that answers after 2 s is given up on, not waited for."""
    import time

    from voice_common.integrations.daily import DailyClient, DailyError

    daily.latency = 2.0
    client = DailyClient("k", max_attempts=3, backoff_seconds=0.01, budget_seconds=0.6, read_timeout=5.0)
    started = time.monotonic()
    with pytest.raises(DailyError) as err:
        client.create_room("slow-once", expires_at=2_000_000_000)
    assert time.monotonic() - started < 1.5
    assert err.value.status == 502
