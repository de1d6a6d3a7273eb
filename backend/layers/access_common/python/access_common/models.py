"""Pydantic base models: the API speaks camelCase and accepts snake_case too."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel


class CamelModel(BaseModel):
    """Request/response model: camelCase on the wire, snake_case in Python, both accepted on input."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        str_strip_whitespace=True,
    )

    def dump(self, **kwargs: Any) -> dict[str, Any]:
        """JSON-ready camelCase dict."""
        return self.model_dump(mode="json", by_alias=True, **kwargs)


class CamelResponse(CamelModel):
    """Response model: tolerant of extra columns so adding a DB column never breaks a read."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="ignore", from_attributes=True
    )
