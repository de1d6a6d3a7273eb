"""The local stack's demo data: idempotent, and shaped for the dev tokens and the RLS model."""

from __future__ import annotations

import pytest

from voice_local.seed import SAMPLE_CONFIG_ID, seed


@pytest.fixture(scope="module")
def seeded(database_url):
    return seed(database_url)


def test_seed_is_idempotent(seeded, database_url, admin_conn):
    count = lambda: admin_conn.execute(  # noqa: E731
        "SELECT (SELECT count(*) FROM public.org_members WHERE org_id = ANY(%(orgs)s)) AS members, "
        "(SELECT count(*) FROM public.voice_configs WHERE org_id = ANY(%(orgs)s)) AS configs, "
        "(SELECT count(*) FROM auth.users WHERE id = ANY(%(users)s)) AS users",
        {
            "orgs": [o["id"] for o in seeded["orgs"].values()],
            "users": [u["id"] for u in seeded["users"].values()],
        },
    ).fetchone()
    before = count()
    assert seed(database_url) == seeded
    # Other suites may add configs to the seeded orgs in the shared test database: re-seeding must add
    # nothing, and the seed's own config exists once.
    assert count() == before
    assert (before["members"], before["users"]) == (4, 5)
    sample = admin_conn.execute(
        "SELECT count(*) AS n FROM public.voice_configs WHERE id = %s", (SAMPLE_CONFIG_ID,)
    ).fetchone()
    assert sample["n"] == 1


def test_seeded_people_and_roles(seeded, admin_conn):
    users = seeded["users"]
    assert set(users) == {"acme_owner", "acme_admin", "acme_member", "globex_member", "platform_admin"}
    rows = admin_conn.execute(
        "SELECT u.id::text AS id, u.email, p.sys_role, m.org_role, m.org_id::text AS org_id "
        "FROM auth.users u JOIN public.user_profiles p ON p.user_id = u.id "
        "LEFT JOIN public.org_members m ON m.user_id = u.id WHERE u.id = ANY(%s)",
        ([u["id"] for u in users.values()],),
    ).fetchall()
    by_id = {r["id"]: r for r in rows}
    assert len(rows) == 5  # one membership each at most
    for user in users.values():
        row = by_id[user["id"]]
        assert (row["email"], row["sys_role"], row["org_role"], row["org_id"]) == (
            user["email"],
            user["sys_role"],
            user["org_role"],
            user["org_id"],
        )
    assert users["platform_admin"]["sys_role"] == "sys_admin" and users["platform_admin"]["org_id"] is None
    assert {users[k]["org_role"] for k in ("acme_owner", "acme_admin", "acme_member")} == {
        "org_owner",
        "org_admin",
        "org_user",
    }


def test_sample_config_is_visible_to_acme_only(seeded, as_user):
    users = seeded["users"]
    for key, visible in (("acme_member", True), ("globex_member", False), ("platform_admin", False)):
        with as_user(users[key]["id"]) as cur:
            cur.execute("SELECT config_json FROM public.voice_configs WHERE id = %s", (SAMPLE_CONFIG_ID,))
            rows = cur.fetchall()
        assert bool(rows) == visible, key
    with as_user(users["acme_member"]["id"]) as cur:
        cur.execute(
            "SELECT config_json, is_active FROM public.voice_configs WHERE id = %s", (SAMPLE_CONFIG_ID,)
        )
        config = cur.fetchone()
    interview = config["config_json"]["interview"]
    assert config["is_active"] is True
    assert len(interview["questions"]) == 3
    rubric = interview["scoring_rubric"]
    assert set(rubric["weights"]) == set(rubric["criteria"])
    assert sum(rubric["weights"].values()) == pytest.approx(1.0)


def test_each_org_has_a_workspace_and_a_knowledge_base_with_a_doc(seeded, as_user):
    for org_key, member_key in (("acme", "acme_member"), ("globex", "globex_member")):
        kb = seeded["knowledge_bases"][org_key]
        with as_user(seeded["users"][member_key]["id"]) as cur:
            cur.execute(
                "SELECT b.org_id::text AS org_id, d.content "
                "FROM public.kb_bases b JOIN public.kb_docs d ON d.kb_id = b.id WHERE b.id = %s",
                (kb["id"],),
            )
            row = cur.fetchone()
            cur.execute(
                "SELECT org_id::text AS org_id FROM public.workspaces WHERE id = %s",
                (seeded["workspaces"][org_key]["id"],),
            )
            workspace = cur.fetchone()
        assert row["org_id"] == seeded["orgs"][org_key]["id"] and row["content"]
        assert workspace["org_id"] == seeded["orgs"][org_key]["id"]
