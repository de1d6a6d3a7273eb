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


def test_one_character_over_cuts_the_knowledge_and_says_so() -> None:
    p = payload([doc("")])
    p["knowledge"][0]["content"] = "k" * (ECS_PAYLOAD_BUDGET - len(compact(p)) + 1)
    text = fit_for_ecs(p)
    sent = json.loads(text)
    assert len(text) <= ECS_PAYLOAD_BUDGET and text == compact(sent)
    assert sent["knowledgeTruncated"] is True
    assert (
        sent["knowledge"][0]["content"]
        == p["knowledge"][0]["content"][: len(sent["knowledge"][0]["content"])]
    )
    # The room is used: at most the per-document margin is given away.
    assert len(text) > ECS_PAYLOAD_BUDGET - 100 - 64
    assert {k: v for k, v in sent.items() if k not in ("knowledge", "knowledgeTruncated")} == {
        k: v for k, v in p.items() if k != "knowledge"
    }


def test_escaped_characters_are_counted_as_sent() -> None:
    # Each of these characters takes 6 bytes in the JSON (\\uXXXX): the first cut does not fit yet.
    p = payload([doc("é" * 4000), doc("ü" * 4000, kb="kb-2")])
    text = fit_for_ecs(p)
    sent = json.loads(text)
    assert len(text) <= ECS_PAYLOAD_BUDGET and sent["knowledgeTruncated"] is True
    assert sent["knowledge"] and set(sent["knowledge"][0]["content"]) == {"é"}
    assert len(text) > ECS_PAYLOAD_BUDGET - 2 * 100 - 6 * 64


def test_the_last_bit_of_room_still_carries_knowledge() -> None:
    # Padding chosen so that exactly one character of knowledge fits after the margins.
    p = payload([doc("abc" * 3000)])
    without = compact({**p, "knowledge": [], "knowledgeTruncated": True})
    p["config"]["pad"] = "p" * (ECS_PAYLOAD_BUDGET - len(without) - 100 - 1)
    sent = json.loads(fit_for_ecs(p))
    assert sent["knowledgeTruncated"] is True
    assert sent["knowledge"] == [doc("a")]


def test_no_room_at_all_sends_no_knowledge() -> None:
    p = payload([doc("abc" * 3000)])
    without = compact({**p, "knowledge": [], "knowledgeTruncated": True})
    p["config"]["pad"] = "p" * (ECS_PAYLOAD_BUDGET - len(without) - 50)
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
