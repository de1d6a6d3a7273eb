"""Row-level security of every table, exercised as the API does it: role authenticated + JWT claims.

Two orgs (A and B) with owners, admins and members, an outsider and a platform admin. Every table is
checked for reads and writes inside and across orgs, and for anon.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest
from psycopg import errors

from tests.fixtures.db import (
    Org,
    User,
    create_org,
    create_user,
    create_voice_config,
    create_voice_session,
    user_claims,
)

VOICE_TABLES = (
    "voice_configs",
    "voice_sessions",
    "voice_session_kb",
    "voice_transcripts",
    "voice_transcript_segments",
    "voice_analytics",
    "voice_session_status_history",
    "voice_credentials",
)
COMPAT_TABLES = ("orgs", "org_members", "user_profiles", "workspaces", "kb_bases", "kb_docs")
ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:voice/{}-AbCdEf"


class Rollback(Exception):
    """Raised at the end of a block to undo it (keeps shared rows such as platform defaults untouched)."""


@dataclass
class Tenant:
    org: Org
    owner: User
    admin: User
    member: User  # created the tenant's session
    member2: User
    config: dict[str, Any]
    session: dict[str, Any]
    kb_id: Any
    link_id: Any
    transcript_id: Any
    segment_id: int
    analytics_id: Any
    credential_id: Any


@dataclass
class World:
    a: Tenant
    b: Tenant
    outsider: User
    platform_admin: User


def _tenant(conn) -> Tenant:
    org = create_org(conn)
    owner = create_user(conn, org, "org_owner")
    admin = create_user(conn, org, "org_admin")
    member = create_user(conn, org, "org_user")
    member2 = create_user(conn, org, "org_user")
    config = create_voice_config(conn, org, admin)
    session = create_voice_session(conn, org, member, status="completed", config_id=config["id"])
    one = lambda q, *p: conn.execute(q, p).fetchone()["id"]  # noqa: E731
    workspace_id = one(
        "INSERT INTO public.workspaces (org_id, name) VALUES (%s, 'Hiring') RETURNING id", org.id
    )
    assert workspace_id
    kb_id = one("INSERT INTO public.kb_bases (org_id, name) VALUES (%s, 'Handbook') RETURNING id", org.id)
    conn.execute(
        "INSERT INTO public.kb_docs (kb_id, title, content) VALUES (%s, 'Values', 'Be kind')", (kb_id,)
    )
    link_id = one(
        "INSERT INTO public.voice_session_kb (session_id, kb_id, added_by) VALUES (%s, %s, %s) RETURNING id",
        session["id"],
        kb_id,
        member.id,
    )
    transcript_id = one(
        "INSERT INTO public.voice_transcripts (session_id, transcript_text, created_by) "
        "VALUES (%s, 'hi', %s) RETURNING id",
        session["id"],
        member.id,
    )
    segment_id = one(
        "INSERT INTO public.voice_transcript_segments (session_id, seq, speaker, text) "
        "VALUES (%s, 0, 'bot', 'Hello') RETURNING id",
        session["id"],
    )
    analytics_id = one(
        "INSERT INTO public.voice_analytics (session_id, transcript_id, overall_score, status, created_by) "
        "VALUES (%s, %s, 80, 'completed', %s) RETURNING id",
        session["id"],
        transcript_id,
        member.id,
    )
    credential_id = one(
        "INSERT INTO public.voice_credentials (org_id, service_name, credentials_secret_arn, created_by) "
        "VALUES (%s, 'daily', %s, %s) RETURNING id",
        org.id,
        ARN.format("daily"),
        admin.id,
    )
    return Tenant(
        org,
        owner,
        admin,
        member,
        member2,
        config,
        session,
        kb_id,
        link_id,
        transcript_id,
        segment_id,
        analytics_id,
        credential_id,
    )


@pytest.fixture
def world(admin_conn) -> World:
    return World(
        a=_tenant(admin_conn),
        b=_tenant(admin_conn),
        outsider=create_user(admin_conn),
        platform_admin=create_user(admin_conn, sys_role="sys_admin"),
    )


def ids(cur, table: str, where: str = "true", params: tuple = ()) -> set:
    cur.execute(f"SELECT id FROM public.{table} WHERE {where}", params)
    return {r["id"] for r in cur.fetchall()}


def pick(world: World, path: str) -> Any:
    """``pick(world, "a.member")`` -> world.a.member."""
    obj: Any = world
    for part in path.split("."):
        obj = getattr(obj, part)
    return obj


def switch_to(cur, user: User) -> None:
    """Become another user inside the current transaction (same mechanism as the fixtures)."""
    cur.execute(
        "SELECT set_config('role', 'authenticated', true), set_config('request.jwt.claims', %s, true)",
        (json.dumps(user_claims(user)),),
    )


ROW_OF = {
    "voice_configs": lambda t: t.config["id"],
    "voice_sessions": lambda t: t.session["id"],
    "voice_session_kb": lambda t: t.link_id,
    "voice_transcripts": lambda t: t.transcript_id,
    "voice_transcript_segments": lambda t: t.segment_id,
    "voice_analytics": lambda t: t.analytics_id,
}


# --- reads ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("table", sorted(ROW_OF))
def test_members_read_their_org_only(table, world, as_user):
    row_a, row_b = ROW_OF[table](world.a), ROW_OF[table](world.b)
    for user in (world.a.owner, world.a.admin, world.a.member, world.a.member2):
        with as_user(user) as cur:
            visible = ids(cur, table, "id = ANY(%s)", ([row_a, row_b],))
        assert visible == {row_a}, (table, user.org_role)
    for user in (world.outsider, world.platform_admin):  # platform admins get no cross-org read
        with as_user(user) as cur:
            assert ids(cur, table, "id = ANY(%s)", ([row_a, row_b],)) == set()


def test_history_read_by_members_only(world, as_user):
    for user, expected in ((world.a.member2, world.a.session), (world.b.admin, world.b.session)):
        with as_user(user) as cur:
            cur.execute(
                "SELECT DISTINCT session_id FROM public.voice_session_status_history "
                "WHERE session_id = ANY(%s)",
                ([world.a.session["id"], world.b.session["id"]],),
            )
            assert [r["session_id"] for r in cur.fetchall()] == [expected["id"]]
    with as_user(world.platform_admin) as cur:
        assert ids(cur, "voice_session_status_history", "session_id = %s", (world.a.session["id"],)) == set()


def test_inactive_membership_loses_access(world, as_user, admin_conn):
    admin_conn.execute(
        "UPDATE public.org_members SET active = false WHERE user_id = %s", (world.a.member2.id,)
    )
    with as_user(world.a.member2) as cur:
        assert ids(cur, "voice_sessions", "id = %s", (world.a.session["id"],)) == set()


# --- voice_configs: members read, admins write ---------------------------------------------------------


def _config_insert(cur, org_id, user):
    cur.execute(
        "INSERT INTO public.voice_configs (org_id, name, interview_type, config_json, created_by) "
        "VALUES (%s, %s, 'technical', '{}', %s) RETURNING id",
        (org_id, f"cfg-{user.id.hex[:8]}", user.id),
    )
    return cur.fetchone()["id"]


@pytest.mark.parametrize("role", ["owner", "admin"])
def test_config_admins_write(role, world, as_user):
    user = getattr(world.a, role)
    with as_user(user) as cur:
        new_id = _config_insert(cur, world.a.org.id, user)
        cur.execute(
            "UPDATE public.voice_configs SET description = 'x' WHERE id = %s", (world.a.config["id"],)
        )
        assert cur.rowcount == 1
        cur.execute("DELETE FROM public.voice_configs WHERE id = %s", (new_id,))
        assert cur.rowcount == 1


def test_config_members_cannot_write(world, as_user):
    with (
        pytest.raises(errors.InsufficientPrivilege, match="row-level security"),
        as_user(world.a.member) as cur,
    ):
        _config_insert(cur, world.a.org.id, world.a.member)
    with as_user(world.a.member) as cur:
        cur.execute(
            "UPDATE public.voice_configs SET description = 'x' WHERE id = %s", (world.a.config["id"],)
        )
        assert cur.rowcount == 0
        cur.execute("DELETE FROM public.voice_configs WHERE id = %s", (world.a.config["id"],))
        assert cur.rowcount == 0


def test_config_admin_cannot_touch_other_org(world, as_user, admin_conn):
    with pytest.raises(errors.InsufficientPrivilege), as_user(world.a.admin) as cur:
        _config_insert(cur, world.b.org.id, world.a.admin)
    with as_user(world.a.admin) as cur:
        cur.execute(
            "UPDATE public.voice_configs SET description = 'x' WHERE id = %s", (world.b.config["id"],)
        )
        assert cur.rowcount == 0
        cur.execute("DELETE FROM public.voice_configs WHERE id = %s", (world.b.config["id"],))
        assert cur.rowcount == 0
    # Moving one's own config into another org is refused as well.
    with pytest.raises((errors.CheckViolation, errors.InsufficientPrivilege)), as_user(world.a.admin) as cur:
        cur.execute(
            "UPDATE public.voice_configs SET org_id = %s WHERE id = %s",
            (world.b.org.id, world.a.config["id"]),
        )
    assert (
        admin_conn.execute(
            "SELECT description FROM public.voice_configs WHERE id = %s", (world.b.config["id"],)
        ).fetchone()["description"]
        is None
    )


# --- voice_sessions: members create their own; creator or admin modify ----------------------------------


def _session_insert(cur, org_id, created_by):
    cur.execute(
        "INSERT INTO public.voice_sessions (org_id, interview_type, created_by) VALUES (%s, 'technical', %s) "
        "RETURNING id",
        (org_id, created_by),
    )
    return cur.fetchone()["id"]


def test_member_creates_own_session(world, as_user):
    with as_user(world.a.member2) as cur:
        assert _session_insert(cur, world.a.org.id, world.a.member2.id)


@pytest.mark.parametrize(
    ("who", "org", "created_by"),
    [
        ("a.member", "a", "a.member2"),  # on behalf of someone else
        ("a.member", "b", "a.member"),  # in another org
        ("a.admin", "b", "a.admin"),
        ("outsider", "a", "outsider"),
        ("platform_admin", "a", "platform_admin"),
    ],
)
def test_session_insert_refused(who, org, created_by, world, as_user):
    with pytest.raises(errors.InsufficientPrivilege), as_user(pick(world, who)) as cur:
        _session_insert(cur, pick(world, org).org.id, pick(world, created_by).id)


@pytest.mark.parametrize(
    ("who", "allowed"), [("member", True), ("admin", True), ("owner", True), ("member2", False)]
)
def test_session_update_and_delete_creator_or_admin(who, allowed, world, as_user, make_voice_session):
    user = getattr(world.a, who)
    doomed = make_voice_session(world.a.org.id, world.a.member)
    with as_user(user) as cur:
        cur.execute(
            "UPDATE public.voice_sessions SET candidate_name = 'Grace' WHERE id = %s",
            (world.a.session["id"],),
        )
        assert cur.rowcount == int(allowed)
        cur.execute("DELETE FROM public.voice_sessions WHERE id = %s", (doomed["id"],))
        assert cur.rowcount == int(allowed)


def test_other_org_admin_cannot_modify_sessions(world, as_user):
    with as_user(world.b.owner) as cur:
        cur.execute(
            "UPDATE public.voice_sessions SET candidate_name = 'x' WHERE id = %s", (world.a.session["id"],)
        )
        assert cur.rowcount == 0
        cur.execute("DELETE FROM public.voice_sessions WHERE id = %s", (world.a.session["id"],))
        assert cur.rowcount == 0


@pytest.mark.parametrize("acting", ["member", "service_role"])
def test_config_and_workspace_of_another_org_refused(acting, world, as_user, as_service, admin_conn):
    """Also for the service role, which sees every org's rows: the bot would load the foreign config."""
    act = (lambda: as_user(world.a.member)) if acting == "member" else as_service
    with pytest.raises(errors.ForeignKeyViolation, match="configuration"), act() as cur:
        cur.execute(
            "INSERT INTO public.voice_sessions (org_id, interview_type, created_by, config_id) "
            "VALUES (%s, 'technical', %s, %s)",
            (world.a.org.id, world.a.member.id, world.b.config["id"]),
        )
    b_workspace = admin_conn.execute(
        "SELECT id FROM public.workspaces WHERE org_id = %s", (world.b.org.id,)
    ).fetchone()["id"]
    with pytest.raises(errors.ForeignKeyViolation, match="workspace"), act() as cur:
        cur.execute(
            "UPDATE public.voice_sessions SET workspace_id = %s WHERE id = %s",
            (b_workspace, world.a.session["id"]),
        )


# --- voice_session_kb: session creator or org admin -----------------------------------------------------


@pytest.mark.parametrize(("who", "allowed"), [("member", True), ("admin", True), ("member2", False)])
def test_kb_links_managed_by_creator_or_admin(who, allowed, world, as_user, admin_conn, make_voice_session):
    user = getattr(world.a, who)
    session = make_voice_session(world.a.org.id, world.a.member)
    insert = (
        "INSERT INTO public.voice_session_kb (session_id, kb_id, added_by) VALUES (%s, %s, %s) RETURNING id"
    )
    if allowed:
        with as_user(user) as cur:
            cur.execute(insert, (session["id"], world.a.kb_id, user.id))
            link = cur.fetchone()["id"]
            cur.execute("UPDATE public.voice_session_kb SET is_enabled = false WHERE id = %s", (link,))
            assert cur.rowcount == 1
            cur.execute("DELETE FROM public.voice_session_kb WHERE id = %s", (link,))
            assert cur.rowcount == 1
    else:
        with pytest.raises(errors.InsufficientPrivilege), as_user(user) as cur:
            cur.execute(insert, (session["id"], world.a.kb_id, user.id))
        with as_user(user) as cur:
            cur.execute(
                "UPDATE public.voice_session_kb SET is_enabled = false WHERE id = %s", (world.a.link_id,)
            )
            assert cur.rowcount == 0
            cur.execute("DELETE FROM public.voice_session_kb WHERE id = %s", (world.a.link_id,))
            assert cur.rowcount == 0
        assert (
            admin_conn.execute(
                "SELECT is_enabled FROM public.voice_session_kb WHERE id = %s", (world.a.link_id,)
            ).fetchone()["is_enabled"]
            is True
        )


def test_kb_links_across_orgs_refused(world, as_user, as_service, make_voice_session):
    session = make_voice_session(world.a.org.id, world.a.admin)
    insert = "INSERT INTO public.voice_session_kb (session_id, kb_id, added_by) VALUES (%s, %s, %s)"
    # Another org's knowledge base on one's own session.
    with pytest.raises(errors.ForeignKeyViolation, match="knowledge base"), as_user(world.a.admin) as cur:
        cur.execute(insert, (session["id"], world.b.kb_id, world.a.admin.id))
    # Not even the service role (which sees every knowledge base) may link across orgs.
    with pytest.raises(errors.ForeignKeyViolation, match="knowledge base"), as_service() as cur:
        cur.execute(insert, (session["id"], world.b.kb_id, world.a.admin.id))
    # One's own knowledge base on another org's session (the session is not even visible).
    with pytest.raises(errors.ForeignKeyViolation, match="voice session"), as_user(world.a.admin) as cur:
        cur.execute(insert, (world.b.session["id"], world.a.kb_id, world.a.admin.id))
    with as_user(world.a.admin) as cur:
        cur.execute("DELETE FROM public.voice_session_kb WHERE id = %s", (world.b.link_id,))
        assert cur.rowcount == 0


# --- machine-written tables: transcripts, segments, analytics, history ---------------------------------


WRITES = {
    "voice_transcripts": (
        "INSERT INTO public.voice_transcripts (session_id, created_by) VALUES (%(session)s, %(user)s)",
        "UPDATE public.voice_transcripts SET summary = 'x' WHERE id = %(row)s",
    ),
    "voice_transcript_segments": (
        "INSERT INTO public.voice_transcript_segments (session_id, seq, speaker, text) "
        "VALUES (%(session)s, 99, 'candidate', 'forged')",
        "UPDATE public.voice_transcript_segments SET text = 'forged' WHERE id = %(row)s",
    ),
    "voice_analytics": (
        "INSERT INTO public.voice_analytics (session_id, overall_score, created_by) "
        "VALUES (%(session)s, 100, %(user)s)",
        "UPDATE public.voice_analytics SET overall_score = 100 WHERE id = %(row)s",
    ),
}


@pytest.mark.parametrize("table", sorted(WRITES))
@pytest.mark.parametrize("op", [0, 1], ids=["insert", "update"])
@pytest.mark.parametrize("who", ["member", "owner"])
def test_machine_written_tables_refuse_user_writes(table, op, who, world, as_user):
    user = getattr(world.a, who)
    params = {"session": world.a.session["id"], "user": user.id, "row": ROW_OF[table](world.a)}
    with pytest.raises(errors.InsufficientPrivilege, match="permission denied"), as_user(user) as cur:
        cur.execute(WRITES[table][op], params)


def test_analytics_not_deletable_by_users(world, as_user):
    with pytest.raises(errors.InsufficientPrivilege), as_user(world.a.owner) as cur:
        cur.execute("DELETE FROM public.voice_analytics WHERE id = %s", (world.a.analytics_id,))


@pytest.mark.parametrize(
    ("who", "deleted"), [("a.member", 0), ("b.admin", 0), ("a.admin", 1), ("a.owner", 1)]
)
def test_transcripts_and_segments_deleted_by_org_admins_only(who, deleted, world, as_user):
    """Erasure: an org admin deletes a transcript and the segments it was assembled from (schema 040)."""
    with as_user(pick(world, who)) as cur:
        cur.execute("DELETE FROM public.voice_transcripts WHERE id = %s", (world.a.transcript_id,))
        assert cur.rowcount == deleted
        cur.execute("DELETE FROM public.voice_transcript_segments WHERE id = %s", (world.a.segment_id,))
        assert cur.rowcount == deleted


@pytest.mark.parametrize(
    "statement",
    [
        "INSERT INTO public.voice_session_status_history (session_id, org_id, to_status) "
        "VALUES (%(session)s, %(org)s, 'completed')",
        "UPDATE public.voice_session_status_history SET reason = 'edited' WHERE session_id = %(session)s",
        "DELETE FROM public.voice_session_status_history WHERE session_id = %(session)s",
    ],
    ids=["insert", "update", "delete"],
)
def test_history_cannot_be_written_by_anyone(statement, world, as_user, as_service):
    params = {"session": world.a.session["id"], "org": world.a.org.id}
    for acting in (lambda: as_user(world.a.owner), as_service):
        with pytest.raises(errors.InsufficientPrivilege), acting() as cur:
            cur.execute(statement, params)


def test_service_role_writes_machine_tables_across_orgs(world, as_service, make_voice_session):
    session = make_voice_session(world.b.org.id, world.b.member, status="active")
    with as_service() as cur:
        assert {world.a.session["id"], world.b.session["id"]} <= ids(cur, "voice_sessions")
        cur.execute(
            "INSERT INTO public.voice_transcript_segments (session_id, seq, speaker, text) "
            "VALUES (%s, 0, 'candidate', 'Hi') RETURNING org_id",
            (session["id"],),
        )
        assert cur.fetchone()["org_id"] == world.b.org.id  # inherited from the session
        cur.execute(
            "INSERT INTO public.voice_analytics (session_id, created_by) VALUES (%s, %s) RETURNING status",
            (session["id"], world.b.member.id),
        )
        assert cur.fetchone()["status"] == "pending"


def test_child_rows_cannot_claim_another_org(world, as_service):
    with pytest.raises(errors.ForeignKeyViolation, match="org_id"), as_service() as cur:
        cur.execute(
            "INSERT INTO public.voice_transcript_segments (session_id, org_id, seq, speaker, text) "
            "VALUES (%s, %s, 5, 'bot', 'x')",
            (world.a.session["id"], world.b.org.id),
        )


# --- voice_credentials: org admins for org rows, platform admins for platform rows -----------------------


def test_org_credentials_visible_to_their_admins_only(world, as_user):
    both = ([world.a.credential_id, world.b.credential_id],)
    expectations = [
        (world.a.owner, {world.a.credential_id}),
        (world.a.admin, {world.a.credential_id}),
        (world.b.admin, {world.b.credential_id}),
        (world.a.member, set()),
        (world.platform_admin, set()),
        (world.outsider, set()),
    ]
    for user, expected in expectations:
        with as_user(user) as cur:
            assert ids(cur, "voice_credentials", "id = ANY(%s)", both) == expected


def _credential_insert(cur, org_id, service, user):
    cur.execute(
        "INSERT INTO public.voice_credentials "
        "(org_id, service_name, credentials_secret_arn, key_last4, created_by) "
        "VALUES (%s, %s, %s, 'wxyz', %s) RETURNING id",
        (org_id, service, ARN.format(service), user.id),
    )
    return cur.fetchone()["id"]


def test_org_credential_writes(world, as_user):
    with as_user(world.a.admin) as cur:
        new_id = _credential_insert(cur, world.a.org.id, "deepgram", world.a.admin)
        cur.execute("UPDATE public.voice_credentials SET is_active = false WHERE id = %s", (new_id,))
        assert cur.rowcount == 1
        cur.execute("DELETE FROM public.voice_credentials WHERE id = %s", (new_id,))
        assert cur.rowcount == 1
    refused = [
        (world.a.member, world.a.org.id),  # members may not
        (world.a.admin, world.b.org.id),  # nor admins of another org
        (world.platform_admin, world.a.org.id),  # nor platform admins into an org
        (world.a.admin, None),  # nor org admins as platform default
    ]
    for user, org_id in refused:
        with pytest.raises(errors.InsufficientPrivilege), as_user(user) as cur:
            _credential_insert(cur, org_id, "cartesia", user)
    with as_user(world.a.member) as cur:
        cur.execute(
            "UPDATE public.voice_credentials SET is_active = false WHERE id = %s", (world.a.credential_id,)
        )
        assert cur.rowcount == 0


def test_platform_credentials_only_for_platform_admins(world, as_service):
    """All in one transaction that is rolled back: the platform default per service is shared state."""
    with pytest.raises(Rollback), as_service() as cur:
        cur.execute("DELETE FROM public.voice_credentials WHERE org_id IS NULL AND service_name = 'daily'")
        switch_to(cur, world.platform_admin)
        platform_id = _credential_insert(cur, None, "daily", world.platform_admin)
        cur.execute("UPDATE public.voice_credentials SET is_active = true WHERE id = %s", (platform_id,))
        assert cur.rowcount == 1
        assert world.a.credential_id not in ids(cur, "voice_credentials")  # no cross-org read
        for user in (world.a.owner, world.a.admin, world.a.member, world.outsider):
            switch_to(cur, user)
            assert ids(cur, "voice_credentials", "id = %s", (platform_id,)) == set()
            cur.execute("UPDATE public.voice_credentials SET is_active = false WHERE id = %s", (platform_id,))
            assert cur.rowcount == 0
        switch_to(cur, world.platform_admin)
        cur.execute("DELETE FROM public.voice_credentials WHERE id = %s", (platform_id,))
        assert cur.rowcount == 1
        raise Rollback


# --- anon and the grants ---------------------------------------------------------------------------------


@pytest.mark.parametrize("table", VOICE_TABLES + COMPAT_TABLES)
def test_anon_gets_nothing(table, world, as_anon):
    with pytest.raises(errors.InsufficientPrivilege), as_anon() as cur:
        cur.execute(f"SELECT * FROM public.{table} LIMIT 1")


def test_anon_cannot_call_rpcs(world, as_anon):
    with pytest.raises(errors.InsufficientPrivilege), as_anon() as cur:
        cur.execute("SELECT public.get_org_voice_stats(%s)", (world.a.org.id,))


EXPECTED_AUTHENTICATED = {
    "voice_configs": {"SELECT", "INSERT", "UPDATE", "DELETE"},
    "voice_sessions": {"SELECT", "INSERT", "UPDATE", "DELETE"},
    "voice_session_kb": {"SELECT", "INSERT", "UPDATE", "DELETE"},
    "voice_credentials": {"SELECT", "INSERT", "UPDATE", "DELETE"},
    "voice_transcripts": {"SELECT", "DELETE"},
    "voice_transcript_segments": {"SELECT", "DELETE"},
    "voice_analytics": {"SELECT"},
    "voice_session_status_history": {"SELECT"},
}


def test_grants_are_least_privilege(admin_conn):
    privileges = ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER")
    for table in VOICE_TABLES:
        for role, expected in (("anon", set()), ("authenticated", EXPECTED_AUTHENTICATED[table])):
            granted = {
                p
                for p in privileges
                if admin_conn.execute(
                    "SELECT has_table_privilege(%s, %s, %s) AS ok", (role, f"public.{table}", p)
                ).fetchone()["ok"]
            }
            assert granted == expected, (role, table)


def test_rls_enabled_and_forced(admin_conn):
    rows = admin_conn.execute(
        "SELECT relname, relrowsecurity, relforcerowsecurity FROM pg_class "
        "WHERE relnamespace = 'public'::regnamespace AND relname = ANY(%s)",
        (list(VOICE_TABLES),),
    ).fetchall()
    assert len(rows) == len(VOICE_TABLES)
    for r in rows:
        assert r["relrowsecurity"], r["relname"]
        # History is written by a SECURITY DEFINER trigger as the owner, hence not forced (see 004).
        assert r["relforcerowsecurity"] == (r["relname"] != "voice_session_status_history"), r["relname"]


# --- compat tables behave like the platform's ------------------------------------------------------------


def test_compat_tables_members_read_their_org(world, as_user):
    a, b = world.a, world.b
    with as_user(a.member) as cur:
        assert ids(cur, "orgs", "id = ANY(%s)", ([a.org.id, b.org.id],)) == {a.org.id}
        cur.execute(
            "SELECT DISTINCT org_id FROM public.org_members WHERE org_id = ANY(%s)", ([a.org.id, b.org.id],)
        )
        assert [r["org_id"] for r in cur.fetchall()] == [a.org.id]
        cur.execute(
            "SELECT DISTINCT org_id FROM public.workspaces WHERE org_id = ANY(%s)", ([a.org.id, b.org.id],)
        )
        assert [r["org_id"] for r in cur.fetchall()] == [a.org.id]
        assert ids(cur, "kb_bases", "id = ANY(%s)", ([a.kb_id, b.kb_id],)) == {a.kb_id}
        cur.execute("SELECT kb_id FROM public.kb_docs WHERE kb_id = ANY(%s)", ([a.kb_id, b.kb_id],))
        assert {r["kb_id"] for r in cur.fetchall()} == {a.kb_id}
        cur.execute(
            "SELECT user_id FROM public.user_profiles WHERE user_id = ANY(%s)", ([a.owner.id, b.owner.id],)
        )
        assert [r["user_id"] for r in cur.fetchall()] == [a.owner.id]
    with as_user(world.outsider) as cur:
        cur.execute(
            "SELECT user_id FROM public.user_profiles WHERE user_id = ANY(%s)",
            ([a.owner.id, world.outsider.id],),
        )
        assert [r["user_id"] for r in cur.fetchall()] == [world.outsider.id]  # own profile only
        cur.execute("SELECT org_role FROM public.org_members WHERE org_id = %s", (a.org.id,))
        assert cur.fetchall() == []


def test_helper_functions(world, as_user):
    a = world.a
    expected = {
        a.owner: (True, True, True, False),
        a.admin: (True, True, False, False),
        a.member: (True, False, False, False),
        world.outsider: (False, False, False, False),
        world.platform_admin: (False, False, False, True),
    }
    for user, flags in expected.items():
        with as_user(user) as cur:
            cur.execute(
                "SELECT public.is_org_member(%(o)s) AS m, public.is_org_admin(%(o)s) AS a, "
                "public.is_org_owner(%(o)s) AS ow, public.is_sys_admin() AS s",
                {"o": a.org.id},
            )
            row = cur.fetchone()
        assert (row["m"], row["a"], row["ow"], row["s"]) == flags, user.org_role
