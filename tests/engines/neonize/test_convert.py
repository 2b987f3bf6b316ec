"""neonize's events, built with its own protobuf classes, become our events with every
field webhooks need (`message.received`, `message.status`, session statuses)."""

from __future__ import annotations

import pytest
from neonize.client import NewClient
from neonize.events import (
    ConnectFailureEv,
    LoggedOutEv,
    ReceiptEv,
    TemporaryBanEv,
)
from neonize.proto import Neonize_pb2 as npb
from neonize.proto.waE2E.WAWebProtobufsE2E_pb2 import (
    AudioMessage,
    ContactMessage,
    ContextInfo,
    DocumentMessage,
    ExtendedTextMessage,
    ImageMessage,
    LocationMessage,
    Message,
    ProtocolMessage,
    StickerMessage,
    VideoMessage,
)

from sendmako.engines.neonize import convert
from sendmako.engines.neonize.connection import Connection, ConnectionConfig, neonize_client
from sendmako.model.events import (
    IncomingMedia,
    MessageReceived,
    ReceiptReceived,
    StatusChanged,
)
from sendmako.model.statuses import SessionStatus
from tests.engines.neonize.protobufs import (
    ENCRYPTED,
    GROUP,
    MARIA,
    MARIA_LID,
    MEDIA_KEY,
    PLAINTEXT,
    dispatch,
    jid,
    media_fields,
    message_event,
    receipt_event,
    text,
)
from tests.engines.neonize.recording import RecordingLink


def received(event: object) -> MessageReceived:
    converted = convert.message_received(event)  # type: ignore[arg-type]
    assert converted is not None
    return converted


def test_direct_text_message_carries_what_message_received_needs() -> None:
    """message_id, from, sender_name, type, body, timestamp: all there for a direct text."""
    got = received(message_event(text("Bonjour, la commande est prête ?")))
    assert got == MessageReceived(
        message_id="3EB0C431C26A1916E0F8A1",
        chat=f"{MARIA}@s.whatsapp.net",
        sender_phone=MARIA,
        sender_jid=f"{MARIA}@s.whatsapp.net",
        sender_name="Maria",
        wa_type="conversation",
        body="Bonjour, la commande est prête ?",
        timestamp=1767225600,
    )


def test_group_message_from_a_hidden_lid_sender_gives_the_phone_number() -> None:
    """In LID-addressed groups the sender is an @lid: `from` comes from SenderAlt."""
    message = Message(
        extendedTextMessage=ExtendedTextMessage(
            text="hello @5511911112222",
            contextInfo=ContextInfo(
                stanzaID="3EB0QUOTED",
                participant=f"{MARIA}@s.whatsapp.net",
                mentionedJID=["5511911112222@s.whatsapp.net"],
            ),
        )
    )
    got = received(
        message_event(
            message,
            chat=jid(GROUP, "g.us"),
            sender=jid(MARIA_LID, "lid"),
            sender_alt=jid(MARIA),
            is_group=True,
        )
    )
    assert (got.chat, got.is_group) == (f"{GROUP}@g.us", True)
    assert got.sender_phone == MARIA
    assert got.sender_jid == f"{MARIA_LID}@lid"
    assert (got.wa_type, got.body) == ("extendedTextMessage", "hello @5511911112222")
    assert got.quoted_message_id == "3EB0QUOTED"
    assert got.mentions == ("5511911112222",)


def test_lid_sender_without_alternate_is_resolved_or_left_as_is() -> None:
    """Without SenderAlt the device store is asked; if it does not know, the LID stays."""
    event = message_event(
        text("hi"), chat=jid(GROUP, "g.us"), sender=jid(MARIA_LID, "lid"), is_group=True
    )
    asked: list[str] = []

    def resolve(lid: object) -> str | None:
        asked.append(lid.User)  # type: ignore[attr-defined]
        return MARIA

    assert convert.message_received(event, resolve).sender_phone == MARIA  # type: ignore[union-attr]
    assert asked == [MARIA_LID]
    assert received(event).sender_phone == MARIA_LID


def test_direct_chat_addressed_by_lid_is_named_by_phone_number() -> None:
    got = received(message_event(text("hi"), sender=jid(MARIA_LID, "lid"), sender_alt=jid(MARIA)))
    assert got.chat == f"{MARIA}@s.whatsapp.net"
    assert got.sender_phone == MARIA


MEDIA_CASES = [
    (
        "imageMessage",
        Message(
            imageMessage=ImageMessage(
                **media_fields("image/jpeg"), width=1280, height=720, caption="la facture"
            )
        ),
        IncomingMedia("image", "", "", b"", b"", b"", 0, "image/jpeg", width=1280, height=720),
        "la facture",
    ),
    (
        "videoMessage",
        Message(
            videoMessage=VideoMessage(
                **media_fields("video/mp4"), width=640, height=360, seconds=12, caption="vidéo"
            )
        ),
        IncomingMedia("video", "", "", b"", b"", b"", 0, "video/mp4", 640, 360, duration=12),
        "vidéo",
    ),
    (
        "audioMessage",
        Message(
            audioMessage=AudioMessage(
                **media_fields("audio/ogg; codecs=opus"), seconds=7, PTT=True, waveform=b"\x01" * 64
            )
        ),
        IncomingMedia(
            "audio", "", "", b"", b"", b"", 0, "audio/ogg; codecs=opus", duration=7, voice_note=True
        ),
        None,
    ),
    (
        "documentMessage",
        Message(
            documentMessage=DocumentMessage(
                **media_fields("application/pdf"), fileName="devis.pdf", caption="le devis"
            )
        ),
        IncomingMedia(
            "document", "", "", b"", b"", b"", 0, "application/pdf", filename="devis.pdf"
        ),
        "le devis",
    ),
    (
        "stickerMessage",
        Message(stickerMessage=StickerMessage(**media_fields("image/webp"), width=512, height=512)),
        IncomingMedia("sticker", "", "", b"", b"", b"", 0, "image/webp", width=512, height=512),
        None,
    ),
]


@pytest.mark.parametrize(
    ("wa_type", "message", "expected", "body"), MEDIA_CASES, ids=[c[0] for c in MEDIA_CASES]
)
def test_each_media_type_carries_every_field_decrypt_media_needs(
    wa_type: str, message: Message, expected: IncomingMedia, body: str | None
) -> None:
    """url, mimetype, mediaKey, fileEncSha256, directPath, fileSize, width, height,
    duration and mediaType (the key family) for every media kind."""
    import hashlib

    got = received(message_event(message, media_type=expected.media_type))
    assert (got.wa_type, got.body) == (wa_type, body)
    media = got.media
    assert media is not None
    assert media.url.startswith("https://mmg.whatsapp.net/")
    assert media.direct_path.startswith("/o1/v/")
    assert media.media_key == MEDIA_KEY
    assert media.file_enc_sha256 == hashlib.sha256(ENCRYPTED).digest()
    assert media.file_sha256 == hashlib.sha256(PLAINTEXT).digest()
    assert media.file_length == len(PLAINTEXT)
    described = (
        media.media_type,
        media.mimetype,
        media.width,
        media.height,
        media.duration,
        media.filename,
        media.voice_note,
    )
    assert described == (
        expected.media_type,
        expected.mimetype,
        expected.width,
        expected.height,
        expected.duration,
        expected.filename,
        expected.voice_note,
    )


def test_media_without_url_gets_one_from_its_direct_path() -> None:
    fields = media_fields("image/jpeg")
    del fields["URL"]
    got = received(message_event(Message(imageMessage=ImageMessage(**fields))))
    assert got.media is not None
    assert got.media.url == "https://mmg.whatsapp.net" + fields["directPath"]


def test_location_and_contact_messages() -> None:
    location = received(
        message_event(
            Message(
                locationMessage=LocationMessage(
                    degreesLatitude=18.0735,
                    degreesLongitude=-15.9582,
                    name="Marché",
                    address="Nouakchott",
                )
            )
        )
    )
    assert location.wa_type == "locationMessage"
    assert (location.latitude, location.longitude) == (18.0735, -15.9582)
    assert (location.location_name, location.location_address) == ("Marché", "Nouakchott")
    vcard = "BEGIN:VCARD\nVERSION:3.0\nFN:Awa\nTEL;waid=22241857975:+22241857975\nEND:VCARD"
    contact = received(
        message_event(Message(contactMessage=ContactMessage(displayName="Awa", vcard=vcard)))
    )
    assert (contact.wa_type, contact.contact_name, contact.contact_vcard) == (
        "contactMessage",
        "Awa",
        vcard,
    )


def test_signalling_messages_are_not_delivered() -> None:
    """Revokes and key distribution are WhatsApp's plumbing, not messages for people."""
    revoke = Message(protocolMessage=ProtocolMessage(type=ProtocolMessage.REVOKE))
    assert convert.message_received(message_event(revoke)) is None


def test_delivered_and_read_receipts_become_message_status() -> None:
    delivered = convert.receipt_received(receipt_event(ReceiptEv.DELIVERED, ids=("A", "B")))
    assert delivered == ReceiptReceived(
        message_ids=("A", "B"),
        chat=f"{MARIA}@s.whatsapp.net",
        status="delivered",
        timestamp=1767225700,
    )
    read = convert.receipt_received(receipt_event(ReceiptEv.READ, group=True))
    assert read is not None
    assert (read.status, read.chat, read.participant_phone) == ("read", f"{GROUP}@g.us", MARIA)


@pytest.mark.parametrize(
    "kind", [ReceiptEv.PLAYED, ReceiptEv.READ_SELF, ReceiptEv.RETRY, ReceiptEv.SERVER_ERROR]
)
def test_other_receipts_are_ignored(kind: int) -> None:
    assert convert.receipt_received(receipt_event(kind)) is None


def test_logout_from_the_phone_is_terminal_with_a_reason() -> None:
    ending = convert.logged_out(LoggedOutEv(OnConnect=False, Reason=npb.LOGGED_OUT))
    assert ending.status is SessionStatus.LOGGED_OUT
    assert not ending.retry
    assert "unlinked from the phone" in ending.detail


def test_temporary_ban_names_its_code_and_expiry_and_retries_after_it() -> None:
    ending = convert.temporary_ban(
        TemporaryBanEv(Code=TemporaryBanEv.SEND_TO_TOO_MANY_PEOPLE, Expire=5400)
    )
    assert ending.status is SessionStatus.DISCONNECTED
    assert "SEND_TO_TOO_MANY_PEOPLE" in ending.detail
    assert "1 h 30 min" in ending.detail
    assert (ending.retry, ending.retry_after) == (True, 5400.0)


def test_client_outdated_says_to_upgrade_neonize() -> None:
    ending = convert.connect_failure(
        ConnectFailureEv(Reason=npb.CLIENT_OUTDATED, Message="405", Raw=npb.Node(Tag="failure"))
    )
    assert ending == convert.client_outdated()
    assert "upgrade neonize" in ending.detail
    assert not ending.retry


def test_other_connect_failures_retry_and_stream_replaced_does_not() -> None:
    failure = convert.connect_failure(
        ConnectFailureEv(Reason=npb.SERVICE_UNAVAILABLE, Message="try later")
    )
    assert failure.retry
    assert failure.status is None
    assert "SERVICE_UNAVAILABLE: try later" in failure.detail
    assert not convert.stream_replaced().retry


def test_dial_errors_read_well() -> None:
    error = (
        "failed to dial whatsapp web websocket: failed to WebSocket dial: failed to send "
        'handshake request: Get "https://web.whatsapp.com/ws/chat": proxyconnect tcp: '
        "dial tcp 127.0.0.1:9: connect: connection refused"
    )
    assert convert.dial_failure(error) == (
        "cannot reach WhatsApp: proxyconnect tcp: dial tcp 127.0.0.1:9: connect: connection refused"
    )


def test_events_reach_our_handlers_through_neonizes_real_dispatcher(tmp_path: object) -> None:
    """Handlers registered on a real NewClient receive events exactly as Go delivers them."""
    link = RecordingLink()
    config = ConnectionConfig("user_1", "/nonexistent/store.db", None, None, shared_store=False)
    connection = Connection(config, link, client_factory=neonize_client, devices=lambda _s: [])
    connection.open()
    assert isinstance(connection.client, NewClient)

    dispatch(
        connection.client,
        message_event(
            text("salut"),
            chat=jid(GROUP, "g.us"),
            sender=jid(MARIA_LID, "lid"),
            sender_alt=jid(MARIA),
            is_group=True,
        ),
    )
    dispatch(connection.client, receipt_event(ReceiptEv.READ))
    dispatch(connection.client, LoggedOutEv(OnConnect=True, Reason=npb.LOGGED_OUT))

    message, receipt, status = link.events
    assert isinstance(message, MessageReceived)
    assert (message.sender_phone, message.body) == (MARIA, "salut")
    assert isinstance(receipt, ReceiptReceived)
    assert isinstance(status, StatusChanged)
    assert status.status is SessionStatus.LOGGED_OUT
    assert [ending.retry for ending in link.endings] == [False]
    # The message is remembered, so a reply can quote it.
    remembered = connection.recent.get("3EB0C431C26A1916E0F8A1")
    assert remembered is not None
    assert remembered.message.conversation == "salut"
