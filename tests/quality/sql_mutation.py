"""Mutation testing of the session state machine, which lives in SQL (db/schema/004-voice-session-status.sql).

Python mutation tools do not mutate PL/pgSQL, so this harness does: each mutant is a copy of the schema file
with one rule changed (a status swapped, a transition dropped or added, a guard inverted, a lifecycle
assignment removed). For each one, the mutated file is applied (it is idempotent: CREATE OR REPLACE,
DROP/CREATE TRIGGER) to ``template1`` of a PostgreSQL server whose ``template1`` already carries the whole
schema, and the state-machine tests run against a database created from it (tests/fixtures/db.py creates
one per run from ``TEST_DATABASE_URL``; the migration ledger finds every file already applied, so the
mutated function stays in place). A mutant is killed when the tests fail.

    python -m tests.quality.sql_mutation [--server-url URL]   (make mutation runs it after mutmut)

Without ``--server-url`` an embedded PostgreSQL (pgserver) is started for the run.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCHEMA_FILE = ROOT / "db" / "schema" / "004-voice-session-status.sql"
TESTS = [
    "tests/integration/db/test_state_machine.py",
    "tests/integration/db/test_state_machine_mutants.py",
    "tests/integration/db/test_rpcs.py",
]


@dataclass(frozen=True)
class SqlMutant:
    name: str
    what: str
    old: str
    new: str
    count: int = 1  # how often ``old`` must occur (guards against the schema drifting from this list)

    def apply(self, text: str) -> str:
        found = text.count(self.old)
        if found != self.count:
            raise ValueError(
                f"{self.name}: expected {self.count} occurrence(s) of {self.old!r}, found {found}"
            )
        return text.replace(self.old, self.new)


def _drop(src: str, target: str, keep: str) -> tuple[str, str]:
    return f"WHEN '{src}' THEN p_to IN ({target})", f"WHEN '{src}' THEN p_to IN ({keep})"


_P = "'ready', 'failed', 'cancelled'"
_R = "'active', 'failed', 'cancelled'"
_A = "'completed', 'failed', 'cancelled'"

MUTANTS: list[SqlMutant] = [
    # --- the transition table (voice_session_transition_allowed) ---
    SqlMutant("table.pending-ready", "drop pending -> ready", *_drop("pending", _P, "'failed', 'cancelled'")),
    SqlMutant(
        "table.pending-failed", "drop pending -> failed", *_drop("pending", _P, "'ready', 'cancelled'")
    ),
    SqlMutant(
        "table.pending-cancelled", "drop pending -> cancelled", *_drop("pending", _P, "'ready', 'failed'")
    ),
    SqlMutant("table.ready-active", "drop ready -> active", *_drop("ready", _R, "'failed', 'cancelled'")),
    SqlMutant("table.ready-failed", "drop ready -> failed", *_drop("ready", _R, "'active', 'cancelled'")),
    SqlMutant("table.ready-cancelled", "drop ready -> cancelled", *_drop("ready", _R, "'active', 'failed'")),
    SqlMutant(
        "table.active-completed", "drop active -> completed", *_drop("active", _A, "'failed', 'cancelled'")
    ),
    SqlMutant(
        "table.active-failed", "drop active -> failed", *_drop("active", _A, "'completed', 'cancelled'")
    ),
    SqlMutant(
        "table.active-cancelled", "drop active -> cancelled", *_drop("active", _A, "'completed', 'failed'")
    ),
    SqlMutant(
        "table.pending+active",
        "allow pending -> active (skip ready)",
        *_drop("pending", _P, _P + ", 'active'"),
    ),
    SqlMutant("table.ready+completed", "allow ready -> completed", *_drop("ready", _R, _R + ", 'completed'")),
    SqlMutant(
        "table.active+pending", "allow active -> pending (back)", *_drop("active", _A, _A + ", 'pending'")
    ),
    SqlMutant(
        "table.final-open",
        "final states allow everything (ELSE true)",
        "        ELSE false\n",
        "        ELSE true\n",
    ),
    SqlMutant(
        "table.swap-pending-ready",
        "swap the pending and ready rows",
        "WHEN 'pending' THEN p_to IN ('ready', 'failed', 'cancelled')\n        WHEN 'ready' THEN",
        "WHEN 'ready' THEN p_to IN ('ready', 'failed', 'cancelled')\n        WHEN 'pending' THEN",
    ),
    SqlMutant(
        "table.completed-failed",
        "allow completed -> failed",
        "        ELSE false\n",
        "        WHEN 'completed' THEN p_to IN ('failed')\n        ELSE false\n",
    ),
    # --- a session is born pending (voice_sessions_before_insert) ---
    SqlMutant(
        "insert.any-status",
        "accept any initial status",
        "IF NEW.status IS NOT NULL AND NEW.status <> 'pending' THEN",
        "IF false THEN",
    ),
    SqlMutant(
        "insert.keep-started", "keep a given started_at on insert", "    NEW.started_at := NULL;\n", ""
    ),
    SqlMutant(
        "insert.keep-completed", "keep a given completed_at on insert", "    NEW.completed_at := NULL;\n", ""
    ),
    SqlMutant(
        "insert.keep-duration", "keep a given duration on insert", "    NEW.duration_seconds := NULL;\n", ""
    ),
    # --- transitions and lifecycle columns (voice_sessions_status_transition) ---
    SqlMutant(
        "update.authenticated-writes-lifecycle",
        "authenticated may write lifecycle columns",
        "IF current_user IN ('authenticated', 'anon') THEN",
        "IF current_user IN ('anon') THEN",
    ),
    SqlMutant(
        "update.lifecycle-guard-inverted",
        "lifecycle columns protected for privileged writers instead",
        "IF current_user IN ('authenticated', 'anon') THEN",
        "IF current_user NOT IN ('authenticated', 'anon') THEN",
    ),
    SqlMutant(
        "update.keep-started", "user may set started_at", "        NEW.started_at := OLD.started_at;\n", ""
    ),
    SqlMutant(
        "update.keep-completed",
        "user may set completed_at",
        "        NEW.completed_at := OLD.completed_at;\n",
        "",
    ),
    SqlMutant(
        "update.keep-duration",
        "user may set duration_seconds",
        "        NEW.duration_seconds := OLD.duration_seconds;\n",
        "",
    ),
    SqlMutant(
        "update.created-by-mutable",
        "created_by may change",
        "IF NEW.created_by IS DISTINCT FROM OLD.created_by THEN",
        "IF NEW.created_by IS DISTINCT FROM NEW.created_by THEN",
    ),
    SqlMutant(
        "update.same-status-validated",
        "a same-status update is validated as a transition",
        "IF NEW.status IS NOT DISTINCT FROM OLD.status THEN",
        "IF false THEN",
    ),
    SqlMutant(
        "update.check-inverted",
        "legal transitions refused, illegal ones allowed",
        "AND NOT public.voice_session_transition_allowed(OLD.status, NEW.status) THEN",
        "AND public.voice_session_transition_allowed(OLD.status, NEW.status) THEN",
    ),
    SqlMutant(
        "update.check-dropped",
        "no transition check at all",
        "AND NOT public.voice_session_transition_allowed(OLD.status, NEW.status) THEN",
        "AND false THEN",
    ),
    SqlMutant(
        "update.unknown-status-vs409",
        "an unknown status raises VS409 instead of the check constraint's 23514",
        "IF NEW.status IN ('pending', 'ready', 'active', 'completed', 'failed', 'cancelled')\n       AND NOT",
        "IF NOT",
    ),
    SqlMutant(
        "update.started-on-ready",
        "started_at set on ready instead of active",
        "IF NEW.status = 'active' THEN",
        "IF NEW.status = 'ready' THEN",
    ),
    SqlMutant(
        "update.started-ignores-writer",
        "an exact start time from service_role is ignored",
        "NEW.started_at := coalesce(NEW.started_at, now());",
        "NEW.started_at := now();",
    ),
    SqlMutant(
        "update.completed-before-start",
        "completed_at may precede started_at",
        "NEW.completed_at := greatest(coalesce(NEW.completed_at, now()), NEW.started_at);",
        "NEW.completed_at := coalesce(NEW.completed_at, now());",
    ),
    SqlMutant(
        "update.cancelled-not-final",
        "no completed_at/duration on cancelled",
        "ELSIF NEW.status IN ('completed', 'failed', 'cancelled') THEN",
        "ELSIF NEW.status IN ('completed', 'failed') THEN",
    ),
    SqlMutant(
        "update.failed-not-final",
        "no completed_at/duration on failed",
        "ELSIF NEW.status IN ('completed', 'failed', 'cancelled') THEN",
        "ELSIF NEW.status IN ('completed', 'cancelled') THEN",
    ),
    SqlMutant(
        "update.duration-without-start",
        "a duration (0) for a session that never started",
        "CASE WHEN NEW.started_at IS NOT NULL",
        "CASE WHEN true",
    ),
    SqlMutant(
        "update.duration-ignores-writer",
        "an exact duration from service_role is ignored",
        "NEW.duration_seconds := coalesce(\n            NEW.duration_seconds,\n",
        "NEW.duration_seconds := coalesce(\n            NULL,\n",
    ),
    SqlMutant(
        "update.duration-unclamped",
        "duration not clamped at 0",
        "THEN greatest(0, round(extract(epoch FROM NEW.completed_at - NEW.started_at)))::integer",
        "THEN round(extract(epoch FROM NEW.completed_at - NEW.started_at))::integer",
    ),
    SqlMutant(
        "trigger.status-only",
        "lifecycle columns protected only on updates of status",
        "    BEFORE UPDATE ON public.voice_sessions\n",
        "    BEFORE UPDATE OF status ON public.voice_sessions\n",
    ),
    # --- the audit trail (voice_sessions_record_status) ---
    SqlMutant(
        "history.created-by-creator",
        "creation recorded as the creator even when someone else inserted",
        "coalesce(auth.uid(), NEW.created_by)",
        "NEW.created_by",
    ),
    SqlMutant(
        "history.changed-by-updater",
        "transition recorded as updated_by even for a signed-in user",
        "coalesce(auth.uid(), NEW.updated_by)",
        "NEW.updated_by",
    ),
    SqlMutant(
        "history.no-cancel-reason",
        "no reason recorded on cancelled",
        "CASE WHEN NEW.status IN ('failed', 'cancelled') THEN NEW.failure_reason END",
        "CASE WHEN NEW.status IN ('failed') THEN NEW.failure_reason END",
    ),
    SqlMutant(
        "history.no-fail-reason",
        "no reason recorded on failed",
        "CASE WHEN NEW.status IN ('failed', 'cancelled') THEN NEW.failure_reason END",
        "CASE WHEN NEW.status IN ('cancelled') THEN NEW.failure_reason END",
    ),
    SqlMutant(
        "history.not-recorded",
        "transitions not recorded",
        "    ELSIF NEW.status IS DISTINCT FROM OLD.status THEN\n        INSERT",
        "    ELSIF false THEN\n        INSERT",
    ),
    SqlMutant(
        "history.same-status-recorded",
        "the function would record same-status updates",
        "    ELSIF NEW.status IS DISTINCT FROM OLD.status THEN\n        INSERT",
        "    ELSIF true THEN\n        INSERT",
    ),
]

# Mutants no test can kill because they do not change behaviour, with the reason (docs/mutation.md).
EQUIVALENT: dict[str, str] = {
    "update.duration-unclamped": (
        "completed_at is clamped to >= started_at on the line before, so the epoch difference is never "
        "negative and greatest(0, ...) never changes it"
    ),
    "history.same-status-recorded": (
        "the AFTER UPDATE trigger only fires WHEN (OLD.status IS DISTINCT FROM NEW.status), so the "
        "function's own check is always true there"
    ),
}


@dataclass
class Outcome:
    mutant: SqlMutant
    status: str  # killed | survived | error
    seconds: float


def _psql(url: str, sql_text: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql_text)  # type: ignore[arg-type]


@contextlib.contextmanager
def pg_server(server_url: str | None, workdir: Path) -> Iterator[str]:
    """A server URL whose template1 carries the module's schema (migrated once)."""
    if server_url:
        yield server_url
        return
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pgserver

    server = pgserver.get_server(tempfile.mkdtemp(prefix="voice-mut-pg-", dir=workdir), cleanup_mode="delete")
    try:
        url = server.get_uri()
        import psycopg

        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("ALTER SYSTEM SET fsync = off")
            conn.execute("ALTER SYSTEM SET full_page_writes = off")
            conn.execute("ALTER SYSTEM SET synchronous_commit = off")
            conn.execute("SELECT pg_reload_conf()")
        yield url
    finally:
        server.cleanup()


def prepare_template(server_url: str) -> str:
    """Migrate template1 (so every test database starts with the schema) and return its URL."""
    from tests.fixtures.db import with_dbname
    from voice_local.migrate import apply_migrations

    template = with_dbname(server_url, "template1")
    apply_migrations(template)
    return template


def run_tests(server_url: str, tests: list[str]) -> int:
    env = {**os.environ, "TEST_DATABASE_URL": server_url}
    env.pop("DATABASE_URL", None)
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "-p", "no:randomly", *tests],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=False,
    )
    return proc.returncode


def run(server_url: str, *, tests: list[str] = TESTS, only: list[str] | None = None) -> list[Outcome]:
    template = prepare_template(server_url)
    original = SCHEMA_FILE.read_text(encoding="utf-8")
    outcomes: list[Outcome] = []
    try:
        t0 = time.monotonic()
        if run_tests(server_url, tests) != 0:
            raise SystemExit(
                "sql mutation: the state-machine tests fail on the unmutated schema; fix them first"
            )
        print(f"  clean run of the state-machine tests: {time.monotonic() - t0:.1f}s", flush=True)
        for mutant in MUTANTS:
            if only and mutant.name not in only:
                continue
            t0 = time.monotonic()
            _psql(template, mutant.apply(original))
            rc = run_tests(server_url, tests)
            status = {0: "survived", 1: "killed"}.get(rc, "error")
            outcomes.append(Outcome(mutant, status, time.monotonic() - t0))
            print(f"  {status:<9} {mutant.name:<40} {mutant.what}", flush=True)
    finally:
        _psql(template, original)
    return outcomes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="SQL mutation testing of the session state machine")
    parser.add_argument("--server-url", help="PostgreSQL server (superuser); default: an embedded pgserver")
    parser.add_argument("--only", nargs="*", help="mutant names")
    args = parser.parse_args(argv)
    workdir = ROOT / "build" / "mutation"
    workdir.mkdir(parents=True, exist_ok=True)
    with pg_server(args.server_url, workdir) as url:
        outcomes = run(url, only=args.only)
    killed = sum(o.status == "killed" for o in outcomes)
    print(f"db/schema/004-voice-session-status.sql: {killed}/{len(outcomes)} killed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
