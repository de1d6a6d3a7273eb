"""`make mutation`: mutation testing of the code deciding who may see what and what state a session may take.

Python (mutmut 3, configured in ``[tool.mutmut]`` of pyproject.toml):
  access_common identity.py, roles.py, jwt.py; voice_common bot_token.py, orchestration.py (start and the bot
  callbacks), dispatch.py; the grounding checks of voice_common/analysis.py (TranscriptIndex, split_grounded,
  GroundingReport, Analyzer._ground).
SQL (tests/quality/sql_mutation.py): the session state machine in db/schema/004-voice-session-status.sql.

mutmut imports the code under test from ``mutants/`` and names mutants after their path, so it needs the
packages at the top of its working directory. The layers live under ``backend/layers/<layer>/python/``
(as ``/opt/python`` in Lambda), so mutmut runs in a workspace, ``build/mutation/work``: a copy of the two
layer packages, of tests/, pyproject.toml and the module files the tests read. Lambda handlers are still
loaded from backend/lambdas and import the (mutated) layers first on ``sys.path``.

The tests need PostgreSQL: one embedded server is started for the whole run and its ``template1`` is
migrated once, so each mutant's test run (``TEST_DATABASE_URL``) creates its database ready-made.

    python -m tests.quality.mutation [--max-children N] [--skip-sql] [--skip-python] [--keep]

Prints the mutation score per module and lists the survivors (``build/mutation/report.md``); exits 1 when a
module is below the target (85% killed) after subtracting the mutants docs/mutation.md documents as
equivalent.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from tests.quality import sql_mutation

ROOT = Path(__file__).resolve().parents[2]
WORKDIR = ROOT / "build" / "mutation"
WORKSPACE = WORKDIR / "work"
LAYERS = {
    "access_common": ROOT / "backend/layers/access_common/python/access_common",
    "voice_common": ROOT / "backend/layers/voice_common/python/voice_common",
}
ALSO = ["pyproject.toml", "module.config.yaml", "module.json"]
TARGET = 85.0

# Module (as reported) -> mutmut mutant-name globs. Only these mutants run; other functions of the same
# files are trampolined but not mutated. Left out, to keep the run bounded (docs/mutation.md): the AWS call
# wiring of dispatch.py (run_bot_task, send_pool_request, schedule_pickup_check, stop_bot_task, utcnow) and
# orchestration.teardown (covered against moto by the orchestration suite), and everything of analysis.py but
# the grounding checks.
MODULES: dict[str, list[str]] = {
    "access_common/identity.py": ["access_common.identity.*"],
    "access_common/roles.py": ["access_common.roles.*"],
    "access_common/jwt.py": ["access_common.jwt.*"],
    "voice_common/bot_token.py": ["voice_common.bot_token.*"],
    "voice_common/orchestration.py": [
        f"voice_common.orchestration.x_{name}__mutmut_*"
        for name in (
            "room_name",
            "token_hash",
            "_org_lock_key",
            "_result",
            "_limit_error",
            "_not_startable",
            "start_session",
            "_lock_for_bot",
            "_ended",
            "_not_ready",
            "_answer",
            "_transition",
            "bot_callback",
        )
    ],
    "voice_common/dispatch.py": [
        f"voice_common.dispatch.x_{name}__mutmut_*"
        for name in (
            "pool_window_open",
            "waiting_pool_requests",
            "choose_mode",
            "_cap_knowledge",
            "build_payload",
            "fit_for_ecs",
            "_seal_context",
            "seal_tokens",
            "unseal_tokens",
        )
    ],
    "voice_common/analysis.py (grounding)": [
        "voice_common.analysis.xǁTranscriptIndexǁ__init____mutmut_*",
        "voice_common.analysis.xǁTranscriptIndexǁ_window__mutmut_*",
        "voice_common.analysis.xǁTranscriptIndexǁis_grounded__mutmut_*",
        "voice_common.analysis.x_split_grounded__mutmut_*",
        "voice_common.analysis.xǁGroundingReportǁ*",
        "voice_common.analysis.xǁAnalyzerǁ_ground__mutmut_*",
    ],
}

STATUS = {
    1: "killed",
    3: "killed",
    0: "survived",
    5: "no tests",
    33: "no tests",
    34: "skipped",
    36: "timeout",
    37: "type check",
    -24: "timeout",
    24: "timeout",
    152: "timeout",
    255: "timeout",
}


def equivalents() -> dict[str, str]:
    """Mutants documented as equivalent in docs/mutation.md: lines ``- `<name>`: <reason>`` under the
    heading "Equivalent mutants"."""
    doc = ROOT / "docs" / "mutation.md"
    found: dict[str, str] = {}
    if not doc.is_file():
        return found
    inside = False
    for line in doc.read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            inside = "equivalent mutants" in line.lower()
            continue
        if inside and line.startswith("- `") and "`:" in line:
            name, _, reason = line[3:].partition("`:")
            found[name.strip()] = reason.strip()
    return found


def build_workspace(keep: bool) -> None:
    """The workspace mutmut runs in; with ``keep`` its mutants/ (and mutmut's results) survive."""
    if WORKSPACE.exists() and not keep:
        shutil.rmtree(WORKSPACE)
    WORKSPACE.mkdir(parents=True, exist_ok=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name, src in LAYERS.items():  # copy2 keeps mtimes: mutmut regenerates only changed files
        shutil.copytree(src, WORKSPACE / name, ignore=ignore, dirs_exist_ok=True)
    if (WORKSPACE / "tests").exists():
        shutil.rmtree(WORKSPACE / "tests")
    shutil.copytree(ROOT / "tests", WORKSPACE / "tests", ignore=ignore)
    for name in ALSO:
        shutil.copy2(ROOT / name, WORKSPACE / name)


def run_mutmut(max_children: int, server_url: str, names: list[str] | None = None) -> float:
    env = {**os.environ, "TEST_DATABASE_URL": server_url}
    env.pop("DATABASE_URL", None)
    globs = names or [g for gs in MODULES.values() for g in gs]
    t0 = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "mutmut", "run", "--max-children", str(max_children), *globs],
        cwd=WORKSPACE,
        env=env,
        check=False,
    )
    if proc.returncode != 0:
        raise SystemExit(f"mutmut run failed (exit {proc.returncode}); see its output above")
    return time.monotonic() - t0


def mutmut_results() -> dict[str, int | None]:
    results: dict[str, int | None] = {}
    for meta in (WORKSPACE / "mutants").rglob("*.py.meta"):
        data = json.loads(meta.read_text(encoding="utf-8"))
        results.update(data.get("exit_code_by_key", {}))
    return results


def show(name: str) -> str:
    proc = subprocess.run(
        [sys.executable, "-m", "mutmut", "show", name],
        cwd=WORKSPACE,
        capture_output=True,
        text=True,
        check=False,
    )
    return proc.stdout.strip()


DETECTED = frozenset({"killed", "timeout"})  # a mutant that makes the tests hang is caught too


def score_rows(
    results: dict[str, int | None], known: dict[str, str]
) -> tuple[list[list[str]], list[str], bool]:
    """Per module: mutants, killed (timeouts included), alive, documented equivalent, scores."""
    rows: list[list[str]] = []
    survivors: list[str] = []
    ok = True
    for module, globs in MODULES.items():
        keys = [k for k in results if any(fnmatch.fnmatchcase(k, g) for g in globs)]
        status = {
            k: STATUS.get(results[k], "suspicious") if results[k] is not None else "not run" for k in keys
        }
        counts = Counter(status.values())
        alive = sorted(k for k in keys if status[k] not in DETECTED)
        equivalent = [k for k in alive if k in known]
        survivors += alive
        total = len(keys)
        killed = counts["killed"] + counts["timeout"]
        raw = 100.0 * killed / total if total else 100.0
        adjusted = 100.0 * killed / (total - len(equivalent)) if total - len(equivalent) else 100.0
        ok = ok and adjusted >= TARGET
        rows.append(
            [
                module,
                str(total),
                f"{killed}" + (f" ({counts['timeout']} t/o)" if counts["timeout"] else ""),
                str(len(alive) - len(equivalent)),
                str(len(equivalent)),
                f"{raw:.1f}%",
                f"{adjusted:.1f}%",
                "ok" if adjusted >= TARGET else "BELOW",
            ]
        )
    return rows, survivors, ok


def table(rows: list[list[str]]) -> str:
    head = ["module", "mutants", "killed", "alive", "equivalent", "score", "w/o equiv.", f">={TARGET:g}%"]
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]

    def fmt(r: list[str]) -> str:
        return "  " + "  ".join(
            c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))
        )

    return "\n".join([fmt(head), *map(fmt, rows)])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="make mutation")
    parser.add_argument("--max-children", type=int, default=2)
    parser.add_argument("--skip-sql", action="store_true")
    parser.add_argument("--skip-python", action="store_true")
    parser.add_argument(
        "--keep", action="store_true", help="reuse build/mutation/work (mutmut's cached results)"
    )
    parser.add_argument(
        "--names", nargs="+", help="with --keep: run only these mutants (mutmut names, globs)"
    )
    parser.add_argument(
        "--rerun-survivors",
        action="store_true",
        help="with --keep: run again only the mutants that survived the last run (after adding tests)",
    )
    args = parser.parse_args(argv)

    WORKDIR.mkdir(parents=True, exist_ok=True)
    known = equivalents()
    started = time.monotonic()
    rows: list[list[str]] = []
    survivors: list[str] = []
    ok = True
    timings: dict[str, float] = {}
    with sql_mutation.pg_server(None, WORKDIR) as server_url:
        if not args.skip_python:
            build_workspace(args.keep)
            sql_mutation.prepare_template(server_url)
            names = args.names
            if args.rerun_survivors:
                previous = mutmut_results()
                names = sorted(
                    k
                    for k, v in previous.items()
                    if STATUS.get(v) not in DETECTED
                    and any(fnmatch.fnmatchcase(k, g) for gs in MODULES.values() for g in gs)  # type: ignore[arg-type]
                )
                print(f"re-running {len(names)} surviving mutants", flush=True)
            if names != []:
                timings["mutmut"] = run_mutmut(args.max_children, server_url, names)
            results = mutmut_results()
            rows, survivors, ok = score_rows(results, known)
        if not args.skip_sql:
            t0 = time.monotonic()
            print("\nSQL mutants of db/schema/004-voice-session-status.sql", flush=True)
            outcomes = sql_mutation.run(server_url)
            timings["sql"] = time.monotonic() - t0
            alive = [o.mutant.name for o in outcomes if o.status != "killed"]
            eq = [n for n in alive if f"sql:{n}" in known]
            killed = sum(o.status == "killed" for o in outcomes)
            raw = 100.0 * killed / len(outcomes)
            adjusted = 100.0 * killed / (len(outcomes) - len(eq))
            ok = ok and adjusted >= TARGET
            rows.append(
                [
                    "db/schema/004-voice-session-status.sql",
                    str(len(outcomes)),
                    str(killed),
                    str(len(alive) - len(eq)),
                    str(len(eq)),
                    f"{raw:.1f}%",
                    f"{adjusted:.1f}%",
                    "ok" if adjusted >= TARGET else "BELOW",
                ]
            )
            survivors += [f"sql:{n}" for n in alive]
    elapsed = time.monotonic() - started

    report = ["# Mutation report (make mutation)", "", "```", table(rows), "```", ""]
    report.append(
        f"Runtime: {elapsed / 60:.1f} min ("
        + ", ".join(f"{k} {v / 60:.1f} min" for k, v in timings.items())
        + ")"
    )
    report += ["", "## Survivors", ""]
    for name in survivors:
        if name.startswith("sql:"):
            report.append(f"- `{name}`: {known.get(name, 'NOT DOCUMENTED')}")
        else:
            report += [
                f"- `{name}`: {known.get(name, 'NOT DOCUMENTED')}",
                "",
                "```diff",
                show(name),
                "```",
                "",
            ]
    (WORKDIR / "report.md").write_text("\n".join(report) + "\n", encoding="utf-8")

    print(
        "\nMutation score per module (killed / mutants; 'w/o equiv.': without documented equivalent mutants)"
    )
    print(table(rows))
    print(f"runtime: {elapsed / 60:.1f} min; survivors with diffs: {WORKDIR / 'report.md'}")
    undocumented = [s for s in survivors if s not in known]
    if undocumented:
        print(f"{len(undocumented)} surviving mutant(s) not documented as equivalent:")
        for s in undocumented:
            print(f"  {s}")
    print("mutation: " + ("passed" if ok else f"FAILED (a module is below {TARGET:g}%)"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
