"""Credential routes: provider API keys per org (org admins) and platform defaults (platform admins).

Keys go in (``apiKey``) and never come out: responses carry at most ``keyLast4``. See
docs/api/credentials.md for the contract and voice_common.credentials for the logic.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from pydantic import Field, SecretStr, computed_field, field_validator, model_validator

from access_common.app import principal
from access_common.errors import ValidationError
from access_common.models import CamelModel, CamelResponse
from access_common.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page
from access_common.responses import ok
from voice_common import credentials as service
from voice_common.integrations.providers import ServiceName

router = Router()

MAX_METADATA_BYTES = 8192


class CredentialIn(CamelModel):
    """Create or replace the key of one service in one scope (an org, or the platform defaults)."""

    org_id: uuid.UUID | None = Field(
        None, description="The org whose key this is; omit with scope 'platform'"
    )
    scope: Literal["org", "platform"] | None = Field(None, description="'platform' for a platform default")
    service_name: ServiceName
    api_key: SecretStr = Field(
        min_length=8, max_length=4096, description="Stored in Secrets Manager, never returned"
    )
    config_metadata: dict[str, Any] | None = Field(
        None, description="Service settings; kept on replace if omitted"
    )

    @field_validator("api_key", mode="before")
    @classmethod
    def _api_key(cls, value: Any) -> Any:
        # Clear messages that never echo the value; a key also becomes an HTTP header value later.
        if not isinstance(value, str):
            raise ValueError("must be a string")
        value = value.strip()
        if not 8 <= len(value) <= 4096:
            raise ValueError("must be 8 to 4096 characters long")
        if not all("!" <= c <= "~" for c in value):  # provider keys are printable ASCII (header-safe)
            raise ValueError("must be printable ASCII without whitespace")
        return value

    @field_validator("config_metadata")
    @classmethod
    def _metadata_size(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is not None and len(json.dumps(value)) > MAX_METADATA_BYTES:
            raise ValueError(f"must be at most {MAX_METADATA_BYTES} bytes as JSON")
        return value

    @model_validator(mode="after")
    def _one_scope(self) -> CredentialIn:
        if self.scope == "platform" and self.org_id is not None:
            raise ValueError("give either orgId or scope 'platform', not both")
        if self.scope != "platform" and self.org_id is None:
            raise ValueError("orgId is required (or scope 'platform' for a platform default)")
        return self


class CredentialOut(CamelResponse):
    """What the API shows of a credential: metadata, never the key or the secret's ARN."""

    id: uuid.UUID
    org_id: uuid.UUID | None
    service_name: str
    key_last4: str | None
    config_metadata: dict[str, Any]
    is_active: bool
    last_validated_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime
    created_by: uuid.UUID
    updated_by: uuid.UUID | None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def scope(self) -> Literal["org", "platform"]:
        return "platform" if self.org_id is None else "org"


class CredentialDeleted(CamelResponse):
    id: uuid.UUID
    org_id: uuid.UUID | None
    service_name: str
    deleted: bool
    secret_deletion_scheduled: bool = Field(description="False when the secret is not managed by this module")


class KeyValidation(CamelResponse):
    id: uuid.UUID
    service_name: str
    valid: bool
    reason: str | None = Field(description="Why the provider rejected the key (when not valid)")
    last_validated_at: dt.datetime | None


def _out(row: dict[str, Any]) -> dict[str, Any]:
    return CredentialOut.model_validate(row).dump()


@router.get("/api/voice/credentials", summary="List the credentials of an org or of the platform")
def list_credentials(
    org_id: Annotated[uuid.UUID | None, Query(alias="orgId", description="The org's credentials")] = None,
    scope: Annotated[
        Literal["org", "platform"] | None, Query(description="'platform' for the defaults")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Response[str]:
    """An org's credentials (org admins), or with ``scope=platform`` the defaults (platform admins)."""
    if scope == "platform" and org_id is not None:
        raise ValidationError("Give either orgId or scope=platform, not both")
    if scope != "platform" and org_id is None:
        raise ValidationError("orgId is required (or scope=platform for the platform defaults)")
    page = Page(limit=limit, offset=offset)
    rows, total = service.list_credentials(principal(router), org_id, page)
    return ok([_out(r) for r in rows], page=page, total=total)


@router.get("/api/voice/credentials/<id>", summary="Get a credential's metadata")
def get_credential(credential_id: Annotated[uuid.UUID, Path(alias="id")]) -> Response[str]:
    """One credential's metadata."""
    return ok(_out(service.get_credential(principal(router), credential_id)))


@router.post("/api/voice/credentials", summary="Create or replace the API key of a service")
def save_credential(body: CredentialIn) -> Response[str]:
    """Create (201) or replace (200) the key for a service in a scope."""
    row, created = service.upsert_credential(
        principal(router),
        body.org_id,
        body.service_name,
        body.api_key.get_secret_value(),
        body.config_metadata,
    )
    return ok(_out(row), status=201 if created else 200)


@router.delete("/api/voice/credentials/<id>", summary="Delete a credential and its secret")
def delete_credential(credential_id: Annotated[uuid.UUID, Path(alias="id")]) -> Response[str]:
    """Delete the credential; its secret is scheduled for deletion (recoverable for 7 days)."""
    return ok(
        CredentialDeleted.model_validate(service.delete_credential(principal(router), credential_id)).dump()
    )


@router.post("/api/voice/credentials/<id>/validate", summary="Check a stored key with its provider")
def validate_credential(credential_id: Annotated[uuid.UUID, Path(alias="id")]) -> Response[str]:
    """Check the stored key with its provider: ``valid`` true/false (200); 502 when it cannot tell."""
    result = service.validate_credential(principal(router), credential_id)
    return ok(KeyValidation.model_validate(result).dump())
