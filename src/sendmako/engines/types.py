"""Values exchanged with engines: what to send, what came back, contacts and groups.

Our own types (STYLE.md 4): API schemas and webhook payloads are built from these, never
from an engine library's classes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from sendmako.ids import Jid


class MessageType(StrEnum):
    TEXT = "text"
    IMAGE = "image"
    VIDEO = "video"
    AUDIO = "audio"
    DOCUMENT = "document"
    LOCATION = "location"
    STICKER = "sticker"
    CONTACT = "contact"


MEDIA_TYPES = frozenset(
    {
        MessageType.IMAGE,
        MessageType.VIDEO,
        MessageType.AUDIO,
        MessageType.DOCUMENT,
        MessageType.STICKER,
    }
)


@dataclass(frozen=True, slots=True)
class MediaPayload:
    """A file to send, already downloaded and checked by us (engines never fetch URLs)."""

    data: bytes
    mimetype: str
    filename: str | None = None
    width: int | None = None
    height: int | None = None
    seconds: int | None = None  # audio and video duration
    waveform: bytes | None = None  # voice notes: 64 samples, 0..100
    thumbnail: bytes | None = None  # JPEG, for images and videos


@dataclass(frozen=True, slots=True)
class Location:
    latitude: float
    longitude: float
    name: str | None = None
    address: str | None = None


@dataclass(frozen=True, slots=True)
class ContactCard:
    name: str
    phone: str  # digits with country code

    def vcard(self) -> str:
        escaped = self.name.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
        return (
            "BEGIN:VCARD\nVERSION:3.0\n"
            f"FN:{escaped}\n"
            f"TEL;type=CELL;type=VOICE;waid={self.phone}:+{self.phone}\n"
            "END:VCARD"
        )


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    """One message to one chat (a user or a group)."""

    to: Jid
    type: MessageType
    text: str | None = None  # the text of a text message, or a media caption
    media: MediaPayload | None = None
    voice_note: bool = False
    location: Location | None = None
    contact: ContactCard | None = None
    mentions: tuple[Jid, ...] = ()
    quoted_message_id: str | None = None
    # Set by the send queue so a retried send after a crash is recognisably the same one.
    message_id: str | None = None


@dataclass(frozen=True, slots=True)
class SendResult:
    message_id: str  # WhatsApp's id of the sent message
    timestamp: datetime


@dataclass(frozen=True, slots=True)
class Contact:
    jid: Jid
    phone: str
    saved_name: str | None = None  # the name in the phone's address book
    push_name: str | None = None  # the name the contact chose
    business_name: str | None = None

    @property
    def name(self) -> str | None:
        return self.saved_name or self.push_name or self.business_name


class ParticipantRole(StrEnum):
    MEMBER = "member"
    ADMIN = "admin"
    SUPERADMIN = "superadmin"


@dataclass(frozen=True, slots=True)
class GroupParticipant:
    jid: Jid
    phone: str | None  # None when WhatsApp hides it (a LID without its phone number)
    role: ParticipantRole = ParticipantRole.MEMBER


@dataclass(frozen=True, slots=True)
class GroupInfo:
    jid: Jid
    subject: str
    description: str | None
    owner: Jid | None
    created_at: int  # unix seconds
    announce: bool  # only admins may send
    restrict: bool  # only admins may edit the group's info
    participants: tuple[GroupParticipant, ...] = field(default_factory=tuple)


class ParticipantAction(StrEnum):
    ADD = "add"
    REMOVE = "remove"
    PROMOTE = "promote"
    DEMOTE = "demote"


@dataclass(frozen=True, slots=True)
class ParticipantResult:
    """The outcome for one participant of an add/remove/promote/demote."""

    jid: Jid
    ok: bool
    # WhatsApp's reason when not ok: "not_admin", "not_authorized", "invite_required"
    # (privacy settings), "already_member", "not_member", "not_on_whatsapp", "group_full".
    reason: str | None = None
    code: int | None = None  # WhatsApp's numeric error (403, 409, 404...) when it gave one


@dataclass(frozen=True, slots=True)
class GroupSettingsChange:
    subject: str | None = None
    description: str | None = None
    announce: bool | None = None
    restrict: bool | None = None
