"""ai_common against a real OpenAI-compatible HTTP server on 127.0.0.1 serving scripted answers."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from pydantic import BaseModel, Field

from ai_common.config import ProviderConfig, org_settings, platform_default, resolve_providers
from ai_common.errors import AllProvidersFailedError, ProviderError, StructuredOutputError
from ai_common.providers import OpenAICompatibleProvider, ProviderChain, breaker_for
from ai_common.structured import complete_json
from tests.fakes.openai_server import FakeOpenAI, Reply, closed_port_url

MESSAGES = [{"role": "system", "content": "Reply in JSON."}, {"role": "user", "content": "Score it."}]


class Score(BaseModel):
    score: float = Field(ge=0, le=100)
    feedback: str


def provider(
    url: str, *, name: str = "primary", key: str | None = "sk-test-platform", **kw: Any
) -> ProviderConfig:
    settings: dict[str, Any] = {"timeout_seconds": 2.0, "max_retries": 2, "backoff_base_seconds": 0.01, **kw}
    return ProviderConfig(name=name, base_url=url, model="fake-gpt", api_key=key, **settings)


def test_valid_answer_is_parsed_and_usage_recorded(llm: FakeOpenAI) -> None:
    llm.script(Reply.json({"score": 81, "feedback": "clear"}, prompt_tokens=321, completion_tokens=45))
    result = complete_json(ProviderChain([provider(llm.base_url)]), MESSAGES, Score, purpose="test")
    assert result.value == Score(score=81, feedback="clear")
    assert result.repaired is False
    [call] = result.usage.calls
    assert (call.provider, call.model, call.prompt_tokens, call.completion_tokens) == (
        "primary",
        "fake-gpt",
        321,
        45,
    )
    assert call.attempts == 1 and call.latency_ms >= 0 and call.purpose == "test"
    assert result.usage.summary()["totals"]["total_tokens"] == 366
    [request] = llm.requests
    assert request.body["response_format"] == {"type": "json_object"}
    assert request.body["model"] == "fake-gpt"
    assert request.headers["authorization"] == "Bearer sk-test-platform"


def test_malformed_json_gets_one_repair_round(llm: FakeOpenAI) -> None:
    llm.script(Reply.text('{"score": 70, "feedback": "ok"'), Reply.json({"score": 70, "feedback": "ok"}))
    result = complete_json(ProviderChain([provider(llm.base_url)]), MESSAGES, Score)
    assert result.value.score == 70 and result.repaired is True
    assert len(result.usage.calls) == 2
    repair = llm.requests[1].messages
    assert repair[-2] == {"role": "assistant", "content": '{"score": 70, "feedback": "ok"'}
    assert "not valid JSON" in repair[-1]["content"]


def test_code_fenced_json_is_accepted_without_repair(llm: FakeOpenAI) -> None:
    llm.script(Reply.text('```json\n{"score": 10, "feedback": "f"}\n```'))
    result = complete_json(ProviderChain([provider(llm.base_url)]), MESSAGES, Score)
    assert result.value.score == 10 and result.repaired is False


def test_out_of_range_score_is_sent_back_with_the_validation_problem(llm: FakeOpenAI) -> None:
    llm.script(
        Reply.json({"score": 140, "feedback": "great"}), Reply.json({"score": 100, "feedback": "great"})
    )
    result = complete_json(ProviderChain([provider(llm.base_url)]), MESSAGES, Score)
    assert result.value.score == 100
    problem = llm.requests[1].messages[-1]["content"]
    assert "score" in problem and "less than or equal to 100" in problem


def test_a_second_invalid_answer_fails_with_the_problems_and_the_usage(llm: FakeOpenAI) -> None:
    llm.script(Reply.text("no json here"), Reply.json({"score": -5, "feedback": "x"}))
    with pytest.raises(StructuredOutputError) as err:
        complete_json(ProviderChain([provider(llm.base_url)]), MESSAGES, Score)
    assert any("greater than or equal to 0" in p for p in err.value.problems)
    assert err.value.retryable is False
    assert len(err.value.usage.calls) == 2


def test_caller_check_failures_are_repaired_too(llm: FakeOpenAI) -> None:
    llm.script(Reply.json({"score": 50, "feedback": ""}), Reply.json({"score": 50, "feedback": "why"}))

    def check(value: Score) -> list[str]:
        return [] if value.feedback else ["feedback must not be empty"]

    result = complete_json(ProviderChain([provider(llm.base_url)]), MESSAGES, Score, check=check)
    assert result.value.feedback == "why"
    assert "feedback must not be empty" in llm.requests[1].messages[-1]["content"]


def test_429_is_retried_after_the_retry_after_delay(llm: FakeOpenAI) -> None:
    llm.script(Reply.error(429, retry_after="1"), Reply.json({"score": 1, "feedback": "f"}))
    started = time.monotonic()
    result = OpenAICompatibleProvider(provider(llm.base_url)).chat(MESSAGES)
    elapsed = time.monotonic() - started
    assert json.loads(result.content)["score"] == 1
    assert result.usage.attempts == 2
    assert len(llm.requests) == 2
    assert llm.requests[1].at - llm.requests[0].at >= 0.95
    assert elapsed < 2.5


def test_a_retry_after_beyond_the_cap_is_not_slept(llm: FakeOpenAI) -> None:
    llm.script(Reply.error(429, retry_after="120"))
    started = time.monotonic()
    with pytest.raises(ProviderError) as err:
        OpenAICompatibleProvider(provider(llm.base_url, max_retry_after_seconds=5)).chat(MESSAGES)
    assert time.monotonic() - started < 1.0
    assert err.value.retryable and err.value.status == 429
    assert len(llm.requests) == 1


def test_timeouts_are_retried(llm: FakeOpenAI) -> None:
    llm.script(
        Reply(content='{"score": 2, "feedback": "late"}', delay=1.5),
        Reply.json({"score": 3, "feedback": "f"}),
    )
    started = time.monotonic()
    result = OpenAICompatibleProvider(provider(llm.base_url, timeout_seconds=0.4)).chat(MESSAGES)
    assert json.loads(result.content)["score"] == 3
    assert result.usage.attempts == 2
    assert time.monotonic() - started < 1.4


def test_5xx_retries_are_bounded(llm: FakeOpenAI) -> None:
    llm.script(*[Reply.error(503)] * 5)
    with pytest.raises(ProviderError) as err:
        OpenAICompatibleProvider(provider(llm.base_url, max_retries=2)).chat(MESSAGES)
    assert err.value.retryable and err.value.status == 503
    assert len(llm.requests) == 3


def test_client_errors_are_not_retried(llm: FakeOpenAI) -> None:
    llm.script(Reply.error(400))
    with pytest.raises(AllProvidersFailedError) as err:
        ProviderChain([provider(llm.base_url)]).chat(MESSAGES)
    assert err.value.retryable is False
    assert len(llm.requests) == 1


def test_a_wrong_key_is_refused_by_the_server_and_not_retried(llm: FakeOpenAI) -> None:
    with pytest.raises(AllProvidersFailedError) as err:
        ProviderChain([provider(llm.base_url, key="sk-wrong")]).chat(MESSAGES)
    assert "HTTP 401" in str(err.value)
    assert len(llm.requests) == 1


def test_primary_down_falls_back_to_the_next_provider(llm: FakeOpenAI) -> None:
    llm.script(Reply.json({"score": 42, "feedback": "from fallback"}))
    chain = ProviderChain(
        [provider(closed_port_url(), name="primary", max_retries=1), provider(llm.base_url, name="backup")]
    )
    result = complete_json(chain, MESSAGES, Score)
    assert result.value.feedback == "from fallback"
    assert result.usage.calls[0].provider == "backup"


def test_circuit_breaker_opens_after_consecutive_failures_and_half_opens(
    llm: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AI_CIRCUIT_FAILURE_THRESHOLD", "2")
    monkeypatch.setenv("AI_CIRCUIT_COOLDOWN_SECONDS", "0.5")
    with FakeOpenAI(api_key="sk-test-platform") as primary:
        primary.responder = lambda _request: Reply.error(503)
        llm.responder = lambda _request: Reply.json({"score": 5, "feedback": "backup"})
        chain = ProviderChain(
            [provider(primary.base_url, max_retries=0), provider(llm.base_url, name="backup")]
        )
        for _ in range(2):
            assert chain.chat(MESSAGES).usage.provider == "backup"
        assert len(primary.requests) == 2
        assert breaker_for(chain.providers[0].config.key).state == "open"
        # Open: the primary is not called at all, the backup answers at once.
        for _ in range(3):
            assert chain.chat(MESSAGES).usage.provider == "backup"
        assert len(primary.requests) == 2
        # After the cool-down one trial call goes to the primary again; it recovers and closes the circuit.
        time.sleep(0.6)
        primary.responder = lambda _request: Reply.json({"score": 6, "feedback": "primary"})
        assert chain.chat(MESSAGES).usage.provider == "primary"
        assert len(primary.requests) == 3
        assert breaker_for(chain.providers[0].config.key).state == "closed"


def test_half_open_lets_one_trial_through_while_concurrent_jobs_use_the_fallback(
    llm: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading
    from concurrent.futures import ThreadPoolExecutor

    monkeypatch.setenv("AI_CIRCUIT_FAILURE_THRESHOLD", "1")
    monkeypatch.setenv("AI_CIRCUIT_COOLDOWN_SECONDS", "0.3")
    with FakeOpenAI(api_key="sk-test-platform") as primary:
        primary.responder = lambda _request: Reply.error(503)
        llm.responder = lambda _request: Reply.json({"score": 5, "feedback": "backup"})
        chain = ProviderChain(
            [provider(primary.base_url, max_retries=0), provider(llm.base_url, name="backup")]
        )
        assert chain.chat(MESSAGES).usage.provider == "backup"  # the primary failed: open
        time.sleep(0.35)  # half-open

        release = threading.Event()

        def slow_recovery(_request: Any) -> Any:
            release.wait(5)
            return Reply.json({"score": 6, "feedback": "primary"})

        primary.responder = slow_recovery
        with ThreadPoolExecutor(max_workers=6) as pool:
            trial = pool.submit(chain.chat, MESSAGES)
            while len(primary.requests) < 2:  # the trial reached the primary
                time.sleep(0.01)
            others = [pool.submit(chain.chat, MESSAGES) for _ in range(5)]
            answered = [f.result(timeout=10).usage.provider for f in others]
            release.set()
            assert trial.result(timeout=10).usage.provider == "primary"
        assert answered == ["backup"] * 5  # not sent to the recovering primary meanwhile
        assert len(primary.requests) == 2
        assert breaker_for(chain.providers[0].config.key).state == "closed"


def test_every_provider_open_or_down_is_a_retryable_failure(
    llm: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AI_CIRCUIT_FAILURE_THRESHOLD", "1")
    chain = ProviderChain([provider(closed_port_url(), max_retries=0)])
    with pytest.raises(AllProvidersFailedError) as first:
        chain.chat(MESSAGES)
    with pytest.raises(AllProvidersFailedError) as second:
        chain.chat(MESSAGES)
    assert first.value.retryable and second.value.retryable
    assert "circuit open" in str(second.value)


def test_configuration_from_env_and_fallback_list(llm: FakeOpenAI, monkeypatch: pytest.MonkeyPatch) -> None:
    assert resolve_providers() == []  # nothing configured: analytics are skipped
    monkeypatch.setenv("OPENAI_BASE_URL", llm.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-platform")
    monkeypatch.setenv("OPENAI_MODEL", "fake-gpt")
    monkeypatch.setenv("AI_CONTEXT_TOKENS", "8000")
    monkeypatch.setenv(
        "AI_FALLBACK_PROVIDERS",
        json.dumps(
            [
                {
                    "name": "cheap",
                    "baseUrl": "http://127.0.0.1:9/v1",
                    "model": "small",
                    "apiKeyEnv": "CHEAP_KEY",
                }
            ]
        ),
    )
    monkeypatch.setenv("CHEAP_KEY", "sk-cheap")
    chain = resolve_providers()
    assert [(p.name, p.model) for p in chain] == [("platform", "fake-gpt"), ("cheap", "small")]
    assert chain[0].context_tokens == 8000 and chain[1].api_key == "sk-cheap"
    assert "sk-" not in repr(chain[0]) and "sk-" not in repr(chain[1])  # keys never reach a log line


def test_keys_from_secrets_manager_platform_and_org(
    llm: FakeOpenAI, aws_env: dict[str, str], aws_clients: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    sm = aws_clients("secretsmanager")
    suffix = str(time.monotonic_ns())
    arn = sm.create_secret(
        Name=f"platform-openai-{suffix}",
        SecretString=json.dumps(
            {"api_key": "sk-test-platform", "base_url": llm.base_url, "model": "fake-gpt"}
        ),
    )["ARN"]
    monkeypatch.setenv("OPENAI_API_KEY_SECRET_ARN", arn)
    platform = platform_default()
    assert (
        platform is not None and platform.base_url == llm.base_url and platform.api_key == "sk-test-platform"
    )
    llm.script(Reply.json({"score": 9, "feedback": "k"}))
    assert ProviderChain(resolve_providers()).chat(MESSAGES).usage.provider == "platform"

    # An org with its own key and model: its endpoint replaces the platform default.
    prefix = f"voice-org-ai-{suffix}-"
    monkeypatch.setenv("AI_ORG_SECRET_PREFIX", prefix)
    sm.create_secret(
        Name=f"{prefix}org-1", SecretString=json.dumps({"apiKey": "sk-org-1", "model": "org-model"})
    )
    assert org_settings("org-2") is None
    settings = org_settings("org-1")
    assert settings is not None
    [org] = resolve_providers(settings)
    assert (org.name, org.model, org.api_key, org.base_url) == ("org", "org-model", "sk-org-1", llm.base_url)
