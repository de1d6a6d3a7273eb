"""/api/voice/configs against PostgreSQL through the real voice-configs Lambda."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.api.conftest import Call, Team, config_json, new_id

BASE = "/api/voice/configs"


def body(team: Team, **overrides: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "orgId": str(team.org.id),
        "name": f"Technical v{new_id()[:8]}",
        "interviewType": "technical",
        "description": "Standard technical interview",
        "configJson": config_json(),
    }
    doc.update(overrides)
    return doc


def stored(admin_conn: Any, config_id: str) -> dict[str, Any] | None:
    return admin_conn.execute("SELECT * FROM public.voice_configs WHERE id = %s", (config_id,)).fetchone()


def count_configs(admin_conn: Any, team: Team) -> int:
    row = admin_conn.execute(
        "SELECT count(*) AS n FROM public.voice_configs WHERE org_id = %s", (team.org.id,)
    )
    return int(row.fetchone()["n"])


def field_errors(response: Any) -> dict[str, str]:
    return {d["field"]: d["message"] for d in response.body.get("details") or []}


# --- create ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["admin", "owner"])
def test_admin_and_owner_create_config_stored_in_snake_case(
    configs_api: Call, team: Team, admin_conn: Any, role: str
) -> None:
    user = getattr(team, role)
    r = configs_api("POST", BASE, user=user, body=body(team, name="Technical v1"))

    assert r.status == 201, r.body
    data = r.data
    assert data["name"] == "Technical v1" and data["orgId"] == str(team.org.id)
    assert data["version"] == 1 and data["isActive"] is True
    assert data["createdBy"] == str(user.id) and data["updatedBy"] is None
    row = stored(admin_conn, data["id"])
    assert row is not None
    doc = row["config_json"]
    # The column holds the seed's snake_case shape, whatever casing the client used.
    assert doc["bot_name"] == "Interview Assistant"
    assert doc["voice"] == {"provider": "cartesia", "voice_id": "sonic-english", "speed": 1.0}
    assert doc["llm"]["max_tokens"] == 500
    assert doc["interview"]["questions"][0]["follow_up_enabled"] is True
    assert "follow_up_enabled" not in doc["interview"]["questions"][1]  # unset keys stay unset
    assert doc["interview"]["max_duration_minutes"] == 30 and isinstance(
        doc["interview"]["max_duration_minutes"], int
    )
    assert data["configJson"] == doc


def test_create_accepts_snake_case_body_and_keys(configs_api: Call, team: Team) -> None:
    doc = {
        "org_id": str(team.org.id),
        "name": "Snake",
        "interview_type": "behavioral",
        "is_active": False,
        "config_json": {"bot_name": "Bot", "voice": {"provider": "KOKORO", "voice_id": "af_heart"}},
    }
    r = configs_api("POST", BASE, user=team.admin, body=doc)
    assert r.status == 201, r.body
    assert r.data["interviewType"] == "behavioral" and r.data["isActive"] is False
    assert r.data["configJson"] == {
        "bot_name": "Bot",
        "voice": {"provider": "kokoro", "voice_id": "af_heart"},
    }


def test_member_cannot_create(configs_api: Call, team: Team, admin_conn: Any) -> None:
    r = configs_api("POST", BASE, user=team.member, body=body(team))
    assert r.status == 403 and r.code == "ORG_ADMIN_REQUIRED"
    assert count_configs(admin_conn, team) == 0


@pytest.mark.parametrize("who", ["outsider", "platform_admin"])
def test_non_member_cannot_create(configs_api: Call, team: Team, admin_conn: Any, who: str) -> None:
    r = configs_api("POST", BASE, user=getattr(team, who), body=body(team))
    assert r.status == 404 and r.code == "ORG_NOT_FOUND"
    assert count_configs(admin_conn, team) == 0


def test_create_in_unknown_org_is_403(configs_api: Call, team: Team) -> None:
    r = configs_api("POST", BASE, user=team.admin, body=body(team, orgId=new_id()))
    assert r.status == 404 and r.code == "ORG_NOT_FOUND"


def test_create_unauthenticated(configs_api: Call, team: Team) -> None:
    r = configs_api("POST", BASE, body=body(team))
    assert r.status == 401 and r.body["success"] is False


def test_duplicate_name_in_org_is_409_other_org_fine(configs_api: Call, team: Team, admin_conn: Any) -> None:
    assert configs_api("POST", BASE, user=team.admin, body=body(team, name="Same")).status == 201
    r = configs_api("POST", BASE, user=team.owner, body=body(team, name="Same"))
    assert r.status == 409 and r.code == "CONFIG_NAME_EXISTS"
    assert "Same" in r.body["error"]
    assert count_configs(admin_conn, team) == 1
    other = configs_api(
        "POST", BASE, user=team.outsider, body=body(team, orgId=str(team.other_org.id), name="Same")
    )
    assert other.status == 201


@pytest.mark.parametrize(
    ("section", "key", "valid"),
    [
        ("voice", "provider", ["cartesia", "kokoro", "piper"]),
        ("transcription", "provider", ["deepgram", "whisper", "moonshine"]),
        ("llm", "provider", ["openai", "openai_compatible"]),
    ],
)
def test_unknown_provider_names_the_valid_ones(
    configs_api: Call, team: Team, section: str, key: str, valid: list[str]
) -> None:
    doc = config_json()
    doc[section] = {**doc[section], key: "acme-speech"}
    r = configs_api("POST", BASE, user=team.admin, body=body(team, configJson=doc))
    assert r.status == 400 and r.code == "VALIDATION_ERROR"
    message = field_errors(r)[f"configJson.{section}.{key}"]
    assert all(name in message for name in valid), message


@pytest.mark.parametrize(
    ("patch", "field", "needle"),
    [
        (
            {"interview": {"questions": [{"id": "q1", "text": "a"}, {"id": "q1", "text": "b"}]}},
            "configJson.interview.questions",
            "unique",
        ),
        (
            {"interview": {"questions": [{"id": "q1", "text": "a"}, {"id": "q2"}]}},
            "configJson.interview.questions[1].text",
            "required",
        ),
        (
            {"interview": {"questions": [{"id": "", "text": "a"}]}},
            "configJson.interview.questions[0].id",
            "at least",
        ),
        (
            {"interview": {"maxDurationMinutes": 0}},
            "configJson.interview.maxDurationMinutes",
            "greater than 0",
        ),
        (
            {"interview": {"maxDurationMinutes": -5}},
            "configJson.interview.maxDurationMinutes",
            "greater than 0",
        ),
        (
            {"interview": {"scoringRubric": {"criteria": [{"name": "a", "weight": 2}, "b"]}}},
            "configJson.interview.scoringRubric.criteria",
            "every criterion or for none",
        ),
        (
            {"interview": {"scoringRubric": {"criteria": [{"name": "a", "weight": -1}]}}},
            "configJson.interview.scoringRubric.criteria[0].criterion.weight",
            "greater than 0",
        ),
        (
            {"interview": {"scoringRubric": {"criteria": ["a", "A"]}}},
            "configJson.interview.scoringRubric.criteria",
            "unique",
        ),
        (
            {"llm": {"provider": "openai", "temperature": 3}},
            "configJson.llm.temperature",
            "less than or equal",
        ),
        (
            {"llm": {"provider": "openai", "maxTokens": 0}},
            "configJson.llm.maxTokens",
            "greater than or equal",
        ),
        ({"voice": {"provider": "cartesia", "speed": "fast"}}, "configJson.voice.speed", "number"),
        ({"voice": {"provider": "cartesia", "voiceid": "x"}}, "configJson.voice.voiceid", "Extra inputs"),
        ({"interview": {"maxDurationMinutes": "30"}}, "configJson.interview.maxDurationMinutes", "number"),
        (
            {"interview": {"questions": [{"id": "q1", "text": "a", "followUpEnabled": "yes"}]}},
            "configJson.interview.questions[0].followUpEnabled",
            "boolean",
        ),
        ({"systemPrompt": ""}, "configJson.systemPrompt", "at least 1"),
    ],
)
def test_config_json_field_errors(
    configs_api: Call, team: Team, admin_conn: Any, patch: dict[str, Any], field: str, needle: str
) -> None:
    r = configs_api("POST", BASE, user=team.admin, body=body(team, configJson=config_json(**patch)))
    assert r.status == 400 and r.code == "VALIDATION_ERROR", r.body
    errors = field_errors(r)
    assert field in errors, errors
    assert needle in errors[field]
    assert count_configs(admin_conn, team) == 0


@pytest.mark.parametrize("doc", [["not", "an", "object"], "text", 5, None])
def test_config_json_must_be_an_object(configs_api: Call, team: Team, doc: Any) -> None:
    r = configs_api("POST", BASE, user=team.admin, body=body(team, configJson=doc))
    assert r.status == 400 and "configJson" in field_errors(r)


def test_rubric_weights_are_normalised(configs_api: Call, team: Team) -> None:
    rubric = {
        "criteria": [
            {"name": "communication", "weight": 1},
            {"name": "depth", "weight": 3, "description": "x"},
        ]
    }
    doc = config_json(interview={"questions": [], "scoringRubric": rubric})
    r = configs_api("POST", BASE, user=team.admin, body=body(team, configJson=doc))
    assert r.status == 201, r.body
    criteria = r.data["configJson"]["interview"]["scoring_rubric"]["criteria"]
    assert [c["weight"] for c in criteria] == [0.25, 0.75]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "x" * 256}, "name"),
        ({"interviewType": ""}, "interviewType"),
        ({"interviewType": "x" * 101}, "interviewType"),
        ({"name": 5}, "name"),
        ({"isActive": "sometimes"}, "isActive"),
        ({"orgId": "not-a-uuid"}, "orgId"),
        ({"configJson": None}, "configJson"),
        ({"unexpected": 1}, "unexpected"),
    ],
)
def test_create_field_validation(
    configs_api: Call, team: Team, overrides: dict[str, Any], field: str
) -> None:
    r = configs_api("POST", BASE, user=team.admin, body=body(team, **overrides))
    assert r.status == 400 and r.code == "VALIDATION_ERROR"
    assert field in field_errors(r)


def test_create_missing_fields(configs_api: Call, team: Team) -> None:
    r = configs_api("POST", BASE, user=team.admin, body={"orgId": str(team.org.id)})
    assert r.status == 400
    assert {"name", "interviewType", "configJson"} <= set(field_errors(r))


@pytest.mark.parametrize("raw", ['{"orgId": ', "[]", "", "null"])
def test_create_malformed_body(configs_api: Call, team: Team, raw: str) -> None:
    r = configs_api("POST", BASE, user=team.admin, raw_body=raw)
    assert r.status == 400 and r.body["success"] is False


# --- read -----------------------------------------------------------------------------------------------


def test_member_gets_config_with_document(configs_api: Call, team: Team, make_voice_config: Any) -> None:
    cfg = make_voice_config(team.org, team.admin)
    r = configs_api("GET", f"{BASE}/{cfg['id']}", user=team.member)
    assert r.status == 200
    assert r.data["id"] == str(cfg["id"]) and r.data["configJson"] == cfg["config_json"]
    assert r.data["interviewType"] == "technical"


@pytest.mark.parametrize("who", ["outsider", "platform_admin"])
def test_other_orgs_config_is_not_found(
    configs_api: Call, team: Team, make_voice_config: Any, who: str
) -> None:
    cfg = make_voice_config(team.org, team.admin)
    r = configs_api("GET", f"{BASE}/{cfg['id']}", user=getattr(team, who))
    assert r.status == 404 and r.code == "CONFIG_NOT_FOUND"


def test_get_unknown_and_malformed_ids(configs_api: Call, team: Team) -> None:
    assert configs_api("GET", f"{BASE}/{new_id()}", user=team.member).status == 404
    r = configs_api("GET", f"{BASE}/not-a-uuid", user=team.member)
    assert r.status == 400 and "id" in field_errors(r)


def test_get_unauthenticated(configs_api: Call, team: Team, make_voice_config: Any) -> None:
    cfg = make_voice_config(team.org, team.admin)
    assert configs_api("GET", f"{BASE}/{cfg['id']}").status == 401


def test_list_paginates_without_documents(configs_api: Call, team: Team, make_voice_config: Any) -> None:
    made = [make_voice_config(team.org, team.admin, name=f"c{i}") for i in range(3)]
    make_voice_config(team.other_org, team.outsider)
    org = str(team.org.id)

    first = configs_api("GET", BASE, user=team.member, query={"orgId": org, "limit": "2"})
    assert first.status == 200
    assert first.body["pagination"] == {"total": 3, "limit": 2, "offset": 0, "hasMore": True}
    second = configs_api("GET", BASE, user=team.member, query={"orgId": org, "limit": "2", "offset": "2"})
    assert second.body["pagination"] == {"total": 3, "limit": 2, "offset": 2, "hasMore": False}
    ids = [c["id"] for c in first.data + second.data]
    assert sorted(ids) == sorted(str(c["id"]) for c in made)
    assert all("configJson" not in c for c in first.data)
    # Newest first.
    assert ids == [str(c["id"]) for c in reversed(made)]
    past = configs_api("GET", BASE, user=team.member, query={"orgId": org, "offset": "10"})
    assert past.status == 200 and past.data == [] and past.body["pagination"]["total"] == 3


def test_list_filters(configs_api: Call, team: Team, make_voice_config: Any) -> None:
    active = make_voice_config(team.org, team.admin, interview_type="technical")
    inactive = make_voice_config(team.org, team.admin, interview_type="technical", is_active=False)
    behavioral = make_voice_config(team.org, team.admin, interview_type="behavioral")
    org = str(team.org.id)

    def ids(**query: str) -> set[str]:
        r = configs_api("GET", BASE, user=team.member, query={"orgId": org, **query})
        assert r.status == 200, r.body
        return {c["id"] for c in r.data}

    assert ids(isActive="true") == {str(active["id"]), str(behavioral["id"])}
    assert ids(isActive="false") == {str(inactive["id"])}
    assert ids(interviewType="behavioral") == {str(behavioral["id"])}
    # snake_case is accepted on input, the same filters under their seed names.
    r = configs_api(
        "GET",
        BASE,
        user=team.member,
        query={"org_id": org, "is_active": "true", "interview_type": "technical"},
    )
    assert r.status == 200 and {c["id"] for c in r.data} == {str(active["id"])}, r.body


def test_list_of_empty_org(configs_api: Call, team: Team) -> None:
    r = configs_api("GET", BASE, user=team.member, query={"orgId": str(team.org.id)})
    assert r.status == 200 and r.data == []
    assert r.body["pagination"] == {"total": 0, "limit": 100, "offset": 0, "hasMore": False}


@pytest.mark.parametrize("who", ["outsider", "platform_admin"])
def test_list_of_foreign_org_is_403(configs_api: Call, team: Team, make_voice_config: Any, who: str) -> None:
    make_voice_config(team.org, team.admin)
    r = configs_api("GET", BASE, user=getattr(team, who), query={"orgId": str(team.org.id)})
    assert r.status == 404 and r.code == "ORG_NOT_FOUND"


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({}, "orgId"),
        ({"orgId": "nope"}, "orgId"),
        ({"limit": "0"}, "limit"),
        ({"limit": "1001"}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"offset": "-1"}, "offset"),
        ({"isActive": "maybe"}, "isActive"),
    ],
)
def test_list_query_validation(configs_api: Call, team: Team, query: dict[str, str], field: str) -> None:
    q = {"orgId": str(team.org.id), **query} if "orgId" not in query and query else query
    r = configs_api("GET", BASE, user=team.member, query=q or None)
    assert r.status == 400 and field in field_errors(r)


def test_list_unauthenticated(configs_api: Call, team: Team) -> None:
    assert configs_api("GET", BASE, query={"orgId": str(team.org.id)}).status == 401


# --- update ---------------------------------------------------------------------------------------------


def test_admin_updates_and_version_increments(
    configs_api: Call, team: Team, make_voice_config: Any, admin_conn: Any
) -> None:
    cfg = make_voice_config(team.org, team.owner)
    path = f"{BASE}/{cfg['id']}"
    r = configs_api("PUT", path, user=team.admin, body={"name": "Renamed", "description": None})
    assert r.status == 200, r.body
    assert r.data["name"] == "Renamed" and r.data["description"] is None
    assert r.data["version"] == 2 and r.data["updatedBy"] == str(team.admin.id)

    new_doc = config_json(botName="Grace")
    r = configs_api("PUT", path, user=team.owner, body={"configJson": new_doc})
    assert r.status == 200 and r.data["version"] == 3
    assert stored(admin_conn, cfg["id"])["config_json"]["bot_name"] == "Grace"

    # Deactivating is not a content change: the version stays.
    r = configs_api("PUT", path, user=team.admin, body={"isActive": False})
    assert r.status == 200 and r.data["isActive"] is False and r.data["version"] == 3


def test_member_cannot_update(configs_api: Call, team: Team, make_voice_config: Any, admin_conn: Any) -> None:
    cfg = make_voice_config(team.org, team.admin)
    r = configs_api("PUT", f"{BASE}/{cfg['id']}", user=team.member, body={"name": "Mine"})
    assert r.status == 403 and r.code == "ORG_ADMIN_REQUIRED"
    assert stored(admin_conn, cfg["id"])["name"] == cfg["name"]


@pytest.mark.parametrize("who", ["outsider", "platform_admin"])
def test_update_foreign_config_is_404(
    configs_api: Call, team: Team, make_voice_config: Any, who: str
) -> None:
    cfg = make_voice_config(team.org, team.admin)
    r = configs_api("PUT", f"{BASE}/{cfg['id']}", user=getattr(team, who), body={"name": "Taken over"})
    assert r.status == 404


def test_update_validation_changes_nothing(
    configs_api: Call, team: Team, make_voice_config: Any, admin_conn: Any
) -> None:
    cfg = make_voice_config(team.org, team.admin)
    other = make_voice_config(team.org, team.admin)
    path = f"{BASE}/{cfg['id']}"
    assert configs_api("PUT", path, user=team.admin, body={}).code == "EMPTY_UPDATE"
    r = configs_api("PUT", path, user=team.admin, body={"name": None})
    assert r.status == 400 and "name" in field_errors(r)
    r = configs_api("PUT", path, user=team.admin, body={"configJson": {"voice": {"provider": "polly"}}})
    assert r.status == 400 and "configJson.voice.provider" in field_errors(r)
    r = configs_api("PUT", path, user=team.admin, body={"name": other["name"]})
    assert r.status == 409 and r.code == "CONFIG_NAME_EXISTS"
    r = configs_api("PUT", path, user=team.admin, raw_body="{nope")
    assert r.status == 400 and r.code == "INVALID_JSON"
    row = stored(admin_conn, cfg["id"])
    assert row["name"] == cfg["name"] and row["version"] == 1 and row["config_json"] == cfg["config_json"]


def test_update_unknown_or_malformed_id(configs_api: Call, team: Team) -> None:
    assert configs_api("PUT", f"{BASE}/{new_id()}", user=team.admin, body={"name": "x"}).status == 404
    assert configs_api("PUT", f"{BASE}/123", user=team.admin, body={"name": "x"}).status == 400


def test_update_unauthenticated(configs_api: Call, team: Team, make_voice_config: Any) -> None:
    cfg = make_voice_config(team.org, team.admin)
    assert configs_api("PUT", f"{BASE}/{cfg['id']}", body={"name": "x"}).status == 401


# --- delete ---------------------------------------------------------------------------------------------


def test_admin_deletes_config(configs_api: Call, team: Team, make_voice_config: Any, admin_conn: Any) -> None:
    cfg = make_voice_config(team.org, team.admin)
    r = configs_api("DELETE", f"{BASE}/{cfg['id']}", user=team.owner)
    assert r.status == 200 and r.data == {"id": str(cfg["id"]), "deleted": True}
    assert stored(admin_conn, cfg["id"]) is None
    assert configs_api("GET", f"{BASE}/{cfg['id']}", user=team.owner).status == 404


def test_member_cannot_delete(configs_api: Call, team: Team, make_voice_config: Any, admin_conn: Any) -> None:
    cfg = make_voice_config(team.org, team.admin)
    r = configs_api("DELETE", f"{BASE}/{cfg['id']}", user=team.member)
    assert r.status == 403
    assert stored(admin_conn, cfg["id"]) is not None


def test_delete_foreign_or_unknown_config_is_404(
    configs_api: Call, team: Team, make_voice_config: Any
) -> None:
    cfg = make_voice_config(team.org, team.admin)
    assert configs_api("DELETE", f"{BASE}/{cfg['id']}", user=team.outsider).status == 404
    assert configs_api("DELETE", f"{BASE}/{new_id()}", user=team.admin).status == 404
    assert configs_api("DELETE", f"{BASE}/{cfg['id']}").status == 401


def test_config_in_use_by_unfinished_session_cannot_be_deleted(
    configs_api: Call, team: Team, make_voice_config: Any, make_voice_session: Any, admin_conn: Any
) -> None:
    cfg = make_voice_config(team.org, team.admin)
    make_voice_session(team.org, team.member, config_id=cfg["id"])
    r = configs_api("DELETE", f"{BASE}/{cfg['id']}", user=team.admin)
    assert r.status == 409 and r.code == "CONFIG_IN_USE"
    assert r.body["details"]["unfinishedSessions"] == 1
    assert stored(admin_conn, cfg["id"]) is not None


def test_config_of_finished_sessions_can_be_deleted(
    configs_api: Call, team: Team, make_voice_config: Any, make_voice_session: Any, admin_conn: Any
) -> None:
    cfg = make_voice_config(team.org, team.admin)
    done = make_voice_session(team.org, team.member, status="completed", config_id=cfg["id"])
    assert configs_api("DELETE", f"{BASE}/{cfg['id']}", user=team.admin).status == 200
    row = admin_conn.execute(
        "SELECT config_id FROM public.voice_sessions WHERE id = %s", (done["id"],)
    ).fetchone()
    assert row["config_id"] is None


def test_responses_are_json_envelopes(configs_api: Call, team: Team) -> None:
    r = configs_api("GET", BASE, user=team.member, query={"orgId": str(team.org.id)})
    assert set(r.body) == {"success", "data", "pagination"}
    err = configs_api("GET", f"{BASE}/{new_id()}", user=team.member)
    assert set(err.body) >= {"success", "error", "code"} and err.body["success"] is False
