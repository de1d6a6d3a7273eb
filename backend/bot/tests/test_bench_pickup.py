"""The pickup benchmark runs end to end (moto SQS server + local HTTP server on 127.0.0.1)."""

from __future__ import annotations

import bench_pickup


async def test_bench_pickup_measures_every_run() -> None:
    result = await bench_pickup.bench(runs=3, warmup=0)
    assert result["runs"] == 3
    assert 0 < result["min"] <= result["p50"] <= result["p95"] <= result["max"] < 10_000
    assert result["outcomes"] == ["candidate_left"]
