"""The engine interface, split by lifetime (STYLE.md 2).

`Engine` lives as long as the process: it starts and stops shared resources and opens one
`EngineSession` per WhatsApp number. An `EngineSession` lives as long as one connection
attempt chain of one number; a restart opens a fresh one.

What an engine can do is declared in `capabilities`; the API refuses what the session's
engine lacks before calling it, so a missing feature is never a surprise deep in a request.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import ClassVar

from sendmako.ids import Jid, SessionId
from sendmako.model.directory import (
    Contact,
    GroupInfo,
    GroupSettingsChange,
    ParticipantAction,
    ParticipantResult,
)
from sendmako.model.events import EngineEvent
from sendmako.model.messages import MessageType, OutgoingMessage, SendResult


class Capability(StrEnum):
    QR_LOGIN = "qr_login"
    PAIR_CODE = "pair_code"
    SEND_TEXT = "send.text"
    SEND_IMAGE = "send.image"
    SEND_VIDEO = "send.video"
    SEND_AUDIO = "send.audio"
    SEND_DOCUMENT = "send.document"
    SEND_LOCATION = "send.location"
    SEND_STICKER = "send.sticker"
    SEND_CONTACT = "send.contact"
    CONTACTS = "contacts"
    GROUPS = "groups"
    SIMULATOR = "simulator"  # driven by the /api/sandbox control API


SEND_CAPABILITY = {
    MessageType.TEXT: Capability.SEND_TEXT,
    MessageType.IMAGE: Capability.SEND_IMAGE,
    MessageType.VIDEO: Capability.SEND_VIDEO,
    MessageType.AUDIO: Capability.SEND_AUDIO,
    MessageType.DOCUMENT: Capability.SEND_DOCUMENT,
    MessageType.LOCATION: Capability.SEND_LOCATION,
    MessageType.STICKER: Capability.SEND_STICKER,
    MessageType.CONTACT: Capability.SEND_CONTACT,
}


@dataclass(frozen=True, slots=True)
class SessionSpec:
    """What an engine is told about the session it opens."""

    session_id: SessionId
    user_id: int
    row_id: int
    phone_number: str | None  # the last linked number, if any
    device_jid: str | None  # the engine's own device id from the last pairing, if any


EventSink = Callable[[EngineEvent], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class EngineHealth:
    ok: bool
    detail: str = "ok"


class EngineSession(ABC):
    """One WhatsApp number on one engine.

    Every method may be called from any status. Network trouble is never raised from
    `start`: it is reported through the sink as a status (`connecting` with a detail,
    `disconnected`), and the engine retries on its own with backoff.
    """

    def __init__(self, spec: SessionSpec, sink: EventSink) -> None:
        self.spec = spec
        self.sink = sink

    @abstractmethod
    async def start(self) -> None:
        """Begin connecting and return without waiting for WhatsApp.

        Reports `connecting` first, then `qr_ready` (with `QrCodeChanged`) when the number
        must be linked, or `connected` when a linked device resumed.
        """

    @abstractmethod
    async def stop(self) -> None:
        """Close the connection and release resources; the device stays linked.

        Idempotent, returns within a few seconds, reports nothing afterwards.
        """

    @abstractmethod
    async def logout(self) -> None:
        """Unlink the device from WhatsApp and forget its keys, then stop.

        Reports `logged_out`. Works from any status (a device never linked just stops).
        """

    async def request_pair_code(self, phone_number: str) -> str:
        """Return an 8-character linking code for `phone_number` (digits with country code).

        Only while the status is `qr_ready`. Engines without `Capability.PAIR_CODE` never
        receive this call.
        """
        raise NotImplementedError

    # -- messages (Capability.SEND_*) ----------------------------------------------------

    async def send(self, message: OutgoingMessage) -> SendResult:
        """Send one message and return WhatsApp's id for it.

        Media arrive as bytes we downloaded and checked; voice notes already as OGG/Opus
        with `seconds` and `waveform`. Raises `Unavailable` (503) when the session is not
        connected, `OperationFailed` with code `not_on_whatsapp` (422) when the recipient
        has no WhatsApp account, `OperationFailed` (422) when WhatsApp refuses otherwise
        (e.g. code `not_admin` for an announce-only group).
        """
        raise NotImplementedError

    # -- contacts (Capability.CONTACTS) --------------------------------------------------

    async def contacts(self) -> list[Contact]:
        """Every contact the phone knows, with the best names WhatsApp gives."""
        raise NotImplementedError

    # -- groups (Capability.GROUPS) ------------------------------------------------------
    # Each raises `OperationFailed` with WhatsApp's reason as `code` when refused
    # (`not_admin`, `not_member`, `invite_invalid`, `group_not_found`...).

    async def groups(self) -> list[GroupInfo]:
        """Every group this number is a member of, with participants."""
        raise NotImplementedError

    async def group_info(self, group: Jid) -> GroupInfo:
        raise NotImplementedError

    async def create_group(self, subject: str, participants: list[Jid]) -> GroupInfo:
        """The creator becomes superadmin; participants who cannot be added directly are
        left out (the returned info lists who is in)."""
        raise NotImplementedError

    async def update_participants(
        self, group: Jid, participants: list[Jid], action: ParticipantAction
    ) -> list[ParticipantResult]:
        """One result per participant, in the order given; one failure never stops the rest."""
        raise NotImplementedError

    async def update_group_settings(self, group: Jid, change: GroupSettingsChange) -> GroupInfo:
        raise NotImplementedError

    async def invite_code(self, group: Jid, *, reset: bool = False) -> str:
        """The group's invite code (admins only); `reset` revokes the old one first."""
        raise NotImplementedError

    async def invite_info(self, code: str) -> GroupInfo:
        """What the group behind an invite code looks like, without joining."""
        raise NotImplementedError

    async def join_with_invite(self, code: str) -> Jid:
        raise NotImplementedError

    async def group_picture_url(self, group: Jid) -> str | None:
        raise NotImplementedError

    async def leave_group(self, group: Jid) -> None:
        raise NotImplementedError


class Engine(ABC):
    """A way to reach WhatsApp (real or simulated), shared by all its sessions."""

    name: ClassVar[str]
    capabilities: ClassVar[frozenset[Capability]]

    async def start(self) -> None:
        """Prepare shared resources (schema, worker pools) before any session opens."""

    async def stop(self) -> None:
        """Release shared resources after every session has stopped."""

    @abstractmethod
    def open_session(self, spec: SessionSpec, sink: EventSink) -> EngineSession:
        """Build (not start) the session object for `spec`. No I/O."""

    async def forget(self, spec: SessionSpec) -> None:
        """Delete whatever the engine stored for a deleted session (device keys, state)."""

    async def health(self) -> EngineHealth:
        return EngineHealth(ok=True)
