"""The CORA response envelope (ARCHITECTURE decision 2)."""

from __future__ import annotations

import datetime as dt
import decimal
import json
import uuid
from typing import Any

from aws_lambda_powertools.event_handler import Response
from pydantic import BaseModel

from access_common.errors import AppError
from access_common.pagination import Page

_HEADERS = {"Content-Type": "application/json", "Cache-Control": "no-store"}
JSON_HEADERS = _HEADERS  # read-only: the headers of every envelope response


def _default(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", by_alias=True)
    if isinstance(value, (uuid.UUID, decimal.Decimal)):
        return float(value) if isinstance(value, decimal.Decimal) else str(value)
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


def to_json(payload: Any) -> str:
    return json.dumps(payload, default=_default, separators=(",", ":"))


def ok(data: Any, *, status: int = 200, page: Page | None = None, total: int | None = None) -> Response[str]:
    """Success envelope; lists pass ``page`` and ``total`` to get the pagination block."""
    body: dict[str, Any] = {"success": True, "data": data}
    if page is not None:
        body["pagination"] = page.block(total if total is not None else len(data))
    return Response(status_code=status, body=to_json(body), headers=dict(_HEADERS))


def error_body(message: str, code: str, details: Any = None) -> dict[str, Any]:
    body: dict[str, Any] = {"success": False, "error": message, "code": code}
    if details is not None:
        body["details"] = details
    return body


def error(err: AppError) -> Response[str]:
    return Response(
        status_code=err.status,
        body=to_json(error_body(err.message, err.code, err.details)),
        headers=dict(_HEADERS),
    )


def error_response(status: int, message: str, code: str, details: Any = None) -> Response[str]:
    return Response(
        status_code=status, body=to_json(error_body(message, code, details)), headers=dict(_HEADERS)
    )
