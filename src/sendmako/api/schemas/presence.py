"""Bodies of /api/presence."""

from __future__ import annotations

from pydantic import Field

from sendmako.api.schemas.envelopes import Request


class PresenceIn(Request):
    to: str | None = Field(
        None, max_length=128, description="a number or JID: show typing or recording there"
    )
    state: str = Field(
        max_length=20,
        description="with `to`: composing, recording or paused; without: available or "
        "unavailable (this number online or offline)",
    )
    session_id: str | None = Field(None, description="default: your oldest connected session")


class SubscribeIn(Request):
    to: str = Field(max_length=128, description="the contact whose presence to follow")
    session_id: str | None = None
