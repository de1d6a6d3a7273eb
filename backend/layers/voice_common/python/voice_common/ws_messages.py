"""The live transcript WebSocket's message schema, version 1 (docs/websocket.md is the user-facing copy).

Client -> server frames are JSON objects whose ``action`` selects the API Gateway route; their bodies are
parsed strictly (wrong JSON types are refused, never coerced) into the ``*Action`` models below.
Server -> client messages all carry ``v``, ``type`` and ``sessionId`` and are built by the helpers at the
end, so every producer (the WebSocket Lambda, ``publish_status`` in a REST Lambda, the completion worker)
emits exactly the same shapes.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.alias_generators import to_camel

SCHEMA_VERSION = 1
MAX_SEGMENT_TEXT = 10_000  # characters; the database enforces the same bound
MAX_SEQ = 2**31 - 1  # voice_transcript_segments.seq is an integer

Speaker = Literal["bot", "candidate"]

# Error codes (docs/websocket.md lists them with their meaning).
INVALID_JSON = "INVALID_JSON"
UNKNOWN_ACTION = "UNKNOWN_ACTION"
VALIDATION_ERROR = "VALIDATION_ERROR"
UNAUTHORIZED = "UNAUTHORIZED"
TOKEN_EXPIRED = "TOKEN_EXPIRED"
FORBIDDEN = "FORBIDDEN"
BOT_TOKEN_WRONG_SESSION = "BOT_TOKEN_WRONG_SESSION"
BOT_SUPERSEDED = "BOT_SUPERSEDED"
SESSION_NOT_FOUND = "SESSION_NOT_FOUND"
SESSION_NOT_LIVE = "SESSION_NOT_LIVE"
INTERNAL_ERROR = "INTERNAL_ERROR"


class _Wire(BaseModel):
    """camelCase on the wire (snake_case accepted), strict JSON types, unknown fields ignored.

    Unknown fields are ignored rather than refused so a newer client can add optional fields without
    breaking an older server; the version is in ``v``.
    """

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, strict=True, extra="ignore")


class SegmentIn(_Wire):
    """One utterance as the bot publishes it; ``seq`` numbers the session's final segments from 1."""

    seq: int = Field(ge=0, le=MAX_SEQ)
    speaker: Speaker
    text: str = Field(min_length=1, max_length=MAX_SEGMENT_TEXT)
    start_time: float = Field(ge=0)
    end_time: float = Field(ge=0)
    confidence: float | None = Field(default=None, ge=0, le=1)
    is_final: bool = True

    @model_validator(mode="after")
    def _ordered(self) -> SegmentIn:
        if self.end_time < self.start_time:
            raise ValueError("endTime must not be before startTime")
        return self


class _Action(_Wire):
    v: Literal[1] = 1


class SubscribeAction(_Action):
    action: Literal["subscribe"]
    session_id: uuid.UUID
    # Segments with seq > afterSeq are sent back; omitted = the whole stored transcript.
    after_seq: int | None = Field(default=None, ge=0, le=MAX_SEQ)


class UnsubscribeAction(_Action):
    action: Literal["unsubscribe"]
    session_id: uuid.UUID


class PingAction(_Action):
    action: Literal["ping"]


class TranscriptAction(_Action):
    action: Literal["transcript"]
    session_id: uuid.UUID
    segment: SegmentIn


# ---------------------------------------------------------------------------------------- server -> client


def _message(kind: str, session_id: uuid.UUID | str | None, **fields: Any) -> dict[str, Any]:
    return {"v": SCHEMA_VERSION, "type": kind, "sessionId": str(session_id) if session_id else None, **fields}


def encode(message: dict[str, Any]) -> bytes:
    """The frame as sent: compact UTF-8 JSON (non-ASCII text kept as is, it is shorter)."""
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False).encode()


def segment_out(
    seq: int,
    speaker: str,
    text: str,
    start_time: float | None,
    end_time: float | None,
    confidence: float | None,
    is_final: bool = True,
) -> dict[str, Any]:
    """The segment object of ``transcript.segment`` and ``transcript.backlog`` messages."""
    return {
        "seq": seq,
        "speaker": speaker,
        "text": text,
        "startTime": start_time,
        "endTime": end_time,
        "confidence": confidence,
        "isFinal": is_final,
    }


def segment_row_out(row: dict[str, Any]) -> dict[str, Any]:
    """A stored ``voice_transcript_segments`` row as a (final) wire segment."""
    return segment_out(
        row["seq"], row["speaker"], row["text"], row["start_time"], row["end_time"], row["confidence"]
    )


def subscribed(session_id: uuid.UUID, status: str, after_seq: int | None) -> dict[str, Any]:
    return _message("subscribed", session_id, status=status, afterSeq=after_seq)


def backlog(session_id: uuid.UUID, segments: list[dict[str, Any]], complete: bool) -> dict[str, Any]:
    return _message("transcript.backlog", session_id, segments=segments, complete=complete)


def unsubscribed(session_id: uuid.UUID) -> dict[str, Any]:
    return _message("unsubscribed", session_id)


def transcript_segment(session_id: uuid.UUID | str, segment: dict[str, Any]) -> dict[str, Any]:
    return _message("transcript.segment", session_id, segment=segment)


def session_status(
    session_id: uuid.UUID | str, status: str, reason: str | None = None, at: dt.datetime | None = None
) -> dict[str, Any]:
    when = (at or dt.datetime.now(dt.UTC)).isoformat().replace("+00:00", "Z")
    return _message("session.status", session_id, status=status, reason=reason, at=when)


def analytics_ready(session_id: uuid.UUID | str) -> dict[str, Any]:
    return _message("analytics.ready", session_id)


def ack(session_id: uuid.UUID, seq: int, *, stored: bool, duplicate: bool = False) -> dict[str, Any]:
    return _message("ack", session_id, seq=seq, stored=stored, duplicate=duplicate)


def pong(session_id: uuid.UUID | str | None = None) -> dict[str, Any]:
    return _message("pong", session_id)


def error(
    code: str,
    message: str,
    *,
    session_id: uuid.UUID | str | None = None,
    action: str | None = None,
    seq: int | None = None,
    details: list[dict[str, str]] | None = None,
) -> dict[str, Any]:
    """An error reply; ``action`` and ``seq`` say which request failed, ``details`` which fields."""
    body = _message("error", session_id, code=code, message=message, action=action)
    if seq is not None:
        body["seq"] = seq
    if details:
        body["details"] = details
    return body
