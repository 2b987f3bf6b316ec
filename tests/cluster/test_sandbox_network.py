"""The sandbox's simulated network spans the nodes of a cluster: a sandbox session on one
node talks to one on another as if both ran on the same node (messages, receipts,
media), what a session sent is logged where every node reads it, and a session that
changes nodes mid-conversation misses nothing and gets nothing twice."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import hashlib
from pathlib import Path

import pytest

from sendmako.engines.sandbox import SandboxEngine
from sendmako.engines.sandbox.cluster import RedisExchange
from sendmako.model.events import MessageReceived
from sendmako.model.statuses import SessionStatus
from tests import media_samples
from tests.cluster.nodes import cluster, place
from tests.harness import Account, Server, connect_sandbox
from tests.recording import EventLog

pytestmark = [pytest.mark.redis, pytest.mark.postgres]

CONNECTED = [SessionStatus.CONNECTED]
PHONES = ["22241857970", "22241857971"]


def exchange(server: Server) -> RedisExchange:
    assert server.app is not None
    engine = server.app.state.services.engines["sandbox"]
    assert isinstance(engine, SandboxEngine)
    found = engine.network.exchange
    assert isinstance(found, RedisExchange)
    return found


def listen(*servers: Server) -> EventLog:
    """One log of the events every node stores (what their webhooks deliver)."""
    log = EventLog()
    for server in servers:
        server.sessions.recorders.append(log)
    return log


async def one_on_each(a: Server, b: Server, account: Account) -> tuple[str, str]:
    """Two connected sandbox sessions of `account`: (the one on `a`, the one on `b`), linked
    to PHONES[0] and PHONES[1]."""
    first = await connect_sandbox(a, account, PHONES[0], "Awa")
    second = await connect_sandbox(a, account, PHONES[1], "Binta")
    assert {a.sessions.owner_of(first), a.sessions.owner_of(second)} == {"node-a", "node-b"}
    if a.sessions.runs_here(first):
        return first, second
    # Placement put the first on b: link the numbers the other way round.
    return second, first


def phone_of(server: Server, account: Account, session_id: str) -> str:
    phone = server.sessions.get(account.user, session_id).phone_number
    assert phone is not None
    return phone


def received(log: EventLog, session_id: str) -> list[str]:
    return [str(event.data["message_id"]) for event in log.named("message.received", session_id)]


def statuses(log: EventLog, session_id: str, message_id: str) -> list[str]:
    return [
        str(event.data["status"])
        for event in log.named("message.status", session_id)
        if event.data["message_id"] == message_id
    ]


async def send(
    account: Account, session_id: str, to: str, text: str, client_of: Server | None = None
) -> str:
    client = account.client if client_of is None else client_of.client(account.key)
    sent = await client.post(
        "/api/send-message",
        json={"to": to, "type": "text", "text": text, "session_id": session_id},
    )
    assert sent.status_code == 200, sent.text
    message_id: str = sent.json()["message_id"]
    return message_id


async def test_a_message_and_its_reply_cross_nodes_with_their_receipts(tmp_path: Path) -> None:
    async with cluster(tmp_path) as start:
        a, b = await start("node-a"), await start("node-b")
        log = listen(a, b)
        alice = await a.account("alice@example.com")
        on_a, on_b = await one_on_each(a, b, alice)
        phone_a, phone_b = phone_of(a, alice, on_a), phone_of(a, alice, on_b)
        # Each number is known on every node, with the node its session runs on.
        for server in (a, b):
            assert await exchange(server).where(phone_b) == {on_b: "node-b"}

        hello = await send(alice, on_a, phone_b, "Salaam from a")
        await log.wait_for(lambda _: received(log, on_b) == [hello])
        (arrived,) = log.named("message.received", on_b)
        assert (arrived.data["body"], arrived.data["from"]) == ("Salaam from a", phone_a)
        await log.wait_for(lambda _: statuses(log, on_a, hello) == ["delivered", "read"])

        # The reply goes back from b, through a node that runs neither session's sender.
        reply = await send(alice, on_b, phone_a, "Salaam from b", client_of=a)
        await log.wait_for(lambda _: received(log, on_a) == [reply])
        await log.wait_for(lambda _: statuses(log, on_b, reply) == ["delivered", "read"])
        assert received(log, on_b) == [hello]  # nothing twice


async def test_reactions_and_typing_reach_the_other_node(tmp_path: Path) -> None:
    """Not only messages: what a session does about a chat reaches the other side."""
    async with cluster(tmp_path) as start:
        a, b = await start("node-a"), await start("node-b")
        log = listen(a, b)
        alice = await a.account("alice@example.com")
        on_a, on_b = await one_on_each(a, b, alice)
        hello = await send(alice, on_a, phone_of(a, alice, on_b), "ça va ?")
        await log.wait_for(lambda _: received(log, on_b) == [hello])
        reacted = await alice.client.post(
            "/api/send-message",
            json={
                "session_id": on_b,
                "to": phone_of(a, alice, on_a),
                "type": "reaction",
                "message_id": hello,
                "emoji": "👍",
            },
        )
        assert reacted.status_code == 200, reacted.text
        await log.wait_for(lambda _: bool(log.named("message.reaction", on_a)))
        (reaction,) = log.named("message.reaction", on_a)
        assert reaction.data["emoji"] == "👍"


async def test_a_media_url_works_on_any_node(tmp_path: Path) -> None:
    """The node that sent the image stored the file; the other serves the same bytes, and
    decrypt-media on it gives back the original."""
    async with cluster(tmp_path) as start:
        a, b = await start("node-a"), await start("node-b")
        log = listen(a, b)
        alice = await a.account("alice@example.com")
        on_a, on_b = await one_on_each(a, b, alice)
        image = media_samples.png(40, 30)
        sent = await alice.client.post(
            "/api/send-message",
            json={
                "to": phone_of(a, alice, on_b),
                "type": "image",
                "imageBase64": base64.b64encode(image).decode(),
                "session_id": on_a,
            },
        )
        assert sent.status_code == 200, sent.text
        await log.wait_for(lambda _: bool(log.named("message.received", on_b)))
        (event,) = log.named("message.received", on_b)
        media = event.data["media"]
        assert isinstance(media, dict)
        token = str(media["directPath"]).rsplit("/", 1)[1]
        assert not list((b.settings.data_dir / "sandbox-media").glob(f"{token}*"))
        for server in (b, a):
            served = await server.client().get(str(media["directPath"]))
            assert served.status_code == 200
            digest = hashlib.sha256(served.content).digest()
            assert base64.b64encode(digest).decode() == media["fileEncSha256"]
        decrypted = await b.client(alice.key).post("/api/decrypt-media", json=media)
        assert decrypted.status_code == 200, decrypted.text
        assert decrypted.content == image
        missing = await b.client().get(str(media["directPath"])[:-1] + "_")
        assert missing.status_code == 404


async def test_the_sent_log_outlives_the_node_that_sent(tmp_path: Path) -> None:
    """A session sends on b; b stops and a takes the session over: the sandbox's control
    API shows, through either node, every send once."""
    async with cluster(tmp_path) as start:
        a, b = await start("node-a"), await start("node-b")
        alice = await a.account("alice@example.com")
        _on_a, on_b = await one_on_each(a, b, alice)
        sent = [await send(alice, on_b, "221781234567", f"n°{n}") for n in range(3)]
        via_b = await b.client(alice.key).get(f"/api/sandbox/sessions/{on_b}/sent")
        assert [m["message_id"] for m in via_b.json()["messages"]] == sent
        await b.stop()
        await place(a)
        await a.sessions.wait_for(on_b, CONNECTED, timeout=5)
        via_a = await alice.client.get(f"/api/sandbox/sessions/{on_b}/sent")
        assert via_a.status_code == 200, via_a.text
        assert [(m["message_id"], m["text"]) for m in via_a.json()["messages"]] == [
            (message_id, f"n°{n}") for n, message_id in enumerate(sent)
        ]


async def test_a_recipient_that_moves_mid_conversation_misses_nothing(tmp_path: Path) -> None:
    """b is drained while a keeps sending to the session it ran: what was sent while the
    session was between nodes arrives once it runs on a, each message once, and the
    number's entry follows it."""
    async with cluster(tmp_path) as start:
        a, b = await start("node-a"), await start("node-b")
        log = listen(a, b)
        alice = await a.account("alice@example.com")
        on_a, on_b = await one_on_each(a, b, alice)
        to = phone_of(a, alice, on_b)
        first = await send(alice, on_a, to, "1")
        await log.wait_for(lambda _: received(log, on_b) == [first])
        drained = await a.client(a.admin_key).post("/api/admin/nodes/node-b/drain")
        assert drained.status_code == 200, drained.text
        await place(b)  # b stops the session and lets it go; nobody runs it yet
        assert not any(server.sessions.runs_here(on_b) for server in (a, b))
        meanwhile = [await send(alice, on_a, to, text) for text in ("2", "3")]
        assert received(log, on_b) == [first]
        await place(a)
        assert a.sessions.runs_here(on_b)
        await log.wait_for(lambda _: received(log, on_b) == [first, *meanwhile])
        await log.wait_for(
            lambda _: all(statuses(log, on_a, m) == ["delivered", "read"] for m in meanwhile)
        )
        assert await exchange(a).where(to) == {on_b: "node-a"}
        # And on from there.
        last = await send(alice, on_a, to, "4")
        await log.wait_for(lambda _: received(log, on_b) == [first, *meanwhile, last])


async def test_a_message_stored_before_its_node_died_is_not_delivered_again(
    tmp_path: Path,
) -> None:
    """A node stored a message, then died before clearing it from the session's mailbox:
    the node that runs the session next does not store it twice (by message id)."""
    async with cluster(tmp_path) as start:
        a, b = await start("node-a"), await start("node-b")
        log = listen(a, b)
        alice = await a.account("alice@example.com")
        on_a, on_b = await one_on_each(a, b, alice)
        first = await send(alice, on_a, phone_of(a, alice, on_b), "une fois")
        await log.wait_for(lambda _: received(log, on_b) == [first])
        (stored,) = log.named("message.received", on_b)
        # What b's mailbox would hold had b died between storing and clearing: the same
        # message again, followed by one it never saw.
        again = MessageReceived(
            message_id=first,
            chat=f"{phone_of(a, alice, on_a)}@s.whatsapp.net",
            sender_phone=phone_of(a, alice, on_a),
            sender_jid=f"{phone_of(a, alice, on_a)}@s.whatsapp.net",
            sender_name="Awa",
            wa_type="conversation",
            body="une fois",
            timestamp=int(stored.data["timestamp"]),  # type: ignore[call-overload]
        )
        unseen = dataclasses.replace(again, message_id="3EB0NEVERSEEN", body="2")
        await b.stop()
        await exchange(a).post([on_b], again)
        await exchange(a).post([on_b], unseen)
        await place(a)
        await log.wait_for(lambda _: received(log, on_b) == [first, "3EB0NEVERSEEN"])
        assert [e.data["body"] for e in log.named("message.received", on_b)] == ["une fois", "2"]


async def test_a_group_spans_nodes(tmp_path: Path) -> None:
    """A group made on one node is known at once to its member on the other (the creation
    answers once every member stored it), and its messages reach that member."""
    async with cluster(tmp_path) as start:
        a, b = await start("node-a"), await start("node-b")
        log = listen(a, b)
        alice = await a.account("alice@example.com")
        on_a, on_b = await one_on_each(a, b, alice)
        # The creation waits for b's word that it stored the group, never for this.
        exchange(a).stored_wait = 3600
        async with asyncio.timeout(60):
            created = await b.client(alice.key).post(
                "/api/groups",
                json={
                    "name": "Tontine",
                    "participants": [phone_of(a, alice, on_b)],
                    "session_id": on_a,
                },
            )
        assert created.status_code == 201, created.text
        group = created.json()["group"]["id"]
        seen = await alice.client.get(f"/api/groups/{group}/metadata", params={"session_id": on_b})
        assert seen.status_code == 200, seen.text
        assert seen.json()["group"]["subject"] == "Tontine"
        sent = await send(alice, on_a, group, "Cotisation demain")
        await log.wait_for(lambda _: received(log, on_b) == [sent])
        (arrived,) = log.named("message.received", on_b)
        assert (arrived.data["group_id"], arrived.data["participant"]) == (
            group,
            phone_of(a, alice, on_a),
        )
