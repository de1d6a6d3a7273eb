"""The module's Lambdas and routes as declared in ``module.json`` (the gateway's routing table)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from voice_local.lambdas import REPO_ROOT

MODULE_JSON = REPO_ROOT / "module.json"
API_PREFIX = "/api/voice"
HEALTH_PATH = f"{API_PREFIX}/health"
# Lambdas whose routes carry no user JWT: the bot callbacks authenticate with their own bot token.
NO_USER_AUTH_LAMBDAS = frozenset({"voice-bot"})


@dataclass(frozen=True)
class RestRoute:
    """One REST route: ``path`` is the API Gateway resource template, e.g. ``/api/voice/sessions/{id}``."""

    lambda_name: str
    method: str
    path: str
    authorized: bool


@dataclass(frozen=True)
class ModuleSpec:
    rest_routes: tuple[RestRoute, ...]
    websocket_lambda: str | None = None
    websocket_routes: frozenset[str] = field(default_factory=frozenset)


def _full_path(path: str) -> str:
    path = "/" + path.strip("/")
    return path if path == API_PREFIX or path.startswith(API_PREFIX + "/") else API_PREFIX + path


def _needs_user_auth(lambda_name: str, method: str, path: str, route: dict[str, Any]) -> bool:
    # An explicit "auth" on the route ("user" / "none" / "bot") wins over the conventions.
    auth = route.get("auth")
    if isinstance(auth, str):
        return auth == "user"
    if lambda_name in NO_USER_AUTH_LAMBDAS:
        return False
    return not (method == "GET" and path == HEALTH_PATH)


def parse_module_spec(data: dict[str, Any]) -> ModuleSpec:
    """Build the routing table from the parsed ``module.json``."""
    rest: list[RestRoute] = []
    ws_lambda: str | None = None
    ws_routes: set[str] = set()
    for entry in data.get("lambdas", []):
        name = entry["name"]
        kind = entry.get("type", "rest")
        if kind == "rest":
            for route in entry.get("routes", []):
                method = str(route["method"]).upper()
                path = _full_path(str(route["path"]))
                rest.append(RestRoute(name, method, path, _needs_user_auth(name, method, path, route)))
        elif kind == "websocket":
            ws_lambda = name
            for route in entry.get("routes", []):
                ws_routes.add(
                    route if isinstance(route, str) else str(route.get("routeKey") or route["route"])
                )
    return ModuleSpec(tuple(rest), ws_lambda, frozenset(ws_routes))


def load_module_spec(path: Path | None = None) -> ModuleSpec:
    """Read ``module.json`` (the repository's, unless ``path`` is given)."""
    with (path or MODULE_JSON).open(encoding="utf-8") as fh:
        return parse_module_spec(json.load(fh))
