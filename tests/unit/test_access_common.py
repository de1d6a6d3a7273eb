"""access_common without a database: identity, JWTs, pagination, envelope, resolver error mapping."""

from __future__ import annotations

import json
import time
import uuid

import jwt as pyjwt
import pytest
from aws_lambda_powertools.event_handler import Response

from access_common import responses
from access_common.app import camel_query, create_app, validation_details
from access_common.errors import ConflictError, UnauthorizedError, ValidationError
from access_common.identity import principal_from_event
from access_common.jwt import mint_user_jwt, verify_user_jwt
from access_common.models import CamelModel
from access_common.pagination import Page, parse_pagination
from tests.fixtures.api import rest_event

SECRET = "unit-secret-0123456789-0123456789"


class TestIdentity:
    def test_lambda_authorizer_context(self) -> None:
        uid = uuid.uuid4()
        p = principal_from_event(rest_event("GET", "/x", user=uid, email="a@b.co"))
        assert p.user_id == uid
        assert p.email == "a@b.co"
        assert json.loads(p.claims_json()) == {"sub": str(uid), "role": "authenticated", "email": "a@b.co"}

    def test_jwt_claims_shape(self) -> None:
        uid = uuid.uuid4()
        event = rest_event("GET", "/x")
        event["requestContext"]["authorizer"] = {"claims": {"sub": str(uid), "email": "c@d.io"}}
        assert principal_from_event(event).user_id == uid

    def test_claims_as_json_string(self) -> None:
        uid = uuid.uuid4()
        event = rest_event("GET", "/x")
        event["requestContext"]["authorizer"] = {"claims": json.dumps({"sub": str(uid)})}
        assert principal_from_event(event).user_id == uid

    @pytest.mark.parametrize(
        "authorizer",
        [
            None,
            {},
            {"principalId": "not-a-uuid"},
            {"claims": {"email": "x@y.z"}},
            {"claims": "{broken"},
            {"principalId": str(uuid.UUID(int=1)), "role": "anon"},
        ],
    )
    def test_missing_or_malformed_is_401(self, authorizer: object) -> None:
        event = rest_event("GET", "/x")
        event["requestContext"]["authorizer"] = authorizer
        with pytest.raises(UnauthorizedError):
            principal_from_event(event)

    def test_no_request_context(self) -> None:
        with pytest.raises(UnauthorizedError):
            principal_from_event({"httpMethod": "GET"})

    def test_identity_ignores_headers_and_body(self) -> None:
        event = rest_event("GET", "/x", headers={"x-user-id": str(uuid.uuid4())}, body={"userId": "x"})
        with pytest.raises(UnauthorizedError):
            principal_from_event(event)


class TestJwt:
    def test_round_trip(self) -> None:
        uid = str(uuid.uuid4())
        claims = verify_user_jwt(mint_user_jwt(uid, "u@x.io", secret=SECRET), secret=SECRET)
        assert claims["sub"] == uid and claims["email"] == "u@x.io" and claims["role"] == "authenticated"

    def test_expired(self) -> None:
        token = mint_user_jwt(str(uuid.uuid4()), None, secret=SECRET, ttl_seconds=-5)
        with pytest.raises(UnauthorizedError) as err:
            verify_user_jwt(token, secret=SECRET)
        assert err.value.code == "TOKEN_EXPIRED"

    def test_forged_signature(self) -> None:
        token = mint_user_jwt(str(uuid.uuid4()), None, secret="another-secret-entirely-000000000")
        with pytest.raises(UnauthorizedError):
            verify_user_jwt(token, secret=SECRET)

    @pytest.mark.parametrize("token", ["", "abc", "a.b.c", "Bearer x"])
    def test_malformed(self, token: str) -> None:
        with pytest.raises(UnauthorizedError):
            verify_user_jwt(token, secret=SECRET)

    def test_none_algorithm_refused(self) -> None:
        token = pyjwt.encode({"sub": str(uuid.uuid4()), "exp": int(time.time()) + 60}, None, algorithm="none")
        with pytest.raises(UnauthorizedError):
            verify_user_jwt(token, secret=SECRET)

    def test_service_role_token_is_not_a_user(self) -> None:
        token = mint_user_jwt(str(uuid.uuid4()), None, secret=SECRET, role="service_role")
        with pytest.raises(UnauthorizedError):
            verify_user_jwt(token, secret=SECRET)

    def test_missing_sub(self) -> None:
        token = pyjwt.encode({"exp": int(time.time()) + 60}, SECRET, algorithm="HS256")
        with pytest.raises(UnauthorizedError):
            verify_user_jwt(token, secret=SECRET)


class TestPagination:
    def test_defaults(self) -> None:
        assert parse_pagination(None) == Page(100, 0)

    @pytest.mark.parametrize("limit", ["1", "1000", "37"])
    def test_valid_limits(self, limit: str) -> None:
        assert parse_pagination({"limit": limit}).limit == int(limit)

    @pytest.mark.parametrize(
        "query", [{"limit": "0"}, {"limit": "1001"}, {"limit": "x"}, {"offset": "-1"}, {"offset": "1.5"}]
    )
    def test_invalid_is_400(self, query: dict[str, str]) -> None:
        with pytest.raises(ValidationError):
            parse_pagination(query)

    def test_block(self) -> None:
        assert Page(10, 0).block(25) == {"total": 25, "limit": 10, "offset": 0, "hasMore": True}
        assert Page(10, 20).block(25)["hasMore"] is False
        assert Page(10, 15).block(25)["hasMore"] is False


class _Body(CamelModel):
    interview_type: str
    candidate_email: str | None = None


class TestResolver:
    def _app(self):  # type: ignore[no-untyped-def]
        app = create_app()

        @app.post("/things")
        def create(body: _Body) -> Response[str]:
            return responses.ok(body.dump(), status=201)

        @app.get("/conflict")
        def conflict() -> Response[str]:
            raise ConflictError("already there", details={"id": 1})

        return app

    def _call(self, event: dict) -> tuple[int, dict]:  # type: ignore[type-arg]
        result = self._app().resolve(event, {})
        return result["statusCode"], json.loads(result["body"])

    def test_camel_and_snake_accepted(self) -> None:
        for body in ({"interviewType": "tech"}, {"interview_type": "tech"}):
            status, out = self._call(rest_event("POST", "/things", body=body))
            assert status == 201
            assert out == {"success": True, "data": {"interviewType": "tech", "candidateEmail": None}}

    def test_invalid_json(self) -> None:
        status, out = self._call(rest_event("POST", "/things", raw_body="{nope"))
        assert status == 400 and out["code"] == "INVALID_JSON" and out["success"] is False

    def test_field_errors_without_echoing_input(self) -> None:
        status, out = self._call(rest_event("POST", "/things", body={"candidateEmail": "secret@pii.example"}))
        assert status == 400 and out["code"] == "VALIDATION_ERROR"
        assert {"field": "interviewType", "message": "Field required"} in out["details"]
        assert "secret@pii.example" not in json.dumps(out)

    def test_unknown_field(self) -> None:
        status, out = self._call(rest_event("POST", "/things", body={"interviewType": "x", "bogus": 1}))
        assert status == 400 and out["details"][0]["field"] == "bogus"

    def test_app_error_envelope(self) -> None:
        status, out = self._call(rest_event("GET", "/conflict"))
        assert (status, out) == (
            409,
            {"success": False, "error": "already there", "code": "CONFLICT", "details": {"id": 1}},
        )

    def test_unknown_route(self) -> None:
        status, out = self._call(rest_event("GET", "/nowhere"))
        assert status == 404 and out["code"] == "NOT_FOUND"

    def test_validation_details_fields(self) -> None:
        assert validation_details([{"loc": ("body", "voice", "speed"), "msg": "bad"}]) == [
            {"field": "voice.speed", "message": "bad"}
        ]
        assert validation_details([{"loc": ("body",), "msg": "Field required"}])[0]["field"] == "body"


class TestCors:
    def test_preflight_and_response_headers(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("CORS_ALLOW_ORIGINS", "https://app.example.com,https://admin.example.com")
        app = create_app()

        @app.get("/things")
        def things() -> Response[str]:
            return responses.ok([])

        for origin in ("https://app.example.com", "https://admin.example.com"):
            result = app.resolve(rest_event("GET", "/things", headers={"origin": origin}), {})
            assert result["multiValueHeaders"]["Access-Control-Allow-Origin"] == [origin]
            assert "Retry-After" in result["multiValueHeaders"]["Access-Control-Expose-Headers"][0]
        other = app.resolve(rest_event("GET", "/things", headers={"origin": "https://evil.example"}), {})
        assert "Access-Control-Allow-Origin" not in other["multiValueHeaders"]
        preflight = app.resolve(
            rest_event("OPTIONS", "/things", headers={"origin": "https://app.example.com"}), {}
        )
        assert preflight["statusCode"] == 204
        assert "Authorization" in preflight["multiValueHeaders"]["Access-Control-Allow-Headers"][0]


def test_jwt_secret_read_from_secrets_manager_by_arn(
    aws_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """In AWS the secret is a Secrets Manager ARN, never a plain environment value."""
    import boto3

    from access_common import jwt as jwt_module

    sm = boto3.client("secretsmanager", endpoint_url=aws_env["AWS_ENDPOINT_URL"])
    arn = sm.create_secret(Name=f"jwt-{uuid.uuid4()}", SecretString=SECRET)["ARN"]
    monkeypatch.delenv("SUPABASE_JWT_SECRET", raising=False)
    monkeypatch.setenv("SUPABASE_JWT_SECRET_ARN", arn)
    jwt_module._secret_from_arn.cache_clear()
    uid = str(uuid.uuid4())
    assert verify_user_jwt(mint_user_jwt(uid, None, secret=SECRET))["sub"] == uid
    with pytest.raises(UnauthorizedError):
        verify_user_jwt(mint_user_jwt(uid, None, secret="x" * 40))


def test_camel_query_renames_snake_case_parameters() -> None:
    event = rest_event("GET", "/x", query={"org_id": "o", "sort_by": "created_at", "limit": "5", "_x_": "y"})
    event["multiValueQueryStringParameters"]["tag_name"] = ["a", "b"]
    assert camel_query(event) is None
    assert event["queryStringParameters"] == {
        "orgId": "o",
        "sortBy": "created_at",
        "limit": "5",
        "_x_": "y",
        "tagName": "b",
    }
    assert event["multiValueQueryStringParameters"]["tagName"] == ["a", "b"]
    assert event["multiValueQueryStringParameters"]["orgId"] == ["o"]


def test_camel_query_accepts_the_same_value_twice_and_refuses_two() -> None:
    same = rest_event("GET", "/x", query={"org_id": "o", "orgId": "o"})
    assert camel_query(same) is None and same["queryStringParameters"] == {"orgId": "o"}
    different = rest_event("GET", "/x", query={"org_id": "o", "orgId": "p"})
    refused = camel_query(different)
    assert refused is not None and refused["statusCode"] == 400
    assert json.loads(refused["body"])["error"] == "orgId given twice (org_id too) with different values"


def test_camel_query_leaves_events_without_snake_case_alone() -> None:
    event = rest_event("GET", "/x", query={"orgId": "o"})
    before = json.dumps(event, sort_keys=True)
    assert camel_query(event) is None and json.dumps(event, sort_keys=True) == before
    assert camel_query(rest_event("GET", "/x")) is None
