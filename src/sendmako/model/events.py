"""What engines report to the `SessionManager`: our own types, never a library's.

An engine session calls its `EventSink` with one of these; the manager stores what must
survive (status, messages, contacts) and, in the same transaction, the webhook outbox rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sendmako.model.directory import Contact
from sendmako.model.statuses import MessageStatus, SessionStatus


@dataclass(frozen=True, slots=True)
class StatusChanged:
    """The session moved to `status`. `detail` says why, for people (never a secret)."""

    status: SessionStatus
    detail: str | None = None
    phone_number: str | None = None  # with CONNECTED: the linked number, digits only
    device_jid: str | None = None  # with CONNECTED: this device's own JID, when known
    push_name: str | None = None


@dataclass(frozen=True, slots=True)
class QrCodeChanged:
    """A new QR payload to show; it implies status QR_READY. Each one replaces the last."""

    payload: str
    valid_seconds: float


@dataclass(frozen=True, slots=True)
class PairCodeIssued:
    """A linking code to type on the phone (login without a camera)."""

    code: str


@dataclass(frozen=True, slots=True)
class IncomingMedia:
    """What WhatsApp tells about an encrypted file; `/api/decrypt-media` takes these fields."""

    media_type: str  # image, video, audio, document, sticker: the key family, not the mimetype
    url: str
    direct_path: str
    media_key: bytes
    file_enc_sha256: bytes
    file_sha256: bytes
    file_length: int
    mimetype: str
    width: int | None = None
    height: int | None = None
    duration: int | None = None  # seconds, audio and video
    filename: str | None = None
    voice_note: bool = False


@dataclass(frozen=True, slots=True)
class MessageReceived:
    """A message that arrived on the session's number (or was sent from its phone)."""

    message_id: str
    chat: str  # JID of the chat: the sender's for a direct message, the group's otherwise
    sender_phone: str  # digits; resolved from a hidden @lid when WhatsApp hides it
    sender_jid: str
    sender_name: str | None  # push name
    wa_type: str  # WhatsApp's type name: conversation, imageMessage, locationMessage...
    body: str | None  # text, or a media caption
    timestamp: int  # unix seconds
    is_group: bool = False
    from_me: bool = False
    media: IncomingMedia | None = None
    quoted_message_id: str | None = None
    mentions: tuple[str, ...] = ()  # phone numbers
    latitude: float | None = None
    longitude: float | None = None
    location_name: str | None = None
    location_address: str | None = None
    contact_name: str | None = None
    contact_vcard: str | None = None


@dataclass(frozen=True, slots=True)
class ReceiptReceived:
    """Our sent messages were delivered to or read by `chat` (`status`: delivered, read)."""

    message_ids: tuple[str, ...]
    chat: str
    status: MessageStatus  # delivered or read
    timestamp: int
    participant_phone: str | None = None  # in a group: who delivered or read it


@dataclass(frozen=True, slots=True)
class ContactsChanged:
    """Contacts learned or renamed; `complete` when this is the whole address book."""

    contacts: tuple[Contact, ...]
    complete: bool = False


@dataclass(frozen=True, slots=True)
class GroupChanged:
    """Something about a group changed (membership, settings, subject); refresh it."""

    group_jid: str
    left: bool = False  # this number is no longer a member


EngineEvent = (
    StatusChanged
    | QrCodeChanged
    | PairCodeIssued
    | MessageReceived
    | ReceiptReceived
    | ContactsChanged
    | GroupChanged
)


@dataclass(frozen=True, slots=True)
class SessionEvent:
    """A lifecycle event as webhooks deliver it (`session.connected`, ...)."""

    name: str
    session_id: str
    data: dict[str, object] = field(default_factory=dict)
