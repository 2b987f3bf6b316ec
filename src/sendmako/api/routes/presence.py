"""`/api/presence`: typing and recording in a chat, online and offline, watching a contact."""

from __future__ import annotations

from fastapi import APIRouter

from sendmako.api.deps import CurrentUser, ServicesDep
from sendmako.api.routes.responses import errors
from sendmako.api.schemas.envelopes import SuccessOut
from sendmako.api.schemas.presence import PresenceIn, SubscribeIn

router = APIRouter(prefix="/api/presence", tags=["presence"])


@router.post("", responses=errors(404, 501, 503))
async def set_presence(body: PresenceIn, user: CurrentUser, services: ServicesDep) -> SuccessOut:
    """With `to`: show that chat `composing` (typing), `recording` or `paused`. Without
    `to`: this number `available` (online) or `unavailable`."""
    await services.presence.show(user, body.to, body.state, body.session_id)
    return SuccessOut()


@router.post("/subscribe", responses=errors(404, 501, 503))
async def subscribe(body: SubscribeIn, user: CurrentUser, services: ServicesDep) -> SuccessOut:
    """Follow a contact's presence: `presence.update` webhooks follow (online, offline,
    typing)."""
    await services.presence.watch(user, body.to, body.session_id)
    return SuccessOut()
