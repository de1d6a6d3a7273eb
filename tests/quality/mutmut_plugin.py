"""Loaded into mutmut's pytest runs (``-p tests.quality.mutmut_plugin`` in ``[tool.mutmut]``).

mutmut runs pytest several times in one process (stats, clean run) and forks each mutant's run from it.
Each run gets a fresh test database (tests/fixtures/db.py), but the per-container state of the code under
test would still be the previous run's: the cached database connection and URL (a dropped database),
settings, AWS clients and secrets (a stopped moto server), and the thread pools of realtime, daily and
health, whose threads do not survive a fork (work submitted to them would wait forever). A Lambda
container never lives through that; a test process under mutmut does, so it is reset before every run.
"""

from __future__ import annotations

import pytest


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    from access_common import db
    from access_common.aws import reset_clients
    from voice_common import bot_token, credentials, realtime
    from voice_common.api import health
    from voice_common.integrations import daily
    from voice_common.settings import get_settings

    db.reset_connection()
    reset_clients()
    bot_token.reset_secret_cache()
    get_settings.cache_clear()
    credentials.forget_cached_key(None)
    for module in (realtime, daily, health):
        module._executor = None  # type: ignore[attr-defined]  # a forked child has none of its threads
