"""PostgreSQL access: one connection per warm container, one transaction per request, RLS decides.

Every user request runs as role ``authenticated`` with ``request.jwt.claims`` set, exactly as PostgREST
does for Supabase, so the policies in db/schema decide what a user sees. ``service_tx`` is the narrow
exception for bot callbacks and background jobs.

Round trips matter (the Lambda talks to the Supabase pooler across the network): on a warm connection
the transaction set-up is pipelined with the first statement, so a read costs two round trips (set-up +
query, then COMMIT). A connection idle for longer than ``_IDLE_CHECK_SECONDS`` is checked synchronously
first and re-opened once if the server dropped it (pooler idle timeouts, a frozen Lambda container).
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg import errors as pgerrors
from psycopg import sql
from psycopg.rows import dict_row

from access_common.errors import (
    AppError,
    BadRequestError,
    ConflictError,
    ForbiddenError,
    NotFoundError,
    ServiceUnavailableError,
    ValidationError,
)
from access_common.identity import Principal

_PgCursor = psycopg.Cursor[dict[str, Any]]

_IDLE_CHECK_SECONDS = float(os.environ.get("DB_IDLE_CHECK_SECONDS", "30"))
_lock = threading.Lock()
_conn: psycopg.Connection[dict[str, Any]] | None = None
_last_used = 0.0
_url_cache: str | None = None
# Counts network round trips of this container's connection; read by the benchmarks.
round_trips = 0


def database_url() -> str:
    """DATABASE_URL, or the ``url`` of the Secrets Manager secret DATABASE_SECRET_ARN (production)."""
    global _url_cache
    if _url_cache:
        return _url_cache
    url = os.environ.get("DATABASE_URL")
    if not url:
        arn = os.environ.get("DATABASE_SECRET_ARN")
        if not arn:
            raise ServiceUnavailableError("Database is not configured", code="DB_NOT_CONFIGURED")
        from access_common.aws import client

        raw = client("secretsmanager").get_secret_value(SecretId=arn)["SecretString"]
        url = raw if raw.startswith("postgres") else str(json.loads(raw)["url"])
    _url_cache = url
    return url


def _connect() -> psycopg.Connection[dict[str, Any]]:
    try:
        # prepare_threshold=None: server-side prepared statements break behind a transaction pooler.
        return psycopg.connect(
            database_url(), autocommit=True, row_factory=dict_row, prepare_threshold=None, connect_timeout=5
        )
    except psycopg.OperationalError:
        raise ServiceUnavailableError("Database unavailable", code="DB_UNAVAILABLE") from None


def reset_connection() -> None:
    """Close and forget the container's connection (tests, and after a dropped connection)."""
    global _conn, _url_cache
    with _lock:
        if _conn is not None and not _conn.closed:
            _conn.close()
        _conn = None
        _url_cache = None


def _connection() -> psycopg.Connection[dict[str, Any]]:
    global _conn
    if _conn is None or _conn.closed or _conn.broken:
        _conn = _connect()
    return _conn


def _setup_statement(role: str, claims: str | None) -> sql.Composed:
    parts = [sql.SQL("SELECT set_config('role', {}, true)").format(sql.Literal(role))]
    if claims is not None:
        parts.append(sql.SQL(", set_config('request.jwt.claims', {}, true)").format(sql.Literal(claims)))
    return sql.Composed(parts)


@contextmanager
def _transaction(role: str, claims: str | None) -> Iterator[Cursor]:
    global _last_used, round_trips
    with _lock:
        conn = _connection()
        setup = _setup_statement(role, claims)
        if time.monotonic() - _last_used > _IDLE_CHECK_SECONDS:
            # Idle connection: verify it synchronously, re-open once if the server dropped it.
            try:
                conn.execute("BEGIN")
                round_trips += 1
            except psycopg.OperationalError:
                reset_connection_locked()
                conn = _connection()
                conn.execute("BEGIN")
                round_trips += 1
            pipelined_begin = False
        else:
            pipelined_begin = True
        try:
            with conn.pipeline() as pipeline, conn.cursor() as cur:
                if pipelined_begin:
                    cur.execute("BEGIN")
                cur.execute(setup)
                counting = Cursor(cur, pipeline)
                yield counting
                cur.execute("COMMIT")
            round_trips += counting.syncs + 1
        except BaseException as exc:
            _rollback(conn)
            _last_used = time.monotonic()
            mapped = map_db_error(exc) if isinstance(exc, psycopg.Error) else None
            if mapped is not None:
                raise mapped from exc
            raise
        _last_used = time.monotonic()


def reset_connection_locked() -> None:
    global _conn
    if _conn is not None and not _conn.closed:
        _conn.close()
    _conn = None


def _rollback(conn: psycopg.Connection[dict[str, Any]]) -> None:
    if conn.closed or conn.broken:
        reset_connection_locked()
        return
    try:
        conn.execute("ROLLBACK")
    except psycopg.Error:
        reset_connection_locked()


class Cursor:
    """The request's cursor (dict rows): a proxy that counts the pipeline syncs its fetches cause."""

    def __init__(self, cur: _PgCursor, pipeline: psycopg.Pipeline) -> None:
        self._cur = cur
        self._pipeline = pipeline
        self.syncs = 0
        self._pending = False

    def execute(self, query: Any, params: Any = None) -> Cursor:
        self._cur.execute(query, params)
        self._pending = True
        return self

    def executemany(self, query: Any, params_seq: Any) -> None:
        self._cur.executemany(query, params_seq)
        self._pending = True

    def _sync(self) -> None:
        if self._pending:
            self.syncs += 1
            self._pending = False

    def fetchone(self) -> dict[str, Any] | None:
        self._sync()
        return self._cur.fetchone()

    def fetchall(self) -> list[dict[str, Any]]:
        self._sync()
        return self._cur.fetchall()

    @property
    def rowcount(self) -> int:
        # rowcount is only known once the pipeline has delivered the result.
        if self._pending:
            self._pipeline.sync()
        self._sync()
        return self._cur.rowcount

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cur, name)


@contextmanager
def user_tx(principal: Principal) -> Iterator[Cursor]:
    """One transaction as ``authenticated`` with the caller's JWT claims: RLS applies to everything."""
    with _transaction("authenticated", principal.claims_json()) as cur:
        yield cur


@contextmanager
def service_tx() -> Iterator[Cursor]:
    """One transaction as ``service_role`` (bypasses RLS). Only for bot callbacks and background jobs."""
    with _transaction("service_role", None) as cur:
        yield cur


def map_db_error(exc: psycopg.Error) -> AppError | None:
    """Translate a database error into the envelope's 4xx vocabulary; None leaves it a real 500."""
    diag = getattr(exc, "diag", None)
    detail = (diag.message_primary if diag else None) or str(exc).splitlines()[0]
    state = getattr(exc, "sqlstate", None)
    if state == "VS409":
        return ConflictError(detail, code="INVALID_STATUS_TRANSITION")
    if isinstance(exc, pgerrors.UniqueViolation):
        return ConflictError(
            "A record with the same unique values already exists",
            code="DUPLICATE",
            details={"constraint": diag.constraint_name if diag else None},
        )
    if isinstance(exc, pgerrors.ForeignKeyViolation):
        return NotFoundError(
            "A referenced record does not exist",
            code="REFERENCE_NOT_FOUND",
            details={"constraint": diag.constraint_name if diag else None},
        )
    if isinstance(exc, (pgerrors.CheckViolation, pgerrors.NotNullViolation)):
        return ValidationError(
            f"Invalid value: {detail}", details={"constraint": diag.constraint_name if diag else None}
        )
    if isinstance(exc, psycopg.DataError):
        # Every SQLSTATE class 22 error (psycopg's classes do not inherit DataException, 22000) and the
        # driver's own refusal of NUL characters in text: bad input, never a 5xx.
        return BadRequestError(f"Invalid value: {detail}")
    if isinstance(exc, pgerrors.InsufficientPrivilege):
        return ForbiddenError("Not allowed", code="FORBIDDEN")
    if isinstance(exc, psycopg.OperationalError):
        return ServiceUnavailableError("Database unavailable", code="DB_UNAVAILABLE")
    if isinstance(exc, pgerrors.RaiseException):
        return BadRequestError(detail)
    return None
