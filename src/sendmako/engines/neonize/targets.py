"""Messages about another message, built in pure Python with neonize's protobuf classes:
the key naming the target, reactions, edits, revokes.

neonize's own builders are avoided on purpose (`neonize-wave2.md`): `build_revoke` calls
`get_me` (aborts the process unless logged in) or, with Go, returns garbage; neonize's
pure `builder.build_revoke` checks only the phone number, so in a group addressed by
hidden ids (LID) it makes an admin revoke of our own message; `build_reaction` in Go cannot
tell our own messages when not logged in. These follow whatsmeow's `BuildMessageKey`,
`BuildReaction`, `BuildRevoke` and `BuildEdit`, with "is it ours" decided by the caller
against both our phone number and our LID.
"""

from __future__ import annotations

import time
from typing import Any

from neonize.proto.waCommon.WACommon_pb2 import MessageKey
from neonize.proto.waE2E.WAWebProtobufsE2E_pb2 import (
    FutureProofMessage,
    Message,
    ProtocolMessage,
    ReactionMessage,
)

from sendmako.ids import LID_SERVER, USER_SERVER, Jid

# Chats with one other person: a key there never names the author (whatsmeow's rule).
_DIRECT_SERVERS = frozenset({USER_SERVER, LID_SERVER, "msgr"})
# Media whose caption an edit replaces.
CAPTIONED = ("imageMessage", "videoMessage", "documentMessage")


def message_key(chat: Jid, message_id: str, *, from_me: bool, author: Jid | None) -> Any:
    """WhatsApp's key of a message: its chat and id, whether this number wrote it, and in
    a group who did (`author`, without device) when it was someone else."""
    key = MessageKey(remoteJID=str(chat.without_device()), fromMe=from_me, ID=message_id)
    if not from_me and chat.server not in _DIRECT_SERVERS and author is not None:
        key.participant = str(author.without_device())
    return key


def reaction(key: Any, emoji: str) -> Any:
    """A reaction to the message `key` names; "" takes it back (whatsmeow then marks the
    stanza as a sender revoke by itself)."""
    return Message(
        reactionMessage=ReactionMessage(
            key=key, text=emoji, senderTimestampMS=int(time.time() * 1000)
        )
    )


def revoke(key: Any) -> Any:
    """Delete for everyone: `key.fromMe` our own message, else (in a group) an admin's
    revoke of `key.participant`'s; whatsmeow marks the stanza edit="7" or "8" by itself."""
    return Message(protocolMessage=ProtocolMessage(type=ProtocolMessage.REVOKE, key=key))


def edit(chat: Jid, message_id: str, content: Any) -> Any:
    """Replace our own message `message_id` with `content` (whatsmeow's BuildEdit)."""
    return Message(
        editedMessage=FutureProofMessage(
            message=Message(
                protocolMessage=ProtocolMessage(
                    key=MessageKey(
                        remoteJID=str(chat.without_device()), fromMe=True, ID=message_id
                    ),
                    type=ProtocolMessage.MESSAGE_EDIT,
                    editedMessage=content,
                    timestampMS=int(time.time() * 1000),
                )
            )
        )
    )


def edited_content(original: Any | None, text: str) -> Any:
    """The new content of an edit: the same media with `text` as its caption when the
    original is known to be a captioned picture, video or document, else the text."""
    if original is not None:
        for kind in CAPTIONED:
            if original.HasField(kind):
                media = type(getattr(original, kind))()
                media.CopyFrom(getattr(original, kind))
                media.caption = text
                media.ClearField("contextInfo")
                return Message(**{kind: media})
    return Message(conversation=text)
