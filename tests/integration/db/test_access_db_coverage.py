"""access_common.db against the real server: configuration from Secrets Manager, a dropped connection, the
cursor proxy, and the mapping of every class of database error to the envelope (contracts: "psycopg
errors map to the envelope")."""

from __future__ import annotations

import json
import uuid

import psycopg
import pytest

from access_common import db
from access_common.errors import (
    BadRequestError,
    ConflictError,
    ForbiddenError,
    NotFoundError,
    ServiceUnavailableError,
    ValidationError,
)
from access_common.identity import Principal


@pytest.fixture
def fresh_connection(database_url, monkeypatch):
    """The container's connection and URL forgotten before and after the test (they are module state)."""
    db.reset_connection()
    yield
    monkeypatch.undo()
    db.reset_connection()


def test_url_from_secrets_manager_json(fresh_connection, database_url, aws_env, monkeypatch):
    import boto3

    sm = boto3.client("secretsmanager", endpoint_url=aws_env["AWS_ENDPOINT_URL"])
    secret = json.dumps({"url": database_url})
    arn = sm.create_secret(Name=f"test/db/{uuid.uuid4()}", SecretString=secret)["ARN"]
    monkeypatch.delenv("DATABASE_URL")
    monkeypatch.setenv("DATABASE_SECRET_ARN", arn)
    assert db.database_url() == database_url
    with db.service_tx() as cur:
        assert cur.execute("SELECT current_user AS who").fetchone() == {"who": "service_role"}


def test_url_from_secrets_manager_plain(fresh_connection, database_url, aws_env, monkeypatch):
    import boto3

    sm = boto3.client("secretsmanager", endpoint_url=aws_env["AWS_ENDPOINT_URL"])
    arn = sm.create_secret(Name=f"test/db/{uuid.uuid4()}", SecretString=database_url)["ARN"]
    monkeypatch.delenv("DATABASE_URL")
    monkeypatch.setenv("DATABASE_SECRET_ARN", arn)
    assert db.database_url() == database_url


def test_not_configured(fresh_connection, monkeypatch):
    monkeypatch.delenv("DATABASE_URL")
    monkeypatch.delenv("DATABASE_SECRET_ARN", raising=False)
    with pytest.raises(ServiceUnavailableError) as caught:
        db.database_url()
    assert caught.value.code == "DB_NOT_CONFIGURED"


def test_unreachable_server_is_503(fresh_connection, monkeypatch):
    from tests.fixtures.aws import free_port

    monkeypatch.setenv("DATABASE_URL", f"postgresql://nobody@127.0.0.1:{free_port()}/none")
    with pytest.raises(ServiceUnavailableError) as caught, db.service_tx():
        pass
    assert caught.value.code == "DB_UNAVAILABLE"


def test_a_connection_dropped_while_idle_is_reopened(fresh_connection, admin_conn, monkeypatch):
    with db.service_tx() as cur:
        pid = cur.execute("SELECT pg_backend_pid() AS pid").fetchone()["pid"]
    admin_conn.execute("SELECT pg_terminate_backend(%s)", (pid,))
    monkeypatch.setattr(db, "_last_used", 0.0)  # idle long enough to be checked before use
    with db.service_tx() as cur:
        assert cur.execute("SELECT pg_backend_pid() AS pid").fetchone()["pid"] != pid


def test_a_connection_dropped_during_a_request_is_503_then_replaced(fresh_connection, admin_conn):
    with db.service_tx() as cur:
        pid = cur.execute("SELECT pg_backend_pid() AS pid").fetchone()["pid"]
    with pytest.raises(ServiceUnavailableError), db.service_tx() as cur:
        admin_conn.execute("SELECT pg_terminate_backend(%s)", (pid,))
        cur.execute("SELECT 1").fetchone()
    with db.service_tx() as cur:  # the broken connection was dropped, a new one opened
        assert cur.execute("SELECT pg_backend_pid() AS pid").fetchone()["pid"] != pid


def test_failed_rollback_drops_the_connection(fresh_connection, monkeypatch):
    with db.service_tx() as cur:
        cur.execute("SELECT 1").fetchone()
    conn = db._conn
    assert conn is not None
    real_execute = conn.execute

    def refuse_rollback(query, *args, **kwargs):
        if query == "ROLLBACK":
            raise psycopg.OperationalError("server went away during rollback")
        return real_execute(query, *args, **kwargs)

    monkeypatch.setattr(conn, "execute", refuse_rollback)
    with pytest.raises(RuntimeError), db.service_tx():
        raise RuntimeError("handler failed")
    assert db._conn is None


def test_cursor_proxy(fresh_connection, make_org, make_user, as_user):
    org = make_org()
    user = make_user(org, "org_admin")
    with db.user_tx(Principal(user.id, user.email)) as cur:
        cur.execute("CREATE TEMP TABLE t (n int) ON COMMIT DROP")
        cur.executemany("INSERT INTO t (n) VALUES (%s)", [(1,), (2,), (3,)])
        cur.execute("UPDATE t SET n = n + 1 WHERE n > 1")
        assert cur.rowcount == 2  # syncs the pipeline to learn it
        assert cur.execute("SELECT sum(n) AS s FROM t").fetchone() == {"s": 8}
        assert cur.description is not None  # anything else is the psycopg cursor's
        assert cur.syncs >= 2


@pytest.mark.parametrize(
    ("statement", "error", "code"),
    [
        ("SELECT 1 / 0", BadRequestError, "BAD_REQUEST"),  # class 22
        ("SELECT 'x'::uuid", BadRequestError, "BAD_REQUEST"),  # 22P02
        ("DO $$ BEGIN RAISE EXCEPTION 'refused by a rule'; END $$", BadRequestError, "BAD_REQUEST"),
        ("SELECT * FROM public.module_voice_migrations", ForbiddenError, "FORBIDDEN"),  # 42501
    ],
)
def test_error_mapping_as_a_user(statement, error, code, fresh_connection, make_org, make_user):
    user = make_user(make_org())
    with pytest.raises(error) as caught, db.user_tx(Principal(user.id)) as cur:
        cur.execute(statement).fetchall()
    assert caught.value.code == code


def test_raise_exception_keeps_its_message(fresh_connection):
    with pytest.raises(BadRequestError) as caught, db.service_tx() as cur:
        cur.execute("DO $$ BEGIN RAISE EXCEPTION 'refused by a rule'; END $$")
        cur.fetchall()
    assert caught.value.message == "refused by a rule"


def test_constraint_errors(fresh_connection, make_org, make_user, make_voice_session):
    org = make_org()
    user = make_user(org)
    session = make_voice_session(org, user)
    with pytest.raises(ConflictError) as caught, db.service_tx() as cur:
        cur.execute(
            "INSERT INTO public.orgs (name, slug) SELECT name, slug FROM public.orgs WHERE id = %s", (org.id,)
        )
        cur.fetchall()
    assert caught.value.code == "DUPLICATE" and caught.value.details == {"constraint": "orgs_slug_key"}

    with pytest.raises(NotFoundError) as caught, db.service_tx() as cur:
        cur.execute(
            "INSERT INTO public.org_members (org_id, user_id, org_role) VALUES (%s, %s, 'org_user')",
            (uuid.uuid4(), user.id),
        )
        cur.fetchall()
    assert caught.value.code == "REFERENCE_NOT_FOUND"

    with pytest.raises(ValidationError) as caught, db.service_tx() as cur:
        cur.execute("UPDATE public.voice_sessions SET interview_type = NULL WHERE id = %s", (session["id"],))
        cur.fetchall()
    assert caught.value.code == "VALIDATION_ERROR" and caught.value.message.startswith("Invalid value: ")

    with pytest.raises(ConflictError) as caught, db.service_tx() as cur:
        cur.execute("UPDATE public.voice_sessions SET status = 'completed' WHERE id = %s", (session["id"],))
        cur.fetchall()
    assert caught.value.code == "INVALID_STATUS_TRANSITION"
    assert caught.value.message == "invalid status transition from pending to completed"


def test_other_database_errors_stay_errors(fresh_connection):
    with pytest.raises(psycopg.errors.UndefinedTable), db.service_tx() as cur:
        cur.execute("SELECT * FROM public.no_such_table").fetchall()
    with db.service_tx() as cur:  # and the connection is still good
        assert cur.execute("SELECT 1 AS one").fetchone() == {"one": 1}


def test_mapping_without_diagnostics():
    assert isinstance(db.map_db_error(psycopg.OperationalError("gone")), ServiceUnavailableError)
    assert db.map_db_error(psycopg.ProgrammingError("syntax")) is None
