"""GET /api/whatsapp/contacts/ on sandbox sessions, and the sandbox's address-book
controls: synced at connection, kept current, best names, session choice, isolation."""

from __future__ import annotations

from typing import Any

import pytest

from sendmako.directory.contacts import ContactBook
from sendmako.ids import Jid
from sendmako.model.directory import Contact
from sendmako.model.events import (
    ContactsChanged,
)
from sendmako.model.statuses import SessionStatus
from sendmako.storage import contacts, wa_sessions
from sendmako.storage.db import Database
from tests.harness import Server, connect_sandbox
from tests.people import NOT_ON_WHATSAPP, People, Person, meet

CONTACTS = "/api/whatsapp/contacts/"
ALICE_AT_WORK = "22245123456"  # a second sandbox number of Alice's own account


@pytest.fixture
async def people(server: Server) -> People:
    return await meet(server)


def services(server: Server) -> Any:
    assert server.app is not None
    return server.app.state.services


async def address_book(person: Person, method: str, *entries: dict[str, str]) -> dict[str, Any]:
    return await person.call(
        method, f"/api/sandbox/sessions/{person.session_id}/contacts", json={"contacts": entries}
    )


def names(answer: dict[str, Any]) -> list[tuple[str, str | None]]:
    return [(c["phone"], c["name"]) for c in answer["contacts"]]


async def test_saved_and_push_names(server: Server, people: People) -> None:
    """The saved name wins; a number without one shows the push name of the account's own
    sandbox session on it, never another account's; numbers not on WhatsApp stay out. Sorted
    by name, unnamed last."""
    alice, bob, carol = people.alice, people.bob, people.carol
    await connect_sandbox(server, alice.account, ALICE_AT_WORK, "Alassane (bureau)")
    book = await address_book(
        alice,
        "PUT",
        {"phone": bob.phone, "name": "Fatou (travail)"},
        {"phone": "+237 6 91 23 45 67"},
        {"phone": NOT_ON_WHATSAPP, "name": "Fixe"},
        {"phone": ALICE_AT_WORK},
    )
    assert [(c["phone"], c["on_whatsapp"]) for c in book["contacts"]] == [
        (bob.phone, True),
        (NOT_ON_WHATSAPP, False),
        (ALICE_AT_WORK, True),
        (carol.phone, True),
    ]
    listed = await alice.call("GET", CONTACTS)
    assert listed["success"] is True
    assert listed["session_id"] == alice.session_id
    assert listed["contacts"] == [
        {
            "id": f"{ALICE_AT_WORK}@s.whatsapp.net",
            "phone": ALICE_AT_WORK,
            "name": "Alassane (bureau)",
            "saved_name": None,
            "push_name": "Alassane (bureau)",
            "business_name": None,
        },
        {
            "id": bob.jid,
            "phone": bob.phone,
            "name": "Fatou (travail)",
            "saved_name": "Fatou (travail)",
            "push_name": None,
            "business_name": None,
        },
        {
            "id": carol.jid,
            "phone": carol.phone,
            "name": None,
            "saved_name": None,
            "push_name": None,
            "business_name": None,
        },
    ]


async def test_other_accounts_sandbox_sessions_show_nothing(people: People) -> None:
    """Saving numbers to try tells nothing of other accounts' sandbox sessions: no push
    name in the address book or the contact list, and a scan of a number they hold is
    refused without saying whose it is."""
    alice, bob = people.alice, people.bob
    book = await address_book(alice, "PUT", {"phone": bob.phone}, {"phone": "22241851234"})
    assert [(c["phone"], c["push_name"]) for c in book["contacts"]] == [
        (bob.phone, None),
        ("22241851234", None),
    ]
    listed = await alice.call("GET", CONTACTS)
    assert all(c["push_name"] is None for c in listed["contacts"])
    assert "Fatou" not in str(listed) + str(book)

    created = await alice.call("POST", "/api/whatsapp/sessions/", 201, json={})
    session_id = created["session_id"]
    await alice.call("GET", f"/api/whatsapp/sessions/{session_id}?wait_for=qr_ready&timeout=5")
    refused = await alice.client.post(
        f"/api/sandbox/sessions/{session_id}/scan", json={"phone_number": bob.phone}
    )
    assert (refused.status_code, refused.json()["code"]) == (422, "sandbox_number_taken")
    assert "account" not in refused.json()["message"].replace("this account", "")


async def test_changes_to_the_address_book_follow(server: Server, people: People) -> None:
    """Adding and replacing entries reaches the contact list at once (ContactsChanged)."""
    alice, carol = people.alice, people.carol
    await connect_sandbox(server, alice.account, ALICE_AT_WORK, "Alassane (bureau)")
    await address_book(alice, "POST", {"phone": ALICE_AT_WORK})
    assert names(await alice.call("GET", CONTACTS)) == [(ALICE_AT_WORK, "Alassane (bureau)")]
    await address_book(alice, "POST", {"phone": carol.phone, "name": "Chantal"})
    await address_book(alice, "POST", {"phone": ALICE_AT_WORK, "name": "Moi"})
    assert names(await alice.call("GET", CONTACTS)) == [
        (carol.phone, "Chantal"),
        (ALICE_AT_WORK, "Moi"),
    ]
    await address_book(alice, "PUT", {"phone": ALICE_AT_WORK})
    assert names(await alice.call("GET", CONTACTS)) == [(ALICE_AT_WORK, "Alassane (bureau)")]
    await address_book(alice, "PUT")
    assert (await alice.call("GET", CONTACTS))["contacts"] == []


async def test_contacts_are_synced_when_the_session_connects(server: Server) -> None:
    """An address book filled before the scan is read as the session connects, without
    waiting for the API to ask."""
    account = await server.account("erin@example.com")
    created = await account.client.post("/api/whatsapp/sessions/", json={"session_name": "x"})
    session_id = created.json()["session_id"]
    await server.sessions.wait_for(session_id, [SessionStatus.QR_READY], 5)
    filled = await account.client.put(
        f"/api/sandbox/sessions/{session_id}/contacts",
        json={"contacts": [{"phone": "22241857975", "name": "Alassane Diallo"}]},
    )
    assert filled.status_code == 200, filled.text
    await account.client.post(
        f"/api/sandbox/sessions/{session_id}/scan", json={"phone_number": "22245123456"}
    )
    book: ContactBook = services(server).contacts
    await book.background.idle()
    db: Database = services(server).db
    async with db.read() as session:
        record = await wa_sessions.get(session, session_id)
        assert record is not None
        stored = await contacts.list_for(session, record.id)
    assert [(c.phone, c.name) for c in stored] == [("22241857975", "Alassane Diallo")]


async def test_push_names_of_incoming_messages_update_contacts(people: People) -> None:
    alice, bob = people.alice, people.bob
    await address_book(alice, "POST", {"phone": bob.phone})
    inbound = await alice.client.post(
        f"/api/sandbox/sessions/{alice.session_id}/inbound",
        json={"from": bob.phone, "from_name": "Fatou N.", "type": "text", "text": "Salut"},
    )
    assert inbound.status_code == 200, inbound.text
    assert names(await alice.call("GET", CONTACTS)) == [(bob.phone, "Fatou N.")]
    # A stranger's push name does not make them a contact.
    await alice.client.post(
        f"/api/sandbox/sessions/{alice.session_id}/inbound",
        json={"from": "22245123456", "from_name": "Inconnu", "type": "text", "text": "Salut"},
    )
    assert names(await alice.call("GET", CONTACTS)) == [(bob.phone, "Fatou N.")]


async def test_the_business_name_comes_last(server: Server, people: People) -> None:
    """Best name: saved, else push, else business name (as engines report them)."""
    alice = people.alice
    record = await _record(server, alice.session_id)
    await services(server).contacts.handle(
        record,
        ContactsChanged(
            (
                Contact(Jid.user_jid("22245000001"), "22245000001", business_name="Boutique"),
                Contact(
                    Jid.user_jid("22245000002"),
                    "22245000002",
                    push_name="Awa",
                    business_name="Salon",
                ),
                Contact(Jid.user_jid("22245000003"), "22245000003"),
            ),
            complete=True,
        ),
    )
    assert names(await alice.call("GET", CONTACTS)) == [
        ("22245000002", "Awa"),
        ("22245000001", "Boutique"),
        ("22245000003", None),
    ]


async def test_refresh_reads_the_phone_again(server: Server, people: People) -> None:
    alice, bob = people.alice, people.bob
    await address_book(alice, "POST", {"phone": bob.phone, "name": "Fatou"})
    record = await _record(server, alice.session_id)
    await services(server).contacts.handle(record, ContactsChanged((), complete=True))
    assert (await alice.call("GET", CONTACTS))["contacts"] == []
    refreshed = await alice.call("GET", CONTACTS, params={"refresh": "true"})
    assert names(refreshed) == [(bob.phone, "Fatou")]


async def test_each_session_and_each_user_sees_only_its_own(server: Server, people: People) -> None:
    alice, bob = people.alice, people.bob
    second = await connect_sandbox(server, alice.account, "22245123456", "Pro")
    await address_book(alice, "PUT", {"phone": bob.phone, "name": "Fatou"})
    await alice.call(
        "PUT",
        f"/api/sandbox/sessions/{second}/contacts",
        json={"contacts": [{"phone": people.carol.phone, "name": "Chantal"}]},
    )
    assert names(await alice.call("GET", CONTACTS)) == [(bob.phone, "Fatou")]
    chosen = await alice.call("GET", CONTACTS, params={"session_id": second})
    assert (chosen["session_id"], names(chosen)) == (second, [(people.carol.phone, "Chantal")])
    assert (await bob.call("GET", CONTACTS))["contacts"] == []
    for session_id in (alice.session_id, second):
        answer = await bob.client.get(CONTACTS, params={"session_id": session_id})
        assert answer.status_code == 404
        control = await bob.client.put(
            f"/api/sandbox/sessions/{session_id}/contacts", json={"contacts": []}
        )
        assert control.status_code == 404


async def test_address_book_numbers_are_validated(people: People) -> None:
    answer = await people.alice.client.post(
        f"/api/sandbox/sessions/{people.alice.session_id}/contacts",
        json={"contacts": [{"phone": "22241857975"}, {"phone": "123"}]},
    )
    assert answer.status_code == 400
    assert answer.json()["field"] == "contacts[1].phone"


async def _record(server: Server, session_id: str) -> Any:
    async with services(server).db.read() as db:
        return await wa_sessions.get(db, session_id)


async def test_a_sandbox_address_book_holds_5000_numbers_at_most(people: People) -> None:
    """Adding past 5,000 numbers is refused (400 naming the limit and the way out), all or
    nothing; renaming numbers already there, and replacing the whole book, still work."""
    alice = people.alice
    path = f"/api/sandbox/sessions/{alice.session_id}/contacts"
    full = [{"phone": f"2224{n:07d}"} for n in range(1000, 6000)]
    assert (await alice.client.post(path, json={"contacts": full})).status_code == 200
    refused = await alice.client.post(
        path,
        json={"contacts": [{"phone": full[0]["phone"], "name": "A"}, {"phone": "22249999998"}]},
    )
    assert refused.status_code == 400
    assert (refused.json()["code"], refused.json()["field"]) == ("address_book_full", "contacts")
    assert "at most 5,000 numbers" in refused.json()["message"]
    assert "PUT replaces the whole address book" in refused.json()["message"]
    renamed = await alice.client.post(path, json={"contacts": [{**full[0], "name": "Awa"}]})
    assert renamed.status_code == 200
    assert len(renamed.json()["contacts"]) == 5000
    replaced = await alice.client.put(path, json={"contacts": full[:10]})
    assert len(replaced.json()["contacts"]) == 10
    assert (
        await alice.client.post(path, json={"contacts": [{"phone": "22249999998"}]})
    ).status_code == 200
