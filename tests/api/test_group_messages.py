"""Messages sent to a sandbox group reach every member's session, with mentions; group
events keep every member's cache current."""

from __future__ import annotations

import pytest

from tests.harness import Server
from tests.people import People, meet
from tests.recording import EventLog


@pytest.fixture
async def people(server: Server) -> People:
    return await meet(server)


@pytest.fixture
def events(server: Server) -> EventLog:
    log = EventLog()
    server.sessions.recorders.append(log)
    return log


async def test_a_group_message_reaches_every_member_with_mentions(
    people: People, events: EventLog
) -> None:
    """Bob and Carol receive `message.received` in the group, from Alice, mentioning Bob;
    Alice's own session and Dave (not a member) receive nothing."""
    alice, bob, carol, dave = people.alice, people.bob, people.carol, people.dave
    group = await alice.create_group("Équipe Sendmako", bob, carol)
    sent = await alice.call(
        "POST",
        "/api/send-message",
        json={
            "to": group,
            "type": "text",
            "text": f"@{bob.phone} regarde ça !",
            "mentions": [bob.phone],
        },
    )
    assert (sent["to"], sent["session_id"]) == (group, alice.session_id)
    receivers = (bob.session_id, carol.session_id)
    await events.wait_for(lambda log: all(log.named("message.received", sid) for sid in receivers))
    for session_id in receivers:
        (received,) = events.named("message.received", session_id)
        assert received.data == {
            "message_id": sent["message_id"],
            "from": alice.phone,
            "sender_name": alice.name,
            "type": "extendedTextMessage",
            "body": f"@{bob.phone} regarde ça !",
            "timestamp": received.data["timestamp"],
            "chat": group,
            "group_id": group,
            "participant": alice.phone,
            "mentions": [bob.phone],
        }
    assert events.named("message.received", alice.session_id) == []
    assert events.named("message.received", dave.session_id) == []


async def test_the_sender_gets_each_members_receipts_for_a_group_message(
    people: People, events: EventLog
) -> None:
    """Every member's phone sends its own delivered and read: each is a message.status
    naming the member (`participant`)."""
    bob, carol = people.bob.phone, people.carol.phone
    group = await people.alice.create_group("Famille", people.bob, people.carol)
    sent = await people.alice.call(
        "POST",
        "/api/send-message",
        json={"to": group, "type": "text", "text": "Bonjour le groupe!"},
    )
    await events.wait_for(
        lambda log: len(log.named("message.status", people.alice.session_id)) == 4
    )
    statuses = [e.data for e in events.named("message.status", people.alice.session_id)]
    assert {(s["message_id"], s["to"]) for s in statuses} == {(sent["message_id"], group)}
    assert sorted((s["participant"], s["status"]) for s in statuses) == sorted(
        [(bob, "delivered"), (bob, "read"), (carol, "delivered"), (carol, "read")]
    )


async def test_a_member_who_left_receives_nothing_more(people: People, events: EventLog) -> None:
    alice, bob, carol = people.alice, people.bob, people.carol
    group = await alice.create_group("Famille", bob, carol)
    await carol.call("POST", f"/api/groups/{group}/leave")
    await alice.call(
        "POST", "/api/send-message", json={"to": group, "type": "text", "text": "Encore là ?"}
    )
    await events.wait_for(lambda log: bool(log.named("message.received", bob.session_id)))
    assert events.named("message.received", carol.session_id) == []


async def test_changes_reach_every_members_cache(people: People) -> None:
    """After Alice changes the group, Bob's next reads show it (his cache was marked stale
    by the group event before Alice's call returned)."""
    alice, bob = people.alice, people.bob
    group = await alice.create_group("Famille", bob)
    assert (await bob.metadata(group))["subject"] == "Famille"  # cached now
    await alice.call("PUT", f"/api/groups/{group}/settings", json={"subject": "Cousins"})
    await alice.participants(group, "add", people.carol)
    metadata = await bob.metadata(group)
    assert metadata["subject"] == "Cousins"
    assert [p["phone"] for p in metadata["participants"]] == [
        alice.phone,
        bob.phone,
        people.carol.phone,
    ]
    await alice.participants(group, "remove", bob)
    assert await bob.group_ids() == []
    assert (await bob.client.get(f"/api/groups/{group}/metadata")).status_code == 404
