"""Transcript assembly: persisted segments -> the ``voice_transcripts`` row and its S3 archive.

The bot persists each final utterance in ``voice_transcript_segments`` (unique per session and seq)
before it is pushed live. After the session ends the segments are put in conversation order, cleaned
of re-sent duplicates and turned into the transcript (ARCHITECTURE decision 9):

- order: by ``start_time``, ties by ``seq``; a missing start time takes the previous segment's end,
  because the bot numbers segments in emission order and speech-to-text may finalise a candidate's
  utterance after the bot already answered (seq order is not always conversation order);
- duplicates: the same ``seq`` twice, or the same speaker saying the same (normalised) text with start
  times within ``DUPLICATE_WINDOW_SECONDS`` (a segment re-sent under a new seq after a reconnect);
- ``speaker_segments`` keeps the seed's shape (speaker, text, start_time, end_time, confidence);
  ``transcript_text`` has one line per turn, ``[mm:ss] Interviewer|Candidate: text``.

The archive is the transcript JSON at ``transcripts/{org}/{yyyy}/{mm}/{dd}/{session}.json`` (date of the
session's end), server-side encrypted, with org and session ids as object metadata. Its SHA-256 is kept
in the row's metadata: re-running the step with the same segments writes nothing (no S3 version, no
row update), which makes the SQS job safe to deliver twice.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import unicodedata
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from access_common.db import Cursor

ARCHIVE_SCHEMA_VERSION = 1
DUPLICATE_WINDOW_SECONDS = 1.0
SPEAKER_LABELS = {"bot": "Interviewer", "candidate": "Candidate"}
FINAL_FOR_ASSEMBLY = frozenset({"completed", "failed"})

_NON_WORD = re.compile(r"[^\w]+", re.UNICODE)


def normalize_text(text: str) -> str:
    """Case-, punctuation- and whitespace-insensitive form used for duplicate and quote matching.

    NFKC folds typographic variants (curly quotes, ligatures); everything that is not a letter or
    digit becomes a single space, so "I'm  sure," and "i m sure" compare equal.
    """
    folded = unicodedata.normalize("NFKC", text).casefold().replace("_", " ")
    return _NON_WORD.sub(" ", folded).strip()


@dataclass(frozen=True, slots=True)
class Segment:
    seq: int
    speaker: str  # "bot" | "candidate"
    text: str
    start_time: float
    end_time: float
    confidence: float | None = None

    @property
    def duration(self) -> float:
        return max(0.0, self.end_time - self.start_time)

    def to_json(self) -> dict[str, Any]:
        """The seed's speaker-segment shape (data model 1.2)."""
        return {
            "speaker": self.speaker,
            "text": self.text,
            "start_time": self.start_time,
            "end_time": self.end_time,
            "confidence": self.confidence,
        }


def _num(value: Any) -> float | None:
    return None if value is None else float(value)


def order_segments(rows: Iterable[Mapping[str, Any]]) -> tuple[list[Segment], int]:
    """Conversation-ordered, de-duplicated segments and the number of duplicates dropped."""
    by_seq: dict[int, Mapping[str, Any]] = {}
    dropped = 0
    for row in rows:
        seq = int(row["seq"])
        if seq in by_seq:
            dropped += 1
            continue
        by_seq[seq] = row
    filled: list[Segment] = []
    clock = 0.0
    for seq in sorted(by_seq):
        row = by_seq[seq]
        text = str(row.get("text") or "").strip()
        if not text:
            dropped += 1
            continue
        start = _num(row.get("start_time"))
        start = clock if start is None else start
        end = _num(row.get("end_time"))
        end = start if end is None or end < start else end
        clock = max(clock, end)
        filled.append(Segment(seq, str(row["speaker"]), text, start, end, _num(row.get("confidence"))))
    filled.sort(key=lambda s: (s.start_time, s.seq))
    out: list[Segment] = []
    last_seen: dict[tuple[str, str], float] = {}
    for seg in filled:
        key = (seg.speaker, normalize_text(seg.text))
        seen_at = last_seen.get(key)
        if seen_at is not None and abs(seg.start_time - seen_at) <= DUPLICATE_WINDOW_SECONDS:
            dropped += 1
            continue
        last_seen[key] = seg.start_time
        out.append(seg)
    return out, dropped


def _clock(seconds: float) -> str:
    total = int(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


def turns(segments: Sequence[Segment]) -> list[tuple[str, float, float, list[Segment]]]:
    """Consecutive segments of one speaker: ``(speaker, start, end, segments)``."""
    out: list[tuple[str, float, float, list[Segment]]] = []
    for seg in segments:
        if out and out[-1][0] == seg.speaker:
            speaker, start, end, members = out[-1]
            members.append(seg)
            out[-1] = (speaker, start, max(end, seg.end_time), members)
        else:
            out.append((seg.speaker, seg.start_time, seg.end_time, [seg]))
    return out


def transcript_text(segments: Sequence[Segment]) -> str:
    lines = []
    for speaker, start, _end, members in turns(segments):
        label = SPEAKER_LABELS.get(speaker, speaker.title())
        lines.append(f"[{_clock(start)}] {label}: " + " ".join(s.text for s in members))
    return "\n".join(lines)


def word_count(segments: Sequence[Segment]) -> int:
    return sum(len(s.text.split()) for s in segments)


@dataclass(frozen=True)
class Assembled:
    segments: list[Segment]
    duplicates_dropped: int
    text: str
    word_count: int
    duration_seconds: float

    @property
    def speaker_segments(self) -> list[dict[str, Any]]:
        return [s.to_json() for s in self.segments]


def assemble(rows: Iterable[Mapping[str, Any]]) -> Assembled:
    """Pure assembly of raw segment rows (no I/O; what the benchmark times)."""
    segments, dropped = order_segments(rows)
    duration = (max(s.end_time for s in segments) - segments[0].start_time) if segments else 0.0
    return Assembled(segments, dropped, transcript_text(segments), word_count(segments), round(duration, 3))


# --- the archive document -------------------------------------------------------------------------------


def _iso(value: Any) -> str | None:
    return value.isoformat() if isinstance(value, dt.datetime | dt.date) else (str(value) if value else None)


def archive_document(session: Mapping[str, Any], assembled: Assembled) -> dict[str, Any]:
    """The archived transcript. Deterministic for the same input (no "archived at"), so its hash is stable."""
    return {
        "schemaVersion": ARCHIVE_SCHEMA_VERSION,
        "sessionId": str(session["id"]),
        "orgId": str(session["org_id"]),
        "candidateName": session.get("candidate_name"),
        "interviewType": session.get("interview_type"),
        "sessionStatus": session.get("status"),
        "startedAt": _iso(session.get("started_at")),
        "completedAt": _iso(session.get("completed_at")),
        "durationSeconds": assembled.duration_seconds,
        "wordCount": assembled.word_count,
        "segmentCount": len(assembled.segments),
        "transcriptText": assembled.text,
        "speakerSegments": assembled.speaker_segments,
    }


def canonical_json(doc: Mapping[str, Any]) -> bytes:
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode()


def archive_key(org_id: Any, session_id: Any, when: dt.datetime) -> str:
    day = when.astimezone(dt.UTC) if when.tzinfo else when
    return f"transcripts/{org_id}/{day:%Y}/{day:%m}/{day:%d}/{session_id}.json"


def archive_date(session: Mapping[str, Any]) -> dt.datetime:
    """The session's end (or start, or creation): stable across re-runs, unlike ``now()``."""
    for column in ("completed_at", "started_at", "created_at"):
        value = session.get(column)
        if isinstance(value, dt.datetime):
            return value
    return dt.datetime.now(dt.UTC)


def parse_s3_url(url: str) -> tuple[str, str]:
    """``s3://bucket/key`` -> (bucket, key); ValueError for anything else."""
    if not url.startswith("s3://"):
        raise ValueError("not an s3:// URL")
    bucket, _, key = url[5:].partition("/")
    if not bucket or not key:
        raise ValueError("s3 URL without bucket or key")
    return bucket, key


def transcript_bucket() -> str:
    bucket = os.environ.get("TRANSCRIPT_BUCKET")
    if not bucket:
        from access_common.errors import ServiceUnavailableError

        raise ServiceUnavailableError(
            "Transcript bucket is not configured", code="TRANSCRIPT_BUCKET_NOT_CONFIGURED"
        )
    return bucket


def put_archive(bucket: str, key: str, body: bytes, org_id: str, session_id: str) -> None:
    """Write the archive with SSE (KMS when ``TRANSCRIPT_KMS_KEY_ID`` is set, else S3-managed AES-256)."""
    from access_common.aws import client

    encryption: dict[str, str] = {"ServerSideEncryption": "AES256"}
    kms_key = os.environ.get("TRANSCRIPT_KMS_KEY_ID")
    if kms_key:
        encryption = {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": kms_key}
    client("s3").put_object(
        Bucket=bucket,
        Key=key,
        Body=body,
        ContentType="application/json",
        Metadata={"org_id": org_id, "session_id": session_id},
        **encryption,
    )


# --- database -------------------------------------------------------------------------------------------


def load_session(cur: Cursor, session_id: uuid.UUID | str) -> dict[str, Any] | None:
    """The session with its configuration document (service_role: the worker runs for every org)."""
    cur.execute(
        """
        SELECT s.id, s.org_id, s.status, s.candidate_name, s.interview_type, s.config_id, s.created_by,
               s.started_at, s.completed_at, s.created_at, s.duration_seconds, c.config_json
          FROM public.voice_sessions s
          LEFT JOIN public.voice_configs c ON c.id = s.config_id
         WHERE s.id = %s
        """,
        (session_id,),
    )
    return cur.fetchone()


def load_segment_rows(cur: Cursor, session_id: uuid.UUID | str) -> list[dict[str, Any]]:
    cur.execute(
        """
        SELECT seq, speaker, text, start_time, end_time, confidence
          FROM public.voice_transcript_segments WHERE session_id = %s ORDER BY seq
        """,
        (session_id,),
    )
    return cur.fetchall()


def load_transcript(cur: Cursor, session_id: uuid.UUID | str) -> dict[str, Any] | None:
    cur.execute(
        """
        SELECT id, transcript_s3_url, speaker_segments, metadata, word_count, created_at
          FROM public.voice_transcripts WHERE session_id = %s
        """,
        (session_id,),
    )
    return cur.fetchone()


def upsert_transcript(
    cur: Cursor,
    session: Mapping[str, Any],
    assembled: Assembled,
    s3_url: str,
    metadata: Mapping[str, Any],
) -> tuple[uuid.UUID, bool]:
    """Insert or update the session's transcript; ``(id, changed)``. An unchanged hash writes nothing.

    ``summary`` is not touched: it belongs to the analytics step.
    """
    cur.execute(
        """
        INSERT INTO public.voice_transcripts AS t
               (org_id, session_id, transcript_text, transcript_s3_url, candidate_name, interview_type,
                word_count, speaker_segments, metadata, created_by)
        VALUES (%(org)s, %(session)s, %(text)s, %(url)s, %(name)s, %(type)s, %(words)s, %(segments)s,
                %(metadata)s, %(created_by)s)
        ON CONFLICT (session_id) DO UPDATE
           SET transcript_text = EXCLUDED.transcript_text,
               transcript_s3_url = EXCLUDED.transcript_s3_url,
               candidate_name = EXCLUDED.candidate_name,
               interview_type = EXCLUDED.interview_type,
               word_count = EXCLUDED.word_count,
               speaker_segments = EXCLUDED.speaker_segments,
               metadata = t.metadata || EXCLUDED.metadata
         WHERE t.metadata->>'content_sha256' IS DISTINCT FROM EXCLUDED.metadata->>'content_sha256'
            OR t.transcript_s3_url IS DISTINCT FROM EXCLUDED.transcript_s3_url
        RETURNING id
        """,
        {
            "org": session["org_id"],
            "session": session["id"],
            "text": assembled.text,
            "url": s3_url,
            "name": session.get("candidate_name"),
            "type": session.get("interview_type"),
            "words": assembled.word_count,
            "segments": json.dumps(assembled.speaker_segments),
            "metadata": json.dumps(dict(metadata), default=str),
            "created_by": session["created_by"],
        },
    )
    row = cur.fetchone()
    if row is not None:
        return row["id"], True
    cur.execute("SELECT id FROM public.voice_transcripts WHERE session_id = %s", (session["id"],))
    existing = cur.fetchone()
    assert existing is not None  # the conflict that skipped the update is this row
    return existing["id"], False
