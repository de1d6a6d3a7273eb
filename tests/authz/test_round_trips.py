"""Reads cost at most two database round trips (BEGIN+claims+query pipelined, then COMMIT).

Every GET route of module.json is called once warm through its real handler (tests/bench/bench_latency.py
does the same with timings for ``make bench``), counting ``access_common.db.round_trips``.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.bench.bench_latency import READ_ROUND_TRIPS_TARGET, measure_routes


@pytest.mark.usefixtures("aws_env")
def test_every_read_route_takes_at_most_two_round_trips(admin_conn: Any, database_url: str) -> None:
    results = measure_routes(admin_conn, n=3, reads_only=True)
    gets = {r["route"] for r in results}
    from tests.authz.matrix import module_routes

    assert gets == {f"GET {p}" for _, m, p in module_routes() if m == "GET"}
    for r in results:
        assert all(200 <= s < 300 for s in r["statuses"]), r
    over = {
        r["route"]: r["round_trips_max"] for r in results if r["round_trips_max"] > READ_ROUND_TRIPS_TARGET
    }
    assert not over, f"reads over {READ_ROUND_TRIPS_TARGET} round trips: {over}"
