"""Helpers of the completion suite: segments, scripted model answers, the worker Lambda fed from SQS."""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from tests.fakes.openai_server import Recorded, Reply

LINE = re.compile(r"^\[(\d+(?:\.\d+)?)\] (Interviewer|Candidate): (.*)$")


def insert_segments(conn: Any, session_id: Any, rows: Iterable[tuple[int, str, str, float, float]]) -> None:
    """Persist segments as the bot path does (org_id is filled in by the database from the session)."""
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO public.voice_transcript_segments"
            " (session_id, seq, speaker, text, start_time, end_time, confidence)"
            " VALUES (%s, %s, %s, %s, %s, %s, 0.93)",
            [(session_id, seq, speaker, text, start, end) for seq, speaker, text, start, end in rows],
        )


INTERVIEW = [
    (1, "bot", "Hello, welcome to your interview. Tell me about a system you built.", 0.0, 4.0),
    (2, "candidate", "I built a payment ledger that processed ten thousand writes per second.", 5.0, 11.0),
    (3, "candidate", "We used Postgres with careful partitioning and idempotency keys.", 11.0, 16.0),
    (4, "bot", "How did you test failure modes?", 17.0, 19.0),
    (5, "candidate", "I'm not entirely sure we covered network partitions well enough.", 21.0, 26.0),
    (6, "bot", "Thank you, that is all for today.", 27.0, 30.0),
]


def sixty_minute_interview(words_target: int = 10_000) -> list[tuple[int, str, str, float, float]]:
    """About ``words_target`` words over 60 minutes: 15 s interviewer turns, 45 s candidate answers."""
    sentence = (
        "we had a queue in front of the main database and when the load went up I added more workers "
        "but the real fix was to batch the writes so each request did less work and the latency dropped"
    )
    vocabulary = sentence.split(" ")
    size = len(vocabulary)
    rows: list[tuple[int, str, str, float, float]] = []
    seq, t, words, n = 0, 0.0, 0, 0
    while t < 3600.0 - 60.0:
        seq += 1
        topic = vocabulary[(n * 5) % size]
        rows.append(
            (seq, "bot", f"Question {n + 1}: what did you learn about {topic} in that project?", t, t + 15)
        )
        t += 16
        for part in range(3):  # an answer in three segments
            seq += 1
            text = " ".join(vocabulary[(n * 7 + part * 3 + i) % size] for i in range(50))
            text = f"In answer {n + 1} part {part + 1} {text}."
            rows.append((seq, "candidate", text, t, t + 14.5))
            words += len(text.split())
            t += 15
        n += 1
    assert words >= words_target * 0.9, words
    return rows


def transcript_lines(request: Recorded) -> list[tuple[float, str, str]]:
    """``(seconds, speaker, text)`` of the transcript lines the client put into a prompt."""
    out = []
    for line in request.text().splitlines():
        m = LINE.match(line.strip())
        if m:
            out.append((float(m.group(1)), m.group(2), m.group(3)))
    return out


@dataclass
class Analyst:
    """A scripted "model" that answers each kind of prompt the analysis sends, quoting what it was shown."""

    scores: dict[str, float]
    bad_moments: Sequence[dict[str, Any]] = ()
    reground: Sequence[dict[str, Any]] | None = None  # the answer to a re-ask; None = quote from the excerpt
    notes_summary: str = "A part of the interview."

    def __call__(self, request: Recorded) -> Reply:
        prompt = request.messages[-1]["content"]
        if prompt.startswith("These key moments cite quotes"):
            if self.reground is not None:
                return Reply.json({"key_moments": list(self.reground)})
            return Reply.json({"key_moments": self._moments(request, 1)})
        if prompt.startswith("This is part"):
            return Reply.json(
                {
                    "summary": self.notes_summary,
                    "evidence": {name: "some evidence" for name in self.scores},
                    "strengths": ["depth"],
                    "concerns": [],
                    "key_moments": self._moments(request, 2),
                },
                prompt_tokens=len(prompt) // 4,
            )
        if prompt.startswith("Merge these notes"):
            notes = json.loads(prompt.split("<transcript>\n", 1)[1].split("\n</transcript>", 1)[0])
            moments = [m for n in notes for m in n["key_moments"]][:8]
            return Reply.json(
                {"summary": "merged", "evidence": {}, "strengths": [], "concerns": [], "key_moments": moments}
            )
        return Reply.json(self.final(request), prompt_tokens=len(prompt) // 4)

    def _moments(self, request: Recorded, n: int) -> list[dict[str, Any]]:
        candidate = [(t, text) for t, who, text in transcript_lines(request) if who == "Candidate"]
        return [
            {
                "timestamp": t,
                "type": "strength",
                "description": "A clear statement",
                "quote": " ".join(text.split()[:6]),
            }
            for t, text in candidate[:n]
        ]

    def final(self, request: Recorded) -> dict[str, Any]:
        prompt = request.messages[-1]["content"]
        if "notes taken on consecutive parts" in prompt:
            notes = json.loads(prompt.split("<transcript>\n", 1)[1].split("\n</transcript>", 1)[0])
            moments = [m for n in notes for m in n["key_moments"]][:4]
        else:
            moments = self._moments(request, 2)
        return {
            "summary": "The candidate explained a ledger design clearly.",
            "overall_score": 99,  # ignored: the overall is computed from the weighted categories
            "category_scores": {k: {"score": v, "feedback": f"{k} feedback"} for k, v in self.scores.items()},
            "strengths": ["Clear explanations"],
            "weaknesses": ["Thin on failure testing"],
            "recommendations": ["Follow up on distributed systems"],
            "key_moments": [*moments, *self.bad_moments],
        }


def sqs_event(
    messages: Sequence[dict[str, Any]], queue_arn: str = "arn:aws:sqs:us-east-1:123456789012:q"
) -> dict:
    """The event Lambda's SQS integration delivers for received messages."""
    return {
        "Records": [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m.get("ReceiptHandle", "rh"),
                "body": m["Body"],
                "attributes": {
                    "ApproximateReceiveCount": str(
                        m.get("Attributes", {}).get("ApproximateReceiveCount", "1")
                    ),
                    "SentTimestamp": "0",
                    "SenderId": "test",
                    "ApproximateFirstReceiveTimestamp": "0",
                },
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": "us-east-1",
            }
            for m in messages
        ]
    }


class Worker:
    """The voice-worker Lambda fed from a queue exactly like the SQS event source mapping does."""

    def __init__(self, sqs: Any, queue_url: str) -> None:
        self.sqs = sqs
        self.queue_url = queue_url

    def receive(self, wait: float = 0) -> list[dict[str, Any]]:
        resp = self.sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=10,
            WaitTimeSeconds=int(wait),
            VisibilityTimeout=0,
            AttributeNames=["ApproximateReceiveCount"],
        )
        return list(resp.get("Messages", []))

    def invoke(self, messages: Sequence[dict[str, Any]]) -> dict[str, Any]:
        from voice_local.lambdas import invoke_lambda, lambda_context

        result = invoke_lambda(
            "voice-worker", sqs_event(messages), context=lambda_context("voice-worker", timeout_seconds=60)
        )
        failed = {f["itemIdentifier"] for f in result.get("batchItemFailures", [])}
        for m in messages:  # the event source mapping deletes what succeeded
            if m["MessageId"] not in failed:
                self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=m["ReceiptHandle"])
        return result

    def drain(self, rounds: int = 6) -> list[dict[str, Any]]:
        """Process messages until the queue is empty (completion -> analytics chain); returns the results."""
        results = []
        for _ in range(rounds):
            messages = self.receive()
            if not messages:
                break
            results.append(self.invoke(messages))
        return results

    def bodies(self) -> list[dict[str, Any]]:
        """Receive (and leave in the queue) the pending job bodies."""
        return [json.loads(m["Body"]) for m in self.receive()]


def new_name(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(4)}"
