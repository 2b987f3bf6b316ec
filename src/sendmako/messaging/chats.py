"""Reading the stored conversations: a session's chats, latest activity first, and a
chat's messages, newest first, each a page at a time behind an opaque cursor.

Everything here is read from the database (any node answers it), and only from the
user's own sessions: another user's session or chat is 404, as if it did not exist.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from sendmako.errors import BadRequest, NotFound
from sendmako.ids import Jid
from sendmako.media.crypto import MediaType
from sendmako.media.decrypt import DecryptRequest
from sendmako.messaging.sender import parse_recipient
from sendmako.sessions.manager import SessionManager
from sendmako.sessions.state import SessionView
from sendmako.storage import chats, history_syncs, messages
from sendmako.storage.chats import ChatRecord
from sendmako.storage.db import Database
from sendmako.storage.history_syncs import HistoryProgress
from sendmako.storage.messages import StoredMessage
from sendmako.storage.records import UserRecord

# WhatsApp's names for what a message holds (messages from the phone and from others are
# stored under them), as the API's message types.
_TYPES = {
    "conversation": "text",
    "extendedTextMessage": "text",
    "imageMessage": "image",
    "videoMessage": "video",
    "ptvMessage": "video",
    "audioMessage": "audio",
    "documentMessage": "document",
    "stickerMessage": "sticker",
    "locationMessage": "location",
    "liveLocationMessage": "location",
    "contactMessage": "contact",
    "pollCreationMessage": "poll",
    "pollCreationMessageV2": "poll",
    "pollCreationMessageV3": "poll",
    "pollCreationMessageV5": "poll",
    "pollCreationMessageV6": "poll",
}


def api_type(stored: str) -> str:
    return _TYPES.get(stored, stored)


@dataclass(frozen=True, slots=True)
class ChatEntry:
    record: ChatRecord
    last_message: StoredMessage | None

    @property
    def phone(self) -> str | None:
        """The other person's number (None for a group)."""
        return None if self.record.is_group else self.record.chat.split("@", 1)[0]


@dataclass(frozen=True, slots=True)
class ChatPage:
    session: SessionView
    chats: list[ChatEntry]
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class MessageEntry:
    message: StoredMessage
    reactions: list[tuple[str, str]]  # (who, emoji)
    own_phone: str | None  # the session's number: `from` of ours, `to` of theirs

    @property
    def sender(self) -> str | None:
        return self.own_phone if self.message.from_me else self.message.peer

    @property
    def recipient(self) -> str | None:
        if self.message.from_me:
            return self.message.peer
        # In a group, a member writes to the group.
        return self.message.chat if self.message.chat.endswith("@g.us") else self.own_phone


@dataclass(frozen=True, slots=True)
class MessagePage:
    session: SessionView
    chat: str
    messages: list[MessageEntry]
    next_cursor: str | None
    record: ChatRecord
    # The messages those of the page reply to, by WhatsApp id (when still stored).
    quoted: dict[str, StoredMessage]


class Chats:
    def __init__(self, db: Database, sessions: SessionManager) -> None:
        self.db = db
        self.sessions = sessions

    def session_for(self, user: UserRecord, session_id: str | None) -> SessionView:
        """The session to read: the one named (404 when not the user's), else the user's
        oldest connected one, else their oldest. Reading stored chats needs no connection."""
        if session_id is not None:
            return self.sessions.get(user, session_id)
        owned = self.sessions.list_for(user)
        if not owned:
            raise NotFound("No WhatsApp session found. Connect a number first.", code="no_session")
        connected = [view for view in owned if view.status == "connected"]
        return (connected or owned)[0]

    async def listing(
        self, user: UserRecord, session_id: str | None, limit: int, cursor: str | None
    ) -> ChatPage:
        session = self.session_for(user, session_id)
        after = _chat_position(cursor) if cursor is not None else None
        async with self.db.read() as db:
            found = await chats.page(db, session.session_id, limit + 1, after)
            shown = await _named(db, session, found[:limit])
            pairs = [(c.session_id, c.last_message_id) for c in shown if c.last_message_id]
            last = await messages.find_any(db, pairs) if pairs else {}
        entries = [ChatEntry(c, last.get((c.session_id, c.last_message_id or ""))) for c in shown]
        more = len(found) > limit
        next_cursor = (
            _encode({"t": shown[-1].last_at.isoformat(), "c": shown[-1].chat}) if more else None
        )
        return ChatPage(session, entries, next_cursor)

    async def messages(
        self,
        user: UserRecord,
        chat: str,
        session_id: str | None,
        limit: int,
        cursor: str | None,
    ) -> MessagePage:
        session = self.session_for(user, session_id)
        key = chat_key(chat)
        after = _message_position(cursor) if cursor is not None else None
        async with self.db.read() as db:
            record = await chats.find(db, session.session_id, key)
            if record is None:
                raise NotFound(f"chat: no chat with {chat} in session {session.session_id}.")
            (record,) = await _named(db, session, [record])
            found = await messages.of_chat(db, session.session_id, key, limit + 1, after)
            shown = found[:limit]
            reactions = await messages.reactions_of_many(db, [m.id for m in shown])
            wanted = sorted({(session.session_id, m.quoted_id) for m in shown if m.quoted_id})
            quoted = await messages.find_any(db, wanted) if wanted else {}
        entries = [MessageEntry(m, reactions.get(m.id, []), session.phone_number) for m in shown]
        more = len(found) > limit
        next_cursor = (
            _encode({"t": shown[-1].created_at.isoformat(), "i": shown[-1].id}) if more else None
        )
        by_id = {wa_id: message for (_, wa_id), message in quoted.items()}
        return MessagePage(session, key, entries, next_cursor, record, by_id)

    async def search(
        self, user: UserRecord, session_id: str, text: str, limit: int
    ) -> list[ChatEntry]:
        """The session's chats whose name or number holds `text`, latest first."""
        session = self.session_for(user, session_id)
        async with self.db.read() as db:
            found = await _named(
                db, session, await chats.search(db, session.session_id, text, limit)
            )
            pairs = [(c.session_id, c.last_message_id) for c in found if c.last_message_id]
            last = await messages.find_any(db, pairs) if pairs else {}
        return [ChatEntry(c, last.get((c.session_id, c.last_message_id or ""))) for c in found]

    async def media_of(
        self, user: UserRecord, session_id: str, chat: str, message_id: str
    ) -> DecryptRequest:
        """What decrypting a received message's file takes (404 when the chat has no such
        message, or it carries no file this server can fetch: what we sent keeps none)."""
        session = self.session_for(user, session_id)
        key = chat_key(chat)
        async with self.db.read() as db:
            found = await messages.find_any(db, [(session.session_id, message_id)])
        message = found.get((session.session_id, message_id))
        request = media_request(message.media) if message and message.chat == key else None
        if request is None:
            raise NotFound(f"message_id: no file of {message_id} in this chat.")
        return request

    async def history(self, session_id: str) -> HistoryProgress | None:
        """How far the session's history sync has come (None: none received)."""
        async with self.db.read() as db:
            return await history_syncs.of_session(db, session_id)


async def _named(
    db: AsyncSession, session: SessionView, found: list[ChatRecord]
) -> list[ChatRecord]:
    """Groups the phone's history did not name take their subject from the group cache."""
    unnamed = [c.chat for c in found if c.is_group and not c.name]
    subjects = await chats.group_subjects(db, session.id, unnamed)
    return [replace(c, name=subjects[c.chat]) if c.chat in subjects else c for c in found]


def media_request(media: dict[str, object] | None) -> DecryptRequest | None:
    """A stored file descriptor (what a webhook's `media` says) as a decrypt request; None
    when it lacks the keys (a file we sent: only what it was is kept)."""
    if not media:
        return None
    url, key, enc = media.get("url"), media.get("mediaKey"), media.get("fileEncSha256")
    if not (isinstance(url, str) and isinstance(key, str) and isinstance(enc, str)):
        return None
    try:
        kind: MediaType | None = MediaType(str(media.get("mediaType")))
    except ValueError:
        kind = None
    plain = media.get("fileSha256")
    size = media.get("fileSize")
    return DecryptRequest(
        url=url,
        field="url",
        media_key=base64.b64decode(key),
        mimetype=str(media.get("mimetype") or "application/octet-stream"),
        file_enc_sha256=base64.b64decode(enc),
        media_type=kind,
        file_sha256=base64.b64decode(plain) if isinstance(plain, str) else None,
        file_length=int(size) if isinstance(size, str) and size.isdigit() else None,
    )


def chat_key(chat: str) -> str:
    """A chat as the path names it (a number, a user or group JID) as it is stored."""
    jid: Jid = parse_recipient(chat, field="chat")
    return str(jid.without_device())


# -- cursors: opaque to clients, checked when they come back ----------------------------

_BAD_CURSOR = "cursor: not a cursor this API gave; pass next_cursor from the previous page as is"


def _encode(position: dict[str, object]) -> str:
    raw = json.dumps(position, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def _decode(cursor: str) -> dict[str, object]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        position = json.loads(raw)
    except (binascii.Error, ValueError) as exc:
        raise BadRequest(_BAD_CURSOR, field="cursor") from exc
    if not isinstance(position, dict):
        raise BadRequest(_BAD_CURSOR, field="cursor")
    return position


def _time(value: object) -> datetime:
    if not isinstance(value, str):
        raise BadRequest(_BAD_CURSOR, field="cursor")
    try:
        at = datetime.fromisoformat(value)
    except ValueError as exc:
        raise BadRequest(_BAD_CURSOR, field="cursor") from exc
    if at.tzinfo is None:
        raise BadRequest(_BAD_CURSOR, field="cursor")
    return at.astimezone(UTC)


def _chat_position(cursor: str) -> tuple[datetime, str]:
    position = _decode(cursor)
    chat = position.get("c")
    if not isinstance(chat, str) or len(chat) > 128:
        raise BadRequest(_BAD_CURSOR, field="cursor")
    return _time(position.get("t")), chat


def _message_position(cursor: str) -> tuple[datetime, int]:
    position = _decode(cursor)
    row = position.get("i")
    if not isinstance(row, int) or isinstance(row, bool) or not 0 < row < 2**63:
        raise BadRequest(_BAD_CURSOR, field="cursor")
    return _time(position.get("t")), row
