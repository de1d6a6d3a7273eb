"""A short load smoke test (5 users, 5 s) against the contract stack: zero errors, every write kept.

The full load test is ``make bench`` (tests/bench/bench_load.py: 50 users for 60 s against the stack in
its own process); this one only proves the path works under concurrency in every ``make test``.
"""

from __future__ import annotations

import os

from tests.bench.bench_load import LoadTarget, run_load
from tests.contract.conftest import World

USERS = int(os.environ.get("LOAD_SMOKE_USERS", "5"))
SECONDS = float(os.environ.get("LOAD_SMOKE_SECONDS", "5"))


def test_concurrent_users_get_no_errors_and_every_acknowledged_write_is_kept(world: World) -> None:
    target = LoadTarget(
        rest_url=world.rest_url,
        org_id=world.orgs["acme"],
        config_id=world.ids["config"][0],
        member_tokens=[world.tokens["acmeMember"]],
        admin_tokens=[world.tokens["acmeAdmin"], world.tokens["acmeOwner"]],
    )
    result = run_load(target, USERS, SECONDS)
    summary = result.summary()
    print(f"\nload smoke: {summary}")
    assert result.errors == [], result.errors[:5]
    assert result.requests > 0 and summary["writes_acknowledged"] > 0
    assert result.missing_after == []
