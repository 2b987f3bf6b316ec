"""WhatsApp's group rules on the sandbox: who may do what, and each per-participant
failure with WhatsApp's status and reason."""

from __future__ import annotations

import pytest

from tests.harness import Server
from tests.people import INVITE_ONLY, NOT_ON_WHATSAPP, People, Person, meet


@pytest.fixture
async def people(server: Server) -> People:
    return await meet(server)


@pytest.fixture
async def group(people: People) -> str:
    """Alice's group with Bob and Carol as plain members (Bob joined first)."""
    return await people.alice.create_group("Famille", people.bob, people.carol)


def outcome(answer: dict[str, object]) -> list[tuple[str, str, bool, str | None]]:
    results = answer["results"]
    assert isinstance(results, list)
    return [(r["phone"], r["status"], r["success"], r["reason"]) for r in results]


async def test_add_reports_each_participant(people: People, group: str) -> None:
    """One result per number, in order, one failure never stopping the rest: 200 added,
    404 not on WhatsApp, 403 privacy settings require an invite, 409 already a member."""
    alice, dave = people.alice, people.dave
    answer = await alice.participants(group, "add", dave, NOT_ON_WHATSAPP, INVITE_ONLY, people.bob)
    assert answer["success"] is True
    assert outcome(answer) == [
        (dave.phone, "200", True, None),
        (NOT_ON_WHATSAPP, "404", False, "not_on_whatsapp"),
        (INVITE_ONLY, "403", False, "invite_required"),
        (people.bob.phone, "409", False, "already_member"),
    ]
    assert answer["results"][0]["participant"] == dave.jid
    assert answer["results"][2]["message"].startswith("Their privacy settings")
    assert dave.phone in await alice.roles(group)
    assert group in await dave.group_ids()


async def test_create_leaves_out_who_cannot_be_added(people: People) -> None:
    """Numbers not on WhatsApp or only joining by invite are left out of a new group."""
    group = await people.alice.create_group("Famille", people.bob, NOT_ON_WHATSAPP, INVITE_ONLY)
    assert await people.alice.roles(group) == {
        people.alice.phone: "superadmin",
        people.bob.phone: None,
    }


async def test_remove_and_its_failures(people: People, group: str) -> None:
    """Removed members lose the group; a non-member is 404; the superadmin cannot be
    removed (403)."""
    alice, bob = people.alice, people.bob
    await alice.participants(group, "promote", bob)
    answer = await bob.participants(group, "remove", people.carol, people.dave, alice)
    assert outcome(answer) == [
        (people.carol.phone, "200", True, None),
        (people.dave.phone, "404", False, "not_member"),
        (alice.phone, "403", False, "not_authorized"),
    ]
    assert await people.carol.group_ids() == []
    assert set(await alice.roles(group)) == {alice.phone, bob.phone}


async def test_promote_and_demote(people: People, group: str) -> None:
    """Promoted members act as admins; demoting the superadmin is refused (403), and so is
    promoting or demoting someone who is not a member (404)."""
    alice, bob, carol = people.alice, people.bob, people.carol
    promoted = await alice.participants(group, "promote", bob, people.dave)
    assert outcome(promoted) == [
        (bob.phone, "200", True, None),
        (people.dave.phone, "404", False, "not_member"),
    ]
    assert (await alice.roles(group))[bob.phone] == "admin"
    assert outcome(await bob.participants(group, "add", people.dave)) == [
        (people.dave.phone, "200", True, None)
    ]
    refused = await bob.participants(group, "demote", alice)
    assert outcome(refused) == [(alice.phone, "403", False, "not_authorized")]
    demoted = await alice.participants(group, "demote", bob)
    assert outcome(demoted) == [(bob.phone, "200", True, None)]
    assert (await carol.roles(group))[bob.phone] is None
    again = await bob.participants(group, "add", "221700000001", expect=422)
    assert again["code"] == "not_admin"


ADMIN_ONLY = [
    ("POST", "participants/add", {"participants": ["22670123456"]}),
    ("POST", "participants/remove", {"participants": ["237691234567"]}),
    ("PUT", "participants/update", {"participants": ["237691234567"], "action": "promote"}),
    ("PUT", "settings", {"announce": True}),
    ("PUT", "settings", {"restrict": True}),
    ("GET", "invite-link", None),
    ("POST", "invite-link/reset", None),
]


async def test_admin_only_operations_refuse_members(people: People, group: str) -> None:
    """A member who is not an admin gets 422 with WhatsApp's reason, and nothing changes:
    adding, removing, promoting, announce, restrict, reading or resetting the invite link."""
    before = await people.alice.metadata(group)
    for method, path, body in ADMIN_ONLY:
        answer = await people.bob.client.request(method, f"/api/groups/{group}/{path}", json=body)
        assert answer.status_code == 422, (path, answer.text)
        assert answer.json()["code"] == "not_admin"
        assert "only admins" in answer.json()["message"]
    assert await people.alice.metadata(group, refresh="true") == before


async def test_restrict_decides_who_edits_the_info(people: People, group: str) -> None:
    """Without restrict any member edits subject and description; with it, only admins."""
    alice, bob = people.alice, people.bob
    settings = f"/api/groups/{group}/settings"
    changed = await bob.call("PUT", settings, json={"subject": "Cousins", "description": "Tous"})
    assert (changed["group"]["subject"], changed["group"]["description"]) == ("Cousins", "Tous")
    await alice.call("PUT", settings, json={"restrict": True})
    refused = await bob.call("PUT", settings, 422, json={"description": "Rien"})
    assert refused["code"] == "not_admin"
    await alice.call("PUT", settings, json={"subject": "Famille", "description": ""})
    metadata = await bob.metadata(group)
    assert (metadata["subject"], metadata["description"], metadata["restrict"]) == (
        "Famille",
        None,
        True,
    )


async def test_announce_lets_only_admins_send(people: People, group: str) -> None:
    alice, bob = people.alice, people.bob
    message = {"to": group, "type": "text", "text": "Bonjour le groupe!"}
    await bob.call("POST", "/api/send-message", json=message)
    await alice.call("PUT", f"/api/groups/{group}/settings", json={"announce": True})
    refused = await bob.call("POST", "/api/send-message", 422, json=message)
    assert refused["code"] == "not_admin"
    assert "Only admins can send" in refused["message"]
    await alice.call("POST", "/api/send-message", json=message)
    await alice.participants(group, "promote", bob)
    await bob.call("POST", "/api/send-message", json=message)


async def test_a_non_member_cannot_send(people: People, group: str) -> None:
    message = {"to": group, "type": "text", "text": "Coucou"}
    refused = await people.dave.call("POST", "/api/send-message", 422, json=message)
    assert refused["code"] == "not_member"
    unknown = {**message, "to": "120363000000000000@g.us"}
    assert (await people.dave.call("POST", "/api/send-message", 422, json=unknown))[
        "code"
    ] == "group_not_found"


async def test_invite_codes_join_and_reset_revokes(people: People, group: str) -> None:
    """The invite code lets anyone join (privacy settings do not apply to invites); a
    reset revokes it at once and the new one works."""
    alice, dave = people.alice, people.dave
    link = await alice.call("GET", f"/api/groups/{group}/invite-link")
    code = link["invite_code"]
    assert link["invite_link"] == f"https://chat.whatsapp.com/{code}"
    assert len(code) == 22
    assert (await alice.call("GET", f"/api/groups/{group}/invite-link"))["invite_code"] == code
    info = await dave.call("GET", f"/api/groups/invite/{code}")
    assert (info["group"]["id"], info["group"]["subject"]) == (group, "Famille")
    assert group not in await dave.group_ids()  # looking is not joining

    joined = await dave.call("POST", "/api/groups/invite/accept", json={"inviteCode": code})
    assert joined["group_id"] == group
    assert (await alice.roles(group))[dave.phone] is None
    assert group in await dave.group_ids()

    reset = await alice.call("POST", f"/api/groups/{group}/invite-link/reset")
    assert reset["invite_code"] != code
    for answer in (
        await dave.client.get(f"/api/groups/invite/{code}"),
        await people.carol.client.post("/api/groups/invite/accept", json={"inviteCode": code}),
    ):
        assert answer.status_code == 404
        assert answer.json()["code"] == "invite_invalid"
    fresh = reset["invite_link"]  # the whole link is accepted too
    await people.bob.call("POST", f"/api/groups/{group}/leave")
    assert (await people.bob.call("POST", "/api/groups/invite/accept", json={"inviteCode": fresh}))[
        "group_id"
    ] == group


async def test_invite_only_numbers_join_by_invite(
    server: Server, people: People, group: str
) -> None:
    from tests.people import person

    shy: Person = await person(server, "shy@example.com", INVITE_ONLY, "Shy")
    added = await people.alice.participants(group, "add", shy)
    assert outcome(added)[0][1] == "403"
    code = (await people.alice.call("GET", f"/api/groups/{group}/invite-link"))["invite_code"]
    await shy.call("POST", "/api/groups/invite/accept", json={"inviteCode": code})
    assert shy.phone in await people.alice.roles(group)


async def test_last_admin_leaving_promotes_the_longest_standing_member(
    people: People, group: str
) -> None:
    """Alice (the only admin) leaves: Bob, who joined before Carol, becomes admin."""
    alice, bob, carol = people.alice, people.bob, people.carol
    await alice.participants(group, "add", people.dave)
    assert await alice.call("POST", f"/api/groups/{group}/leave") == {"success": True}
    assert await alice.group_ids() == []
    assert await carol.roles(group) == {
        bob.phone: "admin",
        carol.phone: None,
        people.dave.phone: None,
    }
    assert (await bob.call("GET", f"/api/groups/{group}/invite-link"))["success"] is True


async def test_leaving_with_another_admin_left_promotes_nobody(people: People, group: str) -> None:
    """Nobody is promoted while an admin remains; leaving twice is 404 the second time."""
    alice, bob, carol = people.alice, people.bob, people.carol
    await alice.participants(group, "promote", carol)
    await alice.call("POST", f"/api/groups/{group}/leave")
    assert await bob.roles(group) == {bob.phone: None, carol.phone: "admin"}
    again = await alice.client.post(f"/api/groups/{group}/leave", json={})
    assert again.status_code == 404


async def test_the_last_admin_cannot_step_down_but_can_leave(people: People) -> None:
    alice, bob = people.alice, people.bob
    group = await alice.create_group("Duo", bob)
    await alice.participants(group, "promote", bob)
    await alice.call("POST", f"/api/groups/{group}/leave")
    refused = await bob.participants(group, "demote", bob)
    assert outcome(refused) == [(bob.phone, "403", False, "not_authorized")]
    await bob.call("POST", f"/api/groups/{group}/leave")
    assert await bob.group_ids() == []
    gone = await alice.client.get(f"/api/groups/{group}/metadata")
    assert gone.status_code == 404  # the last member left: the group is gone
