"""The migration runner and the idempotency of db/compat + db/schema."""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import make_conninfo
from psycopg.rows import dict_row

from tests.fixtures.db import create_org, create_user, create_voice_config, create_voice_session, with_dbname
from voice_local.migrate import DB_DIR, MigrationError, apply_migrations, migration_files
from voice_local.pg import EmbeddedPostgresError, embedded_database_url, resolve_database_url, stop_embedded

SQL_FILES = sorted(DB_DIR.glob("*/*.sql"))


@pytest.fixture
def fresh_db(admin_conn, database_url) -> Iterator[Callable[[], str]]:
    """``fresh_db()`` -> URL of a new empty database in the test server (dropped afterwards)."""
    created: list[str] = []

    def _make() -> str:
        name = f"voice_mig_{secrets.token_hex(4)}"
        admin_conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        created.append(name)
        return with_dbname(database_url, name)

    yield _make
    for name in created:
        admin_conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


# ACLs are compared as sets: a REVOKE + GRANT of the same privileges only reorders the aclitems.
SNAPSHOT = {
    "relations": """
        SELECT n.nspname, c.relname, c.relkind, c.relrowsecurity, c.relforcerowsecurity,
               (SELECT array_agg(a::text ORDER BY a::text) FROM unnest(c.relacl) a) AS acl,
               obj_description(c.oid, 'pg_class') AS comment
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname IN ('public', 'auth') AND c.relkind IN ('r', 'p', 'v', 'S', 'i')
        ORDER BY 1, 2""",
    "columns": """
        SELECT c.table_schema, c.table_name, c.column_name, c.ordinal_position, c.data_type,
               c.character_maximum_length, c.numeric_precision, c.is_nullable, c.column_default,
               col_description(format('%I.%I', c.table_schema, c.table_name)::regclass, c.ordinal_position)
                 AS comment
        FROM information_schema.columns c
        WHERE c.table_schema IN ('public', 'auth')
        ORDER BY 1, 2, 4""",
    "constraints": """
        SELECT conrelid::regclass::text AS rel, conname, pg_get_constraintdef(oid) AS def
        FROM pg_constraint WHERE connamespace IN ('public'::regnamespace, 'auth'::regnamespace)
        ORDER BY 1, 2""",
    "indexes": """
        SELECT schemaname, tablename, indexname, indexdef FROM pg_indexes
        WHERE schemaname IN ('public', 'auth') ORDER BY 1, 2, 3""",
    "policies": """
        SELECT schemaname, tablename, policyname, permissive, roles::text, cmd, qual, with_check
        FROM pg_policies WHERE schemaname IN ('public', 'auth') ORDER BY 1, 2, 3""",
    "triggers": """
        SELECT tgrelid::regclass::text AS rel, tgname, pg_get_triggerdef(oid) AS def, tgenabled
        FROM pg_trigger WHERE NOT tgisinternal ORDER BY 1, 2""",
    "functions": """
        SELECT p.oid::regprocedure::text AS signature, pg_get_functiondef(p.oid) AS def,
               (SELECT array_agg(a::text ORDER BY a::text) FROM unnest(p.proacl) a) AS acl,
               p.prosecdef, p.provolatile, p.proconfig::text
        FROM pg_proc p WHERE p.pronamespace IN ('public'::regnamespace, 'auth'::regnamespace)
        ORDER BY 1""",
    "roles": """
        SELECT rolname, rolbypassrls, rolinherit, rolcanlogin FROM pg_roles
        WHERE rolname IN ('anon', 'authenticated', 'service_role') ORDER BY 1""",
    "schema_acl": "SELECT nspname, (SELECT array_agg(a::text ORDER BY a::text) FROM unnest(nspacl) a) AS acl "
    "FROM pg_namespace WHERE nspname IN ('public', 'auth') ORDER BY 1",
}


def catalog_snapshot(url: str) -> dict[str, list[dict]]:
    with psycopg.connect(url, row_factory=dict_row) as conn:
        return {name: conn.execute(query).fetchall() for name, query in SNAPSHOT.items()}


DATA_TABLES = (
    "public.orgs",
    "auth.users",
    "public.org_members",
    "public.user_profiles",
    "public.kb_bases",
    "public.voice_configs",
    "public.voice_sessions",
    "public.voice_session_status_history",
    "public.voice_session_kb",
    "public.voice_transcripts",
    "public.voice_transcript_segments",
    "public.voice_analytics",
    "public.voice_credentials",
)


def data_snapshot(url: str) -> dict[str, list]:
    with psycopg.connect(url, row_factory=dict_row) as conn:
        return {
            t: [
                r["row"]
                for r in conn.execute(f"SELECT to_jsonb(x) AS row FROM {t} x ORDER BY 1::text").fetchall()
            ]
            for t in DATA_TABLES
        }


def populate(url: str) -> None:
    with psycopg.connect(url, autocommit=True, row_factory=dict_row) as conn:
        org = create_org(conn)
        user = create_user(conn, org, "org_admin")
        config = create_voice_config(conn, org, user)
        session = create_voice_session(conn, org, user, status="completed", config_id=config["id"])
        kb = conn.execute(
            "INSERT INTO public.kb_bases (org_id, name) VALUES (%s, 'KB') RETURNING id", (org.id,)
        )
        conn.execute(
            "INSERT INTO public.voice_session_kb (session_id, kb_id, added_by) VALUES (%s, %s, %s)",
            (session["id"], kb.fetchone()["id"], user.id),
        )
        conn.execute(
            "INSERT INTO public.voice_transcripts (session_id, created_by) VALUES (%s, %s)",
            (session["id"], user.id),
        )
        conn.execute(
            "INSERT INTO public.voice_transcript_segments (session_id, seq, speaker, text) "
            "VALUES (%s, 0, 'bot', 'Hi')",
            (session["id"],),
        )
        conn.execute(
            "INSERT INTO public.voice_analytics (session_id, created_by) VALUES (%s, %s)",
            (session["id"], user.id),
        )
        conn.execute(
            "INSERT INTO public.voice_credentials (org_id, service_name, credentials_secret_arn, created_by) "
            "VALUES (NULL, 'daily', 'arn:aws:secretsmanager:us-east-1:123456789012:secret:d-AbCdEf', %s)",
            (user.id,),
        )


def ledger(url: str) -> dict[str, str]:
    with psycopg.connect(url) as conn:
        return dict(conn.execute("SELECT filename, checksum FROM public.module_voice_migrations").fetchall())


# --- the runner -------------------------------------------------------------------------------------------


def test_files_are_ordered_compat_then_schema():
    names = [m.name for m in migration_files()]
    assert names[0].startswith("compat/") and names[-1].startswith("schema/")
    assert names == sorted(names, key=lambda n: (not n.startswith("compat/"), n))
    assert all(re.fullmatch(r"(compat|schema)/\d{3}-[a-z0-9-]+\.sql", n) for n in names), names


def test_fresh_apply_then_skip(fresh_db):
    url = fresh_db()
    names = [m.name for m in migration_files()]
    assert apply_migrations(url) == [(n, "applied") for n in names]
    assert apply_migrations(url) == [(n, "skipped") for n in names]
    assert ledger(url) == {m.name: hashlib.sha256(m.path.read_bytes()).hexdigest() for m in migration_files()}


def test_reapplying_everything_changes_nothing_and_keeps_data(fresh_db):
    url = fresh_db()
    apply_migrations(url)
    populate(url)
    catalog, data = catalog_snapshot(url), data_snapshot(url)
    assert all(data[t] for t in DATA_TABLES)  # the comparison below is not vacuous
    assert {r["relname"] for r in catalog["relations"]} >= {"voice_sessions", "voice_transcript_segments"}
    results = apply_migrations(url, force=True)
    assert {outcome for _, outcome in results} == {"reapplied"}
    assert catalog_snapshot(url) == catalog
    assert data_snapshot(url) == data


def test_changed_file_is_reapplied_and_new_file_applied(fresh_db, tmp_path):
    url = fresh_db()
    db_dir = tmp_path / "db"
    shutil.copytree(DB_DIR, db_dir)
    apply_migrations(url, db_dir=db_dir)
    changed = db_dir / "schema" / "003-voice-sessions.sql"
    changed.write_text(
        changed.read_text() + "\nCOMMENT ON COLUMN public.voice_sessions.failure_reason IS 'why';\n"
    )
    (db_dir / "schema" / "999-extra.sql").write_text(
        "CREATE INDEX IF NOT EXISTS idx_probe_candidate_name ON public.voice_sessions (candidate_name);\n"
    )
    results = dict(apply_migrations(url, db_dir=db_dir))
    assert results.pop("schema/003-voice-sessions.sql") == "reapplied"
    assert results.pop("schema/999-extra.sql") == "applied"
    assert set(results.values()) == {"skipped"}
    assert ledger(url)["schema/003-voice-sessions.sql"] == hashlib.sha256(changed.read_bytes()).hexdigest()
    with psycopg.connect(url) as conn:
        comment = conn.execute(
            "SELECT col_description('public.voice_sessions'::regclass, "
            "(SELECT attnum FROM pg_attribute WHERE attrelid = 'public.voice_sessions'::regclass "
            "AND attname = 'failure_reason'))"
        ).fetchone()
        assert comment == ("why",)
        assert conn.execute("SELECT to_regclass('public.idx_probe_candidate_name')").fetchone()[0] is not None
    assert {o for _, o in apply_migrations(url, db_dir=db_dir)} == {"skipped"}


def test_failing_file_is_rolled_back_and_not_recorded(fresh_db, tmp_path):
    url = fresh_db()
    db_dir = tmp_path / "db"
    shutil.copytree(DB_DIR, db_dir)
    (db_dir / "schema" / "999-broken.sql").write_text(
        "CREATE TABLE public.voice_probe_half_done (id int);\nSELECT 1 / 0;\n"
    )
    with pytest.raises(MigrationError, match=r"schema/999-broken\.sql failed: division by zero"):
        apply_migrations(url, db_dir=db_dir)
    recorded = ledger(url)
    assert "schema/999-broken.sql" not in recorded
    assert len(recorded) == len(migration_files())  # everything before it was applied and recorded
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT to_regclass('public.voice_probe_half_done')").fetchone() == (None,)


def test_compat_keeps_existing_platform_objects(fresh_db):
    """On a database that already has the platform's objects, compat creates nothing over them."""
    url = fresh_db()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            """
            CREATE SCHEMA auth;
            CREATE TABLE auth.users (id uuid PRIMARY KEY, email text, phone text);
            CREATE TABLE public.orgs (id uuid PRIMARY KEY, name text, slug text UNIQUE, plan text,
                                      created_at timestamptz DEFAULT now());
            CREATE FUNCTION public.is_sys_admin() RETURNS boolean LANGUAGE sql STABLE
                AS $$ SELECT false /*platform*/ $$;
            """
        )
    apply_migrations(url)
    with psycopg.connect(url) as conn:
        assert (
            "platform"
            in conn.execute("SELECT prosrc FROM pg_proc WHERE proname = 'is_sys_admin'").fetchone()[0]
        )
        assert conn.execute(
            "SELECT count(*) FROM information_schema.columns "
            "WHERE table_name = 'orgs' AND column_name = 'plan'"
        ).fetchone() == (1,)
        # Not a table compat created: its security is the platform's business.
        assert conn.execute(
            "SELECT relrowsecurity FROM pg_class WHERE oid = 'public.orgs'::regclass"
        ).fetchone() == (False,)
        assert conn.execute("SELECT count(*) FROM pg_policies WHERE tablename = 'orgs'").fetchone() == (0,)
        # The compat tables that were absent were created, with their policies.
        assert conn.execute(
            "SELECT relrowsecurity FROM pg_class WHERE oid = 'public.org_members'::regclass"
        ).fetchone() == (True,)


def test_non_superuser_owner(admin_conn, database_url):
    """The production shape: the schema owner is not a superuser (Supabase's postgres). Migrations work,
    FORCEd RLS hides rows from the owner itself, and the audit trigger still writes as that owner."""
    suffix = secrets.token_hex(4)
    role, dbname = f"voice_owner_{suffix}", f"voice_owned_{suffix}"
    try:
        admin_conn.execute(
            sql.SQL("CREATE ROLE {} LOGIN CREATEDB PASSWORD 'owner-pw'").format(sql.Identifier(role))
        )
        admin_conn.execute(
            sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(dbname), sql.Identifier(role))
        )
    except psycopg.errors.InsufficientPrivilege:
        pytest.skip("the test server's role may not create roles")
    owner_url = make_conninfo(database_url, dbname=dbname, user=role, password="owner-pw")
    super_url = with_dbname(database_url, dbname)
    try:
        # Not a member of the API roles and may not grant them to itself: a warning, not a failure.
        assert {o for _, o in apply_migrations(owner_url)} == {"applied"}
        with psycopg.connect(super_url, autocommit=True, row_factory=dict_row) as sup:
            org = create_org(sup)
            member = create_user(sup, org)
            existing = create_voice_session(sup, org, member)
            sup.execute(
                sql.SQL("GRANT anon, authenticated, service_role TO {}").format(sql.Identifier(role))
            )  # what the platform does for its API connection role
        with psycopg.connect(owner_url, row_factory=dict_row) as conn:
            assert conn.execute(
                "SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user"
            ).fetchone() == {
                "rolsuper": False,
                "rolbypassrls": False,
            }
            # Forgot SET ROLE: FORCEd RLS shows the owner nothing rather than everything.
            assert conn.execute("SELECT count(*) AS n FROM public.voice_sessions").fetchone()["n"] == 0
            conn.rollback()
            conn.execute(
                "SELECT set_config('role', 'authenticated', true), "
                "set_config('request.jwt.claims', %s, true)",
                (json.dumps({"sub": str(member.id), "role": "authenticated"}),),
            )
            assert conn.execute("SELECT count(*) AS n FROM public.voice_sessions").fetchone()["n"] == 1
            new = conn.execute(
                "INSERT INTO public.voice_sessions (org_id, interview_type, created_by) "
                "VALUES (%s, 'technical', %s) RETURNING id",
                (org.id, member.id),
            ).fetchone()["id"]
            conn.execute("UPDATE public.voice_sessions SET status = 'ready' WHERE id = %s", (new,))
            history = conn.execute(
                "SELECT from_status, to_status FROM public.voice_session_status_history "
                "WHERE session_id = %s ORDER BY id",
                (new,),
            ).fetchall()
            assert [(h["from_status"], h["to_status"]) for h in history] == [
                (None, "pending"),
                ("pending", "ready"),
            ]
            conn.commit()
        assert existing["status"] == "pending"
    finally:
        admin_conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(dbname)))
        admin_conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))


# --- static checks on the SQL files -----------------------------------------------------------------------


DESTRUCTIVE = re.compile(
    r"\b(DROP\s+TABLE|TRUNCATE|DELETE\s+FROM|DROP\s+SCHEMA|DROP\s+DATABASE|DROP\s+COLUMN|DROP\s+FUNCTION|"
    r"DROP\s+INDEX|DROP\s+OWNED|DROP\s+ROLE)\b",
    re.IGNORECASE,
)


@pytest.mark.parametrize("path", SQL_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_no_destructive_statements(path: Path):
    assert not DESTRUCTIVE.findall(path.read_text()), "migrations never drop tables/columns or delete data"


def test_destructive_pattern_catches_the_seed_defect():
    # Guards the static check above against a pattern that silently matches nothing.
    assert DESTRUCTIVE.search("DROP TABLE IF EXISTS public.voice_sessions CASCADE;")
    assert DESTRUCTIVE.search("delete   from public.voice_sessions")
    assert DESTRUCTIVE.search("TRUNCATE public.voice_transcripts")
    assert not DESTRUCTIVE.search(
        "DROP POLICY IF EXISTS x ON public.voice_sessions; DROP TRIGGER IF EXISTS y ON t;"
    )


def test_compat_never_replaces_platform_objects():
    for path in sorted((DB_DIR / "compat").glob("*.sql")):
        text = path.read_text()
        assert not re.search(r"CREATE\s+OR\s+REPLACE", text, re.IGNORECASE), path.name
        # Every CREATE FUNCTION / CREATE TABLE / CREATE ROLE sits behind an existence check.
        for match in re.finditer(r"CREATE\s+(FUNCTION|ROLE|SCHEMA)\s+([\w.]+)", text, re.IGNORECASE):
            before = text[: match.start()]
            assert re.search(
                r"IF\s+(NOT\s+EXISTS|to_regprocedure|to_regclass)", before[-400:], re.IGNORECASE
            ), (
                path.name,
                match.group(0),
            )


def test_schema_replaces_only_module_functions():
    allowed = re.compile(
        r"public\.(voice_\w+|can_manage_voice_session|get_voice_session_details|"
        r"get_org_voice_stats|update_voice_session_status)$"
    )
    for path in sorted((DB_DIR / "schema").glob("*.sql")):
        for name in re.findall(
            r"CREATE\s+OR\s+REPLACE\s+FUNCTION\s+([\w.]+)", path.read_text(), re.IGNORECASE
        ):
            assert allowed.match(name), (path.name, name)
        assert not re.search(r"CREATE\s+TABLE\s+(?!IF\s+NOT\s+EXISTS)", path.read_text(), re.IGNORECASE), (
            path.name
        )


# --- command line and embedded server ---------------------------------------------------------------------


def test_cli_prints_one_line_per_file(fresh_db):
    url = fresh_db()
    result = subprocess.run(
        [sys.executable, "-m", "voice_local.migrate", "--database-url", url],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert [line.split() for line in result.stdout.splitlines()] == [
        ["applied", m.name] for m in migration_files()
    ]
    assert {o for _, o in apply_migrations(url)} == {"skipped"}  # recorded in the same ledger


def test_cli_reports_unreachable_database_without_traceback():
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "voice_local.migrate",
            "--database-url",
            "postgresql://nobody@127.0.0.1:9/none?connect_timeout=2",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert result.stderr.startswith("migrate: cannot connect to the database")
    assert "Traceback" not in result.stderr


def test_embedded_server_persists_data():
    # Not under tmp_path: a concurrently starting pytest run chmods /tmp/pytest-of-<user> to 0700, which
    # locks out the `pgserver` system user that PostgreSQL runs as when the tests run as root.
    data_dir = Path(tempfile.mkdtemp(prefix="voice-embedded-")) / "pgdata"
    url = embedded_database_url(data_dir)
    assert embedded_database_url(data_dir) == url  # reused, not started twice
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE kept (v text); INSERT INTO kept VALUES ('still here')")
    stop_embedded(data_dir)
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(url, connect_timeout=2).close()
    url = embedded_database_url(data_dir)
    try:
        with psycopg.connect(url) as conn:
            assert conn.execute("SELECT v FROM kept").fetchone() == ("still here",)
    finally:
        stop_embedded(data_dir)
        shutil.rmtree(data_dir.parent, ignore_errors=True)


def test_embedded_server_failure_is_a_clear_error(tmp_path):
    blocked = tmp_path / "pgdata"
    blocked.write_text("not a directory")
    with pytest.raises(EmbeddedPostgresError) as caught:
        embedded_database_url(blocked)
    message = str(caught.value)
    assert str(blocked) in message and "DATABASE_URL" in message
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


def test_resolve_prefers_database_url(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://elsewhere.example/voice")
    assert resolve_database_url() == "postgresql://elsewhere.example/voice"
