"""voice_local.lambdas: Lambdas load like AWS loads them, several coexist, contexts satisfy Powertools."""

from __future__ import annotations

import json
import sys
import textwrap
import time
from pathlib import Path

import pytest

from voice_local.lambdas import (
    LambdaNotFoundError,
    invoke_lambda,
    lambda_context,
    layer_paths,
    load_lambda,
)


def _write(folder: Path, files: dict[str, str]) -> None:
    folder.mkdir(parents=True)
    for name, text in files.items():
        (folder / name).write_text(textwrap.dedent(text))


@pytest.fixture
def lambdas_dir(tmp_path: Path) -> Path:
    # Two Lambdas with a sibling module of the same name, as two /var/task folders would have.
    for name, answer in (("alpha", "A"), ("beta", "B")):
        _write(
            tmp_path / name,
            {
                "helper.py": f"ANSWER = {answer!r}\n",
                "lambda_function.py": """
                    import helper
                    from aws_lambda_powertools import Logger

                    logger = Logger(service="test")
                    LOADS = []
                    LOADS.append(1)

                    @logger.inject_lambda_context
                    def lambda_handler(event, context):
                        return {"answer": helper.ANSWER, "loads": len(LOADS), "fn": context.function_name,
                                "remaining": context.get_remaining_time_in_millis()}
                """,
            },
        )
    return tmp_path


def test_lambdas_coexist_with_their_own_sibling_modules(lambdas_dir):
    alpha = load_lambda("alpha", lambdas_dir=lambdas_dir)
    beta = load_lambda("beta", lambdas_dir=lambdas_dir)
    assert alpha({}, lambda_context("alpha"))["answer"] == "A"
    assert beta({}, lambda_context("beta"))["answer"] == "B"
    assert "helper" not in sys.modules  # renamed away so the next Lambda imports its own
    assert str(lambdas_dir / "alpha") not in sys.path


def test_load_is_cached(lambdas_dir):
    first = load_lambda("alpha", lambdas_dir=lambdas_dir)
    assert load_lambda("alpha", lambdas_dir=lambdas_dir) is first
    assert first({}, lambda_context("alpha"))["loads"] == 1


def test_missing_lambda(lambdas_dir):
    with pytest.raises(LambdaNotFoundError):
        load_lambda("nope", lambdas_dir=lambdas_dir)


def test_invoke_round_trips_through_json(lambdas_dir):
    result = invoke_lambda("alpha", {"x": 1}, lambdas_dir=lambdas_dir)
    assert result["fn"] == "alpha"
    assert 0 < result["remaining"] <= 30_000
    json.dumps(result)


def test_context_shape():
    ctx = lambda_context("voice-sessions", timeout_seconds=1)
    assert ctx.function_name == "voice-sessions"
    assert ctx.invoked_function_arn.endswith(":function:voice-sessions")
    assert ctx.memory_limit_in_mb == 512
    assert ctx.aws_request_id != lambda_context("voice-sessions").aws_request_id
    first = ctx.get_remaining_time_in_millis()
    time.sleep(0.02)
    assert ctx.get_remaining_time_in_millis() < first <= 1000


def test_layers_are_the_layer_python_folders():
    names = {p.parent.name for p in layer_paths()}
    assert {"access_common", "ai_common", "voice_common"} <= names


def test_real_websocket_lambda_loads():
    handler = load_lambda("voice-websocket")
    assert callable(handler)
    assert load_lambda("voice-websocket") is handler
