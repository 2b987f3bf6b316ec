"""Acting on a message already in a chat: react to it, vote in it, edit it, delete it for
everyone, mark it read.

A `message_id` names a message this server sent or received: it is looked up among the
user's stored messages (404 naming `message_id` when there is none, or it is another
user's). The action goes out on the session that holds the message, paced like any send,
and the stored message follows once WhatsApp took it: the answer comes after that, so a
read right after it sees the change.
"""

from __future__ import annotations

from datetime import timedelta

from sendmako.directory.group_cache import GroupCache
from sendmako.errors import BadRequest, NotFound, OperationFailed
from sendmako.ids import Jid
from sendmako.messaging.sender import Sender, Sent, display, parse_recipient
from sendmako.model.actions import Send
from sendmako.model.chats import MarkRead
from sendmako.model.directory import ParticipantRole
from sendmako.model.messages import (
    EditMessage,
    MessageKey,
    PollVote,
    Reaction,
    RevokeMessage,
)
from sendmako.sessions.manager import SessionManager
from sendmako.sessions.state import SessionView
from sendmako.storage import chats, messages
from sendmako.storage.db import Database
from sendmako.storage.messages import StoredMessage
from sendmako.storage.records import UserRecord
from sendmako.storage.tables import utcnow

# WhatsApp's apps offer editing for 15 minutes; an edit sent later may be dropped silently.
EDIT_WINDOW = timedelta(minutes=15)
# Stored types (ours, and WhatsApp's for messages from the phone) whose text can change.
EDITABLE_TYPES = frozenset(
    {
        "text",
        "image",
        "video",
        "document",
        "conversation",
        "extendedTextMessage",
        "imageMessage",
        "videoMessage",
        "documentMessage",
    }
)


class MessageActions:
    def __init__(
        self, db: Database, sessions: SessionManager, sender: Sender, groups: GroupCache
    ) -> None:
        self.db = db
        self.sessions = sessions
        self.sender = sender
        self.groups = groups

    # -- lookups ----------------------------------------------------------------------------

    async def find(
        self,
        user: UserRecord,
        message_id: str,
        *,
        session_id: str | None = None,
        chat: Jid | None = None,
        own: bool = False,
        field: str = "message_id",
    ) -> StoredMessage:
        """The user's stored message `message_id` (in that session or chat, when given).
        Two of the user's sessions may hold the same message (one sent it to the other):
        `own` prefers the one this number wrote."""
        async with self.db.read() as db:
            found = await messages.of_user(db, user.id, message_id, session_id)
        if chat is not None:
            found = [m for m in found if _same_chat(m, chat)]
        if not found:
            raise NotFound(
                f"{field}: no message {message_id!r} in your sessions"
                + (f" in the chat {display(chat)}" if chat is not None else "")
                + ".",
                code="message_not_found",
            )
        if own:
            found.sort(key=lambda m: not m.from_me)
        return found[0]

    # -- sends about a message ---------------------------------------------------------------

    async def react(
        self, user: UserRecord, to: str, message_id: str, emoji: str, session_id: str | None
    ) -> Sent:
        chat = parse_recipient(to)
        target = await self.find(user, message_id, session_id=session_id, chat=chat)
        return await self._send(user, target, Reaction(chat, _key(target), emoji))

    async def vote(
        self,
        user: UserRecord,
        to: str,
        message_id: str,
        options: list[str],
        session_id: str | None,
    ) -> Sent:
        chat = parse_recipient(to)
        poll = await self.find(user, message_id, session_id=session_id, chat=chat)
        known = poll.poll_options
        if not known:
            raise OperationFailed(f"message_id: {message_id} is not a poll.", code="not_a_poll")
        for index, option in enumerate(options):
            if option not in known:
                raise BadRequest(
                    f"options[{index}]: {option!r} is not an option of this poll "
                    f"(options: {', '.join(known)})",
                    field=f"options[{index}]",
                )
        selectable = int(str((poll.poll or {}).get("selectable_count") or 1))
        if len(set(options)) > selectable:
            raise BadRequest(
                f"options: this poll takes at most {selectable} option(s)", field="options"
            )
        vote = PollVote(chat, _key(poll), tuple(dict.fromkeys(options)), poll_options=known)
        return await self._send(user, poll, vote)

    async def edit(
        self, user: UserRecord, message_id: str, text: str, session_id: str | None
    ) -> Sent:
        target = await self.find(user, message_id, session_id=session_id, own=True)
        if not target.from_me:
            raise OperationFailed(
                f"message_id: {message_id} was not sent by this number; only your own "
                "messages can be edited.",
                code="not_own_message",
            )
        if target.revoked_at is not None:
            raise OperationFailed(f"message_id: {message_id} was deleted.", code="message_revoked")
        if target.type not in EDITABLE_TYPES:
            raise OperationFailed(
                f"message_id: {message_id} is a {target.type} message: only a text, or the "
                "caption of an image, a video or a document, can be edited.",
                code="not_editable",
            )
        if utcnow() - target.created_at > EDIT_WINDOW:
            raise OperationFailed(
                f"message_id: the edit window has passed: WhatsApp lets a message be edited "
                f"for {EDIT_WINDOW.seconds // 60} minutes after it was sent.",
                code="edit_window_passed",
            )
        chat = Jid.parse(target.chat)
        return await self._send(user, target, EditMessage(chat, _key(target), text))

    async def delete(self, user: UserRecord, message_id: str, session_id: str | None) -> Sent:
        """Delete for everyone: a message this number sent, or, in a group where it is an
        admin, anyone's."""
        target = await self.find(user, message_id, session_id=session_id, own=True)
        chat = Jid.parse(target.chat)
        if not target.from_me:
            if not chat.is_group:
                raise OperationFailed(
                    f"message_id: {message_id} was sent by {target.peer}: outside a group, "
                    "only your own messages can be deleted for everyone.",
                    code="not_own_message",
                )
            if not await self._admin_of(user, target.session_id, chat):
                raise OperationFailed(
                    f"message_id: {message_id} was sent by {target.peer}: only a group admin "
                    "can delete other members' messages.",
                    code="not_admin",
                )
        return await self._send(user, target, RevokeMessage(chat, _key(target)))

    async def mark_read(
        self, user: UserRecord, chat: str, message_ids: list[str], session_id: str | None
    ) -> SessionView:
        """Blue ticks for the messages named, all of one chat."""
        jid = parse_recipient(chat, field="chat")
        found = [
            await self.find(
                user, message_id, session_id=session_id, chat=jid, field=f"message_ids[{index}]"
            )
            for index, message_id in enumerate(message_ids)
        ]
        sessions = {m.session_id for m in found}
        if len(sessions) > 1:
            raise BadRequest(
                "message_ids: the messages are in several sessions; give session_id",
                field="message_ids",
            )
        (session,) = sessions
        # WhatsApp takes one sender per receipt: a group's messages go by author.
        by_author: dict[str | None, list[str]] = {}
        for message in found:
            if message.from_me:
                continue  # our own messages need no receipt
            author = message.peer if jid.is_group else None
            by_author.setdefault(author, []).append(message.wa_message_id)
        for author, ids in by_author.items():
            sender = Jid.user_jid(author) if author is not None else None
            await self.sessions.perform(user, session, MarkRead(jid, tuple(ids), sender))
        # The chat's unread count follows: what came after the newest one read stays unread.
        newest = max(found, key=lambda message: (message.created_at, message.id))
        async with self.db.write() as tx:
            await chats.read_up_to(tx, session, newest.chat, (newest.created_at, newest.id))
        return self.sessions.get(user, session)

    # -- internals ------------------------------------------------------------------------

    async def _send(self, user: UserRecord, target: StoredMessage, action: Send) -> Sent:
        """`action` on the target's session, counted and paced like a message; the stored
        message follows once WhatsApp took it."""
        session = self.sessions.require(user, target.session_id, type(action))
        reservation = await self.sender.usage.reserve(user)
        try:
            sent = await self.sender.deliver(user, session, action, reservation)
        finally:
            reservation.release()
        await self._follow(target, action, session)
        return sent

    async def _follow(self, target: StoredMessage, action: Send, session: SessionView) -> None:
        """What this number just did to the message, on the stored message."""
        me = session.phone_number or ""
        now = utcnow()
        async with self.db.write() as tx:
            if isinstance(action, Reaction):
                await messages.react(tx, target.id, me, action.emoji, now)
            elif isinstance(action, EditMessage):
                await messages.edit(tx, target.id, action.text, now)
            elif isinstance(action, RevokeMessage):
                by = None if target.from_me else me
                await messages.revoke(tx, target.id, by, now)
            elif isinstance(action, PollVote):
                await messages.vote(tx, target.id, me, action.options, now)

    async def _admin_of(self, user: UserRecord, session_id: str, group: Jid) -> bool:
        view = self.sessions.get(user, session_id)
        info = await self.groups.get(
            view.id, self.sessions.performer(user, session_id), group, refresh=False
        )
        me = view.phone_number
        return any(
            p.phone == me and p.role is not ParticipantRole.MEMBER for p in info.participants
        )


def _key(message: StoredMessage) -> MessageKey:
    chat = Jid.parse(message.chat)
    sender = None if message.from_me else Jid.user_jid(message.peer)
    return MessageKey(chat, message.wa_message_id, message.from_me, sender)


def _same_chat(message: StoredMessage, chat: Jid) -> bool:
    """Whether the stored message is in `chat` (a direct chat is stored by the other
    side's JID, with or without a device)."""
    try:
        stored = Jid.parse(message.chat).without_device()
    except ValueError:
        return False
    return stored == chat.without_device()
