"""Bodies of /api/keys."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import (
    BaseModel,
    Field,
)

from sendmako.api.schemas.envelopes import Name, Request
from sendmako.storage.records import ApiKeyRecord


class ApiKeyOut(BaseModel):
    id: int
    prefix: str = Field(description="the first characters of the key, to recognise it")
    name: str | None
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    @classmethod
    def of(cls, record: ApiKeyRecord) -> ApiKeyOut:
        return cls(
            id=record.id,
            prefix=record.prefix,
            name=record.name,
            created_at=record.created_at,
            last_used_at=record.last_used_at,
            revoked_at=record.revoked_at,
        )


class ApiKeyListOut(BaseModel):
    success: Literal[True] = True
    keys: list[ApiKeyOut]


class CreateApiKeyIn(Request):
    name: Name | None = None


class CreateApiKeyOut(BaseModel):
    success: Literal[True] = True
    key: str = Field(description="the whole key: shown this once, never again")
    api_key: ApiKeyOut


class ApiKeyRevokedOut(BaseModel):
    success: Literal[True] = True
    api_key: ApiKeyOut
