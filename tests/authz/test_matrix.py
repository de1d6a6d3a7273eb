"""The authorization matrix (tests/authz/matrix.yaml), executed in full against the real handlers.

For every row and every column, a fresh organization and users are created, the row's case sets up the
resource, and the route's real Lambda (module.json) is invoked with an API Gateway event as the column's
caller: ``anon`` has no ``requestContext.authorizer`` and no Authorization header (what reaches a bot
route, and what the authorizer would stop on a user route), users carry the authorizer context and their
JWT, ``bot`` carries the bot token of the row's session and no authorizer. The statuses must be exactly
the matrix's; every REST route of module.json must have a row; the table in docs/permissions.md must be
the matrix's rendering; every expected status must be one docs/openapi.json documents for the route.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from psycopg.types.json import Jsonb

from tests.authz import render
from tests.authz.cases import CASES, Scene
from tests.authz.matrix import COLUMN_TITLES, ROOT, Row, load, module_routes

COLUMNS, ROWS = load()
ROUTE_LAMBDA = {f"{m} {p}": name for name, m, p in module_routes()}


# --- the matrix itself --------------------------------------------------------------------------------


def test_every_module_route_has_a_row() -> None:
    covered = {row.route for row in ROWS}
    missing = sorted(set(ROUTE_LAMBDA) - covered)
    assert not missing, f"routes of module.json without a row in tests/authz/matrix.yaml: {missing}"


def test_every_row_is_a_module_route_with_a_case_and_all_columns() -> None:
    assert tuple(COLUMNS) == tuple(COLUMN_TITLES)
    labels = [row.label for row in ROWS]
    assert len(labels) == len(set(labels)), "duplicate rows (give a variant)"
    for row in ROWS:
        assert row.route in ROUTE_LAMBDA, f"{row.route} is not in module.json"
        assert row.case in CASES, f"{row.label}: no case {row.case!r} in tests/authz/cases.py"
        assert set(row.expect) == set(COLUMNS), f"{row.label}: columns {sorted(row.expect)}"


def test_permissions_doc_shows_the_matrix() -> None:
    current = render.DOC_PATH.read_text(encoding="utf-8")
    assert render.render(current) == current, "docs/permissions.md is stale: run `make openapi`"


def test_every_expected_status_is_documented_in_openapi() -> None:
    doc = json.loads((ROOT / "docs" / "openapi.json").read_text(encoding="utf-8"))
    for row in ROWS:
        responses = doc["paths"][row.path][row.method.lower()]["responses"]
        for column, status in row.expect.items():
            assert str(status) in responses, f"{row.label} / {column}: {status} not in docs/openapi.json"


# --- executing it -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def matrix_env(database_url: str, aws_env: dict[str, str], admin_conn: Any) -> Iterator[None]:
    """Stand-ins for Daily and the providers, fresh caches, and the platform defaults set aside (they are
    global to the database; restored afterwards)."""
    from access_common.aws import reset_clients
    from tests.fakes.providers import FakeProviders
    from voice_common import bot_token
    from voice_common.settings import get_settings
    from voice_local.daily_standin import DailyStandIn

    saved = admin_conn.execute(
        "DELETE FROM public.voice_credentials WHERE org_id IS NULL RETURNING *"
    ).fetchall()
    mp = pytest.MonkeyPatch()
    with DailyStandIn() as daily, FakeProviders() as providers:
        for name, value in providers.env().items():
            mp.setenv(name, value)
        mp.setenv("DAILY_API_URL", daily.url)
        mp.setenv("PROVIDER_RETRY_BACKOFF_SECONDS", "0.01")
        mp.setenv("API_BASE_URL", "http://127.0.0.1:9/api/voice")
        mp.setenv("WEBSOCKET_URL", "ws://127.0.0.1:9/ws")
        get_settings.cache_clear()
        bot_token.reset_secret_cache()
        reset_clients()
        try:
            yield
        finally:
            mp.undo()
            get_settings.cache_clear()
            admin_conn.execute("DELETE FROM public.voice_credentials WHERE org_id IS NULL")
            for row in saved:
                row = {**row, "config_metadata": Jsonb(row["config_metadata"])}
                admin_conn.execute(
                    f"INSERT INTO public.voice_credentials ({', '.join(row)})"
                    f" VALUES ({', '.join(['%s'] * len(row))})",
                    list(row.values()),
                )


def _call(scene: Scene, row: Row, column: str, invoke: Any) -> Any:
    from access_common.jwt import mint_user_jwt
    from voice_common import bot_token

    request = CASES[row.case](scene)
    user = scene.user(column)
    headers: dict[str, str] = {}
    if user is not None:
        jwt = mint_user_jwt(str(user.id), user.email, secret=os.environ["SUPABASE_JWT_SECRET"])
        headers["Authorization"] = f"Bearer {jwt}"
    elif column == "bot":
        headers["Authorization"] = f"Bearer {bot_token.issue(request.bot_session or uuid.uuid4(), 600)}"
    return invoke(
        ROUTE_LAMBDA[row.route],
        row.method,
        request.path,
        user=user,
        query=request.query,
        body=request.body,
        headers=headers,
    )


@pytest.mark.usefixtures("matrix_env")
@pytest.mark.parametrize("row", ROWS, ids=[row.label for row in ROWS])
def test_matrix_row(row: Row, admin_conn: Any, invoke: Any) -> None:
    mismatches = []
    for column in COLUMNS:
        admin_conn.execute("DELETE FROM public.voice_credentials WHERE org_id IS NULL")
        scene = Scene.new(admin_conn, invoke)
        response = _call(scene, row, column, invoke)
        if response.status != row.expect[column]:
            mismatches.append(
                f"{COLUMN_TITLES[column]}: expected {row.expect[column]}, got {response.status} "
                f"{(response.body or {}).get('code') if isinstance(response.body, dict) else response.body}"
            )
        elif response.status >= 400:  # a denial is the CORA error envelope
            assert response.body["success"] is False and response.body["code"], response.body
    assert not mismatches, f"{row.label}:\n  " + "\n  ".join(mismatches)
