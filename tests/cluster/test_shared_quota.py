"""The daily quota on several nodes: one count for every node, exact however the sends are
spread, and room held by a node that died is given back once its lease runs out."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from sendmako.errors import PlanLimitReached
from sendmako.storage import plans
from sendmako.storage.tables import Node, utcnow
from tests.cluster.nodes import cluster
from tests.cluster.shared import services
from tests.harness import Account, Server, connect_sandbox

pytestmark = [pytest.mark.redis, pytest.mark.postgres]


async def on_four_a_day(server: Server) -> Account:
    async with services(server).db.write() as tx:
        await plans.upsert(tx, "four", max_sessions=5, daily_messages=4)
    return await server.account("carol@example.com", plan="four")


async def test_sends_spread_over_nodes_never_go_past_the_daily_limit(tmp_path: Path) -> None:
    """Six sends at once, three through each node, on a plan of four a day: exactly four
    go out, and both nodes count four."""
    async with cluster(tmp_path) as start:
        a, b = await start("node-a"), await start("node-b")
        carol = await on_four_a_day(a)
        await connect_sandbox(a, carol, "221770000001", "Shop")
        via_b = b.client(carol.key)
        body = {"to": "221781234567", "type": "text", "text": "hello"}
        answers = await asyncio.gather(
            *[client.post("/api/send-message", json=body) for client in [carol.client, via_b] * 3]
        )
        codes = sorted(answer.status_code for answer in answers)
        assert codes == [200, 200, 200, 200, 403, 403], [a.text for a in answers]
        refused = next(answer for answer in answers if answer.status_code == 403)
        assert refused.json()["code"] == "message_limit", refused.text
        assert await services(a).usage.sent_today(carol.user.id) == 4
        assert await services(b).usage.sent_today(carol.user.id) == 4


async def test_room_held_by_a_dead_node_is_given_back_when_its_lease_runs_out(
    tmp_path: Path,
) -> None:
    """A node reserved room for a campaign, then died before sending: the others are held
    back while its lease lasts, and get the room once it has run out."""
    async with cluster(tmp_path) as start:
        a, b = await start("node-a"), await start("node-b")
        carol = await on_four_a_day(a)
        await services(a).usage.reserve(carol.user, 4)
        with pytest.raises(PlanLimitReached):
            await services(b).usage.reserve(carol.user, 1)
        # node-a stops renewing its lease (it died): the lease runs out.
        async with services(b).db.write() as tx:
            await tx.execute(
                update(Node)
                .where(Node.name == "node-a")
                .values(expires_at=utcnow() - timedelta(seconds=1))
            )
        taken = await services(b).usage.reserve(carol.user, 4)
        assert taken.remaining == 4
