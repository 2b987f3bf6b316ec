"""What each send type puts on the wire: `Commands` driven with a fake of the neonize
client, reading the exact `Message` protobufs neonize would have sent."""

from __future__ import annotations

import io
import threading
from pathlib import Path

import pytest
from neonize.proto.waE2E.WAWebProtobufsE2E_pb2 import Message
from neonize.utils.enum import MediaType
from PIL import Image

from sendmako.engines.neonize.commands import Commands
from sendmako.engines.neonize.ffi import Own
from sendmako.engines.neonize.outgoing import VOICE_NOTE_MIMETYPE
from sendmako.engines.neonize.recent import RecentMessages
from sendmako.errors import BadRequest, OperationFailed, Unavailable
from sendmako.ids import Jid
from sendmako.model.messages import (
    ContactCard,
    Location,
    MediaPayload,
    MessageType,
    OutgoingMessage,
)
from tests.engines.neonize.fakes import FakeClient
from tests.engines.neonize.protobufs import GROUP, MARIA, ME, ME_LID

TO = Jid.user_jid(MARIA)


def commands(client: FakeClient, *, ready: bool = True, spool: Path | None = None) -> Commands:
    return Commands(
        client,
        session_id="user_1",
        lock=threading.Lock(),
        ready=lambda: ready,
        recent=RecentMessages(),
        spool_dir=spool,
        own=lambda: Own(phone=ME, lid=ME_LID, push_name="Awa"),
    )


def picture(kind: str = "PNG", size: tuple[int, int] = (640, 480)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, format=kind)
    return out.getvalue()


def last(client: FakeClient) -> Message:
    return client.sent[-1][1]


def test_plain_text_goes_as_conversation_and_returns_whatsapps_id() -> None:
    client = FakeClient()
    result = commands(client).perform(OutgoingMessage(to=TO, type=MessageType.TEXT, text="Bonjour"))
    to, message = client.sent[0]
    assert (to.User, to.Server) == (MARIA, "s.whatsapp.net")
    assert [f.name for f, _ in message.ListFields()] == ["conversation"]
    assert message.conversation == "Bonjour"
    assert result.message_id == "3EB0SENT1"
    assert result.timestamp.timestamp() == 1767225600
    assert client.calls[0] == ("is_on_whatsapp", ("+" + MARIA,))


def test_mentions_in_a_group_ride_in_context_info() -> None:
    client = FakeClient()
    group = Jid(GROUP, "g.us")
    commands(client).perform(
        OutgoingMessage(
            to=group,
            type=MessageType.TEXT,
            text="@5511911112222 @22241857975 réunion à 10 h",
            mentions=(Jid.user_jid("5511911112222"), Jid.user_jid("22241857975")),
        )
    )
    to, message = client.sent[0]
    assert (to.User, to.Server) == (GROUP, "g.us")
    assert message.extendedTextMessage.text.endswith("réunion à 10 h")
    assert list(message.extendedTextMessage.contextInfo.mentionedJID) == [
        "5511911112222@s.whatsapp.net",
        "22241857975@s.whatsapp.net",
    ]
    assert not any(name == "is_on_whatsapp" for name, _ in client.calls)  # groups need no check


def test_reply_quotes_a_remembered_message_with_its_sender_and_content() -> None:
    client = FakeClient()
    cmds = commands(client)
    cmds.recent.remember("3EB0ORIGINAL", f"{MARIA}@s.whatsapp.net", Message(conversation="Prix ?"))
    cmds.perform(
        OutgoingMessage(
            to=TO, type=MessageType.TEXT, text="12 000 MRU", quoted_message_id="3EB0ORIGINAL"
        )
    )
    context = last(client).extendedTextMessage.contextInfo
    assert context.stanzaID == "3EB0ORIGINAL"
    assert context.participant == f"{MARIA}@s.whatsapp.net"
    assert context.quotedMessage.conversation == "Prix ?"


def test_a_reply_to_our_own_sent_message_quotes_it_too() -> None:
    client = FakeClient()
    cmds = commands(client)
    sent = cmds.perform(OutgoingMessage(to=TO, type=MessageType.TEXT, text="Commande prête"))
    cmds.perform(
        OutgoingMessage(
            to=TO, type=MessageType.TEXT, text="Rappel", quoted_message_id=sent.message_id
        )
    )
    context = last(client).extendedTextMessage.contextInfo
    assert context.participant == f"{ME}@s.whatsapp.net"
    assert context.quotedMessage.conversation == "Commande prête"


def test_reply_to_an_unknown_message_sends_its_id_only() -> None:
    client = FakeClient()
    commands(client).perform(
        OutgoingMessage(to=TO, type=MessageType.TEXT, text="ok", quoted_message_id="3EB0GONE")
    )
    context = last(client).extendedTextMessage.contextInfo
    assert context.stanzaID == "3EB0GONE"
    assert not context.HasField("quotedMessage")


def test_image_gets_width_height_and_a_jpeg_thumbnail_from_its_bytes() -> None:
    client = FakeClient()
    data = picture()
    commands(client).perform(
        OutgoingMessage(
            to=TO,
            type=MessageType.IMAGE,
            text="la facture",
            media=MediaPayload(data=data, mimetype="image/png"),
        )
    )
    assert client.uploads == [(data, MediaType.MediaImage)]
    image = last(client).imageMessage
    assert (image.width, image.height, image.caption, image.mimetype) == (
        640,
        480,
        "la facture",
        "image/png",
    )
    assert image.URL == "https://mmg.whatsapp.net/v/t62/upload.enc"
    assert image.directPath == "/v/t62/upload.enc?ccb=11-4"
    assert image.mediaKey == b"k" * 32
    assert image.fileLength == len(data)
    with Image.open(io.BytesIO(image.JPEGThumbnail)) as thumbnail:
        assert thumbnail.format == "JPEG"
        assert max(thumbnail.size) <= 96


def test_video_carries_the_given_dimensions_duration_and_thumbnail() -> None:
    client = FakeClient()
    commands(client).perform(
        OutgoingMessage(
            to=TO,
            type=MessageType.VIDEO,
            text="démo",
            media=MediaPayload(
                data=b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 100,
                mimetype="video/mp4",
                width=1280,
                height=720,
                seconds=31,
                thumbnail=b"\xff\xd8thumb",
            ),
        )
    )
    video = last(client).videoMessage
    assert client.uploads[0][1] == MediaType.MediaVideo
    assert (video.width, video.height, video.seconds, video.caption) == (1280, 720, 31, "démo")
    assert video.JPEGThumbnail == b"\xff\xd8thumb"


def test_voice_note_is_ptt_ogg_opus_with_seconds_and_waveform() -> None:
    client = FakeClient()
    waveform = bytes(range(0, 128, 2))
    commands(client).perform(
        OutgoingMessage(
            to=TO,
            type=MessageType.AUDIO,
            voice_note=True,
            media=MediaPayload(
                data=b"OggS" + b"\x00" * 200, mimetype="audio/ogg", seconds=9, waveform=waveform
            ),
        )
    )
    audio = last(client).audioMessage
    assert client.uploads[0][1] == MediaType.MediaAudio
    assert (audio.PTT, audio.mimetype, audio.seconds, audio.waveform) == (
        True,
        VOICE_NOTE_MIMETYPE,
        9,
        waveform,
    )


def test_plain_audio_is_no_voice_note() -> None:
    client = FakeClient()
    commands(client).perform(
        OutgoingMessage(
            to=TO,
            type=MessageType.AUDIO,
            media=MediaPayload(data=b"ID3" + b"\x00" * 50, mimetype="audio/mpeg", seconds=200),
        )
    )
    audio = last(client).audioMessage
    assert (audio.PTT, audio.mimetype, audio.HasField("waveform")) == (False, "audio/mpeg", False)


def test_document_keeps_its_file_name_and_mimetype() -> None:
    client = FakeClient()
    commands(client).perform(
        OutgoingMessage(
            to=TO,
            type=MessageType.DOCUMENT,
            text="le devis",
            media=MediaPayload(data=b"%PDF-1.7", mimetype="application/pdf", filename="devis.pdf"),
        )
    )
    document = last(client).documentMessage
    assert client.uploads[0][1] == MediaType.MediaDocument
    assert (document.fileName, document.title, document.mimetype, document.caption) == (
        "devis.pdf",
        "devis.pdf",
        "application/pdf",
        "le devis",
    )


def test_location() -> None:
    client = FakeClient()
    commands(client).perform(
        OutgoingMessage(
            to=TO,
            type=MessageType.LOCATION,
            location=Location(18.0735, -15.9582, name="Marché", address="Nouakchott"),
        )
    )
    location = last(client).locationMessage
    assert (location.degreesLatitude, location.degreesLongitude) == (18.0735, -15.9582)
    assert (location.name, location.address) == ("Marché", "Nouakchott")


def test_sticker_is_webp_uploaded_with_image_keys() -> None:
    client = FakeClient()
    data = picture("WEBP", (512, 512))
    commands(client).perform(
        OutgoingMessage(
            to=TO, type=MessageType.STICKER, media=MediaPayload(data=data, mimetype="image/webp")
        )
    )
    sticker = last(client).stickerMessage
    assert client.uploads[0][1] == MediaType.MediaImage
    assert (sticker.mimetype, sticker.width, sticker.height, sticker.isAnimated) == (
        "image/webp",
        512,
        512,
        False,
    )


def test_contact_is_sent_as_a_vcard() -> None:
    client = FakeClient()
    card = ContactCard(name="Awa Diop", phone="22241857975")
    commands(client).perform(OutgoingMessage(to=TO, type=MessageType.CONTACT, contact=card))
    contact = last(client).contactMessage
    assert contact.displayName == "Awa Diop"
    assert contact.vcard == card.vcard()
    assert "waid=22241857975:+22241857975" in contact.vcard


def test_a_number_not_on_whatsapp_is_refused_before_sending() -> None:
    client = FakeClient(not_on_whatsapp={MARIA})
    with pytest.raises(OperationFailed) as caught:
        commands(client).perform(OutgoingMessage(to=TO, type=MessageType.TEXT, text="hi"))
    assert caught.value.code == "not_on_whatsapp"
    assert client.sent == []


def test_sending_while_not_connected_is_unavailable_and_names_the_session() -> None:
    client = FakeClient()
    with pytest.raises(Unavailable) as caught:
        commands(client, ready=False).perform(
            OutgoingMessage(to=TO, type=MessageType.TEXT, text="x")
        )
    assert "user_1" in caught.value.message
    assert caught.value.status == 503
    assert client.calls == []
    assert client.sent == []


def test_whatsapp_errors_are_translated() -> None:
    offline = FakeClient(fail_send="websocket not connected")
    with pytest.raises(Unavailable):
        commands(offline).perform(OutgoingMessage(to=TO, type=MessageType.TEXT, text="x"))
    refused = FakeClient(fail_send="server returned error 479")
    with pytest.raises(OperationFailed):
        commands(refused).perform(OutgoingMessage(to=TO, type=MessageType.TEXT, text="x"))


def test_media_comes_from_the_spool_file_which_is_then_deleted(tmp_path: Path) -> None:
    client = FakeClient()
    name = "0123456789abcdef0123456789abcdef.bin"
    (tmp_path / name).write_bytes(b"%PDF-1.7 spooled")
    message = OutgoingMessage(
        to=TO,
        type=MessageType.DOCUMENT,
        media=MediaPayload(data=b"", mimetype="application/pdf", filename="a.pdf"),
    )
    commands(client, spool=tmp_path).perform(message, spool=name)
    assert client.uploads[0][0] == b"%PDF-1.7 spooled"
    assert not (tmp_path / name).exists()


@pytest.mark.parametrize("name", ["../../etc/passwd", "/etc/passwd", "x.bin", "ABCDEF.bin"])
def test_spool_names_are_never_paths(tmp_path: Path, name: str) -> None:
    message = OutgoingMessage(
        to=TO, type=MessageType.IMAGE, media=MediaPayload(data=b"", mimetype="image/png")
    )
    with pytest.raises(BadRequest):
        commands(FakeClient(), spool=tmp_path).perform(message, spool=name)
