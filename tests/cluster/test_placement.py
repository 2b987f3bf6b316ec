"""Several nodes on one PostgreSQL database and Redis: each session runs on exactly one
node, any node answers any call for any session, and sessions change nodes (a node that
leaves, joins, drains, or lost its hold) without running twice."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from sendmako.model.simulation import ListSent
from sendmako.model.statuses import DeliveryStatus, SessionStatus
from sendmako.storage import nodes
from sendmako.storage.tables import WaSession, WebhookDelivery
from tests.cluster.nodes import cluster, place
from tests.harness import Account, Server, connect_sandbox, hold_sends

pytestmark = [pytest.mark.redis, pytest.mark.postgres]

CONNECTED = [SessionStatus.CONNECTED]


def sandbox_network(server: Server) -> Any:
    assert server.app is not None
    return server.app.state.services.engines["sandbox"].network


def owners(server: Server, session_ids: list[str]) -> list[str | None]:
    return [server.sessions.owner_of(session_id) for session_id in session_ids]


async def linked(server: Server, account: Account, count: int) -> list[str]:
    """`count` connected sandbox sessions of `account`, created through `server`."""
    return [
        await connect_sandbox(server, account, f"2224185{7970 + index}", f"S{index}")
        for index in range(count)
    ]


async def test_new_sessions_go_to_the_least_loaded_node(tmp_path: Path) -> None:
    async with cluster(tmp_path) as start:
        a, b = await start("node-a"), await start("node-b")
        alice = await a.account("alice@example.com")
        session_ids = await linked(a, alice, 4)
        assert sorted(owners(a, session_ids)) == ["node-a", "node-a", "node-b", "node-b"]
        # Each runs on its owner only.
        for session_id in session_ids:
            runners = [s for s in (a, b) if s.sessions.runs_here(session_id)]
            assert [s.settings.cluster.node_name for s in runners] == [
                a.sessions.owner_of(session_id)
            ]


async def test_any_node_answers_for_any_session(tmp_path: Path) -> None:
    """Reads, sends and commands through either node reach the session wherever it runs,
    and answer as its own node would."""
    async with cluster(tmp_path) as start:
        a, b = await start("node-a"), await start("node-b")
        alice = await a.account("alice@example.com")
        via_b = b.client(alice.key)
        session_ids = await linked(a, alice, 2)
        on_b = next(s for s in session_ids if b.sessions.runs_here(s))
        on_a = next(s for s in session_ids if a.sessions.runs_here(s))
        listed = (await via_b.get("/api/whatsapp/sessions")).json()
        assert {(s["session_id"], s["status"]) for s in listed} == {
            (on_a, "connected"),
            (on_b, "connected"),
        }
        for client, session_id in [(alice.client, on_b), (via_b, on_a)]:
            sent = await client.post(
                "/api/send-message",
                json={
                    "to": "221781234567",
                    "type": "text",
                    "text": f"via {session_id}",
                    "session_id": session_id,
                },
            )
            assert sent.status_code == 200, sent.text
            assert sent.json()["session_id"] == session_id
            runner = b if session_id == on_b else a
            log = await runner.sessions.perform(alice.user, session_id, ListSent())
            assert [(r.message_id, r.text) for r in log] == [
                (sent.json()["message_id"], f"via {session_id}")
            ]
        # A command's errors come back as its node raised them.
        refused = await alice.client.post(
            "/api/send-message",
            json={"to": "221781234567", "type": "image", "imageUrl": "ftp://x", "session_id": on_b},
        )
        assert (refused.status_code, refused.json()["field"]) == (400, "imageUrl")
        # Another user's session is missing on every node.
        mallory = await b.account("mallory@example.com")
        for client in (mallory.client, a.client(mallory.key)):
            stolen = await client.get(f"/api/whatsapp/sessions/{on_b}")
            assert stolen.status_code == 404


async def test_a_change_on_one_node_is_seen_at_once_on_the_others(tmp_path: Path) -> None:
    async with cluster(tmp_path) as start:
        a, b = await start("node-a"), await start("node-b")
        alice = await a.account("alice@example.com")
        (session_id,) = [s for s in await linked(a, alice, 2) if b.sessions.runs_here(s)]
        renamed = await alice.client.patch(
            f"/api/whatsapp/sessions/{session_id}", json={"session_name": "Boutique"}
        )
        assert renamed.status_code == 200
        # B runs it: the rename reached B's copy (a long-poll on B ends on it).
        seen = await b.sessions.wait_until(
            session_id, lambda view: view.session_name == "Boutique", timeout=5
        )
        assert seen.session_name == "Boutique"
        logged_out = await alice.client.delete(f"/api/whatsapp/sessions/{session_id}")
        assert logged_out.status_code == 200
        assert b.sessions.engine_session(session_id) is None
        gone = await b.client(alice.key).get(f"/api/whatsapp/sessions/{session_id}")
        assert gone.status_code == 404


async def test_a_node_that_stops_hands_its_sessions_over(tmp_path: Path) -> None:
    async with cluster(tmp_path) as start:
        a, b = await start("node-a"), await start("node-b")
        alice = await a.account("alice@example.com")
        session_ids = await linked(a, alice, 4)
        moved = [s for s in session_ids if b.sessions.runs_here(s)]
        await b.stop()
        await place(a)
        assert owners(a, session_ids) == ["node-a"] * 4
        for session_id in moved:
            view = await a.sessions.wait_for(session_id, CONNECTED, timeout=5)
            assert view.phone_number is not None  # linked still: no new scan
            sent = await alice.client.post(
                "/api/send-message",
                json={"to": "221781234567", "type": "text", "text": "hi", "session_id": session_id},
            )
            assert sent.status_code == 200, sent.text


async def test_a_joining_node_takes_its_share(tmp_path: Path) -> None:
    async with cluster(tmp_path) as start:
        a = await start("node-a")
        alice = await a.account("alice@example.com")
        session_ids = await linked(a, alice, 4)
        assert owners(a, session_ids) == ["node-a"] * 4
        b = await start("node-b")
        await place(a, b)  # a hands its surplus over, then b claims it
        assert sorted(owners(b, session_ids)) == ["node-a", "node-a", "node-b", "node-b"]
        for session_id in session_ids:
            runner = a if a.sessions.runs_here(session_id) else b
            assert not (a.sessions.runs_here(session_id) and b.sessions.runs_here(session_id))
            await runner.sessions.wait_for(session_id, CONNECTED, timeout=5)


async def test_a_draining_node_gives_every_session_away(tmp_path: Path) -> None:
    async with cluster(tmp_path) as start:
        a, b = await start("node-a"), await start("node-b")
        alice = await a.account("alice@example.com")
        session_ids = await linked(a, alice, 4)
        drained = await alice.client.post("/api/admin/nodes/node-b/drain")
        assert drained.status_code == 403  # admins only
        admin = a.client(a.admin_key)
        drained = await admin.post("/api/admin/nodes/node-b/drain")
        assert drained.status_code == 200, drained.text
        await place(b, a)
        assert owners(a, session_ids) == ["node-a"] * 4
        listed = (await admin.get("/api/admin/nodes")).json()["nodes"]
        assert [(n["node_id"], n["status"], len(n["sessions"])) for n in listed] == [
            ("node-a", "running", 4),
            ("node-b", "draining", 0),
        ]
        # A new session does not go to a draining node.
        created = await alice.client.post("/api/whatsapp/sessions", json={})
        assert a.sessions.owner_of(created.json()["session_id"]) == "node-a"


async def test_a_node_that_lost_its_hold_stops_acting_for_the_session(tmp_path: Path) -> None:
    """Another node took the session while this one was stalled past its lease: the stale
    node's writes are refused, and it stops running the session."""
    async with cluster(tmp_path) as start:
        a, b = await start("node-a"), await start("node-b")
        alice = await a.account("alice@example.com")
        session_id = next(s for s in await linked(a, alice, 2) if b.sessions.runs_here(s))
        assert a.app is not None
        async with a.app.state.services.db.write() as tx:  # what a takeover writes
            await tx.execute(
                update(WaSession)
                .where(WaSession.session_id == session_id)
                .values(owner="node-a", lease_token=WaSession.lease_token + 1)
            )
        restarted = await b.client(alice.key).post(f"/api/whatsapp/sessions/{session_id}/restart")
        # B's status write carries its old token: refused, and B lets the session go.
        assert restarted.status_code == 200
        await place(b)
        assert not b.sessions.runs_here(session_id)
        # From there the nodes share the sessions out again: it runs on one node only.
        await place(a, b)
        runners = [s for s in (a, b) if s.sessions.runs_here(session_id)]
        assert len(runners) == 1
        await runners[0].sessions.wait_for(session_id, CONNECTED, timeout=5)


async def test_a_dead_nodes_sessions_and_deliveries_are_taken_over(tmp_path: Path) -> None:
    """Its sessions run on the survivor after one round, and the webhook deliveries it had
    claimed are free again at once, not when their claim's lease ends."""
    async with cluster(tmp_path) as start:
        a, _b = await start("node-a"), await start("node-b")
        alice = await a.account("alice@example.com")
        created = await alice.client.post(
            "/api/webhooks",
            json={"url": "http://127.0.0.1:9/hook", "events": ["session.connected"]},
        )
        assert created.status_code == 201, created.text
        session_ids = await linked(a, alice, 4)
        assert a.app is not None
        db = a.app.state.services.db
        far = datetime.now(UTC) + timedelta(hours=1)
        async with db.write() as tx:  # b's lease ran out (it died without a word)
            record = await nodes.by_name(tx, "node-b")
            assert record is not None
            await nodes.renew(tx, record.id, record.token, record.heartbeat_at, record.started_at)
            held_by_b = await tx.execute(
                update(WebhookDelivery)
                .where(WebhookDelivery.status == DeliveryStatus.PENDING)
                .values(claimed_by="node-b", claimed_until=far)
            )
            assert held_by_b.rowcount > 0  # type: ignore[attr-defined]
        await place(a)
        assert owners(a, session_ids) == ["node-a"] * 4
        async with db.read() as tx:
            claims = await tx.scalars(
                select(WebhookDelivery.claimed_by).where(
                    WebhookDelivery.status == DeliveryStatus.PENDING
                )
            )
            assert "node-b" not in set(claims)


async def test_a_drain_loses_no_send(tmp_path: Path) -> None:
    """Sends for a session of a draining node, one on the wire and others waiting in its
    queue: the one on the wire goes out, the waiting ones answer 503 session_moving with
    nothing sent, and sent again once the session runs elsewhere they go out once."""
    async with cluster(tmp_path) as start:
        a, b = await start("node-a"), await start("node-b")
        alice = await a.account("alice@example.com")
        session_id = next(s for s in await linked(a, alice, 2) if b.sessions.runs_here(s))
        wire = hold_sends(b)

        async def send(text: str) -> httpx.Response:
            return await alice.client.post(  # through node A: carried to B
                "/api/send-message",
                json={"to": "221781234567", "type": "text", "text": text, "session_id": session_id},
            )

        first = asyncio.create_task(send("first"))
        await wire.holding.wait()
        waiting = [asyncio.create_task(send(f"waiting {n}")) for n in range(3)]
        await b.sessions.wait_queue(session_id, lambda waiting: waiting == 3, timeout=10)
        admin = a.client(a.admin_key)
        assert (await admin.post("/api/admin/nodes/node-b/drain")).status_code == 200
        handing_over = asyncio.create_task(place(b))
        refused = [await task for task in waiting]
        assert [(r.status_code, r.json()["code"]) for r in refused] == [(503, "session_moving")] * 3
        assert refused[0].headers["Retry-After"] == "5"
        wire.release()
        assert (await first).status_code == 200
        await handing_over
        await place(a)
        await a.sessions.wait_for(session_id, CONNECTED, timeout=5)
        for n in range(3):
            assert (await send(f"waiting {n}")).status_code == 200
        # Each node's own sandbox saw what the session sent while it ran there.
        texts = [r.text for node in (a, b) for r in sandbox_network(node).sent_by(session_id)]
        assert sorted(texts) == ["first", "waiting 0", "waiting 1", "waiting 2"]
