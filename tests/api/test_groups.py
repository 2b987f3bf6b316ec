"""/api/groups: the endpoints, their answers, group JIDs in paths, session choice,
validation, and isolation between users."""

from __future__ import annotations

import re
import time
from urllib.parse import quote

import pytest

from sendmako.engines.base import EventSink, SessionSpec
from sendmako.engines.sandbox import SandboxEngine, SandboxSession
from sendmako.model.statuses import SessionStatus
from tests.harness import Server, connect_sandbox
from tests.people import People, meet


@pytest.fixture
async def people(server: Server) -> People:
    return await meet(server)


async def test_create_makes_the_creator_superadmin(people: People) -> None:
    """201 with the group: a WhatsApp group JID, the creator as owner and superadmin."""
    alice, bob, carol = people.alice, people.bob, people.carol
    created = await alice.call(
        "POST",
        "/api/groups",
        201,
        json={"name": "Équipe Sendmako", "participants": [bob.phone, "+237 6 91 23 45 67"]},
    )
    group = created["group"]
    assert created["success"] is True
    assert created["session_id"] == alice.session_id
    assert re.fullmatch(r"120363\d{12}@g\.us", group["id"])
    assert group["subject"] == "Équipe Sendmako"
    assert group["owner"] == alice.jid
    assert group["description"] is None
    assert (group["announce"], group["restrict"], group["size"]) == (False, False, 3)
    assert group["participants"] == [
        {"id": alice.jid, "phone": alice.phone, "admin": "superadmin"},
        {"id": bob.jid, "phone": bob.phone, "admin": None},
        {"id": carol.jid, "phone": carol.phone, "admin": None},
    ]


async def test_every_member_lists_the_group(people: People) -> None:
    """Each member's session lists the group, with the original's fields."""
    group = await people.alice.create_group("Famille", people.bob)
    for member in (people.alice, people.bob):
        listed = await member.call("GET", "/api/groups")
        assert listed["success"] is True
        assert [g["id"] for g in listed["groups"]] == [group]
        assert set(listed["groups"][0]) >= {"id", "subject", "creation", "owner", "participants"}


async def test_metadata_and_participants(people: People) -> None:
    """Metadata carries subject, description, creation, owner, participants, announce and
    restrict; participants carry admin null, admin or superadmin."""
    alice, bob = people.alice, people.bob
    group = await alice.create_group("Famille", bob)
    await alice.participants(group, "promote", bob)
    metadata = await bob.metadata(group)
    assert set(metadata) >= {
        "id",
        "subject",
        "description",
        "creation",
        "owner",
        "participants",
        "announce",
        "restrict",
    }
    assert metadata["creation"] == (await alice.metadata(group))["creation"]
    assert abs(metadata["creation"] - time.time()) < 60
    participants = await bob.call("GET", f"/api/groups/{group}/participants")
    assert participants["participants"] == [
        {"id": alice.jid, "phone": alice.phone, "admin": "superadmin"},
        {"id": bob.jid, "phone": bob.phone, "admin": "admin"},
    ]


async def test_group_jid_raw_or_percent_encoded(people: People) -> None:
    """`120363...@g.us` and `120363...%40g.us` name the same group, on every endpoint."""
    alice = people.alice
    group = await alice.create_group("Famille", people.bob)
    for spelled in (group, quote(group), group.replace("@", "%40")):
        path = f"/api/groups/{spelled}"
        assert (await alice.call("GET", f"{path}/metadata"))["group"]["id"] == group
        assert (await alice.call("GET", f"{path}/participants"))["group_id"] == group
        picture = await alice.call("GET", f"{path}/picture")
        assert (picture["success"], picture["picture_url"]) == (True, None)  # it has none
        assert (await alice.call("GET", f"{path}/invite-link"))["group_id"] == group


async def test_unknown_group_is_404_and_a_malformed_jid_400(people: People) -> None:
    for path in ("metadata", "participants", "picture", "invite-link"):
        answer = await people.alice.client.get(f"/api/groups/120363000000000000@g.us/{path}")
        assert answer.status_code == 404, path
        assert answer.json()["code"] == "group_not_found"
    answer = await people.alice.client.post("/api/groups/120363000000000000@g.us/leave")
    assert answer.status_code == 404
    malformed = await people.alice.client.get("/api/groups/22241857975@s.whatsapp.net/metadata")
    assert malformed.status_code == 400
    assert malformed.json()["field"] == "groupJid"


async def test_another_users_groups_are_invisible(people: People) -> None:
    """Dave (another user, not a member) gets 404 for Alice's group, exactly like a group
    that does not exist, and an empty list."""
    group = await people.alice.create_group("Famille", people.bob)
    dave = people.dave
    assert await dave.group_ids() == []
    for method, path, body in [
        ("GET", "metadata", None),
        ("GET", "participants", None),
        ("GET", "picture", None),
        ("GET", "invite-link", None),
        ("POST", "participants/add", {"participants": [dave.phone]}),
        ("PUT", "settings", {"subject": "Piraté"}),
        ("POST", "leave", None),
    ]:
        answer = await dave.client.request(method, f"/api/groups/{group}/{path}", json=body)
        assert answer.status_code == 404, (path, answer.text)
        assert answer.json()["message"] == (
            f"Group {group} not found (or this session is not a participant)."
        )
    # Naming Alice's session does not help either.
    answer = await dave.client.get(
        f"/api/groups/{group}/metadata", params={"session_id": people.alice.session_id}
    )
    assert answer.status_code == 404
    assert (await people.alice.metadata(group))["subject"] == "Famille"


async def test_requests_are_validated_naming_the_field(people: People) -> None:
    alice = people.alice
    group = await alice.create_group("Famille", people.bob)
    cases = [
        ("POST", "/api/groups", {"participants": []}, "name"),
        ("POST", "/api/groups", {"name": "  "}, "name"),
        ("POST", "/api/groups", {"name": "x" * 101}, "name"),
        ("POST", "/api/groups", {"name": "x", "participants": ["22241857975", "12"]}, None),
        ("POST", f"/api/groups/{group}/participants/add", {"participants": []}, "participants"),
        ("POST", f"/api/groups/{group}/participants/add", {}, "participants"),
        (
            "POST",
            f"/api/groups/{group}/participants/add",
            {"participants": [group]},
            "participants[0]",
        ),
        (
            "PUT",
            f"/api/groups/{group}/participants/update",
            {"participants": ["22241857975"], "action": "kick"},
            "action",
        ),
        ("PUT", f"/api/groups/{group}/settings", {}, "body"),
        ("PUT", f"/api/groups/{group}/settings", {"announce": "sometimes"}, "announce"),
        ("PUT", f"/api/groups/{group}/settings", {"description": "x" * 2049}, "description"),
        ("POST", "/api/groups/invite/accept", {}, "inviteCode"),
    ]
    for method, path, body, field in cases:
        answer = await alice.client.request(method, path, json=body)
        assert answer.status_code == 400, (path, body, answer.text)
        expected = field or "participants[1]"
        assert answer.json()["field"] == expected, (path, body, answer.text)
        assert answer.json()["message"].startswith(expected if field != "body" else "")


async def test_session_choice(server: Server, people: People) -> None:
    """Without session_id the oldest connected session acts; `session_id` (query for GET,
    body for POST/PUT) picks another one of the user's sessions."""
    alice = people.alice
    second = await connect_sandbox(server, alice.account, "22245123456", "Pro")
    group = await alice.create_group("Famille", people.bob)
    assert (await alice.metadata(group))["owner"] == alice.jid
    elsewhere = await alice.client.get(
        f"/api/groups/{group}/metadata", params={"session_id": second}
    )
    assert elsewhere.status_code == 404  # that number is not in the group
    created = await alice.call(
        "POST", "/api/groups", 201, json={"name": "Pro", "participants": [], "session_id": second}
    )
    assert created["session_id"] == second
    assert created["group"]["owner"] == "22245123456@s.whatsapp.net"
    listed = await alice.call("GET", "/api/groups", params={"session_id": second})
    assert [g["subject"] for g in listed["groups"]] == ["Pro"]
    left = await alice.call(
        "POST", f"/api/groups/{created['group']['id']}/leave", json={"session_id": second}
    )
    assert left == {"success": True}
    assert (await alice.call("GET", "/api/groups", params={"session_id": second}))["groups"] == []


async def test_without_a_session_404_and_not_connected_503(server: Server) -> None:
    account = await server.account("erin@example.com")
    for method, path in [("GET", "/api/groups"), ("GET", "/api/whatsapp/contacts/")]:
        answer = await account.client.request(method, path)
        assert answer.status_code == 404
        assert answer.json()["message"] == "No WhatsApp session found. Connect a number first."
    created = await account.client.post("/api/whatsapp/sessions/", json={"session_name": "x"})
    session_id = created.json()["session_id"]
    await server.sessions.wait_for(session_id, [SessionStatus.QR_READY], 5)
    for method, path in [("GET", "/api/groups"), ("GET", "/api/whatsapp/contacts/")]:
        answer = await account.client.request(method, path)
        assert answer.status_code == 503
        assert f"{session_id} is qr_ready" in answer.json()["message"]


class SendOnlySession(SandboxSession):
    """A sandbox session that performs neither contacts nor groups, like an engine without
    them (its table of performers, which `@performs` builds, is cut down after the fact)."""


SendOnlySession.performers = {
    kind: method
    for kind, method in SandboxSession.performers.items()
    if kind.__module__ != "sendmako.model.directory"
}


class SendOnlyEngine(SandboxEngine):
    name = "sendonly"
    session_class = SendOnlySession

    def open_session(self, spec: SessionSpec, sink: EventSink) -> SandboxSession:
        return SendOnlySession(spec, sink, self)


async def test_engines_without_groups_or_contacts_are_refused(server: Server) -> None:
    """501 capability_not_supported before the engine is asked."""
    assert server.app is not None
    services = server.app.state.services
    sandbox = services.engines["sandbox"]
    server.sessions.engines["sendonly"] = SendOnlyEngine(
        services.db, services.settings.sandbox, sandbox.media
    )
    account = await server.account("erin@example.com")
    created = await account.client.post(
        "/api/whatsapp/sessions/", json={"session_name": "x", "engine": "sendonly"}
    )
    session_id = created.json()["session_id"]
    await server.sessions.wait_for(session_id, [SessionStatus.QR_READY], 5)
    await account.client.post(
        f"/api/sandbox/sessions/{session_id}/scan", json={"phone_number": "22245123456"}
    )
    for method, path, body in [
        ("GET", "/api/groups", None),
        ("POST", "/api/groups", {"name": "x"}),
        ("GET", "/api/groups/invite/AbCdEfGhIjKlMn", None),
        ("GET", "/api/whatsapp/contacts/", None),
    ]:
        answer = await account.client.request(method, path, json=body)
        assert answer.status_code == 501, path
        assert answer.json()["code"] == "capability_not_supported"
