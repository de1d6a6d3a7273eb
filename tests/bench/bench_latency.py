"""Warm latency and database round trips per request, for every REST route, in process.

Each route of module.json is called through its real Lambda handler (an API Gateway event, as the local
gateway builds it) against the local stack's PostgreSQL and moto: a few warm-up calls, then
``BENCH_LATENCY_N`` (default 50) measured calls. The request and the resources it needs come from the
authorization matrix's cases (tests/authz/cases.py), as the first caller the matrix allows (admin, owner,
member, platform admin or the bot); set-up (creating the row a DELETE removes) is not timed.

Reported per route: p50 and p99 in ms, and database round trips per request
(``access_common.db.round_trips``: statements whose results were awaited, including BEGIN/COMMIT).
Targets: reads (GET) <= 2 round trips and p50 <= 5 ms. Routes that call a stand-in for an external
service (Daily, providers, TTS) include that call.
"""

from __future__ import annotations

import json
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from typing import Any

N = int(os.environ.get("BENCH_LATENCY_N", "50"))
WARMUP = 5
READ_P50_TARGET_MS = 5.0
READ_ROUND_TRIPS_TARGET = 2
CALLER_PREFERENCE = ("admin", "owner", "member", "platform", "bot")


class _Response:
    def __init__(self, status: int, body: Any) -> None:
        self.status = status
        self.body = body

    @property
    def data(self) -> Any:
        return self.body.get("data") if isinstance(self.body, dict) else None


def _invoker() -> Callable[..., _Response]:
    """What the tests' ``invoke`` fixture does: the route's real handler with a REST proxy event."""
    from tests.fixtures.api import rest_event
    from voice_local.lambdas import lambda_context, load_lambda
    from voice_local.routes import match_route

    def invoke(lambda_name: str, method: str, path: str, **kwargs: Any) -> _Response:
        found = match_route(method, path)
        resource, params = (found[1], found[2]) if found else (path, {})
        event = rest_event(method, path, resource=resource, path_params=params or None, **kwargs)
        result = load_lambda(lambda_name)(event, lambda_context(lambda_name))
        raw = result.get("body")
        return _Response(int(result["statusCode"]), json.loads(raw) if raw else None)

    return invoke


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))]


def measure_routes(conn: Any, n: int = N, *, reads_only: bool = False) -> list[dict[str, Any]]:
    """One result per matrix row whose route some caller may use: latency samples and round trips."""
    from access_common import db
    from access_common.jwt import mint_user_jwt
    from tests.authz.cases import CASES, Scene
    from tests.authz.matrix import load, module_routes
    from voice_common import bot_token

    invoke = _invoker()
    lambdas = {f"{m} {p}": name for name, m, p in module_routes()}
    _, rows = load()
    results: list[dict[str, Any]] = []
    seen: set[str] = set()
    for row in rows:
        if row.route in seen or row.variant in ("own",) or (reads_only and row.method != "GET"):
            continue
        caller = next((c for c in CALLER_PREFERENCE if 200 <= row.expect[c] < 300), None)
        if caller is None:
            continue
        seen.add(row.route)
        scene = Scene.new(conn, invoke)
        user = scene.user(caller)
        timings: list[float] = []
        trips: list[int] = []
        statuses: set[int] = set()
        for i in range(WARMUP + n):
            request = CASES[row.case](scene)
            headers: dict[str, str] = {}
            if user is not None:
                token = mint_user_jwt(str(user.id), user.email, secret=os.environ["SUPABASE_JWT_SECRET"])
                headers["Authorization"] = f"Bearer {token}"
            else:
                headers["Authorization"] = (
                    f"Bearer {bot_token.issue(request.bot_session or uuid.uuid4(), 600)}"
                )
            before = db.round_trips
            started = time.perf_counter()
            response = invoke(
                lambdas[row.route],
                row.method,
                request.path,
                user=user,
                query=request.query,
                body=request.body,
                headers=headers,
            )
            elapsed = (time.perf_counter() - started) * 1000
            if i >= WARMUP:
                timings.append(elapsed)
                trips.append(db.round_trips - before)
                statuses.add(response.status)
        results.append(
            {
                "route": row.route,
                "caller": caller,
                "p50": _pct(timings, 50),
                "p99": _pct(timings, 99),
                "round_trips": statistics.median(trips),
                "round_trips_max": max(trips),
                "statuses": sorted(statuses),
                "expected": row.expect[caller],
            }
        )
    return results


def rows_from(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for r in results:
        route = r["route"].replace("/api/voice", "")
        read = r["route"].startswith("GET ") and not r["route"].endswith("/health")
        ok_status = all(200 <= s < 300 for s in r["statuses"])
        rows.append(
            {
                "area": "latency warm p50",
                "metric": route,
                "value": r["p50"],
                "unit": "ms",
                "target": f"<= {READ_P50_TARGET_MS:.0f} ms" if read else None,
                "ok": (r["p50"] <= READ_P50_TARGET_MS and ok_status) if read else (ok_status or None),
                "detail": r,
            }
        )
    for r in results:
        rows.append(
            {
                "area": "latency warm p99",
                "metric": r["route"].replace("/api/voice", ""),
                "value": r["p99"],
                "unit": "ms",
                "target": None,
                "ok": None,
            }
        )
    for r in results:
        read = r["route"].startswith("GET ") and not r["route"].endswith("/health")
        rows.append(
            {
                "area": "db round trips",
                "metric": r["route"].replace("/api/voice", ""),
                "value": r["round_trips"],
                "unit": "per req",
                "target": f"<= {READ_ROUND_TRIPS_TARGET}" if read else None,
                "ok": (r["round_trips_max"] <= READ_ROUND_TRIPS_TARGET) if read else None,
            }
        )
    return rows


def run() -> list[dict[str, Any]]:
    import psycopg
    from psycopg.rows import dict_row

    from tests.fakes.providers import FakeProviders
    from voice_common import bot_token
    from voice_common.settings import get_settings
    from voice_local.testing import running_stack

    overrides = {
        "POWERTOOLS_LOG_LEVEL": os.environ.get("POWERTOOLS_LOG_LEVEL", "WARNING"),
        "VOICE_MAX_CONCURRENT_SESSIONS": "100000",
        "VOICE_PREVIEW_RATE_LIMIT_PER_MINUTE": "100000",
        "PROVIDER_RETRY_BACKOFF_SECONDS": "0.01",
    }
    saved = {k: os.environ.get(k) for k in overrides}
    os.environ.update(overrides)
    try:
        with FakeProviders() as providers:
            for key, value in providers.env().items():
                if key != "DAILY_API_URL":
                    saved.setdefault(key, os.environ.get(key))
                    os.environ[key] = value
            with (
                tempfile.TemporaryDirectory(prefix="bench-latency-") as tmp,
                running_stack(data_dir=tmp) as stack,
            ):
                get_settings.cache_clear()
                bot_token.reset_secret_cache()
                assert stack.database_url
                with psycopg.connect(stack.database_url, autocommit=True, row_factory=dict_row) as conn:
                    results = measure_routes(conn)
    finally:
        get_settings.cache_clear()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    for r in results:
        print(
            f"   {r['route']:55} {r['caller']:8} p50 {r['p50']:7.2f} p99 {r['p99']:7.2f} ms  "
            f"trips {r['round_trips']:.0f} (max {r['round_trips_max']})  {r['statuses']}",
            flush=True,
        )
    return rows_from(results)
