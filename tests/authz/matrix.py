"""Loading tests/authz/matrix.yaml (shared by the test and the docs renderer)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
MATRIX_PATH = HERE / "matrix.yaml"

COLUMN_TITLES = {
    "anon": "anon",
    "other": "other-org member",
    "member": "member",
    "admin": "admin",
    "owner": "owner",
    "platform": "platform admin",
    "bot": "bot token",
}


@dataclass(frozen=True)
class Row:
    route: str  # "METHOD /path"
    case: str
    rls: str
    expect: dict[str, int]
    variant: str | None = None

    @property
    def method(self) -> str:
        return self.route.split(" ", 1)[0]

    @property
    def path(self) -> str:
        return self.route.split(" ", 1)[1]

    @property
    def label(self) -> str:
        return f"{self.route} ({self.variant})" if self.variant else self.route


@dataclass(frozen=True)
class WsRow:
    route: str  # a WebSocket route key of module.json: $connect, subscribe, ...
    case: str
    rls: str
    expect: dict[str, str]  # "401" (refused at $connect), a message type, or an error code


def load() -> tuple[list[str], list[Row]]:
    data: dict[str, Any] = yaml.safe_load(MATRIX_PATH.read_text(encoding="utf-8"))
    columns = list(data["columns"])
    rows = [
        Row(
            route=r["route"],
            case=r["case"],
            rls=r.get("rls", ""),
            expect={k: int(v) for k, v in r["expect"].items()},
            variant=r.get("variant"),
        )
        for r in data["rows"]
    ]
    return columns, rows


def module_routes() -> list[tuple[str, str, str]]:
    """(lambda, METHOD, path) of every REST route in module.json."""
    manifest = json.loads((ROOT / "module.json").read_text(encoding="utf-8"))
    return [
        (spec["name"], r["method"].upper(), r["path"])
        for spec in manifest["lambdas"]
        if spec.get("type") == "rest"
        for r in spec["routes"]
    ]


SUCCESS_OUTCOMES = frozenset({"connected", "disconnected", "subscribed", "unsubscribed", "ack", "pong"})


def load_websocket() -> list[WsRow]:
    data: dict[str, Any] = yaml.safe_load(MATRIX_PATH.read_text(encoding="utf-8"))
    return [
        WsRow(
            route=r["route"],
            case=r["case"],
            rls=r.get("rls", ""),
            expect={k: str(v) for k, v in r["expect"].items()},
        )
        for r in data.get("websocket_rows", [])
    ]


def websocket_routes() -> list[str]:
    manifest = json.loads((ROOT / "module.json").read_text(encoding="utf-8"))
    return [str(r) for spec in manifest["lambdas"] if spec.get("type") == "websocket" for r in spec["routes"]]
