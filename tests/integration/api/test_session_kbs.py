"""/api/voice/sessions/{id}/kbs: knowledge bases a session's bot grounds on (voice_session_kb)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.api.conftest import Call, Team, new_id

BASE = "/api/voice/sessions"


def kb(admin_conn: Any, org: Any, name: str = "Engineering handbook") -> str:
    row = admin_conn.execute(
        "INSERT INTO public.kb_bases (org_id, name) VALUES (%s, %s) RETURNING id", (org.id, name)
    ).fetchone()
    return str(row["id"])


def links(admin_conn: Any, session_id: Any) -> list[dict[str, Any]]:
    return admin_conn.execute(
        "SELECT kb_id, is_enabled, added_by, org_id FROM public.voice_session_kb "
        "WHERE session_id = %s ORDER BY added_at",
        (session_id,),
    ).fetchall()


def field_errors(response: Any) -> dict[str, str]:
    return {d["field"]: d["message"] for d in response.body.get("details") or []}


@pytest.fixture
def session(make_voice_session: Any, team: Team) -> dict[str, Any]:
    """A pending session created by team.member."""
    return make_voice_session(team.org, team.member)


def test_link_list_toggle_unlink(
    sessions_api: Call, team: Team, session: dict[str, Any], admin_conn: Any
) -> None:
    path = f"{BASE}/{session['id']}/kbs"
    handbook, faq = kb(admin_conn, team.org, "Handbook"), kb(admin_conn, team.org, "FAQ")

    empty = sessions_api("GET", path, user=team.member2)
    assert empty.status == 200 and empty.data == []
    assert empty.body["pagination"] == {"total": 0, "limit": 100, "offset": 0, "hasMore": False}

    added = sessions_api("POST", path, user=team.member, body={"kbId": handbook})
    assert added.status == 201, added.body
    assert added.data["kbId"] == handbook and added.data["kbName"] == "Handbook"
    assert added.data["isEnabled"] is True and added.data["addedBy"] == str(team.member.id)
    assert added.data["sessionId"] == str(session["id"])
    assert (
        sessions_api("POST", path, user=team.member, body={"kb_id": faq, "is_enabled": False}).status == 201
    )

    listed = sessions_api("GET", path, user=team.member2)
    assert [(x["kbName"], x["isEnabled"]) for x in listed.data] == [("Handbook", True), ("FAQ", False)]
    assert listed.body["pagination"]["total"] == 2
    page = sessions_api("GET", path, user=team.member, query={"limit": "1", "offset": "1"})
    assert [x["kbName"] for x in page.data] == ["FAQ"]
    assert page.body["pagination"] == {"total": 2, "limit": 1, "offset": 1, "hasMore": False}

    toggled = sessions_api("PUT", f"{path}/{faq}", user=team.member, body={"isEnabled": True})
    assert toggled.status == 200 and toggled.data["isEnabled"] is True and toggled.data["kbName"] == "FAQ"

    removed = sessions_api("DELETE", f"{path}/{handbook}", user=team.member)
    assert removed.status == 200 and removed.data == {
        "sessionId": str(session["id"]),
        "kbId": handbook,
        "deleted": True,
    }
    assert [(str(x["kb_id"]), x["is_enabled"], x["org_id"]) for x in links(admin_conn, session["id"])] == [
        (faq, True, team.org.id)
    ]
    again = sessions_api("DELETE", f"{path}/{handbook}", user=team.member)
    assert again.status == 404 and again.code == "KB_LINK_NOT_FOUND"


def test_duplicate_link_is_409(
    sessions_api: Call, team: Team, session: dict[str, Any], admin_conn: Any
) -> None:
    path = f"{BASE}/{session['id']}/kbs"
    handbook = kb(admin_conn, team.org)
    assert sessions_api("POST", path, user=team.member, body={"kbId": handbook}).status == 201
    r = sessions_api("POST", path, user=team.admin, body={"kbId": handbook, "isEnabled": False})
    assert r.status == 409 and r.code == "KB_ALREADY_LINKED"
    assert [x["is_enabled"] for x in links(admin_conn, session["id"])] == [True]


def test_kb_must_belong_to_the_sessions_org(
    sessions_api: Call, team: Team, session: dict[str, Any], admin_conn: Any
) -> None:
    path = f"{BASE}/{session['id']}/kbs"
    foreign = kb(admin_conn, team.other_org, "Their secrets")
    for kb_id in (foreign, new_id()):
        r = sessions_api("POST", path, user=team.member, body={"kbId": kb_id})
        assert r.status == 404 and r.code == "KB_NOT_FOUND"
    assert links(admin_conn, session["id"]) == []


def test_admin_manages_links_other_members_only_read(
    sessions_api: Call, team: Team, session: dict[str, Any], admin_conn: Any
) -> None:
    path = f"{BASE}/{session['id']}/kbs"
    handbook, faq = kb(admin_conn, team.org), kb(admin_conn, team.org, "FAQ")
    r = sessions_api("POST", path, user=team.member2, body={"kbId": handbook})
    assert r.status == 403 and r.code == "SESSION_MANAGE_DENIED"
    assert sessions_api("POST", path, user=team.admin, body={"kbId": handbook}).status == 201
    assert sessions_api("POST", path, user=team.owner, body={"kbId": faq}).status == 201
    assert (
        sessions_api("PUT", f"{path}/{handbook}", user=team.member2, body={"isEnabled": False}).status == 403
    )
    assert sessions_api("DELETE", f"{path}/{handbook}", user=team.member2).status == 403
    assert sessions_api("GET", path, user=team.member2).status == 200
    assert [x["is_enabled"] for x in links(admin_conn, session["id"])] == [True, True]
    assert sessions_api("PUT", f"{path}/{handbook}", user=team.admin, body={"isEnabled": False}).status == 200
    assert sessions_api("DELETE", f"{path}/{faq}", user=team.admin).status == 200
    assert [x["is_enabled"] for x in links(admin_conn, session["id"])] == [False]


@pytest.mark.parametrize("who", ["outsider", "platform_admin"])
def test_foreign_session_links_are_not_found(
    sessions_api: Call, team: Team, session: dict[str, Any], admin_conn: Any, who: str
) -> None:
    path = f"{BASE}/{session['id']}/kbs"
    handbook = kb(admin_conn, team.org)
    sessions_api("POST", path, user=team.member, body={"kbId": handbook})
    user = getattr(team, who)
    assert sessions_api("GET", path, user=user).code == "SESSION_NOT_FOUND"
    assert sessions_api("POST", path, user=user, body={"kbId": handbook}).status == 404
    assert sessions_api("PUT", f"{path}/{handbook}", user=user, body={"isEnabled": False}).status == 404
    assert sessions_api("DELETE", f"{path}/{handbook}", user=user).status == 404
    assert [x["is_enabled"] for x in links(admin_conn, session["id"])] == [True]


@pytest.mark.parametrize("status", ["ready", "active", "completed", "cancelled"])
def test_links_are_frozen_once_started(
    sessions_api: Call, team: Team, make_voice_session: Any, admin_conn: Any, status: str
) -> None:
    s = make_voice_session(team.org, team.member, status=status)
    path = f"{BASE}/{s['id']}/kbs"
    linked, other = kb(admin_conn, team.org), kb(admin_conn, team.org, "Other")
    admin_conn.execute(
        "INSERT INTO public.voice_session_kb (session_id, kb_id, added_by) VALUES (%s, %s, %s)",
        (s["id"], linked, team.member.id),
    )
    for r in (
        sessions_api("POST", path, user=team.member, body={"kbId": other}),
        sessions_api("PUT", f"{path}/{linked}", user=team.member, body={"isEnabled": False}),
        sessions_api("DELETE", f"{path}/{linked}", user=team.admin),
    ):
        assert r.status == 409 and r.code == "SESSION_NOT_PENDING" and status in r.body["error"]
    assert [(str(x["kb_id"]), x["is_enabled"]) for x in links(admin_conn, s["id"])] == [(linked, True)]
    assert len(sessions_api("GET", path, user=team.member).data) == 1


def test_toggle_or_unlink_a_kb_that_is_not_linked(
    sessions_api: Call, team: Team, session: dict[str, Any], admin_conn: Any
) -> None:
    path = f"{BASE}/{session['id']}/kbs"
    unlinked = kb(admin_conn, team.org)
    r = sessions_api("PUT", f"{path}/{unlinked}", user=team.member, body={"isEnabled": False})
    assert r.status == 404 and r.code == "KB_LINK_NOT_FOUND"
    assert sessions_api("DELETE", f"{path}/{new_id()}", user=team.member).code == "KB_LINK_NOT_FOUND"


def test_unknown_session(sessions_api: Call, team: Team, admin_conn: Any) -> None:
    path = f"{BASE}/{new_id()}/kbs"
    handbook = kb(admin_conn, team.org)
    assert sessions_api("GET", path, user=team.member).status == 404
    assert sessions_api("POST", path, user=team.member, body={"kbId": handbook}).status == 404
    assert sessions_api("PUT", f"{path}/{handbook}", user=team.member, body={"isEnabled": True}).status == 404
    assert sessions_api("DELETE", f"{path}/{handbook}", user=team.member).status == 404


@pytest.mark.parametrize(
    ("method", "suffix", "payload", "field"),
    [
        ("POST", "", {}, "kbId"),
        ("POST", "", {"kbId": "handbook"}, "kbId"),
        ("POST", "", {"kbId": None}, "kbId"),
        ("POST", "", {"isEnabled": "yes please"}, "isEnabled"),
        ("POST", "", {"sessionId": "x"}, "sessionId"),
        ("PUT", "/{kb}", {}, "isEnabled"),
        ("PUT", "/{kb}", {"isEnabled": "on and off"}, "isEnabled"),
        ("PUT", "/not-a-uuid", {"isEnabled": True}, "kbId"),
        ("DELETE", "/not-a-uuid", None, "kbId"),
        ("GET", "?limit=0", None, "limit"),
    ],
)
def test_validation(
    sessions_api: Call,
    team: Team,
    session: dict[str, Any],
    admin_conn: Any,
    method: str,
    suffix: str,
    payload: Any,
    field: str,
) -> None:
    handbook = kb(admin_conn, team.org)
    path = f"{BASE}/{session['id']}/kbs{suffix.format(kb=handbook)}"
    query = None
    if "?" in path:
        path, raw = path.split("?")
        query = dict([raw.split("=")])
    r = sessions_api(method, path, user=team.member, body=payload, query=query)
    assert r.status == 400 and field in field_errors(r), r.body
    assert links(admin_conn, session["id"]) == []


def test_malformed_json_and_bad_session_id(
    sessions_api: Call, team: Team, session: dict[str, Any], admin_conn: Any
) -> None:
    path = f"{BASE}/{session['id']}/kbs"
    assert sessions_api("POST", path, user=team.member, raw_body='{"kbId": ').code == "INVALID_JSON"
    handbook = kb(admin_conn, team.org)
    assert sessions_api("PUT", f"{path}/{handbook}", user=team.member, raw_body="[").code == "INVALID_JSON"
    r = sessions_api("GET", f"{BASE}/123/kbs", user=team.member)
    assert r.status == 400 and "id" in field_errors(r)


def test_unauthenticated(sessions_api: Call, team: Team, session: dict[str, Any], admin_conn: Any) -> None:
    path = f"{BASE}/{session['id']}/kbs"
    handbook = kb(admin_conn, team.org)
    assert sessions_api("GET", path).status == 401
    assert sessions_api("POST", path, body={"kbId": handbook}).status == 401
    assert sessions_api("PUT", f"{path}/{handbook}", body={"isEnabled": False}).status == 401
    assert sessions_api("DELETE", f"{path}/{handbook}").status == 401
    assert links(admin_conn, session["id"]) == []
