"""The whole local stack in one object: PostgreSQL, moto, the gateway, tokens and ``.local`` files.

``python -m voice_local`` runs it until Ctrl-C; tests run it in-process on free ports::

    async with LocalStack(port=0, aws_port=0, data_dir=tmp_path) as stack:
        ...  # stack.rest_url, stack.websocket_url, stack.tokens["users"]["acmeMember"]["token"]

``voice_local.testing.running_stack()`` does the same from synchronous tests (a background thread).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from voice_local import tokens
from voice_local.aws import MotoServer, configure_environment, create_resources, ensure_port_free
from voice_local.gateway import Gateway, Invoker
from voice_local.lambdas import REPO_ROOT
from voice_local.module_spec import ModuleSpec

log = logging.getLogger("voice_local.stack")

DEFAULT_PORT = 8080
DEFAULT_AWS_PORT = 5001
DEFAULT_DATA_DIR = REPO_ROOT / ".local"


class StackError(RuntimeError):
    """The stack cannot start; the message is one line meant for the terminal."""


def _module_version() -> str:
    try:
        return str(json.loads((REPO_ROOT / "module.json").read_text(encoding="utf-8"))["version"])
    except (OSError, ValueError, KeyError):
        return "unknown"


class Database:
    """The stack's PostgreSQL: ``DATABASE_URL`` when given, else the embedded server in ``<data_dir>/pgdata``.

    Only an embedded server this object started is stopped by ``stop()``; a server another process
    already runs on the same data directory is shared (pgserver keeps a per-process handle count).
    """

    def __init__(self, data_dir: Path, url: str | None = None) -> None:
        self.data_dir = data_dir
        self.url = url
        self.embedded = url is None
        self.pgdata = data_dir / "pgdata"

    def start(self) -> str:
        if self.url is not None:
            return self.url
        from voice_local.pg import embedded_database_url

        self.url = embedded_database_url(self.data_dir)
        return self.url

    def stop(self) -> None:
        if not self.embedded or self.url is None:
            return
        import pgserver

        server = pgserver.PostgresServer._instances.get(self.pgdata.resolve())
        if server is not None:
            server.cleanup()  # pg_ctl stop, unless another process still holds a handle
        self.url = None


class LocalStack:
    """Start with ``await stack.start()`` (or ``async with``), stop with ``await stack.stop()``.

    ``database=False`` leaves PostgreSQL out (gateway/WebSocket tests); ``spec`` and ``invoker`` replace
    module.json's routes and the real Lambdas (gateway tests with recording handlers).
    """

    def __init__(
        self,
        *,
        port: int = DEFAULT_PORT,
        aws_port: int = DEFAULT_AWS_PORT,
        data_dir: Path | str = DEFAULT_DATA_DIR,
        database_url: str | None = None,
        database: bool = True,
        seed: bool = True,
        write_files: bool = True,
        jwt_secret: str | None = None,
        token_ttl_seconds: int = tokens.DEV_TOKEN_TTL_SECONDS,
        spec: ModuleSpec | None = None,
        invoker: Invoker | None = None,
    ) -> None:
        self.port = port
        self.aws_port = aws_port
        self.data_dir = Path(data_dir).resolve()
        self.use_database = database
        self.seed_data = seed
        self.write_files = write_files
        self.token_ttl_seconds = token_ttl_seconds
        self.jwt_secret = jwt_secret
        self.database: Database | None = None
        self.database_url: str | None = None
        self.moto = MotoServer(aws_port)
        self.gateway = Gateway(spec, invoker=invoker)
        self.environment: dict[str, str] = {}
        self.resources: dict[str, str] = {}
        self.seeded: dict[str, Any] | None = None
        self.tokens: dict[str, Any] | None = None
        self._saved_env: dict[str, str | None] = {}
        self._started = False
        self._explicit_database_url = database_url

    # ------------------------------------------------------------------ URLs

    @property
    def rest_url(self) -> str:
        return self.gateway.rest_url

    @property
    def websocket_url(self) -> str:
        return self.gateway.websocket_url

    @property
    def base_url(self) -> str:
        return self.gateway.base_url

    @property
    def aws_endpoint(self) -> str:
        return self.moto.endpoint_url

    def token(self, user: str) -> str:
        """The JWT of a seeded user: ``acmeOwner``, ``acmeAdmin``, ``acmeMember``, ``globexMember``, ``platformAdmin``."""
        if self.tokens is None:
            raise RuntimeError("no seeded users (database=False or seed=False)")
        return str(self.tokens["users"][user]["token"])

    # ------------------------------------------------------------------ lifecycle

    async def __aenter__(self) -> LocalStack:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def start(self) -> LocalStack:
        """Start everything; ``PortInUseError`` for a taken port, ``StackError`` when PostgreSQL fails."""
        # Ports first: a second `make dev` must fail fast, before it touches the shared data directory.
        ensure_port_free(self.port, "gateway")
        ensure_port_free(self.aws_port, "AWS (moto)")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._started = True
        try:
            await self._start()
        except BaseException:
            await self.stop()
            raise
        return self

    async def _start(self) -> None:
        secret = self.jwt_secret or tokens.load_or_create_jwt_secret(self.data_dir)
        self.jwt_secret = secret
        self._set_env({"SUPABASE_JWT_SECRET": secret})

        if self.use_database:
            await asyncio.to_thread(self._start_database)

        endpoint = await asyncio.to_thread(self.moto.start)
        self.resources = await asyncio.to_thread(create_resources, endpoint)

        port = await self.gateway.start(self.port)
        base = f"http://127.0.0.1:{port}"
        extra = {
            "SUPABASE_JWT_SECRET": secret,
            "WEBSOCKET_API_ENDPOINT": base,
            "WEBSOCKET_URL": self.gateway.websocket_url,
            "API_BASE_URL": self.gateway.rest_url,
            "MODULE_VERSION": _module_version(),
        }
        if self.database_url:
            extra["DATABASE_URL"] = self.database_url
        # No await between the gateway's start and this: no request can reach a Lambda before its env.
        self._snapshot_env([*tokens_env_keys(endpoint, self.resources), *extra])
        self.environment = configure_environment(endpoint, self.resources, extra=extra)
        _reset_layer_caches()

        if self.write_files:
            self._write_files()
        log.info("local stack up: %s (AWS %s)", self.rest_url, endpoint)

    def _start_database(self) -> None:
        url = self._explicit_database_url or os.environ.get("DATABASE_URL")
        self.database = Database(self.data_dir, url)
        try:
            self.database_url = self.database.start()
        except Exception as exc:  # pgserver raises CalledProcessError, TimeoutExpired, OSError...
            raise StackError(f"PostgreSQL could not start: {_one_line(exc)}") from exc
        from voice_local.migrate import apply_migrations

        try:
            apply_migrations(self.database_url)
        except Exception as exc:
            raise StackError(f"applying migrations failed: {_one_line(exc)}") from exc
        if self.seed_data:
            from voice_local.seed import seed

            self.seeded = seed(self.database_url)
            self.tokens = tokens.dev_tokens(self.seeded, secret=self.jwt_secret or "", ttl_seconds=self.token_ttl_seconds)

    def _write_files(self) -> None:
        document = tokens.stack_document(
            rest_url=self.rest_url,
            websocket_url=self.websocket_url,
            aws_endpoint=self.aws_endpoint,
            database_url=self.database_url,
            pid=os.getpid(),
        )
        tokens.write_json(self.data_dir / tokens.STACK_FILE, document)
        if self.tokens is not None:
            tokens.write_json(self.data_dir / tokens.DEV_TOKENS_FILE, self.tokens)

    async def stop(self) -> None:
        """Stop what ``start`` started (gateway, moto, an embedded PostgreSQL) and restore the environment."""
        if not self._started:
            return
        self._started = False
        steps: list[tuple[str, Callable[[], Any]]] = [
            ("gateway", self.gateway.stop),
            ("moto", lambda: asyncio.to_thread(self.moto.stop)),
        ]
        if self.database is not None:
            steps.append(("postgres", lambda: asyncio.to_thread(self.database.stop) if self.database else None))
        for name, step in steps:
            try:
                result = step()
                if asyncio.iscoroutine(result) or isinstance(result, asyncio.Future):
                    await result
            except Exception:
                log.exception("stopping %s failed", name)
        self.database = None
        if self.write_files:
            (self.data_dir / tokens.STACK_FILE).unlink(missing_ok=True)
        self._restore_env()
        _reset_layer_caches()

    # ------------------------------------------------------------------ environment

    def _set_env(self, values: dict[str, str]) -> None:
        self._snapshot_env(values)
        os.environ.update(values)

    def _snapshot_env(self, keys: Any) -> None:
        for key in keys:
            self._saved_env.setdefault(key, os.environ.get(key))

    def _restore_env(self) -> None:
        for key, value in self._saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        self._saved_env.clear()


def tokens_env_keys(endpoint: str, resources: dict[str, str]) -> list[str]:
    """Every variable ``configure_environment`` sets (so ``stop`` can restore them)."""
    from voice_local.aws import aws_environment

    return [*aws_environment(endpoint), "POWERTOOLS_TRACE_DISABLED", *resources]


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def _reset_layer_caches() -> None:
    """Drop boto3 clients and DB connections cached by the layers: they captured the old environment."""
    try:
        from access_common.aws import reset_clients
        from access_common.db import reset_connection
    except ImportError:
        return
    reset_clients()
    reset_connection()
