"""JSON output validated by a pydantic model, with exactly one repair round.

The model is asked for a JSON object (``response_format: json_object``). When the answer is not JSON,
does not validate, or fails the caller's own ``check`` (rules a schema cannot express, e.g. "one score
per rubric criterion"), the conversation continues once with the problems listed and a request for the
corrected object. A second failure raises ``StructuredOutputError`` with the problems (never the text).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

from ai_common.errors import StructuredOutputError
from ai_common.providers import Message, ProviderChain
from ai_common.usage import UsageLedger

M = TypeVar("M", bound=BaseModel)
Check = Callable[[M], list[str]]

_FENCE = re.compile(r"^\s*```(?:json)?\s*(.*?)\s*```\s*$", re.DOTALL)


@dataclass
class Structured(Generic[M]):
    value: M
    usage: UsageLedger
    repaired: bool


def _problems_of(error: PydanticValidationError) -> list[str]:
    # Location and message only: the input values may contain transcript text.
    out = []
    for e in error.errors(include_input=False, include_url=False):
        loc = ".".join(str(p) for p in e.get("loc", ())) or "(root)"
        out.append(f"{loc}: {e.get('msg')}")
    return out


def parse(content: str, schema: type[M], check: Check[M] | None = None) -> tuple[M | None, list[str]]:
    """``(value, [])`` when ``content`` is a valid object of ``schema``, else ``(None, problems)``."""
    text = content.strip()
    fenced = _FENCE.match(text)
    if fenced:
        text = fenced.group(1)
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        return None, [f"not valid JSON ({exc.msg} at position {exc.pos})"]
    if not isinstance(raw, dict):
        return None, ["the answer must be a JSON object"]
    try:
        value = schema.model_validate(raw)
    except PydanticValidationError as exc:
        return None, _problems_of(exc)
    problems = check(value) if check else []
    return (None, problems) if problems else (value, [])


def complete_json(
    chain: ProviderChain,
    messages: Sequence[Message],
    schema: type[M],
    *,
    check: Check[M] | None = None,
    temperature: float = 0.2,
    max_tokens: int | None = None,
    deadline: float | None = None,
    purpose: str | None = None,
) -> Structured[M]:
    """Ask for a JSON object of ``schema``; one repair round on malformed or invalid output."""
    usage = UsageLedger()
    first = chain.chat(
        messages,
        json_mode=True,
        temperature=temperature,
        max_tokens=max_tokens,
        deadline=deadline,
        purpose=purpose,
    )
    usage.add(first.usage)
    value, problems = parse(first.content, schema, check)
    if value is not None:
        return Structured(value=value, usage=usage, repaired=False)
    if first.finish_reason == "length":
        problems.append("the answer was cut off at the token limit: be more concise")
    repair = [
        *messages,
        {"role": "assistant", "content": first.content},
        {
            "role": "user",
            "content": "Your previous answer cannot be used:\n- "
            + "\n- ".join(problems[:20])
            + "\nReply with the corrected JSON object only, following the required format exactly.",
        },
    ]
    second = chain.chat(
        repair,
        json_mode=True,
        temperature=0.0,
        max_tokens=max_tokens,
        deadline=deadline,
        purpose=f"{purpose}:repair" if purpose else "repair",
    )
    usage.add(second.usage)
    value, problems = parse(second.content, schema, check)
    if value is None:
        raise StructuredOutputError(problems, usage=usage)
    return Structured(value=value, usage=usage, repaired=True)
