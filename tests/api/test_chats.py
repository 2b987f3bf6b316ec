"""`/api/chats`: every message sent or received is kept and paged back, chats come latest
activity first with unread counts that marking read brings down, what happens to a message
later (receipts, reactions, edits, deletions) shows on it, the phone's history is stored
without webhooks, old messages are purged, and nobody reads another user's chats."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update

from sendmako.app import WebhookSeams
from sendmako.net.mock import MockClient
from sendmako.settings import Settings
from sendmako.storage.tables import Chat, Message, WebhookEvent, utcnow
from tests.api.test_message_actions import ALICE, BOB, CAROL, Hooks, Person, person
from tests.harness import Account, Server, connect_sandbox, running

DAVID = "33612345678"

# Every test on SQLite, and on PostgreSQL when a URL is given.
pytestmark = pytest.mark.usefixtures("backend")


@pytest.fixture
def hooks() -> Hooks:
    return Hooks()


@pytest.fixture
async def server(settings: Settings, hooks: Hooks) -> AsyncIterator[Server]:
    async with running(settings, WebhookSeams(client=MockClient(hooks.handle))) as started:
        yield started


@pytest.fixture
async def alice(server: Server, hooks: Hooks) -> Person:
    return await person(server, hooks, "alice", ALICE)


@pytest.fixture
async def bob(server: Server, hooks: Hooks) -> Person:
    return await person(server, hooks, "bob", BOB)


async def arrive(who: Person, sender: str, text: str, **extra: Any) -> str:
    """A message from `sender` reaches `who` (stored before this returns)."""
    body = await who.call(
        "POST",
        f"/api/sandbox/sessions/{who.session_id}/inbound",
        json={"from": sender, "type": "text", "text": text, **extra},
    )
    message_id: str = body["message_id"]
    return message_id


async def chats_of(who: Person, **params: Any) -> dict[str, Any]:
    return await who.call("GET", "/api/chats", params=params)


async def messages_of(who: Person, chat: str, **params: Any) -> dict[str, Any]:
    return await who.call("GET", f"/api/chats/{chat}/messages", params=params)


# -- chats ----------------------------------------------------------------------------------


async def test_chats_come_latest_activity_first_with_unread_counts(alice: Person) -> None:
    """Each chat once, the one that moved last on top, with its unread count and its
    latest message; the person's push name names their chat."""
    await arrive(alice, BOB, "Salut", from_name="Bob")
    await arrive(alice, CAROL, "Bonjour")
    await arrive(alice, BOB, "Tu es là ?", from_name="Bob")
    sent = await alice.send(CAROL, type="text", text="Oui, je suis là")
    listed = await chats_of(alice)
    assert listed["session_id"] == alice.session_id
    assert [(c["phone"], c["unread"]) for c in listed["chats"]] == [(CAROL, 1), (BOB, 2)]
    carol, bob = listed["chats"]
    assert carol["chat"] == f"{CAROL}@s.whatsapp.net"
    assert carol["last_message"]["message_id"] == sent
    assert (carol["last_message"]["from_me"], carol["last_message"]["body"]) == (
        True,
        "Oui, je suis là",
    )
    assert (bob["name"], bob["is_group"], bob["last_message"]["body"]) == (
        "Bob",
        False,
        "Tu es là ?",
    )
    assert listed["next_cursor"] is None


async def test_marking_read_brings_the_unread_count_down(alice: Person) -> None:
    """Marking the second of three read leaves the third unread; marking the last clears
    the chat."""
    ids = [await arrive(alice, BOB, f"message {n}") for n in range(3)]
    await alice.call("POST", "/api/messages/read", json={"chat": BOB, "message_ids": ids[:2]})
    assert (await chats_of(alice))["chats"][0]["unread"] == 1
    await alice.call("POST", "/api/messages/read", json={"chat": BOB, "message_ids": [ids[2]]})
    assert (await chats_of(alice))["chats"][0]["unread"] == 0


async def test_chats_page_with_a_cursor(alice: Person) -> None:
    """Pages of two, each chat once, until next_cursor is null."""
    for number in (BOB, CAROL, DAVID):
        await arrive(alice, number, "hello")
    first = await chats_of(alice, limit=2)
    assert len(first["chats"]) == 2
    second = await chats_of(alice, limit=2, cursor=first["next_cursor"])
    assert second["next_cursor"] is None
    seen = [c["phone"] for c in first["chats"] + second["chats"]]
    assert seen == [DAVID, CAROL, BOB]


# -- messages -------------------------------------------------------------------------------


async def test_a_chat_pages_newest_first_and_stays_stable_under_new_messages(
    alice: Person,
) -> None:
    """Pages of two from the newest; a message arriving mid-way lands before the first
    page, never in or between the later ones."""
    ids = [await arrive(alice, BOB, f"m{n}") for n in range(5)]
    first = await messages_of(alice, BOB, limit=2)
    assert [m["message_id"] for m in first["messages"]] == [ids[4], ids[3]]
    late = await arrive(alice, BOB, "late")
    second = await messages_of(alice, BOB, limit=2, cursor=first["next_cursor"])
    assert [m["message_id"] for m in second["messages"]] == [ids[2], ids[1]]
    third = await messages_of(alice, BOB, limit=2, cursor=second["next_cursor"])
    assert [m["message_id"] for m in third["messages"]] == [ids[0]]
    assert third["next_cursor"] is None
    again = await messages_of(alice, f"{BOB}@s.whatsapp.net", limit=1)
    assert again["messages"][0]["message_id"] == late
    assert again["chat"] == f"{BOB}@s.whatsapp.net"


async def test_a_message_says_who_wrote_it_to_whom(alice: Person) -> None:
    """Theirs from them to us, ours from us to them, with type, body and status."""
    theirs = await arrive(alice, BOB, "Salut Alice")
    ours = await alice.send(BOB, type="text", text="Salut Bob", quoted_message_id=theirs)
    listed = (await messages_of(alice, BOB))["messages"]
    assert [m["message_id"] for m in listed] == [ours, theirs]
    mine, received = listed
    assert (mine["from_me"], mine["from"], mine["to"], mine["type"]) == (True, ALICE, BOB, "text")
    assert mine["quoted_message_id"] == theirs
    assert (received["from_me"], received["from"], received["to"]) == (False, BOB, ALICE)
    assert (received["type"], received["body"], received["status"]) == (
        "text",
        "Salut Alice",
        "received",
    )
    assert (received["edited_at"], received["revoked"], received["reactions"]) == (None, False, [])


async def test_receipts_reactions_edits_and_deletions_show_on_the_messages(
    hooks: Hooks, alice: Person, bob: Person
) -> None:
    """Bob reads Alice's message and reacts, Alice edits one and deletes another: her
    chat with Bob says so."""
    read = await alice.send(bob, type="text", text="Lu ?")
    edited = await alice.send(bob, type="text", text="à 10 h")
    deleted = await alice.send(bob, type="text", text="oups")
    await hooks.wait(bob, "message.received", 3)
    await bob.call(
        "POST",
        "/api/send-message",
        json={"to": ALICE, "type": "reaction", "message_id": read, "emoji": "❤️"},
    )
    await hooks.wait(alice, "message.reaction")
    await alice.call("PATCH", f"/api/messages/{edited}", json={"text": "à 11 h"})
    await alice.call("DELETE", f"/api/messages/{deleted}")
    statuses = await hooks.wait(alice, "message.status", 6)  # delivered and read, each
    assert {s["status"] for s in statuses} == {"delivered", "read"}
    by_id = {m["message_id"]: m for m in (await messages_of(alice, BOB))["messages"]}
    assert by_id[read]["status"] == "read"
    assert by_id[read]["reactions"] == [{"from": BOB, "emoji": "❤️"}]
    assert by_id[edited]["body"] == "à 11 h"
    assert by_id[edited]["edited_at"] is not None
    assert by_id[deleted]["revoked"] is True
    # Bob's side of the same conversation: the same story, from the other end, once the
    # edit and the deletion have reached him.
    await hooks.wait(bob, "message.edited")
    await hooks.wait(bob, "message.revoked")
    theirs = {m["message_id"]: m for m in (await messages_of(bob, ALICE))["messages"]}
    assert (theirs[edited]["body"], theirs[deleted]["revoked"]) == ("à 11 h", True)
    assert theirs[read]["from"] == ALICE


async def test_group_messages_are_one_chat(alice: Person) -> None:
    group = "120363025246125244@g.us"
    await arrive(alice, BOB, "de Bob", group_id=group)
    await arrive(alice, CAROL, "de Carol", group_id=group)
    (chat,) = (await chats_of(alice))["chats"]
    assert (chat["chat"], chat["is_group"], chat["phone"], chat["unread"]) == (group, True, None, 2)
    listed = (await messages_of(alice, group.replace("@", "%40")))["messages"]
    assert [(m["from"], m["to"]) for m in listed] == [(CAROL, group), (BOB, group)]


# -- bad requests and other users -----------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 101}, "limit"),
        ({"limit": "many"}, "limit"),
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"cursor": "eyJ0IjoxfQ"}, "cursor"),  # {"t":1}: valid base64 and JSON, not ours
    ],
)
async def test_bad_limits_and_cursors_are_400_naming_the_field(
    alice: Person, params: dict[str, Any], field: str
) -> None:
    await arrive(alice, BOB, "hello")
    for path in ("/api/chats", f"/api/chats/{BOB}/messages"):
        refused = await alice.call("GET", path, 400, params=params)
        assert refused["field"] == field
        assert refused["message"].startswith(f"{field}") or field in refused["message"]


async def test_a_chat_that_is_not_a_number_is_400(alice: Person) -> None:
    refused = await alice.call("GET", "/api/chats/not-a-number/messages", 400)
    assert refused["field"] == "chat"


async def test_another_users_chats_are_404_as_if_they_did_not_exist(
    alice: Person, bob: Person
) -> None:
    """Bob names Alice's session: 404, the same answer as a session nobody has; a chat
    Bob never had is 404 too."""
    await arrive(alice, CAROL, "secret")
    foreign = await bob.call("GET", "/api/chats", 404, params={"session_id": alice.session_id})
    missing = await bob.call("GET", "/api/chats", 404, params={"session_id": "user_999999"})
    assert foreign["message"] == missing["message"].replace("user_999999", alice.session_id)
    await bob.call(
        "GET", f"/api/chats/{CAROL}/messages", 404, params={"session_id": alice.session_id}
    )
    await bob.call("GET", f"/api/chats/{CAROL}/messages", 404)
    assert (await chats_of(bob))["chats"] == []


async def test_no_session_at_all_is_404(server: Server) -> None:
    account: Account = await server.account("nobody@example.com")
    answer = await account.client.get("/api/chats")
    assert answer.status_code == 404
    assert answer.json()["code"] == "no_session"


# -- history --------------------------------------------------------------------------------

HISTORY = [
    {
        "chat": BOB,
        "name": "Bob (bureau)",
        "unread": 1,
        "messages": [
            {"message_id": "H1", "text": "Ancien message", "timestamp": 1_700_000_000},
            {"message_id": "H2", "from_me": True, "text": "Ma réponse", "timestamp": 1_700_000_060},
        ],
    },
    *(
        {
            "chat": f"2217700000{n:02d}",
            "messages": [{"text": f"chat {n}", "timestamp": 1_600_000_000 + n}],
        }
        for n in range(12)
    ),
]


async def test_a_linked_number_brings_its_history_without_webhooks(
    server: Server, hooks: Hooks
) -> None:
    """The phone's history is stored in chunks (progress in the session's view), named and
    counted as the phone says, and raises no webhook: a receiver would take it for new."""
    account = await server.account("dana@example.com")
    hook = await account.client.post("/api/webhooks", json={"url": "https://hooks.example.com/d"})
    hooks.secrets["/d"] = hook.json()["secret"]
    created = await account.client.post("/api/whatsapp/sessions/", json={"session_name": "d"})
    session_id = created.json()["session_id"]
    from sendmako.model.statuses import SessionStatus

    await server.sessions.wait_for(session_id, [SessionStatus.QR_READY], timeout=5)
    scanned = await account.client.post(
        f"/api/sandbox/sessions/{session_id}/scan",
        json={"phone_number": DAVID, "history": HISTORY},
    )
    assert scanned.status_code == 200, scanned.text
    view = (await account.client.get(f"/api/whatsapp/sessions/{session_id}")).json()
    assert view["history_sync"]["progress"] == 100
    assert (view["history_sync"]["chats"], view["history_sync"]["messages"]) == (13, 14)
    listed = (await account.client.get("/api/chats", params={"limit": 100})).json()
    assert len(listed["chats"]) == 13
    top = listed["chats"][0]
    assert (top["phone"], top["name"], top["unread"]) == (BOB, "Bob (bureau)", 1)
    assert top["last_message"]["message_id"] == "H2"
    messages = (await account.client.get(f"/api/chats/{BOB}/messages")).json()["messages"]
    assert [(m["message_id"], m["from_me"], m["from"]) for m in messages] == [
        ("H2", True, DAVID),
        ("H1", False, BOB),
    ]
    assert messages[1]["timestamp"] == 1_700_000_000
    assert server.app is not None
    async with server.app.state.services.db.read() as db:
        names = await db.scalars(
            select(WebhookEvent.name).where(WebhookEvent.user_id == account.user.id)
        )
        assert not [name for name in names if not name.startswith("session.")]


async def test_history_repeated_is_not_stored_twice(server: Server, alice: Person) -> None:
    """A chunk that repeats messages already held (WhatsApp resends) adds nothing."""
    from sendmako.model.events import HistoryConversation, HistorySynced, MessageReceived
    from sendmako.model.simulation import Happen

    old = MessageReceived(
        "OLD1", f"{BOB}@s.whatsapp.net", BOB, "", None, "conversation", "x", 1_700_000_000
    )
    chunk = HistorySynced((HistoryConversation(f"{BOB}@s.whatsapp.net", "Bob", 0, (old,)),), 50)
    for _ in range(2):
        await server.sessions.perform(alice.account.user, alice.session_id, Happen(chunk))
    assert [m["message_id"] for m in (await messages_of(alice, BOB))["messages"]] == ["OLD1"]
    view = await alice.call("GET", f"/api/whatsapp/sessions/{alice.session_id}")
    assert (view["history_sync"]["messages"], view["history_sync"]["progress"]) == (1, 50)


async def test_a_bad_history_links_nothing(server: Server) -> None:
    account = await server.account("erin@example.com")
    created = await account.client.post("/api/whatsapp/sessions/", json={"session_name": "e"})
    session_id = created.json()["session_id"]
    from sendmako.model.statuses import SessionStatus

    await server.sessions.wait_for(session_id, [SessionStatus.QR_READY], timeout=5)
    refused = await account.client.post(
        f"/api/sandbox/sessions/{session_id}/scan",
        json={"phone_number": DAVID, "history": [{"chat": "nope", "messages": [{"text": "x"}]}]},
    )
    assert refused.status_code == 400
    assert refused.json()["field"] == "history[0].chat"
    view = (await account.client.get(f"/api/whatsapp/sessions/{session_id}")).json()
    assert view["status"] == "qr_ready"


# -- retention ------------------------------------------------------------------------------


async def test_retention_purges_old_messages_and_their_empty_chats(
    server: Server, alice: Person
) -> None:
    """Messages past the retention go, in batches; a chat left with none goes too; recent
    ones stay."""
    old = [await arrive(alice, BOB, f"old {n}") for n in range(5)]
    await arrive(alice, CAROL, "recent")
    assert server.app is not None
    services = server.app.state.services
    long_ago = utcnow() - timedelta(days=91)
    async with services.db.write() as tx:
        await tx.execute(
            update(Message).where(Message.wa_message_id.in_(old)).values(created_at=long_ago)
        )
        await tx.execute(
            update(Chat).where(Chat.chat == f"{BOB}@s.whatsapp.net").values(last_at=long_ago)
        )
    services.retention.batch = 2  # several batches, each its own transaction
    assert await services.retention.purge() == 5
    async with services.db.read() as db:
        left = await db.scalar(
            select(func.count()).select_from(Message).where(Message.session_id == alice.session_id)
        )
    assert left == 1
    assert [c["phone"] for c in (await chats_of(alice))["chats"]] == [CAROL]
    assert await services.retention.purge() == 0


async def test_retention_is_a_setting(settings: Settings) -> None:
    assert settings.message_retention_days == 90
    assert Settings(message_retention_days=7).message_retention_days == 7


async def test_sessions_of_an_account_without_connection_still_list_chats(
    server: Server, alice: Person
) -> None:
    """Reading stored chats needs no connection: a disconnected session still lists them."""
    await arrive(alice, BOB, "hello")
    await alice.call(
        "POST",
        f"/api/sandbox/sessions/{alice.session_id}/disconnect",
        json={"reason": "connection_lost", "reconnect_after": 3600},
    )
    assert [c["phone"] for c in (await chats_of(alice))["chats"]] == [BOB]


async def test_connect_sandbox_helper_is_used(server: Server) -> None:
    """A second session of the same account is chosen by session_id."""
    account = await server.account("fay@example.com")
    first = await connect_sandbox(server, account, "22241000001", "one")
    second = await connect_sandbox(server, account, "22241000002", "two")
    await account.client.post(
        f"/api/sandbox/sessions/{second}/inbound", json={"from": BOB, "type": "text", "text": "x"}
    )
    default = (await account.client.get("/api/chats")).json()
    assert (default["session_id"], default["chats"]) == (first, [])
    chosen = (await account.client.get("/api/chats", params={"session_id": second})).json()
    assert [c["phone"] for c in chosen["chats"]] == [BOB]


async def test_a_group_chat_takes_its_subject_from_the_group(alice: Person, bob: Person) -> None:
    """A group the phone's history did not name is named by its subject."""
    created = await alice.call(
        "POST", "/api/groups", 201, json={"name": "Équipe ventes", "participants": [BOB]}
    )
    group = created["group"]["id"]
    await alice.send(group, type="text", text="Bienvenue")
    (chat,) = (await chats_of(alice))["chats"]
    assert (chat["chat"], chat["name"], chat["is_group"]) == (group, "Équipe ventes", True)
