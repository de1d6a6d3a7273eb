"""voice_local.tokens: the JWT secret survives restarts, dev tokens verify, files hold no passwords."""

from __future__ import annotations

import stat

import pytest

from access_common.jwt import verify_user_jwt
from voice_local import tokens

SEEDED = {
    "orgs": {
        "acme": "a0000000-0000-4000-8000-000000000001",
        "globex": "a0000000-0000-4000-8000-000000000002",
    },
    "users": {
        "acme_owner": {
            "id": "b0000000-0000-4000-8000-000000000001",
            "email": "owner@acme.test",
            "org_role": "org_owner",
        },
        "platform_admin": {
            "id": "b0000000-0000-4000-8000-000000000005",
            "email": "admin@platform.test",
            "org_role": None,
            "sys_role": "sys_admin",
        },
    },
    "configs": {"acme_sample": {"id": "c0000000-0000-4000-8000-000000000001", "name": "x"}},
}


def test_secret_is_created_once_and_private(tmp_path, monkeypatch):
    monkeypatch.delenv("SUPABASE_JWT_SECRET", raising=False)
    first = tokens.load_or_create_jwt_secret(tmp_path)
    assert len(first) >= 32
    assert tokens.load_or_create_jwt_secret(tmp_path) == first
    mode = stat.S_IMODE((tmp_path / "jwt-secret").stat().st_mode)
    assert mode == 0o600


def test_environment_secret_wins(tmp_path, monkeypatch):
    monkeypatch.setenv("SUPABASE_JWT_SECRET", "from-the-environment-0123456789abcdef")
    assert tokens.load_or_create_jwt_secret(tmp_path) == "from-the-environment-0123456789abcdef"
    assert not (tmp_path / "jwt-secret").exists()


def test_dev_tokens_verify():
    secret = "s" * 48
    doc = tokens.dev_tokens(SEEDED, secret=secret)
    assert doc["orgs"] == {"acme": SEEDED["orgs"]["acme"], "globex": SEEDED["orgs"]["globex"]}
    owner = doc["users"]["acmeOwner"]
    assert owner["orgRole"] == "org_owner" and owner["email"] == "owner@acme.test"
    claims = verify_user_jwt(owner["token"], secret=secret)
    assert claims["sub"] == owner["id"] and claims["email"] == "owner@acme.test"
    assert doc["users"]["platformAdmin"]["orgRole"] is None
    assert doc["users"]["platformAdmin"]["sysRole"] == "sys_admin"
    assert doc["configs"] == {"acmeSample": "c0000000-0000-4000-8000-000000000001"}


def test_dev_tokens_from_the_real_seed_result_shape():
    """voice_local.seed's constants give the documented user keys."""
    from voice_local.seed import ORGS, USERS

    doc = tokens.dev_tokens({"orgs": ORGS, "users": USERS}, secret="s" * 48)
    assert set(doc["orgs"]) == {"acme", "globex"}
    assert set(doc["users"]) == {"acmeOwner", "acmeAdmin", "acmeMember", "globexMember", "platformAdmin"}
    assert doc["users"]["acmeAdmin"]["orgRole"] == "org_admin"


@pytest.mark.parametrize(
    ("url", "redacted"),
    [
        ("postgresql://app:s3cret@db.example:5432/voice", "postgresql://app@db.example:5432/voice"),
        ("postgresql://postgres:@/postgres?host=/tmp/x", "postgresql://postgres@/postgres?host=/tmp/x"),
        ("postgresql://app@localhost/voice", "postgresql://app@localhost/voice"),
        ("host=/tmp dbname=voice password=s3cret user=app", "host=/tmp dbname=voice user=app"),
    ],
)
def test_database_url_redaction(url, redacted):
    assert tokens.redact_database_url(url) == redacted


def test_stack_document():
    doc = tokens.stack_document(
        rest_url="http://127.0.0.1:8080/api/voice",
        websocket_url="ws://127.0.0.1:8080/ws",
        aws_endpoint="http://127.0.0.1:5001",
        database_url="postgresql://app:pw@h/db",
        pid=42,
    )
    assert doc["databaseUrl"] == "postgresql://app@h/db"
    assert set(doc) >= {"restUrl", "websocketUrl", "awsEndpoint", "databaseUrl", "pid"}
