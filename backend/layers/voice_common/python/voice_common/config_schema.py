"""The interview configuration (``voice_configs.config_json``) as pydantic models.

The shape is the seed's Pipecat configuration (data model 002, section 4) plus the optional keys the
bot reads (``voice.model``/``model_path``/``voices_path``, ``llm.base_url``, ``interview.max_follow_ups``,
``closing_message``, ``time_up_message``). Keys are accepted in snake_case or camelCase; the column
stores snake_case, exactly the keys the caller set (defaults stay the bot's business), so a stored
document reads like the seed's example. Unknown keys are rejected: a typo such as ``voiceid`` would
otherwise be silently ignored by the bot.

Decisions (docs/api/configs.md):
- providers are lower-cased before the check; the error names the valid ones;
- question ids and criterion names are unique within a configuration (case-insensitively);
- rubric weights are relative and positive; give them for every criterion or for none. When given,
  they are stored normalised to sum to 1, so analytics can use them directly.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from pydantic import (
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    field_serializer,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from access_common.models import CamelModel

VOICE_PROVIDERS = ("cartesia", "kokoro", "piper")
TRANSCRIPTION_PROVIDERS = ("deepgram", "whisper", "moonshine")
LLM_PROVIDERS = ("openai", "openai_compatible")

MAX_QUESTIONS = 100
MAX_CRITERIA = 50
MAX_INTERVIEW_MINUTES = 240


def _provider(value: Any) -> Any:
    # "OpenAI-Compatible" and "openai_compatible" mean the same provider.
    return value.strip().lower().replace("-", "_") if isinstance(value, str) else value


def _text(max_length: int) -> Any:
    return Field(min_length=1, max_length=max_length)


def _duplicates(values: list[str]) -> list[str]:
    seen: set[str] = set()
    repeated: set[str] = set()
    for value in values:
        key = value.casefold()
        if key in seen:
            repeated.add(value)
        seen.add(key)
    return sorted(repeated)


ShortText = Annotated[str, _text(200)]
Message = Annotated[str, _text(2000)]
FilePath = Annotated[str, _text(1000)]

VoiceProvider = Annotated[Literal["cartesia", "kokoro", "piper"], BeforeValidator(_provider)]
TranscriptionProvider = Annotated[Literal["deepgram", "whisper", "moonshine"], BeforeValidator(_provider)]
LlmProvider = Annotated[Literal["openai", "openai_compatible"], BeforeValidator(_provider)]


class _Section(CamelModel):
    """camelCase or snake_case keys in, unknown keys rejected, surrounding whitespace stripped."""

    # strict: JSON types as the bot reads them ("30" or true is not a number). No NaN/Infinity, which
    # json.loads accepts.
    model_config = ConfigDict(allow_inf_nan=False, strict=True)


class VoiceSettings(_Section):
    """Text-to-speech."""

    provider: VoiceProvider = "cartesia"
    voice_id: ShortText | None = None
    speed: float = Field(1.0, ge=0.1, le=4.0)
    model: ShortText | None = None
    model_path: FilePath | None = None  # kokoro model file, or the folder of a piper voice
    voices_path: FilePath | None = None  # kokoro voices file


class TranscriptionSettings(_Section):
    """Speech-to-text."""

    provider: TranscriptionProvider = "deepgram"
    language: Annotated[
        str, Field(min_length=2, max_length=35, pattern=r"^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$")
    ] = "en-US"
    model: ShortText | None = None


class LlmSettings(_Section):
    """The conversation model (OpenAI or an OpenAI-compatible endpoint)."""

    provider: LlmProvider = "openai"
    model: ShortText | None = None
    temperature: float = Field(0.7, ge=0.0, le=2.0)
    max_tokens: int = Field(500, ge=1, le=16384)
    base_url: Annotated[str, Field(max_length=2000, pattern=r"^https?://[^\s/]+(/\S*)?$")] | None = None


class Question(_Section):
    id: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]
    text: Message
    type: Annotated[str, Field(min_length=1, max_length=50)] = "open"
    follow_up_enabled: bool = False


class Criterion(_Section):
    """A scoring criterion; a bare string in ``criteria`` is a criterion without weight."""

    name: Annotated[str, Field(min_length=1, max_length=100)]
    weight: float | None = Field(None, gt=0)
    description: Message | None = None


def _criterion_kind(value: Any) -> str:
    return "name" if isinstance(value, str) else "criterion"


# A string is a bare criterion name, anything else must be a Criterion object: errors then speak about
# the form the caller used instead of listing both alternatives.
CriterionItem = Annotated[
    Annotated[Annotated[str, Field(min_length=1, max_length=100)], Tag("name")]
    | Annotated[Criterion, Tag("criterion")],
    Discriminator(_criterion_kind),
]


class ScoringRubric(_Section):
    criteria: list[CriterionItem] = Field(default_factory=list, max_length=MAX_CRITERIA)

    @field_validator("criteria")
    @classmethod
    def _rules(cls, criteria: list[str | Criterion]) -> list[str | Criterion]:
        duplicated = _duplicates([c if isinstance(c, str) else c.name for c in criteria])
        if duplicated:
            raise PydanticCustomError(
                "duplicate_criterion",
                "criterion names must be unique; repeated: {names}",
                {"names": ", ".join(duplicated)},
            )
        weighted = [c for c in criteria if isinstance(c, Criterion) and c.weight is not None]
        if weighted and len(weighted) != len(criteria):
            raise PydanticCustomError(
                "partial_weights",
                "give a weight for every criterion or for none ({given} of {total} have one)",
                {"given": len(weighted), "total": len(criteria)},
            )
        total = math.fsum(c.weight for c in weighted if c.weight is not None)
        for c in weighted:
            assert c.weight is not None
            c.weight = c.weight / total
        return criteria


class InterviewSettings(_Section):
    max_duration_minutes: float = Field(30, gt=0, le=MAX_INTERVIEW_MINUTES)
    questions: list[Question] = Field(default_factory=list, max_length=MAX_QUESTIONS)
    scoring_rubric: ScoringRubric | None = None
    max_follow_ups: int = Field(1, ge=0, le=10)
    closing_message: Message | None = None
    time_up_message: Message | None = None

    @field_serializer("max_duration_minutes")
    def _minutes(self, value: float) -> int | float:
        # A whole number of minutes is stored as such (30, not 30.0), like the seed's documents.
        return int(value) if value.is_integer() else value

    @field_validator("questions")
    @classmethod
    def _unique_ids(cls, questions: list[Question]) -> list[Question]:
        duplicated = _duplicates([q.id for q in questions])
        if duplicated:
            raise PydanticCustomError(
                "duplicate_question_id",
                "question ids must be unique; repeated: {ids}",
                {"ids": ", ".join(duplicated)},
            )
        return questions


class InterviewConfig(_Section):
    """``config_json``: everything the bot needs to run an interview."""

    bot_name: Annotated[str, Field(min_length=1, max_length=100)] | None = None
    system_prompt: Annotated[str, Field(min_length=1, max_length=20000)] | None = None
    initial_message: Message | None = None
    voice: VoiceSettings | None = None
    transcription: TranscriptionSettings | None = None
    llm: LlmSettings | None = None
    interview: InterviewSettings | None = None

    @model_validator(mode="before")
    @classmethod
    def _object(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            raise PydanticCustomError("config_object", "configJson must be a JSON object")
        return data

    def to_storage(self) -> dict[str, Any]:
        """The snake_case document stored in ``config_json`` (only the keys the caller set)."""
        return self.model_dump(mode="json", by_alias=False, exclude_unset=True)

    def rubric_weights(self) -> dict[str, float]:
        """Criterion name -> weight summing to 1 (equal weights when none were given)."""
        rubric = self.interview.scoring_rubric if self.interview else None
        criteria = rubric.criteria if rubric else []
        if not criteria:
            return {}
        equal = 1.0 / len(criteria)
        return {
            c if isinstance(c, str) else c.name: equal if isinstance(c, str) or c.weight is None else c.weight
            for c in criteria
        }


def parse_config_json(raw: Any) -> InterviewConfig:
    """Validate a stored or submitted ``config_json`` (raises pydantic.ValidationError)."""
    return InterviewConfig.model_validate(raw)
