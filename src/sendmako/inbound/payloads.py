"""The `data` of each webhook event, exactly as the original documents it (extra fields
are allowed by the contract, missing or renamed ones are not)."""

from __future__ import annotations

import base64

from sendmako.model.events import IncomingMedia, MessageReceived, ReceiptReceived
from sendmako.storage.messages import StoredMessage


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def media(info: IncomingMedia) -> dict[str, object]:
    return {
        "url": info.url,
        "mimetype": info.mimetype,
        "mediaKey": _b64(info.media_key),
        "fileEncSha256": _b64(info.file_enc_sha256),
        "fileSha256": _b64(info.file_sha256),
        "directPath": info.direct_path,
        # WhatsApp's fileLength is a 64-bit integer, which the original passes on as a string.
        "fileSize": str(info.file_length),
        "width": info.width,
        "height": info.height,
        "duration": info.duration,
        "mediaType": info.media_type,
        "fileName": info.filename,
        "voiceNote": info.voice_note,
    }


def message_received(event: MessageReceived) -> dict[str, object]:
    data: dict[str, object] = {
        "message_id": event.message_id,
        "from": event.sender_phone,
        "sender_name": event.sender_name,
        "type": event.wa_type,
        "body": event.body,
        "timestamp": event.timestamp,
        "chat": event.chat,
    }
    if event.media is not None:
        data["media"] = media(event.media)
    if event.is_group:
        data["group_id"] = event.chat
        data["participant"] = event.sender_phone
    if event.quoted_message_id:
        data["quoted_message_id"] = event.quoted_message_id
    if event.mentions:
        data["mentions"] = list(event.mentions)
    if event.latitude is not None and event.longitude is not None:
        data["location"] = {
            "latitude": event.latitude,
            "longitude": event.longitude,
            "name": event.location_name,
            "address": event.location_address,
        }
    if event.contact_vcard is not None:
        data["contact"] = {"name": event.contact_name, "vcard": event.contact_vcard}
    return data


def message_status(receipt: ReceiptReceived, stored: StoredMessage) -> dict[str, object]:
    data: dict[str, object] = {
        "message_id": stored.wa_message_id,
        "to": stored.peer,
        "status": stored.status,
    }
    if receipt.participant_phone is not None:
        data["participant"] = receipt.participant_phone  # in a group: who it reached
    return data
