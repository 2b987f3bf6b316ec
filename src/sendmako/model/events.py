"""What engines report to the `SessionManager`: our own types, never a library's.

An engine session calls its `EventSink` with one of these; the manager stores what must
survive (status, messages, contacts) and, in the same transaction, the webhook outbox rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sendmako.model.directory import Contact
from sendmako.model.messages import PollSpec
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
class TemporaryBanned:
    """WhatsApp banned this number for a while (whatsmeow's TemporaryBan): `code` is its
    reason (101-106), `until` the unix time it ends (None: not said)."""

    code: int
    until: float | None = None


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
    # Sent by this very number from its phone or another linked device (`message.sent`):
    # `chat` is then the recipient's (or the group's), and `sender_*` is this number.
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
    sender_lid: str | None = None  # the hidden id (digits before @lid) when WhatsApp used one
    poll: PollSpec | None = None  # a poll: its question and options


@dataclass(frozen=True, slots=True)
class ReceiptReceived:
    """Our sent messages were delivered to or read by `chat` (`status`: delivered, read)."""

    message_ids: tuple[str, ...]
    chat: str
    status: MessageStatus  # delivered or read
    timestamp: int
    participant_phone: str | None = None  # in a group: who delivered or read it
    participant_lid: str | None = None


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


@dataclass(frozen=True, slots=True)
class Someone:
    """A person as an event names them: always a phone number (resolved from a hidden id
    when WhatsApp used one), and the hidden id beside it when there was one."""

    phone: str  # digits with the country code
    lid: str | None = None  # digits before @lid


@dataclass(frozen=True, slots=True)
class ReactionReceived:
    """`sender` reacted to the message `message_id` of `chat` (`emoji` "": took it back).
    `from_me`: this number reacted, from its phone or another device."""

    chat: str
    message_id: str  # the message reacted to
    sender: Someone
    emoji: str
    timestamp: int  # unix seconds
    is_group: bool = False
    from_me: bool = False


@dataclass(frozen=True, slots=True)
class MessageEdited:
    """`sender` replaced the text (or caption) of their message `message_id`."""

    chat: str
    message_id: str
    sender: Someone
    body: str
    timestamp: int
    is_group: bool = False
    from_me: bool = False


@dataclass(frozen=True, slots=True)
class MessageRevoked:
    """The message `message_id` of `sender` was deleted for everyone, by its author or by
    a group admin (`by`)."""

    chat: str
    message_id: str
    sender: Someone  # who wrote it, when known (the author)
    timestamp: int
    by: Someone | None = None  # the admin who deleted it, when not its author
    is_group: bool = False
    from_me: bool = False


@dataclass(frozen=True, slots=True)
class PollVoted:
    """`voter` chose options in the poll `poll_message_id` (none: took the vote back).
    Options are given as the SHA-256 of their names, as WhatsApp carries them; the inbox
    names them from the stored poll."""

    chat: str
    poll_message_id: str
    voter: Someone
    option_hashes: tuple[bytes, ...]
    timestamp: int
    is_group: bool = False
    from_me: bool = False


@dataclass(frozen=True, slots=True)
class PresenceChanged:
    """`person` is online or offline, or typing, recording, stopped (in `chat`)."""

    person: Someone
    state: str  # available, unavailable, composing, recording, paused
    chat: str | None = None  # where they type (a group, or their own chat)
    last_seen: int | None = None  # unix seconds, when known


@dataclass(frozen=True, slots=True)
class GroupParticipantsChanged:
    """People were added to, removed from, promoted or demoted in a group, or joined or
    left it themselves."""

    group: str
    action: str  # add, remove, promote, demote, join, leave
    participants: tuple[Someone, ...]
    by: Someone | None
    timestamp: int


@dataclass(frozen=True, slots=True)
class GroupSettingsChanged:
    """A group's subject, description or settings changed (None: unchanged)."""

    group: str
    by: Someone | None
    timestamp: int
    subject: str | None = None
    description: str | None = None
    announce: bool | None = None
    restrict: bool | None = None


@dataclass(frozen=True, slots=True)
class CallReceived:
    """Someone is calling this number."""

    call_id: str
    caller: Someone
    video: bool
    timestamp: int
    is_group: bool = False


@dataclass(frozen=True, slots=True)
class HistoryConversation:
    """One chat of the history the phone sends: what it calls it, how much of it is unread
    there, and some of its messages (oldest first, or in any order: each has its time)."""

    chat: str  # the chat's JID
    name: str | None = None
    unread: int | None = None  # the phone's unread count (None: not told)
    messages: tuple[MessageReceived, ...] = ()


@dataclass(frozen=True, slots=True)
class HistorySynced:
    """A chunk of the recent history the phone sends once a device is linked (WhatsApp
    sends it in several). Its messages are old: stored, never announced."""

    conversations: tuple[HistoryConversation, ...]
    progress: int | None = None  # percent of the whole transfer, when WhatsApp tells it


# What a session's number saw happen, as opposed to its own lifecycle: handed to the
# handlers (the inbox, the contact book, the group cache), one at a time, in order.
WhatsAppEvent = (
    MessageReceived
    | ReceiptReceived
    | ContactsChanged
    | GroupChanged
    | ReactionReceived
    | MessageEdited
    | MessageRevoked
    | PollVoted
    | PresenceChanged
    | GroupParticipantsChanged
    | GroupSettingsChanged
    | CallReceived
    | HistorySynced
)
LifecycleEvent = StatusChanged | QrCodeChanged | PairCodeIssued | TemporaryBanned
EngineEvent = LifecycleEvent | WhatsAppEvent


@dataclass(frozen=True, slots=True)
class SessionEvent:
    """A lifecycle event as webhooks deliver it (`session.connected`, ...)."""

    name: str
    session_id: str
    data: dict[str, object] = field(default_factory=dict)
