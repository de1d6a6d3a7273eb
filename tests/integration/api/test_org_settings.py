"""voice-configs /api/voice/settings: an org's own retention, against PostgreSQL with RLS."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.usefixtures("aws_env", "database_url")

LAMBDA = "voice-configs"
BASE = "/api/voice/settings"


def put(invoke: Any, user: Any, **body: Any) -> Any:
    return invoke(LAMBDA, "PUT", BASE, user=user, body=body)


def test_members_read_defaults_and_admins_set_their_orgs_value(
    invoke: Any, team: Any, admin_conn: Any
) -> None:
    org = str(team.org.id)
    first = invoke(LAMBDA, "GET", BASE, user=team.member, query={"orgId": org})
    assert first.status == 200, first.body
    assert first.data == {
        "orgId": org,
        "transcriptRetentionDays": None,
        "effective": {"transcriptRetentionDays": 90},
        "defaults": {"transcriptRetentionDays": 90},
        "updatedAt": None,
        "updatedBy": None,
    }

    changed = put(invoke, team.admin, orgId=org, transcriptRetentionDays=30)
    assert changed.status == 200, changed.body
    assert changed.data["transcriptRetentionDays"] == 30
    assert changed.data["effective"] == {"transcriptRetentionDays": 30}
    assert changed.data["updatedBy"] == str(team.admin.id) and changed.data["updatedAt"]
    stored = admin_conn.execute(
        "SELECT transcript_retention_days FROM public.voice_org_settings WHERE org_id = %s", (team.org.id,)
    ).fetchone()
    assert stored["transcript_retention_days"] == 30
    read = invoke(LAMBDA, "GET", BASE, user=team.member, query={"org_id": org})  # snake_case too
    assert read.data["effective"] == {"transcriptRetentionDays": 30}

    # null returns the org to the module default (and follows it when module.config.yaml changes).
    reset = put(invoke, team.owner, orgId=org, transcriptRetentionDays=None)
    assert reset.status == 200 and reset.data["effective"] == {"transcriptRetentionDays": 90}
    assert reset.data["transcriptRetentionDays"] is None


def test_only_admins_write_and_other_orgs_see_nothing(invoke: Any, team: Any, admin_conn: Any) -> None:
    org = str(team.org.id)
    member = put(invoke, team.member, orgId=org, transcriptRetentionDays=1)
    assert (member.status, member.code) == (403, "ORG_ADMIN_REQUIRED")
    for outsider in (team.outsider, team.platform_admin):
        assert put(invoke, outsider, orgId=org, transcriptRetentionDays=1).status == 404
        got = invoke(LAMBDA, "GET", BASE, user=outsider, query={"orgId": org})
        assert (got.status, got.code) == (404, "ORG_NOT_FOUND")
    rows = admin_conn.execute(
        "SELECT count(*) AS n FROM public.voice_org_settings WHERE org_id = %s", (team.org.id,)
    ).fetchone()
    assert rows["n"] == 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"transcriptRetentionDays": 0}, "transcriptRetentionDays"),
        ({"transcriptRetentionDays": 3651}, "transcriptRetentionDays"),
        ({"transcriptRetentionDays": "ninety"}, "transcriptRetentionDays"),
        ({"transcriptRetentionDays": 2.5}, "transcriptRetentionDays"),
        ({}, "transcriptRetentionDays"),  # required: null is the explicit way back to the default
        ({"transcriptRetentionDays": 30, "retention": 1}, "retention"),
        ({"orgId": "nope", "transcriptRetentionDays": 30}, "orgId"),
    ],
)
def test_bad_values_are_400_and_change_nothing(
    invoke: Any, team: Any, admin_conn: Any, body: dict[str, Any], field: str
) -> None:
    r = put(invoke, team.admin, **{"orgId": str(team.org.id), **body})
    assert r.status == 400, r.body
    assert field in {d["field"] for d in r.body["details"]}, r.body
    stored = admin_conn.execute(
        "SELECT count(*) AS n FROM public.voice_org_settings WHERE org_id = %s", (team.org.id,)
    ).fetchone()
    assert stored["n"] == 0


def test_missing_org_and_malformed_json(invoke: Any, team: Any) -> None:
    assert invoke(LAMBDA, "GET", BASE, user=team.member).status == 400
    raw = invoke(LAMBDA, "PUT", BASE, user=team.admin, raw_body="{not json")
    assert (raw.status, raw.code) == (400, "INVALID_JSON")
