"""Messages: what to send, and WhatsApp's answer.

Our own types (STYLE.md 4): API schemas and webhook payloads are built from these, never
from an engine library's classes.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from sendmako.ids import Jid
from sendmako.model.actions import Send


class MessageType(StrEnum):
    TEXT = "text"
    IMAGE = "image"
    VIDEO = "video"
    AUDIO = "audio"
    DOCUMENT = "document"
    LOCATION = "location"
    STICKER = "sticker"
    CONTACT = "contact"
    POLL = "poll"


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
class PollSpec:
    """A poll to create: its question, 2 to 12 distinct options, how many may be chosen."""

    name: str
    options: tuple[str, ...]
    selectable_count: int = 1


@dataclass(frozen=True, slots=True)
class OutgoingMessage(Send):
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
    poll: PollSpec | None = None


# -- acting on a message already in a chat ------------------------------------------------


@dataclass(frozen=True, slots=True)
class MessageKey:
    """Which message an action is about, as WhatsApp addresses it: its chat, its id, and
    who wrote it (this number, or `sender` in a group)."""

    chat: Jid
    message_id: str
    from_me: bool
    sender: Jid | None = None  # the author when not from_me; in a direct chat, the chat


@dataclass(frozen=True, slots=True)
class Reaction(Send):
    """React to `target` with `emoji`; an empty `emoji` takes the reaction back."""

    to: Jid
    target: MessageKey
    emoji: str


@dataclass(frozen=True, slots=True)
class PollVote(Send):
    """Vote in the poll `poll` for the options named (none: take the vote back)."""

    to: Jid
    poll: MessageKey
    options: tuple[str, ...]
    # The poll's own options, in order: engines that vote by hashes of the names need them.
    poll_options: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class EditMessage(Send):
    """Replace the text (or media caption) of a message this number sent."""

    to: Jid
    target: MessageKey
    text: str


@dataclass(frozen=True, slots=True)
class RevokeMessage(Send):
    """Delete `target` for everyone: a message this number sent, or, as a group admin,
    anyone's message in that group."""

    to: Jid
    target: MessageKey
