"""``/api/voice/settings``: an organization's own values for module settings (docs/api/settings.md).

Members read; org admins and owners change them. Served by voice-configs (organization configuration).
"""

from __future__ import annotations

import uuid
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query

from access_common.app import principal
from access_common.responses import ok
from voice_common import org_settings
from voice_common.org_settings import OrgSettingsUpdate

router = Router()

BASE = "/api/voice/settings"


@router.get(BASE, summary="An organization's settings, with the module defaults")
def get_settings(
    org_id: Annotated[uuid.UUID, Query(alias="orgId", description="Organization id")],
) -> Response[str]:
    return ok(org_settings.get_org_settings(principal(router), org_id))


@router.put(BASE, summary="Change an organization's settings (org admin); null = the module default")
def put_settings(body: OrgSettingsUpdate) -> Response[str]:
    return ok(org_settings.update_org_settings(principal(router), body))
