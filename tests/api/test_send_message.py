"""POST /api/send-message on sandbox sessions: every type, recipients, session choice,
limits, the paced queue and the stored message."""

from __future__ import annotations

import asyncio
import base64
import itertools
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from sendmako.model.simulation import ListSent
from sendmako.model.statuses import SessionStatus
from sendmako.storage import messages, plans
from sendmako.storage.tables import utcnow
from tests import media_samples
from tests.harness import Account, Server, connect_sandbox, hold_sends
from tests.media.origin import Origin
from tests.recording import EventLog

SEND = "/api/send-message"


@pytest.fixture
async def events(server: Server) -> EventLog:
    log = EventLog()
    server.sessions.recorders.append(log)
    return log


async def send(account: Account, **body: object) -> dict[str, object]:
    answer = await account.client.post(SEND, json=body)
    assert answer.status_code == 200, answer.text
    result: dict[str, object] = answer.json()
    return result


async def test_text_is_sent_stored_and_acknowledged(
    server: Server, alice: Account, events: EventLog
) -> None:
    """The answer carries WhatsApp's id; the message is stored as sent, then the receipts
    move it to delivered and read (message.status events)."""
    session_id = await connect_sandbox(server, alice, "22241857975")
    sent = await send(alice, to="221781234567", type="text", text="Bonjour depuis Sendmako !")
    assert sent["success"] is True
    assert sent["session_id"] == session_id
    assert sent["to"] == "221781234567"
    message_id = str(sent["message_id"])
    assert message_id.startswith("3EB0")
    assert len(message_id) == 22
    await events.wait_for(lambda log: len(log.named("message.status")) == 2)
    assert [e.data for e in events.named("message.status")] == [
        {"message_id": message_id, "to": "221781234567", "status": "delivered"},
        {"message_id": message_id, "to": "221781234567", "status": "read"},
    ]
    assert server.app is not None
    async with server.app.state.services.db.write() as tx:  # waits for pending commits
        stored = await messages.find(tx, session_id, message_id)
    assert stored is not None
    assert (stored.direction, stored.type, stored.peer, stored.status) == (
        "out",
        "text",
        "221781234567",
        "read",
    )


@pytest.mark.parametrize(
    "spelling", ["+221 78 123 45 67", "00221781234567", "221781234567@s.whatsapp.net"]
)
async def test_any_spelling_reaches_the_same_recipient(
    server: Server, alice: Account, spelling: str
) -> None:
    session_id = await connect_sandbox(server, alice, "22241857975")
    sent = await send(alice, to=spelling, type="text", text="hi")
    assert sent["to"] == "221781234567"
    sent_log = await server.sessions.perform(alice.user, session_id, ListSent())
    assert [r.to for r in sent_log] == ["221781234567@s.whatsapp.net"]


async def test_impossible_number_is_400_naming_to(server: Server, alice: Account) -> None:
    await connect_sandbox(server, alice, "22241857975")
    answer = await alice.client.post(SEND, json={"to": "12345", "type": "text", "text": "x"})
    assert answer.status_code == 400
    assert answer.json()["message"].startswith("to:")


@pytest.mark.parametrize(
    ("field", "body"),
    [
        ("to", {"to": "+221" + " " * 200_000 + "781234567", "type": "text", "text": "x"}),
        (
            "mentions[0]",
            {"to": "221781234567", "type": "text", "text": "x", "mentions": ["2" * 100_000]},
        ),
        (
            "contact.phone",
            {"to": "221781234567", "type": "contact", "contact": {"name": "A", "phone": "1" * 999}},
        ),
    ],
)
async def test_an_overlong_number_is_400_naming_its_field(
    server: Server, alice: Account, field: str, body: dict[str, object]
) -> None:
    """A number padded to any length is refused by its length (it used to be parsed, and
    kept in a cache until restart)."""
    await connect_sandbox(server, alice, "22241857975")
    answer = await alice.client.post(SEND, json=body)
    assert answer.status_code == 400
    assert answer.json()["message"].startswith(f"{field}:")
    assert "at most" in answer.json()["message"]


async def test_number_not_on_whatsapp_is_422(server: Server, alice: Account) -> None:
    """Sandbox numbers ending in 0000 have no WhatsApp account."""
    await connect_sandbox(server, alice, "22241857975")
    answer = await alice.client.post(SEND, json={"to": "22241850000", "type": "text", "text": "x"})
    assert answer.status_code == 422
    assert answer.json()["code"] == "not_on_whatsapp"


async def test_without_any_session_the_original_404(server: Server, alice: Account) -> None:
    answer = await alice.client.post(SEND, json={"to": "22241857975", "type": "text", "text": "x"})
    assert answer.status_code == 404
    assert answer.json()["message"] == "No WhatsApp session found. Connect a number first."


async def test_no_connected_session_is_503_naming_it(server: Server, alice: Account) -> None:
    created = await alice.client.post("/api/whatsapp/sessions/", json={"session_name": "x"})
    session_id = created.json()["session_id"]
    await server.sessions.wait_for(session_id, [SessionStatus.QR_READY], 5)
    answer = await alice.client.post(SEND, json={"to": "22241857975", "type": "text", "text": "x"})
    assert answer.status_code == 503
    assert f"{session_id} is qr_ready" in answer.json()["message"]
    named = await alice.client.post(
        SEND, json={"to": "22241857975", "type": "text", "text": "x", "session_id": session_id}
    )
    assert named.status_code == 503
    assert session_id in named.json()["message"]


async def test_oldest_connected_session_is_used(server: Server, alice: Account) -> None:
    """Without session_id: the oldest session whose status is connected."""
    waiting = await alice.client.post("/api/whatsapp/sessions/", json={"session_name": "a"})
    first = await connect_sandbox(server, alice, "22241857975", "b")
    second = await connect_sandbox(server, alice, "221781234567", "c")
    assert waiting.json()["session_id"] not in (first, second)
    assert (await send(alice, to="237691234567", type="text", text="x"))["session_id"] == first
    chosen = await send(alice, to="237691234567", type="text", text="x", session_id=second)
    assert chosen["session_id"] == second


async def test_another_users_session_cannot_be_named(
    server: Server, alice: Account, bob: Account
) -> None:
    session_id = await connect_sandbox(server, alice, "22241857975")
    await connect_sandbox(server, bob, "221781234567")
    answer = await bob.client.post(
        SEND, json={"to": "237691234567", "type": "text", "text": "x", "session_id": session_id}
    )
    assert answer.status_code == 404


async def test_message_arrives_at_the_sandbox_session_owning_the_number(
    server: Server, alice: Account, bob: Account, events: EventLog
) -> None:
    """Alice writes to Bob's sandbox number: Bob's session receives it (message.received)."""
    await connect_sandbox(server, alice, "22241857975", "Alassane Diallo")
    bobs = await connect_sandbox(server, bob, "221781234567", "Fatou")
    sent = await send(alice, to="221781234567", type="text", text="Bonjour !")
    await events.wait_for(lambda log: bool(log.named("message.received", bobs)))
    (received,) = events.named("message.received", bobs)
    assert received.data == {
        "message_id": sent["message_id"],
        "from": "22241857975",
        "sender_name": "Alassane Diallo",
        "type": "conversation",
        "body": "Bonjour !",
        "timestamp": received.data["timestamp"],
        "chat": "22241857975@s.whatsapp.net",
    }
    assert {uid for uid, e in events.events if e.name == "message.received"} == {bob.user.id}


async def test_location_contact_mentions_and_reply(
    server: Server, alice: Account, bob: Account, events: EventLog
) -> None:
    await connect_sandbox(server, alice, "22241857975")
    bobs = await connect_sandbox(server, bob, "221781234567")
    first = await send(
        alice,
        to="221781234567",
        type="location",
        latitude=14.6928,
        longitude=-17.4467,
        name="Dakar",
    )
    await send(
        alice,
        to="221781234567",
        type="contact",
        contact={"name": "Fatou Ndiaye", "phone": "+221 78 123 45 67"},
    )
    await send(
        alice,
        to="221781234567",
        type="text",
        text="@22241857975 voir ci-dessus",
        mentions=["22241857975"],
        quoted_message_id=first["message_id"],
    )
    await events.wait_for(lambda log: len(log.named("message.received", bobs)) == 3)
    location, contact, reply = (e.data for e in events.named("message.received", bobs))
    assert location["type"] == "locationMessage"
    assert location["location"] == {
        "latitude": 14.6928,
        "longitude": -17.4467,
        "name": "Dakar",
        "address": None,
    }
    assert contact["type"] == "contactMessage"
    assert "waid=221781234567" in contact["contact"]["vcard"]  # type: ignore[index]
    assert reply["type"] == "extendedTextMessage"
    assert reply["mentions"] == ["22241857975"]
    assert reply["quoted_message_id"] == first["message_id"]


async def test_image_video_document_and_sticker_by_base64(server: Server, alice: Account) -> None:
    """Each media type sent inline leaves the session as that type, with its own id."""
    session_id = await connect_sandbox(server, alice, "22241857975")
    b64 = lambda data: base64.b64encode(data).decode()  # noqa: E731
    bodies = (
        {"type": "image", "imageBase64": b64(media_samples.png()), "caption": "Regardez ça !"},
        {"type": "video", "videoBase64": b64(media_samples.mp4())},
        {
            "type": "document",
            "documentBase64": b64(b"%PDF-1.4 facture"),
            "filename": "facture.pdf",
            "mimetype": "application/pdf",
        },
        {"type": "sticker", "stickerBase64": b64(media_samples.webp())},
        {
            "type": "audio",
            "audioBase64": b64(media_samples.tone("mp3", "libmp3lame")),
            "voiceNote": False,
        },
    )
    ids = [(await send(alice, to="221781234567", **body))["message_id"] for body in bodies]
    log = await server.sessions.perform(alice.user, session_id, ListSent())
    assert [(r.message_id, r.type) for r in log] == list(
        zip(ids, ["image", "video", "document", "sticker", "audio"], strict=True)
    )


@pytest.mark.parametrize(
    ("body", "field", "fragment"),
    [
        ({"type": "image"}, "imageUrl", "give imageUrl or imageBase64"),
        ({"type": "image", "imageBase64": "bm90IGFuIGltYWdl"}, "imageBase64", "not an image"),
        ({"type": "sticker", "stickerBase64": "PNG"}, "stickerBase64", "WebP"),
        ({"type": "image", "imageUrl": "ftp://x/y.jpg"}, "imageUrl", "http"),
        ({"type": "image", "imageBase64": "%%%"}, "imageBase64", "base64"),
        ({"type": "text"}, "text", "required"),
        ({"type": "location", "latitude": 91, "longitude": 0}, "latitude", "between"),
        (
            {"type": "contact", "contact": {"name": "x", "phone": "12"}},
            "contact.phone",
            "phone number",
        ),
        ({"type": "text", "text": "x", "mentions": ["nope"]}, "mentions[0]", "phone"),
        ({"type": "gif", "text": "x"}, "type", "text"),
    ],
)
async def test_bad_fields_are_named(
    server: Server, alice: Account, body: dict[str, object], field: str, fragment: str
) -> None:
    await connect_sandbox(server, alice, "22241857975")
    answer = await alice.client.post(SEND, json={"to": "221781234567", **body})
    assert answer.status_code == 400, answer.text
    assert answer.json()["message"].startswith(f"{field}:")
    assert fragment in answer.json()["message"]


async def test_inline_media_over_the_limit_is_400_naming_it(server: Server, alice: Account) -> None:
    """A sticker over 1 MB is refused before it is decoded."""
    await connect_sandbox(server, alice, "22241857975")
    big = base64.b64encode(b"\0" * (1024 * 1024 + 10)).decode()
    answer = await alice.client.post(
        SEND, json={"to": "221781234567", "type": "sticker", "stickerBase64": big}
    )
    assert answer.status_code == 400
    assert "1 MB limit" in answer.json()["message"]


async def test_queue_sends_in_order_and_paced(server: Server, alice: Account) -> None:
    """Five messages submitted at once leave in order, at least pacing_ms apart (measured
    from the engine's send times)."""
    session_id = await connect_sandbox(server, alice, "22241857975", pacing_ms=100)
    answers = await asyncio.gather(
        *(
            alice.client.post(SEND, json={"to": "221781234567", "type": "text", "text": str(i)})
            for i in range(5)
        )
    )
    assert all(a.status_code == 200 for a in answers)
    log = await server.sessions.perform(alice.user, session_id, ListSent())
    assert sorted(r.text for r in log) == ["0", "1", "2", "3", "4"]
    assert [r.message_id for r in log] == sorted(
        (a.json()["message_id"] for a in answers), key=[r.message_id for r in log].index
    )
    gaps = [b.monotonic - a.monotonic for a, b in itertools.pairwise(log)]
    assert min(gaps) >= 0.1


async def test_full_queue_is_429_with_retry_after(server: Server, alice: Account) -> None:
    session_id = await connect_sandbox(server, alice, "22241857975", pacing_ms=30_000)
    server.sessions.queue_capacity = 1
    body = {"to": "221781234567", "type": "text", "text": "x"}
    await alice.client.post(SEND, json=body)  # goes out at once; the next waits 30 s
    waiting = asyncio.create_task(alice.client.post(SEND, json=body))
    assert server.sessions.queue_waiting(session_id) == 0
    await server.sessions.wait_queue(session_id, lambda waiting: waiting == 1, timeout=5)
    refused = await alice.client.post(SEND, json=body)
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) >= 1
    assert refused.json()["code"] == "send_queue_full"
    waiting.cancel()


async def test_daily_quota_is_403_naming_the_limit(server: Server) -> None:
    assert server.app is not None
    async with server.app.state.services.db.write() as tx:
        await plans.upsert(tx, "tiny", max_sessions=1, daily_messages=2)
    carol = await server.account("carol@example.com", plan="tiny")
    await connect_sandbox(server, carol, "22241857975")
    body = {"to": "221781234567", "type": "text", "text": "x"}
    assert (await carol.client.post(SEND, json=body)).status_code == 200
    assert (await carol.client.post(SEND, json=body)).status_code == 200
    third = await carol.client.post(SEND, json=body)
    assert third.status_code == 403
    assert "Daily message limit" in third.json()["message"]
    assert "2 messages per day" in third.json()["message"]


@pytest.fixture
async def origin() -> AsyncIterator[Origin]:
    served = Origin()
    await served.start()
    yield served
    await served.stop()


async def test_media_by_url_are_downloaded_and_checked(
    server: Server, alice: Account, bob: Account, origin: Origin, events: EventLog
) -> None:
    """imageUrl from a server the operator allowed (127.0.0.1 in these tests) is fetched,
    its type read from the bytes, and the file name taken from the URL for documents."""
    await connect_sandbox(server, alice, "22241857975")
    bobs = await connect_sandbox(server, bob, "221781234567")
    image = origin.file(
        "/photo.jpg", media_samples.png(32, 24), headers={"Content-Type": "image/jpeg"}
    )
    document = origin.file("/facture.pdf", b"%PDF-1.4 facture")
    await send(alice, to="221781234567", type="image", imageUrl=image, caption="Regardez ça !")
    await send(alice, to="221781234567", type="document", documentUrl=document)
    await events.wait_for(lambda log: len(log.named("message.received", bobs)) == 2)
    photo, pdf = (e.data for e in events.named("message.received", bobs))
    assert photo["media"]["mimetype"] == "image/png"  # type: ignore[index]
    assert (photo["media"]["width"], photo["media"]["height"]) == (32, 24)  # type: ignore[index]
    assert pdf["media"]["fileName"] == "facture.pdf"  # type: ignore[index]


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("http://internal.example.com/photo.jpg", "address_not_allowed"),
        ("http://10.0.0.1/photo.jpg", "address_not_allowed"),
        ("http://169.254.169.254/latest/meta-data", "address_not_allowed"),
    ],
)
async def test_media_urls_to_private_addresses_are_refused(
    server: Server, alice: Account, url: str, code: str
) -> None:
    """Refused by the guard before any connection: 400 naming the field."""
    await connect_sandbox(server, alice, "22241857975")
    answer = await alice.client.post(
        SEND, json={"to": "221781234567", "type": "image", "imageUrl": url}
    )
    assert answer.status_code == 400, answer.text
    assert answer.json()["message"].startswith("imageUrl:")
    assert answer.json()["code"] == code


async def test_an_unreachable_media_url_is_422_naming_its_status(
    server: Server, alice: Account, origin: Origin
) -> None:
    await connect_sandbox(server, alice, "22241857975")
    missing = origin.file("/gone.jpg", b"not here", status=404)
    answer = await alice.client.post(
        SEND, json={"to": "221781234567", "type": "image", "imageUrl": missing}
    )
    assert answer.status_code == 422
    assert "404" in answer.json()["message"]


async def test_a_media_url_over_the_limit_is_400_naming_it(
    server: Server, alice: Account, origin: Origin
) -> None:
    """Cut off while streaming, although the server announces no length."""
    await connect_sandbox(server, alice, "22241857975")
    big = origin.file("/big.webp", b"RIFF\0\0\0\0WEBP" + b"\0" * (1024 * 1024 + 1), length=None)
    answer = await alice.client.post(
        SEND, json={"to": "221781234567", "type": "sticker", "stickerUrl": big}
    )
    assert answer.status_code == 400
    assert "1 MB limit" in answer.json()["message"]


async def test_deleting_a_session_lets_the_message_on_the_wire_finish(
    server: Server, alice: Account
) -> None:
    """The delete waits for the message the engine has: its caller gets WhatsApp's id and
    the message is stored (before, the caller waited forever)."""
    session_id = await connect_sandbox(server, alice, "22241857975")
    wire = hold_sends(server)
    sending = asyncio.create_task(
        alice.client.post(SEND, json={"to": "221781234567", "type": "text", "text": "x"})
    )
    async with asyncio.timeout(5):
        await wire.holding.wait()
    deleting = asyncio.create_task(alice.client.delete(f"/api/whatsapp/sessions/{session_id}"))
    await server.sessions.wait_queue_closing(session_id, timeout=5)
    wire.release()  # WhatsApp answers while the session is being deleted
    async with asyncio.timeout(5):
        deleted = await deleting
    assert deleted.status_code == 200
    async with asyncio.timeout(5):
        answer = await sending
    assert answer.status_code == 200, answer.text
    assert server.app is not None
    async with server.app.state.services.db.write() as tx:
        stored = await messages.find(tx, session_id, answer.json()["message_id"])
    assert stored is not None
    assert stored.status in ("sent", "delivered", "read")


async def test_a_send_cut_short_by_a_delete_is_a_503_saying_its_outcome_is_unknown(
    server: Server, alice: Account
) -> None:
    """When the engine does not finish within the grace, the caller is told the truth."""
    session_id = await connect_sandbox(server, alice, "22241857975")
    wire = hold_sends(server)  # and never released: WhatsApp never answers
    server.sessions.close_grace = 0.05
    sending = asyncio.create_task(
        alice.client.post(SEND, json={"to": "221781234567", "type": "text", "text": "x"})
    )
    async with asyncio.timeout(5):
        await wire.holding.wait()
    assert (await alice.client.delete(f"/api/whatsapp/sessions/{session_id}")).status_code == 200
    async with asyncio.timeout(5):
        answer = await sending
    assert answer.status_code == 503
    assert answer.json()["code"] == "send_outcome_unknown"
    assert "unknown" in answer.json()["message"]


async def test_pacing_holds_across_a_restart(server: Server, alice: Account) -> None:
    """The first send after a restart waits out what is left of the pacing, counted from
    the stored send time, even when the engine's timestamp is whole seconds (WhatsApp's,
    on the real engine: up to a second early)."""
    session_id = await connect_sandbox(server, alice, "22241857975", pacing_ms=1000)
    assert server.app is not None
    network = server.app.state.services.engines["sandbox"].network
    network.clock = lambda: utcnow() - timedelta(seconds=0.99)  # stamped a second early
    body = {"to": "221781234567", "type": "text", "text": "x"}
    assert (await alice.client.post(SEND, json=body)).status_code == 200
    (before,) = await server.sessions.perform(alice.user, session_id, ListSent())
    await server.restart()
    await server.sessions.wait_for(session_id, [SessionStatus.CONNECTED], timeout=5)
    assert (await alice.client.post(SEND, json=body)).status_code == 200
    (after,) = await server.sessions.perform(alice.user, session_id, ListSent())
    assert after.monotonic - before.monotonic >= 1.0
