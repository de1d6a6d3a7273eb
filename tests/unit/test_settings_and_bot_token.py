"""module.config.yaml settings (with env overrides, business hours) and per-session bot tokens."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError as PydanticValidationError

from access_common.errors import ForbiddenError, UnauthorizedError
from voice_common import bot_token
from voice_common.settings import BusinessHours, load_settings

REPO = Path(__file__).resolve().parents[2]


class TestSettings:
    def test_repository_file_is_read(self) -> None:
        s = load_settings(REPO / "module.config.yaml", env={})
        assert s.max_concurrent_sessions == 10
        assert s.business_hours.timezone == "America/New_York"
        assert s.features["standby_pool"] is True

    def test_env_overrides(self) -> None:
        s = load_settings(
            REPO / "module.config.yaml",
            env={
                "VOICE_MAX_CONCURRENT_SESSIONS": "3",
                "VOICE_BUSINESS_HOURS_TIMEZONE": "Europe/Berlin",
                "VOICE_BUSINESS_HOURS_DAYS": "sat,sun",
            },
        )
        assert s.max_concurrent_sessions == 3
        assert s.business_hours.timezone == "Europe/Berlin"
        assert s.business_hours.days == ("sat", "sun")

    @pytest.mark.parametrize(
        "env",
        [
            {"VOICE_MAX_CONCURRENT_SESSIONS": "0"},
            {"VOICE_BUSINESS_HOURS_TIMEZONE": "Mars/Olympus"},
            {"VOICE_BUSINESS_HOURS_DAYS": "funday"},
            {"VOICE_POOL_PICKUP_TIMEOUT_SECONDS": "many"},
        ],
    )
    def test_bad_values_refused(self, env: dict[str, str]) -> None:
        with pytest.raises((PydanticValidationError, Exception)):
            load_settings(REPO / "module.config.yaml", env=env)

    def test_missing_keys_take_defaults(self, tmp_path: Path) -> None:
        cfg = tmp_path / "module.config.yaml"
        cfg.write_text("settings:\n  standby_pool_size: 5\n")
        s = load_settings(cfg, env={})
        assert s.standby_pool_size == 5
        assert s.pool_pickup_timeout_seconds == 20
        assert s.business_hours.days == ("mon", "tue", "wed", "thu", "fri")


class TestBusinessHours:
    hours = BusinessHours(
        start=dt.time(9),
        end=dt.time(17),
        days=("mon", "tue", "wed", "thu", "fri"),
        timezone="America/New_York",
    )

    @pytest.mark.parametrize(
        ("local", "inside"),
        [
            (dt.datetime(2026, 11, 23, 9, 0), True),  # Monday opening minute
            (dt.datetime(2026, 11, 23, 8, 59, 59), False),
            (dt.datetime(2026, 11, 23, 16, 59, 59), True),
            (dt.datetime(2026, 11, 23, 17, 0), False),  # end is exclusive
            (dt.datetime(2026, 11, 21, 12, 0), False),  # Saturday
            (dt.datetime(2026, 3, 8, 12, 0), False),  # Sunday of the DST change
            (dt.datetime(2026, 3, 9, 9, 30), True),  # Monday after DST change
        ],
    )
    def test_window_in_local_time(self, local: dt.datetime, inside: bool) -> None:
        moment = local.replace(tzinfo=ZoneInfo("America/New_York")).astimezone(dt.UTC)
        assert self.hours.contains(moment) is inside

    def test_utc_hour_differs_from_local(self) -> None:
        # 14:30 UTC on a Monday in November is 09:30 in New York: inside; 13:30 UTC is 08:30: outside.
        assert self.hours.contains(dt.datetime(2026, 11, 23, 14, 30, tzinfo=dt.UTC))
        assert not self.hours.contains(dt.datetime(2026, 11, 23, 13, 30, tzinfo=dt.UTC))


class TestBotToken:
    @pytest.fixture(autouse=True)
    def _secret(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("BOT_TOKEN_SECRET", "bot-secret-for-tests")
        bot_token.reset_secret_cache()
        yield
        bot_token.reset_secret_cache()

    def test_round_trip(self) -> None:
        sid = uuid.uuid4()
        assert bot_token.verify(bot_token.issue(sid, 60), sid) == sid

    def test_other_session_is_403(self) -> None:
        with pytest.raises(ForbiddenError):
            bot_token.verify(bot_token.issue(uuid.uuid4(), 60), uuid.uuid4())

    def test_expired_is_401(self) -> None:
        token = bot_token.issue(uuid.uuid4(), 60, now=1000)
        with pytest.raises(UnauthorizedError) as err:
            bot_token.verify(token, now=1061)
        assert err.value.code == "BOT_TOKEN_EXPIRED"

    def test_tampered_session_is_401(self) -> None:
        sid, other = uuid.uuid4(), uuid.uuid4()
        prefix, _, exp, sig = bot_token.issue(sid, 60).split(".")
        with pytest.raises(UnauthorizedError):
            bot_token.verify(f"{prefix}.{other}.{exp}.{sig}", other)

    def test_tampered_expiry_is_401(self) -> None:
        prefix, sid, exp, sig = bot_token.issue(uuid.uuid4(), 60).split(".")
        with pytest.raises(UnauthorizedError):
            bot_token.verify(f"{prefix}.{sid}.{int(exp) + 3600}.{sig}")

    def test_other_secret_is_401(self, monkeypatch: pytest.MonkeyPatch) -> None:
        token = bot_token.issue(uuid.uuid4(), 60)
        monkeypatch.setenv("BOT_TOKEN_SECRET", "a-different-secret")
        bot_token.reset_secret_cache()
        with pytest.raises(UnauthorizedError):
            bot_token.verify(token)

    @pytest.mark.parametrize("token", [None, "", "vbt1", "vbt2.a.b.c", "vbt1.not-uuid.1.sig", "x.y.z.w"])
    def test_malformed(self, token: str | None) -> None:
        with pytest.raises(UnauthorizedError):
            bot_token.verify(token)

    def test_bearer(self) -> None:
        assert bot_token.bearer({"Authorization": "Bearer abc"}) == "abc"
        assert bot_token.bearer({"authorization": "bearer  xyz "}) == "xyz"
        assert bot_token.bearer({"Authorization": "Basic abc"}) is None
        assert bot_token.bearer(None) is None
