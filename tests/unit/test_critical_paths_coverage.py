"""Branches of the critical paths (create, start, bot callbacks, assembly) that the other suites leave out;
tests/quality/coverage_areas.toml requires every line and branch of them to run."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from access_common.errors import ConflictError, NotFoundError, UnauthorizedError
from voice_common import assembly, bot_token, dispatch, sessions


class TestCreateSessionChecks:
    def test_refs_all_fine_means_a_concurrent_change(self) -> None:
        # config active and workspace found, yet the write matched nothing: the row changed meanwhile.
        with pytest.raises(ConflictError) as caught:
            sessions._check_refs({"config_active": True, "workspace_found": True}, uuid.uuid4(), uuid.uuid4())
        assert caught.value.code == "CONCURRENT_UPDATE"

    def test_refs_unknown_workspace(self) -> None:
        ws = uuid.uuid4()
        with pytest.raises(NotFoundError) as caught:
            sessions._check_refs({"config_active": None, "workspace_found": False}, None, ws)
        assert caught.value.code == "WORKSPACE_NOT_FOUND" and str(ws) in caught.value.message

    @pytest.mark.parametrize("email", ["ada@exa..mple.com", "ada@" + "x" * 64 + ".com"])
    def test_domain_idna_cannot_encode(self, email: str) -> None:
        with pytest.raises(ValueError, match=r"the domain is not valid"):
            sessions.normalize_email(email)

    def test_domain_is_lower_cased_local_part_kept(self) -> None:
        assert sessions.normalize_email("Ada.Lovelace@Example.COM") == "Ada.Lovelace@example.com"


class TestBotTokenMalformedButSigned:
    @pytest.fixture(autouse=True)
    def _secret(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("BOT_TOKEN_SECRET", "bot-secret-for-tests")
        bot_token.reset_secret_cache()
        yield
        bot_token.reset_secret_cache()

    @pytest.mark.parametrize(("sid", "exp"), [("not-a-uuid", "4102444800"), (str(uuid.uuid4()), "soon")])
    def test_correctly_signed_garbage_is_401(self, sid: str, exp: str) -> None:
        message = f"vbt1.{sid}.{exp}"
        token = f"{message}.{bot_token._sign(message)}"
        with pytest.raises(UnauthorizedError) as caught:
            bot_token.verify(token)
        assert (caught.value.code, caught.value.message) == ("BOT_TOKEN_INVALID", "Malformed bot token")


class TestPayload:
    def test_knowledge_beyond_the_budget_is_cut_and_flagged(self) -> None:
        big = "x" * (dispatch.MAX_KNOWLEDGE_CHARS - 10)
        docs = [
            {"kbId": "a", "title": "A", "content": big},
            {"kbId": "b", "title": "B", "content": "y" * 50},
            {"kbId": "c", "title": "C", "content": "never sent"},
        ]
        payload = dispatch.build_payload(
            session_id=uuid.uuid4(),
            org_id=uuid.uuid4(),
            room_url="https://example.daily.co/voice-x",
            room_token="rt",
            bot_token="bt",
            config=None,
            knowledge=docs,
            secret_arns={"deepgram": "arn:aws:secretsmanager:us-east-1:1:secret:d", "cartesia": None},
        )
        assert payload["knowledgeTruncated"] is True
        assert [d["kbId"] for d in payload["knowledge"]] == ["a", "b"]
        assert payload["knowledge"][1]["content"] == "y" * 10
        assert sum(len(d["content"]) for d in payload["knowledge"]) == dispatch.MAX_KNOWLEDGE_CHARS
        assert payload["secretArns"] == {"deepgram": "arn:aws:secretsmanager:us-east-1:1:secret:d"}
        assert payload["config"] == {}

    def test_knowledge_within_the_budget_is_not_flagged(self) -> None:
        payload = dispatch.build_payload(
            session_id=uuid.uuid4(),
            org_id=uuid.uuid4(),
            room_url="u",
            room_token="rt",
            bot_token="bt",
            config={"bot_name": "B"},
            knowledge=[{"kbId": "a", "title": "A", "content": "short"}],
            secret_arns={},
        )
        assert "knowledgeTruncated" not in payload
        assert payload["knowledge"][0]["content"] == "short"


class TestAssembly:
    def test_blank_segments_are_dropped_and_counted(self) -> None:
        rows = [
            {"seq": 0, "speaker": "bot", "text": "Hello", "start_time": 0.0, "end_time": 1.0},
            {"seq": 1, "speaker": "candidate", "text": "   ", "start_time": 1.0, "end_time": 2.0},
            {"seq": 2, "speaker": "candidate", "text": "Hi", "start_time": 2.0, "end_time": 3.0},
        ]
        segments, dropped = assembly.order_segments(rows)
        assert [s.seq for s in segments] == [0, 2]
        assert dropped == 1

    def test_archive_date_prefers_end_then_start_then_creation(self) -> None:
        end = dt.datetime(2025, 3, 8, 4, 30, tzinfo=dt.UTC)
        start = dt.datetime(2025, 3, 8, 4, 0, tzinfo=dt.UTC)
        assert assembly.archive_date({"completed_at": end, "started_at": start}) == end
        # A value that is not a datetime (e.g. a string from JSON) is passed over.
        assert assembly.archive_date({"completed_at": "2025-03-08", "started_at": start}) == start

    def test_archive_date_without_any_time_is_now(self) -> None:
        before = dt.datetime.now(dt.UTC)
        when = assembly.archive_date({"completed_at": None, "started_at": None, "created_at": None})
        assert before <= when <= dt.datetime.now(dt.UTC)
        assert when.tzinfo is not None
