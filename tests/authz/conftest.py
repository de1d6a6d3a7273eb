"""The authorization tests leave no live session behind.

Each cell creates its own org (``Scene``), so nothing is shared between tests; but jobs that look at
every session of the database (the bot watchdog, in tests/integration/orchestration) would also see
the ready and active sessions the cells created. They are cancelled when the package is done.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(scope="package", autouse=True)
def _end_live_sessions(database_url: str) -> Iterator[None]:
    yield
    import psycopg

    from tests.authz.cases import Scene

    if not Scene.created_orgs:
        return
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(
            "UPDATE public.voice_sessions SET status = 'cancelled'"
            " WHERE org_id = ANY(%s) AND status IN ('pending', 'ready', 'active')",
            (list(Scene.created_orgs),),
        )
    Scene.created_orgs.clear()
