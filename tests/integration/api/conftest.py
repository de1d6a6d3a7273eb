"""Helpers for the REST API tests: an organization with one user per role, and request shortcuts.

Every test builds its own ``team`` (fresh orgs and users), so tests never see each other's rows and run
in any order. The handlers are the real Lambdas, invoked with API Gateway events against PostgreSQL.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.fixtures.api import ApiResponse
from tests.fixtures.db import Org, User

Call = Callable[..., ApiResponse]

# A complete configuration in the API's camelCase, as a client would send it.
CONFIG_JSON: dict[str, Any] = {
    "botName": "Interview Assistant",
    "systemPrompt": "You are conducting a technical interview.",
    "initialMessage": "Hello! I'm your interview assistant today.",
    "voice": {"provider": "cartesia", "voiceId": "sonic-english", "speed": 1.0},
    "transcription": {"provider": "deepgram", "language": "en-US", "model": "nova-2"},
    "llm": {"provider": "openai", "model": "gpt-4o-mini", "temperature": 0.7, "maxTokens": 500},
    "interview": {
        "maxDurationMinutes": 30,
        "questions": [
            {
                "id": "q1",
                "text": "Tell me about a system you built.",
                "type": "open",
                "followUpEnabled": True,
            },
            {"id": "q2", "text": "How did you test it?"},
        ],
        "scoringRubric": {"criteria": ["communication", "technical_depth"]},
    },
}


def config_json(**overrides: Any) -> dict[str, Any]:
    doc = copy.deepcopy(CONFIG_JSON)
    doc.update(overrides)
    return doc


@dataclass
class Team:
    """Two organizations and a user for every role that matters to authorization."""

    org: Org
    owner: User
    admin: User
    member: User
    member2: User
    other_org: Org
    outsider: User  # admin of other_org, not in org
    platform_admin: User  # sys_admin without membership in org


@pytest.fixture
def team(make_org: Callable[..., Org], make_user: Callable[..., User]) -> Team:
    org, other = make_org(), make_org()
    return Team(
        org=org,
        owner=make_user(org, "org_owner"),
        admin=make_user(org, "org_admin"),
        member=make_user(org, "org_user"),
        member2=make_user(org, "org_user"),
        other_org=other,
        outsider=make_user(other, "org_admin"),
        platform_admin=make_user(None, sys_role="sys_admin"),
    )


@pytest.fixture(autouse=True)
def _database(database_url: str) -> None:
    """The handlers read DATABASE_URL, which the database fixture exports."""


@pytest.fixture
def configs_api(invoke: Callable[..., ApiResponse]) -> Call:
    """``configs_api("GET", "/api/voice/configs", user=u, query={...})`` -> the voice-configs Lambda."""
    return lambda method, path, **kw: invoke("voice-configs", method, path, **kw)


@pytest.fixture
def sessions_api(invoke: Callable[..., ApiResponse]) -> Call:
    """``sessions_api("POST", "/api/voice/sessions", user=u, body={...})`` -> the voice-sessions Lambda."""
    return lambda method, path, **kw: invoke("voice-sessions", method, path, **kw)


@dataclass
class LifecycleCalls:
    status_changes: list[tuple[dict[str, Any], str | None, str, str | None]] = field(default_factory=list)
    deletions: list[tuple[dict[str, Any], list[str]]] = field(default_factory=list)


@pytest.fixture
def lifecycle_calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[LifecycleCalls]:
    """Record the post-commit lifecycle hooks instead of running their effects (notifications, teardown,
    S3 erasure belong to other modules and have their own tests); the tests check what the API hands them."""
    from voice_common import lifecycle

    calls = LifecycleCalls()
    monkeypatch.setattr(
        lifecycle,
        "on_status_changed",
        lambda s, old, new, reason=None: calls.status_changes.append((dict(s), old, new, reason)),
    )
    monkeypatch.setattr(
        lifecycle, "on_session_deleted", lambda s, urls: calls.deletions.append((dict(s), list(urls)))
    )
    yield calls


def new_id() -> str:
    return str(uuid.uuid4())


__all__ = ["CONFIG_JSON", "Call", "LifecycleCalls", "Team", "config_json", "new_id"]
