"""voice-credentials: provider keys in Secrets Manager (moto), metadata in PostgreSQL (RLS), validation
against a real HTTP server standing in for Daily, Deepgram and Cartesia."""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import os
import secrets
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from psycopg.types.json import Jsonb

from tests.fakes.providers import FakeProviders

pytestmark = pytest.mark.usefixtures("aws_env", "database_url")

LAMBDA = "voice-credentials"
BASE = "/api/voice/credentials"


def new_key(prefix: str = "key") -> str:
    return f"{prefix}_{secrets.token_hex(16)}"


def secret_name(scope: Any, service: str) -> str:
    env = os.environ.get("ENVIRONMENT") or "local"
    return f"cora/{env}/voice/credentials/{scope}/{service}"


@pytest.fixture(scope="module")
def fake_providers() -> Iterator[FakeProviders]:
    with FakeProviders() as fake:
        yield fake


@pytest.fixture
def providers(fake_providers: FakeProviders, monkeypatch: pytest.MonkeyPatch) -> FakeProviders:
    fake_providers.reset()
    for name, value in fake_providers.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("PROVIDER_RETRY_BACKOFF_SECONDS", "0.01")
    return fake_providers


@pytest.fixture
def sm(aws_clients: Any) -> Any:
    return aws_clients("secretsmanager")


@pytest.fixture
def free_platform(admin_conn: Any) -> Iterator[None]:
    """Platform defaults are global to the database: set them aside for the test, restore them after."""
    saved = admin_conn.execute(
        "DELETE FROM public.voice_credentials WHERE org_id IS NULL RETURNING *"
    ).fetchall()
    yield
    admin_conn.execute("DELETE FROM public.voice_credentials WHERE org_id IS NULL")
    for row in saved:
        row = {**row, "config_metadata": Jsonb(row["config_metadata"])}
        cols = ", ".join(row)
        admin_conn.execute(
            f"INSERT INTO public.voice_credentials ({cols}) VALUES ({', '.join(['%s'] * len(row))})",
            list(row.values()),
        )


def create(invoke: Any, user: Any, **body: Any) -> Any:
    return invoke(LAMBDA, "POST", BASE, user=user, body=body)


def assert_no_secret(response: Any, *keys: str) -> None:
    raw = json.dumps(response.body)
    for key in keys:
        assert key not in raw
    assert "credentialsSecretArn" not in raw and "arn:aws:secretsmanager" not in raw


# --- create / replace --------------------------------------------------------------------------------------


def test_org_admin_creates_a_credential_stored_in_secrets_manager_only(
    invoke: Any, team: Any, sm: Any, admin_conn: Any
) -> None:
    key = new_key("daily")
    r = create(
        invoke,
        team.admin,
        orgId=str(team.org.id),
        serviceName="daily",
        apiKey=key,
        configMetadata={"region": "us-west-2"},
    )

    assert r.status == 201, r.body
    data = r.data
    assert data["orgId"] == str(team.org.id) and data["scope"] == "org"
    assert data["serviceName"] == "daily" and data["keyLast4"] == key[-4:]
    assert data["configMetadata"] == {"region": "us-west-2"} and data["isActive"] is True
    assert data["lastValidatedAt"] is None and data["createdBy"] == str(team.admin.id)
    assert_no_secret(r, key)

    row = admin_conn.execute("SELECT * FROM public.voice_credentials WHERE id = %s", (data["id"],)).fetchone()
    assert row["key_last4"] == key[-4:] and key not in json.dumps(row, default=str)
    secret = sm.describe_secret(SecretId=row["credentials_secret_arn"])
    assert secret["Name"] == secret_name(team.org.id, "daily")
    assert sm.get_secret_value(SecretId=row["credentials_secret_arn"])["SecretString"] == key


def test_posting_again_replaces_the_key_with_a_new_secret_version(
    invoke: Any, team: Any, sm: Any, admin_conn: Any
) -> None:
    first, second = new_key(), new_key()
    created = create(
        invoke,
        team.owner,
        orgId=str(team.org.id),
        serviceName="deepgram",
        apiKey=first,
        configMetadata={"model": "nova-2"},
    )
    assert created.status == 201
    admin_conn.execute(
        "UPDATE public.voice_credentials SET last_validated_at = now(), is_active = false WHERE id = %s",
        (created.data["id"],),
    )

    replaced = create(invoke, team.admin, orgId=str(team.org.id), serviceName="deepgram", apiKey=second)

    assert replaced.status == 200, replaced.body
    assert replaced.data["id"] == created.data["id"]
    assert replaced.data["keyLast4"] == second[-4:]
    assert replaced.data["configMetadata"] == {"model": "nova-2"}  # kept when omitted
    assert replaced.data["lastValidatedAt"] is None  # the new key has not been validated
    assert replaced.data["isActive"] is True and replaced.data["updatedBy"] == str(team.admin.id)
    name = secret_name(team.org.id, "deepgram")
    assert sm.get_secret_value(SecretId=name)["SecretString"] == second
    versions = sm.list_secret_version_ids(SecretId=name)["Versions"]
    assert len(versions) == 2
    assert_no_secret(replaced, first, second)

    metadata = create(
        invoke,
        team.admin,
        orgId=str(team.org.id),
        serviceName="deepgram",
        apiKey=second,
        configMetadata={"model": "nova-3"},
    )
    assert metadata.data["configMetadata"] == {"model": "nova-3"}


def test_snake_case_input_is_accepted(invoke: Any, team: Any) -> None:
    r = invoke(
        LAMBDA,
        "POST",
        BASE,
        user=team.admin,
        body={
            "org_id": str(team.org.id),
            "service_name": "cartesia",
            "api_key": new_key(),
            "config_metadata": {"voice_id": "abc"},
        },
    )
    assert r.status == 201, r.body
    assert r.data["configMetadata"] == {"voice_id": "abc"}


@contextmanager
def failing_row_writes(admin_conn: Any, org_id: Any) -> Iterator[None]:
    """Make saving this org's credential rows fail after the secret write, as a lock timeout would."""
    fn = f"test_fail_cred_{uuid.uuid4().hex[:8]}"
    admin_conn.execute(
        f"""CREATE FUNCTION public.{fn}() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
              IF NEW.org_id = '{org_id}' THEN
                RAISE EXCEPTION 'lock timeout' USING ERRCODE = 'lock_not_available';
              END IF;
              RETURN NEW;
            END $$;
            CREATE TRIGGER {fn} BEFORE INSERT OR UPDATE ON public.voice_credentials
              FOR EACH ROW EXECUTE FUNCTION public.{fn}();"""
    )
    try:
        yield
    finally:
        admin_conn.execute(f"DROP TRIGGER {fn} ON public.voice_credentials; DROP FUNCTION public.{fn}();")


def test_a_failed_save_takes_the_secret_write_back(invoke: Any, team: Any, sm: Any, admin_conn: Any) -> None:
    org = str(team.org.id)
    name = secret_name(team.org.id, "deepgram")
    # A new credential whose row cannot be saved leaves no secret behind.
    with failing_row_writes(admin_conn, team.org.id):
        r = create(invoke, team.admin, orgId=org, serviceName="deepgram", apiKey=new_key())
    assert (r.status, r.code) == (503, "DB_UNAVAILABLE"), r.body
    assert sm.list_secrets(Filters=[{"Key": "name", "Values": [name]}])["SecretList"] == []

    # A replacement whose row cannot be saved leaves the old key current: the row still describes it.
    first = new_key()
    assert create(invoke, team.admin, orgId=org, serviceName="deepgram", apiKey=first).status == 201
    with failing_row_writes(admin_conn, team.org.id):
        r = create(invoke, team.admin, orgId=org, serviceName="deepgram", apiKey=new_key())
    assert r.status == 503, r.body
    assert sm.get_secret_value(SecretId=name, VersionStage="AWSCURRENT")["SecretString"] == first
    listed = invoke(LAMBDA, "GET", BASE, user=team.admin, query={"orgId": org})
    assert [c["keyLast4"] for c in listed.data] == [first[-4:]]

    # A deleted credential saved again, unsuccessfully: its secret goes back to scheduled deletion.
    cid = listed.data[0]["id"]
    assert invoke(LAMBDA, "DELETE", f"{BASE}/{cid}", user=team.admin).status == 200
    with failing_row_writes(admin_conn, team.org.id):
        assert create(invoke, team.admin, orgId=org, serviceName="deepgram", apiKey=new_key()).status == 503
    assert "DeletedDate" in sm.describe_secret(SecretId=name)


@pytest.mark.parametrize("role", ["member", "outsider"])
def test_members_and_outsiders_cannot_create_and_no_secret_is_written(
    invoke: Any, team: Any, sm: Any, role: str
) -> None:
    user = team.member if role == "member" else team.outsider
    r = create(invoke, user, orgId=str(team.org.id), serviceName="daily", apiKey=new_key())
    expected = (403, "ORG_ADMIN_REQUIRED") if role == "member" else (404, "ORG_NOT_FOUND")
    assert (r.status, r.code) == expected
    found = sm.list_secrets(Filters=[{"Key": "name", "Values": [secret_name(team.org.id, "daily")]}])
    assert found["SecretList"] == []


def test_unknown_org_is_refused(invoke: Any, team: Any) -> None:
    r = create(invoke, team.admin, orgId=str(uuid.uuid4()), serviceName="daily", apiKey=new_key())
    assert r.status == 404 and r.code == "ORG_NOT_FOUND"


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ({"serviceName": "twilio"}, "'daily', 'deepgram' or 'cartesia'"),
        ({"serviceName": 5}, "serviceName"),
        ({"apiKey": "short"}, "8 to 4096"),
        ({"apiKey": "k" * 4097}, "8 to 4096"),
        ({"apiKey": 1234567890}, "must be a string"),
        ({"apiKey": "has space inside"}, "whitespace"),
        ({"apiKey": "line\nbreak-key"}, "whitespace"),
        ({"apiKey": "clé-secrète-longue"}, "ASCII"),
        ({"orgId": "not-a-uuid"}, "orgId"),
        ({"orgId": None}, "orgId is required"),
        ({"scope": "platform"}, "not both"),
        ({"scope": "galaxy"}, "scope"),
        ({"configMetadata": ["a"]}, "configMetadata"),
        ({"configMetadata": {"x": "y" * 9000}}, "8192"),
        ({"unexpected": 1}, "unexpected"),
    ],
)
def test_invalid_bodies_are_400_with_a_clear_message(invoke: Any, team: Any, body: dict, needle: str) -> None:
    valid = {"orgId": str(team.org.id), "serviceName": "daily", "apiKey": new_key()}
    payload = {k: v for k, v in {**valid, **body}.items() if v is not None}
    r = invoke(LAMBDA, "POST", BASE, user=team.admin, body=payload)
    assert r.status == 400, r.body
    assert r.body["success"] is False and needle in r.body["error"], r.body["error"]
    # Validation messages never echo the submitted key.
    assert valid["apiKey"] not in json.dumps(r.body)


def test_missing_fields_and_malformed_json_are_400(invoke: Any, team: Any) -> None:
    r = invoke(LAMBDA, "POST", BASE, user=team.admin, body={"orgId": str(team.org.id)})
    assert r.status == 400 and "serviceName" in r.body["error"] and "apiKey" in r.body["error"]
    r = invoke(LAMBDA, "POST", BASE, user=team.admin, raw_body='{"orgId": ')
    assert r.status == 400 and r.code == "INVALID_JSON"
    r = invoke(LAMBDA, "POST", BASE, user=team.admin, body=["daily"])
    assert r.status == 400


# --- platform defaults -------------------------------------------------------------------------------------


@pytest.mark.usefixtures("free_platform")
def test_platform_admin_manages_platform_defaults_and_org_admins_cannot(
    invoke: Any, team: Any, sm: Any, providers: FakeProviders
) -> None:
    key = new_key("plat")
    denied = create(invoke, team.admin, scope="platform", serviceName="cartesia", apiKey=key)
    assert denied.status == 403 and denied.code == "PLATFORM_ADMIN_REQUIRED"

    r = create(invoke, team.platform_admin, scope="platform", serviceName="cartesia", apiKey=key)
    assert r.status == 201, r.body
    assert r.data["orgId"] is None and r.data["scope"] == "platform" and r.data["keyLast4"] == key[-4:]
    assert sm.get_secret_value(SecretId=secret_name("platform", "cartesia"))["SecretString"] == key

    listed = invoke(LAMBDA, "GET", BASE, user=team.platform_admin, query={"scope": "platform"})
    assert listed.status == 200 and [c["id"] for c in listed.data] == [r.data["id"]]
    assert listed.body["pagination"] == {"total": 1, "limit": 100, "offset": 0, "hasMore": False}
    assert_no_secret(listed, key)

    assert invoke(LAMBDA, "GET", f"{BASE}/{r.data['id']}", user=team.platform_admin).status == 200
    for user in (team.admin, team.owner, team.member):
        got = invoke(LAMBDA, "GET", f"{BASE}/{r.data['id']}", user=user)
        assert got.status == 403 and got.code == "PLATFORM_ADMIN_REQUIRED"
    listing = invoke(LAMBDA, "GET", BASE, user=team.admin, query={"scope": "platform"})
    assert listing.status == 403 and listing.code == "PLATFORM_ADMIN_REQUIRED"
    deleting = invoke(LAMBDA, "DELETE", f"{BASE}/{r.data['id']}", user=team.owner)
    assert deleting.status == 403
    assert invoke(LAMBDA, "POST", f"{BASE}/{r.data['id']}/validate", user=team.admin).status == 403
    providers.accept("cartesia", key)
    validated = invoke(LAMBDA, "POST", f"{BASE}/{r.data['id']}/validate", user=team.platform_admin)
    assert validated.status == 200 and validated.data["valid"] is True and validated.data["lastValidatedAt"]

    deleted = invoke(LAMBDA, "DELETE", f"{BASE}/{r.data['id']}", user=team.platform_admin)
    assert deleted.status == 200 and deleted.data["deleted"] is True


def test_platform_admins_get_no_cross_org_access(invoke: Any, team: Any) -> None:
    created = create(invoke, team.admin, orgId=str(team.org.id), serviceName="daily", apiKey=new_key())
    got = invoke(LAMBDA, "GET", f"{BASE}/{created.data['id']}", user=team.platform_admin)
    assert got.status == 404
    listed = invoke(LAMBDA, "GET", BASE, user=team.platform_admin, query={"orgId": str(team.org.id)})
    assert (listed.status, listed.code) == (404, "ORG_NOT_FOUND")
    post = create(invoke, team.platform_admin, orgId=str(team.org.id), serviceName="daily", apiKey=new_key())
    assert (post.status, post.code) == (404, "ORG_NOT_FOUND")


# --- list / get ---------------------------------------------------------------------------------------------


def test_list_and_get_show_metadata_to_org_admins_only(invoke: Any, team: Any) -> None:
    keys = {s: new_key(s) for s in ("daily", "deepgram", "cartesia")}
    ids = {
        s: create(invoke, team.admin, orgId=str(team.org.id), serviceName=s, apiKey=k).data["id"]
        for s, k in keys.items()
    }
    create(invoke, team.outsider, orgId=str(team.other_org.id), serviceName="daily", apiKey=new_key())

    listed = invoke(LAMBDA, "GET", BASE, user=team.owner, query={"orgId": str(team.org.id)})
    assert listed.status == 200
    assert [c["serviceName"] for c in listed.data] == ["cartesia", "daily", "deepgram"]
    assert {c["id"] for c in listed.data} == set(ids.values())
    assert listed.body["pagination"]["total"] == 3
    assert_no_secret(listed, *keys.values())

    page = invoke(
        LAMBDA, "GET", BASE, user=team.admin, query={"org_id": str(team.org.id), "limit": "2", "offset": "2"}
    )
    assert page.status == 200 and len(page.data) == 1
    assert page.body["pagination"] == {"total": 3, "limit": 2, "offset": 2, "hasMore": False}
    past = invoke(LAMBDA, "GET", BASE, user=team.admin, query={"orgId": str(team.org.id), "offset": "10"})
    assert past.data == [] and past.body["pagination"]["total"] == 3

    got = invoke(LAMBDA, "GET", f"{BASE}/{ids['daily']}", user=team.admin)
    assert (
        got.status == 200
        and got.data["serviceName"] == "daily"
        and got.data["keyLast4"] == keys["daily"][-4:]
    )
    assert_no_secret(got, *keys.values())

    member_list = invoke(LAMBDA, "GET", BASE, user=team.member, query={"orgId": str(team.org.id)})
    assert member_list.status == 403 and member_list.code == "ORG_ADMIN_REQUIRED"
    member_get = invoke(LAMBDA, "GET", f"{BASE}/{ids['daily']}", user=team.member)
    assert member_get.status == 403 and member_get.code == "ORG_ADMIN_REQUIRED"
    outsider_list = invoke(LAMBDA, "GET", BASE, user=team.outsider, query={"orgId": str(team.org.id)})
    assert outsider_list.status == 404 and outsider_list.code == "ORG_NOT_FOUND"
    outsider_get = invoke(LAMBDA, "GET", f"{BASE}/{ids['daily']}", user=team.outsider)
    assert outsider_get.status == 404 and outsider_get.code == "CREDENTIAL_NOT_FOUND"


@pytest.mark.parametrize(
    ("query", "needle"),
    [
        ({}, "orgId is required"),
        ({"orgId": "nope"}, "orgId"),
        ({"scope": "platform", "orgId": "ORG"}, "not both"),
        ({"scope": "everything"}, "scope"),
        ({"orgId": "ORG", "limit": "0"}, "limit"),
        ({"orgId": "ORG", "limit": "many"}, "limit"),
        ({"orgId": "ORG", "offset": "-1"}, "offset"),
        ({"orgId": "ORG", "org_id": str(uuid.UUID(int=1))}, "twice"),
    ],
)
def test_list_validation(invoke: Any, team: Any, query: dict, needle: str) -> None:
    query = {k: (str(team.org.id) if v == "ORG" else v) for k, v in query.items()}
    r = invoke(LAMBDA, "GET", BASE, user=team.admin, query=query)
    assert r.status == 400 and needle in r.body["error"], r.body


def test_get_validation_and_unknown_ids(invoke: Any, team: Any) -> None:
    assert invoke(LAMBDA, "GET", f"{BASE}/not-a-uuid", user=team.admin).status == 400
    assert invoke(LAMBDA, "DELETE", f"{BASE}/123", user=team.admin).status == 400
    assert invoke(LAMBDA, "POST", f"{BASE}/xyz/validate", user=team.admin).status == 400
    unknown = str(uuid.uuid4())
    assert invoke(LAMBDA, "GET", f"{BASE}/{unknown}", user=team.admin).status == 404
    assert invoke(LAMBDA, "DELETE", f"{BASE}/{unknown}", user=team.admin).status == 404
    assert invoke(LAMBDA, "POST", f"{BASE}/{unknown}/validate", user=team.admin).status == 404


def test_every_route_requires_authentication(invoke: Any, team: Any) -> None:
    some = str(uuid.uuid4())
    calls = [
        ("GET", BASE, {"query": {"orgId": str(team.org.id)}}),
        ("POST", BASE, {"body": {"orgId": str(team.org.id), "serviceName": "daily", "apiKey": new_key()}}),
        ("GET", f"{BASE}/{some}", {}),
        ("DELETE", f"{BASE}/{some}", {}),
        ("POST", f"{BASE}/{some}/validate", {}),
    ]
    for method, path, kwargs in calls:
        r = invoke(LAMBDA, method, path, **kwargs)
        assert r.status == 401 and r.code == "UNAUTHORIZED", (method, path, r.body)


# --- delete -------------------------------------------------------------------------------------------------


def test_delete_removes_the_row_and_schedules_the_secret_for_deletion(
    invoke: Any, team: Any, sm: Any, admin_conn: Any
) -> None:
    key = new_key()
    created = create(invoke, team.admin, orgId=str(team.org.id), serviceName="daily", apiKey=key)
    cid = created.data["id"]
    name = secret_name(team.org.id, "daily")

    assert invoke(LAMBDA, "DELETE", f"{BASE}/{cid}", user=team.member).status == 403
    assert invoke(LAMBDA, "DELETE", f"{BASE}/{cid}", user=team.outsider).status == 404
    assert "DeletedDate" not in sm.describe_secret(SecretId=name)

    r = invoke(LAMBDA, "DELETE", f"{BASE}/{cid}", user=team.owner)
    assert r.status == 200, r.body
    assert r.data == {
        "id": cid,
        "orgId": str(team.org.id),
        "serviceName": "daily",
        "deleted": True,
        "secretDeletionScheduled": True,
    }
    assert (
        admin_conn.execute("SELECT 1 FROM public.voice_credentials WHERE id = %s", (cid,)).fetchone() is None
    )
    assert "DeletedDate" in sm.describe_secret(SecretId=name)
    assert invoke(LAMBDA, "GET", f"{BASE}/{cid}", user=team.owner).status == 404
    assert invoke(LAMBDA, "DELETE", f"{BASE}/{cid}", user=team.owner).status == 404

    # Saving a key again restores the scheduled secret and writes the new value.
    again = new_key()
    recreated = create(invoke, team.admin, orgId=str(team.org.id), serviceName="daily", apiKey=again)
    assert recreated.status == 201 and recreated.data["id"] != cid
    assert "DeletedDate" not in sm.describe_secret(SecretId=name)
    assert sm.get_secret_value(SecretId=name)["SecretString"] == again


def test_delete_leaves_secrets_the_module_does_not_own(
    invoke: Any, team: Any, sm: Any, admin_conn: Any
) -> None:
    arn = sm.create_secret(Name=f"shared/daily-{secrets.token_hex(4)}", SecretString=new_key())["ARN"]
    row = admin_conn.execute(
        "INSERT INTO public.voice_credentials (org_id, service_name, credentials_secret_arn, created_by) "
        "VALUES (%s, 'daily', %s, %s) RETURNING id",
        (team.org.id, arn, team.admin.id),
    ).fetchone()
    r = invoke(LAMBDA, "DELETE", f"{BASE}/{row['id']}", user=team.admin)
    assert r.status == 200 and r.data["secretDeletionScheduled"] is False
    assert "DeletedDate" not in sm.describe_secret(SecretId=arn)


# --- validate -----------------------------------------------------------------------------------------------


def test_validate_a_valid_key_records_last_validated_at(
    invoke: Any, team: Any, providers: FakeProviders, admin_conn: Any
) -> None:
    key = new_key("daily")
    providers.accept("daily", key)
    cid = create(invoke, team.admin, orgId=str(team.org.id), serviceName="daily", apiKey=key).data["id"]

    r = invoke(LAMBDA, "POST", f"{BASE}/{cid}/validate", user=team.admin)

    assert r.status == 200, r.body
    assert r.data["valid"] is True and r.data["reason"] is None and r.data["lastValidatedAt"]
    assert_no_secret(r, key)
    stored = admin_conn.execute(
        "SELECT last_validated_at FROM public.voice_credentials WHERE id = %s", (cid,)
    ).fetchone()["last_validated_at"]
    assert stored == dt.datetime.fromisoformat(r.data["lastValidatedAt"])
    [request] = providers.requests_for("daily")
    assert request.headers["authorization"] == f"Bearer {key}"
    assert request.query == {"limit": ["1"]}
    got = invoke(LAMBDA, "GET", f"{BASE}/{cid}", user=team.admin)
    assert got.data["lastValidatedAt"] == r.data["lastValidatedAt"]


@pytest.mark.parametrize(
    ("service", "header", "value"),
    [("deepgram", "authorization", "Token {key}"), ("cartesia", "x-api-key", "{key}")],
)
def test_validate_uses_each_providers_auth_scheme(
    invoke: Any, team: Any, providers: FakeProviders, service: str, header: str, value: str
) -> None:
    key = new_key(service)
    providers.accept(service, key)
    cid = create(invoke, team.admin, orgId=str(team.org.id), serviceName=service, apiKey=key).data["id"]
    r = invoke(LAMBDA, "POST", f"{BASE}/{cid}/validate", user=team.owner)
    assert r.status == 200 and r.data["valid"] is True, r.body
    [request] = providers.requests_for(service)
    assert request.headers[header] == value.format(key=key)
    if service == "cartesia":
        assert request.headers["cartesia-version"]


def test_validate_an_invalid_key_is_an_answer_not_an_error(
    invoke: Any, team: Any, providers: FakeProviders, admin_conn: Any
) -> None:
    key = new_key()
    cid = create(invoke, team.admin, orgId=str(team.org.id), serviceName="deepgram", apiKey=key).data["id"]
    r = invoke(LAMBDA, "POST", f"{BASE}/{cid}/validate", user=team.admin)
    assert r.status == 200, r.body
    assert r.data["valid"] is False and "rejected" in r.data["reason"] and "401" in r.data["reason"]
    assert r.data["lastValidatedAt"] is None
    assert len(providers.requests_for("deepgram")) == 1  # a rejection is not retried
    row = admin_conn.execute(
        "SELECT last_validated_at FROM public.voice_credentials WHERE id = %s", (cid,)
    ).fetchone()
    assert row["last_validated_at"] is None
    assert_no_secret(r, key)


def test_validate_retries_a_rate_limited_provider(invoke: Any, team: Any, providers: FakeProviders) -> None:
    key = new_key()
    providers.accept("cartesia", key)
    providers.script("cartesia", 429, 503)
    cid = create(invoke, team.admin, orgId=str(team.org.id), serviceName="cartesia", apiKey=key).data["id"]
    r = invoke(LAMBDA, "POST", f"{BASE}/{cid}/validate", user=team.admin)
    assert r.status == 200 and r.data["valid"] is True, r.body
    assert len(providers.requests_for("cartesia")) == 3


@pytest.mark.parametrize(
    ("statuses", "code"), [((500, 500, 500), "PROVIDER_ERROR"), ((429,) * 3, "PROVIDER_RATE_LIMITED")]
)
def test_validate_gives_up_after_bounded_retries_with_502(
    invoke: Any, team: Any, providers: FakeProviders, admin_conn: Any, statuses: tuple[int, ...], code: str
) -> None:
    key = new_key()
    providers.accept("daily", key)
    providers.script("daily", *statuses, 200)
    cid = create(invoke, team.admin, orgId=str(team.org.id), serviceName="daily", apiKey=key).data["id"]
    r = invoke(LAMBDA, "POST", f"{BASE}/{cid}/validate", user=team.admin)
    assert r.status == 502 and r.code == code, r.body
    assert "Daily" in r.body["error"]
    assert len(providers.requests_for("daily")) == 3
    row = admin_conn.execute(
        "SELECT last_validated_at FROM public.voice_credentials WHERE id = %s", (cid,)
    ).fetchone()
    assert row["last_validated_at"] is None
    assert_no_secret(r, key)


def test_validate_an_unreachable_provider_is_502(
    invoke: Any, team: Any, monkeypatch: pytest.MonkeyPatch, providers: FakeProviders
) -> None:
    from tests.fixtures.aws import free_port

    monkeypatch.setenv("DEEPGRAM_API_URL", f"http://127.0.0.1:{free_port()}/v1")  # nothing listens there
    cid = create(invoke, team.admin, orgId=str(team.org.id), serviceName="deepgram", apiKey=new_key()).data[
        "id"
    ]
    r = invoke(LAMBDA, "POST", f"{BASE}/{cid}/validate", user=team.admin)
    assert r.status == 502 and r.code == "PROVIDER_UNREACHABLE", r.body
    assert "Deepgram could not be reached" in r.body["error"]


def test_validate_authorization_and_missing_secret(
    invoke: Any, team: Any, providers: FakeProviders, sm: Any
) -> None:
    key = new_key()
    providers.accept("daily", key)
    cid = create(invoke, team.admin, orgId=str(team.org.id), serviceName="daily", apiKey=key).data["id"]
    member = invoke(LAMBDA, "POST", f"{BASE}/{cid}/validate", user=team.member)
    assert member.status == 403 and member.code == "ORG_ADMIN_REQUIRED"
    assert invoke(LAMBDA, "POST", f"{BASE}/{cid}/validate", user=team.outsider).status == 404
    assert invoke(LAMBDA, "POST", f"{BASE}/{cid}/validate", user=team.platform_admin).status == 404
    assert providers.requests_for("daily") == []  # nobody unauthorized got as far as the provider

    sm.delete_secret(SecretId=secret_name(team.org.id, "daily"), ForceDeleteWithoutRecovery=True)
    gone = invoke(LAMBDA, "POST", f"{BASE}/{cid}/validate", user=team.admin)
    assert gone.status == 409 and gone.code == "CREDENTIAL_SECRET_MISSING"


@contextmanager
def captured_logs() -> Iterator[io.StringIO]:
    """Everything the module's Powertools loggers and the root logger write while the block runs."""
    from access_common.app import SERVICE

    buf = io.StringIO()
    streams = [h for h in logging.getLogger(SERVICE).handlers if isinstance(h, logging.StreamHandler)]
    previous = [h.setStream(buf) for h in streams]
    root = logging.StreamHandler(buf)
    logging.getLogger().addHandler(root)
    try:
        yield buf
    finally:
        logging.getLogger().removeHandler(root)
        for handler, stream in zip(streams, previous, strict=True):
            handler.setStream(stream)  # type: ignore[arg-type]


def test_keys_never_reach_the_logs(invoke: Any, team: Any, providers: FakeProviders) -> None:
    good, bad = new_key("good"), new_key("bad")
    providers.accept("daily", good)
    with captured_logs() as logs:
        cid = create(invoke, team.admin, orgId=str(team.org.id), serviceName="daily", apiKey=good).data["id"]
        invoke(LAMBDA, "POST", f"{BASE}/{cid}/validate", user=team.admin)
        create(invoke, team.admin, orgId=str(team.org.id), serviceName="daily", apiKey=bad)
        invoke(LAMBDA, "POST", f"{BASE}/{cid}/validate", user=team.admin)
        create(invoke, team.member, orgId=str(team.org.id), serviceName="daily", apiKey=bad)
        invoke(
            LAMBDA,
            "POST",
            BASE,
            user=team.admin,
            body={"orgId": str(team.org.id), "serviceName": "x", "apiKey": bad},
        )
    text = logs.getvalue()
    assert "credential saved" in text and "provider key check" in text  # the handlers did log
    assert good not in text and bad not in text


# --- for the rest of the module: resolve_secret_arn / get_api_key -------------------------------------------


@pytest.mark.usefixtures("free_platform")
def test_resolve_prefers_the_org_then_the_platform_then_the_environment(
    invoke: Any, team: Any, admin_conn: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from access_common.db import service_tx
    from voice_common.credentials import resolve_secret_arn

    monkeypatch.setenv(
        "DEEPGRAM_API_KEY_SECRET_ARN", "arn:aws:secretsmanager:us-east-1:123456789012:secret:env-dg"
    )

    def resolve(org: Any) -> str | None:
        with service_tx() as cur:
            return resolve_secret_arn(cur, org, "deepgram")

    assert resolve(team.org.id) == os.environ["DEEPGRAM_API_KEY_SECRET_ARN"]
    create(invoke, team.platform_admin, scope="platform", serviceName="deepgram", apiKey=new_key())
    platform_arn = admin_conn.execute(
        "SELECT credentials_secret_arn FROM public.voice_credentials "
        "WHERE org_id IS NULL AND service_name = 'deepgram'"
    ).fetchone()["credentials_secret_arn"]
    assert resolve(team.org.id) == platform_arn
    assert resolve(None) == platform_arn
    org_cred = create(
        invoke, team.admin, orgId=str(team.org.id), serviceName="deepgram", apiKey=new_key()
    ).data
    org_arn = admin_conn.execute(
        "SELECT credentials_secret_arn FROM public.voice_credentials WHERE id = %s", (org_cred["id"],)
    ).fetchone()["credentials_secret_arn"]
    assert resolve(team.org.id) == org_arn
    assert resolve(team.other_org.id) == platform_arn
    admin_conn.execute(
        "UPDATE public.voice_credentials SET is_active = false WHERE id = %s", (org_cred["id"],)
    )
    assert resolve(team.org.id) == platform_arn

    monkeypatch.delenv("DEEPGRAM_API_KEY_SECRET_ARN")
    admin_conn.execute(
        "DELETE FROM public.voice_credentials WHERE org_id IS NULL AND service_name = 'deepgram'"
    )
    assert resolve(team.other_org.id) is None
    with pytest.raises(ValueError, match="unknown service"), service_tx() as cur:
        resolve_secret_arn(cur, team.org.id, "openai")


def test_get_api_key_reads_the_secret_and_caches_it_briefly(
    invoke: Any, team: Any, sm: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from voice_common.credentials import forget_cached_key, get_api_key

    first = new_key()
    create(invoke, team.admin, orgId=str(team.org.id), serviceName="cartesia", apiKey=first)
    assert get_api_key(team.org.id, "cartesia") == first

    # Changed behind the API's back: the cached value is served until the TTL runs out.
    second = new_key()
    sm.put_secret_value(SecretId=secret_name(team.org.id, "cartesia"), SecretString=second)
    assert get_api_key(team.org.id, "cartesia") == first
    monkeypatch.setenv("VOICE_CREDENTIAL_CACHE_SECONDS", "0")
    forget_cached_key(team.org.id, "cartesia")
    assert get_api_key(team.org.id, "cartesia") == second

    # Saving through the API drops this container's cached copy at once.
    monkeypatch.setenv("VOICE_CREDENTIAL_CACHE_SECONDS", "60")
    assert get_api_key(team.org.id, "cartesia") == second
    third = new_key()
    create(invoke, team.admin, orgId=str(team.org.id), serviceName="cartesia", apiKey=third)
    assert get_api_key(team.org.id, "cartesia") == third
