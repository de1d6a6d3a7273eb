"""A conservative token estimate, so prompts can be budgeted without a tokenizer in the layer.

English text averages about 4 characters per token with OpenAI's tokenizers; dividing by 3.5 (and
counting a small per-message overhead) over-estimates slightly, which is the safe side for a budget.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

CHARS_PER_TOKEN = 3.5
MESSAGE_OVERHEAD_TOKENS = 4


def estimate_tokens(text: str) -> int:
    return math.ceil(len(text) / CHARS_PER_TOKEN)


def estimate_messages(messages: Iterable[Mapping[str, str]]) -> int:
    return sum(estimate_tokens(m.get("content", "")) + MESSAGE_OVERHEAD_TOKENS for m in messages) + 3
