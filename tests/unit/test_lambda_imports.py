"""What a Lambda's cold start imports: X-Ray only where tracing is on (access_common.tracing)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
_CHILD = """
import json, sys
from voice_local.lambdas import load_lambda
load_lambda(sys.argv[1])
print(json.dumps({"xray": "aws_xray_sdk" in sys.modules}))
"""


def _imports_xray(name: str, **env: str) -> bool:
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, name],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, **env},
        timeout=120,
        check=True,
    )
    return bool(json.loads(done.stdout.strip().splitlines()[-1])["xray"])


@pytest.mark.parametrize("name", ["voice-websocket", "voice-sessions"])
def test_the_tracer_is_not_built_where_tracing_is_off(name: str) -> None:
    assert _imports_xray(name, POWERTOOLS_TRACE_DISABLED="true") is False


def test_in_lambda_with_tracing_on_the_tracer_wraps_the_handler() -> None:
    # LAMBDA_TASK_ROOT is what Lambda sets: Powertools' rule turns tracing on there.
    assert _imports_xray("voice-websocket", LAMBDA_TASK_ROOT=str(ROOT), POWERTOOLS_TRACE_DISABLED="false")
