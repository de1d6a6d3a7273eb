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
import time
from collections.abc import Awaitable, Iterable, Sequence
from pathlib import Path
from typing import Any

from voice_local import tokens
from voice_local.aws import (
    MotoServer,
    PortInUseError,
    aws_environment,
    configure_environment,
    create_resources,
    ensure_port_free,
)
from voice_local.daily_standin import DailyStandIn
from voice_local.gateway import Gateway, Invoker
from voice_local.lambdas import REPO_ROOT
from voice_local.module_spec import ModuleSpec

log = logging.getLogger("voice_local.stack")

DEFAULT_PORT = 8080
DEFAULT_AWS_PORT = 5001
DEFAULT_DATA_DIR = REPO_ROOT / ".local"
REAL_DAILY_API_URL = "https://api.daily.co/v1"
BOT_KINDS = ("sim", "real")


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

        self.url = embedded_database_url(self.pgdata)
        return self.url

    def stop(self) -> None:
        if not self.embedded or self.url is None:
            return
        from voice_local.pg import stop_embedded

        stop_embedded(self.pgdata)  # pg_ctl stop, unless another process still holds a handle
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
        simulate: bool = False,
        bot: str = "sim",
        bot_command: Sequence[str] | None = None,
    ) -> None:
        """``simulate``: run the event sources (SQS mappings, watchdog schedule, ECS task events) and the
        bots, so a started session runs a whole interview (``make dev``). ``bot``: ``"sim"`` for the
        simulated bots (voice_local.sim_bot), ``"real"`` for the Pipecat bot of backend/bot run as processes
        (voice_local.real_bot; ``bot_command`` replaces ``.venv-bot/bin/python -m voice_bot``)."""
        if bot not in BOT_KINDS:
            raise ValueError(f"bot must be one of {', '.join(BOT_KINDS)}, not {bot!r}")
        self.simulate = simulate
        self.bot = bot
        self.bot_command = bot_command
        self.background: list[Any] = []  # EventSources, SimBotFleet: started last, stopped first
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
        self.daily: DailyStandIn | None = None
        self.daily_api_url: str | None = None
        self.gateway = Gateway(spec, invoker=invoker, dev_files_dir=self.data_dir)  # + frontend/dist at /
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
        """The JWT of a seeded user (``acmeOwner``, ``acmeAdmin``, ``acmeMember``, ``globexMember``, ...)."""
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
        if self.simulate and self.bot == "real":  # before anything starts: a missing .venv-bot fails fast
            from voice_local.real_bot import BotUnavailableError, check_bot_command, default_bot_command

            try:
                self.bot_command = check_bot_command(self.bot_command or default_bot_command())
            except BotUnavailableError as exc:
                raise StackError(str(exc)) from None
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

        # PostgreSQL (start, migrate, seed) and AWS (moto, resources) are independent: start them together.
        steps = [asyncio.to_thread(self._start_aws), asyncio.to_thread(self._start_daily)]
        if self.use_database:
            steps.append(asyncio.to_thread(self._start_database))
        outcomes = await asyncio.gather(*steps, return_exceptions=True)  # all settled before any cleanup
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                raise outcome
        endpoint = self.moto.endpoint_url

        try:
            port = await self.gateway.start(self.port)
        except OSError as exc:  # taken since the check at the beginning
            raise PortInUseError(exc.errno, f"gateway port 127.0.0.1:{self.port} is already in use") from exc
        base = f"http://127.0.0.1:{port}"
        extra = {
            "SUPABASE_JWT_SECRET": secret,
            "DAILY_API_URL": self.daily_api_url or REAL_DAILY_API_URL,
            "WEBSOCKET_API_ENDPOINT": base,
            "WEBSOCKET_URL": self.gateway.websocket_url,
            "API_BASE_URL": self.gateway.rest_url,
            "MODULE_VERSION": _module_version(),
        }
        if self.database_url:
            extra["DATABASE_URL"] = self.database_url
        if self.simulate and self.bot == "real":
            extra.update(self._real_bot_environment(endpoint))
        # No await between the gateway's start and this: no request can reach a Lambda before its env.
        self._snapshot_env([*_configured_keys(endpoint, self.resources), *extra])
        self.environment = configure_environment(endpoint, self.resources, extra=extra)
        _reset_layer_caches()
        if self.simulate and self.use_database:
            self._start_background(endpoint)

        if self.write_files:
            self._write_files()
        log.info("local stack up: %s (AWS %s)", self.rest_url, endpoint)

    def _start_aws(self) -> None:
        started = time.perf_counter()
        endpoint = self.moto.start()
        self.resources = create_resources(endpoint)
        log.info("AWS (moto) ready on %s in %.1f s", endpoint, time.perf_counter() - started)

    def _start_background(self, endpoint: str) -> None:
        from voice_common.settings import get_settings
        from voice_local.event_sources import EventSources

        sources = EventSources(aws_endpoint=endpoint, env=self.environment)
        sources.start()
        self.background.append(sources)
        fleet: Any
        if self.bot == "real":
            from voice_local.real_bot import RealBotFleet

            if not os.environ.get("DAILY_API_KEY"):
                log.warning(
                    "BOT=real without DAILY_API_KEY: rooms come from the local Daily stand-in, which has no "
                    "WebRTC, so the real bot cannot join them (docs/local-stack.md, 'The real bot')"
                )
            fleet = RealBotFleet(
                aws_endpoint=endpoint,
                standby_queue_url=self.environment.get("STANDBY_QUEUE_URL"),
                cluster=self.environment.get("ECS_CLUSTER"),
                pool_size=get_settings().standby_pool_size,
                bot_command=self.bot_command,
            )
        else:
            from voice_local.sim_bot import SimBotFleet

            fleet = SimBotFleet(
                aws_endpoint=endpoint,
                standby_queue_url=self.environment.get("STANDBY_QUEUE_URL"),
                cluster=self.environment.get("ECS_CLUSTER"),
                pool_size=get_settings().standby_pool_size,
            )
        fleet.start()
        self.background.append(fleet)

    def _real_bot_environment(self, endpoint: str) -> dict[str, str]:
        """``OPENAI_API_KEY`` as a moto secret the dispatch payload can name (the bot's LLM key)."""
        key = os.environ.get("OPENAI_API_KEY")
        if not key or os.environ.get("OPENAI_API_KEY_SECRET_ARN"):
            return {}
        from voice_local.real_bot import store_openai_key

        return {"OPENAI_API_KEY_SECRET_ARN": store_openai_key(endpoint, key)}

    def _start_daily(self) -> None:
        """Daily's real API when ``DAILY_API_KEY`` is set, else the local stand-in on a free port."""
        if os.environ.get("DAILY_API_KEY"):
            self.daily_api_url = os.environ.get("DAILY_API_URL") or REAL_DAILY_API_URL
            return
        self.daily = DailyStandIn(port=0)
        self.daily_api_url = self.daily.start()

    def _start_database(self) -> None:
        started = time.perf_counter()
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
            self.tokens = tokens.dev_tokens(
                self.seeded, secret=self.jwt_secret or "", ttl_seconds=self.token_ttl_seconds
            )
        log.info(
            "PostgreSQL ready (schema applied, demo data seeded) in %.1f s", time.perf_counter() - started
        )

    def _write_files(self) -> None:
        document = tokens.stack_document(
            rest_url=self.rest_url,
            websocket_url=self.websocket_url,
            aws_endpoint=self.aws_endpoint,
            database_url=self.database_url,
            daily_api_url=self.daily_api_url,
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
        for worker in reversed(self.background):
            await _quietly(type(worker).__name__, asyncio.to_thread(worker.stop))
        self.background.clear()
        await _quietly("gateway", self.gateway.stop())
        await _quietly("moto", asyncio.to_thread(self.moto.stop))
        if self.daily is not None:
            await _quietly("Daily stand-in", asyncio.to_thread(self.daily.stop))
            self.daily = None
        if self.database is not None:
            await _quietly("postgres", asyncio.to_thread(self.database.stop))
        self.database = None
        if self.write_files:
            (self.data_dir / tokens.STACK_FILE).unlink(missing_ok=True)
        self._restore_env()
        _reset_layer_caches()

    # ------------------------------------------------------------------ environment

    def _set_env(self, values: dict[str, str]) -> None:
        self._snapshot_env(values)
        os.environ.update(values)

    def _snapshot_env(self, keys: Iterable[str]) -> None:
        for key in keys:
            self._saved_env.setdefault(key, os.environ.get(key))

    def _restore_env(self) -> None:
        for key, value in self._saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        self._saved_env.clear()


def _configured_keys(endpoint: str, resources: dict[str, str]) -> list[str]:
    """Every variable ``configure_environment`` sets (so ``stop`` can restore them)."""
    return [*aws_environment(endpoint), "POWERTOOLS_TRACE_DISABLED", *resources]


async def _quietly(what: str, step: Awaitable[Any]) -> None:
    """Await one shutdown step; a failure is logged and the remaining steps still run."""
    started = time.perf_counter()
    try:
        await step
    except Exception:
        log.exception("stopping %s failed", what)
    log.debug("stopped %s in %.2f s", what, time.perf_counter() - started)


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
    try:
        from voice_common.api.health import reset_clients as reset_health_clients
    except ImportError:
        return
    reset_health_clients()
