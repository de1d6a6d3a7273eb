"""Fixtures of the completion/analytics suite: the scripted OpenAI-compatible server and clean LLM state."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.fakes.openai_server import FakeOpenAI

LLM_ENV = (
    "OPENAI_API_KEY",
    "OPENAI_API_KEY_SECRET_ARN",
    "OPENAI_BASE_URL",
    "OPENAI_MODEL",
    "AI_FALLBACK_PROVIDERS",
    "AI_ORG_SECRET_PREFIX",
    "AI_CONTEXT_TOKENS",
    "AI_TIMEOUT_SECONDS",
    "AI_MAX_RETRIES",
    "AI_BACKOFF_BASE_SECONDS",
    "AI_CIRCUIT_FAILURE_THRESHOLD",
    "AI_CIRCUIT_COOLDOWN_SECONDS",
    "ANALYTICS_MAX_ATTEMPTS",
)


@pytest.fixture(scope="session")
def llm_server() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(api_key="sk-test-platform", model="fake-gpt") as server:
        yield server


@pytest.fixture
def llm(llm_server: FakeOpenAI) -> Iterator[FakeOpenAI]:
    """The fake server with an empty script, and no LLM configuration or breaker state left over."""
    from ai_common.config import clear_secret_cache
    from ai_common.providers import reset_breakers

    saved = {k: os.environ.pop(k, None) for k in LLM_ENV}
    llm_server.reset()
    reset_breakers()
    clear_secret_cache()
    # Fast, bounded retries for the suite (the shared machine has two cores).
    os.environ.update({"AI_TIMEOUT_SECONDS": "3", "AI_BACKOFF_BASE_SECONDS": "0.01", "AI_MAX_RETRIES": "2"})
    yield llm_server
    for k in LLM_ENV:
        os.environ.pop(k, None)
    os.environ.update({k: v for k, v in saved.items() if v is not None})
    llm_server.reset()
    reset_breakers()
    clear_secret_cache()


@pytest.fixture
def worker(aws_env: dict[str, str], aws_clients, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """A worker queue of this test's own (WORKER_QUEUE_URL points at it) and the Lambda fed from it."""
    from tests.integration.completion.helpers import Worker, new_name

    sqs = aws_clients("sqs")
    url = sqs.create_queue(QueueName=new_name("voice-worker-test"))["QueueUrl"]
    monkeypatch.setenv("WORKER_QUEUE_URL", url)
    yield Worker(sqs, url)
    sqs.delete_queue(QueueUrl=url)


@pytest.fixture
def versioned_bucket(aws_env: dict[str, str], aws_clients, monkeypatch: pytest.MonkeyPatch) -> str:  # type: ignore[no-untyped-def]
    """A versioned transcript bucket of this test's own (TRANSCRIPT_BUCKET points at it)."""
    from tests.integration.completion.helpers import new_name

    s3 = aws_clients("s3")
    bucket = new_name("voice-transcripts-test")
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    monkeypatch.setenv("TRANSCRIPT_BUCKET", bucket)
    return bucket
