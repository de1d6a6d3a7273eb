"""/api/voice/sessions against PostgreSQL through the real voice-sessions Lambda."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.api.conftest import Call, LifecycleCalls, Team, new_id

BASE = "/api/voice/sessions"


def workspace(admin_conn: Any, org: Any, name: str = "Hiring") -> str:
    row = admin_conn.execute(
        "INSERT INTO public.workspaces (org_id, name) VALUES (%s, %s) RETURNING id", (org.id, name)
    ).fetchone()
    return str(row["id"])


def stored(admin_conn: Any, session_id: Any) -> dict[str, Any] | None:
    return admin_conn.execute("SELECT * FROM public.voice_sessions WHERE id = %s", (session_id,)).fetchone()


def count_sessions(admin_conn: Any, org: Any) -> int:
    return int(
        admin_conn.execute(
            "SELECT count(*) AS n FROM public.voice_sessions WHERE org_id = %s", (org.id,)
        ).fetchone()["n"]
    )


def field_errors(response: Any) -> dict[str, str]:
    return {d["field"]: d["message"] for d in response.body.get("details") or []}


def new_session(team: Team, **overrides: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "orgId": str(team.org.id),
        "candidateName": "Ada Lovelace",
        "candidateEmail": "ada@example.com",
        "interviewType": "technical",
    }
    doc.update(overrides)
    return doc


# --- create ---------------------------------------------------------------------------------------------


def test_member_creates_session_with_config_and_workspace(
    sessions_api: Call, team: Team, make_voice_config: Any, admin_conn: Any
) -> None:
    cfg = make_voice_config(team.org, team.admin)
    ws = workspace(admin_conn, team.org)
    r = sessions_api(
        "POST",
        BASE,
        user=team.member,
        body=new_session(team, configId=str(cfg["id"]), workspaceId=ws, sessionMetadata={"role": "backend"}),
    )
    assert r.status == 201, r.body
    data = r.data
    assert data["status"] == "pending" and data["createdBy"] == str(team.member.id)
    assert data["configId"] == str(cfg["id"]) and data["workspaceId"] == ws
    assert data["candidateName"] == "Ada Lovelace" and data["sessionMetadata"] == {"role": "backend"}
    assert "botRoomToken" not in data and "bot_room_token" not in data
    row = stored(admin_conn, data["id"])
    assert row is not None and row["created_by"] == team.member.id and row["org_id"] == team.org.id


def test_create_accepts_snake_case_and_normalises_email(sessions_api: Call, team: Team) -> None:
    r = sessions_api(
        "POST",
        BASE,
        user=team.member,
        body={
            "org_id": str(team.org.id),
            "interview_type": "behavioral",
            "candidate_email": " Grace.H+ai@Example.ORG ",
        },
    )
    assert r.status == 201, r.body
    assert r.data["interviewType"] == "behavioral" and r.data["candidateEmail"] == "Grace.H+ai@example.org"
    assert r.data["candidateName"] is None and r.data["sessionMetadata"] == {}


@pytest.mark.parametrize(
    "email",
    [
        "not-an-email",
        "a@b",
        "a@@example.com",
        "a b@example.com",
        "@example.com",
        "ada@",
        "ada@exa_mple.com",
        "ada@example.c0m",
        "ada\u00a0lovelace@example.com",
        ".ada@example.com",
        "ada..x@example.com",
        "a@-example.com",
        "x" * 65 + "@example.com",
        "",
    ],
)
def test_invalid_candidate_email(sessions_api: Call, team: Team, admin_conn: Any, email: str) -> None:
    r = sessions_api("POST", BASE, user=team.member, body=new_session(team, candidateEmail=email))
    assert r.status == 400 and "candidateEmail" in field_errors(r), r.body
    assert email not in r.body["error"] or email == ""  # the input is not echoed
    assert count_sessions(admin_conn, team.org) == 0


@pytest.mark.parametrize("email", ["o'brien@example.co.uk", "user@xn--bcher-kva.example", "josé@bücher.de"])
def test_unusual_valid_emails(sessions_api: Call, team: Team, email: str) -> None:
    r = sessions_api("POST", BASE, user=team.member, body=new_session(team, candidateEmail=email))
    assert r.status == 201, r.body


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"interviewType": ""}, "interviewType"),
        ({"interviewType": "x" * 101}, "interviewType"),
        ({"interviewType": None}, "interviewType"),
        ({"candidateName": "x" * 256}, "candidateName"),
        ({"orgId": "acme"}, "orgId"),
        ({"configId": "nope"}, "configId"),
        ({"workspaceId": 7}, "workspaceId"),
        ({"sessionMetadata": ["a"]}, "sessionMetadata"),
        ({"sessionMetadata": {"blob": "x" * 17000}}, "sessionMetadata"),
        ({"status": "active"}, "status"),
        ({"durationSeconds": 5}, "durationSeconds"),
    ],
)
def test_create_validation(
    sessions_api: Call, team: Team, admin_conn: Any, overrides: dict[str, Any], field: str
) -> None:
    r = sessions_api("POST", BASE, user=team.member, body=new_session(team, **overrides))
    assert r.status == 400 and r.code == "VALIDATION_ERROR"
    assert field in field_errors(r)
    assert count_sessions(admin_conn, team.org) == 0


def test_interview_type_is_required(sessions_api: Call, team: Team) -> None:
    r = sessions_api("POST", BASE, user=team.member, body={"orgId": str(team.org.id)})
    assert r.status == 400 and "interviewType" in field_errors(r)


@pytest.mark.parametrize("raw", ["{", "[1]", '"text"', ""])
def test_create_malformed_body(sessions_api: Call, team: Team, raw: str) -> None:
    r = sessions_api("POST", BASE, user=team.member, raw_body=raw)
    assert r.status == 400 and r.body["success"] is False


@pytest.mark.parametrize("who", ["outsider", "platform_admin"])
def test_non_member_cannot_create(sessions_api: Call, team: Team, admin_conn: Any, who: str) -> None:
    r = sessions_api("POST", BASE, user=getattr(team, who), body=new_session(team))
    assert r.status == 404 and r.code == "ORG_NOT_FOUND"
    assert count_sessions(admin_conn, team.org) == 0


def test_create_in_unknown_org(sessions_api: Call, team: Team) -> None:
    r = sessions_api("POST", BASE, user=team.member, body=new_session(team, orgId=new_id()))
    assert (r.status, r.code) == (404, "ORG_NOT_FOUND")


def test_create_unauthenticated(sessions_api: Call, team: Team) -> None:
    assert sessions_api("POST", BASE, body=new_session(team)).status == 401


def test_config_and_workspace_must_belong_to_the_org(
    sessions_api: Call, team: Team, make_voice_config: Any, admin_conn: Any
) -> None:
    foreign_cfg = make_voice_config(team.other_org, team.outsider)
    r = sessions_api("POST", BASE, user=team.member, body=new_session(team, configId=str(foreign_cfg["id"])))
    assert r.status == 404 and r.code == "CONFIG_NOT_FOUND"
    r = sessions_api("POST", BASE, user=team.member, body=new_session(team, configId=new_id()))
    assert r.status == 404 and r.code == "CONFIG_NOT_FOUND"
    foreign_ws = workspace(admin_conn, team.other_org)
    r = sessions_api("POST", BASE, user=team.member, body=new_session(team, workspaceId=foreign_ws))
    assert r.status == 404 and r.code == "WORKSPACE_NOT_FOUND"
    assert count_sessions(admin_conn, team.org) == 0


def test_inactive_config_cannot_be_used(
    sessions_api: Call, team: Team, make_voice_config: Any, admin_conn: Any
) -> None:
    cfg = make_voice_config(team.org, team.admin, is_active=False)
    r = sessions_api("POST", BASE, user=team.member, body=new_session(team, configId=str(cfg["id"])))
    assert r.status == 409 and r.code == "CONFIG_INACTIVE"
    assert "inactive" in r.body["error"]
    assert count_sessions(admin_conn, team.org) == 0


# --- read -----------------------------------------------------------------------------------------------


def test_get_returns_room_token_but_never_the_bots(
    sessions_api: Call, team: Team, make_voice_session: Any, admin_conn: Any
) -> None:
    s = make_voice_session(team.org, team.admin, status="ready")
    admin_conn.execute(
        """UPDATE public.voice_sessions SET daily_room_url = 'https://x.daily.co/r1', daily_room_name = 'r1',
           daily_room_token = 'candidate-token', bot_room_token = 'bot-secret-token', dispatch_mode = 'pool',
           dispatch_ref = 'msg-1', dispatched_at = now(), failure_reason = NULL WHERE id = %s""",
        (s["id"],),
    )
    r = sessions_api("GET", f"{BASE}/{s['id']}", user=team.member)
    assert r.status == 200, r.body
    data = r.data
    assert data["dailyRoomToken"] == "candidate-token" and data["dailyRoomUrl"] == "https://x.daily.co/r1"
    assert data["dispatchMode"] == "pool" and data["dispatchedAt"] is not None
    assert {"botJoinedAt", "failureReason", "startedAt", "durationSeconds", "sessionMetadata"} <= set(data)
    assert "bot-secret-token" not in str(r.body) and "msg-1" not in str(r.body)
    assert not {"botRoomToken", "dispatchRef", "ecsTaskArn", "lastHeartbeatAt"} & set(data)


def test_a_change_does_not_echo_the_room_token(
    sessions_api: Call, team: Team, make_voice_session: Any, admin_conn: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from voice_common import lifecycle

    monkeypatch.setattr(lifecycle, "on_status_changed", lambda *a, **k: None)  # teardown has its own tests
    s = make_voice_session(team.org, team.admin, status="ready")
    admin_conn.execute(
        "UPDATE public.voice_sessions SET daily_room_token = 'candidate-token' WHERE id = %s", (s["id"],)
    )
    r = sessions_api("PUT", f"{BASE}/{s['id']}", body={"status": "cancelled"}, user=team.admin)
    assert r.status == 200, r.body
    assert r.data["status"] == "cancelled" and r.data["dailyRoomToken"] is None
    assert "candidate-token" not in str(r.body)


@pytest.mark.parametrize("who", ["outsider", "platform_admin"])
def test_foreign_session_is_not_found(
    sessions_api: Call, team: Team, make_voice_session: Any, who: str
) -> None:
    s = make_voice_session(team.org, team.member)
    r = sessions_api("GET", f"{BASE}/{s['id']}", user=getattr(team, who))
    assert r.status == 404 and r.code == "SESSION_NOT_FOUND"


def test_get_unknown_malformed_unauthenticated(
    sessions_api: Call, team: Team, make_voice_session: Any
) -> None:
    assert sessions_api("GET", f"{BASE}/{new_id()}", user=team.member).status == 404
    r = sessions_api("GET", f"{BASE}/xyz", user=team.member)
    assert r.status == 400 and "id" in field_errors(r)
    s = make_voice_session(team.org, team.member)
    assert sessions_api("GET", f"{BASE}/{s['id']}").status == 401


def test_list_filters_sorting_and_pagination(
    sessions_api: Call, team: Team, make_voice_session: Any, admin_conn: Any
) -> None:
    ws = workspace(admin_conn, team.org)
    a = make_voice_session(team.org, team.member, candidate_name="Carol", interview_type="technical")
    b = make_voice_session(team.org, team.admin, status="cancelled", candidate_name="alice", workspace_id=ws)
    c = make_voice_session(
        team.org, team.member2, candidate_name="Bob", interview_type="behavioral", workspace_id=ws
    )
    admin_conn.execute(
        "UPDATE public.voice_sessions SET daily_room_token = 'tok' WHERE id = ANY(%s)",
        ([a["id"], b["id"], c["id"]],),
    )
    make_voice_session(team.other_org, team.outsider)
    org = str(team.org.id)

    def listed(**query: str) -> Any:
        r = sessions_api("GET", BASE, user=team.member, query={"orgId": org, **query})
        assert r.status == 200, r.body
        return r

    everything = listed()
    assert [s["id"] for s in everything.data] == [str(c["id"]), str(b["id"]), str(a["id"])]  # newest first
    assert everything.body["pagination"] == {"total": 3, "limit": 100, "offset": 0, "hasMore": False}
    assert all("dailyRoomToken" not in s and "sessionMetadata" not in s for s in everything.data)

    assert [s["id"] for s in listed(status="cancelled").data] == [str(b["id"])]
    assert [s["id"] for s in listed(interviewType="behavioral").data] == [str(c["id"])]
    assert {s["id"] for s in listed(workspaceId=ws).data} == {str(b["id"]), str(c["id"])}
    names = [s["candidateName"] for s in listed(sortBy="candidate_name", sortOrder="asc").data]
    assert names == ["alice", "Bob", "Carol"] or names == ["Bob", "Carol", "alice"]  # collation-dependent
    assert [s["candidateName"] for s in listed(sortBy="candidateName", sortOrder="DESC").data] == names[::-1]

    page = listed(sortBy="created_at", sortOrder="asc", limit="2", offset="1")
    assert [s["id"] for s in page.data] == [str(b["id"]), str(c["id"])]
    assert page.body["pagination"] == {"total": 3, "limit": 2, "offset": 1, "hasMore": False}
    first = listed(limit="1")
    assert first.body["pagination"]["hasMore"] is True
    past = listed(offset="5")
    assert past.data == [] and past.body["pagination"]["total"] == 3


def test_list_accepts_snake_case_query(
    sessions_api: Call, team: Team, make_voice_session: Any, admin_conn: Any
) -> None:
    ws = workspace(admin_conn, team.org)
    make_voice_session(team.org, team.member, candidate_name="Ann", interview_type="technical")
    b = make_voice_session(
        team.org, team.member, candidate_name="Bea", interview_type="behavioral", workspace_id=ws
    )
    c = make_voice_session(
        team.org, team.member, candidate_name="Cid", interview_type="behavioral", workspace_id=ws
    )
    query = {
        "org_id": str(team.org.id),
        "interview_type": "behavioral",
        "workspace_id": str(ws),
        "sort_by": "candidate_name",
        "sort_order": "desc",
    }
    r = sessions_api("GET", BASE, user=team.member, query=query)
    assert r.status == 200, r.body
    assert [s["id"] for s in r.data] == [str(c["id"]), str(b["id"])]
    conflicting = sessions_api("GET", BASE, user=team.member, query={**query, "sortBy": "created_at"})
    assert conflicting.status == 400 and "sortBy given twice" in conflicting.body["error"]


def test_started_at_sort_puts_never_started_last(
    sessions_api: Call, team: Team, make_voice_session: Any
) -> None:
    pending = make_voice_session(team.org, team.member)
    active = make_voice_session(team.org, team.member, status="active")
    for order in ("asc", "desc"):
        r = sessions_api(
            "GET",
            BASE,
            user=team.member,
            query={"orgId": str(team.org.id), "sortBy": "started_at", "sortOrder": order},
        )
        assert [s["id"] for s in r.data] == [str(active["id"]), str(pending["id"])]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"sortBy": "candidate_email"}, "sortBy"),
        ({"sortBy": "id; DROP TABLE x"}, "sortBy"),
        ({"sortOrder": "sideways"}, "sortOrder"),
        ({"status": "paused"}, "status"),
        ({"limit": "0"}, "limit"),
        ({"limit": "1001"}, "limit"),
        ({"offset": "-3"}, "offset"),
        ({"workspaceId": "ws-1"}, "workspaceId"),
        ({"interviewType": "x" * 101}, "interviewType"),
        ({"orgId": "acme"}, "orgId"),
    ],
)
def test_list_query_validation(sessions_api: Call, team: Team, query: dict[str, str], field: str) -> None:
    r = sessions_api("GET", BASE, user=team.member, query={"orgId": str(team.org.id), **query})
    assert r.status == 400 and field in field_errors(r), r.body


def test_invalid_sort_names_the_allowed_columns(sessions_api: Call, team: Team) -> None:
    r = sessions_api("GET", BASE, user=team.member, query={"orgId": str(team.org.id), "sortBy": "email"})
    message = field_errors(r)["sortBy"]
    assert all(
        c in message
        for c in (
            "created_at",
            "updated_at",
            "status",
            "interview_type",
            "candidate_name",
            "started_at",
            "completed_at",
        )
    )


def test_list_requires_org_and_membership(sessions_api: Call, team: Team, make_voice_session: Any) -> None:
    make_voice_session(team.org, team.member)
    r = sessions_api("GET", BASE, user=team.member)
    assert r.status == 400 and "orgId" in field_errors(r)
    for who in (team.outsider, team.platform_admin):
        r = sessions_api("GET", BASE, user=who, query={"orgId": str(team.org.id)})
        assert r.status == 404 and r.code == "ORG_NOT_FOUND"
    assert sessions_api("GET", BASE, user=team.member, query={"orgId": new_id()}).status == 404
    assert sessions_api("GET", BASE, query={"orgId": str(team.org.id)}).status == 401


# --- update ---------------------------------------------------------------------------------------------


def test_creator_edits_details_while_pending(
    sessions_api: Call,
    team: Team,
    make_voice_session: Any,
    make_voice_config: Any,
    admin_conn: Any,
    lifecycle_calls: LifecycleCalls,
) -> None:
    s = make_voice_session(team.org, team.member)
    cfg = make_voice_config(team.org, team.admin)
    ws = workspace(admin_conn, team.org)
    r = sessions_api(
        "PUT",
        f"{BASE}/{s['id']}",
        user=team.member,
        body={
            "candidateName": "Grace",
            "candidateEmail": "grace@example.com",
            "interviewType": "behavioral",
            "configId": str(cfg["id"]),
            "workspaceId": ws,
            "sessionMetadata": {"level": "senior"},
        },
    )
    assert r.status == 200, r.body
    assert r.data["candidateName"] == "Grace" and r.data["configId"] == str(cfg["id"])
    assert r.data["workspaceId"] == ws and r.data["updatedBy"] == str(team.member.id)
    row = stored(admin_conn, s["id"])
    assert row["candidate_email"] == "grace@example.com" and row["session_metadata"] == {"level": "senior"}
    assert lifecycle_calls.status_changes == []  # no status change, no side effects

    cleared = sessions_api(
        "PUT", f"{BASE}/{s['id']}", user=team.member, body={"configId": None, "candidateName": None}
    )
    assert (
        cleared.status == 200 and cleared.data["configId"] is None and cleared.data["candidateName"] is None
    )


def test_admin_may_update_other_members_may_not(
    sessions_api: Call, team: Team, make_voice_session: Any, admin_conn: Any
) -> None:
    s = make_voice_session(team.org, team.member)
    r = sessions_api("PUT", f"{BASE}/{s['id']}", user=team.member2, body={"candidateName": "Mallory"})
    assert r.status == 403 and r.code == "SESSION_MANAGE_DENIED"
    for who in (team.outsider, team.platform_admin):
        assert sessions_api("PUT", f"{BASE}/{s['id']}", user=who, body={"candidateName": "Eve"}).status == 404
    assert stored(admin_conn, s["id"])["candidate_name"] == "Ada Candidate"
    r = sessions_api("PUT", f"{BASE}/{s['id']}", user=team.admin, body={"candidateName": "Fixed by admin"})
    assert r.status == 200 and r.data["candidateName"] == "Fixed by admin"


@pytest.mark.parametrize("status", ["ready", "active", "completed"])
def test_details_are_frozen_once_started(
    sessions_api: Call, team: Team, make_voice_session: Any, admin_conn: Any, status: str
) -> None:
    s = make_voice_session(team.org, team.member, status=status)
    r = sessions_api("PUT", f"{BASE}/{s['id']}", user=team.member, body={"candidateName": "Late edit"})
    assert r.status == 409 and r.code == "SESSION_NOT_PENDING" and status in r.body["error"]
    assert stored(admin_conn, s["id"])["candidate_name"] == "Ada Candidate"


def test_cancel_runs_the_lifecycle_after_commit(
    sessions_api: Call, team: Team, make_voice_session: Any, admin_conn: Any, lifecycle_calls: LifecycleCalls
) -> None:
    s = make_voice_session(team.org, team.member, status="ready")
    r = sessions_api(
        "PUT",
        f"{BASE}/{s['id']}",
        user=team.member,
        body={"status": "cancelled", "reason": "Candidate withdrew"},
    )
    assert r.status == 200, r.body
    assert r.data["status"] == "cancelled" and r.data["failureReason"] == "Candidate withdrew"
    assert r.data["completedAt"] is not None
    [(row, old, new, reason)] = lifecycle_calls.status_changes
    assert (row["id"], row["org_id"], old, new, reason) == (
        s["id"],
        team.org.id,
        "ready",
        "cancelled",
        "Candidate withdrew",
    )
    history = admin_conn.execute(
        "SELECT from_status, to_status, changed_by, reason FROM public.voice_session_status_history "
        "WHERE session_id = %s ORDER BY id DESC LIMIT 1",
        (s["id"],),
    ).fetchone()
    assert history == {
        "from_status": "ready",
        "to_status": "cancelled",
        "changed_by": team.member.id,
        "reason": "Candidate withdrew",
    }


def test_complete_an_active_interview(
    sessions_api: Call, team: Team, make_voice_session: Any, lifecycle_calls: LifecycleCalls
) -> None:
    s = make_voice_session(team.org, team.member, status="active")
    r = sessions_api("PUT", f"{BASE}/{s['id']}", user=team.admin, body={"status": "completed"})
    assert r.status == 200 and r.data["status"] == "completed" and r.data["durationSeconds"] is not None
    assert [(old, new) for _, old, new, _ in lifecycle_calls.status_changes] == [("active", "completed")]


@pytest.mark.parametrize(
    ("start", "target"), [("completed", "cancelled"), ("cancelled", "failed"), ("pending", "completed")]
)
def test_illegal_transition_is_409_naming_both_states(
    sessions_api: Call,
    team: Team,
    make_voice_session: Any,
    admin_conn: Any,
    lifecycle_calls: LifecycleCalls,
    start: str,
    target: str,
) -> None:
    s = make_voice_session(team.org, team.member, status=start)
    r = sessions_api("PUT", f"{BASE}/{s['id']}", user=team.member, body={"status": target})
    assert r.status == 409 and r.code == "INVALID_STATUS_TRANSITION"
    assert start in r.body["error"] and target in r.body["error"]
    assert stored(admin_conn, s["id"])["status"] == start
    assert lifecycle_calls.status_changes == []


@pytest.mark.parametrize("target", ["ready", "active"])
def test_orchestration_statuses_cannot_be_set(
    sessions_api: Call, team: Team, make_voice_session: Any, admin_conn: Any, target: str
) -> None:
    s = make_voice_session(team.org, team.member)
    r = sessions_api("PUT", f"{BASE}/{s['id']}", user=team.member, body={"status": target})
    assert r.status == 422 and r.code == "STATUS_NOT_SETTABLE" and "/start" in r.body["error"]
    assert stored(admin_conn, s["id"])["status"] == "pending"


def test_same_status_is_not_a_change(
    sessions_api: Call, team: Team, make_voice_session: Any, lifecycle_calls: LifecycleCalls
) -> None:
    s = make_voice_session(team.org, team.member, status="cancelled", failure_reason="Scheduling conflict")
    r = sessions_api(
        "PUT", f"{BASE}/{s['id']}", user=team.member, body={"status": "cancelled", "reason": "Other"}
    )
    assert r.status == 200 and r.data["status"] == "cancelled"
    assert r.data["failureReason"] == "Scheduling conflict"  # the reason of the real transition stays
    assert lifecycle_calls.status_changes == []


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"status": "paused"}, "status"),
        ({"status": None}, "status"),
        ({"interviewType": None}, "interviewType"),
        ({"sessionMetadata": None}, "sessionMetadata"),
        ({"candidateEmail": "nobody"}, "candidateEmail"),
        ({"reason": "why not"}, "body"),
        ({"status": "cancelled", "reason": "x" * 2001}, "reason"),
        ({"orgId": new_id()}, "orgId"),
        ({"startedAt": "2026-01-01T00:00:00Z"}, "startedAt"),
    ],
)
def test_update_validation(
    sessions_api: Call,
    team: Team,
    make_voice_session: Any,
    admin_conn: Any,
    payload: dict[str, Any],
    field: str,
) -> None:
    s = make_voice_session(team.org, team.member)
    r = sessions_api("PUT", f"{BASE}/{s['id']}", user=team.member, body=payload)
    assert r.status == 400 and field in field_errors(r), r.body
    assert stored(admin_conn, s["id"])["updated_by"] is None


def test_update_empty_malformed_unknown_unauthenticated(
    sessions_api: Call, team: Team, make_voice_session: Any
) -> None:
    s = make_voice_session(team.org, team.member)
    path = f"{BASE}/{s['id']}"
    assert sessions_api("PUT", path, user=team.member, body={}).code == "EMPTY_UPDATE"
    assert sessions_api("PUT", path, user=team.member, raw_body="{").code == "INVALID_JSON"
    assert (
        sessions_api("PUT", f"{BASE}/{new_id()}", user=team.member, body={"candidateName": "x"}).status == 404
    )
    assert sessions_api("PUT", f"{BASE}/0", user=team.member, body={"candidateName": "x"}).status == 400
    assert sessions_api("PUT", path, body={"candidateName": "x"}).status == 401


def test_update_config_rules(
    sessions_api: Call, team: Team, make_voice_session: Any, make_voice_config: Any, admin_conn: Any
) -> None:
    s = make_voice_session(team.org, team.member)
    path = f"{BASE}/{s['id']}"
    inactive = make_voice_config(team.org, team.admin, is_active=False)
    r = sessions_api("PUT", path, user=team.member, body={"configId": str(inactive["id"])})
    assert r.status == 409 and r.code == "CONFIG_INACTIVE"
    foreign = make_voice_config(team.other_org, team.outsider)
    r = sessions_api("PUT", path, user=team.member, body={"configId": str(foreign["id"])})
    assert r.status == 404 and r.code == "CONFIG_NOT_FOUND"
    r = sessions_api(
        "PUT", path, user=team.member, body={"workspaceId": workspace(admin_conn, team.other_org)}
    )
    assert r.status == 404 and r.code == "WORKSPACE_NOT_FOUND"
    assert stored(admin_conn, s["id"])["config_id"] is None


# --- delete ---------------------------------------------------------------------------------------------


def _attach_records(admin_conn: Any, session: dict[str, Any], kb_org: Any, user: Any) -> str:
    """An archived transcript, two segments, analytics and a KB link, as a finished interview leaves them."""
    url = f"s3://cora-local-voice-transcripts/transcripts/{session['org_id']}/2026/01/16/{session['id']}.json"
    t = admin_conn.execute(
        "INSERT INTO public.voice_transcripts (session_id, transcript_s3_url, created_by) "
        "VALUES (%s, %s, %s) RETURNING id",
        (session["id"], url, user.id),
    ).fetchone()
    for seq, speaker in enumerate(("bot", "candidate")):
        admin_conn.execute(
            "INSERT INTO public.voice_transcript_segments (session_id, org_id, seq, speaker, text) "
            "VALUES (%s, %s, %s, %s, 'hello')",
            (session["id"], session["org_id"], seq, speaker),
        )
    admin_conn.execute(
        "INSERT INTO public.voice_analytics (session_id, org_id, transcript_id, created_by) "
        "VALUES (%s, %s, %s, %s)",
        (session["id"], session["org_id"], t["id"], user.id),
    )
    kb = admin_conn.execute(
        "INSERT INTO public.kb_bases (org_id, name) VALUES (%s, 'Handbook') RETURNING id", (kb_org.id,)
    ).fetchone()
    admin_conn.execute(
        "INSERT INTO public.voice_session_kb (session_id, kb_id, added_by) VALUES (%s, %s, %s)",
        (session["id"], kb["id"], user.id),
    )
    return url


def _remaining(admin_conn: Any, session_id: Any) -> dict[str, int]:
    counts = {}
    for table in (
        "voice_sessions",
        "voice_transcripts",
        "voice_transcript_segments",
        "voice_analytics",
        "voice_session_kb",
        "voice_session_status_history",
    ):
        column = "id" if table == "voice_sessions" else "session_id"
        counts[table] = admin_conn.execute(
            f"SELECT count(*) AS n FROM public.{table} WHERE {column} = %s", (session_id,)
        ).fetchone()["n"]
    return counts


@pytest.mark.parametrize("status", ["pending", "ready", "completed", "failed"])
def test_creator_deletes_session_with_everything_attached(
    sessions_api: Call,
    team: Team,
    make_voice_session: Any,
    admin_conn: Any,
    lifecycle_calls: LifecycleCalls,
    status: str,
) -> None:
    s = make_voice_session(team.org, team.member, status=status)
    url = _attach_records(admin_conn, s, team.org, team.member)
    assert all(n > 0 for n in _remaining(admin_conn, s["id"]).values())

    r = sessions_api("DELETE", f"{BASE}/{s['id']}", user=team.member)
    assert r.status == 200, r.body
    assert r.data == {"id": str(s["id"]), "deleted": True}
    assert set(_remaining(admin_conn, s["id"]).values()) == {0}
    [(row, urls)] = lifecycle_calls.deletions
    assert row["id"] == s["id"] and row["status"] == status and urls == [url]
    assert sessions_api("GET", f"{BASE}/{s['id']}", user=team.member).status == 404


def test_active_session_cannot_be_deleted(
    sessions_api: Call, team: Team, make_voice_session: Any, admin_conn: Any, lifecycle_calls: LifecycleCalls
) -> None:
    s = make_voice_session(team.org, team.member, status="active")
    r = sessions_api("DELETE", f"{BASE}/{s['id']}", user=team.admin)
    assert r.status == 409 and r.code == "SESSION_ACTIVE" and "cancel" in r.body["error"]
    assert stored(admin_conn, s["id"]) is not None and lifecycle_calls.deletions == []


def test_delete_permissions(
    sessions_api: Call, team: Team, make_voice_session: Any, admin_conn: Any, lifecycle_calls: LifecycleCalls
) -> None:
    s = make_voice_session(team.org, team.member)
    path = f"{BASE}/{s['id']}"
    r = sessions_api("DELETE", path, user=team.member2)
    assert r.status == 403 and r.code == "SESSION_MANAGE_DENIED"
    assert sessions_api("DELETE", path, user=team.outsider).status == 404
    assert sessions_api("DELETE", path, user=team.platform_admin).status == 404
    assert sessions_api("DELETE", path).status == 401
    assert stored(admin_conn, s["id"]) is not None and lifecycle_calls.deletions == []
    assert sessions_api("DELETE", path, user=team.owner).status == 200
    assert [row["id"] for row, _ in lifecycle_calls.deletions] == [s["id"]]


def test_delete_unknown_and_malformed(sessions_api: Call, team: Team) -> None:
    assert sessions_api("DELETE", f"{BASE}/{new_id()}", user=team.member).status == 404
    assert sessions_api("DELETE", f"{BASE}/not-a-uuid", user=team.member).status == 400


def test_delete_erases_the_archived_transcript(
    sessions_api: Call,
    team: Team,
    make_voice_session: Any,
    admin_conn: Any,
    aws_env: dict[str, str],
    aws_clients: Any,
) -> None:
    """The real lifecycle hook: deleting a finished session removes its transcript object from S3."""
    s3 = aws_clients("s3")
    bucket = aws_env["TRANSCRIPT_BUCKET"]
    s = make_voice_session(team.org, team.member, status="completed")
    key = f"transcripts/{team.org.id}/2026/01/16/{s['id']}.json"
    s3.put_object(Bucket=bucket, Key=key, Body=b'{"segments": []}')
    admin_conn.execute(
        "INSERT INTO public.voice_transcripts (session_id, transcript_s3_url, created_by) "
        "VALUES (%s, %s, %s)",
        (s["id"], f"s3://{bucket}/{key}", team.member.id),
    )
    assert sessions_api("DELETE", f"{BASE}/{s['id']}", user=team.member).status == 200
    assert s3.list_objects_v2(Bucket=bucket, Prefix=key).get("KeyCount") == 0


# --- cost -----------------------------------------------------------------------------------------------


def test_success_paths_cost_one_statement(
    sessions_api: Call, team: Team, make_voice_session: Any, lifecycle_calls: LifecycleCalls
) -> None:
    """One statement plus COMMIT per request (access_common.db pipelines the transaction set-up)."""
    from access_common import db

    s = make_voice_session(team.org, team.member)
    org = {"orgId": str(team.org.id)}
    sessions_api("GET", BASE, user=team.member, query=org)  # warm connection: no idle check

    def trips(method: str, path: str, **kw: Any) -> int:
        before = db.round_trips
        r = sessions_api(method, path, user=team.member, **kw)
        assert r.status < 300, r.body
        return db.round_trips - before

    assert trips("GET", BASE, query=org) == 2
    assert trips("GET", f"{BASE}/{s['id']}") == 2
    assert trips("GET", f"{BASE}/{s['id']}/kbs") == 2
    assert trips("POST", BASE, body=new_session(team)) == 2
    assert trips("PUT", f"{BASE}/{s['id']}", body={"candidateName": "B", "status": "cancelled"}) == 2
    assert trips("DELETE", f"{BASE}/{s['id']}") == 2
