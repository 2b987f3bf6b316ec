"""The everyday actions between two sandbox numbers, end to end: each answers as the API
says, the stored messages follow, and the other side gets its webhook, signed (both the
original's signature and Standard Webhooks')."""

from __future__ import annotations

import asyncio
import base64
import io
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import update

from sendmako.app import WebhookSeams
from sendmako.net.mock import MockClient, Request, Response
from sendmako.settings import Settings
from sendmako.storage import messages
from sendmako.storage.tables import Message, utcnow
from sendmako.webhooks import signing
from tests.harness import Account, Server, connect_sandbox, running

SEND = "/api/send-message"
ALICE, BOB, CAROL = "22241857975", "221781234567", "237691234567"


@dataclass
class Hooks:
    """Every account's webhook endpoint, as one receiver: each delivery checked against
    its endpoint's secret, kept by account."""

    secrets: dict[str, str] = field(default_factory=dict)  # path -> secret
    received: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    changed: asyncio.Condition = field(default_factory=asyncio.Condition)

    async def handle(self, request: Request) -> Response:
        secret = self.secrets[request.url.path]
        headers = dict(request.headers)
        assert headers["X-Sendmako-Signature"] == signing.sendmako_signature(secret, request.body)
        assert signing.verify_standard(secret, headers, request.body)
        async with self.changed:
            self.received.setdefault(request.url.path, []).append(json.loads(request.body))
            self.changed.notify_all()
        return Response(200, "ok")

    async def wait(self, person: Person, event: str, count: int = 1) -> list[dict[str, Any]]:
        """The `data` of the first `count` events of that name `person`'s endpoint got."""

        def got() -> list[dict[str, Any]]:
            bodies = self.received.get(f"/{person.name}", [])
            return [body["data"] for body in bodies if body["event"] == event]

        async with asyncio.timeout(5), self.changed:
            await self.changed.wait_for(lambda: len(got()) >= count)
        return got()[:count]


@dataclass
class Person:
    name: str
    account: Account
    session_id: str
    phone: str

    async def call(
        self, method: str, path: str, expect: int = 200, **kwargs: Any
    ) -> dict[str, Any]:
        answer = await self.account.client.request(method, path, **kwargs)
        assert answer.status_code == expect, answer.text
        body: dict[str, Any] = answer.json()
        return body

    async def send(self, to: Person | str, **body: Any) -> str:
        number = to.phone if isinstance(to, Person) else to
        answer = await self.call("POST", SEND, json={"to": number, **body})
        message_id: str = answer["message_id"]
        return message_id


@pytest.fixture
def hooks() -> Hooks:
    return Hooks()


@pytest.fixture
async def server(settings: Settings, hooks: Hooks) -> AsyncIterator[Server]:
    seams = WebhookSeams(client=MockClient(hooks.handle))
    async with running(settings, seams) as started:
        yield started


async def person(server: Server, hooks: Hooks, name: str, phone: str) -> Person:
    account = await server.account(f"{name}@example.com")
    hook = await account.client.post(
        "/api/webhooks", json={"url": f"https://hooks.example.com/{name}"}
    )
    assert hook.status_code == 201, hook.text
    hooks.secrets[f"/{name}"] = hook.json()["secret"]
    session_id = await connect_sandbox(server, account, phone, name)
    return Person(name, account, session_id, phone)


@pytest.fixture
async def alice(server: Server, hooks: Hooks) -> Person:
    return await person(server, hooks, "alice", ALICE)


@pytest.fixture
async def bob(server: Server, hooks: Hooks) -> Person:
    return await person(server, hooks, "bob", BOB)


async def stored(server: Server, who: Person, message_id: str) -> messages.StoredMessage:
    assert server.app is not None
    async with server.app.state.services.db.read() as db:
        found = await messages.of_user(db, who.account.user.id, message_id, who.session_id)
    assert found, f"{who.name} stored no {message_id}"
    return found[0]


# -- reactions ------------------------------------------------------------------------------


async def test_a_reaction_reaches_the_author_and_the_stored_message(
    server: Server, hooks: Hooks, alice: Person, bob: Person
) -> None:
    """Bob reacts to Alice's message: Alice gets message.reaction, both stored copies carry
    it; an empty emoji takes it back."""
    sent = await alice.send(bob, type="text", text="On se voit demain ?")
    await hooks.wait(bob, "message.received")
    reacted = await bob.call(
        "POST", SEND, json={"to": ALICE, "type": "reaction", "message_id": sent, "emoji": "👍"}
    )
    assert reacted["success"] is True
    assert reacted["message_id"] != sent  # the reaction is a message of its own
    (data,) = await hooks.wait(alice, "message.reaction")
    assert data["message_id"] == sent
    assert (data["from"], data["emoji"], data["from_me"]) == (BOB, "👍", False)
    assert data["chat"] == f"{BOB}@s.whatsapp.net"
    assert server.app is not None
    async with server.app.state.services.db.read() as db:
        mine = await stored(server, alice, sent)
        theirs = await stored(server, bob, sent)
        assert await messages.reactions_of(db, mine.id) == {BOB: "👍"}
        assert await messages.reactions_of(db, theirs.id) == {BOB: "👍"}
    await bob.call(
        "POST", SEND, json={"to": ALICE, "type": "reaction", "message_id": sent, "emoji": ""}
    )
    _, removed = await hooks.wait(alice, "message.reaction", 2)
    assert removed["emoji"] == ""
    async with server.app.state.services.db.read() as db:
        assert await messages.reactions_of(db, mine.id) == {}


async def test_a_reaction_needs_its_message_and_emoji(alice: Person, bob: Person) -> None:
    """400 naming the field missing; 404 naming message_id for a message never seen."""
    missing = await alice.call("POST", SEND, 400, json={"to": BOB, "type": "reaction"})
    assert missing["message"].startswith("emoji:")
    unknown = await alice.call(
        "POST", SEND, 404, json={"to": BOB, "type": "reaction", "message_id": "X", "emoji": "🙂"}
    )
    assert unknown["message"].startswith("message_id:")


# -- polls --------------------------------------------------------------------------------


async def test_a_poll_is_voted_on_and_counted_by_option_name(
    server: Server, hooks: Hooks, alice: Person, bob: Person
) -> None:
    """Alice asks, Bob votes by option names: Alice gets poll.vote with the names (never
    their hashes), and her stored poll counts the vote."""
    poll = {"name": "Quel jour ?", "options": ["Lundi", "Mardi", "Jeudi"]}
    sent = await alice.send(bob, type="poll", poll=poll)
    (received,) = await hooks.wait(bob, "message.received")
    assert received["poll"] == {**poll, "selectable_count": 1}
    await bob.call(
        "POST",
        SEND,
        json={"to": ALICE, "type": "poll_vote", "message_id": sent, "options": ["Mardi"]},
    )
    (vote,) = await hooks.wait(alice, "poll.vote")
    assert (vote["poll_message_id"], vote["from"]) == (sent, BOB)
    assert vote["selected_options"] == ["Mardi"]
    assert server.app is not None
    async with server.app.state.services.db.read() as db:
        assert await messages.votes_of(db, (await stored(server, alice, sent)).id) == {
            BOB: ["Mardi"]
        }


@pytest.mark.parametrize(
    ("poll", "field"),
    [
        ({"name": "?", "options": ["Seule"]}, "poll.options"),
        ({"name": "?", "options": [str(n) for n in range(13)]}, "poll.options"),
        ({"name": "?", "options": ["A", "A"]}, "poll.options[1]"),
        ({"name": "?", "options": ["A", "x" * 101]}, "poll.options[1]"),
        ({"name": "?", "options": ["A", "B"], "selectable_count": 3}, "poll.selectable_count"),
    ],
)
async def test_a_poll_needs_2_to_12_distinct_options(
    alice: Person, bob: Person, poll: dict[str, Any], field: str
) -> None:
    refused = await alice.call("POST", SEND, 400, json={"to": BOB, "type": "poll", "poll": poll})
    assert refused["message"].startswith(f"{field}:")


async def test_a_vote_names_options_of_the_poll(hooks: Hooks, alice: Person, bob: Person) -> None:
    sent = await alice.send(bob, type="poll", poll={"name": "?", "options": ["Oui", "Non"]})
    await hooks.wait(bob, "message.received")
    refused = await bob.call(
        "POST",
        SEND,
        400,
        json={"to": ALICE, "type": "poll_vote", "message_id": sent, "options": ["Peut-être"]},
    )
    assert refused["message"].startswith("options[0]:")


# -- edits and deletions ----------------------------------------------------------------


async def test_an_edit_reaches_the_other_side_and_keeps_the_earlier_text(
    server: Server, hooks: Hooks, alice: Person, bob: Person
) -> None:
    sent = await alice.send(bob, type="text", text="Rendez-vous à 10 h")
    edited = await alice.call("PATCH", f"/api/messages/{sent}", json={"text": "à 11 h"})
    assert (edited["success"], edited["message_id"]) == (True, sent)
    (data,) = await hooks.wait(bob, "message.edited")
    assert (data["message_id"], data["from"], data["body"]) == (sent, ALICE, "à 11 h")
    assert server.app is not None
    async with server.app.state.services.db.read() as db:
        mine, theirs = await stored(server, alice, sent), await stored(server, bob, sent)
        assert (mine.body, theirs.body) == ("à 11 h", "à 11 h")
        assert mine.edited_at is not None
        assert await messages.edits_of(db, mine.id) == ["Rendez-vous à 10 h"]


async def test_an_edit_past_15_minutes_is_422_naming_the_window(
    server: Server, alice: Person, bob: Person
) -> None:
    sent = await alice.send(bob, type="text", text="x")
    assert server.app is not None
    async with server.app.state.services.db.write() as tx:
        await tx.execute(
            update(Message)
            .where(Message.wa_message_id == sent)
            .values(created_at=utcnow() - timedelta(minutes=16))
        )
    refused = await alice.call("PATCH", f"/api/messages/{sent}", 422, json={"text": "y"})
    assert refused["code"] == "edit_window_passed"
    assert "15 minutes" in refused["message"]


async def test_only_your_own_messages_can_be_edited(
    hooks: Hooks, alice: Person, bob: Person
) -> None:
    sent = await alice.send(bob, type="text", text="x")
    await hooks.wait(bob, "message.received")
    refused = await bob.call("PATCH", f"/api/messages/{sent}", 422, json={"text": "y"})
    assert refused["code"] == "not_own_message"


async def test_a_deletion_reaches_the_other_side(
    server: Server, hooks: Hooks, alice: Person, bob: Person
) -> None:
    sent = await alice.send(bob, type="text", text="Oups")
    assert (await alice.call("DELETE", f"/api/messages/{sent}"))["success"] is True
    (data,) = await hooks.wait(bob, "message.revoked")
    assert (data["message_id"], data["from"]) == (sent, ALICE)
    assert "by" not in data
    assert (await stored(server, bob, sent)).revoked_at is not None
    assert (await stored(server, alice, sent)).revoked_at is not None


async def test_another_persons_message_is_deleted_only_by_a_group_admin(
    hooks: Hooks, alice: Person, bob: Person
) -> None:
    """Outside a group: 422. In a group Bob administers: deleted, with `by`."""
    direct = await alice.send(bob, type="text", text="x")
    await hooks.wait(bob, "message.received")
    refused = await bob.call("DELETE", f"/api/messages/{direct}", 422)
    assert refused["code"] == "not_own_message"
    created = await bob.call(
        "POST", "/api/groups", 201, json={"name": "Famille", "participants": [ALICE]}
    )
    group = created["group"]["id"]
    in_group = await alice.send(group, type="text", text="Hors sujet")
    await hooks.wait(bob, "message.received", 2)
    await bob.call("DELETE", f"/api/messages/{in_group}")
    (data,) = await hooks.wait(alice, "message.revoked")
    assert (data["message_id"], data["from"], data["by"]) == (in_group, ALICE, BOB)
    assert data["group_id"] == group


# -- reading, typing, presence -----------------------------------------------------------


async def test_marking_read_sends_the_author_a_read_receipt(
    server: Server, hooks: Hooks, alice: Person, bob: Person
) -> None:
    sent = await alice.send(bob, type="text", text="Lu ?")
    await hooks.wait(bob, "message.received")
    await bob.call("POST", "/api/messages/read", json={"chat": ALICE, "message_ids": [sent]})
    statuses = await hooks.wait(alice, "message.status", 2)
    assert {(s["message_id"], s["status"]) for s in statuses} >= {(sent, "read")}
    assert (await stored(server, alice, sent)).status == "read"


async def test_typing_and_presence_reach_whoever_watches(
    hooks: Hooks, alice: Person, bob: Person
) -> None:
    """Bob watches Alice: her current presence comes at once, then each change; her typing
    reaches Bob's chat with her."""
    await bob.call("POST", "/api/presence/subscribe", json={"to": ALICE})
    (now,) = await hooks.wait(bob, "presence.update")
    assert (now["from"], now["state"]) == (ALICE, "available")
    await alice.call("POST", "/api/presence", json={"state": "unavailable"})
    await alice.call("POST", "/api/presence", json={"to": BOB, "state": "composing"})
    # Typing belongs to the chat's deliveries, presence to the session's: either may come
    # first.
    changes = {data["state"]: data for data in (await hooks.wait(bob, "presence.update", 3))[1:]}
    assert changes["unavailable"]["from"] == ALICE
    assert changes["composing"]["chat"] == f"{ALICE}@s.whatsapp.net"


async def test_presence_states_are_checked(alice: Person) -> None:
    refused = await alice.call("POST", "/api/presence", 400, json={"state": "composing"})
    assert refused["message"].startswith("state:")


# -- numbers, pictures, profile ---------------------------------------------------------


async def test_numbers_are_checked_and_remembered_for_a_day(server: Server, alice: Person) -> None:
    answer = await alice.call(
        "POST", "/api/contacts/check", json={"numbers": ["+221 78 123 45 67", "22241850000"]}
    )
    assert answer["results"] == [
        {"number": BOB, "on_whatsapp": True, "jid": f"{BOB}@s.whatsapp.net"},
        {"number": "22241850000", "on_whatsapp": False, "jid": None},
    ]
    # Offline, the session cannot ask WhatsApp; the day-old answers still come.
    assert server.app is not None
    network = server.app.state.services.engines["sandbox"].network
    network.settings = network.settings.model_copy(update={"not_on_whatsapp_suffixes": []})
    again = await alice.call("POST", "/api/contacts/check", json={"numbers": ["22241850000"]})
    assert again["results"][0]["on_whatsapp"] is False  # remembered, not asked again
    refused = await alice.call("POST", "/api/contacts/check", 400, json={"numbers": ["12"]})
    assert refused["message"].startswith("numbers[0]:")


def jpeg(width: int, height: int) -> str:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(out, format="JPEG")
    return base64.b64encode(out.getvalue()).decode()


async def test_the_profile_is_read_and_changed_and_its_picture_seen_by_contacts(
    server: Server, alice: Person, bob: Person
) -> None:
    await alice.call("PUT", "/api/profile", json={"name": "Alice D.", "about": "En réunion"})
    await alice.call("PUT", "/api/profile/picture", json={"imageBase64": jpeg(1200, 800)})
    profile = await alice.call("GET", "/api/profile")
    assert (profile["phone_number"], profile["name"], profile["about"]) == (
        ALICE,
        "Alice D.",
        "En réunion",
    )
    seen = await bob.call("GET", f"/api/contacts/{ALICE}/picture")
    assert seen["picture_url"] == profile["picture_url"]
    fetched = await server.client().get(seen["picture_url"].split("sendmako.test", 1)[-1])
    assert fetched.status_code == 200
    with Image.open(io.BytesIO(fetched.content)) as picture:
        assert (picture.format, picture.size) == ("JPEG", (640, 640))
    none = await alice.call("GET", f"/api/contacts/{BOB}/picture")
    assert none["picture_url"] is None


# -- calls --------------------------------------------------------------------------------


async def test_calls_are_refused_with_a_message_when_the_session_says_so(
    server: Server, hooks: Hooks, alice: Person
) -> None:
    await alice.call(
        "PATCH",
        f"/api/whatsapp/sessions/{alice.session_id}",
        json={"reject_calls": True, "reject_calls_message": "Écrivez-moi plutôt."},
    )
    await alice.call(
        "POST",
        f"/api/sandbox/sessions/{alice.session_id}/happen",
        json={"event": "call", "from": CAROL},
    )
    (call,) = await hooks.wait(alice, "call.received")
    assert (call["from"], call["rejected"], call["video"]) == (CAROL, True, False)
    assert server.app is not None
    network = server.app.state.services.engines["sandbox"].network
    await network.wait_sent(alice.session_id, 1, timeout=5)
    (reply,) = (await alice.call("GET", f"/api/sandbox/sessions/{alice.session_id}/sent"))[
        "messages"
    ]
    assert (reply["to"], reply["text"]) == (f"{CAROL}@s.whatsapp.net", "Écrivez-moi plutôt.")
    assert call["call_id"] in network.rejected_calls


# -- from the outside world, and from the phone -----------------------------------------


async def test_the_control_api_makes_a_contacts_actions_arrive(hooks: Hooks, alice: Person) -> None:
    """A contact (no session here) reacts, edits, types; a group changes."""
    happen = f"/api/sandbox/sessions/{alice.session_id}/happen"
    await alice.call(
        "POST", happen, json={"event": "reaction", "from": CAROL, "message_id": "M", "emoji": "❤️"}
    )
    await alice.call("POST", happen, json={"event": "typing", "from": CAROL, "state": "recording"})
    group = "120363000000000042@g.us"
    await alice.call(
        "POST",
        happen,
        json={
            "event": "group_participants",
            "from": CAROL,
            "group_id": group,
            "action": "add",
            "participants": [BOB],
        },
    )
    (reaction,) = await hooks.wait(alice, "message.reaction")
    assert (reaction["from"], reaction["emoji"]) == (CAROL, "❤️")
    (typing,) = await hooks.wait(alice, "presence.update")
    assert typing["state"] == "recording"
    (added,) = await hooks.wait(alice, "group.participants")
    assert (added["group_id"], added["action"], added["participants"], added["by"]) == (
        group,
        "add",
        [BOB],
        CAROL,
    )


async def test_a_message_from_another_device_of_the_number_is_message_sent(
    server: Server, hooks: Hooks, alice: Person, bob: Person
) -> None:
    """A second session on Alice's number sees what the first sends as message.sent."""
    twin = await connect_sandbox(server, alice.account, ALICE, "alice-desktop")
    sent = await alice.send(bob, type="text", text="Depuis le téléphone")
    (data,) = await hooks.wait(alice, "message.sent")
    assert (data["message_id"], data["to"], data["body"]) == (sent, BOB, "Depuis le téléphone")
    assert (await stored(server, Person("alice", alice.account, twin, ALICE), sent)).from_me


# -- tenants ----------------------------------------------------------------------------


async def test_another_users_message_cannot_be_acted_on_or_seen_to_exist(
    server: Server, hooks: Hooks, alice: Person, bob: Person
) -> None:
    """Carol, another account, gets the same 404 for Alice's message as for none at all."""
    carol = await person(server, hooks, "carol", CAROL)
    sent = await alice.send(bob, type="text", text="privé")
    for method, path, body in [
        ("PATCH", f"/api/messages/{sent}", {"text": "pirate"}),
        ("DELETE", f"/api/messages/{sent}", None),
        ("POST", "/api/messages/read", {"chat": BOB, "message_ids": [sent]}),
        ("POST", SEND, {"to": BOB, "type": "reaction", "message_id": sent, "emoji": "👎"}),
    ]:
        theirs = await carol.call(method, path, 404, json=body)
        none = await carol.call(
            method,
            path.replace(sent, "NEVER"),
            404,
            json=json.loads(json.dumps(body).replace(sent, "NEVER")) if body else None,
        )
        assert theirs["message"].replace(sent, "NEVER") == none["message"], path
