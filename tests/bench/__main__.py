"""`make bench`: run every tests/bench/bench_*.py, print one table and write bench-results/bench.json.

A benchmark module exposes ``run() -> list[dict]``; each row is
``{"area", "metric", "value", "unit", "target" (text or None), "ok" (bool or None)}``. Figures that are
compared (ours vs a baseline) are measured in the same run, because the machine is shared and noisy.
"""

from __future__ import annotations

import importlib
import json
import os
import pkgutil
import sys
import time
import traceback
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.3f}" if abs(value) < 100 else f"{value:,.1f}"
    return str(value)


def main(argv: list[str]) -> int:
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
    only = set(argv)
    rows: list[dict[str, Any]] = []
    failed: list[str] = []
    for mod in sorted(m.name for m in pkgutil.iter_modules([str(Path(__file__).parent)])):
        if not mod.startswith("bench_") or (
            only and mod.removeprefix("bench_") not in only and mod not in only
        ):
            continue
        started = time.perf_counter()
        print(f"== {mod}", flush=True)
        try:
            rows.extend(importlib.import_module(f"tests.bench.{mod}").run())
        except Exception:
            traceback.print_exc()
            failed.append(mod)
        print(f"   ({time.perf_counter() - started:.1f} s)", flush=True)
    widths = (22, 46, 14, 8, 26, 4)
    header = ("area", "metric", "value", "unit", "target", "ok")
    print()
    print("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for r in rows:
        ok = {True: "yes", False: "NO", None: ""}[r.get("ok")]
        cells = (r["area"], r["metric"], _fmt(r["value"]), r.get("unit", ""), r.get("target") or "", ok)
        print("  ".join(str(c).ljust(w) for c, w in zip(cells, widths, strict=True)))
    out = ROOT / "bench-results"
    out.mkdir(exist_ok=True)
    (out / "bench.json").write_text(json.dumps({"rows": rows, "failed": failed}, indent=2, default=str))
    print(f"\nwritten: {out / 'bench.json'}")
    if failed:
        print(f"benchmarks that raised: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
