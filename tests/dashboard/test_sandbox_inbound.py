"""The sandbox page makes a message of any type arrive on a connected sandbox session, the
way /api/sandbox/.../inbound does: uploads become the API's base64 media, refusals name
the form's field."""

from __future__ import annotations

import hashlib
from base64 import b64encode

import pytest

from sendmako.model.events import (
    SessionEvent,
)
from sendmako.model.statuses import SessionStatus
from tests import media_samples
from tests.dashboard.client import Dashboard, Page, member
from tests.harness import Account, Server, connect_sandbox
from tests.recording import EventLog

SENDER = "+221 78 123 45 67"


@pytest.fixture
async def events(server: Server) -> EventLog:
    log = EventLog()
    server.sessions.recorders.append(log)
    return log


async def receive(
    dashboard: Dashboard,
    session_id: str,
    *,
    files: dict[str, tuple[str, bytes, str]] | None = None,
    **form: str,
) -> Page:
    return await dashboard.post(
        f"/dashboard/sandbox/{session_id}/inbound", {"from": SENDER, **form}, files=files
    )


def received(events: EventLog, session_id: str) -> SessionEvent:
    (event,) = events.named("message.received", session_id)
    return event


async def connected(server: Server) -> tuple[Account, Dashboard, str]:
    account, dashboard = await member(server, "alice@example.com")
    session_id = await connect_sandbox(server, account, "22241857975")
    return account, dashboard, session_id


async def test_a_text_message_arrives_from_the_sandbox_page(
    server: Server, events: EventLog
) -> None:
    """The form is on a connected session's card; sending it stores the message and records
    its message.received event, with the sender's number, name and the text."""
    _, dashboard, session_id = await connected(server)
    page = await dashboard.get("/dashboard/sandbox")
    assert f'action="/dashboard/sandbox/{session_id}/inbound"' in page.text
    assert 'enctype="multipart/form-data"' in page.text
    sent = await receive(
        dashboard, session_id, from_name="Aminata Sow", type="text", text="Bonjour !"
    )
    after = await dashboard.follow(sent)
    assert f"{session_id}: a message from +221781234567 arrived." in after.text
    data = received(events, session_id).data
    assert (data["from"], data["sender_name"], data["body"]) == (
        "221781234567",
        "Aminata Sow",
        "Bonjour !",
    )
    assert data["chat"] == "221781234567@s.whatsapp.net"


async def test_an_uploaded_file_arrives_as_the_apis_media(server: Server, events: EventLog) -> None:
    """An image uploaded with a caption arrives as an imageMessage of exactly those bytes;
    a document keeps its name and declared type."""
    _, dashboard, session_id = await connected(server)
    image = media_samples.png(40, 30)
    page = await receive(
        dashboard,
        session_id,
        type="image",
        text="la facture",
        files={"media": ("photo.png", image, "image/png")},
    )
    assert page.status == 303, page.text[:800]
    data = received(events, session_id).data
    media = data["media"]
    assert isinstance(media, dict)
    assert (data["type"], media["mediaType"], media["fileSize"]) == (
        "imageMessage",
        "image",
        str(len(image)),
    )
    assert media["fileSha256"] == b64encode(hashlib.sha256(image).digest()).decode()
    assert data["body"] == "la facture"

    pdf = b"%PDF-1.4 facture"
    await receive(
        dashboard,
        session_id,
        type="document",
        files={"media": ("facture.pdf", pdf, "application/pdf")},
    )
    document = events.named("message.received", session_id)[-1].data
    assert document["type"] == "documentMessage"
    assert isinstance(document["media"], dict)
    assert (document["media"]["fileName"], document["media"]["mimetype"]) == (
        "facture.pdf",
        "application/pdf",
    )


async def test_locations_contacts_and_group_messages_arrive(
    server: Server, events: EventLog
) -> None:
    """A location (a French decimal comma accepted), a contact card, and a text written
    inside a group."""
    _, dashboard, session_id = await connected(server)
    await receive(
        dashboard,
        session_id,
        type="location",
        latitude="18,0735",
        longitude="-15.9582",
        location_name="Nouakchott",
    )
    await receive(
        dashboard, session_id, type="contact", contact_name="Awa", contact_phone="+222 41 85 79 75"
    )
    await receive(
        dashboard, session_id, type="text", text="Salut", group_id="120363025246125244@g.us"
    )
    location, contact, grouped = (e.data for e in events.named("message.received", session_id))
    assert location["type"] == "locationMessage"
    assert location["location"] == {
        **location["location"],  # type: ignore[dict-item]
        "latitude": 18.0735,
        "longitude": -15.9582,
        "name": "Nouakchott",
    }
    assert contact["type"] == "contactMessage"
    card = contact["contact"]
    assert isinstance(card, dict)
    assert card["name"] == "Awa"
    assert "waid=22241857975" in str(card["vcard"])
    assert (grouped["group_id"], grouped["participant"]) == (
        "120363025246125244@g.us",
        "221781234567",
    )


@pytest.mark.parametrize(
    ("form", "files", "field", "message"),
    [
        ({"from": "12"}, None, "from", "From (phone number): not a phone number."),
        ({"group_id": "221781234567"}, None, "group_id", "not a group JID"),
        ({"type": "text", "text": " "}, None, "text", "Text, or the caption"),
        ({"type": "image"}, None, "media", "File: this field is required."),
        (
            {"type": "sticker"},
            {"media": ("s.png", media_samples.png(), "image/png")},
            "media",
            "File: stickers must be WebP images (got image/png)",
        ),
        (
            {"type": "sticker"},
            {"media": ("big.webp", b"R" * (1024 * 1024 + 1), "image/webp")},
            "media",
            "File: larger than 1 MB, the limit for this type.",
        ),
        (
            {"type": "location", "latitude": "95", "longitude": "0"},
            None,
            "latitude",
            "Latitude: must be between -90 and 90",
        ),
        ({"type": "location", "latitude": "nord"}, None, "latitude", "Latitude: a number"),
        (
            {"type": "contact", "contact_name": "Awa", "contact_phone": "12"},
            None,
            "contact_phone",
            "Contact's number: ",
        ),
        ({"type": "poll"}, None, "type", "Type: choose one of text, image"),
    ],
)
async def test_refusals_name_the_forms_field(
    server: Server,
    events: EventLog,
    form: dict[str, str],
    files: dict[str, tuple[str, bytes, str]] | None,
    field: str,
    message: str,
) -> None:
    """The card comes back open, the reason under the field at fault, nothing received."""
    _, dashboard, session_id = await connected(server)
    page = await receive(
        dashboard, session_id, **{"type": "text", "text": "x", **form}, files=files
    )
    assert page.status in (400, 413, 422), page.status
    error = page.response.text.split(f'id="{field}-error" role="alert">')
    assert len(error) == 2, page.text
    assert message in error[1].split("</p>")[0].replace("&#39;", "'")
    assert '<details class="inbound" open>' in page.text
    assert events.named("message.received", session_id) == []


async def test_only_a_connected_session_of_ones_own_receives(server: Server) -> None:
    """A session still waiting for its scan says why; another user's session is 404."""
    account, dashboard = await member(server, "alice@example.com")
    created = await account.client.post("/api/whatsapp/sessions/", json={"session_name": "x"})
    waiting = created.json()["session_id"]
    await server.sessions.wait_for(waiting, [SessionStatus.QR_READY], timeout=5)
    page = await receive(dashboard, waiting, type="text", text="Bonjour")
    assert page.status == 503
    assert "The session is not connected: scan its QR code first." in page.text

    bob, _ = await member(server, "bob@example.com")
    theirs = await connect_sandbox(server, bob, "221781234567")
    stolen = await receive(dashboard, theirs, type="text", text="Bonjour")
    assert stolen.status == 404
