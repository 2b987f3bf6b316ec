"""Sandbox groups on both database backends: their state survives restarts, and
concurrent changes to one group never interleave."""

from __future__ import annotations

import asyncio

import pytest

from sendmako.model.statuses import SessionStatus
from tests.harness import Server
from tests.people import People, meet

pytestmark = pytest.mark.usefixtures("backend")


@pytest.fixture
async def people(server: Server) -> People:
    return await meet(server)


async def test_sandbox_groups_survive_a_restart(server: Server, people: People) -> None:
    """Members, roles, settings and the invite code are in the database."""
    alice, bob, carol = people.alice, people.bob, people.carol
    group = await alice.create_group("Famille", bob, carol)
    await alice.participants(group, "promote", bob)
    await alice.call("PUT", f"/api/groups/{group}/settings", json={"announce": True})
    code = (await alice.call("GET", f"/api/groups/{group}/invite-link"))["invite_code"]

    await server.restart()
    for person in (alice, bob, carol):
        await server.sessions.wait_for(person.session_id, [SessionStatus.CONNECTED], 5)

    metadata = await carol.metadata(group, refresh="true")
    assert metadata["announce"] is True
    assert await carol.roles(group) == {
        alice.phone: "superadmin",
        bob.phone: "admin",
        carol.phone: None,
    }
    assert (await alice.call("GET", f"/api/groups/{group}/invite-link"))["invite_code"] == code
    refused = await carol.call(
        "POST", "/api/send-message", 422, json={"to": group, "type": "text", "text": "x"}
    )
    assert refused["code"] == "not_admin"
    await bob.call("POST", "/api/send-message", json={"to": group, "type": "text", "text": "x"})


async def test_concurrent_adds_of_one_number_add_it_once(people: People) -> None:
    """Two admins add Dave at the same moment: one adds him, the other hears 409."""
    alice, bob, dave = people.alice, people.bob, people.dave
    group = await alice.create_group("Famille", bob)
    await alice.participants(group, "promote", bob)
    answers = await asyncio.gather(
        alice.participants(group, "add", dave), bob.participants(group, "add", dave)
    )
    statuses = sorted(answer["results"][0]["status"] for answer in answers)
    assert statuses == ["200", "409"]
    assert list(await dave.roles(group)).count(dave.phone) == 1
