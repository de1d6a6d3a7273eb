"""One local stack for the contract tests (fuzzing, unauthenticated calls, the load smoke test).

The stack is the real one (``voice_local.testing.running_stack``): its own embedded PostgreSQL in a
temporary directory, moto, the Daily stand-in and the gateway on free ports, with the demo data seeded.
``World`` adds a few more rows of each kind to acme, so fuzzed requests can hit real resources and not
only random ids: sessions in several states, a transcript with analytics, a credential, a KB link.
Provider key validation talks to ``tests.fakes.providers`` instead of the real providers.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class World:
    """The running stack and the real ids the fuzzer substitutes for random ones."""

    stack: Any
    base_url: str  # http://127.0.0.1:<port>
    rest_url: str  # .../api/voice
    orgs: dict[str, str]
    tokens: dict[str, str]  # seeded user key -> JWT
    users: dict[str, str]  # seeded user key -> id
    database_url: str
    ids: dict[str, list[str]] = field(default_factory=dict)  # kind -> ids
    bot_session: str = ""
    bot_token: str = ""

    def headers(self, user: str = "acmeAdmin") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[user]}"}

    def api(self, method: str, path: str, user: str = "acmeAdmin", **kw: Any) -> requests.Response:
        return requests.request(method, self.rest_url + path, headers=self.headers(user), timeout=30, **kw)


def _sql(url: str, query: str, params: tuple[Any, ...] = ()) -> Any:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(query, params).fetchone()
        return row[0] if row else None


def _populate(world: World) -> None:
    acme, admin, member = world.orgs["acme"], world.users["acmeAdmin"], world.users["acmeMember"]
    config = _sql(
        world.database_url, "SELECT id FROM public.voice_configs WHERE org_id = %s LIMIT 1", (acme,)
    )
    sessions: list[str] = []
    for creator, name in ((admin, "Fuzz Pending"), (member, "Fuzz Member's")):
        created = world.api(
            "POST",
            "/sessions",
            user="acmeAdmin" if creator == admin else "acmeMember",
            json={
                "orgId": acme,
                "interviewType": "technical",
                "configId": str(config),
                "candidateName": name,
            },
        )
        assert created.status_code == 201, created.text
        sessions.append(created.json()["data"]["id"])
    kb = _sql(world.database_url, "SELECT id FROM public.kb_bases WHERE org_id = %s LIMIT 1", (acme,))
    linked = world.api("POST", f"/sessions/{sessions[0]}/kbs", json={"kbId": str(kb)})
    assert linked.status_code == 201, linked.text

    # A finished interview with a transcript and analytics (written by the system, so inserted directly).
    done = str(uuid.uuid4())
    url = world.database_url
    _sql(
        url,
        "INSERT INTO public.voice_sessions (id, org_id, interview_type, config_id, created_by,"
        " candidate_name) VALUES (%s, %s, 'technical', %s, %s, 'Fuzz Done') RETURNING id",
        (done, acme, config, admin),
    )
    for status in ("ready", "active", "completed"):
        _sql(url, "UPDATE public.voice_sessions SET status = %s WHERE id = %s RETURNING id", (status, done))
    segments = [
        {"seq": 1, "speaker": "bot", "text": "Tell me about a system you built.", "start_time": 0.0},
        {"seq": 2, "speaker": "candidate", "text": "A payment service.", "start_time": 2.0},
    ]
    transcript = _sql(
        url,
        "INSERT INTO public.voice_transcripts (org_id, session_id, transcript_text, speaker_segments,"
        " word_count, created_by) VALUES (%s, %s, %s, %s, 9, %s) RETURNING id",
        (acme, done, "bot: Tell me about a system you built.", json.dumps(segments), admin),
    )
    _sql(
        url,
        "INSERT INTO public.voice_analytics (org_id, session_id, transcript_id, overall_score, status,"
        " created_by) VALUES (%s, %s, %s, 72.5, 'completed', %s) RETURNING id",
        (acme, done, transcript, admin),
    )

    # A session whose bot callbacks the fuzzer may call (ready, no dispatch yet: any token for it works).
    bot_session = _sql(
        url,
        "INSERT INTO public.voice_sessions (org_id, interview_type, config_id, created_by)"
        " VALUES (%s, 'technical', %s, %s) RETURNING id",
        (acme, config, admin),
    )
    _sql(url, "UPDATE public.voice_sessions SET status = 'ready' WHERE id = %s RETURNING id", (bot_session,))
    from voice_common import bot_token

    bot_token.reset_secret_cache()
    world.bot_session = str(bot_session)
    world.bot_token = bot_token.issue(world.bot_session, 3600)

    credential = world.api(
        "POST",
        "/credentials",
        json={"orgId": acme, "serviceName": "deepgram", "apiKey": "fuzz-deepgram-key-1"},
    )
    assert credential.status_code in (200, 201), credential.text
    world.ids = {
        "config": [str(config)],
        "session": [*sessions, done],
        "transcript": [str(transcript)],
        "credential": [credential.json()["data"]["id"]],
        "kb": [str(kb)],
    }


@pytest.fixture(scope="package")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """Package-scoped: the stack points DATABASE_URL, AWS_ENDPOINT_URL etc. at itself while it runs, so it
    must stop (restoring them) before other packages' tests use the session's database and moto."""
    from tests.fakes.providers import FakeProviders
    from voice_local.testing import running_stack

    saved = {
        k: os.environ.get(k)
        for k in ("DEEPGRAM_API_URL", "CARTESIA_API_URL", "DAILY_API_URL", "DATABASE_URL")
    }
    # Its own embedded PostgreSQL: the stack would otherwise take DATABASE_URL (the session's test
    # database, if another package set it up) and seed and fuzz the demo org there.
    os.environ.pop("DATABASE_URL", None)
    with FakeProviders() as providers:
        os.environ.update({k: v for k, v in providers.env().items() if k != "DAILY_API_URL"})
        try:
            with running_stack(data_dir=tmp_path_factory.mktemp("contract-stack")) as stack:
                assert stack.tokens is not None and stack.database_url
                world = World(
                    stack=stack,
                    base_url=stack.base_url,
                    rest_url=stack.rest_url,
                    orgs=dict(stack.tokens["orgs"]),
                    tokens={k: v["token"] for k, v in stack.tokens["users"].items()},
                    users={k: v["id"] for k, v in stack.tokens["users"].items()},
                    database_url=stack.database_url,
                )
                _populate(world)
                yield world
        finally:
            from voice_common import bot_token
            from voice_common.settings import get_settings

            bot_token.reset_secret_cache()  # cached from this stack's moto
            get_settings.cache_clear()
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
