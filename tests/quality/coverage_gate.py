"""Coverage thresholds per area (seed 001 section 8.3), read from coverage.py's JSON report.

    python -m tests.quality.coverage_gate [--json build/coverage.json] [--areas coverage_areas.toml]

The area map (coverage_areas.toml) lists, per area, globs of files and single functions or classes
(``path::Qualified.name``, their whole source range from the first decorator to the last line). A
function's lines and branches are selected by that range (``ast``), so "the critical paths are 100%
covered" is checked function by function, not for the whole file. Percentages count statements and
branches together, like coverage.py's total.

Exit status: 0 all thresholds met; 1 an area or a critical path is below its threshold; 2 the map or the
coverage data is wrong (an entry matching nothing, a file missing from the data, no branch data).
"""

from __future__ import annotations

import argparse
import ast
import fnmatch
import json
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_JSON = ROOT / "build" / "coverage.json"
DEFAULT_AREAS = Path(__file__).resolve().parent / "coverage_areas.toml"


class MapError(Exception):
    """The area map or the coverage data cannot be evaluated (exit status 2)."""


# --- selecting lines ----------------------------------------------------------------------------------


def _find_def(tree: ast.Module, qualname: str) -> ast.AST | None:
    scope: list[ast.stmt] = tree.body
    node: ast.AST | None = None
    for part in qualname.split("."):
        node = next(
            (
                n
                for n in scope
                if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and n.name == part
            ),
            None,
        )
        if node is None:
            return None
        scope = node.body  # type: ignore[attr-defined]
    return node


def def_range(path: Path, qualname: str) -> tuple[int, int]:
    """First and last source line of ``qualname`` in ``path`` (decorators included)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    node = _find_def(tree, qualname)
    if node is None:
        raise MapError(f"{path.relative_to(ROOT)}::{qualname}: no such function or class")
    first = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])  # type: ignore[attr-defined]
    return first, node.end_lineno or node.lineno  # type: ignore[attr-defined]


@dataclass
class Selection:
    """Lines selected from one file: the whole file (``ranges is None``) or a union of line ranges."""

    ranges: list[tuple[int, int]] | None = field(default_factory=list)

    def add(self, rng: tuple[int, int] | None) -> None:
        if rng is None or self.ranges is None:
            self.ranges = None
        else:
            self.ranges.append(rng)

    def __contains__(self, line: int) -> bool:
        return self.ranges is None or any(a <= line <= b for a, b in self.ranges)


@dataclass
class Tally:
    lines: int = 0
    lines_hit: int = 0
    branches: int = 0
    branches_hit: int = 0
    missing_lines: list[int] = field(default_factory=list)
    missing_branches: list[tuple[int, int]] = field(default_factory=list)

    def __iadd__(self, other: Tally) -> Tally:
        self.lines += other.lines
        self.lines_hit += other.lines_hit
        self.branches += other.branches
        self.branches_hit += other.branches_hit
        self.missing_lines += other.missing_lines
        self.missing_branches += other.missing_branches
        return self

    @property
    def total(self) -> int:
        return self.lines + self.branches

    @property
    def percent(self) -> float:
        return 100.0 if not self.total else 100.0 * (self.lines_hit + self.branches_hit) / self.total


def tally(data: dict[str, Any], sel: Selection) -> Tally:
    """Statements and branch arcs of one file's coverage data that start on a selected line."""
    executed = [n for n in data["executed_lines"] if n in sel]
    missing = [n for n in data["missing_lines"] if n in sel]
    hit_arcs = [a for a in data["executed_branches"] if a[0] in sel]
    missed_arcs = [tuple(a) for a in data["missing_branches"] if a[0] in sel]
    return Tally(
        lines=len(executed) + len(missing),
        lines_hit=len(executed),
        branches=len(hit_arcs) + len(missed_arcs),
        branches_hit=len(hit_arcs),
        missing_lines=missing,
        missing_branches=missed_arcs,  # type: ignore[arg-type]
    )


# --- the map ------------------------------------------------------------------------------------------


ALLOW_MISSING = False  # --allow-missing: a partial run (files no test imported are left out)


def _measured(files: dict[str, Any], rel: str) -> dict[str, Any] | None:
    data = files.get(rel)
    if data is None and not ALLOW_MISSING:
        raise MapError(
            f"{rel} is not in the coverage data: no test imported it (or it is outside [tool.coverage.run] "
            "source, or the run had no --cov)"
        )
    return data


def resolve(entries: list[str], files: dict[str, Any], exclude: list[str] = ()) -> dict[str, Selection]:  # type: ignore[assignment]
    """``{file: Selection}`` of an area's entries; an entry that matches nothing is an error."""
    selected: dict[str, Selection] = {}
    for entry in entries:
        path_part, _, qualname = entry.partition("::")
        if qualname:
            if not (ROOT / path_part).is_file():
                raise MapError(f"{entry}: no such file")
            if _measured(files, path_part) is None:
                continue
            selected.setdefault(path_part, Selection()).add(def_range(ROOT / path_part, qualname))
            continue
        on_disk = {
            p.relative_to(ROOT).as_posix()
            for p in ROOT.glob(path_part)
            if p.is_file() and "__pycache__" not in p.parts
        }
        in_data = {f for f in files if fnmatch.fnmatchcase(f, path_part)}
        matched = sorted(f for f in on_disk | in_data if not any(fnmatch.fnmatchcase(f, x) for x in exclude))
        if not matched:
            raise MapError(f"{entry}: matches no file")
        for rel in matched:
            if _measured(files, rel) is None:
                continue
            selected.setdefault(rel, Selection()).add(None)
    return selected


def _compress(lines: list[int]) -> str:
    """``[3, 4, 5, 9]`` -> ``3-5, 9``."""
    out: list[str] = []
    for n in sorted(set(lines)):
        if out and out[-1].split("-")[-1] == str(n - 1):
            out[-1] = f"{out[-1].split('-')[0]}-{n}"
        else:
            out.append(str(n))
    return ", ".join(out)


def _arcs(arcs: list[tuple[int, int]]) -> str:
    return ", ".join(f"{a}->{b if b > 0 else 'exit'}" for a, b in sorted(set(arcs)))


def _short(rel: str) -> str:
    for prefix in (
        "backend/layers/access_common/python/",
        "backend/layers/ai_common/python/",
        "backend/layers/voice_common/python/",
        "backend/",
    ):
        if rel.startswith(prefix):
            return rel[len(prefix) :]
    return rel


def _row(name: str, t: Tally, target: str, verdict: str) -> str:
    return (
        f"  {name:<42} {t.lines_hit:>5}/{t.lines:<5} {t.branches_hit:>5}/{t.branches:<5}"
        f" {t.percent:6.1f}%  {target:>7}  {verdict}"
    )


def evaluate(cov: dict[str, Any], areas_doc: dict[str, Any], *, out: Any = sys.stdout) -> int:
    if not cov.get("meta", {}).get("branch_coverage"):
        raise MapError(
            "the coverage data has no branch coverage: run with --cov-branch ([tool.coverage.run] branch)"
        )
    files: dict[str, Any] = cov["files"]
    failed = False
    covered_by_areas: set[str] = set()

    print("\nCoverage by area (seed 001 section 8.3; statements + branches)", file=out)
    print(f"  {'area':<42} {'lines':>11} {'branches':>11} {'total':>7}  {'target':>7}", file=out)
    for area in areas_doc.get("area", []):
        selection = resolve(area["entries"], files, area.get("exclude", []))
        covered_by_areas.update(selection)
        total = Tally()
        per_file: list[tuple[str, Tally]] = []
        for rel, sel in selection.items():
            t = tally(files[rel], sel)
            total += t
            per_file.append((rel, t))
        threshold = float(area["threshold"])
        report_only = bool(area.get("report_only"))
        ok = total.percent + 1e-9 >= threshold
        verdict = "report only" if report_only else ("ok" if ok else "BELOW TARGET")
        target = "-" if report_only else f">={threshold:g}%"
        print(_row(area["name"], total, target, verdict), file=out)
        if not ok and not report_only:
            failed = True
            worst = sorted(per_file, key=lambda ft: -(ft[1].total - ft[1].lines_hit - ft[1].branches_hit))
            for rel, t in worst[:8]:
                if t.percent < 100:
                    print(
                        f"      {_short(rel)}: {t.percent:.1f}%, missing lines {_compress(t.missing_lines)}",
                        file=out,
                    )

    rest = Tally()
    for rel, data in files.items():
        if rel not in covered_by_areas:
            rest += tally(data, Selection(ranges=None))
    if rest.total:
        print(_row("(files in no area: not gated)", rest, "-", ""), file=out)

    print("\nCritical paths (every line and branch of each function)", file=out)
    for crit in areas_doc.get("critical", []):
        problems: list[str] = []
        total = Tally()
        for entry in crit["entries"]:
            for rel, sel in resolve([entry], files).items():
                t = tally(files[rel], sel)
                total += t
                if t.missing_lines or t.missing_branches:
                    detail = []
                    if t.missing_lines:
                        detail.append(f"lines {_compress(t.missing_lines)}")
                    if t.missing_branches:
                        detail.append(f"branches {_arcs(t.missing_branches)}")
                    problems.append(f"      {_short(entry)}: missing {'; '.join(detail)}")
        verdict = "ok" if not problems else "BELOW TARGET"
        print(_row(f"{crit['name']} ({len(crit['entries'])} functions)", total, "100%", verdict), file=out)
        for line in problems:
            print(line, file=out)
        failed = failed or bool(problems)

    totals = cov.get("totals", {})
    if totals:
        print(f"\n  overall (all measured code): {totals.get('percent_covered', 0):.1f}%", file=out)
    print("coverage gate: " + ("FAILED (see BELOW TARGET above)" if failed else "passed"), file=out)
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON, help="coverage.py JSON report")
    parser.add_argument("--areas", type=Path, default=DEFAULT_AREAS, help="area map (TOML)")
    parser.add_argument(
        "--allow-missing", action="store_true", help="partial run: skip files not in the data"
    )
    args = parser.parse_args(argv)
    global ALLOW_MISSING
    ALLOW_MISSING = args.allow_missing
    try:
        if not args.json.is_file():
            raise MapError(f"{args.json} does not exist: run pytest with --cov --cov-report=json:{args.json}")
        cov = json.loads(args.json.read_text(encoding="utf-8"))
        areas_doc = tomllib.loads(args.areas.read_text(encoding="utf-8"))
        return evaluate(cov, areas_doc)
    except MapError as exc:
        print(f"coverage gate: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
