"""neonize's `HistorySyncEv` (the recent chats the phone sends once a device is linked, in
several chunks) as our `HistorySynced`.

Each stored message of the history is a `WebMessageInfo`: its key (chat, author, id, ours
or not), its time in seconds and the same `Message` a live one carries. It is read as the
live `MessageEv` it would have been, so a message from the history says exactly what the
same message arriving live would say (convert.py is the one reading of a message).
"""

from __future__ import annotations

from typing import Any

from neonize.events import HistorySyncEv, MessageEv
from neonize.proto import Neonize_pb2 as npb

from sendmako.engines.neonize import convert
from sendmako.engines.neonize.convert import LidResolver
from sendmako.ids import GROUP_SERVER, LID_SERVER, USER_SERVER
from sendmako.model.events import HistoryConversation, HistorySynced, MessageReceived

# The chunks that carry conversations; the others carry push names, settings, statuses.
_WITH_CHATS = frozenset(
    {
        HistorySyncEv().Data.INITIAL_BOOTSTRAP,
        HistorySyncEv().Data.RECENT,
        HistorySyncEv().Data.FULL,
        HistorySyncEv().Data.ON_DEMAND,
    }
)
_KNOWN_SERVERS = frozenset({USER_SERVER, GROUP_SERVER, LID_SERVER})


def history_synced(
    ev: HistorySyncEv, own: Any, resolve: LidResolver | None = None
) -> HistorySynced | None:
    """A chunk of history as our event; None for a chunk without chats. `own` is this
    device's JID (the author of the messages the phone's owner wrote)."""
    data = ev.Data
    if data.syncType not in _WITH_CHATS:
        return None
    conversations = []
    for conversation in data.conversations:
        chat = _chat(conversation, resolve)
        if chat is None:
            continue
        messages = tuple(
            converted
            for item in conversation.messages
            if (converted := _message(item.message, chat, own, resolve)) is not None
        )
        unread = int(conversation.unreadCount) if conversation.HasField("unreadCount") else None
        name = str(conversation.name or conversation.displayName) or None
        conversations.append(HistoryConversation(chat, name, unread, messages))
    progress = int(data.progress) if data.HasField("progress") else None
    return HistorySynced(tuple(conversations), progress)


def _chat(conversation: Any, resolve: LidResolver | None) -> str | None:
    """The chat's JID as the live messages of the chat name it (by phone number)."""
    jid = convert.jid_proto(str(conversation.ID))
    if jid is None or jid.Server not in _KNOWN_SERVERS:
        return None  # status broadcasts, newsletters: not conversations
    if jid.Server == LID_SERVER:
        alt = convert.jid_proto(str(conversation.pnJID)) if conversation.pnJID else None
        if alt is not None and alt.Server == USER_SERVER:
            return convert.jid_text(alt)
        phone = resolve(jid) if resolve is not None else None
        if phone:
            return f"{phone}@{USER_SERVER}"
    return convert.jid_text(jid)


def _message(info: Any, chat: str, own: Any, resolve: LidResolver | None) -> MessageReceived | None:
    """One message of the history, read as the live event it would have been; None for
    what is no message for people (revokes, reactions, system notices)."""
    key = info.key
    chat_jid = convert.jid_proto(chat)
    if chat_jid is None or not key.ID:
        return None
    is_group = chat_jid.Server == GROUP_SERVER
    if key.fromMe:
        sender = own
    elif is_group:
        sender = convert.jid_proto(str(key.participant or info.participant))
    else:
        sender = chat_jid
    if sender is None:
        return None
    empty = npb.JID(User="", Server="", RawAgent=0, Device=0, Integrator=0, IsEmpty=True)
    live = MessageEv(
        Info=npb.MessageInfo(
            MessageSource=npb.MessageSource(
                Chat=chat_jid,
                Sender=sender,
                SenderAlt=empty,
                RecipientAlt=empty,
                IsFromMe=bool(key.fromMe),
                IsGroup=is_group,
            ),
            ID=str(key.ID),
            Pushname=str(info.pushName),
            # A live message's time is in milliseconds (convert._seconds); the history's
            # is in seconds.
            Timestamp=int(info.messageTimestamp) * 1000,
        ),
        Message=info.message,
    )
    converted = convert.message_event(live, resolve)
    return converted if isinstance(converted, MessageReceived) else None
