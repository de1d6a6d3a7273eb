"""The REST route table from module.json, matched the way API Gateway matches resources.

module.json is the single declaration of which Lambda serves which route; the local gateway, the tests'
event builder and the Terraform checks all read it through this module.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[3]


@dataclass(frozen=True, slots=True)
class Route:
    lambda_name: str
    method: str
    template: str  # e.g. /api/voice/sessions/{id}
    auth: str  # "user" (JWT authorizer), "bot-token" or "none"
    pattern: re.Pattern[str]


def _compile(template: str) -> re.Pattern[str]:
    regex = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(template))
    return re.compile(f"^{regex}$")


@functools.cache
def module_manifest() -> dict[str, Any]:
    return json.loads((REPO_ROOT / "module.json").read_text())


@functools.cache
def rest_routes() -> tuple[Route, ...]:
    routes: list[Route] = []
    for spec in module_manifest()["lambdas"]:
        if spec.get("type") != "rest":
            continue
        lambda_auth = spec.get("auth", "user")
        for r in spec["routes"]:
            auth = "none" if r["path"].endswith("/health") else r.get("auth", lambda_auth)
            routes.append(Route(spec["name"], r["method"].upper(), r["path"], auth, _compile(r["path"])))
    # Literal segments win over parameters, as in API Gateway (/sessions/{id}/kbs before /sessions/{id}).
    routes.sort(key=lambda rt: (rt.template.count("{"), -len(rt.template)))
    return tuple(routes)


def websocket_routes() -> tuple[str, ...]:
    for spec in module_manifest()["lambdas"]:
        if spec.get("type") == "websocket":
            return tuple(spec["routes"])
    return ()


def match_route(method: str, path: str) -> tuple[str, str, dict[str, str]] | None:
    """(lambda name, resource template, path parameters) for a request, or None when no route matches."""
    route = find_route(method, path)
    if route is None:
        return None
    m = route.pattern.match(path)
    assert m is not None
    return route.lambda_name, route.template, m.groupdict()


def find_route(method: str, path: str) -> Route | None:
    for route in rest_routes():
        if route.method == method.upper() and route.pattern.match(path):
            return route
    return None


def allowed_methods(path: str) -> list[str]:
    """Methods some route accepts at ``path`` (405 vs 404 in the gateway)."""
    return sorted({r.method for r in rest_routes() if r.pattern.match(path)})
