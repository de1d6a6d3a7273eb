"""Dev JWTs for the seeded users and the JSON files the local stack leaves under ``.local/``.

``.local/jwt-secret`` is generated once, so tokens minted by an earlier run (and pasted into a tool)
stay valid across restarts; ``SUPABASE_JWT_SECRET`` in the environment takes precedence.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

JWT_SECRET_FILE = "jwt-secret"
DEV_TOKENS_FILE = "dev-tokens.json"
STACK_FILE = "stack.json"
DEV_TOKEN_TTL_SECONDS = 7 * 24 * 3600  # a week: long enough for a working session, still expiring
USER_KEYS = ("acmeOwner", "acmeAdmin", "acmeMember", "globexMember", "platformAdmin")


def write_private(path: Path, text: str) -> None:
    """Write atomically with mode 0600 (the file holds a secret or bearer tokens)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, path)


def write_json(path: Path, data: Any) -> None:
    write_private(path, json.dumps(data, indent=2, sort_keys=False) + "\n")


def load_or_create_jwt_secret(data_dir: Path) -> str:
    """``SUPABASE_JWT_SECRET`` if set, else the secret kept in ``<data_dir>/jwt-secret`` (created once)."""
    configured = os.environ.get("SUPABASE_JWT_SECRET")
    if configured:
        return configured
    path = data_dir / JWT_SECRET_FILE
    if path.is_file():
        existing = path.read_text(encoding="utf-8").strip()
        if existing:
            return existing
    secret = secrets.token_urlsafe(48)
    write_private(path, secret + "\n")
    return secret


def camel(key: str) -> str:
    """``acme_owner`` -> ``acmeOwner`` (the seed speaks snake_case, the JSON files camelCase)."""
    head, *rest = key.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def _ids(group: Mapping[str, Any]) -> dict[str, str]:
    return {camel(k): str(v["id"] if isinstance(v, Mapping) else v) for k, v in group.items()}


def dev_tokens(
    seeded: Mapping[str, Any], *, secret: str, ttl_seconds: int = DEV_TOKEN_TTL_SECONDS
) -> dict[str, Any]:
    """The content of ``dev-tokens.json`` from ``voice_local.seed.seed()``'s result.

    ``orgs`` (key -> id), ``users`` (``acmeOwner`` ... -> id, email, orgRole, sysRole, orgId, token) and,
    for convenience in curl sessions, the ids of the seeded workspaces, knowledge bases and configs.
    """
    from access_common.jwt import mint_user_jwt

    users: dict[str, Any] = {}
    for key, entry in seeded["users"].items():
        user: dict[str, Any] = {"id": None, "email": None, "orgRole": None}
        user.update({camel(k): v for k, v in entry.items()} if isinstance(entry, Mapping) else {"id": entry})
        user["id"] = str(user["id"])
        user["token"] = mint_user_jwt(user["id"], user["email"], secret=secret, ttl_seconds=ttl_seconds)
        users[camel(key)] = user
    document: dict[str, Any] = {"orgs": _ids(seeded["orgs"]), "users": users}
    for group in ("workspaces", "knowledge_bases", "configs"):
        if seeded.get(group):
            document[camel(group)] = _ids(seeded[group])
    return document


def redact_database_url(url: str) -> str:
    """The URL without its password (``postgresql://user:secret@host/db`` -> ``postgresql://user@host/db``)."""
    if "://" not in url:  # key=value conninfo
        return " ".join(part for part in url.split() if not part.startswith("password="))
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.hostname or ""
    if parts.username:
        netloc = f"{parts.username}@{netloc}"
    if parts.port:
        netloc = f"{netloc}:{parts.port}"
    return urlunsplit(parts._replace(netloc=netloc))


def stack_document(
    *,
    rest_url: str,
    websocket_url: str,
    aws_endpoint: str,
    database_url: str | None,
    pid: int,
    daily_api_url: str | None = None,
) -> dict[str, Any]:
    """The content of ``stack.json`` (no secrets: the database URL loses its password)."""
    return {
        "restUrl": rest_url,
        "websocketUrl": websocket_url,
        "awsEndpoint": aws_endpoint,
        "databaseUrl": redact_database_url(database_url) if database_url else None,
        "dailyApiUrl": daily_api_url,
        "pid": pid,
    }
