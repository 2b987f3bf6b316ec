"""neonize's history sync (the recent chats a phone sends once linked), built with its own
protobuf classes, becomes our `HistorySynced`: each message read as the live message it
would have been, chats named by phone number, what is no conversation left out."""

from __future__ import annotations

from typing import Any

from neonize.events import HistorySyncEv
from neonize.proto.waCommon.WACommon_pb2 import MessageKey
from neonize.proto.waE2E.WAWebProtobufsE2E_pb2 import (
    ExtendedTextMessage,
    ImageMessage,
    Message,
    ProtocolMessage,
)
from neonize.proto.waHistorySync.WAWebProtobufsHistorySync_pb2 import (
    Conversation,
    HistorySync,
    HistorySyncMsg,
)
from neonize.proto.waWeb.WAWebProtobufsWeb_pb2 import WebMessageInfo

from sendmako.engines.neonize import history
from sendmako.engines.neonize.protocol import decode, encode
from sendmako.model.events import HistoryConversation, HistorySynced, MessageReceived
from tests.engines.neonize.protobufs import GROUP, MARIA, MARIA_LID, ME, jid, media_fields
from tests.engines.neonize.test_everyday_events import connected

BOB = "5511955554444"


def stored(
    chat: str,
    message_id: str,
    message: Any,
    at: int,
    *,
    from_me: bool = False,
    participant: str = "",
) -> Any:
    return HistorySyncMsg(
        message=WebMessageInfo(
            key=MessageKey(remoteJID=chat, fromMe=from_me, ID=message_id, participant=participant),
            message=message,
            messageTimestamp=at,
            pushName="Maria" if not from_me else "",
        ),
        msgOrderID=1,
    )


def chunk(*conversations: Any, sync: int = HistorySync.RECENT, progress: int | None = 40) -> Any:
    data = HistorySync(syncType=sync, conversations=list(conversations), chunkOrder=1)
    if progress is not None:
        data.progress = progress
    return HistorySyncEv(Data=data)


MARIA_CHAT = Conversation(
    ID=f"{MARIA}@s.whatsapp.net",
    name="Maria Silva",
    unreadCount=2,
    messages=[
        stored(f"{MARIA}@s.whatsapp.net", "M2", Message(conversation="Tudo bem?"), 1_700_000_100),
        stored(
            f"{MARIA}@s.whatsapp.net",
            "M1",
            Message(extendedTextMessage=ExtendedTextMessage(text="Oi Maria")),
            1_700_000_000,
            from_me=True,
        ),
        # A deletion notice: no message for people.
        stored(
            f"{MARIA}@s.whatsapp.net",
            "M3",
            Message(
                protocolMessage=ProtocolMessage(
                    type=ProtocolMessage.REVOKE, key=MessageKey(ID="M0")
                )
            ),
            1_700_000_200,
        ),
    ],
)
GROUP_CHAT = Conversation(
    ID=f"{GROUP}@g.us",
    name="Família",
    messages=[
        stored(
            f"{GROUP}@g.us",
            "G1",
            Message(imageMessage=ImageMessage(caption="praia", **media_fields("image/jpeg"))),
            1_699_000_000,
            participant=f"{BOB}@s.whatsapp.net",
        )
    ],
)
# A chat WhatsApp addresses by hidden id, with the phone number beside it.
LID_CHAT = Conversation(
    ID=f"{MARIA_LID}@lid",
    pnJID=f"{MARIA}@s.whatsapp.net",
    messages=[stored(f"{MARIA_LID}@lid", "L1", Message(conversation="oi"), 1_700_000_300)],
)
STATUSES = Conversation(
    ID="status@broadcast",
    messages=[stored("status@broadcast", "S1", Message(conversation="story"), 1_700_000_000)],
)
OWN = jid(ME)


def test_a_history_chunk_becomes_chats_with_their_messages() -> None:
    synced = history.history_synced(chunk(MARIA_CHAT, GROUP_CHAT, STATUSES), OWN)
    assert synced is not None
    assert synced.progress == 40
    maria, group = synced.conversations
    assert (maria.chat, maria.name, maria.unread) == (f"{MARIA}@s.whatsapp.net", "Maria Silva", 2)
    theirs, ours = maria.messages
    assert (theirs.message_id, theirs.from_me, theirs.sender_phone) == ("M2", False, MARIA)
    assert (theirs.body, theirs.timestamp, theirs.sender_name) == (
        "Tudo bem?",
        1_700_000_100,
        "Maria",
    )
    assert (ours.message_id, ours.from_me, ours.body, ours.timestamp) == (
        "M1",
        True,
        "Oi Maria",
        1_700_000_000,
    )
    assert ours.chat == f"{MARIA}@s.whatsapp.net"
    (photo,) = group.messages
    assert (group.chat, group.name, group.unread) == (f"{GROUP}@g.us", "Família", None)
    assert (photo.is_group, photo.sender_phone, photo.wa_type, photo.body) == (
        True,
        BOB,
        "imageMessage",
        "praia",
    )
    assert photo.media is not None
    assert photo.media.mimetype == "image/jpeg"


def test_a_chat_by_hidden_id_is_named_by_its_phone_number() -> None:
    synced = history.history_synced(chunk(LID_CHAT), OWN)
    assert synced is not None
    (conversation,) = synced.conversations
    assert conversation.chat == f"{MARIA}@s.whatsapp.net"
    assert conversation.messages[0].sender_phone == MARIA


def test_chunks_without_chats_are_nothing() -> None:
    assert history.history_synced(chunk(sync=HistorySync.PUSH_NAME), OWN) is None


def test_the_connection_reports_history_and_it_crosses_the_worker_protocol() -> None:
    """Registered before connect(), reported through the link, and the event survives the
    frame protocol's encoding field for field."""
    _, client, link = connected()
    assert HistorySyncEv in client.handlers
    client.fire(chunk(MARIA_CHAT, progress=100))
    (event,) = link.events
    assert isinstance(event, HistorySynced)
    assert event.progress == 100
    assert decode(encode(event)) == event
    (conversation,) = event.conversations
    assert isinstance(conversation, HistoryConversation)
    assert all(isinstance(m, MessageReceived) for m in conversation.messages)
