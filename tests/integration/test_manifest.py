"""module.json is the module's declaration to the CORA platform; it must say exactly what the code does."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
MANIFEST = json.loads((ROOT / "module.json").read_text())
LAMBDAS = {spec["name"]: spec for spec in MANIFEST["lambdas"]}


def _app_routes(name: str) -> set[tuple[str, str]]:
    from voice_local.lambdas import load_lambda

    load_lambda(name)
    safe = re.sub(r"\W", "_", name)
    module: Any = sys.modules[f"lambda_function__{safe}"]
    app = module.app
    return {
        (route.method, re.sub(r"<(\w+)>", r"{\1}", route.path))
        for route in app._static_routes + app._dynamic_routes
    }


def test_every_lambda_folder_is_declared_and_every_declared_lambda_exists() -> None:
    folders = {
        p.name for p in (ROOT / "backend" / "lambdas").iterdir() if (p / "lambda_function.py").is_file()
    }
    assert folders == set(LAMBDAS)


@pytest.mark.parametrize("name", sorted(n for n, s in LAMBDAS.items() if s["type"] == "rest"))
def test_rest_routes_equal_handler_routes(name: str) -> None:
    declared = {(r["method"], r["path"]) for r in LAMBDAS[name]["routes"]}
    assert _app_routes(name) == declared


def test_routes_are_unique_across_lambdas() -> None:
    seen: dict[tuple[str, str], str] = {}
    for name, spec in LAMBDAS.items():
        if spec["type"] != "rest":
            continue
        for r in spec["routes"]:
            key = (r["method"], r["path"])
            assert key not in seen, f"{key} declared by {seen.get(key)} and {name}"
            seen[key] = name


def test_tables_and_rpcs_equal_schema(admin_conn: Any) -> None:
    rows = admin_conn.execute(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename LIKE 'voice\\_%'"
    ).fetchall()
    assert {r["tablename"] for r in rows} == set(MANIFEST["tables"])
    rows = admin_conn.execute(
        "SELECT proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
        "WHERE n.nspname = 'public' AND proname = ANY(%s)",
        (MANIFEST["rpcFunctions"],),
    ).fetchall()
    assert {r["proname"] for r in rows} == set(MANIFEST["rpcFunctions"])


def test_config_file_is_the_one_the_code_reads() -> None:
    from voice_common.settings import config_path

    assert MANIFEST["config"] == "module.config.yaml"
    assert config_path() == ROOT / "module.config.yaml"
