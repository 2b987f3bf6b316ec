"""The sandbox page's "incoming message" form, read into the `SendRequest` that
/api/sandbox/sessions/{id}/inbound builds from its JSON.

An uploaded file becomes the `imageBase64` (`videoBase64`, ...) of that request, so the
message goes through the API's own checks and media preparation (`sending.check`,
`Sender.content`: sniffing, size limits, thumbnails, voice notes); a file over its type's
limit is refused from its size, before it is read.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

from sendmako.dashboard.forms import Form, error_text, field_of
from sendmako.dashboard.visit import Visit
from sendmako.errors import SendmakoError
from sendmako.ids import InvalidIdentifier, normalize_phone, recipient_jid
from sendmako.media.fetch import MEDIA_LIMITS, human_size
from sendmako.messaging.sender import MAX_TEXT, SendRequest
from sendmako.model.messages import MEDIA_TYPES, MessageType

# A poll needs its question and options, which this form does not ask for.
TYPES = [kind.value for kind in MessageType if kind is not MessageType.POLL]
CAPTION_MAX = 4096  # as the API's `caption`
SHORT_MAX = 1024  # as the API's location name and address
# Octet-stream says nothing: the sniffed type is better (the API's `mimetype` is optional).
VAGUE_MIMETYPES = {"", "application/octet-stream"}


@dataclass(frozen=True, slots=True)
class Inbound:
    sender_phone: str
    sender_name: str | None
    group: str | None  # a group JID: the message comes from inside it
    request: SendRequest


def fields_of(visit: Visit) -> dict[str, str]:
    """Each form field and its label; the API's names for them map to these."""
    t = visit.t
    return {
        "from": t("sandbox.from"),
        "from_name": t("sandbox.from_name"),
        "group_id": t("sandbox.group_id"),
        "type": t("sandbox.type"),
        "text": t("sandbox.text"),
        "media": t("sandbox.media"),
        "latitude": t("sandbox.latitude"),
        "longitude": t("sandbox.longitude"),
        "location_name": t("sandbox.location_name"),
        "location_address": t("sandbox.location_address"),
        "contact_name": t("sandbox.contact_name"),
        "contact_phone": t("sandbox.contact_phone"),
    }


async def read(visit: Visit, form: Form) -> Inbound | None:
    """The message the form describes, or None with `form.errors` naming the fields."""
    labels = fields_of(visit)
    sender = _phone(visit, form, "from", labels["from"])
    name = form.text("from_name", labels["from_name"], required=False, max_length=100)
    group = _group(visit, form, labels["group_id"])
    kind = form.choice("type", labels["type"], TYPES)
    if kind not in TYPES:
        return None
    request = await _request(visit, form, MessageType(kind), labels)
    if request is None or not form.ok:
        return None
    return Inbound(sender_phone=sender, sender_name=name or None, group=group, request=request)


def refuse(visit: Visit, form: Form, exc: SendmakoError) -> None:
    """A refusal of the API's checks, under the form field it is about (the API's
    `imageBase64` is the file field here, `contact.phone` the contact's number)."""
    api_field = field_of(exc)
    field = _FORM_FIELD.get(api_field, api_field)
    message = error_text(visit, exc)
    label = fields_of(visit).get(field)
    if label is not None and message.startswith(f"{api_field}: "):
        message = visit.t("form.refused", field=label, reason=message[len(api_field) + 2 :])
    form.refuse(field, message)


_FORM_FIELD = {
    **{f"{kind.value}Base64": "media" for kind in MEDIA_TYPES},
    "contact.name": "contact_name",
    "contact.phone": "contact_phone",
}


async def _request(
    visit: Visit, form: Form, kind: MessageType, labels: dict[str, str]
) -> SendRequest | None:
    if kind == MessageType.TEXT:
        text = form.text("text", labels["text"], max_length=MAX_TEXT)
        return SendRequest(type=kind, text=text)
    if kind in MEDIA_TYPES:
        caption = form.text("text", labels["text"], required=False, max_length=CAPTION_MAX)
        media = await upload(visit, form, kind, labels["media"])
        if media is None:
            return None
        data, filename, mimetype = media
        return SendRequest(
            type=kind,
            caption=caption or None,
            media_base64=data,
            voice_note=kind == MessageType.AUDIO and form.flag("voice_note"),
            filename=filename,
            mimetype=mimetype if kind == MessageType.DOCUMENT else None,
        )
    if kind == MessageType.LOCATION:
        return SendRequest(
            type=kind,
            latitude=_number(visit, form, "latitude", labels["latitude"]),
            longitude=_number(visit, form, "longitude", labels["longitude"]),
            location_name=form.text(
                "location_name", labels["location_name"], required=False, max_length=SHORT_MAX
            )
            or None,
            location_address=form.text(
                "location_address",
                labels["location_address"],
                required=False,
                max_length=SHORT_MAX,
            )
            or None,
        )
    return SendRequest(
        type=kind,
        contact_name=form.text("contact_name", labels["contact_name"], max_length=256),
        contact_phone=form.text("contact_phone", labels["contact_phone"], max_length=40),
    )


async def upload(
    visit: Visit, form: Form, kind: MessageType, label: str
) -> tuple[str, str | None, str | None] | None:
    """(base64 of the file, its name, its declared type), or None when refused."""
    upload = form.file("media")
    if upload is None:
        form.refuse("media", visit.t("form.required", field=label))
        return None
    limit = MEDIA_LIMITS[kind.value]
    if upload.size is not None and upload.size > limit.max_bytes:
        size = human_size(limit.max_bytes)
        form.refuse("media", visit.t("sandbox.too_large", field=label, size=size))
        return None
    data = await upload.read()
    mimetype = (upload.content_type or "").split(";")[0].strip().lower()
    return (
        base64.b64encode(data).decode(),
        upload.filename,
        None if mimetype in VAGUE_MIMETYPES else mimetype,
    )


def _phone(visit: Visit, form: Form, name: str, label: str) -> str:
    raw = form.text(name, label, max_length=40)
    if not raw:
        return ""
    try:
        return normalize_phone(raw)
    except InvalidIdentifier:
        form.refuse(name, visit.t("form.bad_phone", field=label))
        return ""


def _group(visit: Visit, form: Form, label: str) -> str | None:
    raw = form.text("group_id", label, required=False, max_length=100)
    if not raw:
        return None
    try:
        jid = recipient_jid(raw)
    except InvalidIdentifier:
        jid = None
    if jid is None or not jid.is_group:
        form.refuse("group_id", visit.t("sandbox.bad_group", field=label))
        return None
    return str(jid)


def _number(visit: Visit, form: Form, name: str, label: str) -> float | None:
    """A decimal number (a comma is read as the decimal point, as French writes it); the
    range is the API's check."""
    raw = form.text(name, label, max_length=40).replace(",", ".")
    if not raw:
        return None
    try:
        return float(raw)
    except ValueError:
        form.refuse(name, visit.t("form.not_a_number", field=label))
        return None
