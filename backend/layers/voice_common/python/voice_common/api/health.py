"""``GET /api/voice/health`` (no authorizer): is this deployment able to serve requests?

Each dependency gets one cheap probe (``select 1``, DescribeTable, HeadBucket, GetQueueAttributes) with
short timeouts and no retries, run in parallel so a dead dependency costs one timeout, not the sum.
The answer names a failing check by error code or exception class only: messages of driver errors can
carry host names or connection strings, and this route is public.
"""

from __future__ import annotations

import datetime as dt
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from access_common import responses
from access_common.errors import AppError

MODULE = "module-voice"
PROBE_TIMEOUT_SECONDS = 2.0

router = Router()

_clients: dict[str, Any] = {}
_clients_lock = threading.Lock()  # boto3 client creation is not thread-safe
_executor: ThreadPoolExecutor | None = None


def _client(service: str) -> Any:
    """A boto3 client for probes: created on first use, reused by the warm container."""
    with _clients_lock:
        if service not in _clients:
            import boto3
            from botocore.config import Config

            config = Config(
                connect_timeout=PROBE_TIMEOUT_SECONDS,
                read_timeout=PROBE_TIMEOUT_SECONDS,
                retries={"max_attempts": 1, "mode": "standard"},
            )
            make_client: Any = boto3.client  # the service name is dynamic; the stubs want a literal
            _clients[service] = make_client(service, config=config)
        return _clients[service]


def reset_clients() -> None:
    """Forget the probe clients (the local stack and tests switch AWS endpoints)."""
    with _clients_lock:
        _clients.clear()


def _setting(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        raise LookupError(f"{name} not configured")
    return value


def check_database() -> None:
    from access_common.db import service_tx

    with service_tx() as cur:
        cur.execute("select 1")
        cur.fetchone()


def check_dynamodb() -> None:
    _client("dynamodb").describe_table(TableName=_setting("CONNECTIONS_TABLE"))


def check_s3() -> None:
    _client("s3").head_bucket(Bucket=_setting("TRANSCRIPT_BUCKET"))


def check_sqs() -> None:
    _client("sqs").get_queue_attributes(QueueUrl=_setting("WORKER_QUEUE_URL"), AttributeNames=["QueueArn"])


CHECKS: dict[str, Callable[[], None]] = {
    "database": check_database,
    "dynamodb": check_dynamodb,
    "s3": check_s3,
    "sqs": check_sqs,
}


def _describe(exc: BaseException) -> str:
    """A short, secret-free description: an error code, never the driver's message."""
    if isinstance(exc, LookupError):
        return "error: not configured"
    if isinstance(exc, AppError):
        return f"error: {exc.code}"
    response = getattr(exc, "response", None)  # botocore ClientError carries the AWS error code
    code = response.get("Error", {}).get("Code") if isinstance(response, dict) else None
    return f"error: {code or type(exc).__name__}"


def _run(check: Callable[[], None]) -> str:
    try:
        check()
    except Exception as exc:
        return _describe(exc)
    return "ok"


def run_checks() -> dict[str, str]:
    """``{"database": "ok" | "error: ...", ...}`` for every dependency, probed in parallel."""
    global _executor
    if _executor is None:
        _executor = ThreadPoolExecutor(len(CHECKS), thread_name_prefix="health")
    futures = {name: _executor.submit(_run, check) for name, check in CHECKS.items()}
    return {name: future.result() for name, future in futures.items()}


@router.get("/api/voice/health")
def health() -> Response[str]:
    checks = run_checks()
    healthy = all(value == "ok" for value in checks.values())
    data = {
        "module": MODULE,
        "status": "healthy" if healthy else "degraded",
        "checks": checks,
        "version": os.environ.get("MODULE_VERSION", "unknown"),
        "timestamp": dt.datetime.now(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
    }
    return responses.ok(data, status=200 if healthy else 503)
