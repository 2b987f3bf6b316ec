"""The `data` of each webhook event, exactly as the original documents it (extra fields
are allowed by the contract, missing or renamed ones are not), and as API.md "More webhook
events" adds them.

A phone-number field (`from`, `to`, `participant`, `by`, `participants`) always holds a
phone number; when WhatsApp used a hidden id, it comes beside it as `<field>_lid`. Every
event about a chat carries `chat`, which keeps its deliveries in that chat's order."""

from __future__ import annotations

import base64

from sendmako.model.events import (
    CallReceived,
    GroupParticipantsChanged,
    GroupSettingsChanged,
    IncomingMedia,
    MessageEdited,
    MessageReceived,
    MessageRevoked,
    PollVoted,
    PresenceChanged,
    ReactionReceived,
    ReceiptReceived,
    Someone,
)
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
    if event.sender_lid:
        data["from_lid"] = event.sender_lid
    if event.media is not None:
        data["media"] = media(event.media)
    if event.is_group:
        data["group_id"] = event.chat
        data["participant"] = event.sender_phone
        if event.sender_lid:
            data["participant_lid"] = event.sender_lid
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
    if event.poll is not None:
        data["poll"] = {
            "name": event.poll.name,
            "options": list(event.poll.options),
            "selectable_count": event.poll.selectable_count,
        }
    return data


def message_sent(event: MessageReceived) -> dict[str, object]:
    """A message this number sent from its phone or another linked device."""
    data = message_received(event)
    del data["from"], data["sender_name"]
    data.pop("from_lid", None)
    data["to"] = event.chat if event.is_group else event.chat.split("@", 1)[0]
    data.pop("participant", None)
    data.pop("participant_lid", None)
    return data


def message_status(receipt: ReceiptReceived, stored: StoredMessage) -> dict[str, object]:
    data: dict[str, object] = {
        "message_id": stored.wa_message_id,
        "to": stored.peer,
        "status": stored.status,
    }
    if receipt.participant_phone is not None:
        data["participant"] = receipt.participant_phone  # in a group: who it reached
        if receipt.participant_lid:
            data["participant_lid"] = receipt.participant_lid
    return data


def _person(data: dict[str, object], field: str, who: Someone | None) -> None:
    data[field] = who.phone if who is not None else None
    if who is not None and who.lid:
        data[f"{field}_lid"] = who.lid


def _in_chat(chat: str, is_group: bool) -> dict[str, object]:
    data: dict[str, object] = {"chat": chat}
    if is_group:
        data["group_id"] = chat
    return data


def message_reaction(event: ReactionReceived) -> dict[str, object]:
    data = {"message_id": event.message_id, **_in_chat(event.chat, event.is_group)}
    _person(data, "from", event.sender)
    if event.is_group:
        _person(data, "participant", event.sender)
    data.update(emoji=event.emoji, timestamp=event.timestamp, from_me=event.from_me)
    return data


def message_edited(event: MessageEdited) -> dict[str, object]:
    data = {"message_id": event.message_id, **_in_chat(event.chat, event.is_group)}
    _person(data, "from", event.sender)
    if event.is_group:
        _person(data, "participant", event.sender)
    data.update(body=event.body, timestamp=event.timestamp, from_me=event.from_me)
    return data


def message_revoked(event: MessageRevoked) -> dict[str, object]:
    data = {"message_id": event.message_id, **_in_chat(event.chat, event.is_group)}
    _person(data, "from", event.sender)
    if event.is_group:
        _person(data, "participant", event.sender)
    if event.by is not None:
        _person(data, "by", event.by)
    data.update(timestamp=event.timestamp, from_me=event.from_me)
    return data


def poll_vote(event: PollVoted, selected: list[str]) -> dict[str, object]:
    """`selected`: the names of the options chosen (the event carries their hashes)."""
    data = {"poll_message_id": event.poll_message_id, **_in_chat(event.chat, event.is_group)}
    _person(data, "from", event.voter)
    if event.is_group:
        _person(data, "participant", event.voter)
    data.update(selected_options=selected, timestamp=event.timestamp, from_me=event.from_me)
    return data


def presence_update(event: PresenceChanged) -> dict[str, object]:
    data: dict[str, object] = {}
    _person(data, "from", event.person)
    data["state"] = event.state
    if event.chat is not None:
        data["chat"] = event.chat
    if event.last_seen is not None:
        data["last_seen"] = event.last_seen
    return data


def group_participants(event: GroupParticipantsChanged) -> dict[str, object]:
    data: dict[str, object] = {
        "group_id": event.group,
        "chat": event.group,
        "action": event.action,
        "participants": [who.phone for who in event.participants],
    }
    if any(who.lid for who in event.participants):
        data["participants_lid"] = [who.lid for who in event.participants]
    _person(data, "by", event.by)
    data["timestamp"] = event.timestamp
    return data


def group_updated(event: GroupSettingsChanged) -> dict[str, object]:
    data: dict[str, object] = {"group_id": event.group, "chat": event.group}
    for field in ("subject", "description", "announce", "restrict"):
        value = getattr(event, field)
        if value is not None:
            data[field] = value
    _person(data, "by", event.by)
    data["timestamp"] = event.timestamp
    return data


def call_received(event: CallReceived, rejected: bool) -> dict[str, object]:
    data: dict[str, object] = {"call_id": event.call_id}
    _person(data, "from", event.caller)
    data.update(video=event.video, timestamp=event.timestamp, rejected=rejected)
    return data
