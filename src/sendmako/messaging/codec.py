"""A message as JSON, so that a bulk job resumed after a restart, or by another node, sends
exactly the same message. Media bytes travel beside the JSON (the job stores them in the
database, where every node reads them); a job from before that names a spool file under
the data directory is read from that file."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import NotRequired, TypedDict, cast

from sendmako.ids import Jid
from sendmako.model.messages import (
    ContactCard,
    Location,
    MediaPayload,
    MessageType,
    OutgoingMessage,
    PollSpec,
)
from sendmako.storage.messages import poll_data

PLACEHOLDER_RECIPIENT = Jid("0", "s.whatsapp.net")  # each recipient replaces it


class FrozenMedia(TypedDict):
    path: NotRequired[str]  # jobs from before media were stored in the database
    mimetype: str
    filename: str | None
    width: int | None
    height: int | None
    seconds: int | None
    waveform: str | None
    thumbnail: str | None


class FrozenMessage(TypedDict):
    type: str
    text: str | None
    voice_note: bool
    latitude: float | None
    longitude: float | None
    location_name: str | None
    location_address: str | None
    contact_name: str | None
    contact_phone: str | None
    mentions: list[str]
    quoted_message_id: str | None
    media: FrozenMedia | None
    poll: dict[str, object] | None


def freeze(message: OutgoingMessage) -> tuple[dict[str, object], bytes | None]:
    """`message` without its recipient, as JSON-ready data, and its media's bytes."""
    media: FrozenMedia | None = None
    if message.media is not None:
        payload = message.media
        media = FrozenMedia(
            mimetype=payload.mimetype,
            filename=payload.filename,
            width=payload.width,
            height=payload.height,
            seconds=payload.seconds,
            waveform=_b64(payload.waveform),
            thumbnail=_b64(payload.thumbnail),
        )
    location, contact = message.location, message.contact
    frozen = FrozenMessage(
        type=message.type.value,
        text=message.text,
        voice_note=message.voice_note,
        latitude=location.latitude if location else None,
        longitude=location.longitude if location else None,
        location_name=location.name if location else None,
        location_address=location.address if location else None,
        contact_name=contact.name if contact else None,
        contact_phone=contact.phone if contact else None,
        mentions=[str(jid) for jid in message.mentions],
        quoted_message_id=message.quoted_message_id,
        media=media,
        poll=poll_data(message.poll) if message.poll is not None else None,
    )
    return cast(dict[str, object], frozen), (
        message.media.data if message.media is not None else None
    )


def thaw(data: dict[str, object], media_bytes: bytes | None) -> OutgoingMessage:
    frozen = cast(FrozenMessage, data)
    media = None
    if frozen["media"] is not None:
        stored = frozen["media"]
        if media_bytes is None:
            media_bytes = Path(stored["path"]).read_bytes()
        media = MediaPayload(
            data=media_bytes,
            mimetype=stored["mimetype"],
            filename=stored["filename"],
            width=stored["width"],
            height=stored["height"],
            seconds=stored["seconds"],
            waveform=_unb64(stored["waveform"]),
            thumbnail=_unb64(stored["thumbnail"]),
        )
    location = None
    if frozen["latitude"] is not None and frozen["longitude"] is not None:
        location = Location(
            frozen["latitude"],
            frozen["longitude"],
            frozen["location_name"],
            frozen["location_address"],
        )
    contact = None
    if frozen["contact_name"] is not None and frozen["contact_phone"] is not None:
        contact = ContactCard(frozen["contact_name"], frozen["contact_phone"])
    return OutgoingMessage(
        to=PLACEHOLDER_RECIPIENT,
        type=MessageType(frozen["type"]),
        text=frozen["text"],
        media=media,
        voice_note=frozen["voice_note"],
        location=location,
        contact=contact,
        mentions=tuple(Jid.parse(jid) for jid in frozen["mentions"]),
        quoted_message_id=frozen["quoted_message_id"],
        poll=_thaw_poll(frozen.get("poll")),
    )


def _thaw_poll(data: object) -> PollSpec | None:
    """A job frozen before polls existed has no `poll`."""
    if not isinstance(data, dict):
        return None
    return PollSpec(
        str(data["name"]),
        tuple(str(option) for option in data["options"]),
        int(data["selectable_count"]),
    )


def _b64(data: bytes | None) -> str | None:
    return base64.b64encode(data).decode() if data is not None else None


def _unb64(text: str | None) -> bytes | None:
    return base64.b64decode(text) if text is not None else None
