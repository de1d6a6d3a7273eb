"""Start latency and pool pickup on the local stack (embedded PostgreSQL, moto, Daily stand-in).

- start: ``POST /sessions/{id}/start`` through the real voice-sessions handler (in process, as the
  gateway runs it), on the cold path (ECS run_task) and the pool path (SQS), minus the time spent waiting
  for the Daily stand-in (``integrations.daily.stats``): our own work, including the database and AWS.
- pool pickup: from the start's dispatch (``dispatched_at``) to the simulated standby bot's ``joined``
  call (``bot_joined_at``, both database clock), with the bot joining as soon as it has the request.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import statistics
import tempfile
import time
from typing import Any

N_STARTS = int(os.environ.get("BENCH_START_N", "40"))
N_PICKUPS = int(os.environ.get("BENCH_PICKUP_N", "20"))
WARMUP = 3
START_TARGET_MS = 300.0
PICKUP_TARGET_MS = 1000.0


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))]


def _event(session_id: str, user: dict[str, Any]) -> dict[str, Any]:
    from tests.fixtures.api import rest_event

    return rest_event(
        "POST",
        f"/api/voice/sessions/{session_id}/start",
        resource="/api/voice/sessions/{id}/start",
        path_params={"id": session_id},
        user=user["id"],
        email=user["email"],
    )


def _new_sessions(database_url: str, org: str, user: str, config: str, n: int) -> list[str]:
    import psycopg

    with psycopg.connect(database_url, autocommit=True) as conn:
        return [
            str(
                conn.execute(
                    "INSERT INTO public.voice_sessions (org_id, interview_type, config_id, created_by)"
                    " VALUES (%s, 'technical', %s, %s) RETURNING id",
                    (org, config, user),
                ).fetchone()[0]  # type: ignore[index]
            )
            for _ in range(n)
        ]


def _starts(handler: Any, ids: list[str], user: dict[str, Any]) -> tuple[list[float], list[float]]:
    """(own work ms, Daily wait ms) per start, without the warm-up calls."""
    from voice_common.integrations import daily
    from voice_local.lambdas import lambda_context

    own: list[float] = []
    waited: list[float] = []
    for sid in ids:
        daily.stats.reset()
        started = time.perf_counter()
        result = handler(_event(sid, user), lambda_context("voice-sessions"))
        elapsed = time.perf_counter() - started
        assert result["statusCode"] == 200, result["body"]
        own.append((elapsed - daily.stats.seconds) * 1000)
        waited.append(daily.stats.seconds * 1000)
    skip = WARMUP if len(own) > WARMUP else 0
    return own[skip:], waited[skip:]


def run() -> list[dict[str, Any]]:
    overrides = {
        "POWERTOOLS_LOG_LEVEL": os.environ.get("POWERTOOLS_LOG_LEVEL", "WARNING"),  # figures, not log lines
        "VOICE_MAX_CONCURRENT_SESSIONS": "100000",
        "VOICE_POOL_PICKUP_TIMEOUT_SECONDS": "900",
        "VOICE_STANDBY_POOL_SIZE": "1000",  # the queue depth never sends a bench start to ECS
    }
    saved = {k: os.environ.get(k) for k in overrides}
    os.environ.update(overrides)
    try:
        return _run()
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _run() -> list[dict[str, Any]]:
    from voice_common import dispatch
    from voice_common.settings import get_settings
    from voice_local.lambdas import load_lambda
    from voice_local.sim_bot import SimBotFleet, SimSettings
    from voice_local.testing import running_stack

    get_settings.cache_clear()
    rows: list[dict[str, Any]] = []
    original_clock = dispatch.utcnow
    with tempfile.TemporaryDirectory(prefix="bench-start-") as tmp, running_stack(data_dir=tmp) as stack:
        assert stack.database_url and stack.seeded
        org = stack.seeded["orgs"]["acme"]["id"]
        user = stack.seeded["users"]["acme_member"]
        config = stack.seeded["configs"]["acme_sample"]["id"]
        handler = load_lambda("voice-sessions")
        try:
            for mode, moment in (
                ("task", dt.datetime(2025, 6, 14, 14, 0, tzinfo=dt.UTC)),  # Saturday: ECS
                ("pool", dt.datetime(2025, 6, 11, 14, 0, tzinfo=dt.UTC)),  # Wednesday 10:00 New York: pool
            ):
                dispatch.utcnow = lambda m=moment: m  # type: ignore[misc]
                ids = _new_sessions(stack.database_url, org, user["id"], config, N_STARTS + WARMUP)
                own, waited = _starts(handler, ids, user)
                p95 = _pct(own, 95)
                rows += [
                    {
                        "area": "orchestration",
                        "metric": f"start ({mode}) own work p50",
                        "value": _pct(own, 50),
                        "unit": "ms",
                        "target": None,
                        "ok": None,
                    },
                    {
                        "area": "orchestration",
                        "metric": f"start ({mode}) own work p95",
                        "value": p95,
                        "unit": "ms",
                        "target": f"<= {START_TARGET_MS:.0f} ms",
                        "ok": p95 <= START_TARGET_MS,
                    },
                    {
                        "area": "orchestration",
                        "metric": f"start ({mode}) Daily stand-in wait (subtracted)",
                        "value": statistics.mean(waited),
                        "unit": "ms",
                        "target": None,
                        "ok": None,
                    },
                ]
            # Pool pickup with a simulated standby bot that joins as soon as it has the request.
            fleet = SimBotFleet(
                aws_endpoint=stack.aws_endpoint,
                standby_queue_url=stack.environment["STANDBY_QUEUE_URL"],
                cluster=None,
                pool_size=2,
                settings=SimSettings(heartbeat_interval=5.0, join_delay=0.0, segment_interval=0.0),
            )
            import boto3

            sqs = boto3.client("sqs", endpoint_url=stack.aws_endpoint)
            sqs.purge_queue(QueueUrl=stack.environment["STANDBY_QUEUE_URL"])  # the start runs' requests
            fleet.start()
            ids = _new_sessions(stack.database_url, org, user["id"], config, N_PICKUPS)
            for sid in ids:
                _starts(handler, [sid], user)
                deadline = time.monotonic() + 10
                while time.monotonic() < deadline and not any(
                    i.session_id == sid and i.joined_at for i in fleet.interviews
                ):
                    time.sleep(0.01)
            fleet.stop()
            pickups = _pickups(stack.database_url, ids)
            p95 = _pct(pickups, 95)
            rows += [
                {
                    "area": "orchestration",
                    "metric": "pool message -> bot joined p50",
                    "value": _pct(pickups, 50),
                    "unit": "ms",
                    "target": None,
                    "ok": None,
                },
                {
                    "area": "orchestration",
                    "metric": "pool message -> bot joined p95",
                    "value": p95,
                    "unit": "ms",
                    "target": f"<= {PICKUP_TARGET_MS:.0f} ms",
                    "ok": p95 <= PICKUP_TARGET_MS and len(pickups) == len(ids),
                },
            ]
        finally:
            dispatch.utcnow = original_clock  # type: ignore[assignment]
            get_settings.cache_clear()
    print(json.dumps({r["metric"]: round(r["value"], 1) for r in rows}))
    return rows


def _pickups(database_url: str, ids: list[str]) -> list[float]:
    import psycopg

    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT extract(epoch FROM bot_joined_at - dispatched_at) * 1000 FROM public.voice_sessions"
            " WHERE id = ANY(%s) AND bot_joined_at IS NOT NULL",
            (ids,),
        ).fetchall()
    return [float(r[0]) for r in rows]
