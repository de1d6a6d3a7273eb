"""An organization's own values for module settings (``voice_org_settings``); docs/api/settings.md.

module.config.yaml holds the module-wide defaults; an org may override some of them. A NULL column means
"the module default", so changing the default in module.config.yaml moves every org that has not chosen
its own value. Today: ``transcript_retention_days`` (read by voice_common.retention).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from pydantic import Field

from access_common.db import user_tx
from access_common.identity import Principal
from access_common.models import CamelModel, CamelResponse
from access_common.roles import org_not_found, require_admin

MAX_RETENTION_DAYS = 3650  # db/schema/042-voice-org-settings.sql


class OrgSettingsUpdate(CamelModel):
    """PUT body: every setting given; null returns it to the module default."""

    org_id: uuid.UUID
    transcript_retention_days: int | None = Field(
        ge=1,
        le=MAX_RETENTION_DAYS,
        description="Days transcripts, their segments and S3 archives are kept; null = the module default",
    )


class SettingValues(CamelResponse):
    transcript_retention_days: int


class OrgSettings(CamelResponse):
    org_id: uuid.UUID
    transcript_retention_days: int | None = Field(description="The org's own value; null = the default")
    effective: SettingValues = Field(description="What applies to the org now")
    defaults: SettingValues = Field(description="The module defaults (module.config.yaml)")
    updated_at: dt.datetime | None = None
    updated_by: uuid.UUID | None = None


def _shape(org_id: uuid.UUID, row: dict[str, Any] | None) -> dict[str, Any]:
    from voice_common.settings import get_settings

    default = get_settings().transcript_retention_days
    own = (row or {}).get("transcript_retention_days")
    return OrgSettings.model_validate(
        {
            "org_id": org_id,
            "transcript_retention_days": own,
            "effective": {"transcript_retention_days": own if own is not None else default},
            "defaults": {"transcript_retention_days": default},
            "updated_at": (row or {}).get("updated_at"),
            "updated_by": (row or {}).get("updated_by"),
        }
    ).dump()


def get_org_settings(principal: Principal, org_id: uuid.UUID) -> dict[str, Any]:
    """The org's settings (members); an org without a row has only defaults."""
    with user_tx(principal) as cur:
        cur.execute(
            """SELECT public.is_org_member(%(org)s) AS member,
                      (SELECT to_jsonb(o) FROM public.voice_org_settings o
                        WHERE o.org_id = %(org)s) AS row""",
            {"org": org_id},
        )
        found = cur.fetchone() or {}
    if not found.get("member"):
        raise org_not_found()
    row = found.get("row")
    if row and row.get("updated_at"):
        row["updated_at"] = dt.datetime.fromisoformat(row["updated_at"])
    return _shape(org_id, row)


def update_org_settings(principal: Principal, body: OrgSettingsUpdate) -> dict[str, Any]:
    """Set the org's values (org admins and owners); row-level security checks the same rule."""
    with user_tx(principal) as cur:
        require_admin(cur, principal, body.org_id)
        cur.execute(
            """
            INSERT INTO public.voice_org_settings (org_id, transcript_retention_days, updated_by)
            VALUES (%(org)s, %(days)s, %(uid)s)
            ON CONFLICT (org_id) DO UPDATE
               SET transcript_retention_days = EXCLUDED.transcript_retention_days,
                   updated_by = EXCLUDED.updated_by
            RETURNING transcript_retention_days, updated_at, updated_by
            """,
            {"org": body.org_id, "days": body.transcript_retention_days, "uid": principal.user_id},
        )
        row = cur.fetchone()
    return _shape(body.org_id, row)
