"""Resolver factory and Lambda entry wrapper shared by every REST Lambda.

Each ``lambda_function.py`` is three lines: build the resolver, include the routers from voice_common,
expose ``lambda_handler = handler(app)``. Error mapping, logging, tracing and metrics live here once.
"""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, CORSConfig, Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.logging import correlation_paths

from access_common import responses
from access_common.errors import AppError
from access_common.identity import Principal, principal_from_event
from access_common.tracing import get_tracer, tracing_enabled

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", "module-voice")
logger = Logger(service=SERVICE)
metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "ModuleVoice"), service=SERVICE)

LambdaHandler = Callable[[dict[str, Any], Any], dict[str, Any]]
__all__ = ["create_app", "get_tracer", "handler", "principal", "tracing_enabled"]


def __getattr__(name: str) -> Any:
    if name == "tracer":  # ``from access_common.app import tracer`` keeps working
        return get_tracer()
    raise AttributeError(name)


def _field(loc: tuple[Any, ...] | list[Any]) -> str:
    # ('body', 'interviewType') -> 'interviewType'; ('query', 'limit') -> 'limit'; ('body',) -> 'body';
    # items keep their index: ('body', 'configJson', 'questions', 1, 'id') -> 'configJson.questions[1].id'
    if len(loc) < 2:
        return str(loc[0]) if loc else "request"
    field = ""
    for part in loc[1:]:
        field += f"[{part}]" if isinstance(part, int) else (f".{part}" if field else str(part))
    return field


def validation_details(errors: list[dict[str, Any]]) -> list[dict[str, str]]:
    """Field-level messages without echoing input values (they may hold candidate PII or keys)."""
    return [{"field": _field(e.get("loc", ())), "message": str(e.get("msg", "invalid"))} for e in errors]


def cors_config() -> CORSConfig:
    """CORS for the web app: CORS_ALLOW_ORIGINS is a comma-separated list (first one is the default)."""
    origins = [o.strip() for o in os.environ.get("CORS_ALLOW_ORIGINS", "*").split(",") if o.strip()] or ["*"]
    return CORSConfig(
        allow_origin=origins[0],
        extra_origins=origins[1:] or None,
        allow_headers=["Authorization", "Content-Type", "Idempotency-Key"],
        # Rate-limited answers (429) tell the web app when to retry; the browser hides unexposed headers.
        expose_headers=["Retry-After", "x-amzn-RequestId"],
        max_age=600,
    )


def create_app() -> APIGatewayRestResolver:
    """An APIGatewayRestResolver with pydantic validation, CORS and the CORA error envelope."""
    app = APIGatewayRestResolver(enable_validation=True, cors=cors_config())

    @app.exception_handler(AppError)
    def _app_error(err: AppError) -> Response[str]:
        if err.status >= 500:
            logger.warning("request failed", extra={"code": err.code, "status": err.status})
        return responses.error(err)

    @app.exception_handler(RequestValidationError)
    def _validation(err: RequestValidationError) -> Response[str]:
        errors = list(err.errors())
        if any(e.get("type") == "json_invalid" for e in errors):
            return responses.error_response(400, "Request body is not valid JSON", "INVALID_JSON")
        details = validation_details(errors)
        summary = "; ".join(f"{d['field']}: {d['message']}" for d in details[:5])
        return responses.error_response(400, f"Invalid request: {summary}", "VALIDATION_ERROR", details)

    @app.not_found
    def _not_found(_: Exception) -> Response[str]:
        return responses.error_response(404, "Route not found", "NOT_FOUND")

    return app


def principal(app: APIGatewayRestResolver | Router) -> Principal:
    """The caller of the current request (401 when the authorizer context is missing)."""
    return principal_from_event(app.current_event.raw_event)


def unreadable_body(event: dict[str, Any]) -> dict[str, Any] | None:
    """The CORA error answer for a body the API cannot read, before the resolver sees it.

    415 ``UNSUPPORTED_MEDIA_TYPE`` for a body that is not JSON (Powertools' validation would raise a bare
    ValueError for multipart without a boundary, a 5xx, and answer other types outside the envelope);
    400 ``INVALID_JSON`` for a base64 body that is not UTF-8 text (Powertools raises UnicodeDecodeError).
    """
    raw = event.get("body")
    if not raw:
        return None
    headers = {str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items()}
    media_type = headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type and media_type != "application/json":
        status, message, code = (
            415,
            "Request body must be JSON (Content-Type: application/json)",
            "UNSUPPORTED_MEDIA_TYPE",
        )
    elif event.get("isBase64Encoded"):
        try:
            base64.b64decode(str(raw), validate=True).decode("utf-8")
            return None
        except (binascii.Error, UnicodeDecodeError):
            status, message, code = 400, "Request body is not valid JSON", "INVALID_JSON"
    else:
        return None
    return _error_result(status, message, code)


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def camel_query(event: dict[str, Any]) -> dict[str, Any] | None:
    """Rename snake_case query parameters to the camelCase names the routes declare, in place.

    The API is camelCase but accepts snake_case on input (``org_id``, ``sort_by``): renaming once here
    keeps every route's signature (and the OpenAPI document) to one name per parameter. A parameter given
    both ways with different values is ambiguous and answered 400 rather than silently picking one.
    """
    single: dict[str, Any] = dict(event.get("queryStringParameters") or {})
    multi: dict[str, list[Any]] = dict(event.get("multiValueQueryStringParameters") or {})
    snake = [k for k in {*single, *multi} if "_" in k.strip("_")]
    for key in snake:
        camel = _camel(key)
        values = multi.pop(key, None) or [single[key]]
        value = single.pop(key, values[-1])
        if camel in single or camel in multi:
            if (multi.get(camel) or [single.get(camel)]) != values:
                message = f"{camel} given twice ({key} too) with different values"
                return _error_result(400, message, "VALIDATION_ERROR")
            continue
        single[camel], multi[camel] = value, values
    if snake:
        event["queryStringParameters"] = single or None
        event["multiValueQueryStringParameters"] = multi or None
    return None


def _error_result(status: int, message: str, code: str) -> dict[str, Any]:
    return {
        "statusCode": status,
        "multiValueHeaders": {k: [v] for k, v in responses.JSON_HEADERS.items()},
        "body": responses.to_json(responses.error_body(message, code)),
        "isBase64Encoded": False,
    }


def handler(app: APIGatewayRestResolver) -> LambdaHandler:
    """The Lambda entry point for a resolver: correlation id, tracing, EMF metrics."""

    @metrics.log_metrics
    def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return unreadable_body(event) or camel_query(event) or app.resolve(event, context)

    if tracing_enabled():
        lambda_handler = get_tracer().capture_lambda_handler(capture_response=False)(lambda_handler)
    traced: LambdaHandler = logger.inject_lambda_context(
        correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True
    )(lambda_handler)
    return traced
