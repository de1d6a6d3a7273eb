"""X-Ray tracing, created only when it will be used.

Creating a Powertools ``Tracer`` imports aws_xray_sdk and botocore (hundreds of ms of cold start), which
a container with tracing disabled never needs; so every Lambda asks ``tracing_enabled()`` first and gets
the tracer from ``get_tracer()`` on first use. Kept apart from access_common.app so that Lambdas without
the REST resolver (voice-websocket) do not import it.
"""

from __future__ import annotations

import os
from typing import Any

_tracer: Any = None


def tracing_enabled() -> bool:
    """Powertools' rule: on in Lambda unless POWERTOOLS_TRACE_DISABLED; off locally and under SAM/Chalice."""
    if os.environ.get("POWERTOOLS_TRACE_DISABLED", "false").strip().lower() in ("1", "true", "yes", "on"):
        return False
    in_lambda = bool(os.environ.get("LAMBDA_TASK_ROOT"))
    emulated = bool(os.environ.get("AWS_SAM_LOCAL") or os.environ.get("AWS_CHALICE_CLI_MODE"))
    return in_lambda and not emulated


def get_tracer() -> Any:
    """The process's X-Ray ``Tracer`` (Powertools), created on first use."""
    global _tracer
    if _tracer is None:
        from aws_lambda_powertools import Tracer

        _tracer = Tracer(service=os.environ.get("POWERTOOLS_SERVICE_NAME", "module-voice"))
    return _tracer
