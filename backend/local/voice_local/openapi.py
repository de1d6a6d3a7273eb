"""``docs/openapi.json``: the OpenAPI 3.1 document of every REST route, generated from the handlers.

``python -m voice_local.openapi`` (``make openapi``) writes it; ``--check`` exits 1 when the file is stale.

How it is built:

1. every ``"type": "rest"`` Lambda of ``module.json`` is loaded as AWS loads it and its Powertools resolver
   (``APIGatewayRestResolver(enable_validation=True)``) describes paths, parameters and request bodies
   (``app.get_openapi_json_schema()``) from the route signatures and their pydantic models;
2. the Lambdas' documents are merged (a route or a component defined twice differently is an error);
3. responses come from :data:`ROUTE_DOCS` below, because handlers return ready-made ``Response`` objects:
   the CORA success envelope around the route's data model (``{"success": true, "data": ...}``, plus
   ``pagination`` on lists) and the error envelope for each error status the route can answer;
4. security from module.json: user routes need the bearer JWT (the API Gateway authorizer), the voice-bot
   routes the per-session bot token, ``GET /health`` nothing.

A route added to module.json and a handler but not to :data:`ROUTE_DOCS` still gets a generic entry,
marked ``x-undocumented``; ``tests/contract/test_openapi.py`` fails until it is described here.
Powertools' own 422 ``HTTPValidationError`` is replaced: invalid input is a 400 ``VALIDATION_ERROR``
envelope here (``access_common.app``).
"""

from __future__ import annotations

import argparse
import inspect
import json
import re
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, cast

from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import models_json_schema

from voice_local.lambdas import REPO_ROOT, load_lambda

OPENAPI_PATH = REPO_ROOT / "docs" / "openapi.json"
REF_PREFIX = "#/components/schemas/"
METHOD_ORDER = ("get", "post", "put", "patch", "delete")
# Powertools' components for its own 422 answer; never used by this API (400 VALIDATION_ERROR instead).
POWERTOOLS_INTERNAL = ("HTTPValidationError", "ValidationError", "ResponseValidationError")

USER_SECURITY = "userJwt"
BOT_SECURITY = "botToken"


# --- documentation-only models (shapes the handlers build as plain dicts) ------------------------------


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class Deleted(BaseModel):
    """A deleted resource."""

    id: str
    deleted: bool


class KbLinkDeleted(BaseModel):
    """An unlinked knowledge base."""

    sessionId: str
    kbId: str
    deleted: bool


class Health(BaseModel):
    """Per-dependency probes; ``status`` is ``degraded`` (HTTP 503) when one of them fails."""

    module: str
    status: Literal["healthy", "degraded"]
    checks: dict[str, str] = Field(description='"ok" or "error: <code>" per dependency')
    version: str
    timestamp: str


class BotCallbackResult(BaseModel):
    """The session after a bot callback; ``changed`` is false for a retried call."""

    sessionId: str
    status: str
    changed: bool


class JoinedIn(_Open):
    """``joined``: the candidate joined the room (the body is informational)."""

    participantId: str | None = None


class HeartbeatIn(_Open):
    """``heartbeat``: the first one claims the session (pool hand-over); then every 15 s with progress."""

    phase: str | None = None
    questionIndex: int | None = None
    questionsAsked: int | None = None
    questionsTotal: int | None = None
    segments: int | None = None


class CompletedIn(_Open):
    """``completed``: the interview ended normally (the body is informational)."""

    reason: str | None = Field(None, description='"completed", "time_limit" or "candidate_left"')
    segments: int | None = None
    lastSeq: int | None = None


# --- what each route answers ---------------------------------------------------------------------------

ERROR_TEXT: dict[int, str] = {
    400: "Invalid input: `VALIDATION_ERROR` (with field `details`), `INVALID_JSON`, `BAD_REQUEST`",
    401: "No valid identity: `UNAUTHORIZED` (the API Gateway authorizer answers it before the Lambda)",
    403: "The caller may not do this",
    404: "Not found, or not visible to the caller",
    409: "Conflicts with the resource's state",
    415: "`UNSUPPORTED_MEDIA_TYPE`: the body is not JSON (send `Content-Type: application/json`)",
    422: "Understood but cannot be processed",
    424: "A provider credential is missing or rejected",
    429: "Too many requests",
    502: "An upstream service failed",
    503: "A dependency (the database, ECS capacity) is unavailable; retry later",
}
BOT_401 = (
    "`BOT_TOKEN_REQUIRED`, `BOT_TOKEN_INVALID`, `BOT_TOKEN_EXPIRED`: no valid bot token "
    "(users' JWTs are not accepted)"
)
ORG_404 = "`ORG_NOT_FOUND`: `orgId` is unknown, or the caller is not a member of it"
DB_503 = "`DB_UNAVAILABLE`: the database is unavailable; retry"


@dataclass(frozen=True)
class RouteDoc:
    """The responses of one route: success status and data schema, and each error status with when."""

    status: int
    data: Any  # a pydantic model, a list of models (anyOf) or a JSON schema dict
    errors: Mapping[int, str]
    paginated: bool = False
    description: str = ""  # of the success response
    body: Any = None  # request body the handler parses itself (not in its signature)
    body_required: bool = False
    summary: str | None = None  # when the route has neither summary= nor a docstring
    extra: dict[str, Any] = field(default_factory=dict)


def _models() -> dict[str, Any]:
    """The layers' response models (imported lazily: the layers need the Lambda environment)."""
    from voice_common.api.analytics import Analytics, AnalyticsPending, OrgStats, RegenerateAccepted
    from voice_common.api.bot import FailedIn
    from voice_common.api.credentials import CredentialDeleted, CredentialOut, KeyValidation
    from voice_common.api.transcripts import Transcript, TranscriptDeleted, TranscriptSummary
    from voice_common.configs import Config, ConfigSummary
    from voice_common.orchestration import StartResult
    from voice_common.org_settings import OrgSettings
    from voice_common.preview import PreviewResult
    from voice_common.sessions import KbLink, Session, SessionSummary

    models: list[type[BaseModel]] = [
        Analytics, AnalyticsPending, OrgStats, RegenerateAccepted, FailedIn, CredentialDeleted, CredentialOut,
        KeyValidation, Transcript, TranscriptDeleted, TranscriptSummary, Config, ConfigSummary, StartResult,
        PreviewResult, KbLink, Session, SessionSummary, OrgSettings,
    ]  # fmt: skip
    return {model.__name__: model for model in models}


def route_docs() -> dict[str, RouteDoc]:
    """``"METHOD /path"`` -> its responses. Error texts name the codes a client can act on."""
    m = _models()
    s, c, t, cr = (
        "/api/voice/sessions",
        "/api/voice/configs",
        "/api/voice/transcripts",
        "/api/voice/credentials",
    )
    bot = "/api/voice/bot/sessions/{id}"
    session_404 = "`SESSION_NOT_FOUND`: no such session in an org of the caller"
    manage_403 = "`SESSION_MANAGE_DENIED`: only the session's creator or an org admin may change it"
    admin_403 = "`ORG_ADMIN_REQUIRED`: org admins and owners only"
    cred_403 = (
        "`FORBIDDEN`/`ORG_ADMIN_REQUIRED`/`PLATFORM_ADMIN_REQUIRED`: the caller is not an admin of the "
        "credential's scope (its org, or the platform for platform defaults)"
    )
    bot_409 = (
        "`BOT_SUPERSEDED` (another bot holds the session), `SESSION_ENDED` (the session is final: leave), "
        "`SESSION_NOT_READY` / `SESSION_NOT_ACTIVE` (the transition is not possible now)"
    )
    bot_errors = {
        400: "Invalid JSON body",
        401: BOT_401,
        403: "`BOT_TOKEN_WRONG_SESSION`: the token was issued for another session",
        404: session_404,
        409: bot_409,
        503: DB_503,
    }
    return {
        "GET /api/voice/health": RouteDoc(
            200,
            Health,
            {503: "Degraded: a dependency failed (the body is a success envelope with the checks)"},
            summary="Health of the deployment (no authorizer)",
            description="Every dependency answered",
            extra={"503": Health},
        ),
        # sessions
        f"GET {s}": RouteDoc(
            200,
            m["SessionSummary"],
            {400: ERROR_TEXT[400], 401: ERROR_TEXT[401], 404: ORG_404, 503: DB_503},
            paginated=True,
            description="The org's sessions (newest first unless sorted otherwise)",
        ),
        f"POST {s}": RouteDoc(
            201,
            m["Session"],
            {
                400: ERROR_TEXT[400],
                401: ERROR_TEXT[401],
                404: ORG_404
                + "; `CONFIG_NOT_FOUND` / `WORKSPACE_NOT_FOUND`: a referenced row is not in the org",
                409: "`CONFIG_INACTIVE`: the configuration is deactivated",
                503: DB_503,
            },
            description="The created session (status pending)",
        ),
        f"GET {s}/{{id}}": RouteDoc(
            200, m["Session"], {400: ERROR_TEXT[400], 401: ERROR_TEXT[401], 404: session_404, 503: DB_503}
        ),
        f"PUT {s}/{{id}}": RouteDoc(
            200,
            m["Session"],
            {
                400: ERROR_TEXT[400],
                401: ERROR_TEXT[401],
                403: manage_403,
                404: session_404 + "; `CONFIG_NOT_FOUND` / `WORKSPACE_NOT_FOUND`",
                409: "`INVALID_STATUS_TRANSITION`, `SESSION_NOT_PENDING` (details change only while "
                "pending), `CONFIG_INACTIVE`, `CONCURRENT_UPDATE`",
                422: "`STATUS_NOT_SETTABLE`: a status only the system sets (ready, active, completed)",
                503: DB_503,
            },
            description="The updated session",
        ),
        f"DELETE {s}/{{id}}": RouteDoc(
            200,
            Deleted,
            {
                400: ERROR_TEXT[400],
                401: ERROR_TEXT[401],
                403: manage_403,
                404: session_404,
                409: "`SESSION_ACTIVE`: an interview in progress cannot be deleted; cancel it first",
                503: DB_503,
            },
        ),
        f"GET {s}/{{id}}/kbs": RouteDoc(
            200,
            m["KbLink"],
            {400: ERROR_TEXT[400], 401: ERROR_TEXT[401], 404: session_404, 503: DB_503},
            paginated=True,
        ),
        f"POST {s}/{{id}}/kbs": RouteDoc(
            201,
            m["KbLink"],
            {
                400: ERROR_TEXT[400],
                401: ERROR_TEXT[401],
                403: manage_403,
                404: session_404 + "; `KB_NOT_FOUND`: no such knowledge base in the session's org",
                409: "`KB_ALREADY_LINKED`; `SESSION_NOT_PENDING`: links change only before the interview",
                503: DB_503,
            },
        ),
        f"PUT {s}/{{id}}/kbs/{{kbId}}": RouteDoc(
            200,
            m["KbLink"],
            {
                400: ERROR_TEXT[400],
                401: ERROR_TEXT[401],
                403: manage_403,
                404: session_404 + "; `KB_LINK_NOT_FOUND`",
                409: "`SESSION_NOT_PENDING`: links change only before the interview",
                503: DB_503,
            },
        ),
        f"DELETE {s}/{{id}}/kbs/{{kbId}}": RouteDoc(
            200,
            KbLinkDeleted,
            {
                400: ERROR_TEXT[400],
                401: ERROR_TEXT[401],
                403: manage_403,
                404: session_404 + "; `KB_LINK_NOT_FOUND`",
                409: "`SESSION_NOT_PENDING`: links change only before the interview",
                503: DB_503,
            },
        ),
        f"POST {s}/{{id}}/start": RouteDoc(
            200,
            m["StartResult"],
            {
                400: ERROR_TEXT[400],
                401: ERROR_TEXT[401],
                404: session_404,
                409: "`SESSION_NOT_STARTABLE`: the session is final; only a pending session starts",
                429: "`CONCURRENT_SESSION_LIMIT`: the org has the maximum of ready/active interviews",
                502: "`DAILY_UNAVAILABLE` (and other `DAILY_*`), `DISPATCH_FAILED`, `BOT_PAYLOAD_TOO_LARGE`: "
                "Daily or the bot dispatch failed; the session stays pending",
                503: "`BOT_CAPACITY_UNAVAILABLE` (no ECS capacity now), `DAILY_NOT_CONFIGURED`, "
                "`DB_UNAVAILABLE`; retry later",
            },
            description="The room, the candidate's token and how the bot was dispatched (idempotent: a "
            "started session answers the same room with `alreadyStarted: true`)",
        ),
        # configs
        f"GET {c}": RouteDoc(
            200,
            m["ConfigSummary"],
            {400: ERROR_TEXT[400], 401: ERROR_TEXT[401], 404: ORG_404, 503: DB_503},
            paginated=True,
            description="The org's configurations, newest first, without `configJson`",
        ),
        f"POST {c}": RouteDoc(
            201,
            m["Config"],
            {
                400: ERROR_TEXT[400],
                401: ERROR_TEXT[401],
                403: admin_403,
                404: ORG_404,
                409: "`CONFIG_NAME_EXISTS`: the org already has a configuration of that name",
                503: DB_503,
            },
        ),
        "GET /api/voice/settings": RouteDoc(
            200,
            m["OrgSettings"],
            {400: ERROR_TEXT[400], 401: ERROR_TEXT[401], 404: ORG_404, 503: DB_503},
            description="The org's own values (null: the module default), what applies, and the defaults",
        ),
        "PUT /api/voice/settings": RouteDoc(
            200,
            m["OrgSettings"],
            {400: ERROR_TEXT[400], 401: ERROR_TEXT[401], 403: admin_403, 404: ORG_404, 503: DB_503},
            description="The settings after the change",
        ),
        f"GET {c}/{{id}}": RouteDoc(
            200,
            m["Config"],
            {
                400: ERROR_TEXT[400],
                401: ERROR_TEXT[401],
                404: "`CONFIG_NOT_FOUND`: no such configuration in an org of the caller",
                503: DB_503,
            },
        ),
        f"PUT {c}/{{id}}": RouteDoc(
            200,
            m["Config"],
            {
                400: ERROR_TEXT[400],
                401: ERROR_TEXT[401],
                403: admin_403,
                404: "`CONFIG_NOT_FOUND`",
                409: "`CONFIG_NAME_EXISTS`",
                503: DB_503,
            },
            description="The updated configuration (`version` incremented)",
        ),
        f"DELETE {c}/{{id}}": RouteDoc(
            200,
            Deleted,
            {
                400: ERROR_TEXT[400],
                401: ERROR_TEXT[401],
                403: admin_403,
                404: "`CONFIG_NOT_FOUND`",
                409: "`CONFIG_IN_USE`: unfinished sessions use it (deactivate it instead)",
                503: DB_503,
            },
        ),
        # credentials
        f"GET {cr}": RouteDoc(
            200,
            m["CredentialOut"],
            {
                400: ERROR_TEXT[400],
                401: ERROR_TEXT[401],
                403: cred_403,
                404: ORG_404,
                503: DB_503,
            },
            paginated=True,
        ),
        f"POST {cr}": RouteDoc(
            201,
            m["CredentialOut"],
            {
                400: ERROR_TEXT[400],
                401: ERROR_TEXT[401],
                403: cred_403,
                404: ORG_404,
                409: "`CONFLICT`: the credential changed concurrently; retry",
                503: "`SECRETS_UNAVAILABLE`: Secrets Manager failed; or " + DB_503,
            },
            description="The created or replaced credential (200 when it replaced one); never the key",
            extra={"200": m["CredentialOut"]},
        ),
        f"GET {cr}/{{id}}": RouteDoc(
            200,
            m["CredentialOut"],
            {
                400: ERROR_TEXT[400],
                401: ERROR_TEXT[401],
                403: cred_403,
                404: "`CREDENTIAL_NOT_FOUND`",
                503: DB_503,
            },
        ),
        f"DELETE {cr}/{{id}}": RouteDoc(
            200,
            m["CredentialDeleted"],
            {
                400: ERROR_TEXT[400],
                401: ERROR_TEXT[401],
                403: cred_403,
                404: "`CREDENTIAL_NOT_FOUND`",
                503: "`SECRETS_UNAVAILABLE` or " + DB_503,
            },
        ),
        f"POST {cr}/{{id}}/validate": RouteDoc(
            200,
            m["KeyValidation"],
            {
                400: ERROR_TEXT[400],
                401: ERROR_TEXT[401],
                403: cred_403,
                404: "`CREDENTIAL_NOT_FOUND`",
                409: "`CREDENTIAL_SECRET_MISSING` (save the key again), "
                "`CREDENTIAL_CHANGED` (validate again)",
                502: "`PROVIDER_UNREACHABLE`, `PROVIDER_ERROR`, `PROVIDER_RATE_LIMITED`: no verdict from the "
                "provider",
                503: "`SECRETS_UNAVAILABLE` or " + DB_503,
            },
            description="Whether the provider accepts the key (`valid: false` with a reason when not)",
        ),
        # transcripts
        f"GET {t}": RouteDoc(
            200,
            m["TranscriptSummary"],
            {400: ERROR_TEXT[400], 401: ERROR_TEXT[401], 404: ORG_404, 503: DB_503},
            paginated=True,
            description="The org's transcripts, newest first, without text and segments",
        ),
        f"GET {t}/{{id}}": RouteDoc(
            200,
            m["Transcript"],
            {400: ERROR_TEXT[400], 401: ERROR_TEXT[401], 404: "`TRANSCRIPT_NOT_FOUND`", 503: DB_503},
        ),
        f"DELETE {t}/{{id}}": RouteDoc(
            200,
            m["TranscriptDeleted"],
            {
                400: ERROR_TEXT[400],
                401: ERROR_TEXT[401],
                403: admin_403,
                404: "`TRANSCRIPT_NOT_FOUND`",
                503: DB_503,
            },
        ),
        # analytics
        "GET /api/voice/analytics/{sessionId}": RouteDoc(
            200,
            [m["Analytics"], m["AnalyticsPending"]],
            {400: ERROR_TEXT[400], 401: ERROR_TEXT[401], 404: session_404, 503: DB_503},
            description="The analytics, or only their status (`not_started`, `pending`, ...) before a result",
        ),
        "POST /api/voice/analytics/{sessionId}/regenerate": RouteDoc(
            202,
            m["RegenerateAccepted"],
            {
                400: ERROR_TEXT[400],
                401: ERROR_TEXT[401],
                403: admin_403,
                404: session_404,
                409: "`SESSION_NOT_FINISHED`: only a finished session has a transcript to analyse; "
                "`ANALYTICS_RUNNING`: the analysis is running, regenerate once it has finished",
                503: "`WORKER_QUEUE_NOT_CONFIGURED` or " + DB_503,
            },
            description="The job was queued; GET shows the result when it is done",
        ),
        "GET /api/voice/stats": RouteDoc(
            200,
            m["OrgStats"],
            {400: ERROR_TEXT[400], 401: ERROR_TEXT[401], 404: ORG_404, 503: DB_503},
        ),
        # voice preview
        "POST /api/voice/preview": RouteDoc(
            200,
            m["PreviewResult"],
            {
                400: ERROR_TEXT[400] + "; `UNKNOWN_VOICE`, `VOICE_ID_REQUIRED`, `INVALID_MODEL`, "
                "`UNSUPPORTED_PROVIDER`, `UNSUPPORTED_VOICE`: the voice cannot be previewed",
                401: ERROR_TEXT[401],
                404: ORG_404 + "; `CONFIG_NOT_FOUND`: no such configuration in an org of the caller",
                422: "`CONFIG_VOICE_INVALID` and the voice codes above, for a saved configuration's voice; "
                "`TEXT_NOT_SPEAKABLE`",
                424: "`TTS_CREDENTIAL_MISSING` / `TTS_CREDENTIAL_REJECTED`: an org admin must fix the "
                "provider key; retrying will not help",
                429: "`PREVIEW_RATE_LIMITED` (ours or the provider's), with a `Retry-After` header (seconds)",
                502: "The TTS provider failed",
                503: "`PREVIEW_BUSY`, `PREVIEW_UNAVAILABLE`, `PREVIEW_NOT_CONFIGURED`, "
                "`PIPER_NOT_INSTALLED`, or " + DB_503,
            },
            description="The preview WAV: a presigned `audioUrl` (or `audioBase64`), cached by voice and "
            "text",
        ),
        # bot callbacks
        f"POST {bot}/joined": RouteDoc(
            200, BotCallbackResult, bot_errors, body=JoinedIn, summary="The bot joined: ready -> active"
        ),
        f"POST {bot}/heartbeat": RouteDoc(
            200,
            BotCallbackResult,
            bot_errors,
            body=HeartbeatIn,
            summary="The bot is alive (the first heartbeat claims the session)",
        ),
        f"POST {bot}/completed": RouteDoc(
            200,
            BotCallbackResult,
            bot_errors,
            body=CompletedIn,
            summary="The interview ended normally: active -> completed",
        ),
        f"POST {bot}/failed": RouteDoc(
            200,
            BotCallbackResult,
            bot_errors,
            body=m["FailedIn"],
            body_required=True,
            summary="The bot cannot go on: -> failed, with the reason",
        ),
    }


# --- building ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HandlerRoute:
    lambda_name: str
    method: str
    path: str
    auth: str  # "user" | "bot-token" | "none"
    func: Any
    summary: str | None
    description: str | None


def rest_lambdas() -> list[dict[str, Any]]:
    from voice_local.routes import module_manifest

    return [spec for spec in module_manifest()["lambdas"] if spec.get("type") == "rest"]


def _app_of(name: str) -> Any:
    load_lambda(name)
    safe = re.sub(r"\W", "_", name)
    module = sys.modules[f"lambda_function__{safe}"]
    return module.app


def handler_routes(app: Any, lambda_name: str) -> list[HandlerRoute]:
    from voice_local.routes import find_route

    found: list[HandlerRoute] = []
    for route in [*app._static_routes, *app._dynamic_routes]:
        if not route.include_in_schema:
            continue
        declared = find_route(route.method, route.openapi_path)
        auth = declared.auth if declared is not None else "user"
        found.append(
            HandlerRoute(
                lambda_name,
                route.method,
                route.openapi_path,
                auth,
                route.func,
                route.summary,
                route.description,
            )
        )
    return found


def _first_sentence(text: str) -> str:
    line = text.strip().split("\n\n")[0].replace("\n", " ")
    cut = re.search(r"(?<=[.:;])\s", line)
    sentence = line[: cut.start()] if cut else line
    return sentence.rstrip(".:; ").replace("``", "`")


def _walk_refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from _walk_refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _walk_refs(item)


def _rename_refs(node: Any, renames: Mapping[str, str]) -> Any:
    if isinstance(node, dict):
        return {
            k: (
                REF_PREFIX + renames.get(v.removeprefix(REF_PREFIX), v.removeprefix(REF_PREFIX))
                if k == "$ref" and isinstance(v, str) and v.startswith(REF_PREFIX)
                else _rename_refs(v, renames)
            )
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_rename_refs(v, renames) for v in node]
    return node


def _model_list(data: Any) -> list[type[BaseModel]]:
    if isinstance(data, list):
        return [d for d in data if isinstance(d, type) and issubclass(d, BaseModel)]
    if isinstance(data, type) and issubclass(data, BaseModel):
        return [data]
    return []


class _Components:
    """Component schemas merged from several sources; a name defined twice must mean the same schema."""

    def __init__(self) -> None:
        self.schemas: dict[str, Any] = {}
        self._refs: dict[type[BaseModel], str] = {}

    def add(self, name: str, schema: Any, source: str) -> None:
        if name in self.schemas and self.schemas[name] != schema:
            raise ValueError(f"component {name!r} from {source} differs from an earlier definition")
        self.schemas[name] = schema

    def add_models(self, models: list[type[BaseModel]], mode: Literal["validation", "serialization"]) -> None:
        """Add pydantic models; a name already taken by a different schema gets an ``Out``/``In`` suffix."""
        if not models:
            return
        keys, top = models_json_schema(
            [(model, mode) for model in models], ref_template=REF_PREFIX + "{model}", by_alias=True
        )
        defs: dict[str, Any] = top.get("$defs", {})
        suffix = "Out" if mode == "serialization" else "In"
        renames = {n: f"{n}{suffix}" for n, s in defs.items() if n in self.schemas and self.schemas[n] != s}
        for name, schema in defs.items():
            self.add(renames.get(name, name), _rename_refs(schema, renames), f"model {name}")
        for (model, _), ref in keys.items():
            name = ref["$ref"].removeprefix(REF_PREFIX)
            self._refs[cast(type[BaseModel], model)] = REF_PREFIX + renames.get(name, name)

    def ref(self, model: type[BaseModel]) -> dict[str, str]:
        return {"$ref": self._refs[model]}


def _error_response(text: str) -> dict[str, Any]:
    return {
        "description": text,
        "content": {"application/json": {"schema": {"$ref": REF_PREFIX + "ErrorEnvelope"}}},
    }


def _data_schema(data: Any, refs: Mapping[type[BaseModel], dict[str, str]]) -> Any:
    if isinstance(data, list):
        return {"anyOf": [refs[d] for d in data]}
    if isinstance(data, type) and issubclass(data, BaseModel):
        return refs[data]
    return data


def _success(doc: RouteDoc, data: Any, refs: Mapping[type[BaseModel], dict[str, str]], text: str) -> Any:
    body: dict[str, Any] = {
        "type": "object",
        "required": ["success", "data"],
        "properties": {"success": {"const": True}, "data": _data_schema(data, refs)},
    }
    if doc.paginated:
        body["required"].append("pagination")
        body["properties"]["data"] = {"type": "array", "items": _data_schema(data, refs)}
        body["properties"]["pagination"] = {"$ref": REF_PREFIX + "Pagination"}
    return {"description": text, "content": {"application/json": {"schema": body}}}


def _common_components() -> dict[str, Any]:
    return {
        "ErrorEnvelope": {
            "title": "ErrorEnvelope",
            "description": "Every error: a message for people, a machine code, optional details.",
            "type": "object",
            "required": ["success", "error", "code"],
            "properties": {
                "success": {"const": False},
                "error": {"type": "string", "description": "What went wrong, for people"},
                "code": {"type": "string", "description": "Machine code, e.g. VALIDATION_ERROR"},
                "details": {"description": "Field errors ([{field, message}]) or context"},
            },
            "additionalProperties": False,
        },
        "Pagination": {
            "title": "Pagination",
            "type": "object",
            "required": ["total", "limit", "offset", "hasMore"],
            "properties": {
                "total": {"type": "integer", "minimum": 0},
                "limit": {"type": "integer", "minimum": 1},
                "offset": {"type": "integer", "minimum": 0},
                "hasMore": {"type": "boolean"},
            },
            "additionalProperties": False,
        },
    }


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p[:1].upper() + p[1:] for p in rest)


def build_document() -> dict[str, Any]:
    """The whole OpenAPI 3.1 document (a dict ready for ``json.dumps``)."""
    from voice_local.routes import module_manifest

    manifest = module_manifest()
    docs = route_docs()
    components = _Components()
    for name, schema in _common_components().items():
        components.add(name, schema, "common")

    operations: dict[tuple[str, str], tuple[HandlerRoute, dict[str, Any]]] = {}
    for spec in rest_lambdas():
        name = spec["name"]
        app = _app_of(name)
        generated = json.loads(app.get_openapi_json_schema(openapi_version="3.1.0"))
        for comp, schema in generated.get("components", {}).get("schemas", {}).items():
            if comp not in POWERTOOLS_INTERNAL:
                components.add(comp, schema, name)
        by_key = {(r.method.lower(), r.path): r for r in handler_routes(app, name)}
        for path, ops in generated.get("paths", {}).items():
            for method, op in ops.items():
                route = by_key[(method, path)]
                if (method, path) in operations:
                    raise ValueError(f"{method.upper()} {path} is served by two Lambdas")
                operations[(method, path)] = (route, op)

    declared = {(r["method"].lower(), r["path"]) for spec in rest_lambdas() for r in spec["routes"]}
    missing = declared - set(operations)
    if missing:
        raise ValueError(f"module.json routes without a handler: {sorted(missing)}")

    response_models: list[type[BaseModel]] = []
    body_models: list[type[BaseModel]] = []
    for entry in docs.values():
        response_models += _model_list(entry.data) + [x for v in entry.extra.values() for x in _model_list(v)]
        body_models += _model_list(entry.body)
    components.add_models(list(dict.fromkeys(body_models)), "validation")
    body_refs = {m: components.ref(m) for m in dict.fromkeys(body_models)}
    components.add_models(list(dict.fromkeys(response_models)), "serialization")
    refs = {m: components.ref(m) for m in dict.fromkeys(response_models)}

    paths: dict[str, dict[str, Any]] = {}
    for (method, path), (route, op) in sorted(
        operations.items(), key=lambda kv: (kv[0][1], METHOD_ORDER.index(kv[0][0]))
    ):
        key = f"{method.upper()} {path}"
        doc = docs.get(key)
        out: dict[str, Any] = {"tags": [route.lambda_name]}
        doc_text = inspect.getdoc(route.func) or ""
        summary = route.summary or (_first_sentence(doc_text) if doc_text else None)
        summary = summary or (doc.summary if doc else None) or key
        if doc is not None and doc.summary and not route.summary:
            summary = doc.summary
        out["summary"] = summary
        description = route.description or doc_text.replace("``", "`")
        if description and description != summary:
            out["description"] = description
        out["operationId"] = _camel(route.func.__name__)
        if op.get("parameters"):
            out["parameters"] = op["parameters"]
        if "requestBody" in op:
            out["requestBody"] = op["requestBody"]
        elif doc is not None and doc.body is not None:
            out["requestBody"] = {
                "required": doc.body_required,
                "content": {"application/json": {"schema": body_refs[doc.body]}},
            }
        responses: dict[str, Any] = {}
        if doc is None:
            out["x-undocumented"] = True
            generic = {
                "description": "Success",
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "required": ["success"],
                            "properties": {"success": {"const": True}},
                        }
                    }
                },
            }
            responses["200"] = generic
            responses["201"] = generic
            errors: Mapping[int, str] = {s: ERROR_TEXT[s] for s in (400, 401, 403, 404, 409, 503)}
        else:
            responses[str(doc.status)] = _success(doc, doc.data, refs, doc.description or "Success")
            for extra_status, data in doc.extra.items():
                text = "Success" if extra_status.startswith("2") else ERROR_TEXT.get(int(extra_status), "")
                responses[extra_status] = _success(doc, data, refs, text)
            errors = doc.errors
        if "requestBody" in out:  # access_common.app answers any non-JSON body with 415
            errors = {**errors, 415: ERROR_TEXT[415]}
        for status in sorted(errors):
            if str(status) not in responses:
                responses[str(status)] = _error_response(errors[status])
        out["responses"] = dict(sorted(responses.items()))
        if route.auth == "user":
            out["security"] = [{USER_SECURITY: []}]
        elif route.auth == "bot-token":
            out["security"] = [{BOT_SECURITY: []}]
        else:
            out["security"] = []
        out["x-lambda"] = route.lambda_name
        paths.setdefault(path, {})[method] = out

    schemas = dict(sorted(components.schemas.items()))
    used = {ref.removeprefix(REF_PREFIX) for ref in _walk_refs(paths)}
    # Transitively referenced components only (drops Powertools' internals and unused definitions).
    pending = list(used)
    while pending:
        for ref in _walk_refs(schemas.get(pending.pop(), {})):
            name = ref.removeprefix(REF_PREFIX)
            if name not in used:
                used.add(name)
                pending.append(name)
    dangling = used - set(schemas)
    if dangling:
        raise ValueError(f"references to undefined components: {sorted(dangling)}")
    schemas = {k: v for k, v in schemas.items() if k in used}

    return {
        "openapi": "3.1.0",
        "info": {
            "title": "module-voice REST API",
            "version": str(manifest.get("version", "0.0.0")),
            "description": _INFO,
        },
        "servers": [
            {"url": "http://127.0.0.1:8080", "description": "the local stack (make dev)"},
            {
                "url": "https://{apiDomain}",
                "description": "API Gateway",
                "variables": {"apiDomain": {"default": "api.example.com"}},
            },
        ],
        "tags": [
            {"name": spec["name"], "description": spec.get("description", "")} for spec in rest_lambdas()
        ],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                USER_SECURITY: {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "JWT",
                    "description": "The user's Supabase JWT (HS256: sub, role, exp, email), verified by the "
                    "API Gateway authorizer, which passes the identity to the Lambda",
                },
                BOT_SECURITY: {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "vbt1.<sessionId>.<exp>.<hmac>",
                    "description": "The per-session bot token handed to the bot in its dispatch payload; "
                    "valid only for that session's bot routes",
                },
            },
        },
    }


_INFO = """\
AI voice interviews: configurations, sessions, Daily.co rooms, bot callbacks, transcripts, analytics.

Every answer is the CORA envelope: `{"success": true, "data": ...}` (lists add `pagination`:
`{total, limit, offset, hasMore}`), or `{"success": false, "error": "<message>", "code": "<MACHINE_CODE>",
"details": ...}`. Invalid input is a 400 with field `details`, never a 5xx. The API speaks camelCase and
accepts snake_case in bodies. Who may call what: docs/permissions.md. The live transcript WebSocket is
described in docs/websocket.md. Generated from the handlers by `make openapi`; do not edit by hand."""


def render() -> str:
    return json.dumps(build_document(), indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="exit 1 when the file is stale")
    parser.add_argument("--output", type=Path, default=OPENAPI_PATH)
    args = parser.parse_args(argv)
    text = render()
    current = args.output.read_text(encoding="utf-8") if args.output.exists() else None
    doc = json.loads(text)
    count = sum(len(ops) for ops in doc["paths"].values())
    if args.check:
        if current != text:
            print(f"{args.output} is stale: run `make openapi`", file=sys.stderr)
            return 1
        print(f"{args.output} is up to date ({count} operations)")
        return 0
    if current != text:
        args.output.write_text(text, encoding="utf-8")
        print(f"wrote {args.output} ({count} operations)")
    else:
        print(f"{args.output} unchanged ({count} operations)")
    return 0


def _env_for_import() -> None:
    """Loading the Lambdas needs no AWS or database, only the names their modules read at import."""
    import os

    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
    os.environ.setdefault("POWERTOOLS_DEV", "false")


if __name__ == "__main__":
    _env_for_import()
    sys.exit(main())


__all__ = ["OPENAPI_PATH", "RouteDoc", "build_document", "main", "render", "route_docs"]
