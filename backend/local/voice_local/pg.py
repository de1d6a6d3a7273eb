"""Where the local stack's PostgreSQL is: ``DATABASE_URL``, or an embedded server started with pgserver.

pgserver ships real PostgreSQL binaries in a wheel, so no system install is needed. The embedded server
listens on a Unix socket only, keeps its data in the given directory across runs, and is stopped when the
last process using it exits (pgserver tracks the processes sharing a data directory).
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[3]
DEFAULT_DATA_DIR = REPO_ROOT / ".local" / "pgdata"

# Servers started by this process, kept referenced for the life of the process.
_servers: dict[Path, Any] = {}


class EmbeddedPostgresError(RuntimeError):
    """The embedded PostgreSQL could not be started; the message says why and what to do."""


def _log_tail(data_dir: Path, lines: int = 15) -> str:
    log = data_dir / "log"
    try:
        tail = log.read_text(errors="replace").splitlines()[-lines:]
    except OSError:
        return ""
    return "\n  ".join(["", *tail]) if tail else ""


def embedded_database_url(data_dir: Path) -> str:
    """Start (or reuse) the embedded PostgreSQL whose data lives in ``data_dir``; return its URL."""
    data_dir = Path(data_dir).expanduser().resolve()
    if data_dir in _servers:
        return str(_servers[data_dir].get_uri())
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI); pgserver copes.
        warnings.simplefilter("ignore")
        try:
            import pgserver
        except ImportError:
            raise EmbeddedPostgresError(
                "pgserver is not installed (run `make venv`), or set DATABASE_URL to an existing PostgreSQL"
            ) from None
        try:
            data_dir.parent.mkdir(parents=True, exist_ok=True)
            server = pgserver.get_server(data_dir, cleanup_mode="stop")
        except Exception as exc:
            raise EmbeddedPostgresError(
                f"could not start the embedded PostgreSQL in {data_dir}: {type(exc).__name__}: {exc}"
                f"{_log_tail(data_dir)}\n"
                "Remove that directory to start from scratch, or set DATABASE_URL to another PostgreSQL."
            ) from None
    _servers[data_dir] = server
    return str(server.get_uri())


def stop_embedded(data_dir: Path) -> None:
    """Release this process's handle on the embedded server (it stops when no process uses it)."""
    server = _servers.pop(Path(data_dir).expanduser().resolve(), None)
    if server is not None:
        server.cleanup()


def resolve_database_url() -> str:
    """``DATABASE_URL`` when set, else the embedded server under ``.local/pgdata``."""
    url = os.environ.get("DATABASE_URL", "").strip()
    return url or embedded_database_url(DEFAULT_DATA_DIR)
