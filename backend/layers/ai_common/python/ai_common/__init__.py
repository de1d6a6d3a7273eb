"""OpenAI-compatible LLM access for CORA modules: providers, fallback chain, structured output, usage.

Outbound HTTP uses urllib3 (shipped with botocore in the Lambda runtime), so the layer needs no vendor
SDK. Submodules are imported explicitly (``from ai_common.structured import complete_json``).

- ``ai_common.config``     provider settings: platform default (env + Secrets Manager), org override,
                           ordered fallbacks
- ``ai_common.providers``  one OpenAI-compatible endpoint (timeouts, retries, Retry-After), circuit breaker,
                           ordered fallback chain
- ``ai_common.structured`` JSON output validated by a pydantic model, with one repair round
- ``ai_common.usage``      token/latency accounting of every call
- ``ai_common.tokens``     a conservative token estimate for context budgeting
"""
