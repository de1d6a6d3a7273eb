"""Loaded into mutmut's pytest runs (``-p tests.quality.mutmut_plugin`` in ``[tool.mutmut]``).

mutmut runs pytest several times in one process (stats, clean run) and forks mutant runs from it. Each run
gets a fresh test database (tests/fixtures/db.py), but the per-container state of the code under test (the
cached database connection and URL, settings, AWS clients, the bot-token secret) would still point at the
previous run's, already dropped, database and moto server. A Lambda container never sees two databases;
a test process under mutmut does, so the state is reset at the start of every run.
"""

from __future__ import annotations

import pytest


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    from access_common import db
    from access_common.aws import reset_clients
    from voice_common import bot_token, credentials
    from voice_common.settings import get_settings

    db.reset_connection()
    reset_clients()
    bot_token.reset_secret_cache()
    get_settings.cache_clear()
    credentials.forget_cached_key(None)
