"""The original documentation's contacts and groups examples (and its group message and
mentions examples) work unchanged against a real server on sandbox sessions. Only the base
URL, the key, the placeholder group JID and the placeholder invite code are replaced."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.contract import original_groups as doc
from tests.contract.live import LiveServer, serve

pytestmark = pytest.mark.slow

OWNER = "22245123456"  # the admin's own number: the documented participants are others
ALASSANE, FATOU = "22241857975", "221781234567"  # the documentation's two numbers
JOINER = "237691234567"  # another user's number, joining by invite


@dataclass
class Receiver:
    """A webhook receiver on a loopback port, collecting what the server posts."""

    port: int = 0
    bodies: list[dict[str, Any]] = field(default_factory=list)
    changed: threading.Condition = field(default_factory=threading.Condition)

    def wait_for(self, predicate: Callable[[list[dict[str, Any]]], bool]) -> None:
        with self.changed:
            assert self.changed.wait_for(lambda: predicate(self.bodies), timeout=15)

    def received(self, session_id: str, group: str) -> list[dict[str, Any]]:
        return [
            b["data"]
            for b in self.bodies
            if b["event"] == "message.received"
            and b["session_id"] == session_id
            and b["data"].get("group_id") == group
        ]


@dataclass
class World:
    live: LiveServer
    receiver: Receiver
    sessions: dict[str, str]  # phone -> session_id (the admin's)
    joiner_key: str

    def api(self, method: str, path: str, key: str | None = None, **kwargs: Any) -> Any:
        answer = requests.request(
            method,
            f"{self.live.url}{path}",
            headers={"Authorization": f"Bearer {key or self.live.admin_key}"},
            timeout=15,
            **kwargs,
        )
        assert answer.status_code < 300, answer.text
        return answer.json()


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    collected = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            self.send_response(200)
            self.end_headers()
            with collected.changed:
                collected.bodies.append(body)
                collected.changed.notify_all()

        def log_message(self, *_args: object) -> None:
            pass

    http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    collected.port = http.server_address[1]
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    yield collected
    http.shutdown()
    http.server_close()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, receiver: Receiver) -> Iterator[World]:
    data_dir: Path = tmp_path_factory.mktemp("live-groups")
    env = {"SENDMAKO_ALLOW_PRIVATE_HOSTS": "127.0.0.1"}
    with serve(data_dir, **env) as live:
        joiner_key = _create_user(data_dir, "joiner@example.com")
        world = World(live, receiver, {}, joiner_key)
        # The oldest session is the one the examples act with (they name no session).
        for phone, name in [
            (OWNER, "Équipe"),
            (ALASSANE, "Alassane Diallo"),
            (FATOU, "Fatou Ndiaye"),
        ]:
            world.sessions[phone] = _connect(world, phone, name)
        _connect(world, JOINER, "Chantal", key=joiner_key)
        world.api(
            "POST",
            "/api/webhooks",
            json={"url": f"http://127.0.0.1:{receiver.port}/hook", "events": ["message.received"]},
        )
        yield world


def _create_user(data_dir: Path, email: str) -> str:
    """`sendmako users create` on the server's database, as an operator would."""
    done = subprocess.run(
        [sys.executable, "-m", "sendmako", "users", "create", email, "--plan", "unlimited"],
        env={**os.environ, "SENDMAKO_DATA_DIR": str(data_dir)},
        cwd=data_dir,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    match = re.search(r"API key \(shown only once\): (wsa_\S+)", done.stdout)
    assert match, done.stdout
    return match.group(1)


def _connect(world: World, phone: str, name: str, key: str | None = None) -> str:
    created = world.api("POST", "/api/whatsapp/sessions/", key, json={"session_name": name})
    session_id: str = created["session_id"]
    waited = world.api(
        "GET", f"/api/whatsapp/sessions/{session_id}/?wait_for=qr_ready&timeout=10", key
    )
    assert waited["status"] == "qr_ready"
    world.api(
        "POST",
        f"/api/sandbox/sessions/{session_id}/scan",
        key,
        json={"phone_number": phone, "push_name": name},
    )
    return session_id


def _runner(world: World, runner: str) -> Callable[..., Any]:
    return world.live.curl if runner == "curl" else world.live.python


@pytest.mark.parametrize("runner", ["curl", "python"])
def test_contacts_example(world: World, runner: str) -> None:
    """The address book holds the documentation's two numbers (their names are the push
    names of their sandbox sessions): the example answers the documented response."""
    owner = world.sessions[OWNER]
    world.api(
        "PUT",
        f"/api/sandbox/sessions/{owner}/contacts",
        json={"contacts": [{"phone": FATOU}, {"phone": ALASSANE}]},
    )
    run = _runner(world, runner)
    answer = run(doc.CONTACTS_CURL if runner == "curl" else doc.CONTACTS_PYTHON)
    documented = {
        "success": answer["success"],
        "contacts": [{k: c[k] for k in ("id", "phone", "name")} for c in answer["contacts"]],
    }
    assert documented == doc.CONTACTS_RESPONSE


@pytest.mark.parametrize("runner", ["curl", "python"])
def test_group_examples_in_order(world: World, runner: str) -> None:
    """List, create, message, mention, metadata, participants, add, remove, promote,
    settings, invite link, invite info, accept, picture, leave: each example as
    documented, each answer in the documented shape."""
    run = _runner(world, runner)
    example = {
        name: getattr(doc, f"{name}_{runner.upper()}")
        for name in (
            "LIST",
            "CREATE",
            "METADATA",
            "PARTICIPANTS",
            "ADD",
            "REMOVE",
            "UPDATE",
            "SETTINGS",
            "INVITE_LINK",
            "INVITE_INFO",
            "ACCEPT",
            "PICTURE",
            "LEAVE",
        )
    }
    owner_jid = f"{OWNER}@s.whatsapp.net"
    alassane, fatou = world.sessions[ALASSANE], world.sessions[FATOU]

    listed = run(example["LIST"])
    assert listed["success"] is True
    before = {g["id"] for g in listed["groups"]}

    created = run(example["CREATE"])
    assert created["success"] is True
    group = created["group"]
    jid: str = group["id"]
    assert re.fullmatch(r"120363\d{12}@g\.us", jid)
    assert (group["subject"], group["owner"]) == ("Équipe Sendmako", owner_jid)
    assert [(p["id"], p["admin"]) for p in group["participants"]] == [
        (owner_jid, "superadmin"),
        (f"{ALASSANE}@s.whatsapp.net", None),
        (f"{FATOU}@s.whatsapp.net", None),
    ]

    def real(snippet: str, code: str = "") -> str:
        return snippet.replace(doc.GROUP_PLACEHOLDER, jid.removesuffix("@g.us")).replace(
            doc.INVITE_PLACEHOLDER, code
        )

    listed = run(example["LIST"])
    (mine,) = [g for g in listed["groups"] if g["id"] not in before]
    assert {k: mine[k] for k in ("id", "subject", "owner")} == {
        "id": jid,
        "subject": "Équipe Sendmako",
        "owner": owner_jid,
    }
    assert isinstance(mine["creation"], int)
    assert len(mine["participants"]) == 3

    # The group message and mention examples: every member's session receives them.
    for snippet in (doc.GROUP_MESSAGE_CURL, doc.MENTIONS_CURL):
        sent = world.live.curl(real(snippet))
        assert (sent["success"], sent["to"]) == (True, jid)
    world.receiver.wait_for(
        lambda _bodies: all(len(world.receiver.received(s, jid)) == 2 for s in (alassane, fatou))
    )
    for session_id in (alassane, fatou):
        plain, mention = world.receiver.received(session_id, jid)
        assert (plain["body"], plain["participant"], plain["from"]) == (
            "Bonjour le groupe!",
            OWNER,
            OWNER,
        )
        assert (mention["body"], mention["mentions"]) == ("@22241857975 regarde ça !", [ALASSANE])

    metadata = run(real(example["METADATA"]))
    assert metadata["success"] is True
    assert {k: metadata["group"][k] for k in ("id", "subject", "description", "owner")} == {
        "id": jid,
        "subject": "Équipe Sendmako",
        "description": None,
        "owner": owner_jid,
    }
    assert (metadata["group"]["announce"], metadata["group"]["restrict"]) == (False, False)
    assert metadata["group"]["creation"] == mine["creation"]

    participants = run(real(example["PARTICIPANTS"]))
    assert participants["success"] is True
    assert [(p["id"], p["admin"]) for p in participants["participants"]] == [
        (p["id"], p["admin"]) for p in group["participants"]
    ]

    # So that adding 22241857975 adds someone, that number leaves first (not an example).
    world.api("POST", f"/api/groups/{jid}/leave", json={"session_id": alassane})
    added = run(real(example["ADD"]))
    assert added["success"] is True
    assert [(r["participant"], r["status"]) for r in added["results"]] == [
        (f"{ALASSANE}@s.whatsapp.net", "200")
    ]

    removed = run(real(example["REMOVE"]))
    assert [(r["participant"], r["status"]) for r in removed["results"]] == [
        (f"{FATOU}@s.whatsapp.net", "200")
    ]

    # So that promoting 221781234567 promotes a member, the admin adds it back (not an example).
    world.api("POST", f"/api/groups/{jid}/participants/add", json={"participants": [FATOU]})
    promoted = run(real(example["UPDATE"]))
    assert [(r["participant"], r["status"]) for r in promoted["results"]] == [
        (f"{FATOU}@s.whatsapp.net", "200")
    ]

    changed = run(real(example["SETTINGS"]))
    assert changed["success"] is True
    after = world.api("GET", f"/api/groups/{jid}/metadata")["group"]
    assert (after["subject"], after["announce"]) == ("Nouveau nom", True)

    link = run(real(example["INVITE_LINK"]))
    code = link["invite_code"]
    assert link == {
        **link,
        "success": True,
        "invite_link": f"https://chat.whatsapp.com/{code}",
    }
    assert re.fullmatch(r"[A-Za-z0-9]{22}", code)

    # Another user looks at the invitation, then accepts it.
    info = run(real(example["INVITE_INFO"], code), world.joiner_key)
    assert info["success"] is True
    assert (info["group"]["id"], info["group"]["subject"]) == (jid, "Nouveau nom")
    accepted = run(real(example["ACCEPT"], code), world.joiner_key)
    assert {k: accepted[k] for k in ("success", "group_id")} == {"success": True, "group_id": jid}

    picture = run(real(example["PICTURE"]))
    assert {k: picture[k] for k in ("success", "picture_url")} == {
        "success": True,
        "picture_url": None,
    }

    assert run(real(example["LEAVE"])) == {"success": True}
    assert jid not in {g["id"] for g in run(example["LIST"])["groups"]}
    remaining = world.api("GET", f"/api/groups/{jid}/participants", params={"session_id": fatou})
    assert [(p["phone"], p["admin"]) for p in remaining["participants"]] == [
        (ALASSANE, None),
        (FATOU, "admin"),
        (JOINER, None),
    ]
