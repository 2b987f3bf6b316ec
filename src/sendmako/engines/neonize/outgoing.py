"""Our `OutgoingMessage` as the WhatsApp `Message` protobuf neonize puts on the wire.

Built by hand from bytes rather than with neonize's `send_image`/`send_audio` helpers: those
read local paths and fetch URLs without limits, leave width and height out, and cannot send
a voice note's waveform. Media are uploaded (encrypted by whatsmeow) through `upload`, the
one call here that needs the connection.
"""

from __future__ import annotations

import io
import os
import time
from collections.abc import Callable
from typing import Any

from neonize.proto.waE2E.WAWebProtobufsE2E_pb2 import (
    AudioMessage,
    ContactMessage,
    ContextInfo,
    DocumentMessage,
    ExtendedTextMessage,
    ImageMessage,
    LocationMessage,
    Message,
    MessageContextInfo,
    PollCreationMessage,
    StickerMessage,
    VideoMessage,
)
from neonize.utils.enum import MediaType

from sendmako.engines.neonize.recent import RecentMessages
from sendmako.errors import BadRequest
from sendmako.model.messages import MediaPayload, MessageType, OutgoingMessage, PollSpec

# upload(data, media type) -> neonize's UploadResponse
Uploader = Callable[[bytes, MediaType], Any]

THUMBNAIL_SIDE = 96  # px: WhatsApp shows it blurred while the file downloads
VOICE_NOTE_MIMETYPE = "audio/ogg; codecs=opus"
POLL_OPTIONS = (2, 12)  # WhatsApp's bounds on a poll's options
POLL_SECRET_BYTES = 32
_UPLOAD_KIND = {
    MessageType.IMAGE: MediaType.MediaImage,
    MessageType.STICKER: MediaType.MediaImage,  # stickers use the image keys
    MessageType.VIDEO: MediaType.MediaVideo,
    MessageType.AUDIO: MediaType.MediaAudio,
    MessageType.DOCUMENT: MediaType.MediaDocument,
}


def build(  # noqa: PLR0911 - one protobuf per message type
    message: OutgoingMessage,
    data: bytes | None,
    upload: Uploader,
    recent: RecentMessages,
) -> Any:
    """The `Message` protobuf for `message`; `data` holds the media file's bytes."""
    context = _context(message, recent)
    kind = message.type
    if kind is MessageType.TEXT:
        text = message.text or ""
        if context is None:
            return Message(conversation=text)
        return Message(extendedTextMessage=ExtendedTextMessage(text=text, contextInfo=context))
    if kind is MessageType.LOCATION:
        location = _required(message.location, "location")
        return Message(
            locationMessage=LocationMessage(
                degreesLatitude=location.latitude,
                degreesLongitude=location.longitude,
                name=location.name or None,
                address=location.address or None,
                contextInfo=context,
            )
        )
    if kind is MessageType.POLL:
        return poll(_required(message.poll, "poll"), context)
    if kind is MessageType.CONTACT:
        card = _required(message.contact, "contact")
        return Message(
            contactMessage=ContactMessage(
                displayName=card.name, vcard=card.vcard(), contextInfo=context
            )
        )
    media = _required(message.media, "media")
    if data is None:
        data = media.data
    uploaded = upload(data, _UPLOAD_KIND[kind])
    common = {
        "URL": uploaded.url,
        "directPath": uploaded.DirectPath,
        "mediaKey": uploaded.MediaKey,
        "fileEncSHA256": uploaded.FileEncSHA256,
        "fileSHA256": uploaded.FileSHA256,
        "fileLength": uploaded.FileLength or len(data),
        "mediaKeyTimestamp": int(time.time()),
        "contextInfo": context,
    }
    caption = message.text or None
    if kind is MessageType.IMAGE:
        width, height, thumbnail = _picture(media, data)
        return Message(
            imageMessage=ImageMessage(
                mimetype=media.mimetype,
                caption=caption,
                width=width,
                height=height,
                JPEGThumbnail=thumbnail,
                **common,
            )
        )
    if kind is MessageType.VIDEO:
        return Message(
            videoMessage=VideoMessage(
                mimetype=media.mimetype,
                caption=caption,
                seconds=media.seconds,
                width=media.width,
                height=media.height,
                JPEGThumbnail=media.thumbnail,
                **common,
            )
        )
    if kind is MessageType.AUDIO:
        voice = message.voice_note
        return Message(
            audioMessage=AudioMessage(
                mimetype=VOICE_NOTE_MIMETYPE if voice else media.mimetype,
                seconds=media.seconds,
                PTT=voice,
                waveform=media.waveform if voice else None,
                **common,
            )
        )
    if kind is MessageType.DOCUMENT:
        filename = media.filename or "file"
        return Message(
            documentMessage=DocumentMessage(
                mimetype=media.mimetype,
                fileName=filename,
                title=filename,
                caption=caption,
                **common,
            )
        )
    width, height, animated = _sticker(media, data)
    return Message(
        stickerMessage=StickerMessage(
            mimetype="image/webp",
            width=width,
            height=height,
            isAnimated=animated,
            **common,
        )
    )


def poll(spec: PollSpec, context: Any = None) -> Any:
    """A poll, as whatsmeow's BuildPollCreation makes it: its question, options and how
    many may be chosen (0: any number), with the 32-byte secret its votes are encrypted
    with. whatsmeow keeps that secret when it sends the poll, so votes decrypt later."""
    low, high = POLL_OPTIONS
    options = spec.options
    if not spec.name.strip():
        raise BadRequest("poll.name: required", field="poll")
    if not low <= len(options) <= high or len(set(options)) != len(options):
        raise BadRequest(f"poll.options: {low} to {high} distinct options", field="poll")
    if not all(option.strip() for option in options):
        raise BadRequest("poll.options: an option is empty", field="poll")
    if not 0 <= spec.selectable_count <= len(options):
        raise BadRequest(
            "poll.selectable_count: 0 (any number) up to the number of options", field="poll"
        )
    return Message(
        pollCreationMessage=PollCreationMessage(
            name=spec.name,
            options=[PollCreationMessage.Option(optionName=option) for option in options],
            selectableOptionsCount=spec.selectable_count,
            contextInfo=context,
        ),
        messageContextInfo=MessageContextInfo(messageSecret=os.urandom(POLL_SECRET_BYTES)),
    )


def _context(message: OutgoingMessage, recent: RecentMessages) -> Any:
    """Mentions and the quoted message, or None when the message has neither."""
    if not message.mentions and not message.quoted_message_id:
        return None
    context = ContextInfo(mentionedJID=[str(jid.without_device()) for jid in message.mentions])
    if message.quoted_message_id:
        context.stanzaID = message.quoted_message_id
        original = recent.get(message.quoted_message_id)
        if original is not None:
            # The participant and content make WhatsApp show the quote; without them the
            # reply still threads by id on most clients.
            context.participant = original.sender
            context.quotedMessage.CopyFrom(original.message)
    return context


def _picture(media: MediaPayload, data: bytes) -> tuple[int | None, int | None, bytes | None]:
    """Width, height and a small JPEG preview: given by the caller, else read with Pillow."""
    width, height, thumbnail = media.width, media.height, media.thumbnail
    if width and height and thumbnail:
        return width, height, thumbnail
    try:
        from PIL import Image, UnidentifiedImageError
    except ImportError:  # Pillow ships with neonize; without it the image still goes out
        return width, height, thumbnail
    try:
        with Image.open(io.BytesIO(data)) as image:
            width, height = width or image.width, height or image.height
            if thumbnail is None:
                preview = image.convert("RGB")
                preview.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE))
                out = io.BytesIO()
                preview.save(out, format="JPEG", quality=60)
                thumbnail = out.getvalue()
    except (UnidentifiedImageError, OSError, ValueError):
        pass  # not decodable here; WhatsApp still shows the image once downloaded
    return width, height, thumbnail


def _sticker(media: MediaPayload, data: bytes) -> tuple[int | None, int | None, bool]:
    try:
        from PIL import Image, UnidentifiedImageError
    except ImportError:
        return media.width, media.height, False
    try:
        with Image.open(io.BytesIO(data)) as image:
            animated = bool(getattr(image, "is_animated", False))
            return media.width or image.width, media.height or image.height, animated
    except (UnidentifiedImageError, OSError, ValueError):
        return media.width, media.height, False


def _required(value: Any, name: str) -> Any:
    if value is None:
        raise BadRequest(f"{name}: required for this message type", field=name)
    return value
