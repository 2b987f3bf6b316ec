"""`/api/keys`: a user's own API keys (the dashboard's "Clés API", over the API)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body

from sendmako import accounts
from sendmako.api.deps import CurrentUser, RowId, ServicesDep
from sendmako.api.routes.responses import errors
from sendmako.api.schemas.keys import (
    ApiKeyListOut,
    ApiKeyOut,
    ApiKeyRevokedOut,
    CreateApiKeyIn,
    CreateApiKeyOut,
)
from sendmako.storage import api_keys

router = APIRouter(prefix="/api/keys", tags=["api keys"])


@router.get("", responses=errors())
async def list_keys(user: CurrentUser, services: ServicesDep) -> ApiKeyListOut:
    """Your keys: prefix, name, created, last used, revoked. Never the keys themselves."""
    async with services.db.read() as db:
        records = await api_keys.list_for_user(db, user.id)
    return ApiKeyListOut(keys=[ApiKeyOut.of(record) for record in records])


@router.post("", status_code=201, responses=errors(403))
async def create_key(
    user: CurrentUser,
    services: ServicesDep,
    body: Annotated[CreateApiKeyIn | None, Body()] = None,
) -> CreateApiKeyOut:
    """A new key. `key` is shown in this answer only: store it now. A user holds 50 active
    keys at most (403 `key_limit`: revoke one first)."""
    async with services.db.write() as tx:
        new = await accounts.create_key(tx, user.id, name=(body.name if body else None))
    return CreateApiKeyOut(key=new.secret, api_key=ApiKeyOut.of(new.record))


@router.delete("/{key_id}", responses=errors(404))
async def revoke_key(key_id: RowId, user: CurrentUser, services: ServicesDep) -> ApiKeyRevokedOut:
    """Revoke a key: the very next request made with it is refused."""
    async with services.db.write() as tx:
        record = await accounts.revoke_key(tx, user.id, key_id)
    await services.auth.forget_user(user.id)
    return ApiKeyRevokedOut(api_key=ApiKeyOut.of(record))
