"""Pagination parameters (limit 1..1000, default 100; offset >= 0) and the envelope's pagination block."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from access_common.errors import ValidationError

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000


@dataclass(frozen=True, slots=True)
class Page:
    limit: int = DEFAULT_LIMIT
    offset: int = 0

    def block(self, total: int) -> dict[str, int | bool]:
        """The envelope's ``pagination`` object for a result of ``total`` rows."""
        return {
            "total": total,
            "limit": self.limit,
            "offset": self.offset,
            "hasMore": self.offset + self.limit < total,
        }


def _as_int(name: str, raw: str | int | None, default: int) -> int:
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except (TypeError, ValueError):
        raise ValidationError(
            f"{name} must be an integer", details=[{"field": name, "message": "not an integer"}]
        ) from None


def parse_pagination(query: Mapping[str, str | None] | None) -> Page:
    """Read ``limit``/``offset`` from query parameters; out-of-range values are a 400, not clamped."""
    query = query or {}
    limit = _as_int("limit", query.get("limit"), DEFAULT_LIMIT)
    offset = _as_int("offset", query.get("offset"), 0)
    if not 1 <= limit <= MAX_LIMIT:
        raise ValidationError(
            f"limit must be between 1 and {MAX_LIMIT}",
            details=[{"field": "limit", "message": "out of range"}],
        )
    if offset < 0:
        raise ValidationError("offset must be >= 0", details=[{"field": "offset", "message": "out of range"}])
    return Page(limit=limit, offset=offset)
