"""Lazily created, reused boto3 clients (ARCHITECTURE decision 10: nothing heavy at import time)."""

from __future__ import annotations

import functools
import os
from typing import Any


@functools.cache
def client(service: str, endpoint_url: str | None = None) -> Any:
    """A boto3 client per service (and endpoint), created on first use and kept for the warm container."""
    import boto3
    from botocore.config import Config

    config = Config(
        connect_timeout=float(os.environ.get("AWS_CONNECT_TIMEOUT", "3")),
        read_timeout=float(os.environ.get("AWS_READ_TIMEOUT", "10")),
        retries={"max_attempts": 3, "mode": "standard"},
    )
    make: Any = boto3.client  # typed overloads want a literal service name
    return make(service, endpoint_url=endpoint_url, config=config)


def reset_clients() -> None:
    """Forget cached clients (tests switch endpoints and credentials between runs)."""
    client.cache_clear()
