"""Provider credentials: API keys in AWS Secrets Manager, references in ``voice_credentials``.

A credential belongs to one scope, an organization (``org_id``) or the platform (``org_id`` NULL, the
default for every org without its own), and one service (daily, deepgram, cartesia). The key itself
only ever lives in Secrets Manager under ``cora/<env>/voice/credentials/<orgId|platform>/<service>``;
the row keeps the secret's ARN and the key's last four characters for display. Nothing here logs a key,
puts one in an exception message, or returns one.

Authorization: RLS on ``voice_credentials`` lets org admins/owners see their org's rows and platform
admins the platform rows (db/schema/007). The code checks the same again so callers get a clear answer:
403 for a member of the org (or a non-platform-admin on a platform row), 404 for anyone else.

For other parts of the module (session start, dispatch): ``resolve_secret_arn`` and ``get_api_key``.
"""

from __future__ import annotations

import os
import re
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools import Logger

from access_common import roles
from access_common.db import Cursor, service_tx, user_tx
from access_common.errors import (
    AppError,
    ConflictError,
    ForbiddenError,
    NotFoundError,
    ServiceUnavailableError,
)
from access_common.identity import Principal
from access_common.pagination import Page
from voice_common.integrations.providers import SERVICES

logger = Logger(service="module-voice", child=True)

SECRET_RECOVERY_DAYS = 7
# The API's view of a row: never the secret ARN.
COLUMNS = (
    "id, org_id, service_name, key_last4, config_metadata, is_active, last_validated_at, "
    "created_at, updated_at, created_by, updated_by"
)
# Whether the caller may manage a row; the same rule as the RLS policies, evaluated in the same query.
CALLER_MAY = "CASE WHEN org_id IS NULL THEN public.is_sys_admin() ELSE public.is_org_admin(org_id) END"
_OWNED_SECRET = re.compile(r":secret:cora/[^/]+/voice/credentials/")


def environment() -> str:
    return os.environ.get("ENVIRONMENT") or "local"


def secret_name(org_id: uuid.UUID | None, service: str) -> str:
    """``cora/<env>/voice/credentials/<orgId|platform>/<service>`` (what the Lambda's IAM policy allows)."""
    return f"cora/{environment()}/voice/credentials/{org_id or 'platform'}/{service}"


def _lock_key(org_id: uuid.UUID | str | None, service: str) -> str:
    return f"voice_credentials:{org_id or 'platform'}:{service}"


# --- Secrets Manager -------------------------------------------------------------------------------------


def _sm() -> Any:
    from access_common.aws import client

    return client("secretsmanager")


def _error_code(exc: Exception) -> str:
    response = getattr(exc, "response", None)
    code = response.get("Error", {}).get("Code") if isinstance(response, dict) else None
    return str(code or type(exc).__name__)


def _secret_store_down(operation: str, exc: Exception) -> ServiceUnavailableError:
    # The error code only: botocore messages can quote request parameters.
    logger.warning(
        "secrets manager call failed", extra={"operation": operation, "error_code": _error_code(exc)}
    )
    return ServiceUnavailableError(
        "The secret store is unavailable; try again later", code="SECRETS_UNAVAILABLE"
    )


@dataclass(frozen=True)
class StoredSecret:
    """A secret write, with what it takes to take it back if the row cannot be saved."""

    arn: str
    created: bool  # a new secret (undo: delete it)
    version_id: str | None = None  # the version written over an existing secret
    previous_version_id: str | None = None  # its AWSCURRENT before (undo: make it current again)
    restored: bool = False  # brought back from scheduled deletion (undo: schedule it again)


def _store_secret(name: str, value: str, *, org_id: uuid.UUID | None, service: str) -> StoredSecret:
    """Create the secret, or write a new current version of it."""
    from botocore.exceptions import BotoCoreError, ClientError

    sm = _sm()
    try:
        try:
            created = sm.create_secret(
                Name=name,
                SecretString=value,
                Description=f"module-voice {service} API key ({'org' if org_id else 'platform default'})",
                Tags=[
                    {"Key": "module", "Value": "module-voice"},
                    {"Key": "scope", "Value": str(org_id or "platform")},
                    {"Key": "service", "Value": service},
                ],
            )
            return StoredSecret(arn=str(created["ARN"]), created=True)
        except ClientError as exc:
            # Exists already, or is scheduled for deletion (a deleted credential): a new version below.
            if _error_code(exc) not in ("ResourceExistsException", "InvalidRequestException"):
                raise
        described = sm.describe_secret(SecretId=name)
        previous = next(
            (
                v
                for v, stages in (described.get("VersionIdsToStages") or {}).items()
                if "AWSCURRENT" in stages
            ),
            None,
        )
        restored = bool(described.get("DeletedDate"))
        if restored:
            sm.restore_secret(SecretId=name)  # the credential was deleted within the recovery window
        try:
            put = sm.put_secret_value(SecretId=name, SecretString=value)
        except ClientError as exc:
            if _error_code(exc) != "InvalidRequestException":
                raise
            sm.restore_secret(SecretId=name)  # scheduled for deletion meanwhile: bring it back, then write
            restored = True
            put = sm.put_secret_value(SecretId=name, SecretString=value)
        return StoredSecret(
            arn=str(put["ARN"]),
            created=False,
            version_id=str(put["VersionId"]),
            previous_version_id=previous,
            restored=restored,
        )
    except (BotoCoreError, ClientError) as exc:
        raise _secret_store_down("store", exc) from None


def _undo_store(stored: StoredSecret) -> None:
    """Take back a secret write whose row was not saved, so the key in use still matches the row.

    Best effort: the caller is already failing; a failure here is logged (the row, which readers go by,
    is unchanged either way, and the next save of this credential writes the secret again).
    """
    from botocore.exceptions import BotoCoreError, ClientError

    sm = _sm()
    try:
        if stored.created:
            sm.delete_secret(SecretId=stored.arn, ForceDeleteWithoutRecovery=True)
            return
        if stored.previous_version_id and stored.version_id:
            sm.update_secret_version_stage(
                SecretId=stored.arn,
                VersionStage="AWSCURRENT",
                MoveToVersionId=stored.previous_version_id,
                RemoveFromVersionId=stored.version_id,
            )
        if stored.restored:
            sm.delete_secret(SecretId=stored.arn, RecoveryWindowInDays=SECRET_RECOVERY_DAYS)
    except (BotoCoreError, ClientError) as exc:
        logger.warning(
            "could not take back a secret write after a failed save",
            extra={"error_code": _error_code(exc)},
        )


def _read_secret(arn: str) -> str | None:
    """The secret's current value; None when it no longer exists or is scheduled for deletion."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        # The stage named explicitly (AWS's default anyway): moto's default version does not follow a
        # moved AWSCURRENT label (_undo_store), and the tests run against moto.
        return str(_sm().get_secret_value(SecretId=arn, VersionStage="AWSCURRENT")["SecretString"])
    except ClientError as exc:
        if _error_code(exc) in ("ResourceNotFoundException", "InvalidRequestException"):
            return None
        raise _secret_store_down("read", exc) from None
    except BotoCoreError as exc:
        raise _secret_store_down("read", exc) from None


def _schedule_secret_deletion(arn: str) -> bool:
    """Schedule deletion (recoverable for 7 days) of a secret this module created; False if left alone."""
    from botocore.exceptions import BotoCoreError, ClientError

    if not _OWNED_SECRET.search(arn):
        # A row pointing at a secret someone else manages (e.g. the deployment's DAILY_API_KEY secret).
        logger.info("credential secret not owned by module-voice; left in place")
        return False
    try:
        _sm().delete_secret(SecretId=arn, RecoveryWindowInDays=SECRET_RECOVERY_DAYS)
    except ClientError as exc:
        if _error_code(exc) in ("ResourceNotFoundException", "InvalidRequestException"):
            return True  # already gone or already scheduled
        raise _secret_store_down("delete", exc) from None
    except BotoCoreError as exc:
        raise _secret_store_down("delete", exc) from None
    return True


# --- authorization helpers -------------------------------------------------------------------------------


def require_platform_admin(cur: Cursor, principal: Principal) -> None:
    if not roles.is_sys_admin(cur, principal):
        raise ForbiddenError(
            "Platform credentials require the platform admin role", code="PLATFORM_ADMIN_REQUIRED"
        )


def _require_scope_admin(cur: Cursor, principal: Principal, org_id: uuid.UUID | None) -> None:
    if org_id is None:
        require_platform_admin(cur, principal)
    else:
        roles.require_admin(cur, principal, org_id)


def _not_visible(principal: Principal, credential_id: uuid.UUID) -> AppError:
    """The right error for a credential the caller's RLS view does not contain.

    RLS hides a credential both from members of its org and from strangers; only the first should
    learn it exists (403). This looks at the row's scope and the caller's role with service_role,
    on this error path only, and returns nothing from the row itself.
    """
    with service_tx() as cur:
        cur.execute(
            """
            SELECT c.org_id IS NULL AS platform,
                   (SELECT m.org_role FROM public.org_members m
                     WHERE m.org_id = c.org_id AND m.user_id = %(uid)s AND m.active) AS org_role
            FROM public.voice_credentials c WHERE c.id = %(id)s
            """,
            {"id": credential_id, "uid": principal.user_id},
        )
        row = cur.fetchone()
    if row is not None and row["platform"]:
        return ForbiddenError(
            "Platform credentials require the platform admin role", code="PLATFORM_ADMIN_REQUIRED"
        )
    if row is not None and row["org_role"] is not None:
        return ForbiddenError(
            "Managing credentials requires the org admin or owner role", code="ORG_ADMIN_REQUIRED"
        )
    return NotFoundError("Credential not found", code="CREDENTIAL_NOT_FOUND")


def _check_row(row: dict[str, Any] | None, principal: Principal, credential_id: uuid.UUID) -> dict[str, Any]:
    if row is None:
        raise _not_visible(principal, credential_id)
    if not row.pop("caller_may"):
        # RLS showed a row the role rule denies: trust the stricter answer.
        logger.warning(
            "credential visible without the admin role", extra={"credential_id": str(credential_id)}
        )
        raise ForbiddenError("Managing credentials requires the admin role for its scope", code="FORBIDDEN")
    return row


# --- the service -------------------------------------------------------------------------------------------


def list_credentials(
    principal: Principal, org_id: uuid.UUID | None, page: Page
) -> tuple[list[dict[str, Any]], int]:
    """One scope's credentials (``org_id`` None = the platform defaults), with the total count."""
    where = "org_id IS NULL" if org_id is None else "org_id = %(org)s"
    allowed = "public.is_sys_admin()" if org_id is None else "public.is_org_admin(%(org)s)"
    with user_tx(principal) as cur:
        # The role check rides along with the page (one round trip); the precise 403 is worked out only
        # when it fails.
        cur.execute(
            f"""
            SELECT chk.allowed, c.* FROM (SELECT {allowed} AS allowed) chk
            LEFT JOIN LATERAL (
                SELECT {COLUMNS}, count(*) OVER () AS total FROM public.voice_credentials
                WHERE {where} ORDER BY service_name LIMIT %(limit)s OFFSET %(offset)s
            ) c ON chk.allowed
            """,
            {"org": org_id, "limit": page.limit, "offset": page.offset},
        )
        found = cur.fetchall()
        if not (found and found[0]["allowed"]):
            _require_scope_admin(cur, principal, org_id)
            raise ForbiddenError(
                "Managing credentials requires the admin role for its scope", code="FORBIDDEN"
            )
        rows = [r for r in found if r["id"] is not None]
        for r in rows:
            r.pop("allowed", None)
        if rows or page.offset == 0:
            total = int(rows[0]["total"]) if rows else 0
        else:  # past the end: the window count had no row to ride on
            cur.execute(f"SELECT count(*) AS n FROM public.voice_credentials WHERE {where}", {"org": org_id})
            total = int((cur.fetchone() or {"n": 0})["n"])
    for r in rows:
        r.pop("total", None)
    return rows, total


def get_credential(
    principal: Principal, credential_id: uuid.UUID, *, with_arn: bool = False
) -> dict[str, Any]:
    extra = ", credentials_secret_arn" if with_arn else ""
    with user_tx(principal) as cur:
        cur.execute(
            f"SELECT {COLUMNS}{extra}, {CALLER_MAY} AS caller_may "
            "FROM public.voice_credentials WHERE id = %s",
            (credential_id,),
        )
        row = cur.fetchone()
    return _check_row(row, principal, credential_id)


_UPSERT = """
INSERT INTO public.voice_credentials AS c
    (org_id, service_name, credentials_secret_arn, key_last4, config_metadata, is_active, created_by)
VALUES (%(org)s, %(service)s, %(arn)s, %(last4)s, coalesce(%(meta)s::jsonb, '{{}}'::jsonb), true, %(uid)s)
ON CONFLICT {target} DO UPDATE SET
    credentials_secret_arn = EXCLUDED.credentials_secret_arn,
    key_last4 = EXCLUDED.key_last4,
    config_metadata = coalesce(%(meta)s::jsonb, c.config_metadata),
    is_active = true,
    last_validated_at = NULL,
    updated_by = %(uid)s
RETURNING {columns}, (xmax = 0) AS created
"""


def upsert_credential(
    principal: Principal,
    org_id: uuid.UUID | None,
    service: str,
    api_key: str,
    config_metadata: dict[str, Any] | None,
) -> tuple[dict[str, Any], bool]:
    """Create or replace the key for ``service`` in a scope; returns (row, created).

    Replacing writes a new secret version under the same name (the ARN is unchanged), resets
    ``last_validated_at`` and re-activates the row; ``config_metadata`` is kept unless given.
    """
    from psycopg.types.json import Jsonb

    target = (
        "(service_name) WHERE org_id IS NULL"
        if org_id is None
        else "(org_id, service_name) WHERE org_id IS NOT NULL"
    )
    with user_tx(principal) as cur:
        # Serializes writers of this scope+service (and DELETE) across the secret write, the row and the
        # undo below: pipelined with the role check, so it costs no round trip.
        cur.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (_lock_key(org_id, service),))
        _require_scope_admin(cur, principal, org_id)
        stored = _store_secret(secret_name(org_id, service), api_key, org_id=org_id, service=service)
        try:
            cur.execute(
                _UPSERT.format(target=target, columns=COLUMNS),
                {
                    "org": org_id,
                    "service": service,
                    "arn": stored.arn,
                    "last4": api_key[-4:],
                    "meta": Jsonb(config_metadata) if config_metadata is not None else None,
                    "uid": principal.user_id,
                },
            )
            row = cur.fetchone()
        except BaseException:
            # The row is not saved: the secret must not keep a key the row does not describe (its last
            # 4, its validation state). Undone while the lock is still held, so no writer interleaves.
            _undo_store(stored)
            raise
    if row is None:  # pragma: no cover - INSERT .. ON CONFLICT DO UPDATE always returns the row
        raise ConflictError("The credential could not be saved; try again")
    forget_cached_key(org_id, service)
    created = bool(row.pop("created"))
    logger.info(
        "credential saved",
        extra={"scope": str(org_id or "platform"), "provider": service, "new": created},
    )
    return row, created


def delete_credential(principal: Principal, credential_id: uuid.UUID) -> dict[str, Any]:
    """Delete the row and schedule its secret for deletion, both or neither."""
    scheduled = False
    with user_tx(principal) as cur:
        cur.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended("
            "'voice_credentials:' || coalesce(org_id::text, 'platform') || ':' || service_name, 0)) "
            "FROM public.voice_credentials WHERE id = %s",
            (credential_id,),
        )
        cur.execute(
            f"""
            DELETE FROM public.voice_credentials WHERE id = %s
            RETURNING id, org_id, service_name, credentials_secret_arn, {CALLER_MAY} AS caller_may
            """,
            (credential_id,),
        )
        row = cur.fetchone()
        if row is not None:
            _check_row(row, principal, credential_id)
            # Inside the transaction: a failure here rolls the row back, so no row points at a
            # secret that is going away, and no secret outlives its row unnoticed.
            scheduled = _schedule_secret_deletion(row["credentials_secret_arn"])
    if row is None:
        raise _not_visible(principal, credential_id)
    forget_cached_key(row["org_id"], row["service_name"])
    logger.info(
        "credential deleted",
        extra={"scope": str(row["org_id"] or "platform"), "provider": row["service_name"]},
    )
    return {
        "id": row["id"],
        "org_id": row["org_id"],
        "service_name": row["service_name"],
        "deleted": True,
        "secret_deletion_scheduled": scheduled,
    }


def validate_credential(principal: Principal, credential_id: uuid.UUID) -> dict[str, Any]:
    """Ask the provider whether the stored key works; record ``last_validated_at`` when it does."""
    from voice_common.integrations.providers import check_api_key

    row = get_credential(principal, credential_id, with_arn=True)
    api_key = _read_secret(row["credentials_secret_arn"])
    if api_key is None:
        raise ConflictError(
            "The stored key no longer exists in the secret store; save the key again",
            code="CREDENTIAL_SECRET_MISSING",
        )
    # No transaction is open while the provider answers (it may take seconds with retries).
    check = check_api_key(row["service_name"], api_key)
    last_validated_at = row["last_validated_at"]
    if check.valid:
        with user_tx(principal) as cur:
            # Only if the key was not replaced meanwhile: the verdict is about the key we read.
            cur.execute(
                """
                UPDATE public.voice_credentials SET last_validated_at = now()
                WHERE id = %s AND updated_at = %s RETURNING last_validated_at
                """,
                (credential_id, row["updated_at"]),
            )
            updated = cur.fetchone()
        if updated is None:
            raise ConflictError(
                "The credential changed while it was being validated; validate it again",
                code="CREDENTIAL_CHANGED",
            )
        last_validated_at = updated["last_validated_at"]
    logger.info("credential validated", extra={"provider": row["service_name"], "valid": check.valid})
    return {
        "id": row["id"],
        "service_name": row["service_name"],
        "valid": check.valid,
        "reason": check.reason,
        "last_validated_at": last_validated_at,
    }


# --- for the rest of the module ----------------------------------------------------------------------------


def _check_service(service: str) -> None:
    if service not in SERVICES:
        raise ValueError(f"unknown service {service!r}; expected one of {', '.join(SERVICES)}")


def resolve_secret_arn(cur: Cursor, org_id: uuid.UUID | str | None, service: str) -> str | None:
    """The secret ARN to use for ``service`` in an org: the org's active credential, else the active
    platform default, else the deployment's ``<SERVICE>_API_KEY_SECRET_ARN``; None if none is configured.

    ``cur`` should be a ``service_tx`` cursor: with a ``user_tx`` cursor RLS hides credentials from
    everyone but admins, and the result would depend on who asks.
    """
    _check_service(service)
    cur.execute(
        """
        SELECT credentials_secret_arn FROM public.voice_credentials
        WHERE service_name = %(service)s AND is_active AND (org_id = %(org)s OR org_id IS NULL)
        ORDER BY org_id NULLS LAST LIMIT 1
        """,
        {"service": service, "org": org_id},
    )
    row = cur.fetchone()
    if row is not None:
        return str(row["credentials_secret_arn"])
    return os.environ.get(f"{service.upper()}_API_KEY_SECRET_ARN") or None


_cache: dict[tuple[str, str], tuple[float, str | None]] = {}
_cache_lock = threading.Lock()


def _cache_ttl() -> float:
    try:
        return float(os.environ.get("VOICE_CREDENTIAL_CACHE_SECONDS", "60"))
    except ValueError:
        return 60.0


def forget_cached_key(org_id: uuid.UUID | str | None, service: str | None = None) -> None:
    """Drop cached keys (this container) after a credential changed; ``org_id`` None = platform."""
    with _cache_lock:
        if org_id is None:
            # A platform default backs every org without its own credential.
            for key in [k for k in _cache if service is None or k[1] == service]:
                del _cache[key]
        else:
            for key in [k for k in _cache if k[0] == str(org_id) and (service is None or k[1] == service)]:
                del _cache[key]


def get_api_key(org_id: uuid.UUID | str | None, service: str) -> str | None:
    """The API key ``service`` should use for ``org_id`` (see ``resolve_secret_arn``), or None.

    Opens its own ``service_tx``, so call it outside any other transaction. Cached per container for
    ``VOICE_CREDENTIAL_CACHE_SECONDS`` (default 60): a replaced key is picked up within that time.
    """
    _check_service(service)
    cache_key = (str(org_id or "platform"), service)
    now = time.monotonic()
    with _cache_lock:
        hit = _cache.get(cache_key)
    if hit is not None and hit[0] > now:
        return hit[1]
    with service_tx() as cur:
        arn = resolve_secret_arn(cur, org_id, service)
    value = _read_secret(arn) if arn else None
    if arn and value is None:
        logger.warning("configured credential secret is missing", extra={"provider": service})
    with _cache_lock:
        _cache[cache_key] = (now + _cache_ttl(), value)
    return value
