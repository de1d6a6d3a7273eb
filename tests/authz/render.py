"""Render tests/authz/matrix.yaml as the table in docs/permissions.md (between the authz-matrix markers).

``python -m tests.authz.render`` rewrites the table (``make openapi`` runs it); ``--check`` exits 1 when
the document is out of date (tests/authz/test_matrix.py checks the same).
"""

from __future__ import annotations

import sys

from tests.authz.matrix import COLUMN_TITLES, ROOT, SUCCESS_OUTCOMES, load, load_websocket

DOC_PATH = ROOT / "docs" / "permissions.md"
BEGIN = (
    "<!-- authz-matrix:begin (generated from tests/authz/matrix.yaml by `make openapi`; edit the YAML) -->"
)
END = "<!-- authz-matrix:end -->"


def _cell(status: int) -> str:
    return f"✓ {status}" if 200 <= status < 300 else str(status)


def table() -> str:
    columns, rows = load()
    header = ["route", *(COLUMN_TITLES[c] for c in columns), "RLS / rule behind it"]
    lines = [
        "| " + " | ".join(header) + " |",
        "|" + "|".join("---" for _ in header) + "|",
    ]
    for row in rows:
        route = f"`{row.route.replace('/api/voice', '')}`"
        if row.variant:
            route += f" ({row.variant})"
        cells = [route, *(_cell(row.expect[c]) for c in columns), row.rls]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def websocket_table() -> str:
    columns, _ = load()
    header = ["action", *(COLUMN_TITLES[c] for c in columns), "rule"]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    for row in load_websocket():
        cells = [f"`{row.route}`"]
        for c in columns:
            outcome = row.expect[c]
            cells.append(
                f"✓ {outcome}"
                if outcome in SUCCESS_OUTCOMES
                else f"`{outcome}`"
                if outcome.isupper()
                else outcome
            )
        lines.append("| " + " | ".join([*cells, row.rls]) + " |")
    return "\n".join(lines)


def render(document: str) -> str:
    start, end = document.index(BEGIN), document.index(END)
    generated = (
        table()
        + "\n\nWebSocket actions (`/ws`, tests/authz/test_ws_matrix.py; `401`: refused at `$connect`, "
        "✓ the reply, else the `error` code):\n\n" + websocket_table()
    )
    return document[: start + len(BEGIN)] + "\n" + generated + "\n" + document[end:]


def main(argv: list[str]) -> int:
    current = DOC_PATH.read_text(encoding="utf-8")
    updated = render(current)
    if "--check" in argv:
        if updated != current:
            print(f"{DOC_PATH} is stale: run `make openapi`", file=sys.stderr)
            return 1
        return 0
    if updated != current:
        DOC_PATH.write_text(updated, encoding="utf-8")
        print(f"wrote the authorization matrix into {DOC_PATH}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
