"""Realistic neonize events, built with neonize's own protobuf classes (what its Go core
sends, field for field), for conversion tests that need no network and no Go."""

from __future__ import annotations

import ctypes
import hashlib
from typing import Any

from neonize._binder import func_callback_bytes
from neonize.events import EVENT_TO_INT, MessageEv, ReceiptEv
from neonize.proto import Neonize_pb2 as npb
from neonize.proto.waCommon.WACommon_pb2 import MessageKey
from neonize.proto.waE2E.WAWebProtobufsE2E_pb2 import Message, PollEncValue, PollUpdateMessage

GROUP = "120363025246125244"
MARIA_LID = "123456789012345"
MARIA = "5511999998888"
ME = "22241857975"
ME_LID = "99887766554433"
EMPTY = npb.JID(User="", Server="", RawAgent=0, Device=0, Integrator=0, IsEmpty=True)
PLAINTEXT = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 4
ENCRYPTED = bytes(reversed(PLAINTEXT)) + b"0123456789"
MEDIA_KEY = bytes(range(32))


def jid(user: str, server: str = "s.whatsapp.net", device: int = 0) -> Any:
    return npb.JID(User=user, Server=server, RawAgent=0, Device=device, Integrator=0, IsEmpty=False)


def media_fields(mimetype: str) -> dict[str, Any]:
    """The fields every WhatsApp media message carries."""
    return {
        "URL": "https://mmg.whatsapp.net/o1/v/t62.7118-24/f1/m231/abc.enc?ccb=9-4",
        "directPath": "/o1/v/t62.7118-24/f1/m231/abc.enc?ccb=9-4&oh=01&oe=68",
        "mediaKey": MEDIA_KEY,
        "fileEncSHA256": hashlib.sha256(ENCRYPTED).digest(),
        "fileSHA256": hashlib.sha256(PLAINTEXT).digest(),
        "fileLength": len(PLAINTEXT),
        "mimetype": mimetype,
    }


def message_event(
    message: Any,
    *,
    chat: Any | None = None,
    sender: Any | None = None,
    sender_alt: Any = EMPTY,
    is_group: bool = False,
    from_me: bool = False,
    message_id: str = "3EB0C431C26A1916E0F8A1",
    push_name: str = "Maria",
    media_type: str = "",
    recipient_alt: Any = EMPTY,
    edit: str = "",
) -> MessageEv:
    sender = sender if sender is not None else jid(MARIA)
    return MessageEv(
        Info=npb.MessageInfo(
            MessageSource=npb.MessageSource(
                Chat=chat if chat is not None else sender,
                Sender=sender,
                SenderAlt=sender_alt,
                IsFromMe=from_me,
                IsGroup=is_group,
                AddressingMode=npb.LID if sender.Server == "lid" else npb.PN,
                RecipientAlt=recipient_alt,
                BroadcastListOwner=EMPTY,
            ),
            ID=message_id,
            ServerID=0,
            Type="media" if media_type else "text",
            Pushname=push_name,
            Timestamp=1767225600123,  # milliseconds, as neonize gives a message's time
            Category="",
            Multicast=False,
            MediaType=media_type,
            Edit=edit,
        ),
        Message=message,
        IsEphemeral=False,
        IsViewOnce=False,
        IsViewOnceV2=False,
        IsViewOnceV2Extension=False,
        IsDocumentWithCaption=False,
        IsLottieSticker=False,
        IsEdit=edit == "1",
        UnavailableRequestID="",
        RetryCount=0,
    )


def receipt_event(kind: int, *, group: bool = False, ids: tuple[str, ...] = ("3EB0AA",)) -> Any:
    source = npb.MessageSource(
        Chat=jid(GROUP, "g.us") if group else jid(MARIA),
        Sender=jid(MARIA_LID, "lid") if group else jid(MARIA),
        SenderAlt=jid(MARIA) if group else EMPTY,
        IsFromMe=False,
        IsGroup=group,
        AddressingMode=npb.LID if group else npb.PN,
        RecipientAlt=EMPTY,
        BroadcastListOwner=EMPTY,
    )
    return ReceiptEv(MessageSource=source, MessageIDs=list(ids), Timestamp=1767225700, Type=kind)


def poll_vote_event(**source: Any) -> MessageEv:
    """An encrypted vote on our poll 3EB0POLL in a LID group (its key from the voter's
    point of view); `source` as `message_event` takes it."""
    update = PollUpdateMessage(
        pollCreationMessageKey=MessageKey(
            remoteJID=f"{GROUP}@g.us", fromMe=False, ID="3EB0POLL", participant=f"{ME_LID}@lid"
        ),
        vote=PollEncValue(encPayload=b"\x01" * 40, encIV=b"\x02" * 12),
        senderTimestampMS=1767225600123,
    )
    return message_event(Message(pollUpdateMessage=update), message_id="3EB0VOTE", **source)


def text(body: str) -> Message:
    return Message(conversation=body)


def dispatch(client: Any, event: Any) -> None:
    """Deliver `event` to `client`'s handlers the way neonize's Go core does: serialised,
    through the ctypes callback that Go calls."""
    wire = event.SerializeToString()
    thunk = func_callback_bytes(client.event.execute)
    buffer = ctypes.create_string_buffer(wire, len(wire))
    thunk(client.uuid, ctypes.addressof(buffer), len(wire), EVENT_TO_INT[type(event)])
