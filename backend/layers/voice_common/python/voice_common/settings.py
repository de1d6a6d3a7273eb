"""Module settings from module.config.yaml, with VOICE_* environment overrides.

The file is looked up at MODULE_CONFIG_PATH, then next to this package (the copy the build puts in the
voice_common layer), then at the repository root (local development and tests).
"""

from __future__ import annotations

import datetime as dt
import functools
import os
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, field_validator

_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class BusinessHours(BaseModel):
    """The standby pool's window: local ``start``-``end`` on ``days`` in ``timezone``."""

    model_config = ConfigDict(frozen=True)

    start: dt.time = dt.time(9, 0)
    end: dt.time = dt.time(17, 0)
    days: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri")
    timezone: str = "UTC"

    @field_validator("days")
    @classmethod
    def _days(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        days = tuple(d.lower()[:3] for d in value)
        unknown = [d for d in days if d not in _WEEKDAYS]
        if unknown:
            raise ValueError(f"unknown weekday(s) {unknown}; use {list(_WEEKDAYS)}")
        return days

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str) -> str:
        ZoneInfo(value)  # raises for an unknown zone
        return value

    def contains(self, moment: dt.datetime) -> bool:
        """Whether an aware datetime falls inside the window (end exclusive)."""
        local = moment.astimezone(ZoneInfo(self.timezone))
        if _WEEKDAYS[local.weekday()] not in self.days:
            return False
        return self.start <= local.time().replace(tzinfo=None) < self.end


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True)

    max_concurrent_sessions: int = Field(10, ge=1)
    session_timeout_minutes: int = Field(90, ge=1)
    transcript_retention_days: int = Field(90, ge=1)
    business_hours: BusinessHours = BusinessHours()
    standby_pool_size: int = Field(2, ge=0)
    pool_pickup_timeout_seconds: int = Field(20, ge=1, le=900)
    bot_join_timeout_seconds: int = Field(180, ge=10)
    bot_heartbeat_timeout_seconds: int = Field(60, ge=15)
    candidate_join_timeout_minutes: int = Field(30, ge=1)
    bot_token_ttl_seconds: int = Field(10800, ge=60)
    daily_room_ttl_seconds: int = Field(86400, ge=300)
    preview_rate_limit_per_minute: int = Field(20, ge=1)
    features: dict[str, bool] = Field(default_factory=dict)


def config_path() -> Path | None:
    candidates = [os.environ.get("MODULE_CONFIG_PATH")]
    here = Path(__file__).resolve()
    candidates.append(str(here.parent / "module.config.yaml"))
    candidates.extend(str(p / "module.config.yaml") for p in here.parents)
    for c in candidates:
        if c and Path(c).is_file():
            return Path(c)
    return None


def load_settings(path: Path | None = None, env: dict[str, str] | None = None) -> Settings:
    """Parse the YAML file and apply VOICE_<NAME> overrides for scalar settings."""
    path = path or config_path()
    env = dict(os.environ) if env is None else env
    raw: dict[str, Any] = {}
    if path is not None:
        import yaml  # only when settings are first read, not at every Lambda's import

        doc = yaml.safe_load(path.read_text()) or {}
        raw = dict(doc.get("settings") or {})
        raw["features"] = doc.get("features") or {}
    for name, field in Settings.model_fields.items():
        key = f"VOICE_{name.upper()}"
        if key in env and field.annotation in (int, str, bool):
            raw[name] = env[key]
    hours = dict(raw.get("business_hours") or {})
    for sub in ("start", "end", "timezone"):
        key = f"VOICE_BUSINESS_HOURS_{sub.upper()}"
        if key in env:
            hours[sub] = env[key]
    if "VOICE_BUSINESS_HOURS_DAYS" in env:
        hours["days"] = [d.strip() for d in env["VOICE_BUSINESS_HOURS_DAYS"].split(",") if d.strip()]
    raw["business_hours"] = hours
    return Settings.model_validate(raw)


@functools.cache
def get_settings() -> Settings:
    """Settings for this warm container (cached; tests call ``get_settings.cache_clear()``)."""
    return load_settings()
