"""The bot's own benchmark (backend/bot/bench_pickup.py: standby-pool pickup, SQS receipt -> POST /joined),
run with the bot's venv (.venv-bot) when it exists, so its figures appear in the one ``make bench`` table.

``BENCH_BOT_RUNS`` (default 20) pickups; skipped (no rows) without .venv-bot (``make bot-venv`` makes it).
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
BOT_PYTHON = ROOT / ".venv-bot" / "bin" / "python"
SCRIPT = ROOT / "backend" / "bot" / "bench_pickup.py"
RUNS = int(os.environ.get("BENCH_BOT_RUNS", "20"))


def run() -> list[dict[str, Any]]:
    if not BOT_PYTHON.exists() or not SCRIPT.exists():
        print("   skipped: no .venv-bot (make bot-venv) or no backend/bot/bench_pickup.py", flush=True)
        return []
    with tempfile.TemporaryDirectory(prefix="bench-bot-") as tmp:
        out = Path(tmp) / "pickup.json"
        done = subprocess.run(
            [str(BOT_PYTHON), str(SCRIPT), "--runs", str(RUNS), "--json", str(out)],
            cwd=ROOT / "backend" / "bot",
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
        print("   " + (done.stdout.strip().splitlines() or ["(no output)"])[-1], flush=True)
        if not out.exists():
            raise RuntimeError(f"bench_pickup.py failed ({done.returncode}): {done.stderr[-2000:]}")
        result = json.loads(out.read_text())
    area = "bot (standby pickup)"
    ok = done.returncode == 0 and result["runs"] == RUNS
    return [
        {
            "area": area,
            "metric": "SQS receipt -> POST /joined p50",
            "value": result["p50"],
            "unit": "ms",
            "target": None,
            "ok": None,
        },
        {
            "area": area,
            "metric": "SQS receipt -> POST /joined p95",
            "value": result["p95"],
            "unit": "ms",
            "target": f"{result['runs']}/{RUNS} runs",
            "ok": ok,
            "detail": result,
        },
    ]
