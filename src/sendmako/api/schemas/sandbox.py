"""Bodies of /api/sandbox (the simulated WhatsApp network's control API)."""

from __future__ import annotations

from typing import Literal

from pydantic import (
    BaseModel,
    Field,
)

from sendmako.api.schemas.envelopes import Request
from sendmako.api.schemas.history import HistoryChatIn
from sendmako.model.statuses import SessionStatus


class SandboxScanIn(Request):
    phone_number: str | None = Field(None, description="the simulated phone that scans")
    qr: str | None = Field(None, description="the QR payload read; refused once rotated")
    pair_code: str | None = Field(None, description="instead of a scan: the pairing code typed")
    push_name: str | None = Field(None, max_length=100)
    history: list[HistoryChatIn] | None = Field(
        None,
        max_length=1000,
        description="the phone's recent chats, sent once linked as WhatsApp's history sync "
        "(stored, in chunks, without webhooks)",
    )


class SandboxDisconnectIn(Request):
    reason: Literal["logged_out", "connection_lost"]
    reconnect_after: float | None = Field(
        None, ge=0, le=3600, description="connection_lost: seconds before it comes back"
    )


class SandboxRestrictIn(Request):
    kind: Literal["temporary_ban", "new_contacts"] = Field(
        description="`temporary_ban`: every send held; `new_contacts`: sends to new numbers "
        "answer 463"
    )
    seconds: float = Field(gt=0, le=30 * 86_400, description="how long it lasts")
    code: int = Field(101, ge=101, le=106, description="temporary_ban: WhatsApp's reason code")


class SandboxDeafenIn(Request):
    for_good: bool = Field(
        False, description="deaf even after reconnecting (to see the watchdog's cap hold)"
    )


class SandboxStateOut(BaseModel):
    success: Literal[True] = True
    session_id: str
    status: SessionStatus
    phone_number: str | None


HAPPENINGS = (
    "reaction",
    "edit",
    "revoke",
    "vote",
    "call",
    "presence",
    "typing",
    "group_participants",
    "group_updated",
)


class SandboxHappenIn(Request):
    """Something the outside world does, seen by this session. Each `event` takes the
    fields its description names."""

    event: Literal[
        "reaction",
        "edit",
        "revoke",
        "vote",
        "call",
        "presence",
        "typing",
        "group_participants",
        "group_updated",
    ] = Field(
        description="reaction (message_id, emoji), edit (message_id, text), revoke "
        "(message_id, by?), vote (message_id: the poll, options), call (video), presence "
        "(state: available or unavailable), typing (state: composing, recording or paused), "
        "group_participants (group_id, action, participants), group_updated (group_id, any of "
        "subject, description, announce, restrict)"
    )
    sender: str = Field(alias="from", max_length=64, description="the number who does it")
    group_id: str | None = Field(None, max_length=128, description="inside this group")
    message_id: str | None = Field(None, max_length=128)
    emoji: str | None = Field(None, max_length=32)
    text: str | None = Field(None, max_length=65_536)
    by: str | None = Field(None, max_length=64, description="revoke: the admin who deletes")
    options: list[str] | None = Field(None, max_length=12)
    video: bool = False
    state: str | None = Field(None, max_length=20)
    action: Literal["add", "remove", "promote", "demote", "join", "leave"] | None = None
    participants: list[str] | None = Field(None, max_length=256)
    subject: str | None = Field(None, max_length=256)
    description: str | None = Field(None, max_length=2048)
    announce: bool | None = None
    restrict: bool | None = None
