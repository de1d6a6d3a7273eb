"""access_common.roles against the real tables, as the caller (RLS applies): the exact membership rules that
`make mutation` changes (docs/mutation.md)."""

from __future__ import annotations

import pytest

from access_common.errors import ForbiddenError, NotFoundError
from access_common.identity import Principal
from access_common.roles import is_sys_admin, membership, require_admin, require_member


def _principal(user) -> Principal:
    return Principal(user.id, user.email)


@pytest.mark.parametrize(
    ("org_role", "member", "admin"),
    [("org_user", True, False), ("org_admin", True, True), ("org_owner", True, True)],
)
def test_membership_of_each_role(org_role, member, admin, make_org, make_user, as_user):
    org = make_org()
    user = make_user(org, org_role)
    with as_user(user) as cur:
        m = membership(cur, _principal(user), org.id)
        assert (m.org_id, m.org_role, m.is_member, m.is_admin, m.is_sys_admin) == (
            org.id,
            org_role,
            member,
            admin,
            False,
        )
        assert require_member(cur, _principal(user), org.id) == m
        if admin:
            assert require_admin(cur, _principal(user), org.id) == m
        else:
            with pytest.raises(ForbiddenError) as caught:
                require_admin(cur, _principal(user), org.id)
            assert (caught.value.code, caught.value.message) == (
                "ORG_ADMIN_REQUIRED",
                "This action requires the org admin or owner role",
            )


def test_an_inactive_membership_is_no_membership(make_org, make_user, as_user, admin_conn):
    org = make_org()
    user = make_user(org, "org_admin")
    admin_conn.execute(
        "UPDATE public.org_members SET active = false WHERE org_id = %s AND user_id = %s", (org.id, user.id)
    )
    with as_user(user) as cur:
        m = membership(cur, _principal(user), org.id)
        assert (m.org_role, m.is_member, m.is_admin) == (None, False, False)
        with pytest.raises(NotFoundError) as caught:
            require_admin(cur, _principal(user), org.id)
    # Not a member at all: the member check speaks first, as "not found" (existence is not revealed).
    assert (caught.value.status, caught.value.code, caught.value.message) == (
        404,
        "ORG_NOT_FOUND",
        "Organization not found (or you are not a member of it)",
    )


def test_membership_is_per_org(make_org, make_user, as_user):
    mine, other = make_org(), make_org()
    user = make_user(mine, "org_owner")
    with as_user(user) as cur:
        assert membership(cur, _principal(user), other.id).is_member is False
        with pytest.raises(NotFoundError) as caught:
            require_member(cur, _principal(user), other.id)
        assert caught.value.code == "ORG_NOT_FOUND"


@pytest.mark.parametrize(
    ("sys_role", "expected"), [("sys_user", False), ("sys_admin", True), ("sys_owner", True)]
)
def test_platform_roles(sys_role, expected, make_org, make_user, as_user):
    org = make_org()
    user = make_user(org, "org_user", sys_role=sys_role)
    with as_user(user) as cur:
        assert membership(cur, _principal(user), org.id).is_sys_admin is expected
        assert is_sys_admin(cur, _principal(user)) is expected


def test_a_user_without_a_profile_is_a_plain_user(make_org, make_user, as_user, admin_conn):
    org = make_org()
    user = make_user(org, "org_admin", sys_role="sys_admin")
    admin_conn.execute("DELETE FROM public.user_profiles WHERE user_id = %s", (user.id,))
    with as_user(user) as cur:
        m = membership(cur, _principal(user), org.id)
        assert (m.is_member, m.is_admin, m.is_sys_admin) == (True, True, False)
        assert is_sys_admin(cur, _principal(user)) is False


def test_a_platform_admin_is_no_org_member(make_org, make_user, as_user):
    org = make_org()
    admin = make_user(None, sys_role="sys_admin")
    with as_user(admin) as cur:
        m = membership(cur, _principal(admin), org.id)
        assert (m.is_member, m.is_admin, m.is_sys_admin) == (False, False, True)
