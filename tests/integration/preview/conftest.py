"""Voice preview tests: the real voice-preview Lambda against PostgreSQL (RLS), moto (S3 cache,
DynamoDB rate limit, Secrets Manager key) and a Cartesia stand-in on 127.0.0.1; Piper runs for real.

Every test gets its own orgs and users (``scene``), so rate-limit windows and caches never overlap.
"""

from __future__ import annotations

import io
import json
import secrets
import urllib.request
import wave
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.fakes.cartesia import FakeCartesia
from tests.fixtures.api import ApiResponse
from tests.fixtures.db import Org, User

PATH = "/api/voice/preview"
CARTESIA_VOICE = "a0e99841-438c-4a64-b679-ae501e7d6091"


@dataclass
class Scene:
    org: Org
    admin: User
    member: User
    other_org: Org
    outsider: User  # admin of other_org, not in org
    platform_admin: User  # sys_admin, member of no org


@pytest.fixture
def scene(make_org: Callable[..., Org], make_user: Callable[..., User]) -> Scene:
    org, other = make_org(), make_org()
    return Scene(
        org=org,
        admin=make_user(org, "org_admin"),
        member=make_user(org, "org_user"),
        other_org=other,
        outsider=make_user(other, "org_admin"),
        platform_admin=make_user(None, sys_role="sys_admin"),
    )


@pytest.fixture(autouse=True)
def _environment(database_url: str, aws_env: dict[str, str]) -> None:
    """The handlers read DATABASE_URL and the AWS resource names the fixtures export."""


@pytest.fixture(scope="session")
def cartesia_server() -> Iterator[FakeCartesia]:
    with FakeCartesia() as fake:
        yield fake


@pytest.fixture
def cartesia(cartesia_server: FakeCartesia, monkeypatch: pytest.MonkeyPatch) -> FakeCartesia:
    cartesia_server.reset()
    monkeypatch.setenv("CARTESIA_API_URL", cartesia_server.base_url)
    monkeypatch.setenv("PROVIDER_RETRY_BACKOFF_SECONDS", "0.01")
    return cartesia_server


@pytest.fixture
def preview(invoke: Callable[..., ApiResponse]) -> Callable[..., ApiResponse]:
    """``preview(user, orgId=..., voice={...}, text=...)`` -> POST /api/voice/preview."""

    def call(user: Any, **body: Any) -> ApiResponse:
        return invoke("voice-preview", "POST", PATH, user=user, body=body)

    return call


@pytest.fixture
def cartesia_key(
    invoke: Callable[..., ApiResponse], scene: Scene, cartesia: FakeCartesia
) -> Callable[..., str]:
    """``cartesia_key(org=None, accepted=True)``: an org admin saves a Cartesia key through the
    credentials API (Secrets Manager + voice_credentials); the stand-in accepts it unless told not to."""

    def save(org: Org | None = None, admin: User | None = None, *, accepted: bool = True) -> str:
        key = f"sk_car_{secrets.token_hex(16)}"
        org, admin = org or scene.org, admin or scene.admin
        r = invoke(
            "voice-credentials",
            "POST",
            "/api/voice/credentials",
            user=admin,
            body={"orgId": str(org.id), "serviceName": "cartesia", "apiKey": key},
        )
        assert r.status == 201, r.body
        if accepted:
            cartesia.accept(key)
        return key

    return save


def fetch(url: str) -> bytes:
    """GET a presigned URL from the moto server, as a browser's <audio> element would."""
    assert url.startswith("http://127.0.0.1:"), url
    with urllib.request.urlopen(url, timeout=10) as resp:
        assert resp.status == 200
        return bytes(resp.read())


def wav_info(data: bytes) -> tuple[int, int, int, bytes]:
    """(sample rate, channels, sample width, frames) of a WAV; raises if it is not a valid WAV."""
    with wave.open(io.BytesIO(data), "rb") as w:
        return w.getframerate(), w.getnchannels(), w.getsampwidth(), w.readframes(w.getnframes())


def no_secret(response: ApiResponse, *keys: str) -> bool:
    raw = json.dumps(response.body)
    return all(k not in raw for k in keys)
