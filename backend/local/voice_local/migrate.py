"""Apply db/compat then db/schema to a PostgreSQL database.

``python -m voice_local.migrate [--database-url URL]`` (``make migrate``). Each file runs in its own
transaction and is recorded with its sha256 in ``public.module_voice_migrations``: an unchanged file is
skipped, a changed one is re-applied (every file is idempotent, so re-running it converges the database
to the file without touching data) and its checksum updated. A session advisory lock serializes
concurrent runners (the local stack and a test run starting together).
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import psycopg

DB_DIR = Path(__file__).resolve().parents[3] / "db"
STAGES = ("compat", "schema")
LEDGER = "public.module_voice_migrations"
# pg_advisory_lock key: any constant unique to this module ("voice" + "mig" in ASCII).
_LOCK_KEY = 0x766F696365_6D6967 & 0x7FFFFFFFFFFFFFFF

Outcome = tuple[str, str]  # (file, "applied" | "skipped" | "reapplied")


class MigrationError(RuntimeError):
    """A migration file failed; its transaction was rolled back and it was not recorded."""


@dataclass(frozen=True)
class MigrationFile:
    name: str  # "compat/001-roles-and-auth.sql": the ledger key, stable across checkouts
    path: Path

    @property
    def sql(self) -> str:
        return self.path.read_text(encoding="utf-8")

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.path.read_bytes()).hexdigest()


def migration_files(db_dir: Path = DB_DIR) -> list[MigrationFile]:
    """The files to apply, in order: db/compat/*.sql, then db/schema/*.sql, each sorted by name."""
    return [
        MigrationFile(f"{stage}/{path.name}", path)
        for stage in STAGES
        for path in sorted((db_dir / stage).glob("*.sql"))
    ]


_LEDGER_DDL = f"""
CREATE TABLE IF NOT EXISTS {LEDGER} (
    filename text PRIMARY KEY,
    checksum text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE {LEDGER} ENABLE ROW LEVEL SECURITY;
"""
# Kept apart: the API roles may not exist yet on the very first run (compat 001 creates them).
_LEDGER_REVOKE = f"""
DO $$ BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'anon')
       AND EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'authenticated') THEN
        REVOKE ALL ON {LEDGER} FROM PUBLIC, anon, authenticated;
    END IF;
END $$;
"""


def apply_migrations(
    conninfo: str, *, db_dir: Path = DB_DIR, force: bool = False, echo: bool = False
) -> list[Outcome]:
    """Apply every migration file to ``conninfo``; returns ``(file, outcome)`` in order of application.

    ``force`` re-applies unchanged files too (used to prove idempotency); ``echo`` prints one line per
    file as it completes.
    """
    results: list[Outcome] = []
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (_LOCK_KEY,))
        try:
            with conn.transaction():
                conn.execute(_LEDGER_DDL)
            recorded: dict[str, str] = dict(
                conn.execute(f"SELECT filename, checksum FROM {LEDGER}").fetchall()
            )
            for migration in migration_files(db_dir):
                checksum = migration.checksum
                previous = recorded.get(migration.name)
                if previous == checksum and not force:
                    outcome = "skipped"
                else:
                    _apply_one(conn, migration, checksum)
                    outcome = "applied" if previous is None else "reapplied"
                results.append((migration.name, outcome))
                if echo:
                    print(f"{outcome:<9} {migration.name}", flush=True)
            with conn.transaction():
                conn.execute(_LEDGER_REVOKE)
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (_LOCK_KEY,))
    return results


def _apply_one(conn: psycopg.Connection[tuple[object, ...]], migration: MigrationFile, checksum: str) -> None:
    try:
        with conn.transaction():
            # No parameters: psycopg sends the file with the simple query protocol, so a file may hold
            # many statements, DO blocks and dollar-quoted bodies.
            conn.execute(migration.sql.encode("utf-8"))
            conn.execute(
                f"""INSERT INTO {LEDGER} (filename, checksum) VALUES (%s, %s)
                    ON CONFLICT (filename) DO UPDATE SET checksum = EXCLUDED.checksum, applied_at = now()""",
                (migration.name, checksum),
            )
    except psycopg.Error as exc:
        diag = exc.diag
        where = f" ({diag.context.splitlines()[0]})" if diag.context else ""
        raise MigrationError(f"{migration.name} failed: {diag.message_primary or exc}{where}") from exc


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m voice_local.migrate", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--database-url",
        help="PostgreSQL URL (default: $DATABASE_URL, else the embedded server under .local/pgdata)",
    )
    parser.add_argument("--force", action="store_true", help="re-apply unchanged files as well")
    args = parser.parse_args(argv)

    from voice_local.pg import EmbeddedPostgresError, resolve_database_url

    try:
        url = args.database_url or resolve_database_url()
        apply_migrations(url, force=args.force, echo=True)
    except (EmbeddedPostgresError, MigrationError) as exc:
        print(f"migrate: {exc}", file=sys.stderr)
        return 1
    except psycopg.OperationalError as exc:
        print(f"migrate: cannot connect to the database: {exc}".rstrip(), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
