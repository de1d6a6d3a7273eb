"""Fuzz every REST route of docs/openapi.json against the running local stack (schemathesis).

Each operation in the document (so every route in module.json, new ones included) gets a bounded number
of generated requests (``FUZZ_EXAMPLES``, default 10, per phase: explicit examples, coverage of boundary
and invalid values, random fuzzing), valid and invalid ones, through the real gateway and Lambdas:

- user routes carry the acme admin's JWT (the role that may do the most), bot routes the bot token of a
  ready session (``World.bot_session``); with a strategy hook, generated ids and ``orgId``s are often
  replaced by real ones (acme's org, its configs, sessions, transcripts, credentials, KBs), so requests
  reach the code behind the 404s and 403s;
- every answer must be: no 5xx (``not_a_server_error``), a status code the document lists for the
  route, the documented content type, and a body valid against the documented schema.

Generation is deterministic (``derandomize``) so a failure reproduces; ``FUZZ_SEED=random`` explores.
Schemathesis prints a curl command for any failing request.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
import requests

schemathesis = pytest.importorskip("schemathesis")

from hypothesis import HealthCheck, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.specs.openapi.checks import (  # noqa: E402
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.contract.conftest import World  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
DOC = json.loads((ROOT / "docs" / "openapi.json").read_text(encoding="utf-8"))
MAX_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "10"))
DERANDOMIZE = os.environ.get("FUZZ_SEED", "") != "random"
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]

# Which kind of resource a path parameter names, by the path's first segment after /api/voice.
KIND_BY_AREA = {
    "configs": "config",
    "sessions": "session",
    "transcripts": "transcript",
    "credentials": "credential",
    "analytics": "session",
}

STATS: dict[str, int] = {"requests": 0, "5xx": 0}


def _kind(path: str, name: str) -> str | None:
    if name == "kbId":
        return "kb"
    area = path.removeprefix("/api/voice/").split("/")[0]
    return KIND_BY_AREA.get(area)


def _is_bot(path: str) -> bool:
    return path.startswith("/api/voice/bot/")


# The schema is built at import (pytest parametrizes one test per operation); the hooks read the running
# stack's ids from here, filled by the ``_bind_world`` fixture before any example is drawn.
_WORLD: list[World] = []

schema = schemathesis.openapi.from_dict(
    DOC,
    config=schemathesis.Config.from_dict(
        {
            "generation": {"max-examples": MAX_EXAMPLES, "mode": "all"},
            "phases": {"stateful": {"enabled": False}},
        }
    ),
)


@schema.hook
def flatmap_path_parameters(ctx: Any, params: dict[str, Any] | None) -> Any:
    if not params:
        return st.just(params)
    world = _WORLD[0]
    path = ctx.operation.path
    if _is_bot(path):  # the one session whose bot token the test holds (sometimes another id)
        return st.sampled_from(
            [params, {**params, "id": world.bot_session}, {**params, "id": world.bot_session}]
        )
    options = [params]
    for name in params:
        kind = _kind(path, name)
        options += [{**params, name: value} for value in world.ids.get(kind or "", [])]
    if "id" in params and "kbId" in params:  # a linked pair
        options.append({"id": world.ids["session"][0], "kbId": world.ids["kb"][0]})
    return st.sampled_from(options)


@schema.hook
def flatmap_query(ctx: Any, query: dict[str, Any] | None) -> Any:
    if not query or "orgId" not in query:
        return st.just(query)
    acme = _WORLD[0].orgs["acme"]
    return st.sampled_from([query, {**query, "orgId": acme}, {**query, "orgId": acme}])


@schema.hook
def flatmap_body(ctx: Any, body: Any) -> Any:
    if not isinstance(body, dict):
        return st.just(body)
    world = _WORLD[0]
    replaced = dict(body)
    for key, values in (
        ("orgId", [world.orgs["acme"]]),
        ("configId", world.ids["config"]),
        ("kbId", world.ids["kb"]),
    ):
        if key in replaced:
            replaced[key] = values[0]
    return st.sampled_from([body, replaced]) if replaced != body else st.just(body)


@pytest.fixture(autouse=True)
def _bind_world(world: World) -> Any:
    _WORLD[:] = [world]
    yield


@pytest.fixture(scope="module", autouse=True)
def _report() -> Any:
    yield
    print(f"\nfuzz: {STATS['requests']} requests, {STATS['5xx']} 5xx ({MAX_EXAMPLES} examples per phase)")


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=DERANDOMIZE,
    database=None,
    suppress_health_check=list(HealthCheck),
    print_blob=True,
)
def test_fuzz(case: Any, world: World) -> None:
    token = world.bot_token if _is_bot(case.path) else world.tokens["acmeAdmin"]
    headers = {"Authorization": f"Bearer {token}"}
    response = case.call(base_url=world.base_url, headers=headers, timeout=30)
    STATS["requests"] += 1
    STATS["5xx"] += response.status_code >= 500
    case.validate_response(response, checks=CHECKS, headers=headers)


# --- without credentials: the gateway (user routes) or the handler (bot routes) answers 401 ------------

OPERATIONS = [(m.upper(), p) for p, ops in DOC["paths"].items() for m in ops]


def _concrete(path: str) -> str:
    return re.sub(r"{\w+}", "00000000-0000-4000-8000-00000000abcd", path)


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_every_route_without_credentials_is_401(world: World, method: str, path: str) -> None:
    response = requests.request(method, world.base_url + _concrete(path), json={}, timeout=30)
    if path.endswith("/health"):
        assert response.status_code == 200
        return
    assert response.status_code == 401, response.text
    body = response.json()
    assert body["success"] is False and body["code"] in {"UNAUTHORIZED", "BOT_TOKEN_REQUIRED"}
    assert "401" in DOC["paths"][path][method.lower()]["responses"]


PROTECTED = [(m, p) for m, p in OPERATIONS if not p.endswith("/health")]


def _forge(token: str, filler: str) -> str:
    """The token with the end of its signature replaced (never equal to the original)."""
    return token[:-4] + (filler * 4 if not token.endswith(filler * 4) else "B" * 4)


@pytest.mark.parametrize(("method", "path"), PROTECTED, ids=[f"{m} {p}" for m, p in PROTECTED])
def test_a_forged_token_is_401(world: World, method: str, path: str) -> None:
    forged = _forge(world.bot_token, "0") if _is_bot(path) else _forge(world.tokens["acmeAdmin"], "A")
    assert forged != (world.bot_token if _is_bot(path) else world.tokens["acmeAdmin"])
    response = requests.request(
        method,
        world.base_url + _concrete(path),
        json={},
        headers={"Authorization": f"Bearer {forged}"},
        timeout=30,
    )
    assert response.status_code == 401, response.text
