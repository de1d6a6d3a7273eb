"""Cold start per Lambda: a fresh Python process imports the Lambda and handles its first request.

Every run is a new subprocess (as a new Lambda container is), against the local stack's PostgreSQL and
moto, with the environment the local stack gives its Lambdas. Per Lambda, two variants run interleaved
in the same bench (the machine is shared, so only figures from one run are compared):

- ``lazy``: the real ``lambda_function.py``, importing what its module scope imports;
- ``eager``: first everything the layers could need (boto3 with a client for every service the module
  uses, every module of access_common / ai_common / voice_common), then the same Lambda: what a layer
  that imported everything at module scope would cost.

Figures: the median over ``BENCH_COLDSTART_RUNS`` (default 5) runs of the child's CPU time (interpreter
start-up, imports and the first invocation: robust to the other processes on this shared machine) and
its wall time (import + first invocation); target <= 200 ms CPU median for the CRUD Lambdas. Baselines
in the same run: ``python -c pass`` and the "floor" (importing pydantic, Powertools' resolver and psycopg,
which every REST Lambda needs for its first request). Event-driven Lambdas are imported only.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
RUNS = int(os.environ.get("BENCH_COLDSTART_RUNS", "5"))
TARGET_MS = 200.0
CRUD = ("voice-sessions", "voice-configs", "voice-credentials", "voice-transcripts", "voice-analytics")
AWS_SERVICES = ("s3", "sqs", "dynamodb", "secretsmanager", "ecs", "events", "apigatewaymanagementapi")

_CHILD = r"""
import json, sys, time
t0, c0 = time.perf_counter(), time.process_time()
spec = json.loads(sys.stdin.read())
if spec["eager"]:
    import importlib, pkgutil
    import boto3
    session = boto3.session.Session()
    for service in spec["services"]:
        session.client(service, endpoint_url=spec.get("endpoint"))
    for package in ("access_common", "ai_common", "voice_common"):
        root = importlib.import_module(package)
        for info in pkgutil.walk_packages(root.__path__, package + "."):
            try:
                importlib.import_module(info.name)
            except ImportError:
                pass
t1 = time.perf_counter()
from voice_local.lambdas import lambda_context, load_lambda
handler = load_lambda(spec["name"])
t2 = time.perf_counter()
status = None
if spec["event"] is not None:
    result = handler(spec["event"], lambda_context(spec["name"]))
    status = result.get("statusCode") if isinstance(result, dict) else None
t3, c3 = time.perf_counter(), time.process_time()
heavy = [m for m in ("boto3", "botocore", "aws_xray_sdk", "psycopg", "urllib3", "yaml", "jwt", "ai_common")
         if m in sys.modules]
print("\n@@" + json.dumps({"eager_ms": (t1 - t0) * 1000, "import_ms": (t2 - t1) * 1000,
                          "first_ms": (t3 - t2) * 1000, "cpu_ms": (c3 - c0) * 1000, "status": status,
                          "modules": len(sys.modules),
                          "heavy": heavy}))
"""


def _python() -> str:
    return sys.executable


def _first_request(name: str, routes: list[dict[str, Any]], seeded: dict[str, Any]) -> dict[str, Any] | None:
    """The event of a representative first request: a list of the org's rows, as a member would ask."""
    from tests.fixtures.api import rest_event

    org = seeded["orgs"]["acme"]["id"]
    admin = seeded["users"]["acme_admin"]
    by_name = {
        "voice-sessions": ("GET", "/api/voice/sessions"),
        "voice-configs": ("GET", "/api/voice/configs"),
        "voice-credentials": ("GET", "/api/voice/credentials"),
        "voice-transcripts": ("GET", "/api/voice/transcripts"),
        "voice-analytics": ("GET", "/api/voice/stats"),
    }
    if name == "voice-bot":
        from voice_common import bot_token

        sid = str(uuid.uuid4())
        path = f"/api/voice/bot/sessions/{sid}/heartbeat"
        token = bot_token.issue(sid, 600)
        return rest_event(
            "POST",
            path,
            resource="/api/voice/bot/sessions/{id}/heartbeat",
            path_params={"id": sid},
            headers={"Authorization": f"Bearer {token}"},
            body={},
        )
    if name == "voice-preview":
        body = {"orgId": org, "voice": {"provider": "piper"}, "text": "Hello."}
        return rest_event("POST", "/api/voice/preview", user=admin["id"], email=admin["email"], body=body)
    method, path = by_name.get(name) or (routes[0]["method"], routes[0]["path"])
    if "{" in path:
        return None
    return rest_event(method, path, query={"orgId": org}, user=admin["id"], email=admin["email"])


def _child(spec: dict[str, Any], env: dict[str, str]) -> dict[str, Any]:
    done = subprocess.run(
        [_python(), "-c", _CHILD],
        input=json.dumps(spec),
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=120,
        check=False,
    )
    marker = [line for line in done.stdout.splitlines() if line.startswith("@@")]
    if done.returncode != 0 or not marker:
        raise RuntimeError(f"cold start child failed ({spec['name']}): {done.stderr[-2000:]}")
    return dict(json.loads(marker[-1][2:]))


_FLOOR = (
    "import time, pydantic, psycopg\n"
    "from aws_lambda_powertools import Logger, Metrics\n"
    "from aws_lambda_powertools.event_handler import APIGatewayRestResolver\n"
    "print(time.process_time() * 1000)"
)


def _baselines(env: dict[str, str]) -> dict[str, float]:
    """CPU ms of ``python -c pass`` and of importing the third-party stack every REST Lambda needs
    (pydantic, Powertools' resolver, psycopg): the floor our own module scope adds to."""
    cpu: dict[str, list[float]] = {"interpreter": [], "floor": []}
    for _ in range(RUNS):
        for key, code in (
            ("interpreter", "import time; print(time.process_time() * 1000)"),
            ("floor", _FLOOR),
        ):
            done = subprocess.run(
                [_python(), "-c", code], env=env, check=True, cwd=ROOT, capture_output=True, text=True
            )
            cpu[key].append(float(done.stdout.strip().splitlines()[-1]))
    return {key: statistics.median(values) for key, values in cpu.items()}


def measure(stack: Any) -> dict[str, dict[str, Any]]:
    """{lambda: {"lazy": {...medians}, "eager": {...}, "heavy": [...], "status": n}} for every Lambda."""
    from voice_local.routes import module_manifest

    env = {**os.environ, "POWERTOOLS_LOG_LEVEL": "ERROR", "POWERTOOLS_METRICS_NAMESPACE": "Bench"}
    assert stack.seeded is not None
    results: dict[str, dict[str, Any]] = {}
    for spec in module_manifest()["lambdas"]:
        name = spec["name"]
        event = _first_request(name, spec.get("routes", []), stack.seeded) if spec["type"] == "rest" else None
        base = {"name": name, "event": event, "services": AWS_SERVICES, "endpoint": stack.aws_endpoint}
        samples: dict[str, list[dict[str, Any]]] = {"lazy": [], "eager": []}
        for _ in range(RUNS):
            for variant in ("lazy", "eager"):  # interleaved: both see the same machine load
                samples[variant].append(_child({**base, "eager": variant == "eager"}, env))
        summary: dict[str, Any] = {"kind": spec["type"]}
        for variant, runs in samples.items():
            summary[variant] = {
                key: statistics.median(r[key] for r in runs)
                for key in ("eager_ms", "import_ms", "first_ms", "cpu_ms")
            }
            summary[variant]["total_ms"] = statistics.median(
                r["eager_ms"] + r["import_ms"] + r["first_ms"] for r in runs
            )
            summary[variant]["statuses"] = sorted({r["status"] for r in runs if r["status"] is not None})
        summary["heavy"] = samples["lazy"][0]["heavy"]
        summary["modules"] = samples["lazy"][0]["modules"]
        results[name] = summary
    results["_baseline"] = _baselines(env)
    return results


def rows_from(results: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    base = results["_baseline"]
    rows: list[dict[str, Any]] = [
        {
            "area": "cold start",
            "metric": "python -c pass (CPU)",
            "value": base["interpreter"],
            "unit": "ms",
            "target": "included below",
            "ok": None,
        },
        {
            "area": "cold start",
            "metric": "floor: pydantic+Powertools+psycopg (CPU)",
            "value": base["floor"],
            "unit": "ms",
            "target": "included below",
            "ok": None,
        },
    ]
    for name, r in results.items():
        if name.startswith("_"):
            continue
        lazy, eager = r["lazy"], r["eager"]
        what = "cold start" if r["kind"] == "rest" else "import only"
        crud = name in CRUD
        rows.append(
            {
                "area": "cold start",
                "metric": f"{name} {what} (CPU)",
                "value": lazy["cpu_ms"],
                "unit": "ms",
                "target": f"<= {TARGET_MS:.0f} ms" if crud else None,
                "ok": (lazy["cpu_ms"] <= TARGET_MS) if crud else None,
                "detail": {
                    "import_ms": lazy["import_ms"],
                    "first_ms": lazy["first_ms"],
                    "statuses": lazy["statuses"],
                    "heavy_modules": r["heavy"],
                    "modules": r["modules"],
                },
            }
        )
        rows.append(
            {
                "area": "cold start",
                "metric": f"{name} {what} (wall)",
                "value": lazy["total_ms"],
                "unit": "ms",
                "target": f"import {lazy['import_ms']:.0f} + 1st {lazy['first_ms']:.0f}",
                "ok": None,
            }
        )
        rows.append(
            {
                "area": "cold start",
                "metric": f"{name} eager variant (CPU)",
                "value": eager["cpu_ms"],
                "unit": "ms",
                "target": f"ours = {lazy['cpu_ms'] / eager['cpu_ms']:.2f}x of this",
                "ok": None,
                "detail": {"eager_ms": eager["eager_ms"], "total_ms": eager["total_ms"]},
            }
        )
    return rows


def run() -> list[dict[str, Any]]:
    from voice_common import bot_token
    from voice_local.testing import running_stack

    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    with tempfile.TemporaryDirectory(prefix="bench-cold-") as tmp, running_stack(data_dir=tmp) as stack:
        bot_token.reset_secret_cache()
        results = measure(stack)
    for name, r in results.items():
        if not name.startswith("_"):
            print(
                f"   {name:18} lazy {r['lazy']['total_ms']:7.1f} ms wall, {r['lazy']['cpu_ms']:6.1f} ms CPU "
                f"(import {r['lazy']['import_ms']:6.1f}, 1st {r['lazy']['first_ms']:6.1f})  "
                f"eager {r['eager']['total_ms']:7.1f} ms wall, {r['eager']['cpu_ms']:6.1f} ms CPU  "
                f"statuses {r['lazy']['statuses']}  at import: {', '.join(r['heavy'])}",
                flush=True,
            )
    return rows_from(results)
