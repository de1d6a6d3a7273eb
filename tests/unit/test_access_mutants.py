"""Who the caller is and what a token proves: the exact rules of access_common.identity, access_common.jwt and
voice_common.bot_token, written to fail on the small changes `make mutation` makes (docs/mutation.md)."""

from __future__ import annotations

import json
import time
import uuid

import jwt as pyjwt
import pytest

from access_common.errors import ForbiddenError, UnauthorizedError
from access_common.identity import Principal, principal_from_authorizer, principal_from_event
from access_common.jwt import mint_user_jwt, verify_user_jwt
from voice_common import bot_token

SECRET = "test-jwt-secret-for-module-voice-0123456789"


def _code(exc_info: pytest.ExceptionInfo[Exception]) -> tuple[int, str, str]:
    err = exc_info.value
    return err.status, err.code, err.message  # type: ignore[attr-defined]


class TestPrincipal:
    def test_claims_without_email(self) -> None:
        uid = uuid.uuid4()
        p = Principal(uid)
        assert p.claims() == {"sub": str(uid), "role": "authenticated"}
        assert (
            p.claims_json() == f'{{"sub":"{uid}","role":"authenticated"}}'
        )  # compact, as PostgREST sends it
        assert p.role == "authenticated" and p.email is None

    def test_claims_with_email(self) -> None:
        uid = uuid.uuid4()
        assert json.loads(Principal(uid, "a@b.co").claims_json()) == {
            "sub": str(uid),
            "role": "authenticated",
            "email": "a@b.co",
        }


class TestAuthorizer:
    @pytest.mark.parametrize(
        "event",
        [
            {},
            {"requestContext": "not a mapping"},
            {"requestContext": {}},
            {"requestContext": {"authorizer": None}},
            {"requestContext": {"authorizer": {}}},
            {"requestContext": {"authorizer": ["principalId"]}},
        ],
    )
    def test_no_authorizer_is_401(self, event: dict) -> None:
        with pytest.raises(UnauthorizedError) as caught:
            principal_from_event(event)
        assert _code(caught) == (401, "UNAUTHORIZED", "Authentication required")

    def test_sub_wins_over_user_id_and_principal_id(self) -> None:
        a, b, c = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
        assert (
            principal_from_authorizer({"sub": str(a), "userId": str(b), "principalId": str(c)}).user_id == a
        )
        assert principal_from_authorizer({"userId": str(b), "principalId": str(c)}).user_id == b
        assert principal_from_authorizer({"principalId": str(c)}).user_id == c

    def test_claims_take_precedence_over_the_context(self) -> None:
        inner, outer = uuid.uuid4(), uuid.uuid4()
        auth = {"principalId": str(outer), "claims": {"sub": str(inner), "email": "in@x.io"}}
        p = principal_from_authorizer(auth)
        assert (p.user_id, p.email) == (inner, "in@x.io")

    def test_claims_as_invalid_json_string_fall_back_to_the_context(self) -> None:
        uid = uuid.uuid4()
        p = principal_from_authorizer({"claims": "{not json", "principalId": str(uid), "email": "c@x.io"})
        assert (p.user_id, p.email) == (uid, "c@x.io")

    def test_claims_as_json_string(self) -> None:
        uid = uuid.uuid4()
        p = principal_from_authorizer({"claims": json.dumps({"sub": str(uid), "email": "j@x.io"})})
        assert (p.user_id, p.email) == (uid, "j@x.io")

    def test_user_id_must_be_a_uuid(self) -> None:
        with pytest.raises(UnauthorizedError) as caught:
            principal_from_authorizer({"principalId": "user-42"})
        assert _code(caught) == (401, "UNAUTHORIZED", "Invalid authenticated user id")

    @pytest.mark.parametrize("raw", ["", None, 0])
    def test_empty_user_id_is_401(self, raw: object) -> None:
        with pytest.raises(UnauthorizedError) as caught:
            principal_from_authorizer({"principalId": raw, "role": "authenticated"})
        assert caught.value.message == "Authentication required"

    @pytest.mark.parametrize("role", ["authenticated", "service_role", None, ""])
    def test_accepted_roles_all_become_authenticated(self, role: str | None) -> None:
        # service_role here is a gateway that passed service claims: the database still sees a user.
        p = principal_from_authorizer({"principalId": str(uuid.uuid4()), "role": role})
        assert p.role == "authenticated"
        assert p.claims()["role"] == "authenticated"

    @pytest.mark.parametrize("role", ["anon", "Authenticated", "admin", "supabase_admin"])
    def test_other_roles_are_401(self, role: str) -> None:
        with pytest.raises(UnauthorizedError) as caught:
            principal_from_authorizer({"principalId": str(uuid.uuid4()), "role": role})
        assert _code(caught) == (401, "UNAUTHORIZED", "Authentication required")

    @pytest.mark.parametrize(("email", "expected"), [("", None), (None, None), ("e@x.io", "e@x.io")])
    def test_email(self, email: str | None, expected: str | None) -> None:
        assert principal_from_authorizer({"principalId": str(uuid.uuid4()), "email": email}).email == expected


class TestUserJwt:
    def test_minted_claims(self) -> None:
        before = int(time.time())
        token = mint_user_jwt("u-1", "u@x.io", secret=SECRET, ttl_seconds=120)
        claims = pyjwt.decode(token, SECRET, algorithms=["HS256"], options={"verify_aud": False})
        after = int(time.time())
        assert pyjwt.get_unverified_header(token)["alg"] == "HS256"
        assert claims["sub"] == "u-1" and claims["email"] == "u@x.io"
        assert claims["role"] == "authenticated" and claims["aud"] == "authenticated"
        assert before <= claims["iat"] <= after and claims["exp"] == claims["iat"] + 120

    def test_minted_without_email_and_with_another_role(self) -> None:
        token = mint_user_jwt("u-2", None, secret=SECRET, role="service_role")
        claims = pyjwt.decode(token, SECRET, algorithms=["HS256"], options={"verify_aud": False})
        assert "email" not in claims and claims["role"] == "service_role"
        assert claims["exp"] - claims["iat"] == 86400

    def test_explicit_secret_wins_over_the_environment(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("SUPABASE_JWT_SECRET", "env-secret-env-secret-env-secret-0")
        token = mint_user_jwt("u-3", None, secret="given-secret-given-secret-given-0")
        assert verify_user_jwt(token, secret="given-secret-given-secret-given-0")["sub"] == "u-3"
        with pytest.raises(UnauthorizedError):
            verify_user_jwt(token)  # the environment's secret does not verify it

    def test_environment_secret_is_used_by_default(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("SUPABASE_JWT_SECRET", SECRET)
        assert verify_user_jwt(mint_user_jwt("u-4", None, secret=SECRET))["sub"] == "u-4"

    def test_no_secret_anywhere(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.delenv("SUPABASE_JWT_SECRET", raising=False)
        with pytest.raises(UnauthorizedError) as caught:
            verify_user_jwt("a.b.c")
        assert _code(caught) == (401, "UNAUTHORIZED", "Token verification is not configured")

    def test_missing_token(self) -> None:
        with pytest.raises(UnauthorizedError) as caught:
            verify_user_jwt("", secret=SECRET)
        assert caught.value.message == "Missing token"

    def test_expired_and_invalid_codes(self) -> None:
        expired = mint_user_jwt("u", None, secret=SECRET, ttl_seconds=-10)
        with pytest.raises(UnauthorizedError) as caught:
            verify_user_jwt(expired, secret=SECRET)
        assert _code(caught) == (401, "TOKEN_EXPIRED", "Token expired")
        with pytest.raises(UnauthorizedError) as caught:
            verify_user_jwt(
                mint_user_jwt("u", None, secret="another-secret-another-secret-00"), secret=SECRET
            )
        assert _code(caught) == (401, "INVALID_TOKEN", "Invalid token")

    def test_exp_is_required(self) -> None:
        token = pyjwt.encode({"sub": "u", "role": "authenticated"}, SECRET, algorithm="HS256")
        with pytest.raises(UnauthorizedError) as caught:
            verify_user_jwt(token, secret=SECRET)
        assert caught.value.code == "INVALID_TOKEN"

    def test_other_audience_and_no_role_are_users(self) -> None:
        token = pyjwt.encode(
            {"sub": "u", "exp": int(time.time()) + 60, "aud": "x"}, SECRET, algorithm="HS256"
        )
        assert verify_user_jwt(token, secret=SECRET)["sub"] == "u"

    def test_only_hs256(self) -> None:
        long_secret = SECRET * 2  # long enough for HS512: the refusal is about the algorithm, not the key
        token = pyjwt.encode({"sub": "u", "exp": int(time.time()) + 60}, long_secret, algorithm="HS512")
        with pytest.raises(UnauthorizedError) as caught:
            verify_user_jwt(token, secret=long_secret)
        assert caught.value.code == "INVALID_TOKEN"

    def test_a_service_token_is_refused_with_its_own_message(self) -> None:
        token = mint_user_jwt("u", None, secret=SECRET, role="service_role")
        with pytest.raises(UnauthorizedError) as caught:
            verify_user_jwt(token, secret=SECRET)
        assert _code(caught) == (401, "INVALID_TOKEN", "Token is not a user token")


class TestBotTokenRules:
    @pytest.fixture(autouse=True)
    def _secret(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.delenv("BOT_TOKEN_SECRET_ARN", raising=False)
        monkeypatch.setenv("BOT_TOKEN_SECRET", "bot-secret-for-tests")
        bot_token.reset_secret_cache()
        yield
        bot_token.reset_secret_cache()

    def test_token_format(self) -> None:
        sid = uuid.uuid4()
        token = bot_token.issue(str(sid).upper(), 90, now=1000.7)
        prefix, session, exp, signature = token.split(".")
        assert (prefix, session, exp) == ("vbt1", str(sid), "1090")
        import hashlib
        import hmac

        expected = hmac.new(b"bot-secret-for-tests", f"vbt1.{sid}.1090".encode(), hashlib.sha256).hexdigest()
        assert signature == expected

    def test_expiry_is_exclusive(self) -> None:
        sid = uuid.uuid4()
        token = bot_token.issue(sid, 60, now=1000)
        assert bot_token.verify(token, now=1059.9) == sid
        with pytest.raises(UnauthorizedError) as caught:
            bot_token.verify(token, now=1060)
        assert _code(caught) == (401, "BOT_TOKEN_EXPIRED", "Bot token expired")

    def test_session_may_be_given_as_uuid_or_string(self) -> None:
        sid = uuid.uuid4()
        token = bot_token.issue(sid, 60)
        assert bot_token.verify(token, sid) == sid
        assert bot_token.verify(token, str(sid)) == sid
        assert isinstance(bot_token.verify(token), uuid.UUID)

    def test_wrong_session_message(self) -> None:
        with pytest.raises(ForbiddenError) as caught:
            bot_token.verify(bot_token.issue(uuid.uuid4(), 60), uuid.uuid4())
        assert _code(caught) == (403, "BOT_TOKEN_WRONG_SESSION", "Bot token is for another session")

    @pytest.mark.parametrize(
        ("token", "code", "message"),
        [
            (None, "BOT_TOKEN_REQUIRED", "Bot token required"),
            ("", "BOT_TOKEN_REQUIRED", "Bot token required"),
            ("vbt1.a.b", "BOT_TOKEN_INVALID", "Malformed bot token"),
            ("vbt1.a.b.c.d", "BOT_TOKEN_INVALID", "Malformed bot token"),
            ("VBT1.a.b.c", "BOT_TOKEN_INVALID", "Malformed bot token"),
        ],
    )
    def test_refusals(self, token: str | None, code: str, message: str) -> None:
        with pytest.raises(UnauthorizedError) as caught:
            bot_token.verify(token)
        assert _code(caught) == (401, code, message)

    def test_bad_signature_message(self) -> None:
        prefix, sid, exp, sig = bot_token.issue(uuid.uuid4(), 60).split(".")
        with pytest.raises(UnauthorizedError) as caught:
            bot_token.verify(f"{prefix}.{sid}.{exp}.{sig.upper()}")
        assert _code(caught) == (401, "BOT_TOKEN_INVALID", "Invalid bot token signature")

    def test_unconfigured(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.delenv("BOT_TOKEN_SECRET")
        bot_token.reset_secret_cache()
        with pytest.raises(UnauthorizedError) as caught:
            bot_token.issue(uuid.uuid4(), 60)
        assert _code(caught) == (401, "BOT_TOKEN_UNCONFIGURED", "Bot authentication is not configured")

    def test_secret_is_read_once(self, monkeypatch: pytest.MonkeyPatch) -> None:
        sid = uuid.uuid4()
        token = bot_token.issue(sid, 60)
        monkeypatch.setenv("BOT_TOKEN_SECRET", "rotated")  # cached per container until reset
        assert bot_token.verify(token) == sid

    @pytest.mark.parametrize(
        ("headers", "expected"),
        [
            ({"AUTHORIZATION": "Bearer abc"}, "abc"),
            ({"x-other": "Bearer no", "Authorization": "BEARER  def  "}, "def"),
            ({"Authorization": "Bearer"}, None),
            ({"Authorization": ""}, None),
            ({"Authorization": "Token abc"}, None),
            ({}, None),
        ],
    )
    def test_bearer(self, headers: dict[str, str], expected: str | None) -> None:
        assert bot_token.bearer(headers) == expected


def test_bot_token_secret_from_secrets_manager(
    aws_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import boto3

    sm = boto3.client("secretsmanager", endpoint_url=aws_env["AWS_ENDPOINT_URL"])
    arn = sm.create_secret(Name=f"test/bot-token/{uuid.uuid4()}", SecretString="from-secrets-manager")["ARN"]
    monkeypatch.delenv("BOT_TOKEN_SECRET", raising=False)
    monkeypatch.setenv("BOT_TOKEN_SECRET_ARN", arn)
    bot_token.reset_secret_cache()
    try:
        sid = uuid.uuid4()
        token = bot_token.issue(sid, 60, now=1000)
        import hashlib
        import hmac

        expected = hmac.new(b"from-secrets-manager", f"vbt1.{sid}.1060".encode(), hashlib.sha256).hexdigest()
        assert token.endswith("." + expected)
    finally:
        bot_token.reset_secret_cache()
