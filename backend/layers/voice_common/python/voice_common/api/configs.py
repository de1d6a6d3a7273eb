"""``/api/voice/configs``: interview configurations of an organization (docs/api/configs.md).

Members read; org admins and owners create, change and delete. Input is validated by the route
signatures (pydantic models, Query/Path annotations), which also makes the OpenAPI document.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from access_common.app import principal
from access_common.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page
from access_common.responses import ok
from voice_common import configs
from voice_common.configs import ConfigCreate, ConfigUpdate

router = Router()

BASE = "/api/voice/configs"
ConfigId = Annotated[uuid.UUID, Path(description="Configuration id")]


@router.get(BASE, summary="List an organization's configurations")
def list_configs(
    org_id: Annotated[uuid.UUID, Query(alias="orgId", description="Organization id")],
    is_active: Annotated[
        bool | None, Query(alias="isActive", description="Only active (or inactive) ones")
    ] = None,
    interview_type: Annotated[str | None, Query(alias="interviewType", min_length=1, max_length=100)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Response[str]:
    page = Page(limit=limit, offset=offset)
    items, total = configs.list_configs(
        principal(router), org_id, page, is_active=is_active, interview_type=interview_type
    )
    return ok(items, page=page, total=total)


@router.get(f"{BASE}/<id>", summary="Get a configuration")
def get_config(id: ConfigId) -> Response[str]:
    return ok(configs.get_config(principal(router), id))


@router.post(BASE, summary="Create a configuration (org admin)")
def create_config(body: ConfigCreate) -> Response[str]:
    return ok(configs.create_config(principal(router), body), status=201)


@router.put(f"{BASE}/<id>", summary="Update a configuration (org admin); version is incremented")
def update_config(id: ConfigId, body: ConfigUpdate) -> Response[str]:
    return ok(configs.update_config(principal(router), id, body))


@router.delete(f"{BASE}/<id>", summary="Delete a configuration no unfinished session uses (org admin)")
def delete_config(id: ConfigId) -> Response[str]:
    return ok(configs.delete_config(principal(router), id))
