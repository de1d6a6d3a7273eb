"""The ECS payload limit (voice_common.dispatch.fit_for_ecs): what a bot task receives when the session's
knowledge does not fit into run_task's overrides; written to fail on the small changes `make mutation`
makes (docs/mutation.md)."""

from __future__ import annotations

import json

import pytest

from access_common.errors import BadGatewayError
from voice_common.dispatch import ECS_PAYLOAD_BUDGET, fit_for_ecs


def payload(knowledge: list[dict], pad: int = 0) -> dict:
    return {
        "type": "BOT_REQUEST",
        "version": 1,
        "sessionId": "2b7c2b6e-4a1e-4b43-9a57-9d1c3a3f0c11",
        "config": {"bot_name": "B", "pad": "p" * pad},
        "knowledge": knowledge,
    }


def compact(value: dict) -> str:
    return json.dumps(value, separators=(",", ":"))


def doc(content: str, kb: str = "kb-1") -> dict:
    return {"kbId": kb, "title": "Handbook", "content": content}


def test_a_payload_exactly_at_the_budget_is_sent_as_it_is() -> None:
    p = payload([doc("")])
    p["knowledge"][0]["content"] = "k" * (ECS_PAYLOAD_BUDGET - len(compact(p)))
    assert len(compact(p)) == ECS_PAYLOAD_BUDGET
    assert fit_for_ecs(p) == compact(p)  # compact JSON, untouched, no truncation flag


def sent_chars(text: str) -> int:
    return sum(len(d["content"]) for d in json.loads(text)["knowledge"])


def assert_most_that_fits(p: dict, text: str) -> None:
    """The knowledge sent is a prefix of the session's, and one more character would not fit."""
    sent = json.loads(text)
    assert len(text) <= ECS_PAYLOAD_BUDGET and text == compact(sent)
    assert sent["knowledgeTruncated"] is True
    whole = "".join(d["content"] for d in p["knowledge"])
    kept = "".join(d["content"] for d in sent["knowledge"])
    assert whole.startswith(kept) and len(kept) < len(whole)
    from voice_common.dispatch import _cap_knowledge

    one_more, _ = _cap_knowledge(p["knowledge"], len(kept) + 1)
    assert len(compact({**p, "knowledge": one_more, "knowledgeTruncated": True})) > ECS_PAYLOAD_BUDGET


def test_one_character_over_cuts_the_knowledge_and_says_so() -> None:
    p = payload([doc("")])
    p["knowledge"][0]["content"] = "k" * (ECS_PAYLOAD_BUDGET - len(compact(p)) + 1)
    text = fit_for_ecs(p)
    assert_most_that_fits(p, text)
    sent = json.loads(text)
    # What is cut is the one character over plus the flag's own length, no more.
    assert sent_chars(text) == len(p["knowledge"][0]["content"]) - 1 - len(',"knowledgeTruncated":true')
    assert {k: v for k, v in sent.items() if k not in ("knowledge", "knowledgeTruncated")} == {
        k: v for k, v in p.items() if k != "knowledge"
    }


def test_escaped_characters_are_counted_as_sent() -> None:
    # "é" takes 6 bytes in the JSON (\\u00e9): the cut is measured on the text as sent.
    text_1 = ("abcdefghi" + "é") * 800
    p = payload([doc(text_1), doc("second document", kb="kb-2")])
    text = fit_for_ecs(p)
    assert_most_that_fits(p, text)
    assert [d["kbId"] for d in json.loads(text)["knowledge"]] == ["kb-1"]
    assert sent_chars(text) > 1000


def test_mostly_non_ascii_knowledge_is_cut_not_dropped() -> None:
    # Every character escapes to 6 bytes: about 7,600 / 6 of them fit.
    p = payload([doc("é" * 4000), doc("second", kb="kb-2")])
    text = fit_for_ecs(p)
    assert_most_that_fits(p, text)
    assert 1100 < sent_chars(text) < 1300


def test_the_knowledge_fills_the_budget_across_documents() -> None:
    p = payload([doc("a" * 3000), doc("b" * 3000, kb="kb-2"), doc("c" * 3000, kb="kb-3")])
    text = fit_for_ecs(p)
    assert_most_that_fits(p, text)
    assert [d["kbId"] for d in json.loads(text)["knowledge"]] == ["kb-1", "kb-2", "kb-3"]


def test_the_last_bit_of_room_still_carries_knowledge() -> None:
    # Padding chosen so that exactly one character of knowledge fits.
    p = payload([doc("abc" * 3000)])
    one = compact({**p, "knowledge": [doc("a")], "knowledgeTruncated": True})
    p["config"]["pad"] = "p" * (ECS_PAYLOAD_BUDGET - len(one))
    text = fit_for_ecs(p)
    assert len(text) == ECS_PAYLOAD_BUDGET
    assert json.loads(text)["knowledge"] == [doc("a")]


def test_no_room_at_all_sends_no_knowledge() -> None:
    p = payload([doc("abc" * 3000)])
    one = compact({**p, "knowledge": [doc("a")], "knowledgeTruncated": True})
    p["config"]["pad"] = "p" * (ECS_PAYLOAD_BUDGET - len(one) + 1)  # one character short of the first one
    text = fit_for_ecs(p)
    sent = json.loads(text)
    assert sent["knowledge"] == [] and sent["knowledgeTruncated"] is True
    assert text == compact(sent)


def test_a_configuration_too_large_by_itself_is_a_502() -> None:
    with pytest.raises(BadGatewayError) as caught:
        fit_for_ecs(payload([doc("x")], pad=ECS_PAYLOAD_BUDGET))
    assert caught.value.code == "BOT_PAYLOAD_TOO_LARGE"
    assert caught.value.message == "The interview configuration is too large to start a bot task"


def test_a_configuration_that_fits_only_without_knowledge() -> None:
    p = payload([doc("x" * 2000)])
    without = compact({**p, "knowledge": [], "knowledgeTruncated": True})
    p["config"]["pad"] = "p" * (ECS_PAYLOAD_BUDGET - len(without))
    text = fit_for_ecs(p)
    assert len(text) == ECS_PAYLOAD_BUDGET
    assert json.loads(text)["knowledge"] == []


# --- the dispatch payload (build_payload, _cap_knowledge) ---------------------------------------------------


def _build(**overrides):
    import uuid

    from voice_common.dispatch import build_payload

    args = {
        "session_id": uuid.UUID("2b7c2b6e-4a1e-4b43-9a57-9d1c3a3f0c11"),
        "org_id": uuid.UUID("9d1c3a3f-4a1e-4b43-9a57-2b7c2b6e0c11"),
        "room_url": "https://example.daily.co/voice-x",
        "room_token": "room-token",
        "bot_token": "bot-token",
        "config": {"bot_name": "B"},
        "knowledge": [],
        "secret_arns": {},
        **overrides,
    }
    return build_payload(**args)


def test_urls_for_the_bot_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("API_BASE_URL", "https://api.example.com/api/voice/")
    monkeypatch.setenv("WEBSOCKET_URL", "wss://ws.example.com/live")
    p = _build()
    assert p["apiBaseUrl"] == "https://api.example.com/api/voice"  # no trailing slash
    assert p["websocketUrl"] == "wss://ws.example.com/live"


def test_urls_unset_are_empty(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("API_BASE_URL", raising=False)
    monkeypatch.delenv("WEBSOCKET_URL", raising=False)
    p = _build()
    assert (p["apiBaseUrl"], p["websocketUrl"]) == ("", "")


def test_knowledge_within_budget_is_untouched() -> None:
    from voice_common.dispatch import _cap_knowledge

    docs = [doc("abc"), doc("defg", kb="kb-2")]
    assert _cap_knowledge(docs, 7) == (docs, False)  # exactly the budget
    assert _cap_knowledge([{"kbId": "k", "title": "T", "content": None}], 5) == (
        [{"kbId": "k", "title": "T", "content": ""}],
        False,
    )


def test_the_last_document_cut_is_flagged() -> None:
    from voice_common.dispatch import _cap_knowledge

    kept, truncated = _cap_knowledge([doc("abc"), doc("defg", kb="kb-2")], 6)
    assert (kept, truncated) == ([doc("abc"), doc("def", kb="kb-2")], True)


def test_one_character_left_is_still_used() -> None:
    from voice_common.dispatch import _cap_knowledge

    kept, truncated = _cap_knowledge([doc("abc"), doc("defg", kb="kb-2"), doc("h", kb="kb-3")], 4)
    assert (kept, truncated) == ([doc("abc"), doc("d", kb="kb-2")], True)


# --- the pool window (pool_window_open) ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("features", "size", "expected"),
    [
        ({"standby_pool": True}, 1, True),  # one pool bot is a pool
        ({"standby_pool": True}, 0, False),  # no pool bots: no pool
        ({}, 2, False),  # the feature is off unless turned on
        ({"standby_pool": False}, 2, False),
    ],
)
def test_pool_window(features: dict, size: int, expected: bool) -> None:
    import datetime as dt

    from voice_common.dispatch import pool_window_open
    from voice_common.settings import get_settings

    settings = get_settings().model_copy(update={"features": features, "standby_pool_size": size})
    inside = dt.datetime(2025, 6, 11, 14, 0, tzinfo=dt.UTC)  # Wednesday 10:00 in New York
    assert settings.business_hours.contains(inside)
    assert pool_window_open(settings, inside) is expected
    saturday = dt.datetime(2025, 6, 14, 14, 0, tzinfo=dt.UTC)
    assert pool_window_open(settings, saturday) is False


def test_only_slashes_are_stripped_from_the_api_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("API_BASE_URL", "https://api.example.com/X//")
    assert _build()["apiBaseUrl"] == "https://api.example.com/X"


def test_the_run_task_client_token_follows_the_payload() -> None:
    from voice_common.dispatch import run_task_client_token

    sid = "2b7c2b6e-4a1e-4b43-9a57-9d1c3a3f0c11"
    first = run_task_client_token(sid, '{"botToken":"a"}')
    assert first == run_task_client_token(sid, '{"botToken":"a"}')  # a redelivered call: the same task
    assert first != run_task_client_token(sid, '{"botToken":"b"}')  # a new dispatch: no ECS conflict
    assert first != run_task_client_token("9d1c3a3f-4a1e-4b43-9a57-2b7c2b6e0c11", '{"botToken":"a"}')
    assert first.startswith(sid + "-") and len(first) == 64


# --- sealed tokens (seal_tokens / unseal_tokens) ------------------------------------------------------------


@pytest.fixture
def kms(aws_env: dict[str, str], monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """The test session's moto server's KMS and the module key (not moto's in-process mock: leaving
    ``mock_aws`` resets the backends the shared server uses, and later tests would lose their queues)."""
    import boto3

    from access_common.aws import reset_clients

    monkeypatch.setenv("BOT_DISPATCH_KMS_KEY_ID", aws_env["BOT_DISPATCH_KMS_KEY_ID"])
    reset_clients()
    return boto3.client("kms", endpoint_url=aws_env["AWS_ENDPOINT_URL"])


SID = "2b7c2b6e-4a1e-4b43-9a57-9d1c3a3f0c11"


def test_sealing_replaces_exactly_the_two_tokens(kms) -> None:  # type: ignore[no-untyped-def]
    import base64

    from voice_common.dispatch import seal_tokens, unseal_tokens

    original = {"sessionId": SID, "roomToken": "room-tok", "botToken": "vbt1.x", "roomUrl": "https://r"}
    sealed = seal_tokens(original)
    assert set(sealed) == {"sessionId", "roomUrl", "sealedTokens"} and original["roomToken"] == "room-tok"
    plain = kms.decrypt(
        CiphertextBlob=base64.b64decode(sealed["sealedTokens"]),
        EncryptionContext={"module": "module-voice", "purpose": "bot-dispatch", "sessionId": SID},
    )["Plaintext"]
    # Compact JSON: the ciphertext counts against ECS's 8 KiB overrides limit.
    assert plain == b'{"roomToken":"room-tok","botToken":"vbt1.x"}'
    assert unseal_tokens(sealed, kms) == original
    unsealed_plain = {"sessionId": SID, "roomToken": "t", "botToken": "b"}
    copy = unseal_tokens(unsealed_plain, kms)
    assert copy == unsealed_plain and copy is not unsealed_plain


def test_sealing_fails_closed_with_a_clear_502(kms, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    from voice_common.dispatch import seal_tokens

    body = {"sessionId": SID, "roomToken": "t", "botToken": "b"}
    for key in (None, "arn:aws:kms:us-east-1:123456789012:key/00000000-0000-0000-0000-000000000000"):
        if key is None:
            monkeypatch.delenv("BOT_DISPATCH_KMS_KEY_ID")
        else:
            monkeypatch.setenv("BOT_DISPATCH_KMS_KEY_ID", key)  # no such key: KMS refuses
        with pytest.raises(BadGatewayError) as refused:
            seal_tokens(body)
        assert (refused.value.status, refused.value.code, refused.value.message) == (
            502,
            "DISPATCH_FAILED",
            "Starting the interview bot failed; try again",
        )
